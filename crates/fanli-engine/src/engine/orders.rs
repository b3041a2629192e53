//! Orders: paid, settled when their refund window passes, refunded; and what each mechanism
//! does when one settles or, under `clawback`, is refunded after settling.

use super::Engine;
use super::earned::Earned;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::event::Order;
use crate::kind::{Cx, Refunded, Settlement};
use crate::ledger::{Account, Rule};
use crate::names::{Absent, TaggedNames};
use crate::num::{Money, Points};
use crate::rejection::{Rejection, check_id};
use crate::time::Timestamp;
use crate::{MemberId, OrderId};

const NONE: u32 = u32::MAX;

/// Every order paid, by the order it was first paid in.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Orders {
    names: TaggedNames,
    records: Vec<OrderRecord>,
    /// The credit and profit of the orders that spent credit or stated a profit, in the order
    /// they were paid (`OrderRecord::extras` points here).
    extras: Vec<Extras>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(super) enum Status {
    Pending,
    Settled,
    Cancelled,
    Refunded,
}

/// What an order id stands for: a repeat must match all of it. 24 bytes, one for every order
/// ever paid (about two a member, issue 19): the parts most orders do not have (store credit
/// spent, a stated profit, a partner past the 65,534th) are kept apart, in [`Orders`]'
/// `extras`, for the orders that have them.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(super) struct OrderRecord {
    pub(super) member: MemberId,
    pub(super) status: Status,
    pub(super) amount: Money,
    store: u32,
    /// The partner's index while it fits below [`PARTNER_APART`], else that (the index is in
    /// the order's [`Extras`]); [`PARTNER_NONE`] for none. Read it with [`Orders::partner`].
    partner: u16,
    /// Where the order's [`Extras`] are in `extras`, or `NONE`: no credit, no stated profit and
    /// no partner kept apart.
    extras: u32,
    /// The weekday it was paid, in the plan's timezone (0 = Monday), for bonus days.
    pub(super) weekday: u8,
}
const _: () = assert!(size_of::<OrderRecord>() == 24);

/// `OrderRecord::partner` of an order that names no partner.
const PARTNER_NONE: u16 = u16::MAX;
/// `OrderRecord::partner` of an order whose partner's index is in its [`Extras`].
const PARTNER_APART: u16 = u16::MAX - 1;

/// What an order paid with store credit, and the profit it stated.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Extras {
    credit: Money,
    profit: Option<Money>,
    /// The partner's index when the record cannot hold it ([`PARTNER_APART`]), else `NONE`.
    partner: u32,
}

impl Orders {
    /// The order with this id.
    pub(super) fn find(&self, name: &str) -> Option<OrderId> {
        self.names.find(name).map(OrderId)
    }

    /// The order with this id, or where a new one would go ([`Names::lookup`]).
    fn lookup(&self, name: &str) -> Result<OrderId, Absent> {
        self.names.lookup(name).map(OrderId)
    }

    /// The order's id.
    pub(super) fn name(&self, order: OrderId) -> &str {
        self.names.get(order.0)
    }

    /// How many distinct orders have been paid.
    pub(super) fn count(&self) -> usize {
        self.records.len()
    }

    pub(super) fn record(&self, order: OrderId) -> &OrderRecord {
        &self.records[order.index()]
    }

    fn extras(&self, record: &OrderRecord) -> Extras {
        match record.extras {
            NONE => Extras { credit: Money::ZERO, profit: None, partner: NONE },
            i => self.extras[i as usize],
        }
    }

    /// The profit the order stated, if it stated one.
    pub(super) fn profit(&self, record: &OrderRecord) -> Option<Money> {
        self.extras(record).profit
    }

    /// What the order paid with store credit.
    pub(super) fn credit(&self, record: &OrderRecord) -> Money {
        self.extras(record).credit
    }

