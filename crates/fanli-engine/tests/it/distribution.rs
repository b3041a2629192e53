//! 分销: levels, 级差 ranks with 平级奖, regional agents by differential, the recruiter, and what
//! the budget returns to the platform or owes when it falls short.

use crate::run;

fn plan(keys: &str) -> String {
    format!(
        "name = \"dist\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"d\"\nkind = \"distribution\"\n{keys}\n"
    )
}

/// A ← B ← C ← D: each referred by the one before.
const CHAIN: &str = r#"{"type":"join","member":"A"}
{"type":"join","member":"B","referrer":"A"}
{"type":"join","member":"C","referrer":"B"}
{"type":"join","member":"D","referrer":"C"}"#;

#[test]
fn ranks_pay_the_differential_and_the_first_peer_of_equal_rank() {
    let plan = plan(
        "funding_rate = \"0.10\"\nranks = [\
         { name = \"S1\", min_team_sales = \"1000.00\", rate = \"0.02\" },\
         { name = \"S2\", min_team_sales = \"5000.00\", rate = \"0.05\" }]\npeer_rate = \"0.01\"",
    );
    let events = format!(
        "{CHAIN}\n{}\n{}",
        r#"{"type":"order","order":"d1","member":"D","amount":"1000.00"}"#,
        r#"{"type":"order","order":"c1","member":"C","amount":"4000.00"}"#
    );
    let r = run(&plan, &events);
    // d1: team sales of C, B, A become 1000 first (S1 each). C earns 2% = 20; B, of equal rank,
    // the peer reward 1% = 10, once; A nothing. 100 budget − 30 = 70 returned.
    // c1: B and A reach 5000 (S2). B earns 5% of 4000 = 200; A, equal, the peer 1% = 40.
    // 400 budget − 240 = 160 returned.
    assert_eq!(r.get("C", "wallet"), "20.00");
    assert_eq!(r.get("B", "wallet"), "210.00");
    assert_eq!(r.get("A", "wallet"), "40.00");
    assert_eq!(r.get("D", "wallet"), "0.00");
    assert_eq!(r.mechanism("d")["returned"], "230.00");
    assert_eq!(r.mechanism("d")["paid"], "270.00");
    assert_eq!(r.mechanism("d")["pool"], "0.00");
    // Team sales: the downline's settled spend to 3 levels, not one's own.
    assert_eq!(r.get("A", "team_sales"), "5000.00");
    assert_eq!(r.get("B", "team_sales"), "5000.00");
    assert_eq!(r.get("C", "team_sales"), "1000.00");
    assert_eq!(r.get("D", "team_sales"), "0.00");
}

#[test]
fn team_sales_stop_at_three_levels() {
    let plan = plan(
        "funding_rate = \"0.10\"\nranks = [{ name = \"S\", min_team_sales = \"1.00\", rate = \"0.01\" }]",
    );
    let events = format!(
        "{CHAIN}\n{}\n{}",
        r#"{"type":"join","member":"E","referrer":"D"}"#,
        r#"{"type":"order","order":"e1","member":"E","amount":"100.00"}"#
    );
    let r = run(&plan, &events);
    assert_eq!(r.get("D", "team_sales"), "100.00");
    assert_eq!(r.get("B", "team_sales"), "100.00");
    assert_eq!(r.get("A", "team_sales"), "0.00", "A is E's 4th upline");
    // Only D (the first ranked upline) earns the 1%; C and B are of equal rank without a peer rate.
    assert_eq!(r.get("D", "wallet"), "1.00");
    assert_eq!(r.get("C", "wallet"), "0.00");
}

