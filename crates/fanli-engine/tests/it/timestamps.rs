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
