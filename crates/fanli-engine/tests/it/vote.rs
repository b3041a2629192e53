//! Members' vote on an amendment (seed 000: 用户参与规则制定, 返现比例调整): proposals, votes, the
//! quorum and the majority, and a passed amendment recorded under the notice rule.

use crate::run;

/// Seed 001's appreciation at `funding`, with `vote` as its `[vote]`.
fn plan(funding: &str, vote: &str) -> String {
    format!(
        "name = \"seed 001\"\nsettle_after_days = 0\n[vote]\n{vote}\n[[mechanism]]\nid = \"appr\"\n\
         kind = \"appreciation\"\nfunding_rate = \"{funding}\"\nmint_ratio = \"0.70\"\ninitial_price = \"1.00\"\n"
    )
}

const VOTE: &str = "days = 7\nquorum = \"0.50\"\nmajority = \"0.50\"";

/// m0, m1 and m2 buy 1000 each (seed 001: 900.00 in the pool for 481.95 points); m9 joins and
/// buys nothing.
fn members() -> String {
    let mut lines = String::new();
    for m in ["m0", "m1", "m2"] {
        lines += &format!(
            "{{\"type\":\"join\",\"member\":\"{m}\"}}\n{{\"type\":\"order\",\"order\":\"{m}\",\"member\":\"{m}\",\"amount\":\"1000.00\"}}\n"
        );
    }
    lines + "{\"type\":\"join\",\"member\":\"m9\"}\n"
}

fn propose(id: &str, plan: &str) -> String {
    serde_json::json!({"type": "propose", "proposal": id, "plan": plan}).to_string() + "\n"
}

fn vote(member: &str, yes: bool) -> String {
    let decision = if yes { "yes" } else { "no" };
    format!("{{\"type\":\"vote\",\"member\":\"{member}\",\"proposal\":\"p1\",\"decision\":\"{decision}\"}}\n")
}

const TALLY: &str = "@2026-01-08T09:30:00+08:00\n{\"type\":\"tally\",\"proposal\":\"p1\"}\n";

#[test]
fn a_passed_raise_takes_effect_at_the_tally_and_mints_at_the_new_rate() {
    // Proposed at 09:07 on 1 January: open until 09:07 on the 8th, tallied at 09:30.
    let events = format!(
        "{}{}{}{}{}{}{}",
        members(),
        propose("p1", &plan("0.40", VOTE)),
        vote("m0", true),
        vote("m1", true),
        vote("m2", false),
        TALLY,
        "{\"type\":\"join\",\"member\":\"m3\"}\n{\"type\":\"order\",\"order\":\"m3\",\"member\":\"m3\",\"amount\":\"1000.00\"}\n",
    );
    let r = run(&plan("0.30", VOTE), &events);
    assert_eq!(r.rejected, []);
    let p = &r.state["proposals"][0];
    assert_eq!((&p["yes"], &p["no"], &p["voters"]), (&2.into(), &1.into(), &3.into()));
    // Three members with spend could vote (m9 bought nothing): 3 of 3 cast, 2 of 3 yes.
    let outcome = &p["outcome"];
    assert_eq!(
        (&outcome["eligible"], &outcome["quorum"], &outcome["passed"]),
        (&3.into(), &true.into(), &true.into())
    );
    assert_eq!(outcome["effective_at"], "2026-01-08T01:30:00Z");
    // m3's order funds 400 at the price 900 / 481.95: 0.70 × 400 × 481.95 / 900 = 149.94.
    assert_eq!(r.member("m3")["points"]["appr"], "149.9400");
}

