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
//! absurd: at bench/plan.toml's rates, 2^62 is about 10^16 yuan of orders, at
//! bench/plan-all.toml's about 10^14.
//!
//! A share of a base that an earlier order set (refer_refund's steps, of the referrer's first
//! qualifying order) is bounded by the largest order paid so far, not by the order that pays
//! it: [`Growth::per_largest`]. Each order counts that share of the largest order so far, and
//! an order larger than every earlier one counts the rise for each of them too, so that every
//! paid order has always been counted at the current largest. So the bound grows with the
//! amounts orders actually carry, not with the most one event may carry: counted at 2 × 10^10
//! yuan an order, 2^62 held 2.3 million orders of any size.
//!
//! Appreciation's points are the exception: how many an order mints depends on the price when
//! it settles, which no bound at payment can know. The kind checks them itself at each
//! settlement, exactly ([`crate::kind::Kind::mints_within`]).

use crate::num::{Money, Rate};

/// The most any count may reach: 2^62, half of what an `i64` holds, so that a sum of two
/// counts (a balance and what is posted to it) cannot overflow either.
pub(crate) const LIMIT: u128 = 1 << 62;

/// How much a mechanism's counts may grow for one settled order of `A` fen, while the largest
/// order paid so far is `L` fen: at most `per_fen × A + per_order + ⌈per_largest × L ÷ 10^9⌉`,
/// in fen or in 1/10000 point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Growth {
    /// Per fen of the order.
    pub(crate) per_fen: u128,
    /// Per order, whatever its amount (a fixed reward, points per order).
    pub(crate) per_order: u128,
    /// Per fen of the largest order paid so far, in a rate's units (1/10^9): a share of a base
    /// that some earlier order set, which any order may pay when it settles.
    pub(crate) per_largest: u128,
}

impl Growth {
    /// A mechanism that pays only from what its pool received: the order's amount, once.
    pub(crate) const CASH: Growth = Growth { per_fen: 1, per_order: 0, per_largest: 0 };

    /// The growth for an order of `amount`, saturating.
    pub(crate) fn of(self, amount: Money) -> u128 {
        self.per_fen.saturating_mul(amount.fen().max(0) as u128).saturating_add(self.per_order)
    }

    /// The growth that depends on the largest order paid so far, `largest`, saturating.
    pub(crate) fn of_largest(self, largest: Money) -> u128 {
        let scale = Rate::ONE.units() as u128;
        self.per_largest.saturating_mul(largest.fen().max(0) as u128).div_ceil(scale)
    }

    /// Both, added.
    pub(crate) fn plus(self, other: Growth) -> Growth {
        Growth {
            per_fen: self.per_fen.saturating_add(other.per_fen),
            per_order: self.per_order.saturating_add(other.per_order),
            per_largest: self.per_largest.saturating_add(other.per_largest),
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
