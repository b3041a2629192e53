//! Exact numbers: money in fen, points in 1/10000, rates in 1/10^9, prices as ratios.
//!
//! Nothing here is a float. Every multiplication that could overflow `i128` falls back to a
//! 256-bit intermediate, and every division says how it rounds (always down: amounts are never
//! negative where we divide).

use std::cmp::Ordering;
use std::fmt;

use ethnum::U256;

/// Cash, as a count of fen (0.01 CNY).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Money(i64);

/// Points, as a count of 1/10000 of a point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Points(i64);

/// A rate or multiple, as a count of 1/10^9 ("0.30" is 300_000_000, "10%" is 100_000_000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Rate(i64);

/// The largest amount one event may carry: 10,000,000,000.00 yuan. Balances are `i64` fen
/// (9.2 × 10^16 yuan), so even millions of maximal events cannot overflow them.
pub const MONEY_MAX: Money = Money(1_000_000_000_000);
/// The largest points amount one event may carry (10^12 points).
pub const POINTS_MAX: Points = Points(10_000_000_000_000_000);

const RATE_SCALE: i64 = 1_000_000_000;
const POINTS_SCALE: i64 = 10_000;

impl Money {
    /// Zero fen.
    pub const ZERO: Money = Money(0);
    /// Money from a count of fen.
    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }
    /// Money from whole yuan.
    pub const fn from_yuan(yuan: i64) -> Money {
        Money(yuan * 100)
    }
    /// The count of fen.
    pub const fn fen(self) -> i64 {
        self.0
    }
    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// `self × rate`, rounded down to the fen. `self` must not be negative.
    pub fn mul_rate(self, rate: Rate) -> Money {
        debug_assert!(self.0 >= 0 && rate.0 >= 0);
        // Nearly always the product fits 64 bits, where dividing by the constant scale is a
        // multiply and a shift; 128-bit division is a library call ten times as slow.
        match self.0.checked_mul(rate.0) {
            Some(product) => Money(product / RATE_SCALE),
            None => Money(
                i64::try_from(self.0 as i128 * rate.0 as i128 / RATE_SCALE as i128)
                    .expect("money fits 64 bits"),
            ),
        }
    }
    /// `self × a × b`, rounded down to the fen once.
    pub fn mul_rates(self, a: Rate, b: Rate) -> Money {
        debug_assert!(self.0 >= 0 && a.0 >= 0 && b.0 >= 0);
        let scale = RATE_SCALE as i128;
        let product = self.0 as i128 * a.0 as i128 * b.0 as i128 / (scale * scale);
        Money(i64::try_from(product).expect("a product of rates stays within the amount's range"))
    }
    /// Parses a decimal string with at most 2 decimals ("1000", "12.5", "0.01").
    pub fn parse(text: &str) -> Result<Money, AmountError> {
        parse_decimal(text, 2, MONEY_MAX.0).map(Money)
    }
    /// The smaller of two amounts.
    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }
}

impl Points {
    /// Zero points.
    pub const ZERO: Points = Points(0);
    /// Points from a count of 1/10000 units.
    pub const fn from_units(units: i64) -> Points {
        Points(units)
    }
    /// Points from whole points.
    pub const fn from_whole(points: i64) -> Points {
        Points(points * POINTS_SCALE)
    }
    /// The count of 1/10000 units.
    pub const fn units(self) -> i64 {
        self.0
    }
    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// `self × rate`, rounded down to 1/10000 point. `self` must not be negative.
    pub fn mul_rate(self, rate: Rate) -> Points {
        debug_assert!(self.0 >= 0 && rate.0 >= 0);
        match self.0.checked_mul(rate.0) {
            Some(product) => Points(product / RATE_SCALE),
            None => Points(
                i64::try_from(self.0 as i128 * rate.0 as i128 / RATE_SCALE as i128).expect("points fit"),
            ),
        }
    }
    /// Parses a decimal string with at most 4 decimals.
    pub fn parse(text: &str) -> Result<Points, AmountError> {
        parse_decimal(text, 4, POINTS_MAX.0).map(Points)
    }
}