    /// The partner the order names (an index of `Stores`' partners), or `NONE`.
    pub(super) fn partner(&self, record: &OrderRecord) -> u32 {
        match record.partner {
            PARTNER_NONE => NONE,
            PARTNER_APART => self.extras(record).partner,
            partner => u32::from(partner),
        }
    }

    /// Starts loading where `name` sits in the id table (a cache hint).
    pub(super) fn prefetch_name(&self, name: &str) {
        self.names.prefetch(name);
    }
}

impl Engine {
    pub(super) fn order(&mut self, order: &Order<'_>, at: Timestamp) -> Result<(), Rejection> {
        check_id("order", order.id)?;
        if let Some(store) = order.store {
            check_id("store", store)?;
        }
        let member = self.member_named(order.member)?;
        positive(order.amount, "amount")?;
        let absent = match self.orders.lookup(order.id) {
            Ok(existing) => {
                let record = self.orders.record(existing);
                if let Some((field, before, now)) = self.difference(record, order, member) {
                    return Err(Rejection::OrderReused { order: order.id.to_owned(), field, before, now });
                }
                self.books.effect(Effect::Repeated { order: existing });
                return Ok(());
            }
            Err(absent) => absent,
        };
        for (field, part) in [("profit", order.profit.unwrap_or(Money::ZERO)), ("credit", order.credit)] {
            if part < Money::ZERO {
                return Err(Rejection::NotPositive(field));
            }
            if part > order.amount {
                return Err(Rejection::ExceedsAmount { field, part, amount: order.amount });
            }
        }
        // Only an order that spends credit reads the member's balance: one cache miss fewer.
        let held = if order.credit.is_zero() { Money::ZERO } else { self.books.ledger.credit(member) };
        if order.credit > held {
            return Err(Rejection::NotEnoughCredit {
                member: order.member.to_owned(),
                held,
                wanted: order.credit,
            });
        }
        if let Some(partner) = order.partner {
            check_id("partner", partner)?;
        }
        if let Some(partner) = order.partner
            && self.has_coalition
            && !self.mechanisms.iter().any(|m| m.state.partner(partner).is_some())
        {
            return Err(Rejection::UnknownPartner(partner.to_owned()));
        }
        if self.plan.settle_after_days == 0 {
            self.settling_fits(at, Some((order.amount, order.profit)))?;
        }
        let (growth, largest) = self.order_growth(order.amount);
        self.grow(growth, || "what the plan has issued, with this order".to_owned())?;
        // Everything is checked: from here on nothing fails.
        self.largest = largest;
        let store = order.store.map_or(NONE, |name| self.stores.intern_store(name));
        let partner = order.partner.map_or(NONE, |name| self.stores.intern_partner(name));
        let orders = &mut self.orders;
        let id = OrderId(orders.names.insert_absent(order.id, absent));
        let (partner, partner_apart) = match partner {
            NONE => (PARTNER_NONE, NONE),
            p => {
                u16::try_from(p).ok().filter(|&p| p < PARTNER_APART).map_or((PARTNER_APART, p), |p| (p, NONE))
            }
        };
        let extras = if order.credit.is_zero() && order.profit.is_none() && partner_apart == NONE {
            NONE
        } else {
            let index = u32::try_from(orders.extras.len()).ok().filter(|&i| i != NONE);
            orders.extras.push(Extras { credit: order.credit, profit: order.profit, partner: partner_apart });
            index.expect("fewer than 2^32 orders")
        };
        orders.records.push(OrderRecord {
            member,
            status: Status::Pending,
            amount: order.amount,
            store,
            partner,
            extras,
            weekday: (at.local_day(self.plan.timezone) + 3).rem_euclid(7) as u8,
        });
        let ledger = &mut self.books.ledger;
        let cash = order.amount - order.credit;
        ledger.post(Account::External, Account::Platform, cash.fen(), None, Rule::Payment);
        ledger.post(Account::Credit(member), Account::Platform, order.credit.fen(), None, Rule::CreditSpent);
        self.books.effect(Effect::Paid { order: id });
        match self.plan.settle_after_days {
            0 => self.settle(id, at),
            days => {
                self.pending.push_back((at.plus_days(days), id));
                self.pending_total += order.amount.fen();
            }
        }
        Ok(())
    }

