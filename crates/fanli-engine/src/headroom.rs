//! Overflow refused before anything moves: every count the engine keeps is an `i64`, and an
//! event whose worst case could take one past 2^62 is refused with `overflow` instead of
//! wrapping or stopping the run halfway through.
//!
//! The engine keeps one bound, `grown`, on every balance, promise, points count and tally at
//! once: the sum, over every event accepted so far, of that event's worst case. An order's
//! worst case is what it pays in (in every cash account it passes through, a few times over)
//! plus what each mechanism may grow by when it settles ([`crate::kind::Kind::growth`]: its
//! rates at their most, its fixed amounts, every tier and bonus at once); it is counted when
//! the order is paid, so that its settlement, days later, and the late parts a review may
//! release have nothing left to check. A top-up, an injection and a cash-out count theirs the
//! same way. The bound is far above the real figures (it never goes down, and it adds every
//! mechanism's worst case), so in practice it only refuses plans whose numbers are already
//! absurd: at the bench plans' rates, 2^62 is about 10^16 yuan of orders.
//!
//! Appreciation's points are the exception: how many an order mints depends on the price when
//! it settles, which no bound at payment can know. The kind checks them itself at each
//! settlement, exactly ([`crate::kind::Kind::mints_within`]).

use crate::num::{Money, Rate};

/// The most any count may reach: 2^62, half of what an `i64` holds, so that a sum of two
/// counts (a balance and what is posted to it) cannot overflow either.
pub(crate) const LIMIT: u128 = 1 << 62;

/// How much a mechanism's counts may grow for one settled order of `A` fen: at most
/// `per_fen × A + per_order`, in fen or in 1/10000 point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Growth {
    /// Per fen of the order.
    pub(crate) per_fen: u128,
    /// Per order, whatever its amount (a fixed reward, points per order).
    pub(crate) per_order: u128,
}

impl Growth {
    /// A mechanism that pays only from what its pool received: the order's amount, once.
    pub(crate) const CASH: Growth = Growth { per_fen: 1, per_order: 0 };

    /// The growth for an order of `amount`, saturating.
    pub(crate) fn of(self, amount: Money) -> u128 {
        self.per_fen.saturating_mul(amount.fen().max(0) as u128).saturating_add(self.per_order)
    }

    /// Both, added.
    pub(crate) fn plus(self, other: Growth) -> Growth {
        Growth {
            per_fen: self.per_fen.saturating_add(other.per_fen),
            per_order: self.per_order.saturating_add(other.per_order),
        }
    }
}

/// `n × rate`, rounded up: a bound never rounds down.
pub(crate) fn up(n: u128, rate: Rate) -> u128 {
    let scale = Rate::ONE.units() as u128;
    n.saturating_mul(rate.units().max(0) as u128).div_ceil(scale)
}

/// The larger of 1 and the largest of `rates`: a multiplier that may or may not apply.
pub(crate) fn most(rates: impl IntoIterator<Item = Rate>) -> Rate {
    rates.into_iter().fold(Rate::ONE, Rate::max)
}