#[test]
fn a_missing_agent_passes_its_share_up_and_a_short_budget_owes_oldest_first() {
    let plan = plan(
        "funding_rate = \"0.005\"\nlevels = [\"0.003\", \"0.002\", \"0.001\"]\n\
         regional = { district = \"0.001\", city = \"0.002\", province = \"0.004\" }\nrecruiter_rate = \"0.005\"",
    );
    let events = format!(
        "{CHAIN}\n{}",
        r#"{"type":"join","member":"P"}
{"type":"join","member":"X"}
{"type":"join","member":"Z"}
{"type":"store","store":"s1","region":["广东","东莞","松山湖"],"recruiter":"P"}
{"type":"agent","member":"X","level":"district","region":["广东","东莞","松山湖"]}
{"type":"agent","member":"Z","level":"province","region":["广东"]}
{"type":"order","order":"d1","member":"D","amount":"1000.00","store":"s1"}"#
    );
    let r = run(&plan, &events);
    // Owed, in order: C 3, B 2, A 1 (levels); X 1 (district); no city agent, so Z earns
    // 0.4% − 0.1% = 3; P 5. The budget is 5: C and B are paid, 10 stays owed.
    for (member, wallet) in [("C", "3.00"), ("B", "2.00"), ("A", "0.00"), ("X", "0.00"), ("Z", "0.00")] {
        assert_eq!(r.get(member, "wallet"), wallet, "{member}");
    }
    assert_eq!(r.mechanism("d")["obligations"], "10.00");
    assert_eq!(r.mechanism("d")["returned"], "0.00");
    assert_eq!(r.standing("Z", "d")["owed"], "3.00");

    let topped = run(&plan, &format!("{events}\n{}", r#"{"type":"inject","mechanism":"d","amount":"4.00"}"#));
    // 4 more pays A 1, X 1 and 2 of Z's 3, oldest first; P waits.
    for (member, wallet) in [("A", "1.00"), ("X", "1.00"), ("Z", "2.00"), ("P", "0.00")] {
        assert_eq!(topped.get(member, "wallet"), wallet, "{member}");
    }
    assert_eq!(topped.mechanism("d")["obligations"], "6.00");
    assert_eq!(topped.mechanism("d")["pool"], "0.00");
}

#[test]
fn a_store_without_region_or_agents_pays_levels_only_and_returns_the_rest() {
    let plan = plan(
        "funding_rate = \"0.02\"\nlevels = [\"0.003\", \"0.002\"]\n\
         regional = { district = \"0.001\", city = \"0.002\", province = \"0.003\" }\nrecruiter_rate = \"0.005\"",
    );
    let events = format!(
        "{CHAIN}\n{}",
        r#"{"type":"join","member":"Y"}
{"type":"agent","member":"Y","level":"city","region":["广东","东莞"]}
{"type":"store","store":"s2","region":["广东","东莞"]}
{"type":"order","order":"d1","member":"D","amount":"1000.00","store":"s2"}
{"type":"order","order":"d2","member":"D","amount":"1000.00","store":"unregistered"}"#
    );
    let r = run(&plan, &events);
    // d1: C 3, B 2, the city agent Y 2 (its rate above nothing below it); no recruiter: 13 returned.
    // d2: C 3, B 2: 15 returned.
    assert_eq!(r.get("C", "wallet"), "6.00");
    assert_eq!(r.get("B", "wallet"), "4.00");
    assert_eq!(r.get("Y", "wallet"), "2.00");
    assert_eq!(r.mechanism("d")["returned"], "28.00");
}

#[test]
fn a_plan_that_pays_nobody_or_a_peer_without_ranks_is_refused() {
    let nobody = fanli_format::parse_plan(&plan("funding_rate = \"0.02\"")).unwrap_err().to_string();
    assert!(nobody.contains("`mechanism.d` pays nobody"), "{nobody}");
    let peer =
        fanli_format::parse_plan(&plan("funding_rate = \"0.02\"\nlevels = [\"0.01\"]\npeer_rate = \"0.01\""))
            .unwrap_err()
            .to_string();
    assert!(peer.contains("`mechanism.d.peer_rate` needs `ranks`"), "{peer}");
    let unsorted = fanli_format::parse_plan(&plan(
        "funding_rate = \"0.02\"\nranks = [{ name = \"hi\", min_team_sales = \"5\", rate = \"0.1\" },\
         { name = \"lo\", min_team_sales = \"1\", rate = \"0.05\" }]",
    ))
    .unwrap_err()
    .to_string();
    assert!(unsorted.contains("must be listed by `min_team_sales`, lowest first"), "{unsorted}");
    let four = fanli_format::parse_plan(&plan(
        "funding_rate = \"0.02\"\nlevels = [\"0.01\", \"0.01\", \"0.01\", \"0.01\"]",
    ))
    .unwrap_err()
    .to_string();
    assert!(four.contains("line 7: `mechanism.d.levels` must be an array of 1 to 3 rates"), "{four}");
}
