//! 广告电商: task points from spending, views a day, reward bands, advertisers' funding.

use crate::run;

fn plan(funding: &str, rewards: &str) -> String {
    format!(
        "name = \"ads\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"ads\"\nkind = \"ad_tasks\"\n\
         funding_rate = \"{funding}\"\npoints_per_yuan = \"1\"\nviews_per_day = 2\nrewards = [{rewards}]\n"
    )
}

/// The seed's bands, with 201–1000 filled in by the operator.
const BANDS: &str = "{ from = \"0\", reward = \"2\" }, { from = \"201\", reward = \"10\" }, \
     { from = \"1001\", reward = \"20\" }, { from = \"2001\", reward = \"40\" }, { from = \"4001\", reward = \"50\" }";

#[test]
fn views_release_task_points_by_band_up_to_the_days_allowance() {
    let events = r#"{"type":"join","member":"A"}
{"type":"join","member":"B"}
{"type":"order","order":"a","member":"A","amount":"1500.00"}
{"type":"ad_view","member":"A","mechanism":"ads"}
{"type":"ad_view","member":"A","mechanism":"ads"}
{"type":"ad_view","member":"A","mechanism":"ads"}
{"type":"ad_view","member":"B","mechanism":"ads"}
{"type":"advertiser_fund","mechanism":"ads","amount":"500.00"}
@2026-01-02T09:00:00+08:00
{"type":"ad_view","member":"A","mechanism":"ads"}"#;
    let r = run(&plan("0.10", BANDS), events);
    // 1500 task points: band 1001 → 20 a view, twice on day 1, the third refused, once on day 2.
    assert_eq!(r.get("A", "wallet"), "60.00");
    assert_eq!(r.member("A")["points"]["ads"], "1440.0000");
    assert_eq!(r.rejected_lines(), vec![6]);
    assert!(r.rejected[0].1.contains("has viewed 2 ads today"), "{:?}", r.rejected);
    // B holds none: the view counts and releases nothing.
    assert_eq!(r.get("B", "wallet"), "0.00");
    // 150 from the order and 500 from the advertiser, 60 paid.
    assert_eq!(r.mechanism("ads")["pool"], "590.00");
    assert_eq!(r.mechanism("ads")["views"], 4);
    assert_eq!(r.standing("A", "ads")["next_reward"], "20.00");
}

#[test]
fn a_view_releases_at_most_what_is_held_and_an_empty_pool_owes_it() {
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"a","member":"A","amount":"1.50"}
{"type":"ad_view","member":"A","mechanism":"ads"}"#;
    let r = run(&plan("0", BANDS), events);
    // 1.5 task points: the 0 band's 2 is capped at 1.50, owed by an empty pool.
    assert_eq!(r.get("A", "wallet"), "0.00");
    assert_eq!(r.member("A")["points"]["ads"], "0.0000");
    assert_eq!(r.standing("A", "ads")["owed"], "1.50");
    assert_eq!(r.mechanism("ads")["obligations"], "1.50");
}

#[test]
fn the_seeds_gap_between_200_and_1001_is_a_warning_and_pays_nothing() {
    let seed = "{ from = \"0\", to = \"200\", reward = \"2\" }, { from = \"1001\", reward = \"20\" }, \
                { from = \"2001\", reward = \"40\" }, { from = \"4001\", reward = \"50\" }";
    let parsed = fanli_format::parse_plan(&plan("0.10", seed)).expect("a gap is allowed, and warned about");
    let findings = fanli_engine::compliance::check(&parsed);
    let gaps: Vec<_> = findings.iter().filter(|f| f.rule == "band-gap").collect();
    assert_eq!(gaps.len(), 1, "{findings:?}");
    assert_eq!(gaps[0].key, "mechanism.ads.rewards");
    assert!(gaps[0].en.contains("from 201 to 1000.9999 without a reward"), "{}", gaps[0].en);
    assert_eq!(gaps[0].fix, "add a band { from = \"201\", reward = … }");
    let late = fanli_format::parse_plan(&plan("0.10", "{ from = \"10\", reward = \"2\" }")).unwrap();
    let late = fanli_engine::compliance::check(&late);
    assert!(late.iter().any(|f| f.en.contains("from 0 to 9.9999 without a reward")), "{late:?}");
    // A member holding 500 task points, in the gap, is paid nothing for a view.
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"a","member":"A","amount":"500.00"}
{"type":"ad_view","member":"A","mechanism":"ads"}"#;
    let r = run(&plan("0.10", seed), events);
    assert_eq!(r.get("A", "wallet"), "0.00");
    assert_eq!(r.member("A")["points"]["ads"], "500.0000");
    assert_eq!(r.mechanism("ads")["views"], 1);
}

#[test]
fn advertiser_funds_and_views_go_only_to_ad_tasks_mechanisms() {
    let plan = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.1\"\nrelease = \"when_funded\"\n";
    let r = run(
        plan,
        r#"{"type":"join","member":"A"}
{"type":"advertiser_fund","mechanism":"q","amount":"5.00"}
{"type":"ad_view","member":"A","mechanism":"q"}
{"type":"advertiser_fund","mechanism":"nope","amount":"5.00"}"#,
    );
    assert_eq!(r.rejected_lines(), vec![2, 3, 4]);
    assert!(
        r.rejected[0].1.contains("is a queue mechanism: it cannot take advertiser funds"),
        "{:?}",
        r.rejected
    );
    assert!(r.rejected[1].1.contains("it cannot show ads"), "{:?}", r.rejected);
    assert!(r.rejected[2].1.contains("unknown mechanism `nope`"), "{:?}", r.rejected);
}
