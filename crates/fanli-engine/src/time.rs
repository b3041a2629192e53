//! Time as an input: instants parsed from the events' RFC 3339 stamps, never read from a clock.

use std::fmt;

/// An instant, in nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Timestamp(i64);

/// A fixed offset from UTC, in seconds (the plan's `timezone`, "+08:00").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct UtcOffset(i32);

const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// One day, in nanoseconds.
pub const DAY_NANOS: i64 = 86_400 * NANOS_PER_SECOND;

impl Timestamp {
    /// The instant `nanos` nanoseconds after the Unix epoch.
    pub const fn from_unix_nanos(nanos: i64) -> Timestamp {
        Timestamp(nanos)
    }
    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }
    /// This instant plus `days` days of 86,400 seconds.
    ///
    /// Cannot overflow for the days a plan allows (at most 365 + 3650): parsed instants end in
    /// 2200 and `i64` nanoseconds reach 2262.
    pub fn plus_days(self, days: u32) -> Timestamp {
        Timestamp(self.0 + days as i64 * DAY_NANOS)
    }

    /// The years an event may carry: far enough apart for any platform, near enough that
    /// nanoseconds since 1970 and every window added to them stay inside `i64`.
    pub const YEARS: std::ops::RangeInclusive<i64> = 1900..=2200;

    /// Parses an RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with `T` or a
    /// space between date and time and at most 9 fraction digits, in the years [`Self::YEARS`].
    ///
    /// Hand-written because it sits on the hot path of every event (a general date library
    /// costs several times as much); a property test checks it against the `time` crate.
    ///
    /// The shape nearly every event is written in (`2026-03-01T08:00:00Z` or
    /// `2026-03-01T08:00:00+08:00`: a `T`, no fraction) is read at fixed positions first;
    /// anything else, and anything out of range, goes to [`Timestamp::parse_rfc3339_general`],
    /// so the two agree on every input (a differential test in `tests/it/timestamps.rs` holds
    /// them to it, on valid and invalid text alike).
    #[inline]
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        match exact(text.as_bytes()) {
            Some(at) => Some(at),
            None => Timestamp::parse_rfc3339_general(text),
        }
    }

    /// [`Timestamp::parse_rfc3339`] without its fast path: every form it takes. Public for the
    /// differential test only.
    #[doc(hidden)]
    pub fn parse_rfc3339_general(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let mut n = 0i64;
            for &c in &b[range] {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n * 10 + (c - b'0') as i64;
            }
            Some(n)
        };
        if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !Timestamp::YEARS.contains(&year)
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
        {
            return None;
        }
        // 60 would be a leap second, which Unix time cannot name: refuse it rather than guess.
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0i64;
        if b[i] == b'.' {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = i - start;
            if digits == 0 || digits > 9 {
                return None;
            }
            nanos = num(start..i)? * 10i64.pow((9 - digits) as u32);
        }
        let offset = UtcOffset::parse(std::str::from_utf8(&b[i..]).ok()?)?;
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset.0 as i64;
        Some(Timestamp(seconds * NANOS_PER_SECOND + nanos))
    }

    /// The month of this instant's local date at `offset`, as year × 12 + month − 1.
    pub fn local_month(self, offset: UtcOffset) -> i64 {
        let (year, month, _) = civil_from_days(self.local_day(offset));
        year * 12 + month - 1
    }

    /// The day number (days since 1970-01-01) of this instant's local date at `offset`.
    pub fn local_day(self, offset: UtcOffset) -> i64 {
        (self.0 + offset.0 as i64 * NANOS_PER_SECOND).div_euclid(DAY_NANOS)
    }
}