#[test]
fn a_vote_short_of_its_quorum_or_majority_changes_nothing() {
    // One of three cast: below half.
    let short = format!("{}{}{}{}", members(), propose("p1", &plan("0.40", VOTE)), vote("m0", true), TALLY);
    let r = run(&plan("0.30", VOTE), &short);
    assert_eq!(
        (&r.state["proposals"][0]["outcome"]["quorum"], &r.state["proposals"][0]["outcome"]["passed"]),
        (&false.into(), &false.into())
    );
    // A tie is not more than half.
    let tie = format!(
        "{}{}{}{}{}",
        members(),
        propose("p1", &plan("0.40", VOTE)),
        vote("m0", true),
        vote("m1", false),
        TALLY
    );
    let r = run(&plan("0.30", VOTE), &tie);
    assert_eq!(r.state["proposals"][0]["outcome"]["passed"], false);
    assert_eq!(r.state["proposals"][0]["outcome"].get("effective_at"), None);
    assert_eq!(r.engine.plan().mechanisms[0].funding_rate.to_string(), "0.3");
}

#[test]
fn weighted_by_spend_a_larger_buyer_outweighs_two_smaller_ones() {
    let weighted = "days = 7\nweight = \"spend\"\nmajority = \"0.50\"";
    let events = format!(
        "{}{{\"type\":\"order\",\"order\":\"big\",\"member\":\"m0\",\"amount\":\"5000.00\"}}\n{}{}{}{}{}",
        members(),
        propose("p1", &plan("0.40", weighted)),
        vote("m0", false),
        vote("m1", true),
        vote("m2", true),
        TALLY,
    );
    let r = run(&plan("0.30", weighted), &events);
    let p = &r.state["proposals"][0];
    // m0 has 6000.00 of settled spend against 2000.00: no wins.
    assert_eq!((&p["yes"], &p["no"]), (&200_000.into(), &600_000.into()));
    assert_eq!(p["outcome"]["eligible"], 800_000);
    assert_eq!(p["outcome"]["passed"], false);
}

#[test]
fn a_passed_cut_waits_for_the_plans_notice_after_the_tally() {
    let events = format!(
        "{}{}{}{}{}",
        members(),
        propose("p1", &plan("0.20", VOTE)),
        vote("m0", true),
        vote("m1", true),
        TALLY
    );
    let r = run(&plan("0.30", VOTE), &events);
    assert_eq!(r.state["proposals"][0]["outcome"]["effective_at"], "2026-01-15T01:30:00Z");
}

#[test]
fn votes_out_of_turn_are_refused_with_their_code() {
    let events = format!(
        "{}{}{}{}{}{}{}{}{}{}",
        members(),
        "{\"type\":\"tally\",\"proposal\":\"p1\"}\n", // unknown proposal
        propose("p1", &plan("0.40", VOTE)),
        propose("p1", &plan("0.40", VOTE)), // exists
        vote("m9", true),                   // bought nothing
        vote("m0", true),
        vote("m0", false),                            // voted already
        "{\"type\":\"tally\",\"proposal\":\"p1\"}\n", // still open
        "@2026-01-08T09:30:00+08:00\n",
        vote("m1", true), // closed
    );
    let r = run(&plan("0.30", VOTE), &events);
    assert_eq!(
        r.codes,
        ["unknown_proposal", "proposal_exists", "not_eligible", "already_voted", "vote_open", "vote_closed"]
    );
    // Another kind for `appr` is refused when proposed, as an amendment would be.
    let other = plan("0.30", VOTE).replace("kind = \"appreciation\"\nfunding_rate = \"0.30\"\nmint_ratio = \"0.70\"\ninitial_price = \"1.00\"", "kind = \"queue\"\nfunding_rate = \"0.30\"\nmin_order = \"100\"\ncredit_ratio = \"1.0\"\nrelease = \"when_funded\"");
    let r = run(&plan("0.30", VOTE), &format!("{}{}", members(), propose("p2", &other)));
    assert_eq!(r.codes, ["kind_changed"]);
    // Without [vote], nothing is put to the vote.
    let r = run(
        &plan("0.30", VOTE).replace(&format!("[vote]\n{VOTE}\n"), ""),
        &format!("{}{}", members(), propose("p1", &plan("0.40", VOTE))),
    );
    assert_eq!(r.codes, ["no_vote_rules"]);
}
