//! The state machine: the event loop, and the state each part owns.
//!
//! [`Engine::apply`] checks an event's time, runs its handler and then the after-event work of
//! every mechanism. The handlers live with what they own: `members` (joins, reviews), `orders`
//! (payment, settlement, refunds and clawback), `stores` (stores, regions, agents) and
//! `balances` (what members and the operator do with balances); `views` reads the state.

mod amend;
mod balances;
mod earned;
mod members;
mod orders;
mod stores;
mod views;
mod vote;
mod withdrawals;

use std::collections::VecDeque;

pub use views::{MechanismView, MemberMechanism, MemberView};
pub use vote::{Outcome, ProposalView};
pub use withdrawals::WaitingWithdrawal;

use crate::effect::Effect;
use crate::event::{Event, EventKind};
use crate::headroom::{Growth, LIMIT};
use crate::kind::{Cx, Look, Redemption, State};
use crate::ledger::{Account, Ledger, Posting, Rule};
use crate::members::Members;
use crate::num::{Money, Points};
use crate::plan::Plan;
use crate::pool::{Books, Pool, Profit};
use crate::rejection::Rejection;
use crate::time::{Timestamp, UtcOffset};
use crate::{MechanismId, MemberId, OrderId};

/// How many settlements ahead `close_day` reads the state it will need.
const READ_AHEAD: usize = 8;

/// The cash accounts an amount paid in may pass through, for the overflow bound: the
/// platform's (paid in, funding out, a refund back), the outside world's and the balance it
/// lands in.
const CASH_PASSES: u128 = 4;

/// A plan applied to the events seen so far.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Engine {
    plan: Plan,
    members: Members,
    orders: orders::Orders,
    stores: stores::Stores,
    /// Paid orders waiting for their refund window to pass, in payment order (so by due time).
    pending: VecDeque<(Timestamp, OrderId)>,
    mechanisms: Vec<Mechanism>,
    /// How many levels of uplines a settlement looks at (1 to 3): only as far as some
    /// mechanism pays or counts, so a plan that pays only referrers reads one record.
    depth: usize,
    /// Whether a mechanism pays a store's regional agents or recruiter.
    regional: bool,
    /// Whether a coalition mechanism names the partners orders may name.
    has_coalition: bool,
    /// The plan's anti-fraud rules and the review queue.
    antifraud: Option<crate::antifraud::Antifraud>,
    /// With `clawback`: what each settled order earned in each mechanism (order × mechanisms
    /// + mechanism), so that a refund can take it back.
    earned: earned::EarnedTable,
    books: Books,
    last_at: Option<Timestamp>,
    /// A bound on every count the engine keeps, grown by each event's worst case before it
    /// moves anything (see `headroom.rs`).
    grown: u128,
    /// How much an order may grow the counts, from the plan: every mechanism's growth and the
    /// cash accounts the order passes through.
    order_growth: Growth,
    /// The largest amount of an order paid so far: what a share of an earlier order's amount
    /// (a refer_refund base) may be at most, for the overflow bound.
    largest: Money,
    /// The sum of the pending orders' amounts, in fen: what a day close may settle at most.
    pending_total: i64,
    /// Amendments recorded and not yet in force, in the order they take effect.
    amendments: Vec<amend::Amendment>,
    /// Withdrawals waiting for review, and each member's requests today (`[withdrawal]`).
    withdrawals: withdrawals::Withdrawals,
    /// Amendments put to the members' vote, in the order proposed (`[vote]`).
    proposals: Vec<vote::Proposal>,
}

/// One mechanism of the running plan: its pool (the same for every kind) and its kind's state.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Mechanism {
    pool: Pool,
    state: State,
    /// Retired by an amendment: takes nothing new, pays what it owes (see `amend.rs`).
    retired: bool,
}

impl Mechanism {
    /// Its kind's state, and the context the state's hooks take: its own pool and the books.
    fn hooked<'a>(
        &'a mut self,
        books: &'a mut Books,
        members: &'a Members,
        timezone: UtcOffset,
    ) -> (&'a mut State, Cx<'a>) {
        (&mut self.state, Cx { pool: &mut self.pool, books, members, timezone })
    }
}

/// What applying one event did: its postings and effects, in order.
#[derive(Clone, Copy, Debug)]
pub struct Applied<'e> {
    /// The postings, each with its rule and mechanism.
    pub postings: &'e [Posting],
    /// The effects: what a trace and a member see.
    pub effects: &'e [Effect],
}

