//! `cargo xtask gen`: a large event stream for `bench/plan.toml`, the same for the same seed.
//!
//! The stream spreads over up to 365 simulated days from 2026-01-01, each ending with a
//! `close_day` at the next midnight (+08:00). Between them it mixes, roughly: joins (27%, a
//! third of them referred, mostly by recent members), orders (58.5%, 99.00 to 5000.00, ids
//! `o0`, `o1`, …), exact repeats of a recent order line (0.8%, to exercise idempotency), refunds
//! of recent orders (2.7%), sells of appreciation points (7.5%, `"all"` or a small fixed
//! amount), small withdrawals (3.5%), and at most one inject into the appreciation pool a day.
//!
//! With `all` (for `bench/plan-all.toml`, every kind at once) the stream also has a store with a
//! region and a recruiter and an agent for every 2,000 members, orders that name a store (and a
//! third of them a coalition partner), and, in place of some orders, ad views (2.2%), loyalty
//! redemptions (1.4%), coalition redemptions (0.5%) and top-ups (1.4%), each given to a member
//! whom a simple mirror expects to afford it. Without `all` the stream is the same as before.
//!
//! To keep rejections rare and forced exits (出局) coming all year, the generator mirrors the
//! plan's appreciation mechanism in floating point (pool, points outstanding, each member's
//! points, spend basis and wallet, and the heap of exit prices): a fixed-amount sell goes to a
//! member who holds that much, a withdrawal to a member whose wallet covers it, and each day's
//! inject raises the price towards the lowest exit price, by at most [`INJECT_STEP`]. The mirror
//! is approximate (the engine rounds exactly, and other mechanisms pay into wallets too) and
//! only steers the choices: the stream stays valid whatever the engine decides.
//!
//! The benchmark matrix (`bench --matrix`, see matrix.rs) shapes the stream further with a
//! [`Shape`]: without appreciation (the sells, withdrawals and injects become orders), with stores
//! but not the `all` extras, another `settle_after_days` for the mirror, more refunds (and sells
//! of `"all"` only, as a clawback takes points the mirror does not follow), a share of lines
//! written to be refused, long ids (phone numbers, UUIDs), or every member referred by the one
//! before in chains. Each knob draws from the random stream only when it is set, so the default
//! shapes write the same bytes as before.
//!
//! With `amend_every` N (N > 0), every Nth line (but a day's close) is instead an `amend_plan` of the stream's own
//! plan taking effect at once, each lowering the appreciation `sell_fee` by 0.0001 (a raise for
//! members, so it needs no notice): the cost of amendments on a long-running log.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use fanli_engine::date;

/// `bench/plan.toml`'s appreciation keys and refund window, which the mirror follows.
const APPR_FUNDING: f64 = 0.30;
const MINT_RATIO: f64 = 0.70;
const SELL_FEE: f64 = 0.20;
const EXIT_MULTIPLE: f64 = 2.0;
const INITIAL_PRICE: f64 = 1.0;
const SETTLE_DAYS: u32 = 7;
/// The appreciation mechanism's id in the plan.
const APPR: &str = "appr";

/// Simulated days (fewer for streams under 20 lines a day).
const DAYS: u64 = 365;
/// The first day, as days since 1970-01-01 (2026-01-01).
const FIRST_DAY: i64 = 20_454;
/// The most a day's inject raises the appreciation price, as a fraction.
const INJECT_STEP: f64 = 0.03;
/// The largest single inject, in fen (well under the engine's money cap of 10^10 yuan).
const INJECT_MAX_FEN: f64 = 1e11;

/// Recent members and orders: the windows that referrers, repeat buyers and refunds come from.
const RECENT_MEMBERS: usize = 20_000;
const RECENT_REFERRERS: usize = 5_000;
const RECENT_ORDERS: usize = 5_000;
/// How many candidates a sell or a withdrawal tries before settling for something else.
const TRIES: usize = 8;
/// Fixed sell amounts: (as written, in points).
const SELL_AMOUNTS: [(&str, f64); 6] =
    [("0.5", 0.5), ("1", 1.0), ("1.5", 1.5), ("2", 2.0), ("3", 3.0), ("5", 5.0)];

/// What a stream holds: written to the `.meta.json` sidecar, and read back by `bench`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) events: u64,
    /// Every how many lines an amendment is (0: none).
    pub(crate) amend_every: u64,
    pub(crate) amendments: u64,
    pub(crate) seed: u64,
    pub(crate) bytes: u64,
    pub(crate) days: u64,
    pub(crate) members: u64,
    pub(crate) referred: u64,
    pub(crate) orders: u64,
    pub(crate) repeats: u64,
    pub(crate) refunds: u64,
    pub(crate) sells: u64,
    pub(crate) sells_all: u64,
    pub(crate) withdrawals: u64,
    pub(crate) injects: u64,
    pub(crate) close_days: u64,
    /// Forced exits in the generator's mirror (the engine's own count may differ a little).
    pub(crate) mirror_exits: u64,
    /// Days on which the mirror saw at least one forced exit.
    pub(crate) mirror_exit_days: u64,
    pub(crate) mirror_first_exit_day: Option<u64>,
    pub(crate) mirror_last_exit_day: Option<u64>,
    pub(crate) mirror_price: f64,
    /// With `all`: stores (each with an agent), ad views, redemptions and top-ups.
    pub(crate) stores: u64,
    pub(crate) ad_views: u64,
    pub(crate) redeems: u64,
    pub(crate) topups: u64,
    /// Lines written to be refused (see [`Shape::rejects`]).
    pub(crate) bad: u64,
}

