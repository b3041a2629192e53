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

mod config;
mod view;

use std::collections::VecDeque;

pub use config::{BonusDay, Cashout, LoyaltyConfig, LoyaltyTier, Reward, TierMin, TopupBonus};
pub use view::{LoyaltyStanding, LoyaltyView, Totals};

use super::{Cx, Kind, Look, Redemption, Refunded, Settlement, Who};
use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points, Rate};
use crate::pool::{Books, Pool};
use crate::rejection::Rejection;
use crate::table::slot;
use crate::terms::PayTo;
use crate::time::Timestamp;

const NONE: u32 = u32::MAX;
/// The rolling year of tiers.
const YEAR_DAYS: u32 = 365;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Loyalty {
    config: LoyaltyConfig,
    /// Every lot, in the order granted (so in the order they expire).
    lots: Lots,
    /// Lots before this one have expired or are being kept for good.
    expired: usize,
    /// Per reminder (as in the plan): lots before this one have been reminded of.
    reminded: Vec<usize>,
    /// The earliest instant at which an expiry or a reminder falls due (far future: none), so
    /// that most events skip `on_time` after one comparison.
    next_due: Timestamp,
    members: Vec<Holder>,
    /// Order earnings of the rolling year, oldest first.
    year: VecDeque<YearEntry>,
    /// Entries taken off the front of `year`: `year[i]` is entry number `year_popped + i`.
    year_popped: u64,
    /// The entries of `year` whose order earned fewer than zero points (a negative `per_order`
    /// larger than what the amount earns): (entry number, points), oldest first. They have no
    /// lot to read their points from.
    year_below_zero: VecDeque<(u64, i64)>,
    /// When the entries of `year` settled, as runs: (first entry number, when it and the
    /// entries after it settled, up to the next run's first), oldest first. A day's orders
    /// settle at one instant (the day close), so there is about one run a day.
    year_times: VecDeque<(u64, Timestamp)>,
    /// The entries of `year` whose spend does not fit an `i32` ([`BIG_SPEND`] in the entry):
    /// (entry number, spend), oldest first.
    year_big_spend: VecDeque<(u64, i64)>,
    totals: Totals,
}

/// A lot of points granted at once. 20 bytes, one for every grant ever made (two to four a
/// member on the all-kinds benchmark, issue 19): what it was granted and has left are `i32`
/// while the grant fits (214,748 points), else [`BIG`] in `granted` and both figures whole in
/// [`Lots`]' `big`; when it expires is an index into [`Lots`]' `expiries`.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Lot {
    member: MemberId,
    next: u32,
    left: i32,
    granted: i32,
    expiry: u32,
}
const _: () = assert!(size_of::<Lot>() == 20);

/// `Lot::granted` of a lot whose grant does not fit an `i32`: a grant is never below one unit.
const BIG: i32 = -1;

/// Every lot, in the order granted, and the parts of them kept apart.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Lots {
    lots: Vec<Lot>,
    /// (lot, left, granted) of the lots marked [`BIG`], by lot.
    big: Vec<(u32, i64, i64)>,
    /// When lots expire ([`NO_EXPIRY`]: never), each instant once: a day's lots are granted
    /// at one instant (the day close settles its orders together), so there are about as many
    /// as days, not as lots. `Lot::expiry` indexes it.
    expiries: Vec<Timestamp>,
}

impl Lots {
    fn len(&self) -> usize {
        self.lots.len()
    }

    /// Adds a lot of `units` (above zero) for `member`, expiring at `expires` ([`NO_EXPIRY`]
    /// for never); returns its index.
    fn push(&mut self, member: MemberId, units: i64, expires: Timestamp) -> u32 {
        debug_assert!(units > 0);
        let index = u32::try_from(self.lots.len()).ok().filter(|&i| i != NONE).expect("fewer than 2^32 lots");
        let small = i32::try_from(units).ok();
        let stored = small.unwrap_or(BIG);
        if small.is_none() {
            self.big.push((index, units, units));
        }
        if self.expiries.last() != Some(&expires) {
            self.expiries.push(expires);
        }
        let expiry = (self.expiries.len() - 1) as u32;
        self.lots.push(Lot { member, next: NONE, left: stored, granted: stored, expiry });
        index
    }

