//! fanli's simulator: a scenario of member behaviour becomes an event stream, run through the
//! same engine as `fanli run`, so a simulation shows what the production code would do.
//!
//! Each line's event is built from the values drawn for it, and the line's text is written from
//! the same values; the event is applied as `fanli run` applies a line it has read
//! ([`fanli_format::apply_at`]). That the text reads back as that event is checked, not assumed:
//! [`simulate_checked`] reads every line it writes with `fanli run`'s reader and panics at the
//! first whose event differs from the one applied, and debug builds (every test) always do. So
//! the stream replays to the same state (`fanli run PLAN events.jsonl`; `tests/sim.rs` checks
//! that too). Reading the lines back had been a third of a simulation's instructions.
//!
//! [`simulate`] runs day by day: newcomers join (some referred, some buying at once), members
//! buy again, a few orders are refunded the next day, appreciation holders sell by the
//! scenario's strategy, members view ads, and the day closes. After each close it records a
//! row of the time series. The [`report`] module turns the result into files, and [`risk`]
//! grades the plan from its end.
//!
//! Everything random comes from one ChaCha8 generator seeded by the scenario, and every draw is
//! an integer: the same plan, scenario and seed give the same bytes everywhere.

pub mod against;
pub mod background;
pub mod chart;
pub mod report;
pub mod risk;
pub mod scenario;

use std::fmt::Write as _;
use std::io::{self, Write};

use fanli_engine::{
    AdTasksConfig, AppreciationConfig, AppreciationView, CoalitionConfig, Engine, Event, EventKind,
    GreenPointsConfig, GreenPointsView, KindConfig, LoyaltyConfig, Money, Order, Plan, Points, QueueConfig,
    QueueView, SellAmount, Timestamp, UtcOffset, date,
};
use fanli_format::{EventLine, LineOutcome, Rejected};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use scenario::{Amounts, Arrivals, DEFAULT, Scenario, Selling};

/// The first day, as days since 1970-01-01 (2026-01-01).
const FIRST_DAY: i64 = 20_454;
/// Nanoseconds in a day.
const DAY_NANOS: i64 = 86_400_000_000_000;
/// How many of the latest members "recent referrers" come from.
const RECENT: usize = 2_000;

/// One day of the time series, after its close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    /// From 1.
    pub day: u32,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Members so far.
    pub members: u64,
    /// Newcomers that day.
    pub joined: u64,
    /// Orders paid that day.
    pub orders: u64,
    /// What they came to.
    pub revenue: Money,
    /// Per mechanism, in plan order.
    pub mechanisms: Vec<MechanismDay>,
}

/// A mechanism's figures at a day's close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MechanismDay {
    /// Cash in the pool.
    pub pool: Money,
    /// Owed and not yet paid.
    pub obligations: Money,
    /// Paid to members so far.
    pub paid: Money,
    /// Appreciation: the price in 1/10000 yuan; 0 for other kinds.
    pub price: i128,
    /// Queue: what waiting entries wait for; green points: unreleased points (1 point = 1 yuan).
    pub waiting: Money,
    /// Appreciation: forced exits so far; queue: the oldest waiting entry's wait, in days.
    pub exits: u64,
}

/// Which of a [`MechanismDay`]'s figures mean something for a mechanism, and so have a column
/// in the time series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracked {
    /// Appreciation: the price, and the forced exits so far.
    PriceAndExits,
    /// A queue: what waits, and the oldest entry's wait in days.
    WaitingAndOldest,
    /// Green points: what waits to be released.
    Waiting,
    /// Only the pool, obligations and paid.
    Pool,
}

impl Tracked {
    /// What the simulator tracks of a mechanism of this kind.
    pub fn of(kind: &KindConfig) -> Tracked {
        if kind.get::<AppreciationConfig>().is_some() {
            Tracked::PriceAndExits
        } else if kind.get::<QueueConfig>().is_some() {
            Tracked::WaitingAndOldest
        } else if kind.get::<GreenPointsConfig>().is_some() {
            Tracked::Waiting
        } else {
            Tracked::Pool
        }
    }
}

/// A finished simulation.
pub struct Simulation {
    /// The engine after the last day.
    pub engine: Engine,
    /// Lines written to the stream.
    pub lines: usize,
    /// A row per day.
    pub days: Vec<Day>,
    /// Each member's join day, by member index.
    pub joined: Vec<u32>,
    /// The first day with no arrivals for the rest of the run, if arrivals stopped.
    pub arrivals_stop: Option<u32>,
    /// Lines the engine refused (a bug of the generator if not zero).
    pub rejected: Vec<Rejected>,
}

