//! What every mechanism shares: a funded pool, payouts from it, and the obligation queue for
//! what the pool cannot pay yet.
//!
//! A mechanism is a [`Pool`] (this bookkeeping, identical for all kinds) and its kind's state
//! (`crate::kind`, one module each). A kind pays through [`Pool::pay`] or promises through
//! [`Pool::owe`], never touching another mechanism's pool.

use std::collections::VecDeque;

use crate::effect::{ClawbackTotals, Effect};
use crate::ledger::{Account, Ledger, Rule};
use crate::num::Points;
use crate::num::{Money, Rate};
use crate::table::slot;
use crate::terms::{FundingBase, PayTo};
use crate::{MechanismId, MemberId};

/// The books every handler writes to: balances with their postings, and the event's effects.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Books {
    pub(crate) ledger: Ledger,
    pub(crate) effects: Vec<Effect>,
}

impl Books {
    /// Records what the event did, when someone will read it (see [`crate::Engine::record`]).
    #[inline]
    pub(crate) fn effect(&mut self, effect: Effect) {
        if self.ledger.record {
            self.effects.push(effect);
        }
    }
}

/// A `Pool::received` figure kept in `received_large`.
const SPILLED: i32 = i32::MIN;

/// Pool bookkeeping shared by every kind.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Pool {
    pub(crate) id: MechanismId,
    pub(crate) name: String,
    pub(crate) funding_rate: crate::num::Rate,
    pub(crate) funding_base: FundingBase,
    pub(crate) obligations: Obligations,
    /// What each member has received from this pool, by member index, in fen: in 4 bytes while
    /// it fits an `i32` (21 million yuan), else [`SPILLED`] here and the figure whole in
    /// `received_large` (exact either way; half the bytes of an `i64` column: issue 19).
    received: Vec<i32>,
    received_large: std::collections::BTreeMap<u32, i64>,
    /// What this pool has paid to members in all.
    pub(crate) paid: Money,
    /// Whether the mechanism pauses while underfunded (`pause_when_underfunded`).
    pub(crate) pause: bool,
    /// Whether it was paused at the end of the last event.
    pub(crate) paused: bool,
    /// Everything ever owed, in fen: what a settlement owed is the difference across it.
    pub(crate) owed_total: i64,
    /// With `clawback`: what refunds took back (unpaid promises cancelled, points burned) and
    /// what they could no longer take back (already paid or spent).
    pub(crate) clawback: ClawbackTotals,
}

impl Pool {
    /// An amendment's terms for this pool from now on: its funding, and whether it pauses.
    pub(crate) fn reconfigure(&mut self, funding: (Rate, FundingBase), pause: bool) {
        (self.funding_rate, self.funding_base, self.pause) = (funding.0, funding.1, pause);
    }

    /// A new pool, empty: `name` is the mechanism's id; `pause`, its `pause_when_underfunded`.
    pub(crate) fn new(id: MechanismId, name: &str, funding: (Rate, FundingBase), pause: bool) -> Pool {
        Pool {
            id,
            name: name.to_owned(),
            funding_rate: funding.0,
            funding_base: funding.1,
            obligations: Obligations::default(),
            received: Vec::new(),
            received_large: std::collections::BTreeMap::new(),
            paid: Money::ZERO,
            pause,
            paused: false,
            owed_total: 0,
            clawback: ClawbackTotals::default(),
        }
    }

    pub(crate) fn pool(&self, books: &Books) -> Money {
        books.ledger.pool(self.id)
    }

    /// Pays `amount` from the pool to the member now. The caller has checked the pool holds it.
    /// Inlined: with `Ledger::post` in it, out of line it was a call and a posting's worth of
    /// argument passing for about 40 instructions of work.
    #[inline(always)]
    pub(crate) fn pay(&mut self, books: &mut Books, member: MemberId, amount: Money, to: PayTo, rule: Rule) {
        let account = match to {
            PayTo::Wallet => Account::Wallet(member),
            PayTo::Credit => Account::Credit(member),
        };
        books.ledger.post(Account::Pool(self.id), account, amount.fen(), Some(self.id), rule);
        self.add_received(member, amount.fen());
        self.paid += amount;
    }

