//! `fanli check`'s rules: the red lines (errors) and what regulators look at (warnings), each
//! on a plan built to trip exactly it.

use fanli_engine::compliance::{Level, check, refused};
use fanli_format::parse_plan_lines;

/// (level, rule, key, line) of each finding.
fn findings(plan: &str) -> Vec<(Level, &'static str, String, usize)> {
    let (plan, lines) = parse_plan_lines(plan).unwrap_or_else(|e| panic!("{e}"));
    check(&plan).into_iter().map(|f| (f.level, f.rule, f.key.clone(), lines.line(&f.key))).collect()
}

const REFER: &str = r#"name = "推三返一"
settle_after_days = 0
margin_rate = "0.70"
[[mechanism]]
id = "r3"
kind = "refer_refund"
funding_rate = "0.30"
qualify_min = "100.00"
referee_min = "100.00"
steps = ["10%", "20%", "70%"]
"#;

#[test]
fn a_compliant_plan_has_no_finding() {
    assert_eq!(findings(REFER), []);
}

#[test]
fn recruiting_alone_is_refused_with_the_key_and_its_line() {
    let plan = REFER.replace("referee_min = \"100.00\"", "referee_min = \"0\"");
    assert_eq!(
        findings(&plan),
        [(Level::Error, "recruiting-alone", "mechanism.r3.referee_min".to_owned(), 9)]
    );
    let (parsed, _) = parse_plan_lines(&plan).unwrap();
    let all = check(&parsed);
    assert!(refused(&all));
    assert!(all[0].zh.contains("拉人头") && all[0].en.contains("recruit"), "{all:?}");
}

#[test]
fn funding_above_the_margin_is_refused_counting_profit_based_rates_at_the_margin() {
    // 0.30 + 0.45 = 0.75 of the order: within the whole order, above a 0.70 margin.
    let two = format!(
        "{REFER}[[mechanism]]\nid = \"a\"\nkind = \"appreciation\"\nfunding_rate = \"0.45\"\nmint_ratio = \"0.7\"\nexit_multiple = \"2\"\n"
    )
    .replace("margin_rate = \"0.70\"\n", "");
    // Without margin_rate the rates cannot be compared with the margin: said, not refused.
    let no_margin = (Level::Warning, "no-margin", "margin_rate".to_owned(), 1);
    assert_eq!(findings(&two), std::slice::from_ref(&no_margin));
    let with_margin = two.replace("settle_after_days = 0", "settle_after_days = 0\nmargin_rate = \"0.70\"");
    assert_eq!(findings(&with_margin), [(Level::Error, "over-margin", "margin_rate".to_owned(), 3)]);
    // A profit-based rate counts as rate × margin: 0.30 + 0.45 × 0.70 = 0.615, within 0.70.
    let profit =
        with_margin.replace("funding_rate = \"0.45\"", "funding_rate = \"0.45\"\nfunding_base = \"profit\"");
    assert_eq!(findings(&profit), []);
    // Without margin_rate the whole order is the limit.
    let over = two.replace("funding_rate = \"0.45\"", "funding_rate = \"0.75\"");
    assert_eq!(findings(&over), [(Level::Error, "over-margin", "mechanism".to_owned(), 3), no_margin]);
}

#[test]
fn a_package_priced_above_its_goods_is_an_entry_fee() {
    let plan = format!(
        "{REFER}[[package]]\nname = \"创业礼包\"\nprice = \"3980.00\"\nvalue = \"1000.00\"\n\
         [[package]]\nname = \"fair\"\nprice = \"100.00\"\nvalue = \"100.00\"\n"
    );
    assert_eq!(findings(&plan), [(Level::Error, "entry-fee", "package[1].price".to_owned(), 13)]);
}

