//! The state machine: members, orders, settlement, and dispatch to the mechanisms.

use std::collections::VecDeque;

use crate::effect::Effect;
use crate::event::{Event, EventKind, Order, SellAmount};
use crate::ledger::{Account, Ledger, Posting, Rule};
use crate::mechanism::{Books, ClawbackTotals, Mechanism, Profit, Settlement, State};
use crate::names::Names;
use crate::num::{Money, Points};
use crate::plan::Plan;
use crate::time::Timestamp;
use crate::{MechanismId, MemberId, OrderId};

const NONE: u32 = u32::MAX;

/// How many settlements ahead `close_day` reads the state it will need.
const READ_AHEAD: usize = 8;

/// A plan applied to the events seen so far.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Engine {
    plan: Plan,
    pub(crate) members: Members,
    orders: Orders,
    stores: Stores,
    /// Paid orders waiting for their refund window to pass, in payment order (so by due time).
    pending: VecDeque<(Timestamp, OrderId)>,
    pub(crate) mechanisms: Vec<Mechanism>,
    /// How many levels of uplines a settlement looks at (1 to 3): only as far as some
    /// mechanism pays or counts, so a plan that pays only referrers reads one record.
    depth: usize,
    /// Whether a mechanism pays a store's regional agents or recruiter.
    regional: bool,
    /// Whether a coalition mechanism names the partners orders may name.
    has_coalition: bool,
    /// The plan's anti-fraud rules and the review queue.
    pub(crate) antifraud: Option<crate::antifraud::Antifraud>,
    /// With `clawback`: what each settled order earned in each mechanism (order × mechanisms
    /// + mechanism), so that a refund can take it back.
    earned: Vec<Earned>,
    pub(crate) books: Books,
    last_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Members {
    pub(crate) names: Names,
    pub(crate) records: Vec<MemberRecord>,
    /// The sum of each member's orders refunded after settlement, in fen; rare, so kept apart
    /// (and only as long as the last member with one) to keep `records` small.
    pub(crate) refunded: Vec<i64>,
    /// Each member's team sales in fen: the settled spend of their downline to 3 levels, not
    /// their own. Kept (one figure per member, shared by every mechanism) only when a plan
    /// ranks members by it; empty otherwise.
    pub(crate) team_sales: Vec<i64>,
    /// Whether `team_sales` is kept.
    pub(crate) ranks: bool,
    /// With anti-fraud: whether each member's referral is held or rejected (no reward flows
    /// through it); empty without anti-fraud.
    pub(crate) cut: Vec<bool>,
}

/// What every settlement reads: 16 bytes, so the records of many members share a cache line.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct MemberRecord {
    pub(crate) referrer: u32,
    /// The sum of the member's settled orders, in fen.
    pub(crate) spent: i64,
}

impl Members {
    /// The member's referrer, while rewards may flow through the referral (anti-fraud may hold
    /// or cut it).
    pub(crate) fn referrer(&self, member: MemberId) -> Option<MemberId> {
        if self.cut.get(member.index()) == Some(&true) {
            return None;
        }
        self.joined_referrer(member)
    }

    /// Who referred the member when they joined, whatever anti-fraud made of it.
    pub(crate) fn joined_referrer(&self, member: MemberId) -> Option<MemberId> {
        match self.records[member.index()].referrer {
            NONE => None,
            r => Some(MemberId(r)),
        }
    }

    /// The member's uplines: referrer, referrer's referrer and the one above, as far as `depth`.
    pub(crate) fn uplines(&self, member: MemberId, depth: usize) -> [Option<MemberId>; 3] {
        let mut uplines = [None; 3];
        let mut current = member;
        for slot in uplines.iter_mut().take(depth) {
            match self.referrer(current) {
                Some(up) => {
                    *slot = Some(up);
                    current = up;
                }
                None => break,
            }
        }
        uplines
    }

    /// The member's team sales (zero when the plan does not rank members).
    pub(crate) fn team_sales(&self, member: MemberId) -> crate::num::Money {
        crate::num::Money::from_fen(self.team_sales.get(member.index()).copied().unwrap_or(0))
    }

