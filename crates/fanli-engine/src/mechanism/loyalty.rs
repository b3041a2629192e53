//! 积分 / 会员等级: points earned by spending (per yuan and per order), multiplied by the member's
//! tier and by bonus weekdays; points for topping up store credit and for direct referees'
//! spending; kept in lots that expire on their own dates, with reminders before; spent on a
//! rewards catalogue (`redeem`) or cashed out from the pool (`sell`).
//!
//! Decisions where the spec is brief (see also docs/decisions.md):
//! - Every grant is a lot; spending takes the member's oldest lots first. With `expiry_days`, a
//!   lot expires that many days after it was granted: since the days are the same for every lot
//!   and time never goes back, lots expire in the order they were granted, so one cursor over
//!   them finds every expiry and every reminder in O(1) amortized.
//! - Expiry and reminders run after every accepted event at its time (and before a redemption
//!   or cash-out spends anything), never on a rejected event.
//! - The tier applied to an order is the one reached before it: settled spend (`min_spend`) or
//!   points earned by orders (`min_points`) over the 365 days before the order settles.
//! - An order earns `⌊⌊(amount × per_yuan + per_order) × tier⌋ × bonus day⌋` (each step rounded
//!   down to 1/10000 point); the bonus day is the weekday the order was paid, in the plan's
//!   timezone. Referee and top-up points are not multiplied and do not count towards tiers.
//! - Cash-out pays `points × amount ÷ points` of `cashout` (rounded down to the fen), owed from
//!   the pool through the obligation queue.

use std::collections::VecDeque;

use super::{Base, Books, Settlement, slot};
use crate::MemberId;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points, Rate};
use crate::plan::{LoyaltyConfig, PayTo, TierMin};
use crate::time::Timestamp;

const NONE: u32 = u32::MAX;
/// The rolling year of tiers.
const YEAR_DAYS: u32 = 365;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Loyalty {
    pub(crate) config: LoyaltyConfig,
    /// Every lot, in the order granted (so in the order they expire).
    lots: Vec<Lot>,
    /// Lots before this one have expired or are being kept for good.
    expired: usize,
    /// Per reminder (as in the plan): lots before this one have been reminded of.
    reminded: Vec<usize>,
    /// The earliest instant at which an expiry or a reminder falls due (far future: none), so
    /// that most events skip `on_time` after one comparison.
    next_due: Timestamp,
    members: Vec<Holder>,
    /// Order earnings of the rolling year, oldest first: (settled at, member, spend fen, units).
    year: VecDeque<(Timestamp, MemberId, i64, i64)>,
    /// Entries taken off the front of `year`: `year[i]` is entry number `year_popped + i`.
    year_popped: u64,
    totals: Totals,
}

/// A mechanism's points, in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Totals {
    /// Granted in all.
    pub issued: Points,
    /// Spent on rewards.
    pub redeemed: Points,
    /// Cashed out.
    pub cashed: Points,
    /// Expired unspent.
    pub expired: Points,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Lot {
    member: MemberId,
    next: u32,
    left: i64,
    granted: i64,
    expires: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Holder {
    /// The oldest lot that may have points left, and the newest.
    first: u32,
    last: u32,
    /// Settled spend (fen) and order points (units) of the rolling year.
    year_spend: i64,
    year_points: i64,
}

impl Default for Holder {
    fn default() -> Holder {
        Holder { first: NONE, last: NONE, year_spend: 0, year_points: 0 }
    }
}

/// A member's loyalty standing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoyaltyStanding {
    /// The tier reached (index into the plan's tiers), if any.
    pub tier: Option<usize>,
    /// Settled spend of the rolling year.
    pub year_spend: Money,
    /// Points earned by orders in the rolling year.
    pub year_points: Points,
    /// The oldest points that will expire, and when.
    pub next_expiry: Option<(Points, Timestamp)>,
    /// With reminders: the points that expire within the longest reminder's days (the notice).
    pub expiring_soon: Option<(Points, u32)>,
}

impl Loyalty {
    /// Starts loading the member's row (see `Engine::read_ahead`).
    pub(crate) fn prefetch(&self, member: MemberId) {
        super::prefetch(&self.members, member);
    }