impl Stats {
    /// The sidecar's JSON: one flat object.
    pub(crate) fn to_json(&self) -> String {
        let day = |d: Option<u64>| d.map_or("null".to_owned(), |d| d.to_string());
        format!(
            "{{\"events\":{},\"amend_every\":{},\"amendments\":{},\"seed\":{},\"bytes\":{},\"days\":{},\"members\":{},\"referred\":{},\
             \"orders\":{},\"repeats\":{},\"refunds\":{},\"sells\":{},\"sells_all\":{},\
             \"withdrawals\":{},\"injects\":{},\"close_days\":{},\"mirror_exits\":{},\
             \"mirror_exit_days\":{},\"mirror_first_exit_day\":{},\"mirror_last_exit_day\":{},\
             \"mirror_price\":{:.4},\"stores\":{},\"ad_views\":{},\"redeems\":{},\"topups\":{},\"bad\":{}}}\n",
            self.events,
            self.amend_every,
            self.amendments,
            self.seed,
            self.bytes,
            self.days,
            self.members,
            self.referred,
            self.orders,
            self.repeats,
            self.refunds,
            self.sells,
            self.sells_all,
            self.withdrawals,
            self.injects,
            self.close_days,
            self.mirror_exits,
            self.mirror_exit_days,
            day(self.mirror_first_exit_day),
            day(self.mirror_last_exit_day),
            self.mirror_price,
            self.stores,
            self.ad_views,
            self.redeems,
            self.topups,
            self.bad,
        )
    }
}

/// What a stream is shaped for: which kinds of event it has and how its ids look. The default
/// shapes ([`Shape::plain`] for `bench/plan.toml`, [`Shape::all`] for `bench/plan-all.toml`)
/// write the streams `gen` always wrote; the benchmark matrix (`bench --matrix`) varies the rest.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Shape {
    /// Stores (each with a recruiter and an agent) and orders that name them.
    pub(crate) stores: bool,
    /// Ad views, loyalty and coalition redemptions, top-ups and partners on orders (the `all`
    /// plan's `ads`, `cafe` and `miles`).
    pub(crate) extras: bool,
    /// Sells, withdrawals and injects of the `appr` mechanism; without it those slots are orders.
    pub(crate) appreciation: bool,
    /// The plan's `settle_after_days`, which the mirror follows.
    pub(crate) settle_days: u32,
    /// The share of lines that are a refund of a recent order, on top of the usual 2.7%.
    pub(crate) refunds: f64,
    /// Sells are all `"all"` (a clawback takes points the mirror does not follow).
    pub(crate) sells_all: bool,
    /// The share of lines the engine must refuse: a withdrawal over the wallet, a sell over the
    /// points, an order by an unknown member, in turn.
    pub(crate) rejects: f64,
    /// Members named by phone numbers (`+8613…`) and orders by UUIDs, instead of `m1` and `o1`.
    pub(crate) long_ids: bool,
    /// Every member joins referred by the one before, in chains of this many (0: the usual
    /// mix of referrers, a third of the members referred).
    pub(crate) chain: u32,
}

impl Shape {
    /// `bench/plan.toml`'s stream.
    pub(crate) fn plain() -> Shape {
        Shape {
            stores: false,
            extras: false,
            appreciation: true,
            settle_days: SETTLE_DAYS,
            refunds: 0.0,
            sells_all: false,
            rejects: 0.0,
            long_ids: false,
            chain: 0,
        }
    }

    /// `bench/plan-all.toml`'s stream: every kind at once.
    pub(crate) fn all() -> Shape {
        Shape { stores: true, extras: true, ..Shape::plain() }
    }

    pub(crate) fn of(all: bool) -> Shape {
        if all { Shape::all() } else { Shape::plain() }
    }
}

/// A member's name: `m12`, or with long ids a mainland mobile number.
#[derive(Clone, Copy)]
enum MemberName {
    Short(u32),
    Phone(u32),
}

impl fmt::Display for MemberName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MemberName::Short(id) => write!(f, "m{id}"),
            // 11 digits after +86, distinct for every id under 10^9.
            MemberName::Phone(id) => write!(f, "+8613{:09}", id),
        }
    }
}

/// An order's id: `o12`, or with long ids a UUID (version 4 in form; distinct for every id, as
/// its first 64 bits are a bijection of it).
#[derive(Clone, Copy)]
enum OrderName {
    Short(u32),
    Uuid(u32),
}

impl fmt::Display for OrderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OrderName::Short(id) => write!(f, "o{id}"),
            OrderName::Uuid(id) => {
                let (hi, lo) = (mix(id as u64), mix(!(id as u64)));
                write!(
                    f,
                    "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                    hi >> 32,
                    (hi >> 16) & 0xffff,
                    hi & 0xffff,
                    lo >> 48,
                    lo & 0xffff_ffff_ffff
                )
            }
        }
    }
}

/// SplitMix64's finalizer: a bijection of u64 that scatters the bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The sidecar of a stream: `FILE.meta.json`.
pub(crate) fn meta_path(stream: &Path) -> std::path::PathBuf {
    let mut name = stream.as_os_str().to_owned();
    name.push(".meta.json");
    name.into()
}