/// Why a simulation stopped before its last day.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The stream could not be written.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The plan's numbers outgrow 64 bits: the engine refused a generated line as `overflow`,
    /// and what the members would do next cannot be computed.
    #[error("the simulation stopped at line {line} of the stream: {error}")]
    Overflow {
        /// The stream's line.
        line: usize,
        /// The engine's refusal.
        error: String,
    },
}

/// Runs `plan` through `scenario`, writing the generated stream to `events` (a line an
/// event); `progress(day, days)` is called after each day.
pub fn simulate(
    plan: Plan,
    scenario: &Scenario,
    events: &mut dyn Write,
    progress: impl FnMut(u32, u32),
) -> Result<Simulation, SimError> {
    simulate_from(Engine::new(plan), scenario, events, progress)
}

/// Runs `scenario` forward from `engine`'s state (a real log replayed into it, say): its members
/// buy, refer and sell like the newcomers, and the first simulated day is the one after its last
/// event. New ids start with `sim-` so they cannot meet the log's.
pub fn simulate_from(
    engine: Engine,
    scenario: &Scenario,
    events: &mut dyn Write,
    progress: impl FnMut(u32, u32),
) -> Result<Simulation, SimError> {
    run(engine, scenario, events, progress, cfg!(debug_assertions))
}

/// [`simulate_from`], reading every line it writes back with `fanli run`'s reader
/// ([`EventLine::read`], [`EventLine::event`]) and comparing the event read with the event the
/// simulator built and applied: the check that the stream is what was simulated.
///
/// # Panics
///
/// At the first line that reads as another event, or does not read: a bug of the simulator.
pub fn simulate_checked(
    engine: Engine,
    scenario: &Scenario,
    events: &mut dyn Write,
    progress: impl FnMut(u32, u32),
) -> Result<Simulation, SimError> {
    run(engine, scenario, events, progress, true)
}

fn run(
    engine: Engine,
    scenario: &Scenario,
    events: &mut dyn Write,
    mut progress: impl FnMut(u32, u32),
    reread: bool,
) -> Result<Simulation, SimError> {
    let base = engine.member_count();
    let first_day = engine.now().map_or(FIRST_DAY, |at| at.local_day(fanli_engine::UtcOffset::CHINA) + 1);
    let buyers: Vec<u32> =
        (0..base).filter(|&i| !engine.spent(engine.member_id(i)).is_zero()).map(|i| i as u32).collect();
    let raw: Vec<String> = (0..base).map(|i| engine.member_name(engine.member_id(i)).to_owned()).collect();
    let names: Vec<String> = raw.iter().map(|name| serde_json::to_string(name).expect("a string")).collect();
    let mut sim = Sim {
        rng: ChaCha8Rng::seed_from_u64(scenario.seed),
        engine,
        first_day,
        names,
        raw,
        prefix: if base > 0 { "sim-" } else { "" },
        scenario: scenario.clone(),
        events,
        error: None,
        lines: 0,
        rejected: Vec::new(),
        joined: vec![0; base],
        buyers,
        partners: Vec::new(),
        partner_ids: Vec::new(),
        orders: 0,
        refunds: Vec::new(),
        prices: Vec::new(),
        clock: 0,
        day: 0,
        today: String::new(),
        line: String::new(),
        ids: String::new(),
        reread,
    };
    sim.engine.record(false);
    sim.partner_ids = sim.partners();
    sim.partners = sim.partner_ids.iter().map(|id| serde_json::to_string(id).expect("a string")).collect();
    let mut days = Vec::new();
    for day in 1..=scenario.days {
        days.push(sim.run_day(day));
        if let Some(e) = sim.error.take() {
            return Err(e);
        }
        if let Some(overflow) = sim.rejected.iter().find(|r| r.refusal.code == "overflow") {
            return Err(SimError::Overflow { line: overflow.line, error: overflow.refusal.error.clone() });
        }
        progress(day, scenario.days);
    }
    let arrivals_stop = (1..=scenario.days + 1)
        .find(|&d| (d..=scenario.days).all(|later| scenario.arrivals.on(later) == 0))
        .filter(|&d| d <= scenario.days);
    Ok(Simulation {
        engine: sim.engine,
        lines: sim.lines,
        days,
        joined: sim.joined,
        arrivals_stop,
        rejected: sim.rejected,
    })
}