    pub(crate) fn new(config: &LoyaltyConfig) -> Loyalty {
        Loyalty {
            reminded: vec![0; config.reminders.len()],
            next_due: NEVER,
            config: config.clone(),
            lots: Vec::new(),
            expired: 0,
            members: Vec::new(),
            year: VecDeque::new(),
            year_popped: 0,
            totals: Totals::default(),
        }
    }

    /// A settled order earns points for the buyer and, with `referee_rate`, for the referrer.
    pub(crate) fn on_settled(&mut self, base: &Base, books: &mut Books, order: &Settlement) {
        let Settlement { member, amount, now, .. } = *order;
        self.roll_year(now);
        let c = &self.config;
        // A yuan is 100 fen, a point 10,000 units: amount in fen × 100 is "one point a yuan".
        let earned = per_yuan(amount, c.earn_per_yuan) + c.earn_per_order;
        let earned = earned.mul_rate(self.tier_of(member).map_or(Rate::ONE, |t| c.tiers[t].multiplier));
        let bonus =
            c.bonus_days.iter().find(|b| b.weekday == order.weekday).map_or(Rate::ONE, |b| b.multiplier);
        let earned = earned.mul_rate(bonus).units();
        self.grant(base, books, member, earned, now, Rule::Earn);
        let holder = slot(&mut self.members, member);
        holder.year_spend += amount.fen();
        holder.year_points += earned;
        self.year.push_back((now, member, amount.fen(), earned));
        self.on_referral(base, books, order);
    }

    /// The referral part of a settled order: the referrer's points for their referee's spend.
    pub(crate) fn on_referral(&mut self, base: &Base, books: &mut Books, order: &Settlement) {
        if let Some(referrer) = order.referrer() {
            let units = per_yuan(order.amount, self.config.referee_rate).units();
            self.grant(base, books, referrer, units, order.now, Rule::RefereeBonus);
        }
    }

    /// Store credit topped up: `topup_bonus` points per whole `per` of it.
    pub(crate) fn on_topup(
        &mut self,
        base: &Base,
        books: &mut Books,
        member: MemberId,
        amount: Money,
        now: Timestamp,
    ) {
        let Some(bonus) = self.config.topup_bonus else { return };
        let units = amount.fen() / bonus.per.fen() * bonus.points.units();
        self.grant(base, books, member, units, now, Rule::TopupBonus);
    }

    fn grant(
        &mut self,
        base: &Base,
        books: &mut Books,
        member: MemberId,
        units: i64,
        now: Timestamp,
        rule: Rule,
    ) {
        if units <= 0 {
            return;
        }
        books.ledger.post(
            Account::Issued(base.id),
            Account::Points(base.id, member),
            units,
            Some(base.id),
            rule,
        );
        self.totals.issued += Points::from_units(units);
        let index = u32::try_from(self.lots.len()).ok().filter(|&i| i != NONE).expect("fewer than 2^32 lots");
        let expires = self.config.expiry_days.map(|days| now.plus_days(days));
        self.lots.push(Lot { member, next: NONE, left: units, granted: units, expires });
        if let Some(expires) = expires {
            // A cursor waiting at the end now waits for this lot.
            if self.expired == index as usize {
                self.next_due = self.next_due.min(expires);
            }
            for (r, &days) in self.config.reminders.iter().enumerate() {
                if self.reminded[r] == index as usize {
                    self.next_due = self.next_due.min(before(expires, days));
                }
            }
        }
        let holder = slot(&mut self.members, member);
        match holder.last {
            NONE => holder.first = index,
            last => self.lots[last as usize].next = index,
        }
        let holder = &mut self.members[member.index()];
        holder.last = index;
        if holder.first == NONE {
            holder.first = index;
        }
        books.effect(Effect::Earned { mechanism: base.id, member, points: Points::from_units(units), rule });
    }