    /// Promises `amount` to the member, to be paid oldest first as the pool allows.
    pub(crate) fn owe(&mut self, member: MemberId, amount: Money, to: PayTo, rule: Rule) {
        if amount.is_zero() {
            return;
        }
        self.obligations.push(Obligation { member, remaining: amount.fen(), to, rule });
        self.owed_total += amount.fen();
    }

    /// Owes `amount` like [`Pool::owe`], but pays it at once when nothing older waits and the
    /// pool covers it: the same end state as paying it after the event (the queue is FIFO and
    /// this one would be first), without the queue's round trip. Only for kinds whose rules
    /// read nothing of the pool later in the same event (distribution).
    pub(crate) fn owe_or_pay(
        &mut self,
        books: &mut Books,
        member: MemberId,
        amount: Money,
        to: PayTo,
        rule: Rule,
    ) {
        if !self.obligations.queue.is_empty() || amount > self.pool(books) {
            return self.owe(member, amount, to, rule);
        }
        self.owed_total += amount.fen();
        self.pay(books, member, amount, to, rule);
        books.effect(Effect::ObligationPaid { mechanism: self.id, member, amount, remaining: Money::ZERO });
    }

    /// Pays the obligation queue, oldest first, partially if need be, while the pool has money.
    #[inline]
    pub(crate) fn pay_obligations(&mut self, books: &mut Books) {
        // The common case, after every event for every mechanism: nothing owed.
        if !self.obligations.queue.is_empty() {
            self.pay_owed(books);
        }
    }

    fn pay_owed(&mut self, books: &mut Books) {
        loop {
            self.obligations.drop_cancelled();
            let pool = self.pool(books);
            let Some(front) = self.obligations.queue.front() else { break };
            if pool.is_zero() {
                break;
            }
            let (member, to, rule) = (front.member, front.to, front.rule);
            let amount = pool.min(Money::from_fen(front.remaining));
            self.pay(books, member, amount, to, rule);
            let remaining = self.obligations.reduce_front(amount);
            books.effect(Effect::ObligationPaid { mechanism: self.id, member, amount, remaining });
        }
    }

    /// Whether nobody new may join now: the mechanism pauses when underfunded, and what it owes
    /// exceeds what its pool holds. A handler that would let someone in checks this first.
    pub(crate) fn underfunded(&self, books: &Books) -> bool {
        self.pause && self.obligations.outstanding() > self.pool(books)
    }

    /// Records a newcomer held back by the pause.
    pub(crate) fn hold_back(&self, books: &mut Books, member: MemberId) {
        books.effect(Effect::HeldBack { mechanism: self.id, member });
    }

    /// After an event: reports the pause starting or ending.
    #[inline]
    pub(crate) fn report_pause(&mut self, books: &mut Books) {
        if !self.pause && !self.paused {
            return;
        }
        let paused = self.underfunded(books);
        if paused != self.paused {
            self.paused = paused;
            books.effect(if paused {
                Effect::Paused {
                    mechanism: self.id,
                    owed: self.obligations.outstanding(),
                    pool: self.pool(books),
                }
            } else {
                Effect::Resumed { mechanism: self.id }
            });
        }
    }

    /// Clawback of `earned` points of a refunded order: burns what the member still holds of
    /// them (what they sold or spent stays theirs). Returns the points burned.
    pub(crate) fn burn_earned(&self, books: &mut Books, member: MemberId, earned: Points) -> Points {
        let taken = earned.min(books.ledger.held(self.id, member));
        books.ledger.post(
            Account::Points(self.id, member),
            Account::Issued(self.id),
            taken.units(),
            Some(self.id),
            Rule::Clawback,
        );
        taken
    }