    /// The first field in which `order` differs from what its id was paid with before.
    fn difference(
        &self,
        record: &OrderRecord,
        order: &Order<'_>,
        member: MemberId,
    ) -> Option<(&'static str, String, String)> {
        let quoted = |name: Option<&str>| name.map_or("none".to_owned(), |n| format!("`{n}`"));
        let money = |m: Option<Money>| m.map_or("none".to_owned(), |m| m.to_string());
        if record.member != member {
            let before = self.members.name(record.member);
            return Some(("member", quoted(Some(before)), quoted(Some(order.member))));
        }
        if record.amount != order.amount {
            return Some(("amount", record.amount.to_string(), order.amount.to_string()));
        }
        let Extras { credit, profit, .. } = self.orders.extras(record);
        if profit != order.profit {
            return Some(("profit", money(profit), money(order.profit)));
        }
        if credit != order.credit {
            return Some(("credit", credit.to_string(), order.credit.to_string()));
        }
        let store = self.stores.store_name(record.store);
        if store != order.store {
            return Some(("store", quoted(store), quoted(order.store)));
        }
        let partner = self.stores.partner_name(self.orders.partner(record));
        if partner != order.partner {
            return Some(("partner", quoted(partner), quoted(order.partner)));
        }
        None
    }

    pub(super) fn refund(&mut self, order: &str, at: Timestamp) -> Result<(), Rejection> {
        let id = self.orders.find(order).ok_or_else(|| Rejection::UnknownOrder(order.to_owned()))?;
        let record = &mut self.orders.records[id.index()];
        let (rule, effect) = match record.status {
            Status::Pending => (Rule::Cancel, Effect::Cancelled { order: id }),
            Status::Settled => (Rule::Refund, Effect::Refunded { order: id }),
            // A refund repeated: the money went back already.
            Status::Cancelled | Status::Refunded => return Ok(()),
        };
        if record.status == Status::Settled {
            record.status = Status::Refunded;
            self.members.add_refunded(record.member, record.amount);
        } else {
            record.status = Status::Cancelled;
        }
        let record = *record;
        let credit = self.orders.credit(&record);
        let ledger = &mut self.books.ledger;
        ledger.post(Account::Platform, Account::External, (record.amount - credit).fen(), None, rule);
        ledger.post(Account::Platform, Account::Credit(record.member), credit.fen(), None, rule);
        self.books.effect(effect);
        if rule == Rule::Refund && self.plan.clawback {
            self.claw_back(id, at);
        }
        Ok(())
    }

    /// `clawback`: a settled order was refunded; each mechanism takes back what the order
    /// earned that it still can, and records what it could not.
    fn claw_back(&mut self, order: OrderId, at: Timestamp) {
        let record = *self.orders.record(order);
        let referrer = self.members.referrer(record.member);
        let partner = self.stores.partner_name(self.orders.partner(&record));
        let timezone = self.plan.timezone;
        for (m, mechanism) in self.mechanisms.iter_mut().enumerate() {
            let Some(e) = self.earned.get(order, m) else { continue };
            let mut t = ClawbackTotals::default();
            let pool = &mut mechanism.pool;
            if e.owed.0 < e.owed.1 {
                let cancelled = pool.obligations.cancel(e.owed.0..e.owed.1);
                t.cancelled += cancelled;
                t.kept += Money::from_fen(e.owed_total) - cancelled;
            }
            let refund = Refunded {
                member: record.member,
                referrer,
                amount: record.amount,
                partner,
                at,
                points: Points::from_units(e.points),
                items: e.items.0..e.items.1,
                entry: (e.entry != u64::MAX).then_some(e.entry),
            };
            let mut cx = Cx { pool, books: &mut self.books, members: &self.members, timezone };
            t += mechanism.state.claw_back(&mut cx, &refund);
            if t != ClawbackTotals::default() {
                let pool = &mut mechanism.pool;
                pool.clawback += t;
                self.books.effect(Effect::ClawedBack { mechanism: pool.id, order, totals: t });
            }
        }
    }