/// Writes `events` lines to `out` and the counts to its sidecar.
pub(crate) fn write_stream(
    out: &Path,
    events: u64,
    seed: u64,
    shape: &Shape,
    amend_every: u64,
) -> io::Result<Stats> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut generator = Generator::new(Counting { inner: file, bytes: 0 }, seed, shape.clone());
    generator.amend_every = amend_every;
    generator.run(events)?;
    let Generator { out: mut counting, mut stats, appr, .. } = generator;
    counting.flush()?;
    stats.bytes = counting.bytes;
    stats.seed = seed;
    stats.amend_every = amend_every;
    stats.mirror_price = appr.price();
    std::fs::write(meta_path(out), stats.to_json())?;
    Ok(stats)
}

/// The stream of `events` lines of this shape, in memory, and its counts (for tests).
#[cfg(test)]
pub(crate) fn stream_bytes(events: u64, seed: u64, shape: &Shape) -> (Vec<u8>, Stats) {
    let mut generator = Generator::new(Vec::new(), seed, shape.clone());
    generator.run(events).expect("writing to a Vec");
    (generator.out, generator.stats)
}

/// A writer that counts what goes through it.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Money in fen, written as yuan with 2 decimals.
struct Fen(u64);

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A member as the mirror sees them.
#[derive(Clone, Copy, Default)]
struct Holder {
    points: f64,
    /// Settled spend since the last forced exit, in fen.
    basis: f64,
    /// What sells and exits paid in, less withdrawals, in fen.
    wallet: f64,
    /// Bumped whenever points or basis change: older heap entries are stale.
    version: u32,
    /// With `all`: loyalty and coalition points as the mirror expects them.
    loyalty: f64,
    coalition: f64,
}

struct OrderRecord {
    member: u32,
    fen: u32,
    day: u32,
    refunded: bool,
    /// With `all`: the store (index) and the partner (0: none, 1: bank, 2: air).
    store: u32,
    partner: u8,
}

/// Provinces, cities and districts of the `all` stream's stores.
const PROVINCES: [&str; 4] = ["广东", "浙江", "江苏", "四川"];
const CITIES: [&str; 3] = ["一市", "二市", "三市"];
const DISTRICTS: [&str; 4] = ["东区", "西区", "南区", "北区"];
/// Members per store.
const MEMBERS_PER_STORE: u32 = 2_000;

/// The mirror of the appreciation mechanism, in fen and points as floats.
struct Appr {
    pool: f64,
    outstanding: f64,
    /// (exit price as f64 bits, member, version), lowest first. Positive floats order as their bits.
    exits: BinaryHeap<Reverse<(u64, u32, u32)>>,
    holders: Vec<Holder>,
}

impl Appr {
    /// Fen per point.
    fn price(&self) -> f64 {
        if self.outstanding <= 1e-9 { INITIAL_PRICE * 100.0 } else { self.pool / self.outstanding }
    }

    fn settle(&mut self, member: u32, fen: f64) {
        let funding = (fen * APPR_FUNDING).floor();
        let minted = funding * MINT_RATIO / self.price();
        self.pool += funding;
        self.outstanding += minted;
        let holder = &mut self.holders[member as usize];
        holder.points += minted;
        holder.basis += fen;
        self.reindex(member);
    }

    fn sell(&mut self, member: u32, points: f64, forced: bool) {
        let payout = points * self.price() * (1.0 - SELL_FEE);
        self.pool = (self.pool - payout).max(0.0);
        self.outstanding = (self.outstanding - points).max(0.0);
        let holder = &mut self.holders[member as usize];
        holder.points = (holder.points - points).max(0.0);
        holder.wallet += payout;
        if forced {
            holder.basis = 0.0;
        }
        self.reindex(member);
    }

    fn reindex(&mut self, member: u32) {
        let holder = &mut self.holders[member as usize];
        holder.version = holder.version.wrapping_add(1);
        if holder.points > 1e-4 && holder.basis > 0.0 {
            let exit = EXIT_MULTIPLE * holder.basis / holder.points;
            self.exits.push(Reverse((exit.to_bits(), member, holder.version)));
        }
        if self.exits.len() > 2 * self.holders.len() + 65_536 {
            let holders = &self.holders;
            self.exits.retain(|Reverse((_, m, v))| holders[*m as usize].version == *v);
        }
    }

    /// The lowest exit price still current, dropping stale entries on the way.
    fn lowest_exit(&mut self) -> Option<(f64, u32)> {
        while let Some(&Reverse((bits, member, version))) = self.exits.peek() {
            if self.holders[member as usize].version == version {
                return Some((f64::from_bits(bits), member));
            }
            self.exits.pop();
        }
        None
    }

    /// Sells out every member whose exit price is reached, lowest first; returns how many.
    fn force_exits(&mut self, exited: &mut Vec<u32>) {
        while let Some((exit, member)) = self.lowest_exit() {
            if self.price() < exit {
                break;
            }
            let points = self.holders[member as usize].points;
            self.sell(member, points, true);
            exited.push(member);
        }
    }
}

/// A bounded window of recent member ids, overwritten oldest first.
struct Ring {
    items: Vec<u32>,
    next: usize,
    capacity: usize,
}

