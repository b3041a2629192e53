//! Plan amendments (`amend_plan`): what carries over, when they take effect, and what is
//! refused. The figures are worked by hand from seed 001's appreciation (SPEC.md).

use crate::{run, state, timed};
use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream};
use serde_json::Value;

/// Seed 001's appreciation, at `funding` (0.30 in the seed).
fn appreciation(funding: &str) -> String {
    format!(
        "name = \"seed 001\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\n\
         funding_rate = \"{funding}\"\nmint_ratio = \"0.70\"\ninitial_price = \"1.00\"\nsell_fee = \"0.20\"\n"
    )
}

/// A 工会排队 queue paid when funded, no lock, and whatever `more` adds.
fn queue(more: &str) -> String {
    format!(
        "name = \"queue\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
         funding_rate = \"0.50\"\nmin_order = \"100.00\"\ncredit_ratio = \"1.0\"\nlock_days = 0\n\
         release = \"when_funded\"\n{more}"
    )
}

/// An `amend_plan` line (its `at` added by `timed`), effective at `effective_at`.
fn amend(plan: &str, effective_at: &str) -> String {
    serde_json::json!({"type": "amend_plan", "effective_at": effective_at, "plan": plan}).to_string()
}

/// A member joining and buying for `amount`.
fn buys(member: &str, amount: &str) -> String {
    format!(
        "{{\"type\":\"join\",\"member\":\"{member}\"}}\n\
         {{\"type\":\"order\",\"order\":\"{member}\",\"member\":\"{member}\",\"amount\":\"{amount}\"}}\n"
    )
}

/// Seed 001: three orders of 1000 put 900.00 in the pool for 210 + 147 + 124.95 points.
fn seed_001() -> String {
    format!("{}{}{}", buys("m0", "1000.00"), buys("m1", "1000.00"), buys("m2", "1000.00"))
}

#[test]
fn a_raised_funding_rate_takes_effect_at_once_and_mints_at_the_new_rate() {
    let before = run(&appreciation("0.30"), &seed_001());
    assert_eq!(before.mechanism("appr")["pool"], "900.00");
    assert_eq!(before.mechanism("appr")["points"], "481.9500");
    // The 6th line is at 09:05; effective then.
    let events = format!(
        "{}{}\n{}",
        seed_001(),
        amend(&appreciation("0.40"), "2026-01-01T09:06:00+08:00"),
        buys("m3", "1000.00")
    );
    let r = run(&appreciation("0.30"), &events);
    assert_eq!(r.rejected, []);
    // m3's order funds 400.00 at the price 900 / 481.95: 0.70 × 400 × 481.95 / 900 = 149.94 points
    // (at the old rate, 0.70 × 300 × 481.95 / 900 = 112.455).
    assert_eq!(r.member("m3")["points"]["appr"], "149.9400");
    assert_eq!(r.mechanism("appr")["pool"], "1300.00");
    assert_eq!(r.mechanism("appr")["points"], "631.8900");
    // What the members before held is theirs as it was.
    assert_eq!(r.member("m0")["points"]["appr"], "210.0000");
    assert_eq!(r.engine.plan().mechanisms[0].funding_rate.to_string(), "0.4");
}

#[test]
fn a_lowered_rate_waits_for_the_plans_notice_and_orders_before_it_keep_the_old_terms() {
    let lower = appreciation("0.20");
    // At once: refused, and nothing changes.
    let events =
        format!("{}{}\n{}", seed_001(), amend(&lower, "2026-01-01T09:06:00+08:00"), buys("m3", "1000.00"));
    let r = run(&appreciation("0.30"), &events);
    assert_eq!(r.codes, ["notice_too_short"]);
    assert!(r.rejected[0].1.contains("7 days' notice"), "{:?}", r.rejected);
    assert_eq!(r.member("m3")["points"]["appr"], "112.4550");
    // Seven days on: accepted; an order the day before still mints at 0.30, one at the time
    // at 0.20.
    let events = format!(
        "{}{}\n@2026-01-08T09:04:00+08:00\n{}@2026-01-08T09:06:00+08:00\n{}",
        seed_001(),
        amend(&lower, "2026-01-08T09:06:00+08:00"),
        buys("m3", "1000.00"),
        buys("m4", "1000.00"),
    );
    let r = run(&appreciation("0.30"), &events);
    assert_eq!(r.rejected, []);
    assert_eq!(r.member("m3")["points"]["appr"], "112.4550");
    // m4: 0.70 × 200 at the price 1200 / 594.405: 140 × 594.405 / 1200 = 69.347250 → 69.3472.
    assert_eq!(r.member("m4")["points"]["appr"], "69.3472");
    assert_eq!(r.mechanism("appr")["pool"], "1400.00");
    // A plan that says `notice_days = 0` may lower at once.
    let events =
        format!("{}{}\n{}", seed_001(), amend(&lower, "2026-01-01T09:06:00+08:00"), buys("m3", "1000.00"));
    let r = run(&format!("notice_days = 0\n{}", appreciation("0.30")), &events);
    assert_eq!(r.rejected, []);
    // 0.70 × 200 × 481.95 / 900 = 74.97.
    assert_eq!(r.member("m3")["points"]["appr"], "74.9700");
}