impl Rate {
    /// Zero.
    pub const ZERO: Rate = Rate(0);
    /// One (100%).
    pub const ONE: Rate = Rate(RATE_SCALE);
    /// A rate from a count of 1/10^9 units.
    pub const fn from_units(units: i64) -> Rate {
        Rate(units)
    }
    /// The count of 1/10^9 units.
    pub const fn units(self) -> i64 {
        self.0
    }
    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// Parses "0.30", "3", "1.5" (at most 9 decimals) or a percentage "10%", "12.5%" (at most
    /// 7 decimals before the `%`). Negative rates are refused.
    pub fn parse(text: &str) -> Result<Rate, AmountError> {
        const MAX: i64 = 1_000 * RATE_SCALE;
        match text.strip_suffix('%') {
            // p% is p × 10^7 units: 7 decimals before the `%` keep it exact.
            Some(percent) => parse_decimal(percent, 7, MAX).map(Rate),
            None => parse_decimal(text, 9, MAX).map(Rate),
        }
    }
}

/// Why a decimal string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// Not a plain decimal such as "12.50".
    Malformed,
    /// Starts with a minus sign.
    Negative,
    /// More decimal places than the quantity carries.
    TooPrecise {
        /// The number of decimals allowed.
        decimals: u32,
    },
    /// Larger than any one event may carry.
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Malformed => f.write_str("is not a decimal number such as \"12.50\""),
            AmountError::Negative => f.write_str("is negative"),
            AmountError::TooPrecise { decimals } => {
                write!(f, "has more than {decimals} decimal places")
            }
            AmountError::TooLarge => f.write_str("is too large"),
        }
    }
}

/// Parses `digits[.digits]` into a count of `10^-decimals` units, refusing signs, exponents,
/// spaces and anything above `max` units.
///
/// Every event's amount comes through here: the plain ones (`"100.00"`, `"7"`, `"0.5"`) are read
/// in one pass by [`plain`]; anything else, a mistake included, by [`parse_decimal_general`],
/// which says what is wrong. The tests below hold the two to the same answer on every text.
#[inline]
fn parse_decimal(text: &str, decimals: u32, max: i64) -> Result<i64, AmountError> {
    match plain(text.as_bytes(), decimals, max) {
        Some(units) => Ok(units),
        None => parse_decimal_general(text, decimals, max),
    }
}

/// `10^n`, for the places an amount leaves out.
const POW10: [i64; 10] =
    [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/// A plain decimal's units: digits, then maybe a point and at most `decimals` digits, with at
/// most `18 - decimals` digits before the point (so no product can overflow) and at most `max`
/// units. `None` for anything else, valid or not: [`parse_decimal_general`] decides then.
#[inline]
fn plain(b: &[u8], decimals: u32, max: i64) -> Option<i64> {
    let decimals = decimals as usize;
    let int_max = 18usize.checked_sub(decimals)?;
    let mut units: i64 = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i == int_max {
            return None;
        }
        units = units * 10 + i64::from(d);
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut places = 0;
    if i < b.len() {
        if b[i] != b'.' {
            return None;
        }
        for &c in &b[i + 1..] {
            let d = c.wrapping_sub(b'0');
            if d > 9 || places == decimals {
                return None;
            }
            units = units * 10 + i64::from(d);
            places += 1;
        }
        if places == 0 {
            return None;
        }
    }
    let units = units * POW10[decimals - places];
    (units <= max).then_some(units)
}

/// [`parse_decimal`] without its fast path: every text, with the reason it is refused.
fn parse_decimal_general(text: &str, decimals: u32, max: i64) -> Result<i64, AmountError> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'-') {
        return if parse_decimal_general(&text[1..], decimals, max).is_ok() {
            Err(AmountError::Negative)
        } else {
            Err(AmountError::Malformed)
        };
    }
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return Err(AmountError::Malformed);
    }
    let frac = frac.unwrap_or("");
    if frac.len() > decimals as usize {
        return Err(AmountError::TooPrecise { decimals });
    }
    let mut units: i64 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        units = units
            .checked_mul(10)
            .and_then(|u| u.checked_add((b - b'0') as i64))
            .ok_or(AmountError::TooLarge)?;
    }
    for _ in frac.len()..decimals as usize {
        units = units.checked_mul(10).ok_or(AmountError::TooLarge)?;
    }
    if units > max {
        return Err(AmountError::TooLarge);
    }
    Ok(units)
}