impl Ring {
    fn new(capacity: usize) -> Ring {
        Ring { items: Vec::with_capacity(capacity), next: 0, capacity }
    }
    fn push(&mut self, item: u32) {
        if self.items.len() < self.capacity {
            self.items.push(item);
        } else {
            self.items[self.next] = item;
            self.next = (self.next + 1) % self.capacity;
        }
    }
    fn sample(&self, rng: &mut ChaCha8Rng) -> Option<u32> {
        (!self.items.is_empty()).then(|| self.items[rng.random_range(0..self.items.len())])
    }
}

struct Generator<W> {
    out: W,
    rng: ChaCha8Rng,
    /// `YYYY-MM-DD` of every day, and of the day after the last.
    dates: Vec<String>,
    /// The current line's `at` (without quotes).
    at: String,
    day: u32,
    /// Joined and not yet ordered: their first order comes before repeat buyers', oldest first.
    newcomers: VecDeque<u32>,
    orders: Vec<OrderRecord>,
    /// Orders waiting for their refund window, in payment order.
    pending: VecDeque<u32>,
    /// Members minted points lately: the sellers.
    minted: Ring,
    /// Members paid into their wallet lately: the withdrawers.
    paid: Ring,
    appr: Appr,
    exited: Vec<u32>,
    stats: Stats,
    /// What the stream is shaped for (see [`Shape`]).
    shape: Shape,
    /// With `all`: the member who recruits the next store (its line and its agent's each take
    /// an event slot of their own, so the stream keeps its exact length), and whether the
    /// store's line is written and its agent's is next.
    recruiter: Option<u32>,
    agent_next: bool,
    /// Every how many lines an amendment is (0: none), and the plan they amend.
    amend_every: u64,
}

impl<W: Write> Generator<W> {
    fn new(out: W, seed: u64, shape: Shape) -> Generator<W> {
        Generator {
            out,
            rng: ChaCha8Rng::seed_from_u64(seed),
            dates: Vec::new(),
            at: String::with_capacity(32),
            day: 0,
            newcomers: VecDeque::new(),
            orders: Vec::new(),
            pending: VecDeque::new(),
            minted: Ring::new(65_536),
            paid: Ring::new(65_536),
            appr: Appr { pool: 0.0, outstanding: 0.0, exits: BinaryHeap::new(), holders: Vec::new() },
            exited: Vec::new(),
            stats: Stats::default(),
            shape,
            recruiter: None,
            agent_next: false,
            amend_every: 0,
        }
    }

    fn run(&mut self, events: u64) -> io::Result<()> {
        if events == 0 {
            return Ok(());
        }
        let days = DAYS.min((events / 20).max(1));
        self.dates = (0..=days as i64).map(|d| date(FIRST_DAY + d)).collect();
        self.stats.days = days;
        for day in 0..days {
            self.day = day as u32;
            // Each day's share of the lines, its close_day included.
            let lines = (day + 1) * events / days - day * events / days;
            let slots = lines - 1;
            let before = day * events / days;
            for slot in 0..slots {
                // Spread over the day from 00:00:30 to 23:59:30, never going backwards.
                let second = 30 + slot * 86_340 / slots;
                self.stamp(day as usize, second);
                if self.amend_every > 0 && (before + slot + 1).is_multiple_of(self.amend_every) {
                    self.amend()?;
                    continue;
                }
                if self.shape.appreciation && slot == slots / 2 && self.inject()? {
                    continue;
                }
                self.event()?;
            }
            self.close_day()?;
        }
        self.stats.events = events;
        Ok(())
    }

    fn name(&self, member: u32) -> MemberName {
        if self.shape.long_ids { MemberName::Phone(member) } else { MemberName::Short(member) }
    }

    fn order_name(&self, order: u32) -> OrderName {
        if self.shape.long_ids { OrderName::Uuid(order) } else { OrderName::Short(order) }
    }

    /// A line the engine refuses and that changes nothing, the mirror included: in turn a
    /// withdrawal over any wallet, a sell of more points than anyone holds, and an order by a
    /// member who never joined.
    fn bad_line(&mut self) -> io::Result<()> {
        let n = self.appr.holders.len() as u32;
        let kind = if n == 0 { 2 } else { self.stats.bad % 3 };
        self.stats.bad += 1;
        let bad = self.stats.bad;
        match kind {
            0 => {
                let member = self.rng.random_range(0..n);
                let mname = self.name(member);
                writeln!(
                    self.out,
                    "{{\"at\":\"{}\",\"type\":\"withdraw\",\"member\":\"{mname}\",\"amount\":\"99999999.00\"}}",
                    self.at
                )
            }
            1 if self.shape.appreciation => {
                let member = self.rng.random_range(0..n);
                let mname = self.name(member);
                writeln!(
                    self.out,
                    "{{\"at\":\"{}\",\"type\":\"sell\",\"member\":\"{mname}\",\"mechanism\":\"{APPR}\",\"points\":\"99999999\"}}",
                    self.at
                )
            }
            _ => writeln!(
                self.out,
                "{{\"at\":\"{}\",\"type\":\"order\",\"order\":\"bad{bad}\",\"member\":\"nobody{bad}\",\"amount\":\"100.00\"}}",
                self.at
            ),
        }
    }

