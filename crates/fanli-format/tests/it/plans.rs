//! Plan files: what parses, and how each kind of mistake is reported.

use fanli_engine::{KindConfig, Money, Rate, Release, Step};
use fanli_format::parse_plan;

/// The messages for a plan, one per mistake, as `fanli run` prints them.
fn errors(plan: &str) -> Vec<String> {
    match parse_plan(plan) {
        Ok(_) => panic!("the plan should be refused:\n{plan}"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

const GOOD: &str = r#"name = "消费增值 + 推三返一"
settle_after_days = 7
timezone = "+08:00"
margin_rate = "0.70"

[[mechanism]]
id = "appr"
kind = "appreciation"
funding_rate = "0.30"
mint_ratio = 0.7
initial_price = "1.00"
sell_fee = "0.20"
exit_multiple = 3

[[mechanism]]
id = "r3"
kind = "refer_refund"
funding_rate = "0.333"
qualify_min = "1000.00"
referee_min = 1000
steps = ["10%", "20%", "70%", "50.00"]
repeat = true

[[mechanism]]
id = "q"
kind = "queue"
funding_rate = "10%"
release = { every = 3, ratio = "0.70" }
"#;

#[test]
fn the_spec_example_parses_with_exact_values() {
    let plan = parse_plan(GOOD).unwrap();
    assert_eq!(plan.settle_after_days, 7);
    assert_eq!(plan.margin_rate, Some(Rate::parse("0.7").unwrap()));
    let KindConfig::Appreciation(a) = &plan.mechanisms[0].kind else { panic!() };
    // TOML numbers are read from their text, never through a float.
    assert_eq!(a.mint_ratio, Rate::parse("0.70").unwrap());
    assert_eq!(a.exit_multiple, Some(Rate::parse("3").unwrap()));
    let KindConfig::ReferRefund(r) = &plan.mechanisms[1].kind else { panic!() };
    assert_eq!(plan.mechanisms[1].funding_rate, Rate::from_units(333_000_000));
    assert_eq!(r.referee_min, Money::from_yuan(1000));
    assert_eq!(r.steps[3], Step::Fixed(Money::from_yuan(50)));
    assert_eq!(r.steps[0], Step::Percent(Rate::from_units(100_000_000)));
    let KindConfig::Queue(q) = &plan.mechanisms[2].kind else { panic!() };
    assert_eq!(q.release, Release::EveryN { every: 3, ratio: Rate::parse("0.7").unwrap() });
    assert_eq!(plan.mechanisms[2].funding_rate, Rate::parse("0.1").unwrap());
}

#[test]
fn an_unknown_key_names_itself_its_line_and_the_likely_one() {
    let plan =
        GOOD.replace("sell_fee", "sel_fee").replace("repeat = true", "repeat = true\ncolour = \"red\"");
    let errors = errors(&plan);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0], "line 12: `mechanism.appr.sel_fee` is not a known key; did you mean `sell_fee`?");
    // Nothing close: every key the kind takes is listed (the whole list is in the snapshot of
    // `every_kind_of_mistake_reads_as_its_snapshot`).
    let listed =
        "line 23: `mechanism.r3.colour` is not a known key; expected one of `id`, `kind`, `funding_rate`,";
    assert!(errors[1].starts_with(listed) && errors[1].contains("`steps`, `repeat`"), "{}", errors[1]);
}

/// The message of each kind of mistake, as `fanli run` and `fanli check` print it, recorded in
/// `tests/snapshots/plan-errors.txt`: what a plan's author reads, whole.
#[test]
fn every_kind_of_mistake_reads_as_its_snapshot() {
    let mistakes = [
        ("an unknown key, close to a known one", GOOD.replace("sell_fee", "sel_fee")),
        ("an unknown key, close to none", GOOD.replace("repeat = true", "repeat = true\ncolour = \"red\"")),
        ("an unknown top-level key", GOOD.replace("margin_rate", "margin")),
        ("a missing key", GOOD.replace("mint_ratio = 0.7\n", "")),
        ("a missing top-level key", GOOD.replace("settle_after_days = 7\n", "")),
        ("a rate out of range", GOOD.replace("funding_rate = \"0.30\"", "funding_rate = \"1.5\"")),
        ("a fee of 100%", GOOD.replace("sell_fee = \"0.20\"", "sell_fee = \"1\"")),
        ("steps above 100% and negative", GOOD.replace("\"70%\", \"50.00\"", "\"170%\", \"-5\"")),
        ("a whole number out of range", GOOD.replace("settle_after_days = 7", "settle_after_days = -1")),
        ("a release every 0 orders", GOOD.replace("every = 3", "every = 0")),
        ("a value that is not a number", GOOD.replace("mint_ratio = 0.7", "mint_ratio = \"seventy\"")),
        ("an unknown kind", GOOD.replace("kind = \"queue\"", "kind = \"pyramid\"")),
        ("an id used twice", GOOD.replace("id = \"r3\"", "id = \"appr\"")),
        (
            "a name for members with a line break",
            GOOD.replace("id = \"r3\"", "id = \"r3\"\nname = \"推三\\n返一\""),
        ),
        ("a timezone by name", GOOD.replace("timezone = \"+08:00\"", "timezone = \"Asia/Shanghai\"")),
        ("a flag that is not true or false", GOOD.replace("repeat = true", "repeat = \"yes\"")),
        ("money with 3 decimals", GOOD.replace("qualify_min = \"1000.00\"", "qualify_min = \"1000.001\"")),
        ("broken TOML", "name = \"x\nsettle_after_days = 0".to_owned()),
        ("no mechanism", "name = \"x\"\nsettle_after_days = 0\nmechanism = []\n".to_owned()),
    ];
    let mut text = String::new();
    for (mistake, plan) in mistakes {
        text.push_str(&format!("# {mistake}\n"));
        for error in errors(&plan) {
            text.push_str(&format!("{error}\n"));
        }
    }
    crate::assert_snapshot("plan-errors.txt", &text);
}

#[test]
fn a_missing_key_names_the_table_it_belongs_to() {
    let plan = GOOD.replace("mint_ratio = 0.7\n", "");
    assert_eq!(errors(&plan), ["line 6: `mechanism.appr.mint_ratio` is missing: `mechanism.appr` needs it"]);
    let plan = GOOD.replace("settle_after_days = 7\n", "");
    assert_eq!(errors(&plan), ["line 1: `settle_after_days` is missing: the plan needs it"]);
}

#[test]
fn values_out_of_range_say_what_is_allowed() {
    let plan = GOOD
        .replace("funding_rate = \"0.30\"", "funding_rate = \"1.5\"")
        .replace("sell_fee = \"0.20\"", "sell_fee = \"1\"")
        .replace("\"70%\", \"50.00\"", "\"170%\", \"-5\"")
        .replace("settle_after_days = 7", "settle_after_days = -1")
        .replace("every = 3", "every = 0");
    assert_eq!(
        errors(&plan),
        [
            "line 2: `settle_after_days` must be a whole number from 0 to 365",
            "line 9: `mechanism.appr.funding_rate` is 1.5; it must be between 0 and 1",
            "line 12: `mechanism.appr.sell_fee` is 1; it must be at least 0 and below 1",
            "line 21: `mechanism.r3.steps` has a step of 170% (1.7); a step refunds at most 100%",
            "line 21: `mechanism.r3.steps` has a step \"-5\" that is negative: write \"10%\" or \"50.00\"",
            "line 28: `mechanism.q.release.every` must be a whole number from 1 to 1000",
        ]
    );
}

#[test]
fn malformed_values_kinds_and_ids_are_refused() {
    let plan = GOOD
        .replace("mint_ratio = 0.7", "mint_ratio = \"seventy\"")
        .replace("kind = \"queue\"", "kind = \"pyramid\"")
        .replace("id = \"r3\"", "id = \"appr\"")
        .replace("timezone = \"+08:00\"", "timezone = \"Asia/Shanghai\"");
    assert_eq!(
        errors(&plan),
        [
            "line 3: `timezone` must be a UTC offset such as \"+08:00\"",
            "line 10: `mechanism.appr.mint_ratio` is not a decimal number such as \"12.50\": write a rate such as \"0.30\" or \"10%\"",
            "line 16: `mechanism.appr.id` is used by an earlier mechanism: ids must be unique",
            "line 26: `mechanism.q.kind` must be one of \"appreciation\", \"refer_refund\", \"queue\", \"distribution\", \"green_points\", \"cycle\", \"ad_tasks\", \"loyalty\", \"coalition\"",
        ]
    );
}

#[test]
fn whole_numbers_may_be_strings_like_every_other_value() {
    let plan = parse_plan(&GOOD.replace("settle_after_days = 7", "settle_after_days = \"7\"")).unwrap();
    assert_eq!(plan.settle_after_days, 7);
    assert_eq!(
        errors(&GOOD.replace("settle_after_days = 7", "settle_after_days = \"7.5\"")),
        ["line 2: `settle_after_days` must be a whole number from 0 to 365"]
    );
}

#[test]
fn broken_toml_and_empty_plans_are_refused() {
    assert_eq!(errors("name = \"x\nsettle_after_days = 0").len(), 1);
    assert!(errors("name = \"x\nsettle_after_days = 0")[0].starts_with("line 1: is not valid TOML"));
    assert_eq!(
        errors("name = \"x\"\nsettle_after_days = 0\nmechanism = []\n"),
        ["line 3: `mechanism` is empty: a plan needs at least one mechanism"]
    );
}

#[test]
fn a_sweep_sets_one_key_and_leaves_the_rest_of_the_file_alone() {
    use fanli_format::set_plan_key;
    let plan = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\n\
                funding_rate = \"0.30\"\nmint_ratio = 0.7 # a comment stays\n";
    let set = set_plan_key(plan, "appr.mint_ratio", "0.5").unwrap();
    assert_eq!(set, plan.replace("mint_ratio = 0.7", "mint_ratio = \"0.5\""));
    let added = set_plan_key(plan, "appr.exit_multiple", "3").unwrap();
    assert!(added.contains("id = \"appr\"\nexit_multiple = \"3\"\nkind"), "{added}");
    let top = set_plan_key(plan, "margin_rate", "0.6").unwrap();
    assert!(parse_plan(&top).unwrap().margin_rate.is_some());
    let missing = set_plan_key(plan, "nope.mint_ratio", "1").unwrap_err();
    assert!(matches!(&missing, fanli_format::SetKeyError::NoMechanism(id) if id == "nope"));
    assert_eq!(missing.to_string(), "no mechanism has id `nope`");
    let broken = set_plan_key("name = ", "margin_rate", "1").unwrap_err();
    assert!(matches!(broken, fanli_format::SetKeyError::NotToml(_)));
    assert!(broken.to_string().starts_with("the plan is not valid TOML: "), "{broken}");
}

/// A plan's ids (mechanisms, partners) name accounts: letters, digits, `_` and `-`, and at most
/// 64 of them, as every id.
#[test]
fn a_plan_id_has_at_most_64_characters() {
    let id = "a".repeat(64);
    assert!(parse_plan(&GOOD.replace("id = \"q\"", &format!("id = \"{id}\""))).is_ok());
    let plan = GOOD.replace("id = \"q\"", &format!("id = \"{id}b\""));
    assert_eq!(errors(&plan), ["line 25: `mechanism[3].id` is 65 characters long; an id has at most 64"]);
}