struct Sim<'w> {
    rng: ChaCha8Rng,
    engine: Engine,
    /// Day 1, as days since 1970-01-01.
    first_day: i64,
    /// The JSON strings of the members who were there before day 1.
    names: Vec<String>,
    /// Their ids, as the events name them.
    raw: Vec<String>,
    /// Before the ids of what the simulation creates (`sim-` after a replayed log).
    prefix: &'static str,
    scenario: Scenario,
    events: &'w mut dyn Write,
    /// The first write error, reported after the day.
    error: Option<SimError>,

    lines: usize,
    rejected: Vec<Rejected>,
    /// Each member's join day.
    joined: Vec<u32>,
    /// Members who have bought at least once.
    buyers: Vec<u32>,
    /// The partners of the plan's coalitions, as JSON strings.
    partners: Vec<String>,
    /// Their ids, as the events name them.
    partner_ids: Vec<String>,
    orders: u64,
    /// Orders to refund the next day.
    refunds: Vec<u64>,
    /// Each appreciation mechanism's price at each day's close (1/10000 yuan).
    prices: Vec<Vec<i128>>,
    /// Seconds into the current day of the last event.
    clock: u32,
    /// The current day's date (`YYYY-MM-DD`), and the buffer `emit` builds lines in.
    today: String,
    line: String,
    /// The ids `Engine::prefetch` is given, built in a buffer kept from line to line.
    ids: String,
    day: u32,
    /// Every line read back and compared with its event ([`simulate_checked`]).
    reread: bool,
}