    /// An order's refund window has passed: every mechanism, in plan order, acts on it.
    pub(super) fn settle(&mut self, order: OrderId, now: Timestamp) {
        let record = &mut self.orders.records[order.index()];
        record.status = Status::Settled;
        let record = *record;
        let OrderRecord { member, amount, store, weekday, .. } = record;
        let partner = self.orders.partner(&record);
        // The profit a `funding_base = "profit"` mechanism funds from: stated, else amount ×
        // margin_rate (kept exact: the funding rounds once), else the amount.
        let profit = self.profit(amount, self.orders.profit(&record));
        self.members.add_spent(member, amount);
        self.books.effect(Effect::Settled { order });
        let held = match &mut self.antifraud {
            Some(antifraud) => {
                let referred = self.members.joined_referrer(member).is_some();
                antifraud.on_settled(member, order, amount, now, referred)
            }
            None => false,
        };
        let uplines = self.members.uplines(member, self.depth);
        if let Some(antifraud) = &mut self.antifraud {
            // The path up stops short at a held referral: what it would pay above waits too.
            let reached = uplines.iter().take_while(|u| u.is_some()).count();
            if reached >= 1
                && reached < self.depth
                && let Some(last) = uplines[reached - 1]
                && self.members.is_cut(last)
            {
                antifraud.hold_downline(last, order, reached as u8);
            }
        }
        if self.members.ranks() {
            // Team sales grow before any mechanism sees the order, so ranks count it.
            self.members.add_team_sales(uplines.into_iter().flatten(), amount);
        }
        let (agents, recruiter) = if self.regional { self.stores.payees(store) } else { ([None; 3], None) };
        if self.plan.clawback {
            self.earned.start_row(self.mechanisms.len());
        }
        let timezone = self.plan.timezone;
        // Built once for the order; only `funding` differs from one mechanism to the next.
        let mut settlement = Settlement {
            member,
            uplines,
            amount,
            funding: Money::ZERO,
            now,
            weekday,
            held,
            agents,
            recruiter,
            partner: self.stores.partner_name(partner),
            from: 0,
        };
        for (m, mechanism) in self.mechanisms.iter_mut().enumerate() {
            // Retired by an amendment: takes nothing new.
            if mechanism.retired {
                continue;
            }
            let before = self.plan.clawback.then(|| Earned::mark(mechanism, &self.books.ledger, member));
            let pool = &mut mechanism.pool;
            let funding = pool.funding(amount, profit);
            let books = &mut self.books;
            books.ledger.post(
                Account::Platform,
                Account::Pool(pool.id),
                funding.fen(),
                Some(pool.id),
                Rule::Funding,
            );
            settlement.funding = funding;
            mechanism
                .state
                .on_settled(&mut Cx { pool, books, members: &self.members, timezone }, &settlement);
            if let Some(before) = before {
                let after = Earned::mark(mechanism, &self.books.ledger, member);
                self.earned.put_in_row(m, Earned::between(before, after));
            }
        }
        if self.plan.clawback {
            self.earned.end_row(order);
        }
    }

    /// Whether the order is waiting to settle.
    pub(super) fn is_pending(&self, order: OrderId) -> bool {
        self.orders.record(order).status == Status::Pending
    }
}

pub(super) fn positive(amount: Money, field: &'static str) -> Result<(), Rejection> {
    if amount > Money::ZERO { Ok(()) } else { Err(Rejection::NotPositive(field)) }
}