    fn find(&self, name: &str) -> Result<MemberId, Rejection> {
        self.names.find(name).map(MemberId).ok_or_else(|| Rejection::UnknownMember(name.to_owned()))
    }
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Orders {
    names: Names,
    records: Vec<OrderRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
enum Status {
    Pending,
    Settled,
    Cancelled,
    Refunded,
}

/// What an order id stands for: a repeat must match all of it.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct OrderRecord {
    member: MemberId,
    status: Status,
    amount: Money,
    profit: Option<Money>,
    credit: Money,
    store: u32,
    partner: u32,
    /// The weekday it was paid, in the plan's timezone (0 = Monday), for bonus days.
    weekday: u8,
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Stores {
    names: Names,
    partners: Names,
    records: Vec<StoreRecord>,
    /// Region paths ("广东/东莞"), interned: a store's region and an agent's meet here.
    regions: Names,
    /// The agent of each region path, by its index in `regions` (`NONE`: no agent yet).
    agents: Vec<u32>,
}

impl Stores {
    /// The store's index, registering it (with no region) if it is new: an order may name a
    /// store before or without its `store` event.
    fn intern_store(&mut self, name: &str) -> u32 {
        let index = self.names.intern(name);
        if self.records.len() <= index as usize {
            self.records.push(StoreRecord::default());
        }
        index
    }

    fn intern_region(&mut self, path: &[&str]) -> u32 {
        let index = self.regions.intern(&path.join("/"));
        if self.agents.len() <= index as usize {
            self.agents.push(NONE);
        }
        index
    }

    /// The agents of the store's district, city and province (in that order), and its recruiter.
    fn payees(&self, store: u32) -> ([Option<MemberId>; 3], Option<MemberId>) {
        let Some(record) = self.records.get(store as usize) else { return ([None; 3], None) };
        let mut agents = [None; 3];
        for (depth, &region) in record.paths.iter().enumerate() {
            if region != NONE && self.agents[region as usize] != NONE {
                // paths are province, city, district; agents go district first.
                agents[2 - depth] = Some(MemberId(self.agents[region as usize]));
            }
        }
        (agents, record.recruiter)
    }
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct StoreRecord {
    region: Vec<String>,
    /// The region paths of its province, city and district (`NONE` past the region's depth).
    paths: [u32; 3],
    recruiter: Option<MemberId>,
}

impl Default for StoreRecord {
    fn default() -> StoreRecord {
        StoreRecord { region: Vec::new(), paths: [NONE; 3], recruiter: None }
    }
}

/// What a settled order earned in one mechanism, as marks taken before and after it settled.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Earned {
    /// The obligations it created (by number) and what they came to, in fen.
    owed: (u64, u64),
    owed_total: i64,
    /// Points it earned the buyer, in units.
    points: i64,
    /// The lots or queue entries it created.
    items: (u32, u32),
    /// A loyalty mechanism's rolling-year entry for it (`u64::MAX`: none).
    entry: u64,
}

impl Earned {
    const NOTHING: Earned = Earned { owed: (0, 0), owed_total: 0, points: 0, items: (0, 0), entry: u64::MAX };

    /// The marks of `mechanism` now, for `member`.
    fn mark(mechanism: &Mechanism, ledger: &Ledger, member: MemberId) -> Earned {
        let Mechanism { base, state } = mechanism;
        let (items, entry) = match state {
            State::GreenPoints(g) => (g.lot_count(), u64::MAX),
            State::Loyalty(l) => l.marks(),
            State::Queue(q) => (q.created(), u64::MAX),
            _ => (0, u64::MAX),
        };
        Earned {
            // A queue's obligations are entries of earlier orders made due: not this order's.
            owed: match state {
                State::Queue(_) => (0, 0),
                _ => (base.obligations.next_number(), 0),
            },
            owed_total: base.owed_total,
            points: ledger.held(base.id, member).units(),
            items: (items, 0),
            entry,
        }
    }

    /// What happened between `before` and `after`.
    fn between(before: Earned, after: Earned) -> Earned {
        Earned {
            owed: (before.owed.0, after.owed.0),
            owed_total: after.owed_total - before.owed_total,
            points: after.points - before.points,
            items: (before.items.0, after.items.0),
            entry: if after.entry > before.entry { before.entry } else { u64::MAX },
        }
    }
}

/// Why an event was refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The event is earlier than the one before it.
    #[error("time went backwards: {at} is before the previous event at {previous}")]
    TimeWentBackwards {
        /// This event's time.
        at: Timestamp,
        /// The previous accepted event's time.
        previous: Timestamp,
    },
    /// No member has this id.
    #[error("unknown member `{0}`")]
    UnknownMember(String),
    /// A review for a member whose referral is not held.
    #[error("member `{0}` has no referral waiting for review")]
    NoReview(String),
    /// A review under a plan without anti-fraud rules.
    #[error("the plan has no [antifraud] rules: there is nothing to review")]
    NoAntifraud,
    /// A member with this id has joined already.
    #[error("member `{0}` has already joined")]
    AlreadyJoined(String),
    /// A member named itself as referrer.
    #[error("member `{0}` cannot refer itself")]
    SelfReferral(String),
    /// The referrer has not joined.
    #[error("unknown referrer `{0}`: a referrer must join before the members they refer")]
    UnknownReferrer(String),
    /// An id is empty.
    #[error("`{0}` is empty")]
    EmptyId(&'static str),
    /// No order has this id.
    #[error("unknown order `{0}`")]
    UnknownOrder(String),
    /// An order id was paid before with other content.
    #[error("order `{order}` was already paid with another {field} ({before}, now {now})")]
    OrderReused {
        /// The order id.
        order: String,
        /// The first field that differs.
        field: &'static str,
        /// Its earlier value.
        before: String,
        /// Its value now.
        now: String,
    },
    /// An amount that must be positive is not.
    #[error("`{0}` must be positive")]
    NotPositive(&'static str),
    /// A part of an order exceeds the order.
    #[error("`{field}` {part} is more than the order amount {amount}")]
    ExceedsAmount {
        /// Which part: `profit` or `credit`.
        field: &'static str,
        /// Its value.
        part: Money,
        /// The order amount.
        amount: Money,
    },
    /// The order spends more store credit than the member has.
    #[error("member `{member}` has {held} store credit, the order spends {wanted}")]
    NotEnoughCredit {
        /// The member.
        member: String,
        /// Their store credit.
        held: Money,
        /// What the order spends.
        wanted: Money,
    },
    /// A withdrawal above the wallet.
    #[error("member `{member}` has {held} in their wallet, cannot withdraw {wanted}")]
    NotEnoughWallet {
        /// The member.
        member: String,
        /// Their wallet.
        held: Money,
        /// The withdrawal.
        wanted: Money,
    },
    /// A sale of more points than held.
    #[error("member `{member}` holds {held} points of `{mechanism}`, cannot {action} {wanted}")]
    NotEnoughPoints {
        /// What the event tried: "sell", "redeem", "cash out".
        action: &'static str,
        /// The member.
        member: String,
        /// The mechanism.
        mechanism: String,
        /// What they hold.
        held: Points,
        /// What they tried to sell.
        wanted: Points,
    },
    /// No mechanism has this id.
    #[error("unknown mechanism `{0}`")]
    UnknownMechanism(String),
    /// The mechanism's kind does not do this.
    #[error("mechanism `{mechanism}` is a {kind} mechanism: it cannot {action}")]
    WrongMechanism {
        /// The mechanism.
        mechanism: String,
        /// Its kind.
        kind: &'static str,
        /// What the event asked.
        action: &'static str,
    },
    /// An agent's level is not one of the three.
    #[error("agent level `{0}` is not one of district, city, province")]
    UnknownLevel(String),
    /// A redemption without what its mechanism needs.
    #[error("a redemption from `{mechanism}` needs {needs}")]
    RedeemNeeds {
        /// The mechanism.
        mechanism: String,
        /// What it needs.
        needs: &'static str,
    },
    /// A partner no coalition of the plan lists.
    #[error("unknown partner `{0}`: the plan's coalition does not list it")]
    UnknownPartner(String),
    /// A reward not in the mechanism's catalogue.
    #[error("mechanism `{mechanism}` has no reward `{reward}`; its rewards: {known}")]
    UnknownReward {
        /// The mechanism.
        mechanism: String,
        /// The reward asked for.
        reward: String,
        /// The catalogue's names.
        known: String,
    },
    /// A member has viewed as many ads today as the plan allows.
    #[error("member `{member}` has viewed {views} ads today, the most a day")]
    TooManyViews {
        /// The member.
        member: String,
        /// The views a day allowed.
        views: u32,
    },
    /// A region path does not fit what it names.
    #[error("{0}")]
    BadRegion(String),
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
            .map(|(i, config)| Mechanism::new(MechanismId::from_index(i), config))
            .collect();
        let books = Books { ledger: Ledger::new(plan.mechanisms.len()), effects: Vec::new() };
        let reach = plan.mechanisms.iter().map(|m| m.kind.reach());
        let ranks = reach.clone().any(|r| r.ranks);
        Engine {
            depth: reach.clone().map(|r| if r.ranks { 3 } else { r.depth }).max().unwrap_or(1).max(1),
            regional: reach.clone().any(|r| r.regional),
            earned: Vec::new(),
            antifraud: plan.antifraud.as_ref().map(crate::antifraud::Antifraud::new),
            has_coalition: plan
                .mechanisms
                .iter()
                .any(|m| matches!(m.kind, crate::plan::KindConfig::Coalition(_))),
            plan,
            members: Members { ranks, ..Members::default() },
            orders: Orders::default(),
            stores: Stores::default(),
            pending: VecDeque::new(),
            mechanisms,
            books,
            last_at: None,
        }
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
        match &event.kind {
            EventKind::Join { member, referrer, phone, device, ip } => {
                self.join(member, *referrer, [*device, *phone, *ip], event.at)?
            }
            EventKind::Review { member, approve } => self.review(member, *approve, event.at)?,
            EventKind::Store { store, region, recruiter } => {
                self.register_store(store, region, *recruiter)?
            }
            EventKind::Agent { member, level, region } => self.register_agent(member, level, region)?,
            EventKind::Order(order) => self.order(order, event.at)?,
            EventKind::Refund { order } => self.refund(order, event.at)?,
            EventKind::Sell { member, mechanism, points } => {
                self.sell(member, mechanism, *points, event.at)?
            }
            EventKind::Withdraw { member, amount } => self.withdraw(member, *amount)?,
            EventKind::Topup { member, amount } => self.topup(member, *amount, event.at)?,
            EventKind::Inject { mechanism, amount } => self.inject(mechanism, *amount)?,
            EventKind::Redeem { member, mechanism, reward, partner, points } => {
                self.redeem(member, mechanism, (*reward, *partner, *points), event.at)?
            }
            EventKind::AdView { member, mechanism } => self.ad_view(member, mechanism, event.at)?,
            EventKind::AdvertiserFund { mechanism, amount } => self.advertiser_fund(mechanism, *amount)?,
            EventKind::CloseDay => self.close_day(event.at),
        }
        self.after_event(event.at);
        self.last_at = Some(event.at);
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
    /// than a pass over the entries ahead), for a server that shows members one at a time. Off
    /// by default: they cost every change a little, and `fanli run` has no use for them. Not
    /// kept in snapshots: call it again after [`Engine::restore`].
    pub fn index_places(&mut self) {
        for mechanism in &mut self.mechanisms {
            if let State::Queue(q) = &mut mechanism.state {
                q.index_places();
            }
        }
    }

    /// The postings and effects of the last event applied (empty after a rejection, and while
    /// [`Engine::record`] is off).
    pub fn applied(&self) -> Applied<'_> {
        Applied { postings: &self.books.ledger.journal, effects: &self.books.effects }
    }

    /// `contacts`: device, phone and IP, for anti-fraud.
    fn join(
        &mut self,
        member: &str,
        referrer: Option<&str>,
        contacts: [Option<&str>; 3],
        at: Timestamp,
    ) -> Result<(), Rejection> {
        if member.is_empty() {
            return Err(Rejection::EmptyId("member"));
        }
        if referrer == Some(member) {
            return Err(Rejection::SelfReferral(member.to_owned()));
        }
        if self.members.names.find(member).is_some() {
            return Err(Rejection::AlreadyJoined(member.to_owned()));
        }
        let referrer = match referrer {
            Some(name) => {
                self.members.names.find(name).ok_or_else(|| Rejection::UnknownReferrer(name.to_owned()))?
            }
            None => NONE,
        };
        let id = MemberId(self.members.names.insert(member));
        self.members.records.push(MemberRecord { referrer, spent: 0 });
        self.books.ledger.add_member();
        self.books.effect(Effect::Joined { member: id });
        if let Some(antifraud) = &mut self.antifraud {
            let uplines = self.members.uplines(id, 3);
            let referrer = self.members.joined_referrer(id);
            let hits = antifraud.on_join(id, referrer, contacts, at, uplines);
            self.members.cut.push(!hits.is_empty());
            if !hits.is_empty() {
                let review = antifraud.reviews.len() as u32 - 1;
                self.books.effect(Effect::Held { member: id, review });
            }
        }
        Ok(())
    }

    /// An operator's decision on a held referral. Approved, the rewards that waited on it happen
    /// now, order by order, as if counted now; rejected, they never happen.
    fn review(&mut self, member: &str, approve: bool, at: Timestamp) -> Result<(), Rejection> {
        let id = self.members.find(member)?;
        let antifraud = self.antifraud.as_mut().ok_or(Rejection::NoAntifraud)?;
        let review = antifraud.open_review(id).ok_or_else(|| Rejection::NoReview(member.to_owned()))?;
        let (orders, downline) = antifraud.decide(review, approve, at);
        self.books.effect(Effect::Reviewed { member: id, approved: approve });
        if approve {
            self.members.cut[id.index()] = false;
            for order in orders {
                self.settle_referral(order, at, 0);
            }
            for (order, from) in downline {
                self.settle_referral(order, at, usize::from(from));
            }
        }
        Ok(())
    }

    /// The referral parts of a settled order whose referral was held and is now approved: from
    /// upline position `from` on (0: the buyer's own referral; 1 or 2: a link further up, the
    /// uplines below it having been paid at settlement).
    fn settle_referral(&mut self, order: OrderId, now: Timestamp, from: usize) {
        let OrderRecord { member, amount, weekday, .. } = self.orders.records[order.index()];
        let uplines = self.members.uplines(member, self.depth);
        if self.members.ranks {
            for upline in uplines.into_iter().skip(from).flatten() {
                *crate::mechanism::slot(&mut self.members.team_sales, upline) += amount.fen();
            }
        }
        for Mechanism { base, state } in &mut self.mechanisms {
            let books = &mut self.books;
            let order = Settlement {
                member,
                uplines,
                amount,
                funding: Money::ZERO,
                now,
                weekday,
                held: false,
                agents: [None; 3],
                recruiter: None,
                from,
            };
            // What rests on the direct referral runs only for the buyer's own held referral.
            match state {
                State::ReferRefund(r) if from == 0 => r.on_referral(base, books, &order),
                State::ReferRefund(r) => r.on_downline(base, books, &order),
                State::Queue(q) if from == 0 => q.on_referral(base, books, &order),
                State::Distribution(d) => d.on_referral(base, books, &order, &self.members),
                State::Cycle(c) if from == 0 => c.on_referral(&order),
                State::Loyalty(l) if from == 0 => l.on_referral(base, books, &order),
                _ => {}
            }
        }
    }

    fn register_store(
        &mut self,
        store: &str,
        region: &[&str],
        recruiter: Option<&str>,
    ) -> Result<(), Rejection> {
        if store.is_empty() {
            return Err(Rejection::EmptyId("store"));
        }
        // A store may have no region yet, like one known only from its orders.
        check_region(region, 0..=3)?;
        let recruiter = recruiter.map(|name| self.members.find(name)).transpose()?;
        let mut paths = [NONE; 3];
        for (depth, path) in paths.iter_mut().enumerate().take(region.len()) {
            *path = self.stores.intern_region(&region[..=depth]);
        }
        let index = self.stores.intern_store(store) as usize;
        self.stores.records[index] =
            StoreRecord { region: region.iter().map(|s| s.to_string()).collect(), paths, recruiter };
        Ok(())
    }

    fn register_agent(&mut self, member: &str, level: &str, region: &[&str]) -> Result<(), Rejection> {
        let member = self.members.find(member)?;
        let depth = match level {
            "province" => 1,
            "city" => 2,
            "district" => 3,
            other => return Err(Rejection::UnknownLevel(other.to_owned())),
        };
        check_region(region, depth..=depth).map_err(|_| {
            let parts = ["province", "province, city", "province, city, district"][depth - 1];
            Rejection::BadRegion(format!("a {level} agent's region is [{parts}], got {region:?}"))
        })?;
        let index = self.stores.intern_region(region) as usize;
        self.stores.agents[index] = member.0;
        Ok(())
    }

    fn order(&mut self, order: &Order<'_>, at: Timestamp) -> Result<(), Rejection> {
        if order.id.is_empty() {
            return Err(Rejection::EmptyId("order"));
        }
        if order.store == Some("") {
            return Err(Rejection::EmptyId("store"));
        }
        let member = self.members.find(order.member)?;
        positive(order.amount, "amount")?;
        if let Some(existing) = self.orders.names.find(order.id) {
            let record = &self.orders.records[existing as usize];
            if let Some((field, before, now)) = self.difference(record, order, member) {
                return Err(Rejection::OrderReused { order: order.id.to_owned(), field, before, now });
            }
            self.books.effect(Effect::Repeated { order: OrderId(existing) });
            return Ok(());
        }
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
        if let Some(partner) = order.partner
            && self.has_coalition
            && !self
                .mechanisms
                .iter()
                .any(|m| matches!(&m.state, State::Coalition(c) if c.partner(partner).is_some()))
        {
            return Err(Rejection::UnknownPartner(partner.to_owned()));
        }
        // Everything is checked: from here on nothing fails.
        let store = order.store.map_or(NONE, |name| self.stores.intern_store(name));
        let partner = order.partner.map_or(NONE, |name| self.stores.partners.intern(name));
        let id = OrderId(self.orders.names.insert(order.id));
        self.orders.records.push(OrderRecord {
            member,
            status: Status::Pending,
            amount: order.amount,
            profit: order.profit,
            credit: order.credit,
            store,
            partner,
            weekday: (at.local_day(self.plan.timezone) + 3).rem_euclid(7) as u8,
        });
        let ledger = &mut self.books.ledger;
        let cash = order.amount - order.credit;
        ledger.post(Account::External, Account::Platform, cash.fen(), None, Rule::Payment);
        ledger.post(Account::Credit(member), Account::Platform, order.credit.fen(), None, Rule::CreditSpent);
        self.books.effect(Effect::Paid { order: id });
        match self.plan.settle_after_days {
            0 => self.settle(id, at),
            days => self.pending.push_back((at.plus_days(days), id)),
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
        let named = |names: &'_ Names, index: u32| (index != NONE).then(|| names.get(index).to_owned());
        if record.member != member {
            let before = self.members.names.get(record.member.0);
            return Some(("member", quoted(Some(before)), quoted(Some(order.member))));
        }
        if record.amount != order.amount {
            return Some(("amount", record.amount.to_string(), order.amount.to_string()));
        }
        if record.profit != order.profit {
            return Some(("profit", money(record.profit), money(order.profit)));
        }
        if record.credit != order.credit {
            return Some(("credit", record.credit.to_string(), order.credit.to_string()));
        }
        let store = named(&self.stores.names, record.store);
        if store.as_deref() != order.store {
            return Some(("store", quoted(store.as_deref()), quoted(order.store)));
        }
        let partner = named(&self.stores.partners, record.partner);
        if partner.as_deref() != order.partner {
            return Some(("partner", quoted(partner.as_deref()), quoted(order.partner)));
        }
        None
    }

    fn refund(&mut self, order: &str, at: Timestamp) -> Result<(), Rejection> {
        let id = self.orders.names.find(order).ok_or_else(|| Rejection::UnknownOrder(order.to_owned()))?;
        let record = &mut self.orders.records[id as usize];
        let (rule, effect) = match record.status {
            Status::Pending => (Rule::Cancel, Effect::Cancelled { order: OrderId(id) }),
            Status::Settled => (Rule::Refund, Effect::Refunded { order: OrderId(id) }),
            // A refund repeated: the money went back already.
            Status::Cancelled | Status::Refunded => return Ok(()),
        };
        if record.status == Status::Settled {
            record.status = Status::Refunded;
            *crate::mechanism::slot(&mut self.members.refunded, record.member) += record.amount.fen();
        } else {
            record.status = Status::Cancelled;
        }
        let ledger = &mut self.books.ledger;
        ledger.post(Account::Platform, Account::External, (record.amount - record.credit).fen(), None, rule);
        ledger.post(Account::Platform, Account::Credit(record.member), record.credit.fen(), None, rule);
        self.books.effect(effect);
        if rule == Rule::Refund && self.plan.clawback {
            self.claw_back(OrderId(id), at);
        }
        Ok(())
    }

    /// `clawback`: a settled order was refunded; each mechanism takes back what the order
    /// earned that it still can, and records what it could not.
    fn claw_back(&mut self, order: OrderId, at: Timestamp) {
        let record = self.orders.records[order.index()];
        let referrer = self.members.referrer(record.member);
        let partner = (record.partner != NONE).then(|| self.stores.partners.get(record.partner));
        let month = at.local_month(self.plan.timezone);
        let count = self.mechanisms.len();
        for (m, Mechanism { base, state }) in self.mechanisms.iter_mut().enumerate() {
            let Some(&e) = self.earned.get(order.index() * count + m) else { continue };
            let books = &mut self.books;
            let mut t = ClawbackTotals::default();
            if e.owed.0 < e.owed.1 {
                let cancelled = base.obligations.cancel(e.owed.0..e.owed.1);
                t.cancelled += cancelled;
                t.kept += Money::from_fen(e.owed_total) - cancelled;
            }
            let earned = Points::from_units(e.points);
            let (member, amount, items) = (record.member, record.amount, e.items.0..e.items.1);
            let taken = match state {
                State::Appreciation(a) => Some(a.claw_back(base, books, member, earned, amount)),
                State::AdTasks(a) => Some(a.claw_back(base, books, member, earned)),
                State::Coalition(c) => Some(c.claw_back(base, books, (member, earned), partner, month)),
                State::GreenPoints(g) => {
                    (t.points_taken, t.points_kept) = g.claw_back(base, books, items);
                    None
                }
                State::Loyalty(l) => {
                    let entry = (e.entry != u64::MAX).then_some(e.entry);
                    (t.points_taken, t.points_kept) = l.claw_back(base, books, items, entry);
                    None
                }
                State::Queue(q) => {
                    if !items.is_empty() {
                        let (cancelled, kept) = q.claw_back(items.start, amount);
                        t.cancelled += cancelled;
                        t.kept += kept;
                    }
                    None
                }
                State::Cycle(c) => {
                    t.cancelled += c.claw_back(member, referrer, amount);
                    None
                }
                State::ReferRefund(_) | State::Distribution(_) => None,
            };
            if let Some(taken) = taken {
                (t.points_taken, t.points_kept) = (taken, earned - taken);
            }
            if t != ClawbackTotals::default() {
                base.clawback += t;
                books.effect(Effect::ClawedBack { mechanism: base.id, order, totals: t });
            }
        }
    }

    fn sell(
        &mut self,
        member: &str,
        mechanism: &str,
        points: SellAmount,
        at: Timestamp,
    ) -> Result<(), Rejection> {
        let member_id = self.members.find(member)?;
        let m = self.mechanism(mechanism)?;
        let Mechanism { base, state } = &mut self.mechanisms[m.index()];
        let held = match state {
            State::Appreciation(_) => self.books.ledger.held(m, member_id),
            State::Loyalty(l) if l.config.cashout.is_some() => l.spendable(&self.books, base, member_id, at),
            State::Loyalty(_) => {
                return Err(self.wrong_mechanism(mechanism, "cash out points: it has no `cashout`"));
            }
            _ => return Err(self.wrong_mechanism(mechanism, "sell points")),
        };
        let points = match points {
            SellAmount::All if held.is_zero() => return Ok(()),
            SellAmount::All => held,
            SellAmount::Points(p) if p <= Points::ZERO => return Err(Rejection::NotPositive("points")),
            SellAmount::Points(p) if p > held => {
                return Err(Rejection::NotEnoughPoints {
                    action: if matches!(state, State::Loyalty(_)) { "cash out" } else { "sell" },
                    member: member.to_owned(),
                    mechanism: mechanism.to_owned(),
                    held,
                    wanted: p,
                });
            }
            SellAmount::Points(p) => p,
        };
        match state {
            State::Appreciation(a) => a.sell(base, &mut self.books, member_id, points, false),
            State::Loyalty(l) => l.cash_out(base, &mut self.books, member_id, points, at),
            _ => unreachable!("only appreciation and loyalty sell"),
        }
        Ok(())
    }

    fn withdraw(&mut self, member: &str, amount: Money) -> Result<(), Rejection> {
        let id = self.members.find(member)?;
        positive(amount, "amount")?;
        let held = self.books.ledger.wallet(id);
        if amount > held {
            return Err(Rejection::NotEnoughWallet { member: member.to_owned(), held, wanted: amount });
        }
        self.books.ledger.post(Account::Wallet(id), Account::External, amount.fen(), None, Rule::Withdraw);
        Ok(())
    }

    fn topup(&mut self, member: &str, amount: Money, at: Timestamp) -> Result<(), Rejection> {
        let id = self.members.find(member)?;
        positive(amount, "amount")?;
        self.books.ledger.post(Account::External, Account::Credit(id), amount.fen(), None, Rule::Topup);
        for Mechanism { base, state } in &mut self.mechanisms {
            if let State::Loyalty(l) = state {
                l.on_topup(base, &mut self.books, id, amount, at);
            }
        }
        Ok(())
    }

    /// A reward of a loyalty catalogue, or coalition points at a partner: `what` is the event's
    /// (reward, partner, points).
    fn redeem(
        &mut self,
        member: &str,
        mechanism: &str,
        what: (Option<&str>, Option<&str>, Option<Points>),
        at: Timestamp,
    ) -> Result<(), Rejection> {
        let member_id = self.members.find(member)?;
        let m = self.mechanism(mechanism)?;
        let month = at.local_month(self.plan.timezone);
        let Mechanism { base, state } = &mut self.mechanisms[m.index()];
        let needs = |needs: &'static str| Rejection::RedeemNeeds { mechanism: mechanism.to_owned(), needs };
        if let State::Coalition(coalition) = state {
            let (None, Some(partner), Some(points)) = what else {
                return Err(needs("a `partner` and `points` (and no `reward`)"));
            };
            let index =
                coalition.partner(partner).ok_or_else(|| Rejection::UnknownPartner(partner.to_owned()))?;
            let held = self.books.ledger.held(m, member_id);
            if points > held {
                return Err(Rejection::NotEnoughPoints {
                    action: "redeem",
                    member: member.to_owned(),
                    mechanism: mechanism.to_owned(),
                    held,
                    wanted: points,
                });
            }
            coalition.redeem(base, &mut self.books, member_id, (index, points), month);
            return Ok(());
        }
        let State::Loyalty(loyalty) = state else {
            return Err(self.wrong_mechanism(mechanism, "redeem rewards"));
        };
        let (Some(reward), None, None) = what else {
            return Err(needs("a `reward` of its catalogue (and no `partner` or `points`)"));
        };
        let Some(index) = loyalty.config.rewards.iter().position(|r| r.name == reward) else {
            let known: Vec<String> = loyalty.config.rewards.iter().map(|r| format!("`{}`", r.name)).collect();
            return Err(Rejection::UnknownReward {
                mechanism: mechanism.to_owned(),
                reward: reward.to_owned(),
                known: if known.is_empty() { "none".to_owned() } else { known.join(", ") },
            });
        };
        let cost = loyalty.config.rewards[index].points;
        let held = loyalty.spendable(&self.books, base, member_id, at);
        if cost > held {
            return Err(Rejection::NotEnoughPoints {
                action: "redeem",
                member: member.to_owned(),
                mechanism: mechanism.to_owned(),
                held,
                wanted: cost,
            });
        }
        loyalty.redeem(base, &mut self.books, member_id, index, at);
        Ok(())
    }

    fn inject(&mut self, mechanism: &str, amount: Money) -> Result<(), Rejection> {
        let m = self.mechanism(mechanism)?;
        positive(amount, "amount")?;
        self.books.ledger.post(Account::External, Account::Pool(m), amount.fen(), Some(m), Rule::Inject);
        Ok(())
    }

    fn advertiser_fund(&mut self, mechanism: &str, amount: Money) -> Result<(), Rejection> {
        let m = self.mechanism(mechanism)?;
        positive(amount, "amount")?;
        if !matches!(self.mechanisms[m.index()].state, State::AdTasks(_)) {
            return Err(self.wrong_mechanism(mechanism, "take advertiser funds"));
        }
        self.books.ledger.post(
            Account::External,
            Account::Pool(m),
            amount.fen(),
            Some(m),
            Rule::AdvertiserFund,
        );
        Ok(())
    }

    fn ad_view(&mut self, member: &str, mechanism: &str, at: Timestamp) -> Result<(), Rejection> {
        let member_id = self.members.find(member)?;
        let m = self.mechanism(mechanism)?;
        let day = at.local_day(self.plan.timezone);
        let Mechanism { base, state } = &mut self.mechanisms[m.index()];
        let State::AdTasks(ads) = state else {
            return Err(self.wrong_mechanism(mechanism, "show ads"));
        };
        let allowed = ads.config.views_per_day;
        if ads.views_on(member_id, day) >= allowed {
            return Err(Rejection::TooManyViews { member: member.to_owned(), views: allowed });
        }
        ads.view(base, &mut self.books, member_id, day);
        Ok(())
    }

    /// Settles the orders whose refund window has passed, in payment order, then runs the
    /// mechanisms' daily jobs.
    fn close_day(&mut self, now: Timestamp) {
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
            if self.orders.records[order.index()].status == Status::Pending {
                self.settle(order, now);
            }
        }
        for Mechanism { base, state } in &mut self.mechanisms {
            match state {
                State::Queue(queue) => queue.on_close_day(base, &mut self.books, now),
                State::GreenPoints(green) => green.on_close_day(base, &mut self.books, &self.members),
                State::Cycle(cycle) => cycle.on_close_day(base, &mut self.books),
                State::Appreciation(_)
                | State::ReferRefund(_)
                | State::Distribution(_)
                | State::AdTasks(_)
                | State::Loyalty(_)
                | State::Coalition(_) => {}
            }
        }
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
            buyers[count] = self.orders.records[order.index()].member;
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
        use crate::mechanism::prefetch;
        let ledger = &self.books.ledger;
        let referrer = uplines[0];
        if self.members.ranks {
            for &upline in uplines.iter().flatten() {
                prefetch(&self.members.team_sales, upline);
            }
        }
        let mut sum = 0;
        for Mechanism { base, state } in &self.mechanisms {
            let points = |m: MemberId| ledger.prefetch(Account::Points(base.id, m));
            match state {
                State::Appreciation(a) => {
                    a.prefetch(member);
                    points(member);
                }
                State::ReferRefund(r) => r.prefetch(member, referrer),
                State::Queue(q) => sum ^= q.touch(member, referrer),
                State::Distribution(_) => {
                    for &upline in uplines.iter().flatten() {
                        ledger.prefetch(Account::Wallet(upline));
                    }
                }
                State::GreenPoints(g) => {
                    g.prefetch(member);
                    points(member);
                }
                State::Cycle(c) => c.prefetch(member, referrer),
                State::Loyalty(l) => {
                    l.prefetch(member);
                    points(member);
                    referrer.map(points);
                }
                State::AdTasks(_) | State::Coalition(_) => points(member),
            }
        }
        sum
    }

    /// An order's refund window has passed: every mechanism, in plan order, acts on it.
    fn settle(&mut self, order: OrderId, now: Timestamp) {
        let record = &mut self.orders.records[order.index()];
        record.status = Status::Settled;
        let OrderRecord { member, amount, store, weekday, partner, .. } = *record;
        // The profit a `funding_base = "profit"` mechanism funds from: stated, else amount ×
        // margin_rate (kept exact: the funding rounds once), else the amount.
        let profit = match (record.profit, self.plan.margin_rate) {
            (Some(profit), _) => Profit::Stated(profit),
            (None, Some(margin)) => Profit::Margin(amount, margin),
            (None, None) => Profit::Stated(amount),
        };
        self.members.records[member.index()].spent += amount.fen();
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
                && self.members.cut.get(last.index()) == Some(&true)
            {
                antifraud.hold_downline(last, order, reached as u8);
            }
        }
        if self.members.ranks {
            // Team sales grow before any mechanism sees the order, so ranks count it.
            for upline in uplines.into_iter().flatten() {
                *crate::mechanism::slot(&mut self.members.team_sales, upline) += amount.fen();
            }
        }
        let (agents, recruiter) = if self.regional { self.stores.payees(store) } else { ([None; 3], None) };
        let count = self.mechanisms.len();
        let slots = order.index() * count;
        if self.plan.clawback && self.earned.len() < slots + count {
            self.earned.resize(slots + count, Earned::NOTHING);
        }
        for (m, mechanism) in self.mechanisms.iter_mut().enumerate() {
            let before = self.plan.clawback.then(|| Earned::mark(mechanism, &self.books.ledger, member));
            let Mechanism { base, state } = mechanism;
            let funding = base.funding(amount, profit);
            let books = &mut self.books;
            books.ledger.post(
                Account::Platform,
                Account::Pool(base.id),
                funding.fen(),
                Some(base.id),
                Rule::Funding,
            );
            let order = Settlement {
                member,
                uplines,
                amount,
                funding,
                now,
                weekday,
                held,
                agents,
                recruiter,
                from: 0,
            };
            match state {
                State::Appreciation(a) => a.on_settled(base, books, &order),
                State::ReferRefund(r) => r.on_settled(base, books, &order),
                State::Queue(q) => q.on_settled(base, books, &order),
                State::Distribution(d) => d.on_settled(base, books, &order, &self.members),
                State::GreenPoints(g) => g.on_settled(base, books, &order),
                State::Cycle(c) => c.on_settled(base, books, &order),
                State::AdTasks(a) => a.on_settled(base, books, &order),
                State::Loyalty(l) => l.on_settled(base, books, &order),
                State::Coalition(c) => {
                    let partner = (partner != NONE).then(|| self.stores.partners.get(partner));
                    c.on_settled(base, books, &order, partner, now.local_month(self.plan.timezone))
                }
            }
            if let Some(before) = before {
                let after = Earned::mark(mechanism, &self.books.ledger, member);
                self.earned[slots + m] = Earned::between(before, after);
            }
        }
    }

    /// After every event: each mechanism pays what its obligation queue can, and appreciation
    /// sells out the members whose exit price has been reached.
    fn after_event(&mut self, now: Timestamp) {
        if let Some(antifraud) = &mut self.antifraud {
            let members = &self.members;
            let first = antifraud.reviews.len() as u32;
            for (i, member) in antifraud.on_time(now, |m| members.joined_referrer(m)).into_iter().enumerate()
            {
                self.members.cut[member.index()] = true;
                self.books.effect(Effect::Held { member, review: first + i as u32 });
            }
        }
        for Mechanism { base, state } in &mut self.mechanisms {
            if let State::Loyalty(l) = state {
                l.on_time(base, &mut self.books, now);
            }
            base.pay_obligations(&mut self.books);
            if let State::Appreciation(a) = state {
                a.force_exits(base, &mut self.books);
            }
            base.report_pause(&mut self.books);
        }
    }

    fn mechanism(&self, name: &str) -> Result<MechanismId, Rejection> {
        self.mechanisms
            .iter()
            .position(|m| m.base.name == name)
            .map(MechanismId::from_index)
            .ok_or_else(|| Rejection::UnknownMechanism(name.to_owned()))
    }

    fn wrong_mechanism(&self, name: &str, action: &'static str) -> Rejection {
        match self.mechanism(name) {
            Err(unknown) => unknown,
            Ok(m) => Rejection::WrongMechanism {
                mechanism: name.to_owned(),
                kind: self.plan.mechanisms[m.index()].kind.name(),
                action,
            },
        }
    }

    /// The member's name.
    pub fn member_name(&self, member: MemberId) -> &str {
        self.members.names.get(member.0)
    }

    /// The member who joined `index`-th (from 0); `index` must be below [`Engine::member_count`].
    pub fn member_id(&self, index: usize) -> MemberId {
        assert!(index < self.member_count(), "member {index} of {}", self.member_count());
        MemberId::from_index(index)
    }

    /// The sum of the member's settled orders.
    pub fn spent(&self, member: MemberId) -> Money {
        Money::from_fen(self.members.records[member.index()].spent)
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
            self.members.names.prefetch(member);
        }
        if let Some(order) = order {
            self.orders.names.prefetch(order);
        }
    }