/// The common shape of an event's time, `YYYY-MM-DDTHH:MM:SS` then `Z` or `±HH:MM`, each byte
/// at its fixed position: `None` for any other shape and for any value out of range (the general
/// parser then decides, so a time is refused by one path only).
///
/// The date and the clock are checked eight bytes at a time ([`fixed`]): every digit a digit and
/// every separator in its place in a few instructions, and the values then read from the checked
/// bytes, so no step can overflow and none needs a check of its own.
#[inline]
fn exact(b: &[u8]) -> Option<Timestamp> {
    let offset = match *b {
        [.., b'Z'] if b.len() == 20 => 0,
        [.., sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] if b.len() == 25 => {
            let (h1, h2, m1, m2) = (digit(h1), digit(h2), digit(m1), digit(m2));
            if h1.max(h2).max(m1).max(m2) > 9 {
                return None;
            }
            let (hours, minutes) = (i64::from(h1) * 10 + i64::from(h2), i64::from(m1) * 10 + i64::from(m2));
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3_600 + minutes * 60;
            if sign == b'+' { seconds } else { -seconds }
        }
        _ => return None,
    };
    let word = |at: usize| -> Option<u64> { Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)) };
    // `YYYY-MM-`, `DDTHH:MM` and `HH:MM:SS` (bytes 11 to 18, overlapping the second).
    const DATE: (u64, u64) = shape(*b"0000-00-");
    const DAY_CLOCK: (u64, u64) = shape(*b"00T00:00");
    const CLOCK: (u64, u64) = shape(*b"00:00:00");
    let date = fixed(word(0)?, DATE)?;
    let clock = fixed(word(8)?, DAY_CLOCK)?;
    let seconds = fixed(word(11)?, CLOCK)?;
    // Each byte of a checked word is its digit's value (0 at a separator).
    let at = |word: u64, i: u32| i64::from((word >> (8 * i)) as u8);
    let two = |word: u64, i: u32| at(word, i) * 10 + at(word, i + 1);
    let (year, month, day) = (two(date, 0) * 100 + two(date, 2), two(date, 5), two(clock, 0));
    let (hour, minute, second) = (two(clock, 3), two(clock, 6), two(seconds, 6));
    if !Timestamp::YEARS.contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // In range: the casts are exact.
    let days = days_from_civil_unsigned(year as u32, month as u32, day as u32);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset;
    Some(Timestamp(seconds * NANOS_PER_SECOND))
}

/// A shape of eight bytes of a time for [`fixed`], where `0` stands for any digit and every
/// other byte for itself: the bytes as a word (the first in the low byte), and a mask with 0x0F
/// at each digit.
const fn shape(bytes: [u8; 8]) -> (u64, u64) {
    let mut digits = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        if bytes[i] == b'0' {
            digits[i] = 0x0F;
        }
        i += 1;
    }
    (u64::from_le_bytes(bytes), u64::from_le_bytes(digits))
}

/// Eight bytes of a time (`word`, the first in the low byte) held to a [`shape`]: the bytes'
/// digit values (a separator's byte is 0), or `None` when a byte is not what the shape wants.
#[inline(always)]
fn fixed(word: u64, (shape, digits): (u64, u64)) -> Option<u64> {
    // A byte that is what the shape wants leaves 0 at a separator and its value, 0..=9, at a
    // digit. At a digit, bytes '0' to '?' leave 0..=15: adding 6 carries into the byte's 0x10
    // from 10 up, and never out of the byte.
    let v = word ^ shape;
    if v & !digits != 0 || v.wrapping_add(digits & 0x0606_0606_0606_0606) & (digits << 4) != 0 {
        return None;
    }
    Some(v)
}

/// [`days_from_civil`] for a year from 0 on, in unsigned arithmetic (no signed division's
/// corrections): what [`exact`] needs for the years it reads.
#[inline(always)]
fn days_from_civil_unsigned(year: u32, month: u32, day: u32) -> i64 {
    let (y, mp) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let doy = (153 * mp + 2) / 5 + day - 1;
    i64::from(y * 365 + y / 4 - y / 100 + y / 400 + doy) - 719_468
}