    /// Adds `fen` to what the member has received from this pool.
    #[inline(always)]
    fn add_received(&mut self, member: MemberId, fen: i64) {
        // The common case, one read of the row: the figure fits before and after.
        let small = slot(&mut self.received, member);
        if *small != SPILLED
            && let Ok(fits) = i32::try_from(i64::from(*small) + fen)
            && fits != SPILLED
        {
            *small = fits;
            return;
        }
        self.add_received_large(member, fen);
    }

    /// `add_received` when the figure is or goes past an `i32`.
    #[cold]
    #[inline(never)]
    fn add_received_large(&mut self, member: MemberId, fen: i64) {
        let total = self.received(member).fen() + fen;
        let small = slot(&mut self.received, member);
        match i32::try_from(total) {
            Ok(fits) if fits != SPILLED => {
                if *small == SPILLED {
                    self.received_large.remove(&(member.index() as u32));
                }
                *small = fits;
            }
            _ => {
                *small = SPILLED;
                self.received_large.insert(member.index() as u32, total);
            }
        }
    }

    /// What the member has received from this pool.
    pub(crate) fn received(&self, member: MemberId) -> Money {
        Money::from_fen(match self.received.get(member.index()) {
            None => 0,
            Some(&SPILLED) => self.received_large[&(member.index() as u32)],
            Some(&fits) => i64::from(fits),
        })
    }

    /// The settled order's contribution to this pool: `funding_rate` × its amount or profit,
    /// rounded down to the fen once.
    #[inline]
    pub(crate) fn funding(&self, amount: Money, profit: Profit) -> Money {
        match (self.funding_base, profit) {
            (FundingBase::Amount, _) => amount.mul_rate(self.funding_rate),
            (FundingBase::Profit, Profit::Stated(profit)) => profit.mul_rate(self.funding_rate),
            (FundingBase::Profit, Profit::Margin(amount, margin)) => {
                amount.mul_rates(margin, self.funding_rate)
            }
        }
    }
}

/// A settled order's profit: stated with the order (or its amount, with no margin to go by),
/// or the plan's `margin_rate` of its amount, which is not rounded to the fen on its own.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Profit {
    Stated(Money),
    Margin(Money, Rate),
}

/// What a pool has promised and not yet paid, oldest first.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Obligations {
    queue: VecDeque<Obligation>,
    outstanding: i64,
    /// With [`Obligations::index_members`] (a server's engine): outstanding per member index,
    /// kept as obligations change, so that one member's view is a lookup. Without it (`fanli
    /// run`) there is none, which saves 8 bytes a member in every pool that ever owed (issue
    /// 19): what a member is owed is then added up from the queue, once for all members when
    /// the state is written. Not kept in snapshots (rebuilt from the queue).
    #[cfg_attr(feature = "snapshot", serde(skip))]
    owed: Option<Vec<i64>>,
    /// Obligations taken off the front (paid or cancelled): `queue[i]` is number `popped + i`.
    popped: u64,
    /// Obligations waiting (cancelled ones may linger in the queue, at zero).
    waiting: usize,
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Obligation {
    member: MemberId,
    remaining: i64,
    to: PayTo,
    rule: Rule,
}

impl Obligations {
    fn push(&mut self, obligation: Obligation) {
        if let Some(owed) = &mut self.owed {
            *slot(owed, obligation.member) += obligation.remaining;
        }
        self.outstanding += obligation.remaining;
        self.queue.push_back(obligation);
        self.waiting += 1;
    }

    /// The number the next obligation will have.
    pub(crate) fn next_number(&self) -> u64 {
        self.popped + self.queue.len() as u64
    }

    /// Cancels what obligations `numbers` still wait for; returns how much that was.
    pub(crate) fn cancel(&mut self, numbers: std::ops::Range<u64>) -> Money {
        let mut cancelled = 0;
        for number in numbers.start.max(self.popped)..numbers.end {
            let o = &mut self.queue[(number - self.popped) as usize];
            if o.remaining > 0 {
                cancelled += o.remaining;
                if let Some(owed) = &mut self.owed {
                    owed[o.member.index()] -= o.remaining;
                }
                self.outstanding -= o.remaining;
                o.remaining = 0;
                self.waiting -= 1;
            }
        }
        Money::from_fen(cancelled)
    }

