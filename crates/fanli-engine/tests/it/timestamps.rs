//! The hand-written RFC 3339 parser agrees with the `time` crate on every instant it accepts,
//! and refuses what `time` refuses (within the forms fanli reads).

use fanli_engine::Timestamp;
use proptest::prelude::*;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn reference(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339).ok().map(|t| t.unix_timestamp_nanos() as i64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_the_time_crate(
        year in 1850i32..2300,
        month in 1u8..=13,
        day in 1u8..=32,
        hour in 0u8..=24,
        minute in 0u8..=60,
        second in 0u8..=59,
        fraction in prop::option::of("[0-9]{1,9}"),
        offset in prop::option::of((any::<bool>(), 0u8..=23, 0u8..=59)),
    ) {
        let fraction = fraction.map_or(String::new(), |digits| format!(".{digits}"));
        let offset = match offset {
            None => "Z".to_owned(),
            Some((east, h, m)) => format!("{}{h:02}:{m:02}", if east { '+' } else { '-' }),
        };
        let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{offset}");
        let ours = Timestamp::parse_rfc3339(&text).map(Timestamp::unix_nanos);
        if Timestamp::YEARS.contains(&(year as i64)) {
            prop_assert_eq!(ours, reference(&text), "{}", text);
        } else {
            prop_assert_eq!(ours, None, "{} is outside the years fanli reads", text);
        }
    }
}

/// Times near the fast path's shape (`YYYY-MM-DDTHH:MM:SS` then `Z` or `±HH:MM`): every field
/// in and out of range, and the forms only the general parser takes (`t`, a space, `z`, a
/// fraction).
fn near_shape() -> impl Strategy<Value = String> {
    let sep = prop::sample::select(vec!["T", "T", "T", "t", " ", "x"]);
    let fraction =
        prop::option::weighted(0.2, "[0-9]{0,10}").prop_map(|f| f.map_or(String::new(), |d| format!(".{d}")));
    let offset = prop::sample::select(vec![
        "Z", "Z", "z", "+08:00", "-05:30", "+23:59", "+24:00", "-00:00", "+08:60", "+8:00", "+08-00", "",
    ]);
    (1890u32..2210, 0u32..=13, 0u32..=32, 0u32..=24, 0u32..=60, 0u32..=60, sep, fraction, offset).prop_map(
        |(y, mo, d, h, mi, s, sep, fraction, offset)| {
            format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{fraction}{offset}")
        },
    )
}

/// `text` with one edit at `at` (a byte index, made a char boundary): a character replaced,
/// inserted or removed.
fn mutate(text: &str, at: usize, edit: u8, with: char) -> String {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let (head, tail) = text.split_at(at);
    let mut tail = tail.chars();
    match edit % 3 {
        0 => {
            tail.next();
            format!("{head}{with}{}", tail.as_str())
        }
        1 => format!("{head}{with}{}", tail.as_str()),
        _ => {
            tail.next();
            format!("{head}{}", tail.as_str())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// The fast path and the general parser read every text alike: the same instant, or both
    /// refuse it.
    #[test]
    fn the_fast_path_agrees_with_the_general_parser(
        text in near_shape(),
        edits in prop::collection::vec(
            (any::<usize>(), any::<u8>(), prop::sample::select(vec!['0', '9', '/', ':', '-', '+', 'Z', 'T', '.', ' ', 'é', '٣', '\0'])),
            0..3,
        ),
    ) {
        let text = edits.iter().fold(text, |text, &(at, edit, with)| mutate(&text, at, edit, with));
        prop_assert_eq!(Timestamp::parse_rfc3339(&text), Timestamp::parse_rfc3339_general(&text), "{:?}", text);
    }
}

/// Every byte of the fast path's two shapes replaced by every ASCII character and a few others:
/// both parsers read each result alike.
#[test]
fn the_fast_path_agrees_on_every_one_character_change() {
    for base in [
        "2026-03-01T08:00:00Z",
        "2024-02-29T23:59:59+08:00",
        "1900-01-01T00:00:00-23:59",
        "2200-12-31T23:59:59Z",
    ] {
        assert!(Timestamp::parse_rfc3339_general(base).is_some(), "{base}");
        assert_eq!(Timestamp::parse_rfc3339(base), Timestamp::parse_rfc3339_general(base));
        let others = (0u8..0x80).map(char::from).chain(['é', '٣', '０']);
        for with in others {
            for at in 0..base.len() {
                for edit in 0..3 {
                    let text = mutate(base, at, edit, with);
                    assert_eq!(
                        Timestamp::parse_rfc3339(&text),
                        Timestamp::parse_rfc3339_general(&text),
                        "{text:?}"
                    );
                }
            }
        }
    }
}