/// A byte's value as a decimal digit: above 9 when it is not one.
#[inline(always)]
fn digit(byte: u8) -> u8 {
    byte.wrapping_sub(b'0')
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with the fraction only when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        civil(f, self.0)?;
        f.write_str("Z")
    }
}

impl Timestamp {
    /// Appends what `Display` writes (RFC 3339 in UTC) to `out`, without a formatter or a
    /// `String`: the state document writes one for every member holding loyalty points.
    pub fn write_rfc3339(self, out: &mut Vec<u8>) {
        let (text, len) = civil_text(self.0);
        out.extend_from_slice(&text[..len]);
        out.push(b'Z');
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]` of `nanos` since the epoch, without an offset.
fn civil(f: &mut fmt::Formatter<'_>, nanos: i64) -> fmt::Result {
    let (text, len) = civil_text(nanos);
    f.write_str(std::str::from_utf8(&text[..len]).expect("ASCII digits"))
}

/// [`civil`]'s text, and how many of its bytes it takes.
fn civil_text(nanos: i64) -> ([u8; 29], usize) {
    let seconds = nanos.div_euclid(NANOS_PER_SECOND);
    let fraction = nanos.rem_euclid(NANOS_PER_SECOND);
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    // Every event's time is written at least once (the log, the answers): digits by hand into
    // one buffer, not a formatter call per field. Nanoseconds in an i64 keep the year within
    // 1677..=2262: four digits.
    let mut text = *b"0000-00-00T00:00:00.000000000";
    let mut put = |at: usize, width: usize, mut value: u64| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, y as u64);
    put(5, 2, m as u64);
    put(8, 2, d as u64);
    put(11, 2, (secs / 3600) as u64);
    put(14, 2, (secs / 60 % 60) as u64);
    put(17, 2, (secs % 60) as u64);
    if fraction == 0 {
        (text, 19)
    } else {
        put(20, 9, fraction as u64);
        (text, 29)
    }
}

/// An instant shown at a UTC offset ([`Timestamp::at_offset`]).
#[derive(Clone, Copy, Debug)]
pub struct AtOffset(Timestamp, UtcOffset);

impl fmt::Display for AtOffset {
    /// RFC 3339 at the offset (`2026-03-04T00:00:00+08:00`); at UTC, as [`Timestamp`] shows it
    /// (`Z`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AtOffset(at, offset) = *self;
        if offset == UtcOffset::UTC {
            return at.fmt(f);
        }
        civil(f, at.0.saturating_add(offset.0 as i64 * NANOS_PER_SECOND))?;
        offset.fmt(f)
    }
}

impl Timestamp {
    /// This instant shown at `offset`: what people who wrote their times at that offset read
    /// (an error about an event stamped `+08:00` names times at `+08:00`, not in UTC).
    pub fn at_offset(self, offset: UtcOffset) -> AtOffset {
        AtOffset(self, offset)
    }
}

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);
    /// China Standard Time, the default for plans that name no timezone.
    pub const CHINA: UtcOffset = UtcOffset(8 * 3600);

    /// Parses `Z` or `±HH:MM` (hours up to 23).
    pub fn parse(text: &str) -> Option<UtcOffset> {
        if text == "Z" || text == "z" {
            return Some(UtcOffset::UTC);
        }
        let b = text.as_bytes();
        if b.len() != 6 || b[3] != b':' {
            return None;
        }
        let sign = match b[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits = [b[1], b[2], b[4], b[5]];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let hours = ((b[1] - b'0') * 10 + (b[2] - b'0')) as i32;
        let minutes = ((b[4] - b'0') * 10 + (b[5] - b'0')) as i32;
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(UtcOffset(sign * (hours * 3600 + minutes * 60)))
    }

    /// The offset an RFC 3339 time is written at (`Z`, or its last 6 characters `±HH:MM`);
    /// `None` when it ends in neither.
    pub fn of_rfc3339(text: &str) -> Option<UtcOffset> {
        // Read as bytes: a last byte `Z` is a last character `Z`, and six last bytes that are
        // not six ASCII characters are no offset `parse` takes (its sign, digits and colon are
        // ASCII) whether or not they start a character. Every event's line asks this.
        let b = text.as_bytes();
        match *b {
            [.., b'Z' | b'z'] => Some(UtcOffset::UTC),
            [.., sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (h1, h2, m1, m2) = (digit(h1), digit(h2), digit(m1), digit(m2));
                if h1.max(h2).max(m1).max(m2) > 9 {
                    return None;
                }
                let (hours, minutes) =
                    (i32::from(h1) * 10 + i32::from(h2), i32::from(m1) * 10 + i32::from(m2));
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let seconds = hours * 3600 + minutes * 60;
                Some(UtcOffset(if sign == b'+' { seconds } else { -seconds }))
            }
            _ => None,
        }
    }

    /// Seconds east of UTC.
    pub const fn seconds(self) -> i32 {
        self.0
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let abs = self.0.abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60)
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (what the simulator and the stream generator
/// stamp their days with).
pub fn date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_writes_what_the_formatter_would() {
        let reference = |t: Timestamp| {
            let seconds = t.0.div_euclid(NANOS_PER_SECOND);
            let nanos = t.0.rem_euclid(NANOS_PER_SECOND);
            let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            let fraction = if nanos == 0 { String::new() } else { format!(".{nanos:09}") };
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{fraction}Z",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )
        };
        let day = 86_400 * NANOS_PER_SECOND;
        // From the earliest instant an i64 holds (1677) to the latest (2262).
        let mut at = i64::MIN + NANOS_PER_SECOND;
        while at < i64::MAX - 2 * day {
            for extra in [0, 1, 999_999_999, 86_399 * NANOS_PER_SECOND + 500_000_000] {
                let t = Timestamp(at + extra);
                assert_eq!(t.to_string(), reference(t));
                let mut bytes = b"x".to_vec();
                t.write_rfc3339(&mut bytes);
                assert_eq!(bytes, format!("x{}", reference(t)).into_bytes());
            }
            at += 7 * day + 3_661 * NANOS_PER_SECOND;
        }
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1).to_string(), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(Timestamp(i64::MIN).to_string(), "1677-09-21T00:12:43.145224192Z");
        assert_eq!(Timestamp(i64::MAX).to_string(), "2262-04-11T23:47:16.854775807Z");
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let t = Timestamp::parse_rfc3339("2026-01-01T09:00:00+08:00").unwrap();
        assert_eq!(t.to_string(), "2026-01-01T01:00:00Z");
        assert_eq!(t, Timestamp::parse_rfc3339("2026-01-01T01:00:00Z").unwrap());
        let t = Timestamp::parse_rfc3339("2024-02-29T23:59:59.5-05:30").unwrap();
        assert_eq!(t.to_string(), "2024-03-01T05:29:59.500000000Z");
        assert_eq!(Timestamp::parse_rfc3339("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00+8:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-01-01",
            "yesterday",
            "2026-01-01T00:00:00+08:00 ",
            // Found by fuzzing: years beyond i64 nanoseconds overflowed instead of being refused.
            "1000-01-01T00:00:00Z",
            "2262-04-11T23:47:16.999999999Z",
            "1899-12-31T23:59:59Z",
            "2201-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn instants_show_at_the_offset_they_were_written_at() {
        let at = Timestamp::parse_rfc3339("2026-03-04T08:30:00.5+08:00").unwrap();
        assert_eq!(at.to_string(), "2026-03-04T00:30:00.500000000Z");
        let china = UtcOffset::of_rfc3339("2026-03-04T08:30:00.5+08:00").unwrap();
        assert_eq!(at.at_offset(china).to_string(), "2026-03-04T08:30:00.500000000+08:00");
        let west = UtcOffset::of_rfc3339("2026-03-03T21:00:00-03:30").unwrap();
        assert_eq!(at.at_offset(west).to_string(), "2026-03-03T21:00:00.500000000-03:30");
        assert_eq!(at.at_offset(UtcOffset::UTC).to_string(), at.to_string());
        assert_eq!(UtcOffset::of_rfc3339("2026-03-04T00:00:00z"), Some(UtcOffset::UTC));
        assert_eq!(UtcOffset::of_rfc3339("+08"), None);
    }

    #[test]
    fn the_unsigned_day_count_is_days_from_civil() {
        for year in 1..=2400 {
            for month in 1..=12 {
                for day in [1, 15, 28, days_in_month(year, month)] {
                    assert_eq!(
                        days_from_civil_unsigned(year as u32, month as u32, day as u32),
                        days_from_civil(year, month, day),
                        "{year}-{month}-{day}"
                    );
                }
            }
        }
    }

    /// `fixed` takes a word exactly when each of its bytes is a digit where the shape has `0`
    /// and the shape's own byte elsewhere, and then gives each digit's value: every byte value
    /// at every position, in every shape `exact` uses.
    #[test]
    fn fixed_checks_every_byte() {
        for pattern in [*b"0000-00-", *b"00T00:00", *b"00:00:00"] {
            let good = pattern;
            for at in 0..8 {
                for value in 0..=255u8 {
                    let mut bytes = good;
                    for (i, b) in bytes.iter_mut().enumerate() {
                        if pattern[i] == b'0' {
                            *b = b'0' + (i as u8 * 3 + 1) % 10;
                        }
                    }
                    bytes[at] = value;
                    let expected = bytes
                        .iter()
                        .zip(pattern)
                        .all(|(&b, p)| if p == b'0' { b.is_ascii_digit() } else { b == p });
                    let got = fixed(u64::from_le_bytes(bytes), shape(pattern));
                    assert_eq!(got.is_some(), expected, "{bytes:?} against {pattern:?}");
                    if let Some(word) = got {
                        for (i, (&b, p)) in bytes.iter().zip(pattern).enumerate() {
                            let want = if p == b'0' { b - b'0' } else { 0 };
                            assert_eq!((word >> (8 * i)) as u8, want);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn offsets_of_times_read_as_parse_reads_them() {
        let reference = |text: &str| {
            if text.ends_with(['Z', 'z']) {
                return Some(UtcOffset::UTC);
            }
            UtcOffset::parse(text.get(text.len().checked_sub(6)?..)?)
        };
        let mut texts = vec![String::new(), "Z".into(), "z".into(), "+08:00".into(), "é8:00".into()];
        for base in ["2026-01-01T09:00:00+08:00", "2026-01-01T09:00:00-23:59", "2026-01-01T09:00:00Z"] {
            texts.push(base.into());
            for at in 0..base.len() {
                for with in ['0', '9', ':', '+', '-', 'Z', 'z', 'é', '\u{10FFFF}', 'a', '/', ';'] {
                    let mut text = base.to_owned();
                    text.replace_range(at..at + 1, &with.to_string());
                    texts.push(text.clone());
                    text = base.to_owned();
                    text.remove(at);
                    texts.push(text);
                }
            }
        }
        for hours in 0..=30 {
            for minutes in [0, 30, 59, 60, 99] {
                texts.push(format!("x+{hours:02}:{minutes:02}"));
                texts.push(format!("x-{hours:02}:{minutes:02}"));
            }
        }
        for text in &texts {
            assert_eq!(UtcOffset::of_rfc3339(text), reference(text), "{text:?}");
        }
    }

    #[test]
    fn local_days_follow_the_offset() {
        let t = Timestamp::parse_rfc3339("2026-01-01T23:30:00+08:00").unwrap();
        let next = Timestamp::parse_rfc3339("2026-01-02T00:30:00+08:00").unwrap();
        assert_eq!(t.local_day(UtcOffset::CHINA) + 1, next.local_day(UtcOffset::CHINA));
        assert_eq!(t.local_day(UtcOffset::UTC), next.local_day(UtcOffset::UTC));
        for days in [-800_000, -1, 0, 1, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