impl Sim<'_> {
    fn run_day(&mut self, day: u32) -> Day {
        self.day = day;
        self.today = date(self.first_day + day as i64 - 1).to_string();
        self.clock = 9 * 3600;
        let (members_before, orders_before) = (self.joined.len() as u64, self.orders);
        let mut revenue = 0i64;
        for order in std::mem::take(&mut self.refunds) {
            self.emit(|sim, line| {
                line.push_str("\"type\":\"refund\",\"order\":\"");
                let order = push_id_text(line, sim.prefix, 'o', order);
                line.push('"');
                Proto::Refund { order }
            });
        }
        for _ in 0..self.scenario.arrivals.on(day) {
            revenue += self.newcomer(day);
        }
        revenue += self.repeats();
        self.sells();
        self.ad_views();
        self.redemptions();
        self.close_day(day);
        let close = self.engine.now().expect("the day was closed");
        let views: Vec<MechanismDay> = self
            .engine
            .mechanism_views()
            .map(|m| {
                // What waits (a queue's entries, green points unreleased) and how long or how
                // many left (a queue's oldest wait in whole days, appreciation's exits).
                let detail = &m.detail;
                let (price, waiting, exits) = if let Some(a) = detail.get::<AppreciationView>() {
                    (a.price.display_units(), Money::ZERO, a.exits)
                } else if let Some(q) = detail.get::<QueueView>() {
                    let wait = q
                        .oldest_since
                        .map_or(0, |since| (close.unix_nanos() - since.unix_nanos()) / DAY_NANOS);
                    (0, q.queued, wait.max(0) as u64)
                } else if let Some(g) = detail.get::<GreenPointsView>() {
                    (0, Money::from_fen(g.points.units() / 100), 0)
                } else {
                    (0, Money::ZERO, 0)
                };
                MechanismDay { pool: m.pool, obligations: m.obligations, paid: m.paid, price, waiting, exits }
            })
            .collect();
        let prices: Vec<i128> = views.iter().map(|m| m.price).collect();
        self.prices.push(prices);
        Day {
            day,
            date: date(self.first_day + day as i64 - 1),
            members: self.joined.len() as u64,
            joined: self.joined.len() as u64 - members_before,
            orders: self.orders - orders_before,
            revenue: Money::from_fen(revenue),
            mechanisms: views,
        }
    }

    /// Appends member `index` as a JSON string: their own id if they were there before day 1.
    /// Lines are built without a `String` of their own or `format!`: a simulation writes tens of
    /// millions of them, and formatting was a third of its instructions.
    fn push_member(&self, line: &mut String, index: usize) -> Text {
        match self.names.get(index) {
            Some(name) => {
                line.push_str(name);
                Text::Old(index as u32)
            }
            None => {
                line.push('"');
                let id = push_id_text(line, self.prefix, 'm', index as u64);
                line.push('"');
                id
            }
        }
    }

    /// `"type":"KIND","member":M,"mechanism":"ID"`: the start of a line by member `index` for
    /// one mechanism (a sell, a redeem, an ad view), which the caller goes on from; the member.
    fn push_for_mechanism(&self, line: &mut String, kind: &str, index: usize, mechanism: &str) -> Text {
        line.push_str("\"type\":\"");
        line.push_str(kind);
        line.push_str("\",\"member\":");
        let member = self.push_member(line, index);
        line.push_str(",\"mechanism\":\"");
        line.push_str(mechanism);
        line.push('"');
        member
    }

    /// Appends member `index`'s id, as the events name them, to `ids`, for `Engine::prefetch`.
    fn push_member_id(&self, ids: &mut String, index: usize) {
        match self.raw.get(index) {
            Some(name) => ids.push_str(name),
            None => push_id(ids, self.prefix, 'm', index as u64),
        }
    }

    /// Starts loading what a line about member `index` will use: their slot in the engine's
    /// id table and their record and balances (a hint; changes nothing).
    fn prefetch(&mut self, index: usize) {
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        self.push_member_id(&mut ids, index);
        self.engine.prefetch([Some(ids.as_str()), None], None);
        self.ids = ids;
        if index < self.engine.member_count() {
            self.engine.prefetch_member(self.engine.member_id(index));
        }
    }

    /// A draw with probability `ppm` parts per million.
    fn chance(&mut self, ppm: u32) -> bool {
        self.rng.random_range(0..1_000_000) < ppm
    }

    /// `n` × `ppm` / 10^6, the fraction drawn.
    fn share(&mut self, n: u64, ppm: u32) -> u64 {
        let whole = n * ppm as u64;
        let (count, rest) = (whole / 1_000_000, whole % 1_000_000);
        count + u64::from(self.rng.random_range(0..1_000_000) < rest)
    }

    /// A newcomer joins (maybe referred, maybe sharing a fraudulent device) and maybe buys.
    fn newcomer(&mut self, day: u32) -> i64 {
        let id = self.joined.len() as u32;
        let n = self.joined.len();
        let (referrer, device) = if n > 0 && self.chance(self.scenario.referral) {
            let referrer = if self.chance(self.scenario.recent_referrers) {
                n - 1 - self.rng.random_range(0..n.min(RECENT))
            } else {
                self.rng.random_range(0..n)
            };
            let mut ids = std::mem::take(&mut self.ids);
            ids.clear();
            self.push_member_id(&mut ids, id as usize);
            let split = ids.len();
            self.push_member_id(&mut ids, referrer);
            let (member_id, referrer_id) = ids.split_at(split);
            self.engine.prefetch([Some(member_id), Some(referrer_id)], None);
            self.ids = ids;
            let device = if self.chance(self.scenario.fraud) { referrer } else { n };
            (Some(referrer), device)
        } else {
            (None, n)
        };
        self.emit(|sim, line| {
            line.push_str("\"type\":\"join\",\"member\":");
            let member = sim.push_member(line, id as usize);
            let referrer = referrer.map(|referrer| {
                line.push_str(",\"referrer\":");
                sim.push_member(line, referrer)
            });
            line.push_str(",\"device\":\"");
            let device = push_id_text(line, sim.prefix, 'd', device as u64);
            line.push('"');
            Proto::Join { member, referrer, device }
        });
        self.joined.push(day);
        if self.chance(self.scenario.first_order) { self.order(id) } else { 0 }
    }

    /// Members buying again today.
    fn repeats(&mut self) -> i64 {
        let count = self.share(self.joined.len() as u64, self.scenario.repeat);
        let mut revenue = 0;
        for _ in 0..count {
            let member = self.rng.random_range(0..self.joined.len()) as u32;
            revenue += self.order(member);
        }
        revenue
    }

    fn order(&mut self, member: u32) -> i64 {
        let id = self.orders;
        self.orders += 1;
        // The buyer's and the order's slots in the engine's id tables load while the amount is
        // drawn and the line written.
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        self.push_member_id(&mut ids, member as usize);
        let split = ids.len();
        push_id(&mut ids, self.prefix, 'o', id);
        let (buyer_id, order_id) = ids.split_at(split);
        self.engine.prefetch([Some(buyer_id), None], Some(order_id));
        self.ids = ids;
        let fen = match &self.scenario.orders {
            Amounts::Fixed(fen) => *fen,
            Amounts::Uniform(min, max) => self.rng.random_range(*min..=*max),
            Amounts::Lognormal { median, sigma, max } => {
                // Z by Irwin–Hall (12 uniforms, in 2^-20), e^(sigma × Z) in integers: the same
                // amounts on every machine.
                let sum: i64 = (0..12).map(|_| self.rng.random_range(0..1_i64 << 20)).sum();
                let z = sum - (6 << 20);
                lognormal(*median, *sigma, z).clamp(1, *max)
            }
            Amounts::Table(rows) => {
                let total: u64 = rows.iter().map(|r| r.1 as u64).sum();
                let mut pick = self.rng.random_range(0..total);
                rows.iter()
                    .find(|r| {
                        let hit = pick < r.1 as u64;
                        pick = pick.saturating_sub(r.1 as u64);
                        hit
                    })
                    .map_or(rows[0].0, |r| r.0)
            }
        };
        if self.buyers.last() != Some(&member) {
            self.buyers.push(member);
        }
        // At a coalition partner now and then, when the plan has partners.
        let partner = match self.partners.is_empty() || !self.chance(self.scenario.partner) {
            true => None,
            false => Some(self.rng.random_range(0..self.partners.len())),
        };
        self.emit(|sim, line| {
            line.push_str("\"type\":\"order\",\"order\":\"");
            let order = push_id_text(line, sim.prefix, 'o', id);
            line.push_str("\",\"member\":");
            let member = sim.push_member(line, member as usize);
            line.push_str(",\"amount\":\"");
            push_money(line, fen);
            line.push('"');
            let partner = partner.map(|partner| {
                line.push_str(",\"partner\":");
                line.push_str(&sim.partners[partner]);
                Text::Partner(partner as u32)
            });
            Proto::Order { order, member, fen, partner }
        });
        if self.chance(self.scenario.refund) {
            self.refunds.push(id);
        }
        fen
    }

    /// Appreciation holders who look at their points today, and sell by the strategy.
    fn sells(&mut self) {
        let mechanisms: Vec<(usize, String)> = self
            .engine
            .plan()
            .mechanisms
            .iter()
            .enumerate()
            .filter(|(_, m)| m.kind.get::<AppreciationConfig>().is_some())
            .map(|(i, m)| (i, m.id.clone()))
            .collect();
        if mechanisms.is_empty() || self.buyers.is_empty() {
            return;
        }
        let checks = self.share(self.buyers.len() as u64, self.scenario.checks);
        // Nothing else draws in this loop, so drawing the members first draws the same ones;
        // knowing them early lets their state load a few checks ahead (`prefetch`).
        let picks: Vec<u32> =
            (0..checks).map(|_| self.buyers[self.rng.random_range(0..self.buyers.len())]).collect();
        for (i, &member) in picks.iter().enumerate() {
            if let Some(&next) = picks.get(i + AHEAD) {
                self.prefetch(next as usize);
            }
            for (index, id) in &mechanisms {
                if self.wants_to_sell(*index, member) {
                    self.emit(|sim, line| {
                        let member = sim.push_for_mechanism(line, "sell", member as usize, id);
                        line.push_str(",\"points\":\"all\"");
                        Proto::Sell { member, mechanism: id }
                    });
                }
            }
        }
    }

    fn wants_to_sell(&self, index: usize, member: u32) -> bool {
        let mechanism = self.engine.mechanism_ids().nth(index).expect("listed");
        let member = self.engine.member_id(member as usize);
        let points = self.engine.points(mechanism, member);
        if points <= Points::ZERO {
            return false;
        }
        match self.scenario.selling {
            Selling::Hold => false,
            Selling::Multiple(k) => {
                let price = self.engine.price(mechanism).expect("appreciation");
                let value = price.value(points).fen() as i128;
                value * 1_000_000_000 >= self.engine.spent(member).fen() as i128 * k as i128
            }
            Selling::Panic(growth) => {
                let history = &self.prices;
                if history.len() < 7 {
                    return false;
                }
                // A mechanism an amendment added has no price on the days before it.
                let price = |back: usize| history[history.len() - back].get(index).copied().unwrap_or(0);
                let (then, now) = (price(7), price(1));
                then > 0 && now * 1_000_000_000 < then * (1_000_000_000 + growth as i128)
            }
        }
    }

    /// The partners of the plan's coalitions.
    fn partners(&self) -> Vec<String> {
        self.engine
            .plan()
            .mechanisms
            .iter()
            .filter_map(|m| m.kind.get::<CoalitionConfig>().map(|c| c.partners.iter()))
            .flatten()
            .map(|p| p.id.clone())
            .collect()
    }

    /// Buyers redeeming today: the cheapest loyalty reward, or a tenth of their coalition points
    /// at a partner, when they hold at least twice that (so that an expiry due today cannot make
    /// the line fail).
    fn redemptions(&mut self) {
        if self.buyers.is_empty() {
            return;
        }
        // What each mechanism redeems, with its JSON strings, once a day: the cheapest loyalty
        // reward (none: nothing to redeem), or a coalition's partners.
        let mechanisms: Vec<(fanli_engine::MechanismId, Redeems, String)> = self
            .engine
            .mechanism_ids()
            .zip(&self.engine.plan().mechanisms)
            .filter_map(|(id, m)| {
                let json = |text: &str| (text.to_owned(), serde_json::to_string(text).expect("a string"));
                let redeems = if let Some(l) = m.kind.get::<LoyaltyConfig>() {
                    let cheapest = l.rewards.iter().min_by_key(|r| r.points);
                    Redeems::Reward(cheapest.map(|r| (r.points, json(&r.name))))
                } else if let Some(c) = m.kind.get::<CoalitionConfig>() {
                    Redeems::Points(c.partners.iter().map(|p| json(&p.id)).collect())
                } else {
                    return None;
                };
                Some((id, redeems, m.id.clone()))
            })
            .collect();
        if mechanisms.is_empty() {
            return;
        }
        let count = self.share(self.buyers.len() as u64, self.scenario.redeem);
        for _ in 0..count {
            let index = self.buyers[self.rng.random_range(0..self.buyers.len())] as usize;
            let member = self.engine.member_id(index);
            for (id, redeems, name) in &mechanisms {
                let held = self.engine.points(*id, member);
                let (reward, partner, points) = match redeems {
                    Redeems::Reward(None) => continue,
                    Redeems::Reward(Some((points, reward))) => {
                        if held < *points + *points {
                            continue;
                        }
                        (Some(reward), None, Points::ZERO)
                    }
                    Redeems::Points(partners) => {
                        let points = Points::from_units(held.units() / 10 / 10_000 * 10_000);
                        if points <= Points::ZERO {
                            continue;
                        }
                        (None, Some(&partners[self.rng.random_range(0..partners.len())]), points)
                    }
                };
                self.emit(|sim, line| {
                    let member = sim.push_for_mechanism(line, "redeem", index, name);
                    if let Some((_, json)) = reward {
                        line.push_str(",\"reward\":");
                        line.push_str(json);
                    }
                    if let Some((_, json)) = partner {
                        line.push_str(",\"partner\":");
                        line.push_str(json);
                        write!(line, ",\"points\":\"{points}\"").expect("a String takes it");
                    }
                    Proto::Redeem {
                        member,
                        mechanism: name,
                        reward: reward.map(|(raw, _)| raw.as_str()),
                        partner: partner.map(|(raw, _)| raw.as_str()),
                        points: partner.map(|_| points),
                    }
                });
            }
        }
    }

    /// Members viewing ads today, up to each ad mechanism's daily allowance.
    fn ad_views(&mut self) {
        let ads: Vec<(String, u32)> = self
            .engine
            .plan()
            .mechanisms
            .iter()
            .filter_map(|m| m.kind.get::<AdTasksConfig>().map(|a| (m.id.clone(), a.views_per_day)))
            .collect();
        if ads.is_empty() || self.joined.is_empty() {
            return;
        }
        let viewers = self.share(self.joined.len() as u64, self.scenario.viewers);
        let mut seen = vec![false; self.joined.len()];
        // As in `sells`: the same draws, made first, so that each viewer's state loads ahead.
        let picks: Vec<usize> = (0..viewers).map(|_| self.rng.random_range(0..self.joined.len())).collect();
        for (i, &member) in picks.iter().enumerate() {
            if let Some(&next) = picks.get(i + AHEAD) {
                self.prefetch(next);
            }
            if std::mem::replace(&mut seen[member], true) {
                continue;
            }
            for (id, allowed) in &ads {
                for _ in 0..self.scenario.views.min(*allowed) {
                    self.emit(|sim, line| Proto::AdView {
                        member: sim.push_for_mechanism(line, "ad_view", member, id),
                        mechanism: id,
                    });
                }
            }
        }
    }

    fn close_day(&mut self, day: u32) {
        let next = self.first_day + day as i64;
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        write!(line, "{{\"at\":\"{}T00:00:00+08:00\",\"type\":\"close_day\"}}", date(next))
            .expect("a String takes it");
        self.put(line, local_time(next, 0), Proto::CloseDay);
    }

    /// Writes an event stamped a second after the last one, during the day, and applies it:
    /// `body` appends what follows `"at"` (without the braces) to the line, and says what event
    /// that is.
    fn emit<'p>(&mut self, body: impl FnOnce(&Self, &mut String) -> Proto<'p>) {
        self.clock = (self.clock + 1).min(86_399);
        let (h, m, s) = (self.clock / 3600, self.clock / 60 % 60, self.clock % 60);
        // The line is built in a buffer kept from line to line, and the day's date once a day:
        // a simulation writes tens of millions of lines.
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str("{\"at\":\"");
        line.push_str(&self.today);
        for (separator, two) in [('T', h), (':', m), (':', s)] {
            line.push(separator);
            line.push(char::from(b'0' + (two / 10) as u8));
            line.push(char::from(b'0' + (two % 10) as u8));
        }
        line.push_str("+08:00\",");
        let proto = body(self, &mut line);
        line.push('}');
        let at = local_time(self.first_day + self.day as i64 - 1, self.clock);
        self.put(line, at, proto);
    }

    /// Appends `line` (the buffer `self.line`, taken) to the stream, and applies its event (at
    /// `at`, as `proto` says) as `fanli run` applies the line once read: with the same
    /// [`fanli_format::apply_at`] the reader's [`fanli_format::apply_bytes`] ends in.
    fn put(&mut self, mut line: String, at: Timestamp, proto: Proto<'_>) {
        line.push('\n');
        if let Err(e) = self.events.write_all(line.as_bytes()) {
            self.error.get_or_insert(e.into());
        }
        line.pop();
        self.lines += 1;
        let event = Event { at, kind: proto.kind(&line, &self.raw, &self.partner_ids) };
        if self.reread {
            reread(&line, &event, self.lines);
        }
        if let LineOutcome::Refused(refusal) =
            fanli_format::apply_at(&mut self.engine, event, UtcOffset::CHINA)
        {
            self.rejected.push(Rejected { line: self.lines, refusal });
        }
        self.line = line;
    }
}

