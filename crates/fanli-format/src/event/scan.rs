//! The fast path of [`EventLine::read`]: a scanner for the flat objects event lines are, that
//! fills the same [`EventLine`] serde would and allocates nothing (but a `region`'s list, as
//! serde does).
//!
//! It reads only what it is sure of: an object of known keys, each at most once, whose values
//! are strings without escapes, whole numbers written plainly (for the amounts) or a list of such
//! strings (for `region`), with JSON's own whitespace between. At anything else (an escape, a
//! `null`, an unknown or repeated key, a number with a sign, a fraction, an exponent or a leading
//! zero, nesting, a control character, bytes that are not UTF-8, text after the object) it gives
//! up, and the line is read again by serde_json, which accepts it or says what is wrong with it
//! exactly as it always has. So every line reads to the same [`EventLine`], or the same error,
//! whichever path reads it: the differential tests (`event/tests.rs`) hold the two to that.

use std::borrow::Cow;

use super::{Decimal, EventLine, Str};

/// Fills `e` (all absent on entry) from `line`; `None` when the line is not one the scanner is
/// sure of, and `e` is then half filled (the caller clears it and asks serde).
pub(super) fn scan<'a>(line: &'a [u8], e: &mut EventLine<'a>) -> Option<()> {
    // serde_json reads the line as text checked whole first (see `EventLine::read`); so does this,
    // and every string below is then a slice of it between two ASCII quotes.
    let text = std::str::from_utf8(line).ok()?;
    let mut s = Scanner { text, b: line, i: 0 };
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            s.eat(b'"')?;
            // The key is matched where it lies, with its closing quote, by its first byte and
            // then whole: a key that is none of these (unknown, or written with an escape) is
            // serde's to read, as it always was.
            macro_rules! keys {
                ($($first:literal => [$($key:literal => $slot:ident . $read:ident),+ $(,)?]),+ $(,)?) => {
                    match s.peek()? {
                        $($($first if s.key(concat!($key, "\"").as_bytes()) => {
                            s.colon()?;
                            put(&mut e.$slot, s.$read())?
                        })+)+
                        _ => return None,
                    }
                };
            }
            keys! {
                b'a' => ["at" => at.str, "amount" => amount.decimal],
                b't' => ["type" => kind.str],
                b'm' => ["member" => member.str, "mechanism" => mechanism.str],
                b'o' => ["order" => order.str],
                b's' => ["store" => store.str],
                b'r' => ["referrer" => referrer.str, "region" => region.region, "recruiter" => recruiter.str, "reward" => reward.str],
                b'p' => [
                    "points" => points.decimal,
                    "profit" => profit.decimal,
                    "partner" => partner.str,
                    "phone" => phone.str,
                    "prev" => prev.str,
                    "plan" => plan.str,
                    "proposal" => proposal.str,
                ],
                b'd' => ["device" => device.str, "decision" => decision.str],
                b'i' => ["ip" => ip.str],
                b'l' => ["level" => level.str],
                b'c' => ["credit" => credit.decimal],
                b'e' => ["effective_at" => effective_at.str],
            }
            s.ws();
            match s.peek()? {
                b',' => {
                    s.i += 1;
                    s.ws();
                }
                b'}' => {
                    s.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    s.ws();
    (s.i == s.b.len()).then_some(())
}

/// Sets a field not set yet (a repeated key is serde's to refuse).
fn put<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value?);
    Some(())
}

/// The bytes that end a plain string: its quote, an escape, a control character.
const STOP: [bool; 256] = {
    let mut stop = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        stop[c] = true;
        c += 1;
    }
    stop[b'"' as usize] = true;
    stop[b'\\' as usize] = true;
    stop
};