#[test]
fn every_warning_names_its_rule_and_key() {
    let plan = r#"name = "warnings"
settle_after_days = 0
margin_rate = "0.70"
[[mechanism]]
id = "a"
kind = "appreciation"
funding_rate = "0.10"
mint_ratio = "1.2"
[[mechanism]]
id = "q"
kind = "queue"
funding_rate = "0.10"
release = "when_funded"
credit_ratio = "1.1"
[[mechanism]]
id = "g"
kind = "green_points"
funding_rate = "0.10"
tiers = [{ min = "3000", multiple = "2.5" }]
daily_release_rate = "0.012"
team_ranks = [{ name = "x", min_team_sales = "1000", rate = "0.1" }]
[[mechanism]]
id = "c"
kind = "cycle"
funding_rate = "0.10"
quota_multiple = "2"
share_unit = "2000"
[[mechanism]]
id = "d"
kind = "distribution"
funding_rate = "0.02"
ranks = [{ name = "x", min_team_sales = "1000", rate = "0.01" }]
[[mechanism]]
id = "ads"
kind = "ad_tasks"
funding_rate = "0"
points_per_yuan = "1"
views_per_day = 1
rewards = [{ from = "0", to = "200", reward = "2" }, { from = "1001", reward = "20" }]
[[mechanism]]
id = "r"
kind = "refer_refund"
funding_rate = "0.10"
qualify_min = "1"
referee_min = "1"
steps = ["10%", "20%", "60%"]
"#
    .replace("name = \"warnings\"", "name = \"消费全返\"");
    let got: Vec<(&str, String)> = findings(&plan)
        .into_iter()
        .map(|(level, rule, key, _)| {
            assert_eq!(level, Level::Warning);
            (rule, key)
        })
        .collect();
    let want = [
        ("no-forced-exit", "mechanism.a"),
        ("mint-above-one", "mechanism.a.mint_ratio"),
        ("static-return", "mechanism.q.credit_ratio"),
        ("static-return", "mechanism.g.tiers"),
        ("team-compensation", "mechanism.g.team_ranks"),
        ("static-return", "mechanism.c.quota_multiple"),
        ("team-compensation", "mechanism.d.ranks"),
        ("band-gap", "mechanism.ads.rewards"),
        ("token-purchase", "mechanism.r.referee_min"),
        ("steps-promise", "mechanism.r.steps"),
    ];
    assert_eq!(got, want.map(|(r, k)| (r, k.to_owned())));
}

#[test]
fn a_distribution_that_can_allocate_more_than_its_budget_is_refused() {
    let plan = |funding: &str, base: &str| {
        format!(
            "name = \"d\"\nsettle_after_days = 0\nmargin_rate = \"0.50\"\n[[mechanism]]\nid = \"dist\"\n\
             kind = \"distribution\"\nfunding_rate = \"{funding}\"\n{base}levels = [\"0.02\", \"0.01\"]\n\
             ranks = [{{ name = \"a\", min_team_sales = \"100.00\", rate = \"0.01\" }}, \
             {{ name = \"b\", min_team_sales = \"1000.00\", rate = \"0.03\" }}]\npeer_rate = \"0.005\"\n\
             regional = {{ district = \"0.001\", city = \"0.002\", province = \"0.004\" }}\n\
             recruiter_rate = \"0.005\"\n"
        )
    };
    // At most 0.02 + 0.01 + 0.03 (the highest rank) + 0.005 + 0.004 (the highest region) +
    // 0.005 = 0.074 of an order.
    let findings = |text: &str| check(&fanli_format::parse_plan(text).unwrap());
    let refused = findings(&plan("0.07", ""));
    let over: Vec<_> = refused.iter().filter(|f| f.rule == "over-allocation").collect();
    assert_eq!(over.len(), 1, "{refused:?}");
    assert_eq!(over[0].level, Level::Error);
    assert_eq!(over[0].key, "mechanism.dist.funding_rate");
    assert!(over[0].en.contains("up to 0.074 of its amount"), "{}", over[0].en);
    assert!(findings(&plan("0.074", "")).iter().all(|f| f.rule != "over-allocation"));
    // On the profit, the budget is funding_rate × margin_rate of the amount: 0.148 × 0.5 = 0.074.
    let profit = "funding_base = \"profit\"\n";
    assert!(findings(&plan("0.148", profit)).iter().all(|f| f.rule != "over-allocation"));
    assert!(findings(&plan("0.147", profit)).iter().any(|f| f.rule == "over-allocation"));
}

#[test]
fn a_cycles_honor_share_counts_toward_the_margin_and_odd_exit_multiples_are_warned_about() {
    let cycle = |honor: &str| {
        format!(
            "name = \"c\"\nsettle_after_days = 0\nmargin_rate = \"0.70\"\n[[mechanism]]\nid = \"c\"\n\
             kind = \"cycle\"\nfunding_rate = \"0.60\"\nquota_multiple = \"1\"\nshare_unit = \"2000.00\"\n\
             honor = {{ rate = \"{honor}\", levels = [\"1\"] }}\n"
        )
    };
    let rules = |text: &str| {
        check(&fanli_format::parse_plan(text).unwrap()).into_iter().map(|f| f.rule).collect::<Vec<_>>()
    };
    // 0.60 + 0.10 of each order = the margin; 0.60 + 0.11 is past it.
    assert!(!rules(&cycle("0.10")).contains(&"over-margin"));
    assert!(rules(&cycle("0.11")).contains(&"over-margin"));
    let appreciation = |multiple: &str| {
        format!(
            "name = \"a\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"a\"\nkind = \"appreciation\"\n\
             funding_rate = \"0.30\"\nmint_ratio = \"0.70\"\nexit_multiple = \"{multiple}\"\n"
        )
    };
    assert!(rules(&appreciation("0.5")).contains(&"odd-exit-multiple"));
    assert!(rules(&appreciation("1000")).contains(&"odd-exit-multiple"));
    assert!(!rules(&appreciation("1")).contains(&"odd-exit-multiple"));
    assert!(!rules(&appreciation("10")).contains(&"odd-exit-multiple"));
    assert_eq!(check(&fanli_format::parse_plan(&appreciation("0.5")).unwrap())[0].level, Level::Warning);
}

