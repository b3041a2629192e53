//! 循环购: spending earns a quota (能量值, the most the mechanism will ever pay the member) and
//! shares (贡献值, the member's weight); each day close pays the pool out in proportion to the
//! shares of the members with quota left, each capped at what their quota has left.
//!
//! Decisions where the spec is brief:
//! - A member's weight is their settled spend plus `referral_share_rate` × their direct
//!   referees' settled spend, in fen; shares are that weight ÷ `share_unit` (shown to 4 places).
//!   Proportions use the weights, exactly: each member gets `⌊pool × weight ÷ total weight⌋`.
//! - The whole dividend part of the pool is offered each day; what the rounding and the quota
//!   caps leave stays in the pool for the next day (no second pass).
//! - `honor`: `rate` × each settled order is set aside in the same pool (tracked apart) and split
//!   equally each day among all honor members (shares at least the V1 level), also capped by the
//!   quota; an honor member without quota left gets nothing and their part stays set aside.
//! - Payouts come from what the pool holds, so they are paid at once, never owed.
//!
//! Cost: a day close reads every member with quota left (they are the ones it pays), and sorts
//! them by join order once when new ones came in. An order reads the buyer and their referrer.

mod config;
mod view;

pub use config::{CycleConfig, Honor};
pub use view::{CycleStanding, CycleView};