/// The instant of `seconds` into local day `day` (days since 1970-01-01) in China, the offset
/// every generated line is written at.
fn local_time(day: i64, seconds: u32) -> Timestamp {
    let seconds = day * 86_400 + i64::from(seconds) - i64::from(UtcOffset::CHINA.seconds());
    Timestamp::from_unix_nanos(seconds * 1_000_000_000)
}

/// Reads `line` (the `n`th) with `fanli run`'s reader and checks it is `event`.
fn reread(line: &str, event: &Event<'_>, n: usize) {
    let mut slot = EventLine::default();
    if let Err(e) = slot.read(line.as_bytes()) {
        panic!("line {n} of the stream does not read: {e:?}\n{line}");
    }
    match slot.event() {
        Ok(read) => assert_eq!(
            &read, event,
            "line {n} of the stream reads as another event than the one applied\n{line}"
        ),
        Err(e) => panic!("line {n} of the stream does not read as an event: {e:?}\n{line}"),
    }
}

/// Where a generated event's string lies, as the line is built: the event borrows it once the
/// line is whole.
#[derive(Clone, Copy)]
enum Text {
    /// `line[start..end]`: a generated id, written as it is.
    Span(u32, u32),
    /// A replayed log's member, by index (`Sim::raw`).
    Old(u32),
    /// A coalition's partner, by index (`Sim::partner_ids`).
    Partner(u32),
}