    /// A hint like [`Engine::prefetch`] for a member known by id, from a caller about to read
    /// or use their state (the simulator, picking members at random): starts loading their
    /// record and balances. Changes nothing.
    pub fn prefetch_member(&self, member: MemberId) {
        crate::mechanism::prefetch(&self.members.records, member);
        let ledger = &self.books.ledger;
        ledger.prefetch(Account::Wallet(member));
        for Mechanism { base, .. } in &self.mechanisms {
            ledger.prefetch(Account::Points(base.id, member));
        }
    }

    /// The member with this name.
    pub fn find_member(&self, name: &str) -> Option<MemberId> {
        self.members.names.find(name).map(MemberId)
    }

    /// How many members have joined.
    pub fn member_count(&self) -> usize {
        self.members.records.len()
    }

    /// The order with this id, if it was paid.
    pub fn find_order(&self, name: &str) -> Option<OrderId> {
        self.orders.names.find(name).map(OrderId)
    }

    /// The order's id.
    pub fn order_name(&self, order: OrderId) -> &str {
        self.orders.names.get(order.0)
    }

    /// How many distinct orders have been paid.
    pub fn order_count(&self) -> usize {
        self.orders.records.len()
    }

    /// The mechanism's id in the plan.
    pub fn mechanism_name(&self, mechanism: MechanismId) -> &str {
        &self.mechanisms[mechanism.index()].base.name
    }

