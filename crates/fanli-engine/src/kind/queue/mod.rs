//! 排队返利 / 工会排队 / 进三补一: entries wait in one FIFO and are paid in order.
//!
//! Entries live in a deque whose front is always the oldest waiting entry (the head), so the
//! head is O(1). Each member's waiting entries form a linked list through the deque, so a
//! member's oldest waiting entry (the one acceleration pays) is O(1) too. A member's entries
//! leave the waiting state in the order they joined (paid at the head, accelerated as the
//! member's oldest, or made due as the oldest of all), which keeps both lists simple.

mod config;
mod view;

use std::collections::VecDeque;

pub use config::{QueueConfig, Release};
pub use view::{Place, QueueView};

use super::{Cx, Kind, Look, Refunded, Settlement};
use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::ledger::Rule;
use crate::num::Money;
use crate::pool::{Books, Pool};
use crate::table::slot;
use crate::terms::PayTo;
use crate::time::Timestamp;

/// No entry. Entry numbers are `u32`: a queue holds fewer than 2^32 entries in its life, and
/// the per-member links stay small enough to stay in cache.
const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Queue {
    config: QueueConfig,
    entries: VecDeque<Entry>,
    /// The number (0-based) of `entries[0]`.
    first: u32,
    /// Entries ever created.
    created: u32,
    members: Vec<Line>,
    waiting_count: u64,
    waiting_amount: i64,
    /// With [`Queue::index_places`]: what waits, by entry number, for a member's place in
    /// O(log n). Not kept by default: `fanli run` prints every place in one pass instead, and
    /// keeping it would cost every entry's change a walk of the tree. Not in snapshots either.
    #[cfg_attr(feature = "snapshot", serde(skip))]
    index: Option<Fenwick>,
}

/// Prefix sums over entry numbers of (waiting entries, what they wait for): a Fenwick tree,
/// grown one entry at a time.
#[derive(Clone, Debug, Default)]
struct Fenwick {
    /// 1-based: node `i` sums the entries numbered `i - lowbit(i)` to `i - 1`.
    nodes: Vec<(i64, i64)>,
}

impl Fenwick {
    /// The sums over entries numbered below `number`.
    fn before(&self, number: u32) -> (i64, i64) {
        let (mut count, mut amount) = (0, 0);
        let mut i = (number as usize).min(self.nodes.len());
        while i > 0 {
            let (c, a) = self.nodes[i - 1];
            count += c;
            amount += a;
            i &= i - 1;
        }
        (count, amount)
    }

    /// The next entry (numbered `self.nodes.len()`), with what it adds.
    fn push(&mut self, count: i64, amount: i64) {
        let i = self.nodes.len() + 1;
        let low = i & i.wrapping_neg();
        // Node i covers entries i - low .. i - 1: the new one and the sums of those before it.
        let (below_count, below_amount) = self.before((i - 1) as u32);
        let (start_count, start_amount) = self.before((i - low) as u32);
        self.nodes.push((count + below_count - start_count, amount + below_amount - start_amount));
    }

    /// Entry `number` changes by (count, amount).
    fn add(&mut self, number: u32, count: i64, amount: i64) {
        let mut i = number as usize + 1;
        while i <= self.nodes.len() {
            self.nodes[i - 1].0 += count;
            self.nodes[i - 1].1 += amount;
            i += i & i.wrapping_neg();
        }
    }
}

/// An entry of the queue: 24 bytes. Whether it still waits is told by `remaining`, which is
/// [`LEFT`] once it has left (paid, due or clawed back) and never below zero before: a separate
/// flag made it 32.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Entry {
    member: MemberId,
    /// What it still waits for, in fen; [`LEFT`] once it no longer waits.
    remaining: i64,
    eligible_at: Timestamp,
    /// The member's next entry, or `NONE`.
    next: u32,
}
const _: () = assert!(size_of::<Entry>() == 24);

/// `Entry::remaining` of an entry that has left the waiting entries.
const LEFT: i64 = -1;

impl Entry {
    /// Whether the entry still waits (it has not been paid, made due or clawed back).
    fn waiting(&self) -> bool {
        self.remaining != LEFT
    }
}

/// A member's waiting entries: the oldest and the newest (0-based numbers), `NONE` when none.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Line {
    oldest: u32,
    newest: u32,
}