/// A number formatted with a fixed number of decimals, held on the stack (for `Display`; the
/// JSON writer formats its millions of amounts straight into its buffer).
#[derive(Clone, Copy)]
pub struct Fixed {
    buf: [u8; 41],
    start: u8,
}

impl Fixed {
    /// `units` scaled by `10^decimals`, with exactly `decimals` places.
    fn new(units: i128, decimals: u32) -> Fixed {
        let mut fixed = Fixed { buf: [0; 41], start: 41 };
        let abs = units.unsigned_abs();
        let scale = 10u128.pow(decimals);
        let (mut int, mut frac) = (abs / scale, abs % scale);
        for _ in 0..decimals {
            fixed.push(b'0' + (frac % 10) as u8);
            frac /= 10;
        }
        if decimals > 0 {
            fixed.push(b'.');
        }
        loop {
            fixed.push(b'0' + (int % 10) as u8);
            int /= 10;
            if int == 0 {
                break;
            }
        }
        if units < 0 {
            fixed.push(b'-');
        }
        fixed
    }

    fn push(&mut self, byte: u8) {
        self.start -= 1;
        self.buf[self.start as usize] = byte;
    }

    /// The formatted number, as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start as usize..]
    }

    /// The formatted number.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("ASCII digits")
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn write_scaled(f: &mut fmt::Formatter<'_>, units: i128, decimals: u32) -> fmt::Result {
    f.write_str(Fixed::new(units, decimals).as_str())
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0 as i128, 2)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0 as i128, 4)
    }
}