    fn member(&self, index: u32) -> MemberId {
        self.lots[index as usize].member
    }

    fn next(&self, index: u32) -> u32 {
        self.lots[index as usize].next
    }

    fn set_next(&mut self, index: u32, next: u32) {
        self.lots[index as usize].next = next;
    }

    fn big(&self, index: u32) -> usize {
        self.big.binary_search_by_key(&index, |&(lot, ..)| lot).expect("a big lot is in `big`")
    }

    /// What lot `index` has left.
    fn left(&self, index: u32) -> i64 {
        let lot = &self.lots[index as usize];
        match lot.granted {
            BIG => self.big[self.big(index)].1,
            _ => i64::from(lot.left),
        }
    }

    /// What lot `index` was granted (never changed).
    fn granted(&self, index: u32) -> i64 {
        match self.lots[index as usize].granted {
            BIG => self.big[self.big(index)].2,
            granted => i64::from(granted),
        }
    }

    /// Sets what lot `index` has left: from zero to what it was granted.
    fn set_left(&mut self, index: u32, left: i64) {
        debug_assert!((0..=self.granted(index)).contains(&left));
        match self.lots[index as usize].granted {
            BIG => {
                let i = self.big(index);
                self.big[i].1 = left;
            }
            _ => self.lots[index as usize].left = i32::try_from(left).expect("at most what it was granted"),
        }
    }

    /// When lot `index` expires, if it does.
    fn expires(&self, index: u32) -> Option<Timestamp> {
        let expires = self.expiries[self.lots[index as usize].expiry as usize];
        (expires != NO_EXPIRY).then_some(expires)
    }

    /// When the lot at a cursor (`expired`, a reminder's) expires: `None` past the last lot or
    /// for a lot that never expires.
    fn expires_at(&self, cursor: usize) -> Option<Timestamp> {
        let lot = u32::try_from(cursor).ok().filter(|_| cursor < self.lots.len())?;
        self.expires(lot)
    }
}

/// A settled order's part of the rolling year. 12 bytes, one for every order settled in the
/// last 365 days (issue 19): the points it earned are its lot's (`granted`, which never
/// changes), not a copy; when it settled is its run's in `Loyalty::year_times`.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct YearEntry {
    /// Its amount in fen (0 once clawed back), or [`BIG_SPEND`]: the amount is in
    /// `Loyalty::year_big_spend`.
    spend: i32,
    member: MemberId,
    /// The lot of the points it earned; [`NONE`] when it earned none or fewer than none (see
    /// `Loyalty::year_below_zero`), or once clawed back.
    lot: u32,
}
const _: () = assert!(size_of::<YearEntry>() == 12);

/// `YearEntry::spend` of an order whose amount does not fit an `i32` (21,474,836.47 yuan).
const BIG_SPEND: i32 = -1;

/// A lot that never expires: no event's time is this early (events are from 1900 on).
const NO_EXPIRY: Timestamp = Timestamp::from_unix_nanos(i64::MIN);

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

impl Loyalty {
    /// A settled order earns points for the buyer and, with `referee_rate`, for the referrer.
    fn earn(&mut self, pool: &Pool, books: &mut Books, order: &Settlement<'_>) {
        let Settlement { member, amount, now, .. } = *order;
        self.roll_year(now);
        let c = &self.config;
        // A yuan is 100 fen, a point 10,000 units: amount in fen × 100 is "one point a yuan".
        let earned = per_yuan(amount, c.earn_per_yuan) + c.earn_per_order;
        let earned = earned.mul_rate(self.tier_of(member).map_or(Rate::ONE, |t| c.tiers[t].multiplier));
        let bonus =
            c.bonus_days.iter().find(|b| b.weekday == order.weekday).map_or(Rate::ONE, |b| b.multiplier);
        let earned = earned.mul_rate(bonus).units();
        // `grant` makes a lot, the next one, when there are points to grant.
        let lot = if earned > 0 { self.lots.len() as u32 } else { NONE };
        self.grant(pool, books, member, earned, now, Rule::Earn);
        let holder = slot(&mut self.members, member);
        holder.year_spend += amount.fen();
        holder.year_points += earned;
        if earned < 0 {
            self.year_below_zero.push_back((self.year_popped + self.year.len() as u64, earned));
        }
        let number = self.year_popped + self.year.len() as u64;
        if self.year_times.back().is_none_or(|&(_, at)| at != now) {
            self.year_times.push_back((number, now));
        }
        let spend = i32::try_from(amount.fen()).unwrap_or(BIG_SPEND);
        if spend == BIG_SPEND {
            self.year_big_spend.push_back((number, amount.fen()));
        }
        self.year.push_back(YearEntry { spend, member, lot });
        self.referee_bonus(pool, books, order);
    }