impl Default for Line {
    fn default() -> Line {
        Line { oldest: NONE, newest: NONE }
    }
}

impl Queue {
    /// Keeps an index of what waits by entry number from now on, so that [`Queue::place`]
    /// costs O(log n) instead of a pass over the entries ahead (the server, which shows one
    /// member's place at a time, turns it on).
    fn index_places(&mut self) {
        if self.index.is_some() {
            return;
        }
        let mut index = Fenwick::default();
        for number in 0..self.created {
            let entry = number.checked_sub(self.first).and_then(|i| self.entries.get(i as usize));
            match entry {
                Some(e) if e.waiting() => index.push(1, e.remaining),
                _ => index.push(0, 0),
            }
        }
        self.index = Some(index);
    }

    /// Reads the buyer's line and the referrer's oldest entry (see `Engine::read_ahead`): a read,
    /// not a prefetch, because where the entry is depends on the referrer's line.
    fn touch(&self, member: MemberId, referrer: Option<MemberId>) -> i64 {
        let line = |m: MemberId| self.members.get(m.index()).copied().unwrap_or_default();
        let mut sum = line(member).newest as i64;
        if let Some(r) = referrer {
            let oldest = line(r).oldest;
            if oldest != NONE {
                sum ^= self.entries.get((oldest - self.first) as usize).map_or(0, |e| e.remaining);
            }
        }
        sum
    }

    /// A settled order: acceleration for the buyer's referrer, then maybe a new entry.
    fn settle(&mut self, pool: &mut Pool, books: &mut Books, order: &Settlement<'_>) {
        let Settlement { member, amount, now, .. } = *order;
        if let Some(referrer) = order.referrer() {
            self.accelerate(pool, books, referrer, amount);
        }
        if amount < self.config.min_order {
            return;
        }
        if pool.underfunded(books) {
            pool.hold_back(books, member);
            return;
        }
        if let Release::EveryN { every, .. } = self.config.release
            && self.created > 0
            && self.created.is_multiple_of(every)
        {
            // Entry m joins; when m − 1 is a positive multiple of n the oldest waiting entry
            // (among those before it) becomes due.
            self.make_head_due(pool, books);
        }
        let owed = self.config.owed(amount);
        if owed.is_zero() {
            return;
        }
        let number = self.created;
        self.created =
            self.created.checked_add(1).filter(|&n| n != NONE).expect("fewer than 2^32 queue entries");
        let line = slot(&mut self.members, member);
        if line.oldest == NONE {
            line.oldest = number;
        } else {
            let newest = line.newest;
            self.entry_mut(newest).next = number;
        }
        let line = slot(&mut self.members, member);
        line.newest = number;
        self.entries.push_back(Entry {
            member,
            remaining: owed.fen(),
            eligible_at: now.plus_days(self.config.lock_days),
            next: NONE,
        });
        let ahead = Money::from_fen(self.waiting_amount);
        self.waiting_count += 1;
        self.waiting_amount += owed.fen();
        if let Some(index) = &mut self.index {
            index.push(1, owed.fen());
        }
        books.effect(Effect::Queued {
            mechanism: pool.id,
            member,
            entry: number as u64 + 1,
            amount: owed,
            position: self.waiting_count,
            ahead,
        });
    }

    /// At a day close (when_funded): pay each eligible head the pool covers in full, in order;
    /// the first head that is locked or not covered stops the pass.
    fn release(&mut self, pool: &mut Pool, books: &mut Books, now: Timestamp) {
        if self.config.release != Release::WhenFunded {
            return;
        }
        while let Some(&head) = self.entries.front() {
            debug_assert!(head.waiting(), "the front entry is always waiting");
            if head.eligible_at > now || pool.pool(books).fen() < head.remaining {
                break;
            }
            let amount = Money::from_fen(head.remaining);
            pool.pay(books, head.member, amount, PayTo::Wallet, Rule::Release);
            books.effect(Effect::Released {
                mechanism: pool.id,
                member: head.member,
                entry: self.first as u64 + 1,
                amount,
            });
            self.leave(self.first);
        }
    }