use super::{Cx, Kind, Look, Refunded, Settlement};
use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points};
use crate::pool::{Books, Pool};
use crate::table::slot;
use crate::terms::PayTo;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Cycle {
    config: CycleConfig,
    members: Vec<Holder>,
    /// Members with quota left (and some who just ran out, dropped at the next day close).
    active: Vec<MemberId>,
    /// Whether each member is in `active`, a bit a member (as a `Holder` field it padded the
    /// holder from 16 bytes to 24: issue 19).
    in_active: Vec<u64>,
    /// Whether `active` gained members since it was last sorted.
    unsorted: bool,
    /// The part of the pool set aside for honor members, in fen.
    honor_fund: i64,
    /// Members whose shares reach the first honor level.
    honor_members: u64,
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Holder {
    /// Quota left, in fen.
    quota: i64,
    /// Weight: own settled spend plus the referral share of referees' spend, in fen.
    weight: i64,
}
const _: () = assert!(size_of::<Holder>() == 16);

/// Whether `member`'s bit is set.
fn bit(bits: &[u64], member: MemberId) -> bool {
    bits.get(member.index() / 64).is_some_and(|word| word >> (member.index() % 64) & 1 == 1)
}

/// Sets or clears `member`'s bit.
fn set_bit(bits: &mut Vec<u64>, member: MemberId, on: bool) {
    let (word, bit) = (member.index() / 64, member.index() % 64);
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    if on {
        bits[word] |= 1 << bit;
    } else {
        bits[word] &= !(1 << bit);
    }
}

impl Cycle {
    /// A settled order: quota and shares for the buyer, shares for the referrer, and the honor
    /// part of the order set aside in the pool.
    fn settle(&mut self, pool: &Pool, books: &mut Books, order: &Settlement<'_>) {
        let Settlement { member, amount, .. } = *order;
        if let Some(honor) = &self.config.honor {
            let set_aside = amount.mul_rate(honor.rate);
            books.ledger.post(
                Account::Platform,
                Account::Pool(pool.id),
                set_aside.fen(),
                Some(pool.id),
                Rule::Funding,
            );
            self.honor_fund += set_aside.fen();
        }
        let quota = amount.mul_rate(self.config.quota_multiple);
        self.add_weight(member, amount.fen());
        let holder = slot(&mut self.members, member);
        holder.quota += quota.fen();
        if holder.quota > 0 && !bit(&self.in_active, member) {
            set_bit(&mut self.in_active, member, true);
            self.active.push(member);
            self.unsorted = true;
        }
        if let Some(referrer) = order.referrer() {
            self.add_weight(referrer, amount.mul_rate(self.config.referral_share_rate).fen());
        }
    }

    fn add_weight(&mut self, member: MemberId, weight: i64) {
        let first_level = self.config.honor.as_ref().and_then(|h| h.levels.first().copied());
        let unit = self.config.share_unit;
        let holder = slot(&mut self.members, member);
        let was = first_level.is_some_and(|l| reaches(holder.weight, unit, l));
        holder.weight += weight;
        if !was && first_level.is_some_and(|l| reaches(holder.weight, unit, l)) {
            self.honor_members += 1;
        }
    }

    /// The day's dividend (by shares) and honor split (equal), each capped by quota left.
    fn pay_dividend(&mut self, pool: &mut Pool, books: &mut Books) {
        let (members, in_active) = (&self.members, &mut self.in_active);
        self.active.retain(|&m| {
            let keep = members[m.index()].quota > 0;
            set_bit(in_active, m, keep);
            keep
        });
        if std::mem::take(&mut self.unsorted) {
            self.active.sort_unstable();
        }
        let dividend = pool.pool(books).fen() - self.honor_fund;
        let total: i128 = self.active.iter().map(|m| self.members[m.index()].weight as i128).sum();
        if dividend > 0 && total > 0 {
            for &member in &self.active {
                let holder = &mut self.members[member.index()];
                let share = match (dividend.checked_mul(holder.weight), i64::try_from(total)) {
                    (Some(product), Ok(total)) => product / total,
                    _ => (dividend as i128 * holder.weight as i128 / total) as i64,
                };
                let paid = share.min(holder.quota);
                holder.quota -= paid;
                pay(pool, books, member, paid, Rule::Dividend);
            }
        }
        let Some(honor) = &self.config.honor else { return };
        if self.honor_fund == 0 || self.honor_members == 0 {
            return;
        }
        let each = self.honor_fund / self.honor_members as i64;
        let first = honor.levels[0];
        for &member in &self.active {
            let holder = &mut self.members[member.index()];
            if !reaches(holder.weight, self.config.share_unit, first) {
                continue;
            }
            let paid = each.min(holder.quota);
            holder.quota -= paid;
            self.honor_fund -= paid;
            pay(pool, books, member, paid, Rule::Honor);
        }
    }

    /// Clawback of an order of `amount`: the quota it earned (as far as left) and the weight
    /// it added, the referrer's included. Returns the quota taken back.
    fn claw_back_order(&mut self, member: MemberId, referrer: Option<MemberId>, amount: Money) -> Money {
        let earned = amount.mul_rate(self.config.quota_multiple).fen();
        let holder = slot(&mut self.members, member);
        let taken = earned.min(holder.quota);
        holder.quota -= taken;
        self.remove_weight(member, amount.fen());
        if let Some(referrer) = referrer {
            self.remove_weight(referrer, amount.mul_rate(self.config.referral_share_rate).fen());
        }
        Money::from_fen(taken)
    }

    fn remove_weight(&mut self, member: MemberId, weight: i64) {
        let first_level = self.config.honor.as_ref().and_then(|h| h.levels.first().copied());
        let unit = self.config.share_unit;
        let holder = slot(&mut self.members, member);
        let was = first_level.is_some_and(|l| reaches(holder.weight, unit, l));
        holder.weight -= weight.min(holder.weight);
        if was && !first_level.is_some_and(|l| reaches(holder.weight, unit, l)) {
            self.honor_members -= 1;
        }
    }

    fn standing_of(&self, member: MemberId) -> CycleStanding {
        let holder = self.members.get(member.index()).cloned().unwrap_or_default();
        let unit = self.config.share_unit.fen() as i128;
        let shares = Points::from_units((holder.weight as i128 * 10_000 / unit) as i64);
        let honor = self.config.honor.as_ref().map_or(0, |h| {
            h.levels.iter().take_while(|&&l| reaches(holder.weight, self.config.share_unit, l)).count() as u32
        });
        CycleStanding { quota: Money::from_fen(holder.quota), shares, honor }
    }
}

impl Kind for Cycle {
    const NAME: &'static str = "cycle";
    const TITLE: (&'static str, &'static str) = ("循环购", "Cycle");
    type Config = CycleConfig;
    type View = CycleView;
    type Standing = CycleStanding;

    fn reconfigure(&mut self, config: &CycleConfig) {
        self.config = config.clone();
    }

    fn new(config: &CycleConfig) -> Cycle {
        Cycle {
            config: config.clone(),
            members: Vec::new(),
            active: Vec::new(),
            in_active: Vec::new(),
            unsorted: false,
            honor_fund: 0,
            honor_members: 0,
        }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.settle(cx.pool, cx.books, order);
    }

    /// A held referral approved: the referrer's share of the order's weight.
    fn on_referral(&mut self, _cx: &mut Cx<'_>, order: &Settlement<'_>) {
        if order.from == 0
            && let Some(referrer) = order.referrer()
        {
            self.add_weight(referrer, order.amount.mul_rate(self.config.referral_share_rate).fen());
        }
    }

    fn on_close_day(&mut self, cx: &mut Cx<'_>, _now: crate::time::Timestamp) {
        self.pay_dividend(cx.pool, cx.books);
    }

    /// The quota the order earned (as far as left) and the weight it added, the referrer's
    /// included.
    fn claw_back(&mut self, _cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        let cancelled = self.claw_back_order(refund.member, refund.referrer, refund.amount);
        ClawbackTotals { cancelled, ..ClawbackTotals::default() }
    }

    fn read_ahead(&self, _look: &Look<'_>, member: MemberId, uplines: &[Option<MemberId>; 3]) -> i64 {
        for m in [Some(member), uplines[0]].into_iter().flatten() {
            crate::table::prefetch(&self.members, m);
        }
        0
    }

    fn view(&self, _look: &Look<'_>) -> CycleView {
        CycleView {
            holders: self.active.iter().filter(|m| self.members[m.index()].quota > 0).count() as u64,
            honor_fund: Money::from_fen(self.honor_fund),
        }
    }

    fn standing(&self, _look: &Look<'_>, member: MemberId) -> CycleStanding {
        self.standing_of(member)
    }
}

/// Whether `weight` fen are at least `level` shares of `unit` each.
fn reaches(weight: i64, unit: Money, level: Points) -> bool {
    weight as i128 * 10_000 >= level.units() as i128 * unit.fen() as i128
}

fn pay(pool: &mut Pool, books: &mut Books, member: MemberId, amount: i64, rule: Rule) {
    if amount == 0 {
        return;
    }
    let amount = Money::from_fen(amount);
    pool.pay(books, member, amount, PayTo::Wallet, rule);
    books.effect(Effect::Dividend { mechanism: pool.id, member, rule, amount });
}