/// Every red line and warning, each on a plan that just passes it and one that just fails it:
/// the same plan, one figure apart (a fen, a ten-thousandth, a key present or not). The rule's
/// id is its stable code (`rule` in `fanli check --json`).
#[test]
fn every_rule_has_a_plan_that_just_passes_and_one_that_just_fails() {
    let plan = |top: &str, mechanism: &str| {
        format!("name = \"p\"\nsettle_after_days = 0\n{top}\n[[mechanism]]\nid = \"m\"\n{mechanism}\n")
    };
    let m70 = "margin_rate = \"0.70\"";
    let appr = |funding: &str, more: &str| {
        format!("kind = \"appreciation\"\nfunding_rate = \"{funding}\"\nmint_ratio = \"0.7\"\n{more}")
    };
    let refer = |funding: &str, referee_min: &str, steps: &str, more: &str| {
        format!(
            "kind = \"refer_refund\"\nfunding_rate = \"{funding}\"\nqualify_min = \"100.00\"\n\
             referee_min = \"{referee_min}\"\nsteps = {steps}\n{more}"
        )
    };
    let ads = |second_from: &str| {
        format!(
            "kind = \"ad_tasks\"\nfunding_rate = \"0\"\npoints_per_yuan = \"1\"\nviews_per_day = 1\n\
             rewards = [{{ from = \"0\", to = \"200\", reward = \"2\" }}, {{ from = \"{second_from}\", reward = \"20\" }}]"
        )
    };
    let cases: Vec<(&str, Level, String, String)> = vec![
        // Funding up to the margin, and a ten-thousandth past it.
        (
            "over-margin",
            Level::Error,
            plan(m70, &appr("0.70", "exit_multiple = \"2\"")),
            plan(m70, &appr("0.7001", "exit_multiple = \"2\"")),
        ),
        // The margin stated (even as the whole order), or not.
        (
            "no-margin",
            Level::Warning,
            plan("margin_rate = \"1\"", &appr("0.30", "exit_multiple = \"2\"")),
            plan("", &appr("0.30", "exit_multiple = \"2\"")),
        ),
        // A referee who must buy a fen, or nothing.
        (
            "recruiting-alone",
            Level::Error,
            plan(m70, &refer("0.30", "0.01", "[\"10%\"]", "")),
            plan(m70, &refer("0.30", "0", "[\"10%\"]", "")),
        ),
        // 0.30 × 100.00 = 30.00 funded by the referee's smallest order.
        (
            "unfunded-referral",
            Level::Error,
            plan(m70, &refer("0.30", "100.00", "[\"30.00\", \"10%\"]", "")),
            plan(m70, &refer("0.30", "100.00", "[\"30.01\", \"10%\"]", "")),
        ),
        // With a fixed indirect reward paid on the same referral: 20.00 + 10.00.
        (
            "unfunded-referral",
            Level::Error,
            plan(m70, &refer("0.30", "100.00", "[\"20.00\"]", "indirect = \"10.00\"")),
            plan(m70, &refer("0.30", "100.00", "[\"20.00\"]", "indirect = \"10.01\"")),
        ),
        // On the profit: 0.30 × 0.70 × 100.00 = 21.00.
        (
            "unfunded-referral",
            Level::Error,
            plan(m70, &refer("0.30", "100.00", "[\"21.00\"]", "funding_base = \"profit\"")),
            plan(m70, &refer("0.30", "100.00", "[\"21.01\"]", "funding_base = \"profit\"")),
        ),
        // A referee's order of 50.00 is a purchase; 49.99 a token.
        (
            "token-purchase",
            Level::Warning,
            plan(m70, &refer("0.30", "50.00", "[\"10%\"]", "")),
            plan(m70, &refer("0.30", "49.99", "[\"10%\"]", "")),
        ),
        (
            "steps-promise",
            Level::Warning,
            plan(m70, &refer("0.30", "100.00", "[\"10%\", \"90%\"]", "")).replace("\"p\"", "\"全返\""),
            plan(m70, &refer("0.30", "100.00", "[\"10%\", \"89.99%\"]", "")).replace("\"p\"", "\"全返\""),
        ),
        (
            "entry-fee",
            Level::Error,
            format!(
                "{}[[package]]\nname = \"礼包\"\nprice = \"100.00\"\nvalue = \"100.00\"\n",
                plan(m70, &appr("0.30", "exit_multiple = \"2\""))
            ),
            format!(
                "{}[[package]]\nname = \"礼包\"\nprice = \"100.01\"\nvalue = \"100.00\"\n",
                plan(m70, &appr("0.30", "exit_multiple = \"2\""))
            ),
        ),
        // Two levels of 0.02 and 0.01: 0.03 of an order.
        (
            "over-allocation",
            Level::Error,
            plan(m70, "kind = \"distribution\"\nfunding_rate = \"0.03\"\nlevels = [\"0.02\", \"0.01\"]"),
            plan(m70, "kind = \"distribution\"\nfunding_rate = \"0.0299\"\nlevels = [\"0.02\", \"0.01\"]"),
        ),
        (
            "team-compensation",
            Level::Warning,
            plan(m70, "kind = \"distribution\"\nfunding_rate = \"0.03\"\nlevels = [\"0.02\"]"),
            plan(
                m70,
                "kind = \"distribution\"\nfunding_rate = \"0.03\"\nlevels = [\"0.02\"]\nranks = [{ name = \"x\", min_team_sales = \"1000\", rate = \"0.01\" }]",
            ),
        ),
        (
            "static-return",
            Level::Warning,
            plan(
                m70,
                "kind = \"queue\"\nfunding_rate = \"0.10\"\nrelease = \"when_funded\"\ncredit_ratio = \"1\"",
            ),
            plan(
                m70,
                "kind = \"queue\"\nfunding_rate = \"0.10\"\nrelease = \"when_funded\"\ncredit_ratio = \"1.0001\"",
            ),
        ),
        (
            "static-return",
            Level::Warning,
            plan(
                m70,
                "kind = \"green_points\"\nfunding_rate = \"0.10\"\ntiers = [{ min = \"0\", multiple = \"1\" }]\ndaily_release_rate = \"0.01\"",
            ),
            plan(
                m70,
                "kind = \"green_points\"\nfunding_rate = \"0.10\"\ntiers = [{ min = \"0\", multiple = \"1.0001\" }]\ndaily_release_rate = \"0.01\"",
            ),
        ),
        (
            "static-return",
            Level::Warning,
            plan(
                m70,
                "kind = \"cycle\"\nfunding_rate = \"0.10\"\nquota_multiple = \"1\"\nshare_unit = \"2000\"",
            ),
            plan(
                m70,
                "kind = \"cycle\"\nfunding_rate = \"0.10\"\nquota_multiple = \"1.0001\"\nshare_unit = \"2000\"",
            ),
        ),
        (
            "no-forced-exit",
            Level::Warning,
            plan(m70, &appr("0.30", "exit_multiple = \"2\"")),
            plan(m70, &appr("0.30", "")),
        ),
        (
            "odd-exit-multiple",
            Level::Warning,
            plan(m70, &appr("0.30", "exit_multiple = \"1\"")),
            plan(m70, &appr("0.30", "exit_multiple = \"0.9999\"")),
        ),
        (
            "odd-exit-multiple",
            Level::Warning,
            plan(m70, &appr("0.30", "exit_multiple = \"10\"")),
            plan(m70, &appr("0.30", "exit_multiple = \"10.0001\"")),
        ),
        (
            "mint-above-one",
            Level::Warning,
            plan(m70, &appr("0.30", "exit_multiple = \"2\"").replace("\"0.7\"", "\"1\"")),
            plan(m70, &appr("0.30", "exit_multiple = \"2\"").replace("\"0.7\"", "\"1.0001\"")),
        ),
        ("band-gap", Level::Warning, plan(m70, &ads("201")), plan(m70, &ads("202"))),
    ];
    for (rule, level, passes, fails) in &cases {
        let of = |text: &str| {
            let parsed = fanli_format::parse_plan(text).unwrap_or_else(|e| panic!("{rule}: {e}\n{text}"));
            check(&parsed)
        };
        let passed = of(passes);
        assert!(passed.iter().all(|f| f.rule != *rule), "{rule} should pass:\n{passes}\n{passed:#?}");
        let failed = of(fails);
        let found: Vec<_> = failed.iter().filter(|f| f.rule == *rule).collect();
        assert_eq!(found.len(), 1, "{rule} should fail once:\n{fails}\n{failed:#?}");
        assert_eq!(found[0].level, *level, "{rule}");
        assert_eq!(refused(&failed), *level == Level::Error, "{rule}");
    }
    // Every rule of `fanli check` (the test kind's `every-order` aside, tested with that kind).
    let mut rules: Vec<&str> = cases.iter().map(|c| c.0).collect();
    rules.dedup();
    assert_eq!(rules.len(), 14);
}