#[test]
fn a_retired_queue_takes_nothing_new_and_pays_its_waiting_entries_from_its_pool() {
    let appr = "[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\nfunding_rate = \"0.30\"\n\
                mint_ratio = \"0.70\"\ninitial_price = \"1.00\"\n";
    let without_queue = format!("name = \"queue\"\nsettle_after_days = 0\n{appr}");
    // A, B and C queue 100 each; the pool of 150 pays A at the day's close; B and C wait.
    let events = format!(
        "{}{}{}{{\"type\":\"close_day\"}}\n{}\n@2026-01-08T10:00:00+08:00\n{}\
         {{\"type\":\"inject\",\"mechanism\":\"q\",\"amount\":\"150.00\"}}\n{{\"type\":\"close_day\"}}\n",
        buys("A", "100.00"),
        buys("B", "100.00"),
        buys("C", "100.00"),
        amend(&without_queue, "2026-01-08T10:00:00+08:00"),
        buys("D", "100.00"),
    );
    let r = run(&queue(""), &events);
    assert_eq!(r.rejected, []);
    let q = r.mechanism("q");
    assert_eq!(
        (&q["retired"], &q["queued"], &q["pool"], &q["paid"]),
        (&Value::Bool(true), &"0.00".into(), &"0.00".into(), &"300.00".into())
    );
    for member in ["A", "B", "C"] {
        assert_eq!(r.get(member, "wallet"), "100.00", "{member} is paid in full");
    }
    // D bought after the queue retired: no entry, no funding; the new mechanism took its order.
    assert_eq!(r.standing("D", "q"), &Value::Null);
    // 0.30 × 100 into its pool, minted at 0.70 at the initial price of 1.00.
    assert_eq!(r.member("D")["points"]["appr"], "21.0000");
    assert_eq!(r.mechanism("appr")["pool"], "30.00");
    // Retiring lowers what members can earn: at once, it is refused.
    let events = format!("{}{}\n", buys("A", "100.00"), amend(&without_queue, "2026-01-01T09:02:00+08:00"));
    assert_eq!(run(&queue(""), &events).codes, ["notice_too_short"]);
}

#[test]
fn an_added_mechanism_starts_empty_and_takes_the_orders_after_it() {
    let both = format!(
        "{}[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\nfunding_rate = \"0.30\"\n\
         mint_ratio = \"0.70\"\ninitial_price = \"1.00\"\n",
        queue("")
    );
    let events = format!(
        "{}{}\n{}",
        buys("A", "100.00"),
        amend(&both, "2026-01-01T09:02:00+08:00"),
        buys("B", "100.00")
    );
    let r = run(&queue(""), &events);
    assert_eq!(r.rejected, []);
    assert_eq!(r.member("A")["points"]["appr"], "0.0000", "A bought before it: nothing in it");
    assert_eq!(r.member("B")["points"]["appr"], "21.0000");
    assert_eq!(r.mechanism("q")["queued"], "200.00");
    assert_eq!(r.mechanism("q")["pool"], "100.00");
    let ids: Vec<&str> = r.engine.plan().mechanisms.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["q", "appr"]);
}

