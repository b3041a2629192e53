//! 绿色积分 全补贴: an order reaching a tier earns a lot of points (1 point = 1 yuan) that
//! releases a share of the order into the wallet every day until it is spent.
//!
//! At each day close, after the day's settlements, three passes (see the spec):
//! 1. base: every lot with points left releases its daily amount (at most what is left); a
//!    member's base release is the sum over their lots, owed as one amount, in join order;
//! 2. share: each member's k-th upline releases `share[k]` × that base release from their own
//!    lots, oldest first (加速释放);
//! 3. team: each member's uplines 1..3 release by the differential of their team rank rates.
//!
//! Released points are burned (`points → issued`) and their value owed from the pool, so an
//! underfunded pool pays late, oldest first, and never borrows. Lots and releases are whole fen.
//!
//! Cost: the base pass reads each active lot once (they sit in one array by member, and the
//! exhausted ones are dropped as it goes) plus a sort of the day's new lots; the share and
//! team passes read three uplines per member released. Nothing walks all members or all lots
//! per order.

mod config;
mod view;

pub use config::{GreenPointsConfig, Tier};
pub use view::{GreenPointsView, Lots};

use super::{Cx, Kind, Look, Refunded, Settlement};
use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::members::Members;
use crate::num::{Money, Points, Rate};
use crate::pool::{Books, Pool};
use crate::table::slot;
use crate::terms::{PayTo, rank_rate};

const NONE: u32 = u32::MAX;