/// The bytes of `x` (eight bytes of a line, the first in the low byte) that are in [`STOP`], as
/// their high bits: a quote, a backslash, a control character. A byte above a stop may be
/// flagged too (a borrow carries upwards), so only the lowest flag, the first stop, is exact:
/// the one that is read.
fn stops(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    control | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')))
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// Reads `key` (a key's bytes and its closing quote) when the line goes on with it.
    #[inline(always)]
    fn key(&mut self, key: &[u8]) -> bool {
        let found = self.b[self.i..].starts_with(key);
        if found {
            self.i += key.len();
        }
        found
    }

    /// The colon after a key, with the whitespace around it.
    #[inline(always)]
    fn colon(&mut self) -> Option<()> {
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(())
    }

    /// Skips JSON's whitespace, exactly the four bytes serde_json skips.
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The rest of a string whose opening quote is read: up to its closing quote, when it has no
    /// escape and no control character.
    fn string(&mut self) -> Option<&'a str> {
        let (b, start) = (self.b, self.i);
        let mut end = start;
        // Eight bytes at a time while eight remain (a time is 25), then byte by byte.
        loop {
            let Some(chunk) = b.get(end..end + 8) else {
                while end < b.len() && !STOP[usize::from(b[end])] {
                    end += 1;
                }
                break;
            };
            let stops = stops(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
            if stops != 0 {
                end += (stops.trailing_zeros() / 8) as usize;
                break;
            }
            end += 8;
        }
        if b.get(end) != Some(&b'"') {
            return None;
        }
        self.i = end + 1;
        self.text.get(start..end)
    }

    /// A string value.
    fn str(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        self.string().map(|s| Str(Cow::Borrowed(s)))
    }

    /// A decimal: a string, or a whole number of at most 18 digits written plainly (no sign, no
    /// leading zero, no fraction or exponent: those, and longer numbers, are serde's).
    fn decimal(&mut self) -> Option<Decimal<'a>> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.string().map(|s| Decimal::Text(Cow::Borrowed(s)))
            }
            b'0'..=b'9' => {
                let start = self.i;
                let mut n: i64 = 0;
                while let Some(c @ b'0'..=b'9') = self.peek() {
                    if self.i - start == 18 {
                        return None;
                    }
                    n = n * 10 + i64::from(c - b'0');
                    self.i += 1;
                }
                if self.b[start] == b'0' && self.i - start > 1 {
                    return None;
                }
                if let Some(b'.' | b'e' | b'E') = self.peek() {
                    return None;
                }
                Some(Decimal::Whole(i128::from(n)))
            }
            _ => None,
        }
    }

    /// A list of strings.
    fn region(&mut self) -> Option<Vec<Str<'a>>> {
        self.eat(b'[')?;
        self.ws();
        let mut parts = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(parts);
        }
        loop {
            parts.push(self.str()?);
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(parts);
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{STOP, stops};

    /// The first byte `stops` flags is the first byte in `STOP`, for every byte value at every
    /// position, among bytes of every kind (a deterministic generator, half of them stops).
    #[test]
    fn stops_finds_the_first_stop_byte() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let first = |bytes: [u8; 8]| bytes.iter().position(|&b| STOP[usize::from(b)]);
        for round in 0..200_000 {
            let mut bytes = next().to_le_bytes();
            // Most rounds: plain bytes, with a few stops and edge values put in.
            if round % 4 != 0 {
                for b in &mut bytes {
                    *b = b'a' + *b % 26;
                }
                let edges = [
                    0x00, 0x1F, 0x20, 0x21, b'"', 0x23, 0x5B, b'\\', 0x5D, 0x7F, 0x80, 0x9F, 0xA0, 0xDC, 0xFF,
                ];
                for _ in 0..(next() % 3) {
                    let at = (next() % 8) as usize;
                    bytes[at] = edges[(next() % edges.len() as u64) as usize];
                }
            }
            let found = stops(u64::from_le_bytes(bytes));
            let at = (found != 0).then(|| (found.trailing_zeros() / 8) as usize);
            assert_eq!(at, first(bytes), "{bytes:?}");
        }
        for at in 0..8 {
            for value in 0..=255u8 {
                let mut bytes = *b"abcdefgh";
                bytes[at] = value;
                let found = stops(u64::from_le_bytes(bytes));
                let first_found = (found != 0).then(|| (found.trailing_zeros() / 8) as usize);
                assert_eq!(first_found, first(bytes), "{bytes:?}");
            }
        }
    }
}