    /// The referral part of a settled order: the referrer's points for their referee's spend.
    fn referee_bonus(&mut self, pool: &Pool, books: &mut Books, order: &Settlement<'_>) {
        if let Some(referrer) = order.referrer() {
            let units = per_yuan(order.amount, self.config.referee_rate).units();
            self.grant(pool, books, referrer, units, order.now, Rule::RefereeBonus);
        }
    }

    /// Store credit topped up: `topup_bonus` points per whole `per` of it.
    fn topup_bonus(
        &mut self,
        pool: &Pool,
        books: &mut Books,
        member: MemberId,
        amount: Money,
        now: Timestamp,
    ) {
        let Some(bonus) = self.config.topup_bonus else { return };
        let units = amount.fen() / bonus.per.fen() * bonus.points.units();
        self.grant(pool, books, member, units, now, Rule::TopupBonus);
    }

    fn grant(
        &mut self,
        pool: &Pool,
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
            Account::Issued(pool.id),
            Account::Points(pool.id, member),
            units,
            Some(pool.id),
            rule,
        );
        self.totals.issued += Points::from_units(units);
        let expires = self.config.expiry_days.map(|days| now.plus_days(days));
        let index = self.lots.push(member, units, expires.unwrap_or(NO_EXPIRY));
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
            last => self.lots.set_next(last, index),
        }
        let holder = &mut self.members[member.index()];
        holder.last = index;
        if holder.first == NONE {
            holder.first = index;
        }
        books.effect(Effect::Earned { mechanism: pool.id, member, points: Points::from_units(units), rule });
    }

    /// Expires the lots due by `now`, and sends the reminders due by then.
    fn expire(&mut self, pool: &Pool, books: &mut Books, now: Timestamp) {
        if self.config.expiry_days.is_none() || now < self.next_due {
            return self.roll_year(now);
        }
        for (r, &days) in self.config.reminders.iter().enumerate() {
            while let Some(expires) = self.lots.expires_at(self.reminded[r])
                && expires <= now.plus_days(days)
            {
                let lot = self.reminded[r] as u32;
                let left = self.lots.left(lot);
                if left > 0 && expires > now {
                    books.effect(Effect::ExpiryReminder {
                        mechanism: pool.id,
                        member: self.lots.member(lot),
                        points: Points::from_units(left),
                        expires,
                        days,
                    });
                }
                self.reminded[r] += 1;
            }
        }
        while self.lots.expires_at(self.expired).is_some_and(|e| e <= now) {
            let lot = self.expired as u32;
            let (member, units) = (self.lots.member(lot), self.lots.left(lot));
            self.lots.set_left(lot, 0);
            self.expired += 1;
            if units > 0 {
                books.ledger.post(
                    Account::Points(pool.id, member),
                    Account::Issued(pool.id),
                    units,
                    Some(pool.id),
                    Rule::Expire,
                );
                self.totals.expired += Points::from_units(units);
                books.effect(Effect::Expired {
                    mechanism: pool.id,
                    member,
                    points: Points::from_units(units),
                });
            }
        }
        self.next_due = NEVER;
        if let Some(expires) = self.lots.expires_at(self.expired) {
            self.next_due = expires;
        }
        for (r, &days) in self.config.reminders.iter().enumerate() {
            if let Some(expires) = self.lots.expires_at(self.reminded[r]) {
                self.next_due = self.next_due.min(before(expires, days));
            }
        }
        self.roll_year(now);
    }

    /// What the member can spend at `now`: what they hold, less what expires by then.
    fn spendable(&self, books: &Books, pool: &Pool, member: MemberId, now: Timestamp) -> Points {
        let mut expiring = 0;
        let mut next = self.members.get(member.index()).map_or(NONE, |h| h.first);
        while next != NONE {
            if self.lots.expires(next).is_none_or(|e| e > now) {
                break;
            }
            expiring += self.lots.left(next);
            next = self.lots.next(next);
        }
        books.ledger.held(pool.id, member) - Points::from_units(expiring)
    }

    /// Spends `points` (checked to be spendable) on the catalogue's reward `reward`.
    fn redeem_reward(
        &mut self,
        pool: &Pool,
        books: &mut Books,
        member: MemberId,
        reward: usize,
        now: Timestamp,
    ) {
        self.expire(pool, books, now);
        let points = self.config.rewards[reward].points;
        self.spend(pool, books, member, points, Rule::Redeem);
        self.totals.redeemed += points;
        books.effect(Effect::Redeemed { mechanism: pool.id, member, reward: reward as u32, points });
    }

    /// Cashes out `points` (checked to be spendable) at the plan's `cashout` rate, owed from the pool.
    fn cash_out(
        &mut self,
        pool: &mut Pool,
        books: &mut Books,
        member: MemberId,
        points: Points,
        now: Timestamp,
    ) {
        let cashout = self.config.cashout.expect("checked by the caller");
        self.expire(pool, books, now);
        // Within 64 bits: the engine counted it (`sell_growth`) before the sale.
        let cash =
            Money::from_fen(i64::try_from(cash_for(points, cashout)).expect("checked before the sale"));
        self.spend(pool, books, member, points, Rule::Cashout);
        self.totals.cashed += points;
        pool.owe(member, cash, PayTo::Wallet, Rule::Cashout);
        books.effect(Effect::CashedOut { mechanism: pool.id, member, points, cash });
    }

    /// Burns `points` from the member's lots, oldest first.
    fn spend(&mut self, pool: &Pool, books: &mut Books, member: MemberId, points: Points, rule: Rule) {
        books.ledger.post(
            Account::Points(pool.id, member),
            Account::Issued(pool.id),
            points.units(),
            Some(pool.id),
            rule,
        );
        let holder = &mut self.members[member.index()];
        let mut wanted = points.units();
        while wanted > 0 && holder.first != NONE {
            let lot = holder.first;
            let left = self.lots.left(lot);
            let taken = left.min(wanted);
            self.lots.set_left(lot, left - taken);
            wanted -= taken;
            if left == taken {
                holder.first = self.lots.next(lot);
            }
        }
        debug_assert_eq!(wanted, 0, "the ledger and the lots agree");
    }

    /// Drops from the rolling year what settled 365 days or more before `now`.
    fn roll_year(&mut self, now: Timestamp) {
        while let Some(&entry) = self.year.front() {
            // Runs whose entries have all left (the next run starts at or before the front).
            while self.year_times.get(1).is_some_and(|&(first, _)| first <= self.year_popped) {
                self.year_times.pop_front();
            }
            let &(_, at) = self.year_times.front().expect("every entry has its run");
            if at.plus_days(YEAR_DAYS) > now {
                break;
            }
            let units = self.year_units(self.year_popped, &entry);
            let spend = self.year_spend(self.year_popped, &entry);
            if self.year_below_zero.front().is_some_and(|&(number, _)| number == self.year_popped) {
                self.year_below_zero.pop_front();
            }
            if self.year_big_spend.front().is_some_and(|&(number, _)| number == self.year_popped) {
                self.year_big_spend.pop_front();
            }
            let holder = &mut self.members[entry.member.index()];
            holder.year_spend -= spend;
            holder.year_points -= units;
            self.year.pop_front();
            self.year_popped += 1;
        }
    }

    /// The amount of the order of rolling-year entry `number`, in fen (0 once clawed back).
    fn year_spend(&self, number: u64, entry: &YearEntry) -> i64 {
        match entry.spend {
            BIG_SPEND => {
                let i = self.year_big_spend.binary_search_by_key(&number, |&(n, _)| n);
                self.year_big_spend[i.expect("a big spend is in `year_big_spend`")].1
            }
            spend => i64::from(spend),
        }
    }

    /// The points the order of rolling-year entry `number` earned (0 once clawed back).
    fn year_units(&self, number: u64, entry: &YearEntry) -> i64 {
        match entry.lot {
            NONE => match self.year_below_zero.binary_search_by_key(&number, |&(n, _)| n) {
                Ok(i) => self.year_below_zero[i].1,
                Err(_) => 0,
            },
            lot => self.lots.granted(lot),
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
    fn marks_now(&self) -> (u32, u64) {
        (self.lots.len() as u32, self.year_popped + self.year.len() as u64)
    }

    /// Clawback: burns what lots `lots` have left and takes rolling-year entry `entry` (if
    /// still in the year) out of the tier figures. Returns (burned, already spent or expired).
    fn claw_back_lots(
        &mut self,
        pool: &Pool,
        books: &mut Books,
        lots: std::ops::Range<u32>,
        entry: Option<u64>,
    ) -> (Points, Points) {
        let (mut taken, mut kept) = (0, 0);
        for index in lots {
            let (member, units) = (self.lots.member(index), self.lots.left(index));
            taken += units;
            kept += self.lots.granted(index) - units;
            self.lots.set_left(index, 0);
            books.ledger.post(
                Account::Points(pool.id, member),
                Account::Issued(pool.id),
                units,
                Some(pool.id),
                Rule::Clawback,
            );
        }
        if let Some(number) = entry.filter(|&n| n >= self.year_popped) {
            let i = (number - self.year_popped) as usize;
            let units = self.year_units(number, &self.year[i]);
            let spend = self.year_spend(number, &self.year[i]);
            if let Ok(below) = self.year_below_zero.binary_search_by_key(&number, |&(n, _)| n) {
                self.year_below_zero[below].1 = 0;
            }
            let entry = &mut self.year[i];
            let holder = &mut self.members[entry.member.index()];
            holder.year_spend -= spend;
            holder.year_points -= units;
            (entry.spend, entry.lot) = (0, NONE);
        }
        (Points::from_units(taken), Points::from_units(kept))
    }

    /// The member's standing as of `now` (the last event's time): `expiring_soon` is what
    /// expires within the plan's longest reminder, the notice the member is being given.
    fn standing_at(&self, member: MemberId, now: Option<Timestamp>) -> LoyaltyStanding {
        let holder = self.members.get(member.index()).copied().unwrap_or_default();
        let window = self.config.reminders.iter().max().copied();
        let soon = now.zip(window).map(|(now, days)| now.plus_days(days));
        let (mut next_expiry, mut expiring_soon) = (None, 0);
        let mut next = holder.first;
        while next != NONE {
            let left = self.lots.left(next);
            if left > 0 {
                let Some(expires) = self.lots.expires(next) else { break };
                next_expiry.get_or_insert((Points::from_units(left), expires));
                if soon.is_none_or(|soon| expires > soon) {
                    break;
                }
                expiring_soon += left;
            }
            next = self.lots.next(next);
        }
        LoyaltyStanding {
            points: Points::ZERO,
            tier: self.tier_of(member).map(|t| self.config.tiers[t].name.clone()),
            year_spend: Money::from_fen(holder.year_spend),
            year_points: Points::from_units(holder.year_points),
            next_expiry,
            expiring_soon: window.map(|days| (Points::from_units(expiring_soon), days)),
        }
    }
}

impl Kind for Loyalty {
    const NAME: &'static str = "loyalty";
    const TITLE: (&'static str, &'static str) = ("会员积分", "Loyalty points");
    const POINTS: bool = true;
    type Config = LoyaltyConfig;
    type View = LoyaltyView;
    type Standing = LoyaltyStanding;

    fn reconfigure(&mut self, config: &LoyaltyConfig) {
        self.config = config.clone();
    }

    fn new(config: &LoyaltyConfig) -> Loyalty {
        Loyalty {
            reminded: vec![0; config.reminders.len()],
            next_due: NEVER,
            config: config.clone(),
            lots: Lots::default(),
            expired: 0,
            members: Vec::new(),
            year: VecDeque::new(),
            year_popped: 0,
            year_times: VecDeque::new(),
            year_big_spend: VecDeque::new(),
            year_below_zero: VecDeque::new(),
            totals: Totals::default(),
        }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.earn(cx.pool, cx.books, order);
    }

    /// A held referral approved: the referrer's points for their referee's spend.
    fn on_referral(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        if order.from == 0 {
            self.referee_bonus(cx.pool, cx.books, order);
        }
    }

    fn on_topup(&mut self, cx: &mut Cx<'_>, member: MemberId, amount: Money, now: Timestamp) {
        self.topup_bonus(cx.pool, cx.books, member, amount, now);
    }

    /// Expiries and reminders fall due as time passes.
    fn on_time(&mut self, cx: &mut Cx<'_>, now: Timestamp) {
        self.expire(cx.pool, cx.books, now);
    }

    /// Burns what the order's lots have left and takes the order out of the tier figures.
    fn claw_back(&mut self, cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        let (taken, kept) = self.claw_back_lots(cx.pool, cx.books, refund.items.clone(), refund.entry);
        ClawbackTotals::points(taken, kept)
    }

    fn marks(&self) -> super::Marks {
        let (items, entry) = self.marks_now();
        super::Marks { items, entry }
    }

    fn read_ahead(&self, look: &Look<'_>, member: MemberId, uplines: &[Option<MemberId>; 3]) -> i64 {
        crate::table::prefetch(&self.members, member);
        look.prefetch_points(member);
        if let Some(referrer) = uplines[0] {
            look.prefetch_points(referrer);
        }
        0
    }

    fn sellable(
        &self,
        look: &Look<'_>,
        member: MemberId,
        at: Timestamp,
    ) -> Result<(Points, &'static str), &'static str> {
        if self.config.cashout.is_none() {
            return Err("cash out points: it has no `cashout`");
        }
        Ok((self.spendable(look.books, look.pool, member, at), "cash out"))
    }

    /// The cash a cash-out owes: `points × amount ÷ points` of `cashout`.
    fn sell_growth(&self, points: Points) -> u128 {
        self.config.cashout.map_or(0, |c| cash_for(points, c))
    }

    fn sell(&mut self, cx: &mut Cx<'_>, member: MemberId, points: Points, at: Timestamp) {
        self.cash_out(cx.pool, cx.books, member, points, at);
    }

    /// A reward of the catalogue, if the member can spend its points now.
    fn redeem(
        &mut self,
        cx: &mut Cx<'_>,
        who: Who<'_>,
        what: Redemption<'_>,
        at: Timestamp,
    ) -> Result<(), Rejection> {
        let Redemption { reward: Some(reward), partner: None, points: None } = what else {
            return Err(Rejection::RedeemNeeds {
                mechanism: who.mechanism.to_owned(),
                needs: "a `reward` of its catalogue (and no `partner` or `points`)",
            });
        };
        let Some(index) = self.config.rewards.iter().position(|r| r.name == reward) else {
            let known: Vec<String> = self.config.rewards.iter().map(|r| format!("`{}`", r.name)).collect();
            return Err(Rejection::UnknownReward {
                mechanism: who.mechanism.to_owned(),
                reward: reward.to_owned(),
                known: if known.is_empty() { "none".to_owned() } else { known.join(", ") },
            });
        };
        let cost = self.config.rewards[index].points;
        let held = self.spendable(cx.books, cx.pool, who.member, at);
        if cost > held {
            return Err(who.not_enough("redeem", held, cost));
        }
        self.redeem_reward(cx.pool, cx.books, who.member, index, at);
        Ok(())
    }

    fn view(&self, look: &Look<'_>) -> LoyaltyView {
        LoyaltyView { points: look.outstanding(), totals: self.totals }
    }

    fn standing(&self, look: &Look<'_>, member: MemberId) -> LoyaltyStanding {
        LoyaltyStanding { points: look.held(member), ..self.standing_at(member, look.now) }
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

/// The cash `points` are worth at the cash-out rate, rounded down.
fn cash_for(points: Points, cashout: Cashout) -> u128 {
    let points = points.units().max(0) as u128;
    points.saturating_mul(cashout.amount.fen().max(0) as u128) / cashout.points.units().max(1) as u128
}