    /// Expires the lots due by `now`, and sends the reminders due by then.
    pub(crate) fn on_time(&mut self, base: &Base, books: &mut Books, now: Timestamp) {
        if self.config.expiry_days.is_none() || now < self.next_due {
            return self.roll_year(now);
        }
        for (r, &days) in self.config.reminders.iter().enumerate() {
            while let Some(lot) = self.lots.get(self.reminded[r])
                && lot.expires.is_some_and(|e| e <= now.plus_days(days))
            {
                let expires = lot.expires.expect("checked");
                if lot.left > 0 && expires > now {
                    books.effect(Effect::ExpiryReminder {
                        mechanism: base.id,
                        member: lot.member,
                        points: Points::from_units(lot.left),
                        expires,
                        days,
                    });
                }
                self.reminded[r] += 1;
            }
        }
        while let Some(lot) = self.lots.get_mut(self.expired)
            && lot.expires.is_some_and(|e| e <= now)
        {
            let (member, units) = (lot.member, lot.left);
            lot.left = 0;
            self.expired += 1;
            if units > 0 {
                books.ledger.post(
                    Account::Points(base.id, member),
                    Account::Issued(base.id),
                    units,
                    Some(base.id),
                    Rule::Expire,
                );
                self.totals.expired += Points::from_units(units);
                books.effect(Effect::Expired {
                    mechanism: base.id,
                    member,
                    points: Points::from_units(units),
                });
            }
        }
        self.next_due = NEVER;
        if let Some(expires) = self.lots.get(self.expired).and_then(|l| l.expires) {
            self.next_due = expires;
        }
        for (r, &days) in self.config.reminders.iter().enumerate() {
            if let Some(expires) = self.lots.get(self.reminded[r]).and_then(|l| l.expires) {
                self.next_due = self.next_due.min(before(expires, days));
            }
        }
        self.roll_year(now);
    }

    /// What the member can spend at `now`: what they hold, less what expires by then.
    pub(crate) fn spendable(&self, books: &Books, base: &Base, member: MemberId, now: Timestamp) -> Points {
        let mut expiring = 0;
        let mut next = self.members.get(member.index()).map_or(NONE, |h| h.first);
        while next != NONE {
            let lot = &self.lots[next as usize];
            if lot.expires.is_none_or(|e| e > now) {
                break;
            }
            expiring += lot.left;
            next = lot.next;
        }
        books.ledger.held(base.id, member) - Points::from_units(expiring)
    }

    /// Spends `points` (checked to be spendable) on the catalogue's reward `reward`.
    pub(crate) fn redeem(
        &mut self,
        base: &Base,
        books: &mut Books,
        member: MemberId,
        reward: usize,
        now: Timestamp,
    ) {
        self.on_time(base, books, now);
        let points = self.config.rewards[reward].points;
        self.spend(base, books, member, points, Rule::Redeem);
        self.totals.redeemed += points;
        books.effect(Effect::Redeemed { mechanism: base.id, member, reward: reward as u32, points });
    }

    /// Cashes out `points` (checked to be spendable) at the plan's `cashout` rate, owed from the pool.
    pub(crate) fn cash_out(
        &mut self,
        base: &mut Base,
        books: &mut Books,
        member: MemberId,
        points: Points,
        now: Timestamp,
    ) {
        let cashout = self.config.cashout.expect("checked by the caller");
        self.on_time(base, books, now);
        let cash = Money::from_fen(
            (points.units() as i128 * cashout.amount.fen() as i128 / cashout.points.units() as i128) as i64,
        );
        self.spend(base, books, member, points, Rule::Cashout);
        self.totals.cashed += points;
        base.owe(member, cash, PayTo::Wallet, Rule::Cashout);
        books.effect(Effect::CashedOut { mechanism: base.id, member, points, cash });
    }

    /// Burns `points` from the member's lots, oldest first.
    fn spend(&mut self, base: &Base, books: &mut Books, member: MemberId, points: Points, rule: Rule) {
        books.ledger.post(
            Account::Points(base.id, member),
            Account::Issued(base.id),
            points.units(),
            Some(base.id),
            rule,
        );
        let holder = &mut self.members[member.index()];
        let mut wanted = points.units();
        while wanted > 0 && holder.first != NONE {
            let lot = &mut self.lots[holder.first as usize];
            let taken = lot.left.min(wanted);
            lot.left -= taken;
            wanted -= taken;
            if lot.left == 0 {
                holder.first = lot.next;
            }
        }
        debug_assert_eq!(wanted, 0, "the ledger and the lots agree");
    }