impl Engine {
    /// An engine for `plan`, with no members yet.
    pub fn new(plan: Plan) -> Engine {
        plan.check_invariants();
        let mechanisms = plan
            .mechanisms
            .iter()
            .enumerate()
            .map(|(i, config)| Mechanism {
                pool: Pool::new(
                    MechanismId::from_index(i),
                    &config.id,
                    (config.funding_rate, config.funding_base),
                    config.pause_when_underfunded,
                ),
                state: State::new(&config.kind),
                retired: false,
            })
            .collect::<Vec<_>>();
        let books = Books { ledger: Ledger::new(plan.mechanisms.len()), effects: Vec::new() };
        let ranks = plan.mechanisms.iter().any(|m| m.kind.reach().ranks);
        let mut engine = Engine {
            depth: 1,
            regional: false,
            earned: earned::EarnedTable::default(),
            antifraud: plan.antifraud.as_ref().map(crate::antifraud::Antifraud::new),
            has_coalition: false,
            plan,
            members: Members::new(ranks),
            orders: orders::Orders::default(),
            stores: stores::Stores::default(),
            pending: VecDeque::new(),
            mechanisms,
            books,
            last_at: None,
            grown: 0,
            order_growth: Growth { per_fen: CASH_PASSES, per_order: 0, per_largest: 0 },
            largest: Money::ZERO,
            pending_total: 0,
            amendments: Vec::new(),
            withdrawals: withdrawals::Withdrawals::default(),
            proposals: Vec::new(),
        };
        engine.fit();
        engine
    }

    /// What a settlement must do for the mechanisms that take new orders (all but the retired):
    /// how many levels of uplines it reads, whether it pays store agents, and how much an order
    /// may grow the counts; and whether orders may name coalition partners (of any mechanism,
    /// retired or not: the names stay valid).
    fn fit(&mut self) {
        let running: Vec<&crate::plan::MechanismConfig> = self
            .plan
            .mechanisms
            .iter()
            .zip(&self.mechanisms)
            .filter(|(_, m)| !m.retired)
            .map(|(c, _)| c)
            .collect();
        let reach = running.iter().map(|m| m.kind.reach());
        self.depth = reach.clone().map(|r| if r.ranks { 3 } else { r.depth }).max().unwrap_or(1).max(1);
        self.regional = reach.clone().any(|r| r.regional);
        self.order_growth =
            running.iter().fold(Growth { per_fen: CASH_PASSES, per_order: 0, per_largest: 0 }, |g, m| {
                g.plus(m.kind.growth())
            });
        self.has_coalition = self.mechanisms.iter().any(|m| m.state.lists_partners());
    }

    /// The plan being run.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The time of the last applied event.
    pub fn now(&self) -> Option<Timestamp> {
        self.last_at
    }

    /// Applies one event whole, or refuses it and changes nothing. What it did is in
    /// [`Engine::applied`] until the next event.
    pub fn apply(&mut self, event: &Event<'_>) -> Result<(), Rejection> {
        if let Some(previous) = self.last_at
            && event.at < previous
        {
            return Err(Rejection::TimeWentBackwards { at: event.at, previous });
        }
        self.books.ledger.journal.clear();
        self.books.effects.clear();
        let at = event.at;
        // Nearly always none is due: checked here, without a call.
        let amended = match self.amendments.first() {
            Some(first) if first.effective_at <= at => self.take_effect(at),
            _ => None,
        };
        if let Err(rejection) = self.handle(event) {
            if let Some(undo) = amended {
                self.undo(undo);
            }
            return Err(rejection);
        }
        self.after_event(at);
        self.last_at = Some(at);
        Ok(())
    }