impl fmt::Display for Rate {
    /// The shortest exact decimal ("0.3", "1", "0.012").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / RATE_SCALE;
        let frac = self.0 % RATE_SCALE;
        if frac == 0 {
            return write!(f, "{int}");
        }
        let digits = format!("{frac:09}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

macro_rules! arithmetic {
    ($t:ident) => {
        impl std::ops::Add for $t {
            type Output = $t;
            fn add(self, rhs: $t) -> $t {
                $t(self.0 + rhs.0)
            }
        }
        impl std::ops::Sub for $t {
            type Output = $t;
            fn sub(self, rhs: $t) -> $t {
                $t(self.0 - rhs.0)
            }
        }
        impl std::ops::AddAssign for $t {
            fn add_assign(&mut self, rhs: $t) {
                self.0 += rhs.0;
            }
        }
        impl std::ops::SubAssign for $t {
            fn sub_assign(&mut self, rhs: $t) {
                self.0 -= rhs.0;
            }
        }
        impl std::ops::Neg for $t {
            type Output = $t;
            fn neg(self) -> $t {
                $t(-self.0)
            }
        }
        impl std::iter::Sum for $t {
            fn sum<I: Iterator<Item = $t>>(iter: I) -> $t {
                iter.fold($t(0), |a, b| a + b)
            }
        }
    };
}
arithmetic!(Money);
arithmetic!(Points);
arithmetic!(Rate);

/// A price's product past what an `i64` count holds (points minted by a plan whose price fell
/// to almost nothing, say): the run stops here rather than wrap.
const OVERFLOW: &str = "an amount past 2^63 units: the plan's numbers overflow 64 bits";

fn u256_to_i64(n: U256) -> i64 {
    i64::try_from(n).expect(OVERFLOW)
}

/// A price in yuan per point, kept as the exact ratio `fen / points units` (a pool over the
/// points outstanding). It is never rounded; [`Price::display`] rounds only for people.
#[derive(Clone, Copy, Debug)]
pub struct Price {
    fen: u128,
    units: u128,
}

impl Price {
    /// `pool ÷ points`; `points` must be positive.
    pub fn ratio(pool: Money, points: Points) -> Price {
        assert!(pool.0 >= 0 && points.0 > 0, "a price needs a pool and points outstanding");
        Price { fen: pool.0 as u128, units: points.0 as u128 }
    }

    /// A price given per whole point as a rate ("1.00" yuan per point).
    pub fn per_point(yuan: Rate) -> Price {
        // yuan/point = fen/units × 100  ⇒  fen/units = yuan / 100 = rate_units / (10^9 × 100).
        Price { fen: yuan.0 as u128, units: RATE_SCALE as u128 * 100 }
    }

    /// This price times `rate`, exactly.
    pub fn scaled(self, rate: Rate) -> Price {
        Price { fen: self.fen * rate.0 as u128, units: self.units * RATE_SCALE as u128 }
    }

    /// Whether the price is zero (a pool emptied while points remain).
    pub fn is_zero(self) -> bool {
        self.fen == 0
    }

    /// The value of `points` at this price, in fen, rounded down.
    pub fn value(self, points: Points) -> Money {
        Money(i64::try_from(mul_div_floor(points.0 as u128, self.fen, self.units)).expect(OVERFLOW))
    }

    /// The value of `points` at this price, times `(1 − fee)`, rounded down once at the end.
    pub fn value_after_fee(self, points: Points, fee: Rate) -> Money {
        let keep = (RATE_SCALE - fee.0) as u128;
        let num = U256::from(points.0 as u128) * U256::from(self.fen) * U256::from(keep);
        let den = U256::from(self.units) * U256::from(RATE_SCALE as u128);
        Money(u256_to_i64(num / den))
    }

    /// How many points `money` buys at this price, rounded down to 1/10000.
    pub fn points_for(self, money: Money, ratio: Rate) -> Points {
        self.try_points_for(money, ratio).expect(OVERFLOW)
    }

    /// [`Price::points_for`], or `None` when the points would not fit 64 bits.
    pub fn try_points_for(self, money: Money, ratio: Rate) -> Option<Points> {
        // points units = money_fen × ratio / 10^9 ÷ (fen/units)
        let narrow = (money.0 as u128).checked_mul(ratio.0 as u128).and_then(|n| n.checked_mul(self.units));
        if let (Some(num), Some(den)) = (narrow, self.fen.checked_mul(RATE_SCALE as u128)) {
            return i64::try_from(num / den).ok().map(Points);
        }
        let num = U256::from(money.0 as u128) * U256::from(ratio.0 as u128) * U256::from(self.units);
        let den = U256::from(self.fen) * U256::from(RATE_SCALE as u128);
        i64::try_from(num / den).ok().map(Points)
    }

    /// The price in yuan per point to 4 decimals, rounded half up, as a count of 1/10000 yuan.
    pub fn display_units(self) -> i128 {
        // yuan/point × 10^4 = fen/units × 10^6
        if let Some(scaled) = self.fen.checked_mul(1_000_000).and_then(|f| f.checked_add(self.units / 2)) {
            return (scaled / self.units) as i128;
        }
        let scaled = U256::from(self.fen) * U256::from(1_000_000u32);
        let units = U256::from(self.units);
        ((scaled + units / 2) / units).as_i128()
    }

    /// The price for people: 4 decimals, rounded half up.
    pub fn display(self) -> Fixed {
        Fixed::new(self.display_units(), 4)
    }
}

impl PartialEq for Price {
    fn eq(&self, other: &Price) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Price {}
impl PartialOrd for Price {
    fn partial_cmp(&self, other: &Price) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Price {
    fn cmp(&self, other: &Price) -> Ordering {
        cmp_ratio(self.fen, self.units, other.fen, other.units)
    }
}

/// Compares `a/b` with `c/d` exactly (b, d > 0) by cross-multiplication.
pub fn cmp_ratio(a: u128, b: u128, c: u128, d: u128) -> Ordering {
    match (a.checked_mul(d), c.checked_mul(b)) {
        (Some(left), Some(right)) => left.cmp(&right),
        _ => (U256::from(a) * U256::from(d)).cmp(&(U256::from(c) * U256::from(b))),
    }
}

/// `a × b / d`, rounded down, with a 256-bit intermediate when `a × b` overflows.
pub fn mul_div_floor(a: u128, b: u128, d: u128) -> u128 {
    match a.checked_mul(b) {
        Some(product) => product / d,
        None => (U256::from(a) * U256::from(b) / U256::from(d)).as_u128(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_money() {
        assert_eq!(Money::parse("1000.00"), Ok(Money(100_000)));
        assert_eq!(Money::parse("12.5"), Ok(Money(1_250)));
        assert_eq!(Money::parse("7"), Ok(Money(700)));
        assert_eq!(Money::parse("0.01"), Ok(Money(1)));
        assert_eq!(Money::parse("-1.00"), Err(AmountError::Negative));
        assert_eq!(Money::parse("1.001"), Err(AmountError::TooPrecise { decimals: 2 }));
        for bad in ["", ".5", "5.", "1e3", " 1", "+1", "1,00", "0x10", "--1", "1.2.3", "١"] {
            assert_eq!(Money::parse(bad), Err(AmountError::Malformed), "{bad:?}");
        }
        assert_eq!(Money::parse("10000000000.00"), Ok(MONEY_MAX));
        assert_eq!(Money::parse("10000000000.01"), Err(AmountError::TooLarge));
        assert_eq!(Money::parse("99999999999999999999999"), Err(AmountError::TooLarge));
    }

    /// Amounts near the plain shape, and every way of missing it: signs, points, exponents,
    /// spaces, too many places or digits, unicode digits, nothing at all.
    fn near_plain() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let part = prop::sample::select(vec![
            "",
            "0",
            "7",
            "12",
            "00",
            "100",
            "999999999",
            "1000000000000",
            "99999999999999999999",
            ".",
            "-",
            "+",
            "e3",
            " ",
            "..",
            "5.",
            ".5",
            "%",
            "١",
            "x",
        ]);
        let digits = "[0-9]{0,20}";
        (part.clone(), digits, prop::option::of(("[0-9]{0,11}", part.clone())), part).prop_map(
            |(head, int, frac, tail)| match frac {
                Some((frac, mid)) => format!("{head}{int}.{frac}{mid}{tail}"),
                None => format!("{head}{int}{tail}"),
            },
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 20_000, ..Default::default() })]

        /// The fast path and the general parser read every text alike, at every scale the
        /// quantities use: the same units, or the same error.
        #[test]
        fn the_fast_path_agrees_with_the_general_parser(text in near_plain(), scale in 0usize..4) {
            let (decimals, max) = [(2, MONEY_MAX.0), (4, POINTS_MAX.0), (7, 1_000 * RATE_SCALE), (9, 1_000 * RATE_SCALE)][scale];
            proptest::prop_assert_eq!(
                parse_decimal(&text, decimals, max),
                parse_decimal_general(&text, decimals, max),
                "{:?} at {} decimals", text, decimals
            );
        }
    }

    #[test]
    fn the_fast_path_agrees_at_the_edges() {
        let mut texts: Vec<String> = Vec::new();
        for int in 0..=20 {
            for places in 0..=10 {
                for fill in ['0', '9', '1'] {
                    let int: String = std::iter::repeat_n(fill, int).collect();
                    let frac: String = std::iter::repeat_n(fill, places).collect();
                    texts.push(int.clone());
                    texts.push(format!("{int}.{frac}"));
                    texts.push(format!("-{int}.{frac}"));
                    texts.push(format!("{int}.{frac}x"));
                }
            }
        }
        texts.extend(
            ["10000000000.00", "10000000000.01", "1000000000000", "999999999999.9999"].map(String::from),
        );
        for text in &texts {
            for (decimals, max) in
                [(2, MONEY_MAX.0), (4, POINTS_MAX.0), (7, 1_000 * RATE_SCALE), (9, 1_000 * RATE_SCALE)]
            {
                assert_eq!(
                    parse_decimal(text, decimals, max),
                    parse_decimal_general(text, decimals, max),
                    "{text:?} at {decimals} decimals"
                );
            }
        }
        assert_eq!(Points::parse("12.5"), Ok(Points(125_000)));
        assert_eq!(Points::parse("99999999"), Ok(Points(999_999_990_000)));
    }

    #[test]
    fn parses_rates_and_percentages() {
        assert_eq!(Rate::parse("0.30"), Ok(Rate(300_000_000)));
        assert_eq!(Rate::parse("10%"), Ok(Rate(100_000_000)));
        assert_eq!(Rate::parse("12.5%"), Ok(Rate(125_000_000)));
        assert_eq!(Rate::parse("0.333"), Ok(Rate(333_000_000)));
        assert_eq!(Rate::parse("3"), Ok(Rate(3_000_000_000)));
        assert_eq!(Rate::parse("0.0000000001"), Err(AmountError::TooPrecise { decimals: 9 }));
        assert_eq!(Rate::parse("%"), Err(AmountError::Malformed));
        assert_eq!(Rate::parse("-5%"), Err(AmountError::Negative));
        assert_eq!(Rate(300_000_000).to_string(), "0.3");
        assert_eq!(Rate(12_000_000).to_string(), "0.012");
    }

    #[test]
    fn displays_with_fixed_decimals() {
        assert_eq!(Money(-5).to_string(), "-0.05");
        assert_eq!(Money(0).to_string(), "0.00");
        assert_eq!(Money(100).to_string(), "1.00");
        assert_eq!(Money(-123_456).to_string(), "-1234.56");
        assert_eq!(Money(i64::MIN).to_string(), "-92233720368547758.08");
        assert_eq!(Points(1).to_string(), "0.0001");
        assert_eq!(Points(10_000).to_string(), "1.0000");
        let mut out = String::new();
        for units in [u64::MAX as i128 + 1, -(u64::MAX as i128) * 10, i128::MAX] {
            out.clear();
            std::fmt::Write::write_fmt(&mut out, format_args!("{}", D4(units))).unwrap();
            let plain = format!("{}.{:04}", units.unsigned_abs() / 10_000, units.unsigned_abs() % 10_000);
            assert_eq!(out.trim_start_matches('-'), plain);
        }
        struct D4(i128);
        impl std::fmt::Display for D4 {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_scaled(f, self.0, 4)
            }
        }
        assert_eq!(Money(69_716).to_string(), "697.16");
        assert_eq!(Points(1_249_500).to_string(), "124.9500");
    }

    #[test]
    fn seed_001_prices() {
        // 300 into an empty pool at 1.00 mints 210 points: p = 300 / 210 = 1.4286.
        let p = Price::per_point(Rate::ONE);
        assert_eq!(p.points_for(Money::from_yuan(300), Rate(700_000_000)), Points::from_whole(210));
        let p = Price::ratio(Money::from_yuan(300), Points::from_whole(210));
        assert_eq!(p.display().to_string(), "1.4286");
        assert_eq!(p.points_for(Money::from_yuan(300), Rate(700_000_000)), Points::from_whole(147));
        let p = Price::ratio(Money::from_yuan(600), Points::from_whole(357));
        assert_eq!(p.display().to_string(), "1.6807");
        assert_eq!(p.points_for(Money::from_yuan(300), Rate(700_000_000)), Points(1_249_500));
        // Selling 210 of 481.95 points against a pool of 2000 with a 20% fee pays 697.16.
        let p = Price::ratio(Money::from_yuan(2000), Points(4_819_500));
        assert_eq!(p.value_after_fee(Points::from_whole(210), Rate(200_000_000)), Money(69_716));
    }

    #[test]
    fn ratios_compare_exactly_beyond_128_bits() {
        let big = u128::MAX / 3;
        assert_eq!(cmp_ratio(big, big - 1, big - 1, big - 2), Ordering::Less);
        assert_eq!(cmp_ratio(2, 4, 1, 2), Ordering::Equal);
        assert_eq!(mul_div_floor(big, 6, 3), big * 2);
    }
}
