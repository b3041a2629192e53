//! The scanner against serde_json: every line, well formed or not, reads to the same
//! [`EventLine`] and the same event (or the same error) whichever path reads it, and the lines
//! the scanner gives up on are the ones serde must judge.

use proptest::prelude::*;

use super::{EventLine, scan};

/// Reads `line` by the scanner, by the public `read` and by serde alone, and asserts they agree
/// (the line, the event or the error); whether the scanner took it.
fn check(line: &[u8]) -> bool {
    let shown = String::from_utf8_lossy(line);
    let mut fast = EventLine::default();
    let took = scan::scan(line, &mut fast).is_some();
    let mut public = EventLine::default();
    let public_read = public.read(line);
    let mut slow = EventLine::default();
    let slow_read = slow.read_serde(line);
    if took {
        // What the scanner filled is what serde fills.
        assert_eq!(slow_read, Ok(()), "{shown}");
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{shown}");
    }
    assert_eq!(public_read, slow_read, "{shown}");
    assert_eq!(format!("{public:?}"), format!("{slow:?}"), "{shown}");
    if slow_read.is_ok() {
        assert_eq!(format!("{:?}", public.event()), format!("{:?}", slow.event()), "{shown}");
    }
    took
}

const AT: &str = "2026-03-01T09:00:00+08:00";