#[test]
fn amendments_that_break_a_rule_are_refused_with_their_code_and_change_nothing() {
    let base = queue("");
    let cases = [
        // Another kind for `q`.
        (
            appreciation("0.30").replace("id = \"appr\"", "id = \"q\""),
            "2026-01-01T09:02:00+08:00",
            "kind_changed",
        ),
        // A plan-wide setting the running state depends on.
        (
            base.replace("settle_after_days = 0", "settle_after_days = 7"),
            "2026-01-09T00:00:00+08:00",
            "plan_setting_changed",
        ),
        // Before the event.
        (base.clone(), "2026-01-01T08:00:00+08:00", "effective_in_past"),
        // Past a red line: 0.60 + 0.60 of every order.
        (
            format!(
                "{}[[mechanism]]\nid = \"q2\"\nkind = \"queue\"\nfunding_rate = \"0.60\"\nmin_order = \"100.00\"\ncredit_ratio = \"1.0\"\nrelease = \"when_funded\"\n",
                base.replace("0.50", "0.60")
            ),
            "2026-01-01T09:02:00+08:00",
            "noncompliant",
        ),
        // A waiting entry's lock is part of its place.
        (base.replace("lock_days = 0", "lock_days = 3"), "2026-01-09T00:00:00+08:00", "amendment_fixed"),
    ];
    let clean = run(&base, &buys("A", "100.00"));
    for (plan, effective_at, code) in cases {
        let events = format!("{}{}\n", buys("A", "100.00"), amend(&plan, effective_at));
        let r = run(&base, &events);
        assert_eq!(r.codes, [code], "{plan}");
        assert_eq!(r.state["mechanisms"], clean.state["mechanisms"]);
        assert_eq!(r.state["members"], clean.state["members"]);
    }
    // Not a plan at all: the line is refused where it is read.
    let r =
        run(&base, &format!("{}{}\n", buys("A", "100.00"), amend("name = 3", "2026-01-01T09:02:00+08:00")));
    assert_eq!(r.codes, ["bad_plan"]);
    // A second amendment may not take effect before one already waiting.
    let events = format!(
        "{}\n{}\n",
        amend(&base.replace("0.50", "0.60"), "2026-01-05T00:00:00+08:00"),
        amend(&base.replace("0.50", "0.70"), "2026-01-03T00:00:00+08:00")
    );
    assert_eq!(run(&base, &events).codes, ["amendment_out_of_order"]);
}

#[test]
fn an_amendment_due_when_a_refused_event_arrives_waits_for_the_next_accepted_one() {
    let both = format!(
        "{}[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\nfunding_rate = \"0.30\"\n\
         mint_ratio = \"0.70\"\ninitial_price = \"1.00\"\n",
        queue("")
    );
    let head = format!(
        "{}{}\n@2026-01-02T09:00:00+08:00\n",
        buys("A", "100.00"),
        amend(&both, "2026-01-02T09:00:00+08:00")
    );
    let refused = "{\"type\":\"order\",\"order\":\"x\",\"member\":\"nobody\",\"amount\":\"100.00\"}\n";
    let r = run(&queue(""), &format!("{head}{refused}"));
    assert_eq!(r.codes, ["unknown_member"]);
    // Nothing of the amendment shows: the plan is the first one still.
    assert_eq!(r.state["mechanisms"], run(&queue(""), &head).state["mechanisms"]);
    assert_eq!(r.engine.plan().mechanisms.len(), 1);
    // The next accepted event brings it into force.
    let r = run(&queue(""), &format!("{head}{refused}{}", buys("B", "100.00")));
    assert_eq!(r.member("B")["points"]["appr"], "21.0000");
}

#[test]
fn a_log_with_amendments_replays_to_the_same_bytes() {
    let events = timed(&format!(
        "{}{}\n@2026-01-08T09:06:00+08:00\n{}",
        seed_001(),
        amend(&appreciation("0.20"), "2026-01-08T09:06:00+08:00"),
        buys("m3", "1000.00")
    ));
    let once = |events: &str| {
        let mut engine = Engine::new(parse_plan(&appreciation("0.30")).unwrap());
        let outcome = run_stream(&mut engine, events.as_bytes(), false).unwrap();
        state(&engine, &outcome.rejected).to_string()
    };
    assert_eq!(once(&events), once(&events));
}

#[test]
fn an_amendment_waiting_is_listed_with_its_time_until_it_takes_effect() {
    let events = format!("{}{}\n", seed_001(), amend(&appreciation("0.20"), "2026-01-08T09:06:00+08:00"));
    let r = run(&appreciation("0.30"), &events);
    let waiting: Vec<(String, String)> = r
        .engine
        .amendments_waiting()
        .map(|(at, plan)| (at.to_string(), plan.mechanisms[0].funding_rate.to_string()))
        .collect();
    assert_eq!(waiting, [("2026-01-08T01:06:00Z".to_owned(), "0.2".to_owned())]);
}

#[test]
fn minting_past_the_funding_would_lower_the_price_of_points_held_and_is_refused() {
    // mint_ratio 1.20 mints more than the cash paid in (a warning in `fanli check`, not a red
    // line): as an amendment of a running plan it would take value from those who hold points.
    let inflating = appreciation("0.30").replace("mint_ratio = \"0.70\"", "mint_ratio = \"1.20\"");
    let events = format!("{}{}\n", seed_001(), amend(&inflating, "2026-01-09T00:00:00+08:00"));
    let r = run(&appreciation("0.30"), &events);
    assert_eq!(r.codes, ["reduces_promise"]);
    assert!(r.rejected[0].1.contains("lowers the price of the points they hold"), "{:?}", r.rejected);
}