/// A generated line's event, its strings not yet borrowed (`Proto::kind`); `'p` is what the
/// caller holds (mechanism ids, reward and partner names).
enum Proto<'p> {
    Join {
        member: Text,
        referrer: Option<Text>,
        device: Text,
    },
    Order {
        order: Text,
        member: Text,
        fen: i64,
        partner: Option<Text>,
    },
    Refund {
        order: Text,
    },
    Sell {
        member: Text,
        mechanism: &'p str,
    },
    Redeem {
        member: Text,
        mechanism: &'p str,
        reward: Option<&'p str>,
        partner: Option<&'p str>,
        points: Option<Points>,
    },
    AdView {
        member: Text,
        mechanism: &'p str,
    },
    CloseDay,
}

impl<'p> Proto<'p> {
    /// The event, its strings borrowed from the line and the simulator's names.
    fn kind<'a>(self, line: &'a str, raw: &'a [String], partners: &'a [String]) -> EventKind<'a>
    where
        'p: 'a,
    {
        let text = |t: Text| -> &'a str {
            match t {
                Text::Span(start, end) => &line[start as usize..end as usize],
                Text::Old(i) => &raw[i as usize],
                Text::Partner(i) => &partners[i as usize],
            }
        };
        match self {
            Proto::Join { member, referrer, device } => EventKind::Join {
                member: text(member),
                referrer: referrer.map(text),
                phone: None,
                device: Some(text(device)),
                ip: None,
            },
            Proto::Order { order, member, fen, partner } => EventKind::Order(Order {
                id: text(order),
                member: text(member),
                amount: Money::from_fen(fen),
                profit: None,
                store: None,
                partner: partner.map(text),
                credit: Money::ZERO,
            }),
            Proto::Refund { order } => EventKind::Refund { order: text(order) },
            Proto::Sell { member, mechanism } => {
                EventKind::Sell { member: text(member), mechanism, points: SellAmount::All }
            }
            Proto::Redeem { member, mechanism, reward, partner, points } => {
                EventKind::Redeem { member: text(member), mechanism, reward, partner, points }
            }
            Proto::AdView { member, mechanism } => EventKind::AdView { member: text(member), mechanism },
            Proto::CloseDay => EventKind::CloseDay,
        }
    }
}