    /// Whether every asset's accounts sum to zero, summed afresh over every account.
    pub fn accounts_balance(&self) -> bool {
        self.books.ledger.balances()
    }

    /// The balance of one account.
    pub fn balance(&self, account: Account) -> i64 {
        self.books.ledger.balance(account)
    }

    /// The agent registered for a region path, if any.
    pub fn agent(&self, region: &[&str]) -> Option<MemberId> {
        let index = self.stores.regions.find(&region.join("/"))?;
        Some(self.stores.agents[index as usize]).filter(|&a| a != NONE).map(MemberId)
    }

    /// The region and recruiter of a registered store.
    pub fn store(&self, store: &str) -> Option<(&[String], Option<MemberId>)> {
        let index = self.stores.names.find(store)? as usize;
        let record = &self.stores.records[index];
        Some((&record.region, record.recruiter))
    }
}

fn positive(amount: Money, field: &'static str) -> Result<(), Rejection> {
    if amount > Money::ZERO { Ok(()) } else { Err(Rejection::NotPositive(field)) }
}

fn check_region(region: &[&str], parts: std::ops::RangeInclusive<usize>) -> Result<(), Rejection> {
    if !parts.contains(&region.len()) || region.iter().any(|part| part.is_empty()) {
        return Err(Rejection::BadRegion(format!(
            "a region is at most {} non-empty names (province, city, district), got {region:?}",
            parts.end()
        )));
    }
    Ok(())
}