/// Lines the scanner must take (the generator's shapes), and what they read to.
#[test]
fn the_scanner_takes_the_common_shapes() {
    let lines = [
        format!(r#"{{"at":"{AT}","type":"join","member":"M1","referrer":"M0"}}"#),
        format!(r#"{{"at":"{AT}","type":"order","order":"o1","member":"M1","amount":"12.50","profit":"3"}}"#),
        format!(r#"{{"at":"{AT}","type":"order","order":"o1","member":"M1","amount":1250,"credit":0}}"#),
        format!(r#"{{ "at" : "{AT}" , "type" : "sell", "member":"张三","mechanism":"m","points":"all" }}"#),
        format!(r#"{{"at":"{AT}","type":"store","store":"s","region":["华东","上海"],"recruiter":"M"}}"#),
        format!(r#"{{"at":"{AT}","type":"agent","member":"M","level":"city","region":[ ]}}"#),
        format!("{{\"at\":\"{AT}\",\t\"type\":\"close_day\"}}\r"),
        format!(r#"{{"type":"refund","order":"o1","at":"{AT}","prev":"abc"}}"#),
        "{}".to_owned(),
        r#"{"type":"nope"}"#.to_owned(),
        r#"{"type":"order","amount":"-1","at":"yesterday"}"#.to_owned(),
        r#"{"type":"order","order":"o","member":"m","amount":999999999999999999,"at":"2026-01-01T00:00:00Z"}"#
            .to_owned(),
    ];
    for line in lines {
        assert!(check(line.as_bytes()), "the scanner gave up on {line}");
    }
}

/// Lines the scanner must leave to serde, each with serde's verdict unchanged.
#[test]
fn the_scanner_leaves_what_it_is_not_sure_of() {
    let lines: &[&[u8]] = &[
        br#"{"at":null,"at":"2026-01-01T00:00:00Z","type":"close_day"}"#,
        br#"{"member":"A","member":"B"}"#,
        br#"{"member":"\u4f1a"}"#,
        br#"{"member":"a\"b"}"#,
        br#"{"membr":"A"}"#,
        br#"{"amount":-0}"#,
        br#"{"amount":-5}"#,
        br#"{"amount":01}"#,
        br#"{"amount":1.5}"#,
        br#"{"amount":1e3}"#,
        br#"{"amount":1E3}"#,
        br#"{"amount":1234567890123456789}"#,
        br#"{"amount":18446744073709551616}"#,
        br#"{"amount":99999999999999999999999999999999999999999}"#,
        br#"{"amount":true}"#,
        br#"{"member":1}"#,
        br#"{"member":{"a":1}}"#,
        br#"{"region":"x"}"#,
        br#"{"region":["a",1]}"#,
        br#"{"region":["a",]}"#,
        br#"{"region":[null]}"#,
        br#"{"member":"A",}"#,
        br#"{"member":"A"}x"#,
        br#"{"member":"A"}}"#,
        br#"{"member":"A""#,
        br#"{"member":"A"#,
        b"\x0c{\"member\":\"A\"}",
        b"{\"member\":\"A\"}\x0c",
        b"{\"member\":\"A\x01\"}",
        b"{\"member\":\"\xff\"}",
        b"{\"member\":\"\xe4\xbc\"}",
        b"\xef\xbb\xbf{\"member\":\"A\"}",
        b"[1,2]",
        b"",
        b"   ",
        b"{",
        b"{\"",
        b"{\"member\"",
        b"{\"member\":",
        b"{\"member\" \"A\"}",
        b"{'member':'A'}",
        b"{\"amount\":}",
        b"{\"amount\":0",
    ];
    for line in lines {
        check(line);
    }
}

/// A value for `key` in a well-formed line: what the generator writes.
fn value(key: &'static str) -> BoxedStrategy<String> {
    let names =
        prop::sample::select(vec!["M1", "member-000123", "张三", "13800138000", "a b", "", "é", "🙂"]);
    match key {
        "type" => prop::sample::select(vec![
            "join",
            "store",
            "agent",
            "order",
            "refund",
            "sell",
            "withdraw",
            "topup",
            "redeem",
            "inject",
            "advertiser_fund",
            "ad_view",
            "close_day",
            "review",
            "withdrawal_review",
            "vote",
            "tally",
            "Join",
        ])
        .prop_map(|t| format!("\"{t}\""))
        .boxed(),
        "at" | "effective_at" => prop::sample::select(vec![
            "2026-03-01T09:00:00+08:00",
            "2026-03-01T01:00:00Z",
            "2026-03-01T01:00:00.5Z",
            "2026-02-30T01:00:00Z",
            "yesterday",
        ])
        .prop_map(|t| format!("\"{t}\""))
        .boxed(),
        "amount" | "profit" | "credit" | "points" => prop_oneof![
            prop::sample::select(vec!["12.50", "0", "0.01", "1.234", "1.23456", "all", "-1", "1e3", ""])
                .prop_map(|t| format!("\"{t}\"")),
            (0u64..2_000_000_000_000u64).prop_map(|n| n.to_string()),
            prop::sample::select(vec!["0", "1", "100000000000000", "999999999999999999"])
                .prop_map(str::to_owned),
        ]
        .boxed(),
        "region" => prop::collection::vec(names, 0..3)
            .prop_map(|parts| {
                let parts: Vec<String> = parts.iter().map(|p| format!("\"{p}\"")).collect();
                format!("[{}]", parts.join(","))
            })
            .boxed(),
        "decision" => prop::sample::select(vec!["approve", "reject", "yes", "no", "maybe"])
            .prop_map(|t| format!("\"{t}\""))
            .boxed(),
        _ => names.prop_map(|t| format!("\"{t}\"")).boxed(),
    }
}

/// A well-formed line (keys drawn from the reader's own [`super::FIELDS`], so a new field is
/// generated too, in any order, maybe repeated), with
/// whitespace drawn from JSON's and a few bytes that are not.
fn line() -> impl Strategy<Value = Vec<u8>> {
    let field =
        prop::sample::select(super::FIELDS).prop_flat_map(|key| value(key).prop_map(move |v| (key, v)));
    // JSON's whitespace mostly; now and then a byte that is whitespace to Rust, not to JSON.
    let ws = prop_oneof![
        30 => prop::sample::select(vec!["", "", "", "", " ", "\t", "\r", "\n"]),
        1 => prop::sample::select(vec!["\x0c", "\u{a0}"]),
    ];
    (prop::collection::vec((field, ws.clone(), ws.clone()), 0..8), ws.clone(), ws).prop_map(
        |(fields, lead, tail)| {
            let fields: Vec<String> = fields
                .into_iter()
                .map(|((key, value), a, b)| format!("{a}\"{key}\"{b}:{a}{value}{b}"))
                .collect();
            format!("{lead}{{{}}}{tail}", fields.join(",")).into_bytes()
        },
    )
}

/// A change to a line: a byte dropped, put in, or replaced, a piece of it doubled, or it cut.
#[derive(Clone, Debug)]
enum Mutation {
    Drop(usize),
    Insert(usize, &'static [u8]),
    Replace(usize, u8),
    Double(usize, usize),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let bits: Vec<&'static [u8]> = vec![
        b"\"",
        b"\\",
        b"\\n",
        b"\\u0041",
        b"\\\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b" ",
        b"0",
        b"-",
        b".",
        b"e",
        b"\x00",
        b"\x1f",
        b"\xff",
        b"\xc3",
        b"\xe5\xbc\xa0",
        b"null",
        b"true",
        b"1",
        b"\x0c",
        b"\t",
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Drop),
        (any::<usize>(), prop::sample::select(bits)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Double(i, n)),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn mutate(mut line: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = line.len().max(1);
        match *m {
            Mutation::Drop(i) if !line.is_empty() => {
                line.remove(i % line.len());
            }
            Mutation::Insert(i, bytes) => {
                let i = i % (line.len() + 1);
                line.splice(i..i, bytes.iter().copied());
            }
            Mutation::Replace(i, b) if !line.is_empty() => line[i % len] = b,
            Mutation::Double(i, n) if !line.is_empty() => {
                let i = i % line.len();
                let piece = line[i..(i + n).min(line.len())].to_vec();
                line.splice(i..i, piece);
            }
            Mutation::Cut(i) => line.truncate(i % (line.len() + 1)),
            _ => {}
        }
    }
    line
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn well_formed_lines_read_alike(line in line()) {
        check(&line);
    }

    #[test]
    fn mutated_lines_read_alike(line in line(), mutations in prop::collection::vec(mutation(), 1..4)) {
        check(&mutate(line, &mutations));
    }
}

/// The generator's lines are mostly ones the scanner takes (else the proptests would hold serde
/// to itself).
#[test]
fn the_scanner_takes_most_generated_lines() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = line();
    let taken = (0..2000).filter(|_| check(&strategy.new_tree(&mut runner).unwrap().current())).count();
    assert!(taken > 600, "{taken} of 2000 generated lines taken");
}

/// The seed cases' streams, line by line, and the scanner takes nearly all of them.
#[test]
fn the_seed_cases_read_alike() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fanli-cli/tests/cases");
    let (mut lines, mut taken) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            for line in std::fs::read(&path).unwrap().split(|&b| b == b'\n') {
                lines += 1;
                taken += usize::from(check(line));
            }
        }
    }
    assert!(lines > 100 && taken * 10 > lines * 8, "{taken} of {lines} lines taken");
}

/// The scanner matches keys where they lie: every field's key is taken, with its value in its
/// own slot, and every near miss (a key cut short, run on, in another case, with a letter
/// changed or written with an escape) is left to serde, whose verdict stands.
#[test]
fn the_scanner_matches_every_key_and_no_near_miss() {
    for &key in super::FIELDS {
        let value = match key {
            "region" => r#"["a","b"]"#,
            "amount" | "profit" | "credit" | "points" => r#""12.50""#,
            _ => r#""v""#,
        };
        let line = format!(r#"{{"{key}":{value}}}"#);
        assert!(check(line.as_bytes()), "the scanner gave up on {line}");
        // Beside another key, either side of it.
        for line in [format!(r#"{{"prev":"p", "{key}" : {value}}}"#), format!(r#"{{"{key}":{value},"x":1}}"#)]
        {
            check(line.as_bytes());
        }
        let escaped = format!("\\u{:04x}{}", key.as_bytes()[0], &key[1..]);
        let mut misses = vec![
            key[..key.len() - 1].to_owned(),
            format!("{key}s"),
            format!("{key}\\\""),
            format!("{key} "),
            format!(" {key}"),
            key.to_uppercase(),
            escaped,
        ];
        for at in 0..key.len() {
            let mut changed = key.as_bytes().to_vec();
            changed[at] = if changed[at] == b'z' { b'a' } else { changed[at] + 1 };
            misses.push(String::from_utf8(changed).unwrap());
        }
        for miss in misses {
            let line = format!(r#"{{"{miss}":{value}}}"#);
            if miss != key {
                assert!(!check(line.as_bytes()), "the scanner took {line}");
            }
        }
    }
}