    /// Pays the referrer's oldest waiting entry `referral_acceleration` × the referee's order,
    /// at most what it waits for and what the pool holds, regardless of its lock.
    fn accelerate(&mut self, pool: &mut Pool, books: &mut Books, referrer: MemberId, amount: Money) {
        let Some(&Line { oldest, .. }) = self.members.get(referrer.index()) else { return };
        if oldest == NONE {
            return;
        }
        let remaining = Money::from_fen(self.entry_mut(oldest).remaining);
        let pay = amount.mul_rate(self.config.referral_acceleration).min(remaining).min(pool.pool(books));
        if pay.is_zero() {
            return;
        }
        pool.pay(books, referrer, pay, PayTo::Wallet, Rule::Acceleration);
        self.entry_mut(oldest).remaining -= pay.fen();
        self.waiting_amount -= pay.fen();
        if let Some(index) = &mut self.index {
            index.add(oldest, 0, -pay.fen());
        }
        let left = remaining - pay;
        books.effect(Effect::Accelerated {
            mechanism: pool.id,
            member: referrer,
            entry: oldest as u64 + 1,
            amount: pay,
            remaining: left,
        });
        if left.is_zero() {
            self.leave(oldest);
        }
    }

    /// 进三补一: the oldest waiting entry becomes due and joins the obligation queue.
    fn make_head_due(&mut self, pool: &mut Pool, books: &mut Books) {
        let Some(&head) = self.entries.front() else { return };
        let amount = Money::from_fen(head.remaining);
        pool.owe(head.member, amount, PayTo::Wallet, Rule::Due);
        books.effect(Effect::Due {
            mechanism: pool.id,
            member: head.member,
            entry: self.first as u64 + 1,
            amount,
        });
        self.leave(self.first);
    }

    /// Clawback of entry `number`, created for an order of `amount`: a waiting entry leaves
    /// the queue; what acceleration paid it, or all of it once paid or due, stays paid.
    /// Returns (cancelled, kept).
    fn claw_back_entry(&mut self, number: u32, amount: Money) -> (Money, Money) {
        let owed = self.config.owed(amount);
        let waiting = number >= self.first && self.entry_mut(number).waiting();
        if !waiting {
            return (Money::ZERO, owed);
        }
        let entry = *self.entry_mut(number);
        let line = &mut self.members[entry.member.index()];
        if line.oldest != number {
            // Unlink it from the member's list: walk to its predecessor.
            let mut previous = line.oldest;
            while self.entries[(previous - self.first) as usize].next != number {
                previous = self.entries[(previous - self.first) as usize].next;
            }
            self.entry_mut(previous).next = entry.next;
            if self.members[entry.member.index()].newest == number {
                self.members[entry.member.index()].newest = previous;
            }
            self.entry_mut(number).remaining = LEFT;
            self.waiting_count -= 1;
            self.waiting_amount -= entry.remaining;
            if let Some(index) = &mut self.index {
                index.add(number, -1, -entry.remaining);
            }
        } else {
            self.leave(number);
        }
        let cancelled = Money::from_fen(entry.remaining);
        (cancelled, owed - cancelled)
    }

    /// Takes entry `number` (its member's oldest waiting) out of the waiting entries.
    fn leave(&mut self, number: u32) {
        let entry = *self.entry_mut(number);
        debug_assert!(entry.waiting());
        self.entry_mut(number).remaining = LEFT;
        self.waiting_count -= 1;
        self.waiting_amount -= entry.remaining;
        if let Some(index) = &mut self.index {
            index.add(number, -1, -entry.remaining);
        }
        let line = &mut self.members[entry.member.index()];
        debug_assert_eq!(line.oldest, number, "a member's entries leave in order");
        line.oldest = entry.next;
        if entry.next == NONE {
            line.newest = NONE;
        }
        while self.entries.front().is_some_and(|e| !e.waiting()) {
            self.entries.pop_front();
            self.first += 1;
        }
    }

    fn entry_mut(&mut self, number: u32) -> &mut Entry {
        &mut self.entries[(number - self.first) as usize]
    }