/// Points units per fen: a lot of 1 yuan is 1 point.
const UNITS_PER_FEN: i64 = 100;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct GreenPoints {
    config: GreenPointsConfig,
    lots: Vec<Lot>,
    /// Lots that release daily and have points left (indices into `lots`): up to `sorted`, by
    /// member then lot (the order the base pass owes in, so it needs no sort of its own); past
    /// it, the lots granted since the last day close, oldest first.
    active: Vec<u32>,
    /// How many of `active` are in order. Not saved: a restored engine sorts them all again at
    /// its next day close, to the same order (lots sort by member then index, a total order).
    #[cfg_attr(feature = "snapshot", serde(skip))]
    sorted: usize,
    /// Per member: their lots, oldest first, as a list through `Lot::next`.
    members: Vec<Holder>,
    /// Points released in all, in fen.
    released: i64,
    /// Lots with points left.
    live: usize,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Lot {
    member: MemberId,
    /// The member's next lot.
    next: u32,
    /// What it releases a day, in fen.
    daily: i64,
    /// What it has left, in fen.
    left: i64,
    /// What it was granted, in fen.
    granted: i64,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Holder {
    /// The oldest lot that may have points left.
    first: u32,
    /// The newest lot.
    last: u32,
}

impl Default for Holder {
    fn default() -> Holder {
        Holder { first: NONE, last: NONE }
    }
}

impl GreenPoints {
    /// A settled order reaching a tier earns a lot of `multiple` × its amount.
    fn grant(&mut self, pool: &Pool, books: &mut Books, order: &Settlement<'_>) {
        let Settlement { member, amount, .. } = *order;
        let Some(tier) = self.config.tiers.iter().rev().find(|t| amount >= t.min) else { return };
        if pool.underfunded(books) {
            pool.hold_back(books, member);
            return;
        }
        let points = amount.mul_rate(tier.multiple).fen();
        if points == 0 {
            return;
        }
        let daily = amount.mul_rate(self.config.daily_release_rate).fen();
        let index = u32::try_from(self.lots.len()).ok().filter(|&i| i != NONE).expect("fewer than 2^32 lots");
        self.lots.push(Lot { member, next: NONE, daily, left: points, granted: points });
        self.live += 1;
        if daily > 0 {
            self.active.push(index);
        }
        let holder = slot(&mut self.members, member);
        match holder.last {
            NONE => holder.first = index,
            last => self.lots[last as usize].next = index,
        }
        let holder = slot(&mut self.members, member);
        holder.last = index;
        if holder.first == NONE {
            holder.first = index;
        }
        let units = points * UNITS_PER_FEN;
        books.ledger.post(
            Account::Issued(pool.id),
            Account::Points(pool.id, member),
            units,
            Some(pool.id),
            Rule::Grant,
        );
        books.effect(Effect::Granted {
            mechanism: pool.id,
            member,
            points: Points::from_units(units),
            daily: Money::from_fen(daily),
        });
    }

    /// The day's three passes: base, share, team.
    fn close_day(&mut self, pool: &mut Pool, books: &mut Books, members: &Members) {
        // Each member's base release today, in fen, by member: the day's releases of their
        // lots, in member order as the lots are kept (sized by the lots releasing, not by the
        // members: a per-member table of it cost 8 bytes a member, issue 19). Only the day's
        // new lots are sorted, then merged with the rest as the pass walks them: a sort of all
        // the releases each day was 5% of an all-kinds run's instructions (issue 19).
        let key = |lots: &[Lot], index: u32| (lots[index as usize].member, index);
        let sorted = self.sorted.min(self.active.len());
        self.active[sorted..].sort_unstable_by_key(|&index| key(&self.lots, index));
        let lots = &mut self.lots;
        let mut kept = Vec::with_capacity(self.active.len());
        let mut released: Vec<(MemberId, i64)> = Vec::new();
        let (old, new) = self.active.split_at(sorted);
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            let index = if j == new.len() || (i < old.len() && key(lots, old[i]) < key(lots, new[j])) {
                i += 1;
                old[i - 1]
            } else {
                j += 1;
                new[j - 1]
            };
            let lot = &mut lots[index as usize];
            let amount = lot.daily.min(lot.left);
            lot.left -= amount;
            if amount > 0 {
                if lot.left == 0 {
                    self.live -= 1;
                }
                released.push((lot.member, amount));
            }
            if lot.left > 0 {
                kept.push(index);
            }
        }
        self.sorted = kept.len();
        self.active = kept;
        released.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
        for &(member, amount) in &released {
            self.release(pool, books, member, member, amount, Rule::DailyRelease);
        }
        for &(member, amount) in &released {
            let x = Money::from_fen(amount);
            let uplines = members.uplines(member, self.config.share.len());
            for (k, upline) in uplines.into_iter().take(self.config.share.len()).enumerate() {
                let Some(upline) = upline else { break };
                let wanted = x.mul_rate(self.config.share[k]);
                let taken = self.take(upline, wanted.fen());
                self.release(pool, books, upline, member, taken, Rule::ShareRelease);
            }
        }
        if !self.config.team_ranks.is_empty() {
            for &(member, amount) in &released {
                let x = Money::from_fen(amount);
                let mut highest = Rate::ZERO;
                for upline in members.uplines(member, 3).into_iter().flatten() {
                    let rate = rank_rate(&self.config.team_ranks, members.team_sales(upline));
                    if rate > highest {
                        let taken = self.take(upline, x.mul_rate(rate - highest).fen());
                        self.release(pool, books, upline, member, taken, Rule::TeamRelease);
                        highest = rate;
                    }
                }
            }
        }
    }

    /// Takes up to `wanted` fen from the member's lots, oldest first; returns what it took.
    fn take(&mut self, member: MemberId, wanted: i64) -> i64 {
        let Some(holder) = self.members.get_mut(member.index()) else { return 0 };
        let mut taken = 0;
        while taken < wanted && holder.first != NONE {
            let lot = &mut self.lots[holder.first as usize];
            let t = lot.left.min(wanted - taken);
            lot.left -= t;
            taken += t;
            if lot.left == 0 {
                holder.first = lot.next;
                if t > 0 {
                    self.live -= 1;
                }
            }
        }
        taken
    }

    /// Burns `amount` fen of the member's points (already taken from their lots) and owes their
    /// value to the member's wallet.
    fn release(
        &mut self,
        pool: &mut Pool,
        books: &mut Books,
        member: MemberId,
        from: MemberId,
        amount: i64,
        rule: Rule,
    ) {
        if amount == 0 {
            return;
        }
        let units = amount * UNITS_PER_FEN;
        books.ledger.post(
            Account::Points(pool.id, member),
            Account::Issued(pool.id),
            units,
            Some(pool.id),
            rule,
        );
        self.released += amount;
        let amount = Money::from_fen(amount);
        pool.owe(member, amount, PayTo::Wallet, rule);
        books.effect(Effect::GreenReleased { mechanism: pool.id, member, from, rule, amount });
    }

    /// Clawback of lots `lots`: burns what they have not released; returns (burned, released).
    fn claw_back_lots(
        &mut self,
        pool: &Pool,
        books: &mut Books,
        lots: std::ops::Range<u32>,
    ) -> (Points, Points) {
        let (mut taken, mut kept) = (0, 0);
        for index in lots {
            let lot = &mut self.lots[index as usize];
            let member = lot.member;
            if lot.left > 0 {
                self.live -= 1;
            }
            let units = lot.left * UNITS_PER_FEN;
            taken += units;
            kept += (lot.granted - lot.left) * UNITS_PER_FEN;
            lot.left = 0;
            books.ledger.post(
                Account::Points(pool.id, member),
                Account::Issued(pool.id),
                units,
                Some(pool.id),
                Rule::Clawback,
            );
        }
        (Points::from_units(taken), Points::from_units(kept))
    }

    /// The member's lots with points left and what they release a day.
    fn lots_of(&self, member: MemberId) -> Lots {
        let mut lots = Lots::default();
        let mut next = self.members.get(member.index()).map_or(NONE, |h| h.first);
        while next != NONE {
            let lot = &self.lots[next as usize];
            if lot.left > 0 {
                lots.lots += 1;
                lots.daily += Money::from_fen(lot.daily.min(lot.left));
            }
            next = lot.next;
        }
        lots
    }
}

impl Kind for GreenPoints {
    const NAME: &'static str = "green_points";
    const TITLE: (&'static str, &'static str) = ("绿色积分", "Green points");
    const POINTS: bool = true;
    type Config = GreenPointsConfig;
    type View = GreenPointsView;
    type Standing = Lots;

    fn reconfigure(&mut self, config: &GreenPointsConfig) {
        self.config = config.clone();
    }

    fn new(config: &GreenPointsConfig) -> GreenPoints {
        GreenPoints {
            config: config.clone(),
            lots: Vec::new(),
            active: Vec::new(),
            sorted: 0,
            members: Vec::new(),
            released: 0,
            live: 0,
        }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.grant(cx.pool, cx.books, order);
    }

    fn on_close_day(&mut self, cx: &mut Cx<'_>, _now: crate::time::Timestamp) {
        self.close_day(cx.pool, cx.books, cx.members);
    }

    /// Burns what the order's lots have not released.
    fn claw_back(&mut self, cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        let (taken, kept) = self.claw_back_lots(cx.pool, cx.books, refund.items.clone());
        ClawbackTotals::points(taken, kept)
    }

    fn marks(&self) -> super::Marks {
        super::Marks { items: self.lots.len() as u32, entry: u64::MAX }
    }

    fn read_ahead(&self, look: &Look<'_>, member: MemberId, _uplines: &[Option<MemberId>; 3]) -> i64 {
        crate::table::prefetch(&self.members, member);
        look.prefetch_points(member);
        0
    }

    fn view(&self, look: &Look<'_>) -> GreenPointsView {
        GreenPointsView {
            points: look.outstanding(),
            lots: self.live as u64,
            released: Money::from_fen(self.released),
        }
    }

    fn standing(&self, look: &Look<'_>, member: MemberId) -> Lots {
        Lots { points: look.held(member), ..self.lots_of(member) }
    }
}