    fn stamp(&mut self, day: usize, second: u64) {
        use std::fmt::Write as _;
        self.at.clear();
        let (h, m, s) = (second / 3600, second / 60 % 60, second % 60);
        // Writing to a String cannot fail.
        let _ = write!(self.at, "{}T{h:02}:{m:02}:{s:02}+08:00", self.dates[day]);
    }

    /// One random event, falling back to another kind when this one has nobody to act.
    fn event(&mut self) -> io::Result<()> {
        if let Some(member) = self.recruiter {
            return self.store(member);
        }
        if self.shape.rejects > 0.0 && self.rng.random_bool(self.shape.rejects) {
            return self.bad_line();
        }
        if self.shape.refunds > 0.0 && self.rng.random_bool(self.shape.refunds) && self.refund()? {
            return Ok(());
        }
        let roll: f64 = self.rng.random();
        let done = if roll < 0.27 {
            false // a join, below
        } else if self.shape.extras && (0.80..0.855).contains(&roll) {
            // In place of some orders: 40% ad views, 25% loyalty and 10% coalition redemptions,
            // 25% top-ups.
            match (roll - 0.80) / 0.055 {
                x if x < 0.40 => self.ad_view()?,
                x if x < 0.65 => self.redeem_loyalty()?,
                x if x < 0.75 => self.redeem_coalition()?,
                _ => self.topup()?,
            }
        } else if roll < 0.855 {
            self.order()?
        } else if roll < 0.863 {
            self.repeat()?
        } else if roll < 0.89 {
            self.refund()?
        } else if !self.shape.appreciation {
            self.order()?
        } else if roll < 0.965 {
            self.sell()?
        } else {
            self.withdraw()?
        };
        if done { Ok(()) } else { self.join() }
    }

    fn join(&mut self) -> io::Result<()> {
        let id = self.appr.holders.len() as u32;
        self.appr.holders.push(Holder::default());
        self.stats.members += 1;
        let name = self.name(id);
        write!(self.out, "{{\"at\":\"{}\",\"type\":\"join\",\"member\":\"{name}\"", self.at)?;
        if self.shape.chain > 0 {
            if !id.is_multiple_of(self.shape.chain) {
                self.stats.referred += 1;
                let referrer = self.name(id - 1);
                write!(self.out, ",\"referrer\":\"{referrer}\"")?;
            }
        } else if id > 0 && self.rng.random_bool(1.0 / 3.0) {
            let n = id as usize;
            let referrer = if self.rng.random_bool(0.7) {
                n - 1 - self.rng.random_range(0..n.min(RECENT_REFERRERS))
            } else {
                self.rng.random_range(0..n)
            };
            self.stats.referred += 1;
            let referrer = self.name(referrer as u32);
            write!(self.out, ",\"referrer\":\"{referrer}\"")?;
        }
        self.out.write_all(b"}\n")?;
        if self.rng.random_bool(0.9) {
            self.newcomers.push_back(id);
        }
        if self.shape.stores && id.is_multiple_of(MEMBERS_PER_STORE) {
            self.recruiter = Some(id);
        }
        Ok(())
    }

    /// Store `s{k}` recruited by member `id`, then (the next line) `id` becomes the agent of one
    /// of its region's levels (district, city, province in turn).
    fn store(&mut self, id: u32) -> io::Result<()> {
        let k = id / MEMBERS_PER_STORE;
        let (p, c, d) = (k as usize % 4, k as usize / 4 % 3, k as usize / 12 % 4);
        let region = [PROVINCES[p], CITIES[c], DISTRICTS[d]];
        let quoted = |n: usize| region[..n].iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(",");
        if !self.agent_next {
            self.agent_next = true;
            let mname = self.name(id);
            return writeln!(
                self.out,
                "{{\"at\":\"{}\",\"type\":\"store\",\"store\":\"s{k}\",\"region\":[{}],\"recruiter\":\"{mname}\"}}",
                self.at,
                quoted(3)
            );
        }
        let (level, depth) = [("district", 3), ("city", 2), ("province", 1)][k as usize % 3];
        let mname = self.name(id);
        writeln!(
            self.out,
            "{{\"at\":\"{}\",\"type\":\"agent\",\"member\":\"{mname}\",\"level\":\"{level}\",\"region\":[{}]}}",
            self.at,
            quoted(depth)
        )?;
        (self.recruiter, self.agent_next) = (None, false);
        self.stats.stores += 1;
        Ok(())
    }

    fn ad_view(&mut self) -> io::Result<bool> {
        let Some(member) = self.minted.sample(&mut self.rng) else { return Ok(false) };
        self.stats.ad_views += 1;
        let mname = self.name(member);
        writeln!(
            self.out,
            "{{\"at\":\"{}\",\"type\":\"ad_view\",\"member\":\"{mname}\",\"mechanism\":\"ads\"}}",
            self.at
        )?;
        Ok(true)
    }

