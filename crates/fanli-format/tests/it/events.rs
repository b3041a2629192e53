//! Event lines: what each type takes, and how amounts and times are read.

use fanli_engine::{EventKind, Money, Points, SellAmount, Timestamp};
use fanli_format::EventLine;

fn kind(line: &str) -> Result<String, String> {
    let raw = EventLine::parse(line.as_bytes()).map_err(|e| e.message)?;
    let event = raw.event().map_err(|e| e.message)?;
    Ok(format!("{:?}", event.kind))
}

#[test]
fn amounts_are_exact_strings_or_whole_numbers() {
    let line =
        r#"{"at":"2026-01-01T09:00:00Z","type":"order","order":"o","member":"A","amount":1000,"profit":"0"}"#;
    let raw = EventLine::parse(line.as_bytes()).unwrap();
    let EventKind::Order(order) = raw.event().unwrap().kind else { panic!() };
    assert_eq!(order.amount, Money::from_yuan(1000));
    assert_eq!(order.profit, Some(Money::ZERO));
    assert_eq!(order.credit, Money::ZERO);
    let line =
        r#"{"at":"2026-01-01T09:00:00Z","type":"sell","member":"A","mechanism":"appr","points":"0.0001"}"#;
    let raw = EventLine::parse(line.as_bytes()).unwrap();
    let EventKind::Sell { points, .. } = raw.event().unwrap().kind else { panic!() };
    assert_eq!(points, SellAmount::Points(Points::from_units(1)));
}

#[test]
fn escaped_strings_are_read_whole() {
    let line = r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"\u4f1a\u5458\"1\""}"#;
    assert_eq!(
        kind(line).unwrap(),
        r#"Join { member: "会员\"1\"", referrer: None, phone: None, device: None, ip: None }"#
    );
}

#[test]
fn nulls_are_absent_fields() {
    let line = r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"A","referrer":null}"#;
    assert!(kind(line).unwrap().contains("referrer: None"));
}

#[test]
fn times_keep_their_instant_whatever_the_offset() {
    let a = EventLine::parse(br#"{"at":"2026-01-01T09:00:00+08:00","type":"close_day"}"#).unwrap();
    let b = EventLine::parse(br#"{"at":"2026-01-01T01:00:00Z","type":"close_day"}"#).unwrap();
    assert_eq!(a.event().unwrap().at, b.event().unwrap().at);
    assert_eq!(a.event().unwrap().at, Timestamp::parse_rfc3339("2026-01-01T01:00:00Z").unwrap());
}

#[test]
fn mistakes_name_the_field() {
    let at = r#""at":"2026-01-01T09:00:00+08:00""#;
    let cases = [
        (
            format!("{{{at},\"type\":\"sell\",\"member\":\"A\",\"mechanism\":\"m\",\"points\":\"0\"}}"),
            "`points` must be positive, not zero (or \"all\")",
        ),
        (
            format!("{{{at},\"type\":\"withdraw\",\"member\":\"A\",\"amount\":-3}}"),
            "`amount` \"-3\" is negative",
        ),
        (
            format!("{{{at},\"type\":\"topup\",\"member\":\"A\",\"amount\":\"1e3\"}}"),
            "`amount` \"1e3\" is not a decimal number",
        ),
        (
            format!("{{{at},\"type\":\"inject\",\"mechanism\":\"m\",\"amount\":\"10000000000.01\"}}"),
            "`amount` \"10000000000.01\" is too large",
        ),
        (
            format!(
                "{{{at},\"type\":\"order\",\"order\":\"o\",\"member\":\"A\",\"amount\":\"1\",\"amount\":\"2\"}}"
            ),
            "duplicate field `amount`",
        ),
        (format!("{{{at},\"member\":\"A\"}}"), "missing field `type`"),
        ("{\"type\":\"close_day\"}".to_owned(), "missing field `at`"),
        (format!("{{{at},\"type\":\"refund\",\"order\":7}}"), "invalid type: integer `7`, expected a string"),
        ("[1,2]".to_owned(), "malformed JSON: an event is a JSON object"),
    ];
    for (line, want) in cases {
        let got = kind(&line).unwrap_err();
        assert!(got.starts_with(want), "{line}\n got: {got}\nwant: {want}");
    }
}

#[test]
fn bytes_that_are_not_utf8_are_refused() {
    let inside = b"{\"at\":\"2026-01-01T09:00:00Z\",\"type\":\"join\",\"member\":\"\xff\"}";
    let e = EventLine::parse(inside).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        ("malformed_json", "malformed JSON: the line is not UTF-8 (byte 54)")
    );
    let outside = b"{\"at\":\"2026-01-01T09:00:00Z\",\xff}";
    assert!(EventLine::parse(outside).unwrap_err().message.starts_with("malformed JSON"));
}