    /// One member's place: O(their position) to count what waits ahead, O(their entries) for
    /// what they wait for.
    fn place(&self, member: MemberId) -> Place {
        let Some(&Line { oldest, .. }) = self.members.get(member.index()) else { return Place::default() };
        if oldest == NONE {
            return Place::default();
        }
        let mut place = Place::default();
        match &self.index {
            Some(index) => {
                let (count, amount) = index.before(oldest);
                place.position = count as u64;
                place.ahead = Money::from_fen(amount);
            }
            None => {
                let ahead = self.entries.range(..(oldest - self.first) as usize).filter(|e| e.waiting());
                for entry in ahead {
                    place.position += 1;
                    place.ahead += Money::from_fen(entry.remaining);
                }
            }
        }
        place.position += 1;
        let mut number = oldest;
        while number != NONE {
            let entry = &self.entries[(number - self.first) as usize];
            place.entries += 1;
            place.waiting += Money::from_fen(entry.remaining);
            number = entry.next;
        }
        place
    }

    /// Every member's place (`members` of them, at least every member with a line here), in
    /// one pass over the waiting entries. Sized once: growing it to `members` afterwards
    /// doubled its capacity and copied it, at the peak of a run's memory (issue 19).
    fn places(&self, members: usize) -> Vec<Place> {
        let mut places = vec![Place::default(); members.max(self.members.len())];
        let (mut position, mut ahead) = (0u64, 0i64);
        for entry in self.entries.iter().filter(|e| e.waiting()) {
            position += 1;
            let place = &mut places[entry.member.index()];
            if place.entries == 0 {
                place.position = position;
                place.ahead = Money::from_fen(ahead);
            }
            place.entries += 1;
            place.waiting += Money::from_fen(entry.remaining);
            ahead += entry.remaining;
        }
        places
    }
}

impl Kind for Queue {
    const NAME: &'static str = "queue";
    const TITLE: (&'static str, &'static str) = ("排队返利", "Rebate queue");
    /// A queue's obligations are earlier entries made due, not the settled order's own.
    const OWED_BY_ORDER: bool = false;
    type Config = QueueConfig;
    type View = QueueView;
    type Standing = Place;

    fn reconfigure(&mut self, config: &QueueConfig) {
        self.config = config.clone();
    }

    fn new(config: &QueueConfig) -> Queue {
        Queue {
            config: config.clone(),
            entries: VecDeque::new(),
            first: 0,
            created: 0,
            members: Vec::new(),
            waiting_count: 0,
            waiting_amount: 0,
            index: None,
        }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.settle(cx.pool, cx.books, order);
    }

    /// A held referral approved: the acceleration of the referrer's oldest entry.
    fn on_referral(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        if order.from == 0
            && let Some(referrer) = order.referrer()
        {
            self.accelerate(cx.pool, cx.books, referrer, order.amount);
        }
    }

    fn on_close_day(&mut self, cx: &mut Cx<'_>, now: Timestamp) {
        self.release(cx.pool, cx.books, now);
    }

    /// A waiting entry the order created leaves the queue; what acceleration paid it, or all of
    /// it once paid or due, stays paid.
    fn claw_back(&mut self, _cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        if refund.items.is_empty() {
            return ClawbackTotals::default();
        }
        let (cancelled, kept) = self.claw_back_entry(refund.items.start, refund.amount);
        ClawbackTotals { cancelled, kept, ..ClawbackTotals::default() }
    }

    fn marks(&self) -> super::Marks {
        super::Marks { items: self.created, entry: u64::MAX }
    }

    /// Reads the buyer's line and the referrer's oldest entry: a read, not a prefetch, because
    /// where the entry is depends on the referrer's line.
    fn read_ahead(&self, _look: &Look<'_>, member: MemberId, uplines: &[Option<MemberId>; 3]) -> i64 {
        self.touch(member, uplines[0])
    }

    fn index_members(&mut self) {
        self.index_places();
    }

    fn view(&self, _look: &Look<'_>) -> QueueView {
        // When the oldest waiting entry joined (settled), if any wait.
        let oldest_since = self.entries.front().map(|head| {
            let lock = self.config.lock_days as i64 * crate::time::DAY_NANOS;
            Timestamp::from_unix_nanos(head.eligible_at.unix_nanos() - lock)
        });
        QueueView { queued: Money::from_fen(self.waiting_amount), waiting: self.waiting_count, oldest_since }
    }

    fn standing(&self, _look: &Look<'_>, member: MemberId) -> Place {
        self.place(member)
    }

    fn standings(&self, _look: &Look<'_>, members: usize) -> Option<Vec<Place>> {
        let mut places = self.places(members);
        places.truncate(members);
        Some(places)
    }
}