/// How many picks ahead of the one in hand `Sim::prefetch` is called: far enough for a miss to
/// arrive, near enough that the lines in between do not push it out again.
const AHEAD: usize = 4;

/// What a mechanism's members redeem (`Sim::redemptions`); names as the events name them and
/// as JSON strings.
enum Redeems {
    /// A loyalty mechanism's cheapest reward: its points and its name.
    Reward(Option<(Points, (String, String))>),
    /// A coalition's points at one of its partners.
    Points(Vec<(String, String)>),
}

/// Appends a generated id (`m17`, `o3`, `d5`, `sim-m17` after a replayed log): `prefix`,
/// `letter`, then `n` in decimal. The simulator writes one or two in every line, and more as
/// prefetch hints, so they go straight into a kept buffer (no `String`, no `format!`).
fn push_id(out: &mut String, prefix: &str, letter: char, n: u64) {
    out.push_str(prefix);
    out.push(letter);
    out.push_str(itoa::Buffer::new().format(n));
}

/// [`push_id`] into a line, and where it lies there.
fn push_id_text(line: &mut String, prefix: &str, letter: char, n: u64) -> Text {
    let start = line.len() as u32;
    push_id(line, prefix, letter, n);
    Text::Span(start, line.len() as u32)
}

/// Appends `fen` as `Money`'s `Display` writes it (`12.30`, `-0.05`: yuan, a point, two
/// places), without the formatting machinery: an order's amount is in a third of the lines.
fn push_money(out: &mut String, fen: i64) {
    if fen < 0 {
        out.push('-');
    }
    let abs = fen.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(abs / 100));
    out.push('.');
    let cents = (abs % 100) as u8;
    out.push(char::from(b'0' + cents / 10));
    out.push(char::from(b'0' + cents % 10));
}