    /// Drops from the rolling year what settled 365 days or more before `now`.
    fn roll_year(&mut self, now: Timestamp) {
        while let Some(&(at, member, spend, units)) = self.year.front() {
            if at.plus_days(YEAR_DAYS) > now {
                break;
            }
            let holder = &mut self.members[member.index()];
            holder.year_spend -= spend;
            holder.year_points -= units;
            self.year.pop_front();
            self.year_popped += 1;
        }
    }

    /// The tier the member has reached (index into the plan's tiers).
    fn tier_of(&self, member: MemberId) -> Option<usize> {
        let holder = self.members.get(member.index()).copied().unwrap_or_default();
        self.config.tiers.iter().rposition(|t| match t.min {
            TierMin::Spend(min) => holder.year_spend >= min.fen(),
            TierMin::Points(min) => holder.year_points >= min.units(),
        })
    }

    /// Lots granted so far, and the rolling year's entries so far: what a settlement added is
    /// the difference across it.
    pub(crate) fn marks(&self) -> (u32, u64) {
        (self.lots.len() as u32, self.year_popped + self.year.len() as u64)
    }

    /// Clawback: burns what lots `lots` have left and takes rolling-year entry `entry` (if
    /// still in the year) out of the tier figures. Returns (burned, already spent or expired).
    pub(crate) fn claw_back(
        &mut self,
        base: &Base,
        books: &mut Books,
        lots: std::ops::Range<u32>,
        entry: Option<u64>,
    ) -> (Points, Points) {
        let (mut taken, mut kept) = (0, 0);
        for index in lots {
            let lot = &mut self.lots[index as usize];
            let (member, units) = (lot.member, lot.left);
            taken += units;
            kept += lot.granted - units;
            lot.left = 0;
            books.ledger.post(
                Account::Points(base.id, member),
                Account::Issued(base.id),
                units,
                Some(base.id),
                Rule::Clawback,
            );
        }
        if let Some(number) = entry.filter(|&n| n >= self.year_popped) {
            let (_, member, spend, units) = &mut self.year[(number - self.year_popped) as usize];
            let holder = &mut self.members[member.index()];
            holder.year_spend -= *spend;
            holder.year_points -= *units;
            (*spend, *units) = (0, 0);
        }
        (Points::from_units(taken), Points::from_units(kept))
    }

    pub(crate) fn totals(&self) -> Totals {
        self.totals
    }

    /// The member's standing as of `now` (the last event's time): `expiring_soon` is what
    /// expires within the plan's longest reminder, the notice the member is being given.
    pub(crate) fn standing(&self, member: MemberId, now: Option<Timestamp>) -> LoyaltyStanding {
        let holder = self.members.get(member.index()).copied().unwrap_or_default();
        let window = self.config.reminders.iter().max().copied();
        let soon = now.zip(window).map(|(now, days)| now.plus_days(days));
        let (mut next_expiry, mut expiring_soon) = (None, 0);
        let mut next = holder.first;
        while next != NONE {
            let lot = &self.lots[next as usize];
            if lot.left > 0 {
                let Some(expires) = lot.expires else { break };
                next_expiry.get_or_insert((Points::from_units(lot.left), expires));
                if soon.is_none_or(|soon| expires > soon) {
                    break;
                }
                expiring_soon += lot.left;
            }
            next = lot.next;
        }
        LoyaltyStanding {
            tier: self.tier_of(member),
            year_spend: Money::from_fen(holder.year_spend),
            year_points: Points::from_units(holder.year_points),
            next_expiry,
            expiring_soon: window.map(|days| (Points::from_units(expiring_soon), days)),
        }
    }
}

/// Later than any event.
const NEVER: Timestamp = Timestamp::from_unix_nanos(i64::MAX);

/// `days` days before `at`.
fn before(at: Timestamp, days: u32) -> Timestamp {
    Timestamp::from_unix_nanos(at.unix_nanos() - days as i64 * crate::time::DAY_NANOS)
}

/// `rate` points a yuan of `amount`, rounded down.
fn per_yuan(amount: Money, rate: Rate) -> Points {
    Points::from_units(amount.fen() * 100).mul_rate(rate)
}