    /// Takes cancelled obligations off the front.
    fn drop_cancelled(&mut self) {
        while self.queue.front().is_some_and(|o| o.remaining == 0) {
            self.queue.pop_front();
            self.popped += 1;
        }
    }

    /// Takes `amount` off the oldest obligation and returns what it still waits for.
    fn reduce_front(&mut self, amount: Money) -> Money {
        let front = self.queue.front_mut().expect("an obligation to reduce");
        front.remaining -= amount.fen();
        if let Some(owed) = &mut self.owed {
            owed[front.member.index()] -= amount.fen();
        }
        self.outstanding -= amount.fen();
        let remaining = front.remaining;
        debug_assert!(remaining >= 0);
        if remaining == 0 {
            self.queue.pop_front();
            self.popped += 1;
            self.waiting -= 1;
        }
        Money::from_fen(remaining)
    }

    /// All that is owed.
    pub(crate) fn outstanding(&self) -> Money {
        Money::from_fen(self.outstanding)
    }

    /// What is owed to one member: a lookup with [`Obligations::index_members`], else a pass
    /// over the queue.
    pub(crate) fn owed(&self, member: MemberId) -> Money {
        Money::from_fen(match &self.owed {
            Some(owed) => owed.get(member.index()).copied().unwrap_or(0),
            None => self.queue.iter().filter(|o| o.member == member).map(|o| o.remaining).sum(),
        })
    }

    /// What is owed to each member owed anything, by member index, in one pass over the queue
    /// (sized by the obligations waiting, not by the members).
    pub(crate) fn owed_by_member(&self) -> Vec<(MemberId, i64)> {
        let mut owed: Vec<(MemberId, i64)> =
            self.queue.iter().filter(|o| o.remaining > 0).map(|o| (o.member, o.remaining)).collect();
        owed.sort_unstable_by_key(|&(member, _)| member.index());
        owed.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
        owed
    }

    /// Keeps what each member is owed from now on, so that [`Obligations::owed`] is a lookup
    /// (see [`crate::Engine::index_places`]).
    pub(crate) fn index_members(&mut self) {
        if self.owed.is_none() {
            let mut owed = Vec::new();
            for o in &self.queue {
                *slot(&mut owed, o.member) += o.remaining;
            }
            self.owed = Some(owed);
        }
    }

    /// How many obligations wait.
    pub(crate) fn len(&self) -> usize {
        self.waiting
    }
}

#[cfg(test)]
mod received_tests {
    use super::Pool;
    use crate::MemberId;
    use crate::num::Money;

    /// What a member received is exact past an `i32` of fen, kept aside from then on.
    #[test]
    fn received_spills_past_an_i32_and_stays_exact() {
        let mut pool = Pool::new(
            crate::MechanismId::from_index(0),
            "p",
            (crate::num::Rate::ZERO, crate::terms::FundingBase::Amount),
            false,
        );
        let (a, b) = (MemberId::from_index(0), MemberId::from_index(3));
        let add = |pool: &mut Pool, m: MemberId, fen: i64| pool.add_received(m, fen);
        add(&mut pool, a, i64::from(i32::MAX) - 5);
        assert_eq!(pool.received(a), Money::from_fen(i64::from(i32::MAX) - 5));
        add(&mut pool, a, 10);
        assert_eq!(pool.received(a), Money::from_fen(i64::from(i32::MAX) + 5));
        add(&mut pool, a, 1 << 40);
        assert_eq!(pool.received(a), Money::from_fen(i64::from(i32::MAX) + 5 + (1 << 40)));
        assert_eq!(pool.received(b), Money::ZERO);
        add(&mut pool, b, 7);
        assert_eq!((pool.received(a).fen() > 1 << 40, pool.received(b)), (true, Money::from_fen(7)));
        assert_eq!(pool.received(MemberId::from_index(2)), Money::ZERO);
        assert_eq!(pool.received_large.len(), 1);
    }
}