/// `median × e^(sigma × z / 2^20)` in fen, sigma in 1/10^9, by integer arithmetic only:
/// e^x = (1 + x / 2^16)^(2^16), in 40-bit fixed point.
fn lognormal(median: i64, sigma: i64, z: i64) -> i64 {
    const Q: u32 = 40;
    // x in Q40: sigma (1e-9) × z (2^-20).
    let x = (sigma as i128 * z as i128 * (1_i128 << Q)) / (1_000_000_000_i128 << 20);
    let mut y = ((1_i128 << Q) + (x >> 16)).max(1) as u128;
    for _ in 0..16 {
        y = (y * y) >> Q;
    }
    ((median as u128 * y) >> Q).min(i64::MAX as u128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_money_writes_what_money_displays() {
        let mut line = String::new();
        for fen in [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            1_230,
            40_000,
            123_456_789,
            -1,
            -5,
            -100,
            -12_345,
            i64::MAX,
            -i64::MAX,
        ] {
            line.clear();
            push_money(&mut line, fen);
            assert_eq!(line, Money::from_fen(fen).to_string(), "{fen} fen");
        }
    }

    #[test]
    fn push_id_writes_prefix_letter_and_digits() {
        let mut ids = String::new();
        push_id(&mut ids, "", 'm', 0);
        push_id(&mut ids, "sim-", 'o', 1_234_567);
        push_id(&mut ids, "", 'd', u64::MAX);
        assert_eq!(ids, "m0sim-o1234567d18446744073709551615");
    }
}