    /// A drink (5 points) for a member the mirror expects to hold 10 or more.
    fn redeem_loyalty(&mut self) -> io::Result<bool> {
        for _ in 0..TRIES {
            let Some(member) = self.minted.sample(&mut self.rng) else { return Ok(false) };
            let holder = &mut self.appr.holders[member as usize];
            if holder.loyalty >= 10.0 {
                holder.loyalty -= 5.0;
                self.stats.redeems += 1;
                let mname = self.name(member);
                writeln!(
                    self.out,
                    "{{\"at\":\"{}\",\"type\":\"redeem\",\"member\":\"{mname}\",\"mechanism\":\"cafe\",\"reward\":\"drink\"}}",
                    self.at
                )?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A few coalition points at the airline, from a member the mirror expects to hold them.
    fn redeem_coalition(&mut self) -> io::Result<bool> {
        for _ in 0..TRIES {
            let Some(member) = self.minted.sample(&mut self.rng) else { return Ok(false) };
            let holder = &mut self.appr.holders[member as usize];
            if holder.coalition >= 6.0 {
                holder.coalition -= 5.0;
                self.stats.redeems += 1;
                let mname = self.name(member);
                writeln!(
                    self.out,
                    "{{\"at\":\"{}\",\"type\":\"redeem\",\"member\":\"{mname}\",\"mechanism\":\"miles\",\"partner\":\"air\",\"points\":\"5\"}}",
                    self.at
                )?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn topup(&mut self) -> io::Result<bool> {
        let n = self.appr.holders.len();
        if n == 0 {
            return Ok(false);
        }
        let member = self.rng.random_range(0..n);
        let fen = self.rng.random_range(1..=10) * 10_000;
        self.stats.topups += 1;
        let mname = self.name(member as u32);
        writeln!(
            self.out,
            "{{\"at\":\"{}\",\"type\":\"topup\",\"member\":\"{mname}\",\"amount\":\"{}\"}}",
            self.at,
            Fen(fen)
        )?;
        Ok(true)
    }

    /// A new order: a newcomer's first, or a repeat buyer's (recent members more often).
    fn order(&mut self) -> io::Result<bool> {
        let n = self.appr.holders.len();
        if n == 0 {
            return Ok(false);
        }
        let member = match self.newcomers.front() {
            Some(&m) if self.rng.random_bool(0.45) => {
                self.newcomers.pop_front();
                m
            }
            _ if self.rng.random_bool(0.5) => {
                (n - 1 - self.rng.random_range(0..n.min(RECENT_MEMBERS))) as u32
            }
            _ => self.rng.random_range(0..n) as u32,
        };
        let band: f64 = self.rng.random();
        let fen: u32 = if band < 0.45 {
            self.rng.random_range(9_900..50_000)
        } else if band < 0.80 {
            self.rng.random_range(50_000..200_000)
        } else {
            self.rng.random_range(200_000..=500_000)
        };
        let id = self.orders.len() as u32;
        let stores = self.stats.stores as u32;
        let (store, partner) = match (self.shape.stores && stores > 0, self.shape.extras) {
            (true, true) => {
                (self.rng.random_range(0..stores), self.rng.random_range(0..6u8).saturating_sub(3))
            }
            (true, false) => (self.rng.random_range(0..stores), 0),
            (false, _) => (0, 0),
        };
        self.orders.push(OrderRecord { member, fen, day: self.day, refunded: false, store, partner });
        self.pending.push_back(id);
        self.stats.orders += 1;
        self.write_order(id)?;
        Ok(true)
    }

    fn write_order(&mut self, id: u32) -> io::Result<()> {
        let OrderRecord { member, fen, store, partner, .. } = self.orders[id as usize];
        let (mname, oname) = (self.name(member), self.order_name(id));
        write!(
            self.out,
            "{{\"at\":\"{}\",\"type\":\"order\",\"order\":\"{oname}\",\"member\":\"{mname}\",\"amount\":\"{}\"",
            self.at,
            Fen(fen as u64)
        )?;
        if self.shape.stores && self.stats.stores > 0 {
            write!(self.out, ",\"store\":\"s{store}\"")?;
            if partner > 0 {
                write!(self.out, ",\"partner\":\"{}\"", ["bank", "air"][partner as usize - 1])?;
            }
        }
        self.out.write_all(b"}\n")
    }

    fn recent_order(&mut self) -> Option<u32> {
        let n = self.orders.len();
        (0..3)
            .map(|_| n.checked_sub(1 + self.rng.random_range(0..n.clamp(1, RECENT_ORDERS))))
            .find_map(|id| id.filter(|&id| !self.orders[id].refunded).map(|id| id as u32))
    }

    /// The exact line of a recent order again: a no-op for the engine.
    fn repeat(&mut self) -> io::Result<bool> {
        let Some(id) = self.recent_order() else { return Ok(false) };
        self.stats.repeats += 1;
        self.write_order(id)?;
        Ok(true)
    }

    fn refund(&mut self) -> io::Result<bool> {
        let Some(id) = self.recent_order() else { return Ok(false) };
        self.orders[id as usize].refunded = true;
        self.stats.refunds += 1;
        let oname = self.order_name(id);
        writeln!(self.out, "{{\"at\":\"{}\",\"type\":\"refund\",\"order\":\"{oname}\"}}", self.at)?;
        Ok(true)
    }

    /// Sells points: a small fixed amount from a member who holds it, else all of a holder's.
    fn sell(&mut self) -> io::Result<bool> {
        if self.minted.items.is_empty() {
            return Ok(false);
        }
        let mut choice = None;
        if !self.shape.sells_all && self.rng.random_bool(0.6) {
            let (text, points) = SELL_AMOUNTS[self.rng.random_range(0..SELL_AMOUNTS.len())];
            for _ in 0..TRIES {
                let Some(member) = self.minted.sample(&mut self.rng) else { break };
                if self.appr.holders[member as usize].points >= points * 1.02 + 0.001 {
                    choice = Some((member, text, points));
                    break;
                }
            }
        }
        let (member, text, points) = match choice {
            Some(choice) => choice,
            None => {
                // "all" never fails: from one who holds none it is a no-op.
                let mut member = 0;
                for _ in 0..TRIES {
                    let Some(m) = self.minted.sample(&mut self.rng) else { break };
                    member = m;
                    if self.appr.holders[m as usize].points > 0.0 {
                        break;
                    }
                }
                self.stats.sells_all += 1;
                (member, "all", self.appr.holders[member as usize].points)
            }
        };
        self.stats.sells += 1;
        let mname = self.name(member);
        writeln!(
            self.out,
            "{{\"at\":\"{}\",\"type\":\"sell\",\"member\":\"{mname}\",\"mechanism\":\"{APPR}\",\"points\":\"{text}\"}}",
            self.at
        )?;
        if points > 0.0 {
            self.appr.sell(member, points, false);
            self.paid.push(member);
            self.after_event();
        }
        Ok(true)
    }

    fn withdraw(&mut self) -> io::Result<bool> {
        for _ in 0..TRIES {
            let Some(member) = self.paid.sample(&mut self.rng) else { return Ok(false) };
            let wallet = self.appr.holders[member as usize].wallet;
            let most = (wallet * 0.8).min(20_000.0) as u64;
            if most < 100 {
                continue;
            }
            let fen = self.rng.random_range(100..=most);
            self.appr.holders[member as usize].wallet -= fen as f64;
            self.stats.withdrawals += 1;
            let mname = self.name(member);
            writeln!(
                self.out,
                "{{\"at\":\"{}\",\"type\":\"withdraw\",\"member\":\"{mname}\",\"amount\":\"{}\"}}",
                self.at,
                Fen(fen)
            )?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Raises the price towards the lowest exit price, by at most INJECT_STEP; false when no
    /// inject is called for.
    fn inject(&mut self) -> io::Result<bool> {
        let Some((exit, _)) = self.appr.lowest_exit() else { return Ok(false) };
        let price = self.appr.price();
        let target = (exit * 1.0001).min(price * (1.0 + INJECT_STEP));
        let fen = ((target - price) * self.appr.outstanding).ceil().min(INJECT_MAX_FEN);
        if fen < 100.0 {
            return Ok(false);
        }
        self.appr.pool += fen;
        self.stats.injects += 1;
        writeln!(
            self.out,
            "{{\"at\":\"{}\",\"type\":\"inject\",\"mechanism\":\"{APPR}\",\"amount\":\"{}\"}}",
            self.at,
            Fen(fen as u64)
        )?;
        self.after_event();
        Ok(true)
    }

    /// An amendment of the stream's plan, in force at once: the appreciation `sell_fee` 0.0001
    /// lower than the last (never below 0), which members gain from.
    fn amend(&mut self) -> io::Result<()> {
        const FEE: &str = "sell_fee = \"0.20\"";
        let plan = include_str!("../../bench/plan.toml");
        let plan_all = include_str!("../../bench/plan-all.toml");
        let text = if self.shape.extras { plan_all } else { plan };
        debug_assert!(text.contains(FEE));
        self.stats.amendments += 1;
        let fee = 2_000u64.saturating_sub(self.stats.amendments);
        let text = text.replacen(FEE, &format!("sell_fee = \"0.{fee:04}\""), 1);
        let text = serde_json::to_string(&text).expect("a string");
        writeln!(
            self.out,
            "{{\"at\":\"{at}\",\"type\":\"amend_plan\",\"effective_at\":\"{at}\",\"plan\":{text}}}",
            at = self.at
        )?;
        self.after_event();
        Ok(())
    }

    /// The day's close, at the next midnight: orders paid SETTLE_DAYS or more days before
    /// today settle, then forced exits run.
    fn close_day(&mut self) -> io::Result<()> {
        let next = &self.dates[self.day as usize + 1];
        writeln!(self.out, "{{\"at\":\"{next}T00:00:00+08:00\",\"type\":\"close_day\"}}")?;
        self.stats.close_days += 1;
        while let Some(&id) = self.pending.front() {
            let order = &self.orders[id as usize];
            if order.day + self.shape.settle_days > self.day {
                break;
            }
            self.pending.pop_front();
            if !order.refunded {
                let (member, fen) = (order.member, order.fen as f64);
                let partner = order.partner;
                self.appr.settle(member, fen);
                self.minted.push(member);
                if self.shape.extras {
                    // Loyalty: 1 point a yuan (tiers only add); coalition: 0.1 a yuan at a partner.
                    let holder = &mut self.appr.holders[member as usize];
                    holder.loyalty += fen / 100.0;
                    if partner > 0 {
                        holder.coalition += fen / 1000.0;
                    }
                }
            }
        }
        self.after_event();
        Ok(())
    }

    fn after_event(&mut self) {
        self.appr.force_exits(&mut self.exited);
        if self.exited.is_empty() {
            return;
        }
        let day = self.day as u64;
        if self.stats.mirror_last_exit_day != Some(day) {
            self.stats.mirror_exit_days += 1;
        }
        self.stats.mirror_first_exit_day.get_or_insert(day);
        self.stats.mirror_last_exit_day = Some(day);
        self.stats.mirror_exits += self.exited.len() as u64;
        for member in std::mem::take(&mut self.exited) {
            self.paid.push(member);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(FIRST_DAY), "2026-01-01");
        assert_eq!(date(FIRST_DAY + 364), "2026-12-31");
        assert_eq!(date(FIRST_DAY + 365), "2027-01-01");
        assert_eq!(date(FIRST_DAY - 731 + 59), "2024-02-29");
    }

    fn stream(events: u64, seed: u64) -> (Vec<u8>, Stats) {
        let mut generator = Generator::new(Vec::new(), seed, Shape::plain());
        generator.run(events).unwrap();
        (generator.out, generator.stats)
    }

    #[test]
    fn exact_line_count_deterministic_and_ordered() {
        for events in [1, 7, 20, 999, 20_000] {
            let (bytes, stats) = stream(events, 7);
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert_eq!(text.lines().count() as u64, events, "{events} events");
            assert_eq!(stats.events, events);
            let stamps: Vec<&str> = text.lines().map(|l| &l[7..32]).collect();
            assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "time goes backwards");
            assert!(text.lines().last().unwrap().contains("close_day"));
            assert_eq!(stream(events, 7).0, bytes, "not deterministic");
        }
        assert_ne!(stream(1000, 1).0, stream(1000, 2).0);
    }

    /// The `all` stream exercises every kind of bench/plan-all.toml, and none of its lines is
    /// refused: the generator's choices (stores, partners, who redeems) match the plan's.
    #[test]
    fn the_all_stream_applies_cleanly_to_the_all_plan() {
        let mut generator = Generator::new(Vec::new(), 42, Shape::all());
        generator.run(30_000).unwrap();
        let (bytes, stats) = (generator.out, generator.stats);
        assert!(stats.stores > 0 && stats.ad_views > 0 && stats.redeems > 0 && stats.topups > 0, "{stats:?}");
        let root = crate::bench::workspace_root();
        let plan = std::fs::read_to_string(crate::bench::plan_path(&root, true)).unwrap();
        let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(&plan).unwrap());
        let outcome = fanli_format::run_stream(&mut engine, bytes.as_slice(), false).unwrap();
        assert_eq!(outcome.rejected, []);
        assert_eq!(outcome.applied, 30_000);
        assert!(engine.accounts_balance());
        let plain = plan_lines(&stream(30_000, 42).0);
        assert!(plain.iter().all(|l| !l.contains("\"store\"")), "the plain stream is unchanged");
    }

    /// An amendment every K lines (but a day's close) takes the place of an event, applies (a lower sell fee needs
    /// no notice) and is in force at once; the stream keeps its length.
    #[test]
    fn amendments_apply_in_place_of_events() {
        for all in [false, true] {
            let mut generator = Generator::new(Vec::new(), 42, Shape::of(all));
            generator.amend_every = 1_000;
            generator.run(20_000).unwrap();
            let (bytes, stats) = (generator.out, generator.stats);
            let lines = plan_lines(&bytes);
            // Every 1,000th line but those that close a day (4,000 is the 73rd day's close).
            assert_eq!(stats.amendments, 15);
            assert_eq!(lines.iter().filter(|l| l.contains("\"amend_plan\"")).count(), 15);
            assert_eq!(lines.len(), 20_000);
            assert!(lines[999].contains("\"type\":\"amend_plan\""), "{}", lines[999]);
            let root = crate::bench::workspace_root();
            let plan = std::fs::read_to_string(crate::bench::plan_path(&root, all)).unwrap();
            let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(&plan).unwrap());
            let outcome = fanli_format::run_stream(&mut engine, bytes.as_slice(), false).unwrap();
            let refused: Vec<&String> = outcome.rejected.iter().map(|r| &lines[r.line - 1]).collect();
            assert!(refused.iter().all(|l| !l.contains("amend_plan")), "{refused:?}");
            assert_eq!(engine.amendments_waiting().count(), 0);
            let appr = engine.plan().mechanisms.iter().find(|m| m.id == APPR).unwrap();
            let fanli_engine::KindConfig::Appreciation(config) = &appr.kind else {
                panic!("not appreciation")
            };
            assert_eq!(config.sell_fee.to_string(), "0.1985");
        }
    }

    /// The default shapes write the bytes they wrote before shapes existed (the streams of the
    /// earlier benchmarks): SHA-256 of 20,000 lines from seed 42, as the generator of issue 18
    /// wrote them.
    #[test]
    fn default_shapes_write_the_streams_of_before() {
        let sha = |shape: Shape| fanli_format::chain::sha256_hex(&stream_bytes(20_000, 42, &shape).0);
        assert_eq!(sha(Shape::plain()), "d77d39b4cb4e5728251a91492baced49e95423957fda4c3f5c9177947eeab5e1");
        assert_eq!(sha(Shape::all()), "7b61ded4980def6c98617ac6c55155ab7371e457365a36f1f0fd32037e99e17e");
    }

    fn plan_lines(bytes: &[u8]) -> Vec<String> {
        String::from_utf8(bytes.to_vec()).unwrap().lines().map(str::to_owned).collect()
    }
}
