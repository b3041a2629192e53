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

/// What the server did with a request body before `read_object`: the object written as a line,
/// `type` set (in its place, or last) and a missing `at` added last, and that line read.
fn written_and_read(
    object: &serde_json::Map<String, serde_json::Value>,
    kind: Option<&str>,
    at: Option<&str>,
) -> Result<String, fanli_format::EventError> {
    let mut object = object.clone();
    if let Some(kind) = kind {
        object.insert("type".to_owned(), kind.into());
    }
    if let Some(at) = at
        && !object.contains_key("at")
    {
        object.insert("at".to_owned(), at.into());
    }
    let line = serde_json::to_vec(&object).unwrap();
    let read = EventLine::parse(&line)?;
    read.event().map(|event| format!("{event:?}"))
}

#[test]
fn an_object_read_in_place_reads_as_the_line_it_would_be_written_as() {
    let bodies = [
        r#"{"member":"A"}"#,
        r#"{"member":"A","referrer":"B","phone":"138","device":"d","ip":"1.2.3.4"}"#,
        r#"{"member":"A","referrer":null}"#,
        r#"{"member":"\u4f1a\u5458\"1\"","at":"2026-01-01T09:00:00+08:00"}"#,
        r#"{"member":"A","at":null}"#,
        r#"{"member":"A","at":"yesterday"}"#,
        r#"{"member":"A","at":5}"#,
        r#"{"type":"order","member":"A"}"#,
        r#"{"type":5,"member":"A"}"#,
        r#"{"type":{"x":[1,2]},"membr":"A"}"#,
        r#"{"type":null,"member":"A"}"#,
        r#"{ "membr" : "A" }"#,
        r#"{"member":"A","zzz":1}"#,
        r#"{"member":5}"#,
        r#"{"member":5.0}"#,
        r#"{"member":-0}"#,
        r#"{"member":["A"]}"#,
        r#"{"member":{"id":"A"}}"#,
        r#"{"member":true}"#,
        r#"{}"#,
        r#"{"order":"o","member":"A","amount":"12.50"}"#,
        r#"{"order":"o","member":"A","amount":1000,"profit":"0","credit":0}"#,
        r#"{"order":"o","member":"A","amount":12.5}"#,
        r#"{"order":"o","member":"A","amount":1e2}"#,
        r#"{"order":"o","member":"A","amount":-3}"#,
        r#"{"order":"o","member":"A","amount":-0}"#,
        r#"{"order":"o","member":"A","amount":18446744073709551615}"#,
        r#"{"order":"o","member":"A","amount":99999999999999999999999}"#,
        r#"{"order":"o","member":"A","amount":"0"}"#,
        r#"{"order":"o","member":"A","amount":"1.001"}"#,
        r#"{"order":"o","member":"A","amount":"abc","store":"s","partner":"p"}"#,
        r#"{"order":"o","member":"A","amount":"1","points":"1"}"#,
        r#"{"order":"o","amount":"1"}"#,
        r#"{"store":"s","region":["广东","深圳"],"recruiter":"A"}"#,
        r#"{"store":"s","region":["广东",1]}"#,
        r#"{"store":"s","region":"广东"}"#,
        r#"{"member":"A","level":"city","region":["广东","深圳"]}"#,
        r#"{"member":"A","mechanism":"m","points":"all"}"#,
        r#"{"member":"A","mechanism":"m","points":"0"}"#,
        r#"{"member":"A","mechanism":"m","points":3}"#,
        r#"{"member":"A","mechanism":"m","reward":"r"}"#,
        r#"{"member":"A","decision":"approve"}"#,
        r#"{"member":"A","decision":"maybe"}"#,
        r#"{"member":"A","decision":1}"#,
        r#"{"order":"o"}"#,
        r#"{"mechanism":"m","amount":"5"}"#,
        r#"{"prev":"abc","member":"A"}"#,
        r#"{"prev":1,"member":"A"}"#,
    ];
    let kinds = [
        None,
        Some("join"),
        Some("order"),
        Some("store"),
        Some("agent"),
        Some("sell"),
        Some("redeem"),
        Some("review"),
        Some("refund"),
        Some("inject"),
        Some("nonsense"),
    ];
    let mut compared = 0;
    for body in bodies {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).unwrap();
        for kind in kinds {
            for at in [None, Some("2026-02-01T10:00:00.123456789Z")] {
                let expected = written_and_read(&object, kind, at);
                let mut line = EventLine::default();
                let got =
                    line.read_object(&object, kind, at).and_then(|()| line.event().map(|e| format!("{e:?}")));
                assert_eq!(got, expected, "{body} as {kind:?} at {at:?}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, bodies.len() * kinds.len() * 2);
    // And the line kept no trace of an earlier read.
    let object = serde_json::from_str(r#"{"member":"A"}"#).unwrap();
    let mut line =
        EventLine::parse(br#"{"at":"2026-01-01T09:00:00Z","type":"join","member":"B","phone":"1"}"#).unwrap();
    line.read_object(&object, Some("join"), Some("2026-01-01T09:00:00Z")).unwrap();
    assert!(
        format!("{:?}", line.event().unwrap().kind).contains("member: \"A\", referrer: None, phone: None")
    );
}