    /// Runs the event's handler: checks everything, then moves what it moves.
    #[inline]
    fn handle(&mut self, event: &Event<'_>) -> Result<(), Rejection> {
        let at = event.at;
        match &event.kind {
            EventKind::Join { member, referrer, phone, device, ip } => {
                self.join(member, *referrer, [*device, *phone, *ip], at)?
            }
            EventKind::Review { member, approve } => self.review(member, *approve, at)?,
            EventKind::Store { store, region, recruiter } => {
                self.register_store(store, region, *recruiter)?
            }
            EventKind::Agent { member, level, region } => self.register_agent(member, level, region)?,
            EventKind::Order(order) => self.order(order, at)?,
            EventKind::Refund { order } => self.refund(order, at)?,
            EventKind::Sell { member, mechanism, points } => self.sell(member, mechanism, *points, at)?,
            EventKind::Withdraw { member, amount } => self.withdraw(member, *amount, at)?,
            EventKind::WithdrawalReview { member, approve } => self.review_withdrawal(member, *approve)?,
            EventKind::Propose { proposal, plan, .. } => self.propose(proposal, plan, at)?,
            EventKind::Vote { member, proposal, yes } => self.vote(member, proposal, *yes, at)?,
            EventKind::Tally { proposal } => self.tally(proposal, at)?,
            EventKind::Topup { member, amount } => self.topup(member, *amount, at)?,
            EventKind::Inject { mechanism, amount } => self.fund(mechanism, *amount, Rule::Inject)?,
            EventKind::Redeem { member, mechanism, reward, partner, points } => {
                let what = Redemption { reward: *reward, partner: *partner, points: *points };
                self.redeem(member, mechanism, what, at)?
            }
            EventKind::AdView { member, mechanism } => self.ad_view(member, mechanism, at)?,
            EventKind::AdvertiserFund { mechanism, amount } => {
                self.fund(mechanism, *amount, Rule::AdvertiserFund)?
            }
            EventKind::CloseDay => self.close_day(at)?,
            EventKind::AmendPlan { effective_at, plan, .. } => {
                self.amend(*effective_at, plan, at)?;
                // Effective at once: in force from this event on.
                if *effective_at == at {
                    self.take_effect(at);
                }
            }
        }
        Ok(())
    }

    /// Whether [`Engine::apply`] keeps each event's postings and effects for
    /// [`Engine::applied`]: on from the start. A run that never reads them (`fanli run` without
    /// `--trace`) turns it off and saves writing tens of records per order; balances and every
    /// view are the same either way. The setting is part of the state: a snapshot (feature
    /// `snapshot`) restores an engine that records as the snapshotted one did.
    pub fn record(&mut self, on: bool) {
        self.books.ledger.record = on;
    }

    /// Keeps the indexes that make one member's view cheap (a queue place in O(log n) rather
    /// than a pass over the entries ahead; what each pool owes them, a lookup rather than a
    /// pass over its obligations), for a server that shows members one at a time. Off
    /// by default: they cost every change a little, and `fanli run` has no use for them. Not
    /// kept in snapshots: call it again after [`Engine::restore`].
    pub fn index_places(&mut self) {
        for mechanism in &mut self.mechanisms {
            mechanism.state.index_members();
            mechanism.pool.obligations.index_members();
        }
    }

