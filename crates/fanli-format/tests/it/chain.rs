//! The audit chain's canonical form: the same event gives the same bytes whatever its source
//! looked like, and a line's hash covers all of it.

use fanli_format::EventLine;
use fanli_format::chain::{Chain, GENESIS, canonical, sha256_hex};

fn canon(line: &str) -> String {
    let parsed = EventLine::parse(line.as_bytes()).unwrap();
    canonical(&parsed.event().unwrap())
}

#[test]
fn the_same_event_written_two_ways_has_one_canonical_form() {
    let a = canon(
        r#"{"at":"2026-01-01T09:00:00+08:00","type":"order","order":"o1","member":"A","amount":"1000","credit":"0"}"#,
    );
    let b = canon(r#"{"amount":1000,"member":"A","order":"o1","type":"order","at":"2026-01-01T01:00:00Z"}"#);
    assert_eq!(a, b);
    assert_eq!(
        a,
        r#"{"at":"2026-01-01T01:00:00Z","type":"order","order":"o1","member":"A","amount":"1000.00"}"#
    );
    assert_eq!(
        canon(
            r#"{"at":"2026-01-01T09:00:00+08:00","type":"sell","member":"A","mechanism":"appr","points":"1.5"}"#
        ),
        r#"{"at":"2026-01-01T01:00:00Z","type":"sell","member":"A","mechanism":"appr","points":"1.5000"}"#
    );
}

#[test]
fn each_link_hashes_the_whole_line_before_it() {
    let mut chain = Chain::default();
    assert_eq!(chain.head(), GENESIS);
    let line = r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"A"}"#;
    let event = EventLine::parse(line.as_bytes()).unwrap();
    let first = chain.link(&event.event().unwrap());
    assert_eq!(
        first,
        format!(r#"{{"prev":"{GENESIS}","at":"2026-01-01T01:00:00Z","type":"join","member":"A"}}"#)
    );
    assert_eq!(chain.head(), sha256_hex(first.as_bytes()));
    // The SHA-256 of "abc", a published test vector.
    assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // A chained line parses back as the same event: `prev` is known to every type.
    let again = EventLine::parse(first.as_bytes()).unwrap();
    assert_eq!(again.prev(), Some(GENESIS));
    assert_eq!(canonical(&again.event().unwrap()), canon(line));
}

#[test]
fn a_published_daily_report_reads_back_to_the_figures_it_was_written_from() {
    use fanli_engine::{Engine, Money};
    use fanli_format::{DailyReport, LineOutcome, apply_bytes, parse_plan, pool_report};
    let plan = parse_plan(include_str!("../../../fanli-cli/tests/cases/seed_appr.toml")).unwrap();
    let mut engine = Engine::new(plan);
    let stream = include_str!("../../../fanli-cli/tests/cases/seed_appr.jsonl");
    let close = r#"{"at": "2026-01-01T23:00:00+08:00", "type": "close_day"}"#;
    // Seed 001: three orders of 1000 put 900.00 in the pool for 481.95 points.
    for line in stream.lines().take(6).chain([close]) {
        let mut slot = EventLine::default();
        assert!(
            matches!(apply_bytes(&mut engine, &mut slot, line.as_bytes()), LineOutcome::Accepted(_)),
            "{line}"
        );
    }
    let at = EventLine::parse(close.as_bytes()).unwrap().event().unwrap().at;
    let text = pool_report(&engine, at, "abc").to_string();
    let report = DailyReport::parse(&text).unwrap();
    assert_eq!((report.at.as_str(), report.chain.as_str()), ("2026-01-01T15:00:00Z", "abc"));
    let appr = report.of("appr").unwrap();
    assert_eq!((appr.pool, appr.obligations, appr.paid), (Money::from_yuan(900), Money::ZERO, Money::ZERO));
    assert_eq!(appr.price.as_deref(), Some("1.8674"));
    assert_eq!(report.of("nope"), None);
    assert_eq!(DailyReport::parse(r#"{"at":"x","chain":"y","mechanisms":{"a":{"pool":"1.234"}}}"#), None);
}

#[test]
fn a_members_history_entry_reads_back_typed_and_shows_as_it_was_written() {
    use fanli_engine::{Money, Points};
    use fanli_format::{HistoryEntry, Signed};
    let event = r#"{"prev":"ab","at":"2026-01-01T01:00:00Z","type":"order","order":"o1","member":"A","amount":"100.00"}"#;
    let rows = r#"[["payment","","credit","-20.50"],["mint","appr","points","+70.0000"],["release","q","wallet","+0.01"]]"#;
    let entry = HistoryEntry::parse(event, rows).unwrap();
    assert_eq!((entry.kind.as_str(), entry.at.to_string()), ("order", "2026-01-01T01:00:00Z".to_owned()));
    let amounts: Vec<Signed> = entry.movements.iter().map(|m| m.amount).collect();
    assert_eq!(
        amounts,
        [
            Signed::Money(Money::from_fen(-2050)),
            Signed::Points(Points::from_whole(70)),
            Signed::Money(Money::from_fen(1))
        ]
    );
    let shown: Vec<String> = amounts.iter().map(|a| a.to_string()).collect();
    assert_eq!(shown, ["-20.50", "+70.0000", "+0.01"]);
    assert_eq!(
        (
            entry.movements[1].rule.as_str(),
            entry.movements[1].mechanism.as_str(),
            entry.movements[0].account.as_str()
        ),
        ("mint", "appr", "credit")
    );
    assert!(amounts[0].is_out() && !amounts[1].is_out());
    // An amount without its sign is not one the server wrote.
    assert_eq!(HistoryEntry::parse(event, r#"[["payment","","wallet","20.50"]]"#), None);
}

/// The history rows the server stores, written straight out, are the bytes the postings as
/// JSON values give, for every event of the seed cases that moves a member.
#[test]
fn a_members_history_written_out_is_what_its_postings_as_json_give() {
    use fanli_engine::Engine;
    use fanli_format::{LineOutcome, apply_bytes, member_history, member_postings, parse_plan};
    let mut wide = String::new();
    for i in 0..40 {
        wide += &format!("{{\"at\":\"2026-01-01T00:00:{i:02}Z\",\"type\":\"join\",\"member\":\"w{i}\"}}\n");
    }
    for i in 0..40 {
        wide += &format!(
            "{{\"at\":\"2026-01-01T01:00:{i:02}Z\",\"type\":\"order\",\"order\":\"o{i}\",\"member\":\"w{i}\",\"amount\":\"{}.00\"}}\n",
            100 + i
        );
    }
    wide += "{\"at\":\"2026-01-09T16:00:00Z\",\"type\":\"close_day\"}\n";
    let cases = [
        (
            include_str!("../../../fanli-cli/tests/cases/seed_appr.toml"),
            include_str!("../../../fanli-cli/tests/cases/seed_appr.jsonl"),
        ),
        (
            include_str!("../../../fanli-cli/tests/cases/seed_refer.toml"),
            include_str!("../../../fanli-cli/tests/cases/seed_refer.jsonl"),
        ),
        (
            include_str!("../../../fanli-cli/tests/cases/seed_queue.toml"),
            include_str!("../../../fanli-cli/tests/cases/seed_queue.jsonl"),
        ),
        (
            include_str!("../../../fanli-cli/tests/cases/seed_green.toml"),
            include_str!("../../../fanli-cli/tests/cases/seed_green.jsonl"),
        ),
        (
            include_str!("../../../fanli-cli/tests/cases/seed_dist.toml"),
            include_str!("../../../fanli-cli/tests/cases/seed_dist.jsonl"),
        ),
        // A day's close that settles the orders of 40 members at once (what the server's
        // `xtask load` makes thousands of): more than `member_history` finds by a scan.
        (include_str!("../../../../bench/plan.toml"), wide.as_str()),
    ];
    let (mut rows, mut widest) = (0, 0);
    for (plan, stream) in cases {
        let mut engine = Engine::new(parse_plan(plan).unwrap());
        engine.record(true);
        for line in stream.lines() {
            let mut slot = fanli_format::EventLine::default();
            if !matches!(apply_bytes(&mut engine, &mut slot, line.as_bytes()), LineOutcome::Accepted(_)) {
                continue;
            }
            let expected: Vec<_> = member_postings(&engine)
                .into_iter()
                .map(|(member, postings)| (member, serde_json::Value::Array(postings).to_string()))
                .collect();
            assert_eq!(member_history(&engine), expected, "{line}");
            rows += expected.len();
            widest = widest.max(expected.len());
        }
    }
    assert!(rows > 0, "some events moved members");
    // An event that moved more members than `member_history` finds by a scan (16): its map.
    assert!(widest > 16, "the widest event moved {widest} members");
}