    /// The postings and effects of the last event applied (empty after a rejection, and while
    /// [`Engine::record`] is off).
    pub fn applied(&self) -> Applied<'_> {
        Applied { postings: &self.books.ledger.journal, effects: &self.books.effects }
    }

    /// Settles the orders whose refund window has passed, in payment order, then runs the
    /// mechanisms' daily jobs.
    fn close_day(&mut self, now: Timestamp) -> Result<(), Rejection> {
        self.settling_fits(now, None)?;
        let mut settled = 0usize;
        while let Some(&(due, order)) = self.pending.front() {
            if due > now {
                break;
            }
            // A day's orders settle together: reading ahead, eight orders at a time, what the
            // next eight will touch lets their cache misses overlap each other and this work,
            // instead of stalling in turn.
            if settled.is_multiple_of(READ_AHEAD) {
                std::hint::black_box(self.touch_ahead(now));
            }
            settled += 1;
            self.pending.pop_front();
            self.pending_total -= self.orders.record(order).amount.fen();
            if self.is_pending(order) {
                self.settle(order, now);
            }
        }
        let timezone = self.plan.timezone;
        for mechanism in &mut self.mechanisms {
            let (state, mut cx) = mechanism.hooked(&mut self.books, &self.members, timezone);
            state.on_close_day(&mut cx, now);
        }
        Ok(())
    }

    /// Reads (and changes nothing of) the state that settling the due orders `READ_AHEAD` to
    /// `2 × READ_AHEAD` places on will use, so that it is in cache by then. Each step reads all
    /// eight orders' data before the next step needs any of it: the buyers' records first (their
    /// misses independent, so they overlap), then their referrers', a level at a time, then
    /// the rows of every mechanism and the balances they will post to, as prefetches (which,
    /// unlike reads, do not hold up the work that follows). Returns a value only so the reads
    /// are not optimized away.
    fn touch_ahead(&self, now: Timestamp) -> i64 {
        let mut buyers = [MemberId(0); READ_AHEAD];
        let mut count = 0;
        for &(due, order) in self.pending.range(READ_AHEAD.min(self.pending.len())..).take(READ_AHEAD) {
            if due > now {
                break;
            }
            buyers[count] = self.orders.record(order).member;
            count += 1;
        }
        let mut uplines = [[None; 3]; READ_AHEAD];
        let mut above = buyers.map(Some);
        for level in 0..self.depth {
            for (up, member) in uplines[..count].iter_mut().zip(&mut above) {
                *member = member.and_then(|m| self.members.referrer(m));
                up[level] = *member;
            }
        }
        let mut sum = 0;
        for (&member, uplines) in buyers[..count].iter().zip(&uplines) {
            sum ^= self.read_ahead(member, uplines);
        }
        sum
    }

    /// Starts loading what settling an order of `member` (with these uplines) will use.
    fn read_ahead(&self, member: MemberId, uplines: &[Option<MemberId>; 3]) -> i64 {
        if self.members.ranks() {
            for &upline in uplines.iter().flatten() {
                self.members.prefetch_team_sales(upline);
            }
        }
        let mut sum = 0;
        for mechanism in &self.mechanisms {
            sum ^= mechanism.state.read_ahead(&self.look(mechanism), member, uplines);
        }
        sum
    }

    /// After every event: each mechanism's time-driven work, then its pool pays what its
    /// obligation queue can, then what follows the payouts (appreciation's forced exits).
    fn after_event(&mut self, now: Timestamp) {
        if let Some(antifraud) = &mut self.antifraud {
            let members = &self.members;
            let first = antifraud.reviews.len() as u32;
            let held = antifraud.on_time(now, |m| members.joined_referrer(m));
            for (i, member) in held.into_iter().enumerate() {
                self.members.set_cut(member, true);
                self.books.effect(Effect::Held { member, review: first + i as u32 });
            }
        }
        let timezone = self.plan.timezone;
        for mechanism in &mut self.mechanisms {
            let (state, mut cx) = mechanism.hooked(&mut self.books, &self.members, timezone);
            state.on_time(&mut cx, now);
            cx.pool.pay_obligations(cx.books);
            state.after_payouts(&mut cx);
            cx.pool.report_pause(cx.books);
        }
    }

    /// Counts `growth` more in the overflow bound, or refuses the event (`what` says what would
    /// outgrow 64 bits) when that would take it past 2^62. Called once every other check of
    /// the event has passed, before anything moves.
    fn grow(&mut self, growth: u128, what: impl FnOnce() -> String) -> Result<(), Rejection> {
        match self.grown.checked_add(growth).filter(|&g| g <= LIMIT) {
            Some(grown) => {
                self.grown = grown;
                Ok(())
            }
            None => Err(Rejection::Overflow(what())),
        }
    }

    /// How much paying an order of `amount` grows the overflow bound, and the largest order
    /// amount after it: its own growth, with the shares of the largest order so far at the new
    /// largest; and, when it is larger than every earlier order, the rise of those shares for
    /// each earlier order too (any of them may yet pay a share of it: a referral counted at its
    /// settlement or after a review), so that every order has been counted at the largest.
    fn order_growth(&self, amount: Money) -> (u128, Money) {
        let growth = self.order_growth;
        let largest = self.largest.max(amount);
        let at_largest = growth.of_largest(largest);
        let rise = at_largest.saturating_sub(growth.of_largest(self.largest));
        let earlier = self.orders.count() as u128;
        let total = growth.of(amount).saturating_add(at_largest).saturating_add(rise.saturating_mul(earlier));
        (total, largest)
    }

    /// Whether settling the orders due at `now` (or `only`, an order settling as it is paid)
    /// keeps every mechanism's state-dependent counts within bounds (appreciation's points).
    fn settling_fits(&self, now: Timestamp, only: Option<(Money, Option<Money>)>) -> Result<(), Rejection> {
        let total = match only {
            Some((amount, _)) => amount,
            None => Money::from_fen(self.pending_total),
        };
        for mechanism in &self.mechanisms {
            let (pool, look) = (&mechanism.pool, self.look(mechanism));
            let fits = match only {
                Some((amount, profit)) => {
                    let mut once = std::iter::once_with(|| pool.funding(amount, self.profit(amount, profit)));
                    mechanism.state.mints_within(&look, total, &mut once)
                }
                None => {
                    let mut due = self
                        .pending
                        .iter()
                        .take_while(|&&(due, _)| due <= now)
                        .filter(|&&(_, order)| self.is_pending(order))
                        .map(|&(_, order)| {
                            let record = self.orders.record(order);
                            pool.funding(
                                record.amount,
                                self.profit(record.amount, self.orders.profit(record)),
                            )
                        });
                    mechanism.state.mints_within(&look, total, &mut due)
                }
            };
            if !fits {
                return Err(Rejection::Overflow(format!("the points `{}` mints for it", pool.name)));
            }
        }
        Ok(())
    }

    /// What a settled order's profit is, for a `funding_base = "profit"` mechanism: stated,
    /// else amount × `margin_rate` (kept exact: the funding rounds once), else the amount.
    fn profit(&self, amount: Money, stated: Option<Money>) -> Profit {
        match (stated, self.plan.margin_rate) {
            (Some(profit), _) => Profit::Stated(profit),
            (None, Some(margin)) => Profit::Margin(amount, margin),
            (None, None) => Profit::Stated(amount),
        }
    }

    /// What a hook of `mechanism` may read.
    fn look<'a>(&'a self, mechanism: &'a Mechanism) -> Look<'a> {
        Look { pool: &mechanism.pool, books: &self.books, now: self.last_at }
    }

    /// The member's name.
    pub fn member_name(&self, member: MemberId) -> &str {
        self.members.name(member)
    }

    /// The member who joined `index`-th (from 0); `index` must be below [`Engine::member_count`].
    pub fn member_id(&self, index: usize) -> MemberId {
        assert!(index < self.member_count(), "member {index} of {}", self.member_count());
        MemberId::from_index(index)
    }

    /// The sum of the member's settled orders.
    pub fn spent(&self, member: MemberId) -> Money {
        self.members.spent(member)
    }

    /// The points of mechanism `mechanism` the member holds.
    pub fn points(&self, mechanism: MechanismId, member: MemberId) -> Points {
        self.books.ledger.held(mechanism, member)
    }

    /// A hint from a reader that knows what comes next: an event naming these members and this
    /// order will be applied soon. Starts loading where the names sit in the id tables, so that
    /// the lookups then find them in cache instead of waiting on memory. Changes nothing:
    /// calling it or not gives the same results.
    pub fn prefetch(&self, members: [Option<&str>; 2], order: Option<&str>) {
        for member in members.into_iter().flatten() {
            self.members.prefetch_name(member);
        }
        if let Some(order) = order {
            self.orders.prefetch_name(order);
        }
    }

    /// A hint like [`Engine::prefetch`] for a member known by id, from a caller about to read
    /// or use their state (the simulator, picking members at random): starts loading their
    /// record and balances. Changes nothing.
    pub fn prefetch_member(&self, member: MemberId) {
        self.members.prefetch(member);
        let ledger = &self.books.ledger;
        ledger.prefetch(Account::Wallet(member));
        for mechanism in &self.mechanisms {
            ledger.prefetch(Account::Points(mechanism.pool.id, member));
        }
    }

    /// The member with this name.
    pub fn find_member(&self, name: &str) -> Option<MemberId> {
        self.members.find(name)
    }

    /// How many members have joined.
    pub fn member_count(&self) -> usize {
        self.members.count()
    }

    /// The order with this id, if it was paid.
    pub fn find_order(&self, name: &str) -> Option<OrderId> {
        self.orders.find(name)
    }

    /// The order's id.
    pub fn order_name(&self, order: OrderId) -> &str {
        self.orders.name(order)
    }

    /// How many distinct orders have been paid.
    pub fn order_count(&self) -> usize {
        self.orders.count()
    }

    /// The mechanism's id in the plan.
    pub fn mechanism_name(&self, mechanism: MechanismId) -> &str {
        &self.mechanisms[mechanism.index()].pool.name
    }

    /// Whether every asset's accounts sum to zero, summed afresh over every account.
    pub fn accounts_balance(&self) -> bool {
        self.books.ledger.balances()
    }

    /// The balance of one account.
    pub fn balance(&self, account: Account) -> i64 {
        self.books.ledger.balance(account)
    }
}
