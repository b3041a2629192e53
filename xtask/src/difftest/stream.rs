//! Random event streams for `cargo xtask difftest`.
//!
//! A stream has 20 to 400 lines over a few days of the plan's time zone, mostly in time order,
//! each day ended by a `close_day` at the next local midnight (now and then later, or a day
//! skipped). It uses every event type of the spec: joins (with referrers, phones, devices and
//! IPs from small pools, so the anti-fraud rules fire), orders (with profit, store, partner and
//! credit; amounts on the plan's thresholds and around them; exact repeats), refunds of pending
//! and settled orders (and again), sells of a number of points and of "all", withdrawals,
//! top-ups, injects, loyalty and coalition redemptions, ad views, advertiser funds, stores,
//! agents and reviews. About one line in ten is bad on purpose: an unknown member, order or
//! mechanism, time going backwards, an order id reused with other content, negative, zero,
//! over-precise, malformed or too large amounts, selling or withdrawing more than held, malformed
//! JSON, missing and stray fields, the wrong kind of mechanism for the event, blank lines, a
//! byte-order mark, bytes that are not UTF-8.
//!
//! To make the good lines mostly good (a sale of no more than is held, a withdrawal the wallet
//! covers, a redemption the points pay for), the generator steers by an engine of its own: each
//! line is applied to it as it is written, and a member's balances are read back through
//! `member_json`, the spec's JSON. That engine is this build's, so it only steers; the binaries
//! under test decide what each line does.

use fanli_engine::{Engine, date};
use serde_json::Value;

use super::Rand;
use super::plan::{Class, Mechanism, Plan, decimal, money};

/// A generated stream.
pub(crate) struct Stream {
    pub(crate) bytes: Vec<u8>,
    /// The `at` of a line near the middle, for `run --until`.
    pub(crate) middle: Option<String>,
    /// A member who joined, for `run --member`.
    pub(crate) member: Option<String>,
}

/// The first day streams start around, in days since 1970-01-01 (2026-01-01).
const FIRST_DAY: i64 = 20_454;
const DAY: i64 = 86_400;

/// One field's value as JSON text.
enum V {
    /// A string, escaped when written.
    S(String),
    /// JSON as it stands: a number, an array, `null`, or anything malformed on purpose.
    Raw(String),
}

fn s(text: impl Into<String>) -> V {
    V::S(text.into())
}

/// What the steering engine says a member holds.
#[derive(Default)]
struct Held {
    /// Fen.
    wallet: i64,
    credit: i64,
    /// Per mechanism id, in 1/10000 points.
    points: Vec<(String, i64)>,
    /// `held` while a referral waits for review.
    referral: Option<String>,
}

impl Held {
    fn points(&self, mechanism: &str) -> i64 {
        self.points.iter().find(|(m, _)| m == mechanism).map_or(0, |(_, p)| *p)
    }
}

/// A decimal string as a count of `10^-scale` units.
fn units(text: &str, scale: u32) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > scale as usize {
        return None;
    }
    let frac = format!("{frac:0<width$}", width = scale as usize);
    Some(whole.parse::<i64>().ok()? * 10i64.pow(scale) + frac.parse::<i64>().unwrap_or(0))
}

/// An order as written, for refunds, exact repeats and reuse with other content.
struct OrderLine {
    id: String,
    member: String,
    /// The fields after `at` and `type`, as written.
    fields: Vec<(String, String)>,
    amount: i64,
}

/// Writes one event of a kind; false when it has nobody or nothing to act on.
type Make<'a> = fn(&mut Gen<'a>) -> bool;

struct Gen<'a> {
    rng: &'a mut Rand,
    plan: &'a Plan,
    engine: Option<Engine>,
    out: Vec<u8>,
    lines: usize,
    members: Vec<String>,
    orders: Vec<OrderLine>,
    stores: Vec<(String, Vec<String>)>,
    /// Members whose referral may be held for review.
    referred: Vec<String>,
    /// Unix seconds of the last event, and the start of the current business day.
    now: i64,
    day_start: i64,
    /// How `at` is written: the plan's offset, or UTC as `Z`, or a mix of offsets.
    zone_style: u64,
    /// How member ids look.
    name_style: u64,
    next_member: usize,
    next_order: usize,
    middle: Option<String>,
    /// Proposals opened so far.
    proposals: Vec<String>,
}

/// A random stream for `plan`.
pub(crate) fn generate(rng: &mut Rand, plan: &Plan) -> Stream {
    let engine = fanli_format::parse_plan(&plan.steer).ok().map(Engine::new);
    let start = FIRST_DAY + rng.range(-400, 400);
    let day_start = start * DAY - plan.timezone as i64;
    let mut g = Gen {
        rng,
        plan,
        engine,
        out: Vec::new(),
        lines: 0,
        members: Vec::new(),
        orders: Vec::new(),
        stores: Vec::new(),
        referred: Vec::new(),
        now: day_start + 8 * 3600,
        day_start,
        zone_style: 0,
        name_style: 0,
        next_member: 1,
        next_order: 1,
        middle: None,
        proposals: Vec::new(),
    };
    g.zone_style = g.rng.below(10);
    g.name_style = g.rng.below(8);
    let total = match g.rng.below(10) {
        0 => g.rng.range(20, 40),
        1 | 2 => g.rng.range(250, 398),
        _ => g.rng.range(40, 250),
    } as usize;
    let per_day = g.rng.range(3, 30);
    if g.rng.chance(0.05) {
        // A byte-order mark, as Windows tools write, before line 1.
        g.out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut today = 0;
    while g.lines < total {
        if g.lines >= total / 2 && g.middle.is_none() {
            g.middle = Some(g.at(g.now));
        }
        if today >= per_day && g.rng.chance(0.5) || g.lines + 1 == total && g.rng.chance(0.7) {
            g.close_day();
            today = 0;
            continue;
        }
        today += 1;
        g.tick(per_day);
        if g.rng.chance(0.1) {
            g.bad_line();
        } else {
            g.event();
        }
    }
    if g.rng.chance(0.1) && g.out.last() == Some(&b'\n') {
        // No newline after the last line.
        g.out.pop();
    }
    let member = g.members.get(g.rng.below(g.members.len().max(1) as u64) as usize).cloned();
    let middle = g.middle.take();
    Stream { bytes: g.out, middle, member }
}

impl Gen<'_> {
    // ---- writing ----

    /// `t` in RFC 3339, in the stream's style of offset.
    fn at(&mut self, t: i64) -> String {
        let offset = match self.zone_style {
            0 | 1 => 0,
            2 if self.rng.chance(0.5) => self.rng.pick(&[0, 3600, -7 * 3600, 9 * 3600, 19_800]),
            _ => self.plan.timezone as i64,
        };
        let local = t + offset;
        let (day, second) = (local.div_euclid(DAY), local.rem_euclid(DAY));
        let zone = if offset == 0 && self.zone_style == 0 {
            "Z".to_owned()
        } else {
            let sign = if offset < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{:02}", offset.abs() / 3600, offset.abs() / 60 % 60)
        };
        let fraction = if self.rng.chance(0.03) { ".5" } else { "" };
        format!(
            "{}T{:02}:{:02}:{:02}{fraction}{zone}",
            date(day),
            second / 3600,
            second / 60 % 60,
            second % 60
        )
    }

    /// Moves the clock on within the day.
    fn tick(&mut self, per_day: i64) {
        let step = self.rng.range(0, (DAY - 600) / per_day.max(1));
        self.now = (self.now + step).min(self.day_start + DAY - 1);
    }

    /// Writes a line with its `at` and `type` first (now and then in another order), and applies
    /// it to the steering engine.
    fn line(&mut self, kind: &str, fields: Vec<(&str, V)>) {
        let at = self.at(self.now);
        self.line_at(&at, kind, fields);
    }

    fn line_at(&mut self, at: &str, kind: &str, fields: Vec<(&str, V)>) {
        let mut parts =
            vec![format!("\"at\":{}", json_string(at)), format!("\"type\":{}", json_string(kind))];
        for (name, value) in fields {
            let value = match value {
                V::S(text) => json_string(&text),
                V::Raw(raw) => raw,
            };
            parts.push(format!("{}:{value}", json_string(name)));
        }
        if self.rng.chance(0.08) {
            self.rng.shuffle(&mut parts);
        }
        let separator = if self.rng.chance(0.05) { ", " } else { "," };
        let text = format!("{{{}}}", parts.join(separator));
        self.raw(text.as_bytes());
    }

    /// Writes one line as it is (its newline added), and applies it to the steering engine.
    fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        // Now and then a Windows line end, which the reader takes as the same line.
        self.out.extend_from_slice(if self.rng.chance(0.02) { b"\r\n" } else { b"\n" });
        self.lines += 1;
        if let Some(engine) = self.engine.as_mut() {
            // A byte-order mark is skipped only at the start of a stream, and each line is a
            // stream of its own to this engine: a space before it keeps the line as malformed
            // as it is to the binaries.
            let marked = bytes.starts_with(b"\xEF\xBB\xBF");
            let spaced;
            let bytes = if marked {
                spaced = [b" ", bytes].concat();
                &spaced[..]
            } else {
                bytes
            };
            // It only steers: which lines it accepts or refuses (an overflow among them) does
            // not matter here. Reading from memory cannot fail.
            fanli_format::run_stream(engine, bytes, false).expect("reading from memory");
        }
    }

    // ---- what the steering engine says ----

    fn held(&self, member: &str) -> Held {
        let Some(engine) = self.engine.as_ref() else { return Held::default() };
        let Some(id) = engine.find_member(member) else { return Held::default() };
        let mut json = Vec::new();
        if fanli_format::member_json(engine, id, &mut json).is_err() {
            return Held::default();
        }
        let Ok(value) = serde_json::from_slice::<Value>(&json) else { return Held::default() };
        let m = &value[member];
        let money = |key: &str| m[key].as_str().and_then(|t| units(t, 2)).unwrap_or(0);
        let points = m["points"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().and_then(|t| units(t, 4)).unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        Held {
            wallet: money("wallet"),
            credit: money("credit"),
            points,
            referral: m["referral"].as_str().map(str::to_owned),
        }
    }

    // ---- names and amounts ----

    fn new_member_name(&mut self) -> String {
        let n = self.next_member;
        self.next_member += 1;
        match self.name_style {
            0 => format!("会员{n}"),
            1 => format!("member-{n:04}"),
            2 => format!("member-{n:05}"),
            3 => format!("customer-with-a-rather-long-identifier-{n:06}"),
            4 if n.is_multiple_of(3) => format!("会员会员{n}"),
            _ => format!("m{n}"),
        }
    }

    fn some_member(&mut self) -> Option<String> {
        if self.members.is_empty() {
            return None;
        }
        // Recent members a little more often.
        let n = self.members.len();
        let i = if self.rng.chance(0.4) {
            n - 1 - self.rng.below(n.min(5) as u64) as usize
        } else {
            self.rng.below(n as u64) as usize
        };
        Some(self.members[i].clone())
    }

    fn mechanism_of(&mut self, kinds: &[&str]) -> Option<Mechanism> {
        let found: Vec<&Mechanism> =
            self.plan.mechanisms.iter().filter(|m| kinds.contains(&m.kind)).collect();
        if found.is_empty() {
            return None;
        }
        Some(found[self.rng.below(found.len() as u64) as usize].clone())
    }

    fn any_mechanism(&mut self) -> Mechanism {
        let all = &self.plan.mechanisms;
        all[self.rng.below(all.len() as u64) as usize].clone()
    }

    /// An order amount in fen: on one of the plan's thresholds or just around it, or anything.
    fn order_amount(&mut self) -> i64 {
        if self.plan.class == Class::Extreme && self.rng.chance(0.3) {
            return self.rng.pick(&[10_000_000_000, 200_000_000_000, 1_000_000_000_000, 555_555_555_555]);
        }
        let amounts = &self.plan.amounts;
        match self.rng.below(10) {
            0..=3 if !amounts.is_empty() => {
                let at = amounts[self.rng.below(amounts.len() as u64) as usize];
                (at + self.rng.pick(&[-1, 0, 0, 1, 100])).max(1)
            }
            4 => self.rng.range(1, 999),
            5 if self.rng.chance(0.1) => self.rng.range(100_000_000, 1_000_000_000_000),
            _ => self.rng.range(1_000, 500_000),
        }
    }

    /// Money as an event writes it: mostly "12.50", sometimes a whole JSON number.
    fn money_value(&mut self, fen: i64) -> V {
        if fen % 100 == 0 && self.rng.chance(0.08) { V::Raw((fen / 100).to_string()) } else { s(money(fen)) }
    }

    fn points_value(&mut self, units: i64) -> V {
        if units % 10_000 == 0 && self.rng.chance(0.1) {
            V::Raw((units / 10_000).to_string())
        } else {
            s(decimal(units, 4))
        }
    }

    // ---- events ----

    fn close_day(&mut self) {
        let next = self.day_start + DAY;
        let at = if self.rng.chance(0.85) { next } else { next + self.rng.range(1, 5 * 3600) };
        self.now = self.now.max(at);
        self.line("close_day", vec![]);
        self.day_start = next;
        if self.rng.chance(0.08) {
            // A day with no events and no close of its own.
            self.day_start += DAY;
        }
        if self.rng.chance(0.03) {
            // The same day closed twice.
            self.line("close_day", vec![]);
        }
        self.now = self.now.max(self.day_start + self.rng.range(0, 4 * 3600));
    }

    fn event(&mut self) {
        let kinds: Vec<&str> = self.plan.mechanisms.iter().map(|m| m.kind).collect();
        let has = |k: &str| kinds.contains(&k);
        let sells = has("appreciation") || self.plan.mechanisms.iter().any(|m| m.cashout);
        let weights: [(u32, Make<'_>); 19] = [
            (14, Self::join),
            (34, Self::order),
            (4, Self::refund),
            (3, Self::repeat),
            (if sells { 7 } else { 1 }, Self::sell),
            (6, Self::withdraw),
            (if has("loyalty") { 5 } else { 2 }, Self::topup),
            (2, Self::inject),
            (if has("loyalty") || has("coalition") { 6 } else { 1 }, Self::redeem),
            (if has("ad_tasks") { 7 } else { 1 }, Self::ad_view),
            (if has("ad_tasks") { 2 } else { 0 }, Self::advertiser_fund),
            (if has("distribution") { 4 } else { 1 }, Self::store),
            (if has("distribution") { 3 } else { 1 }, Self::agent),
            (if self.plan.antifraud { 3 } else { 0 }, Self::review),
            // With `--operate` only (otherwise weighed 0, and the same stream as before).
            (if self.plan.amendments.is_empty() { 0 } else { 2 }, Self::amend),
            (if self.plan.reviews_withdrawals { 4 } else { 0 }, Self::withdrawal_review),
            (if self.plan.votes { 2 } else { 0 }, Self::propose),
            (if self.plan.votes { 5 } else { 0 }, Self::vote),
            (if self.plan.votes { 2 } else { 0 }, Self::tally),
        ];
        if self.members.len() < 2 || self.rng.chance(0.02) {
            self.join();
            return;
        }
        let total: u32 = weights.iter().map(|(w, _)| w).sum();
        let mut roll = self.rng.below(total as u64) as u32;
        for (weight, make) in weights {
            if roll < weight {
                if !make(self) {
                    self.order();
                }
                return;
            }
            roll -= weight;
        }
    }

    fn join(&mut self) -> bool {
        let member = self.new_member_name();
        let mut fields = vec![("member", s(member.clone()))];
        let referrer = match self.some_member() {
            Some(r) if self.rng.chance(0.55) => Some(r),
            _ => None,
        };
        if let Some(r) = &referrer {
            fields.push(("referrer", s(r.clone())));
        }
        if self.plan.antifraud || self.rng.chance(0.2) {
            // Small pools, so that devices, phones and IPs repeat.
            if self.rng.chance(0.6) {
                fields.push(("phone", s(format!("1380000{:04}", self.rng.below(6)))));
            }
            if self.rng.chance(0.6) {
                fields.push(("device", s(format!("dev-{}", self.rng.below(5)))));
            }
            if self.rng.chance(0.6) {
                fields.push(("ip", s(format!("10.0.0.{}", self.rng.below(4)))));
            }
        }
        self.line("join", fields);
        if referrer.is_some() {
            // A referral that anti-fraud may hold for review.
            self.referred.push(member.clone());
        }
        self.members.push(member);
        true
    }

    fn order(&mut self) -> bool {
        let Some(member) = self.some_member() else { return self.join() };
        let id = match self.rng.below(20) {
            0 => format!("订单-{}", self.next_order),
            1 => format!("order-{:08}-with-a-long-id", self.next_order),
            _ => format!("o{}", self.next_order),
        };
        self.next_order += 1;
        let amount = self.order_amount();
        let mut fields = vec![("order".to_owned(), s(id.clone())), ("member".to_owned(), s(member.clone()))];
        let amount_value = self.money_value(amount);
        fields.push(("amount".to_owned(), amount_value));
        if self.rng.chance(0.3) {
            let profit = match self.rng.below(6) {
                0 => 0,
                1 => amount,
                _ => amount * self.rng.range(1, 99) / 100,
            };
            let profit = self.money_value(profit);
            fields.push(("profit".to_owned(), profit));
        }
        if !self.stores.is_empty() && self.rng.chance(0.5) {
            let store = self.stores[self.rng.below(self.stores.len() as u64) as usize].0.clone();
            fields.push(("store".to_owned(), s(store)));
        } else if self.rng.chance(0.05) {
            // A store known only from its orders.
            fields.push(("store".to_owned(), s(format!("shop-{}", self.rng.below(3)))));
        }
        if let Some(coalition) = self.mechanism_of(&["coalition"]) {
            if self.rng.chance(0.5) {
                let partner =
                    self.rng.pick(&coalition.partners.iter().map(String::as_str).collect::<Vec<_>>());
                fields.push(("partner".to_owned(), s(partner)));
            }
        } else if self.rng.chance(0.03) {
            fields.push(("partner".to_owned(), s("bank")));
        }
        let credit = self.held(&member).credit;
        if credit > 0 && self.rng.chance(0.5) {
            let spend = self.rng.range(0, credit.min(amount));
            let spend = self.money_value(spend);
            fields.push(("credit".to_owned(), spend));
        }
        let written: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    V::S(t) => json_string(&t),
                    V::Raw(r) => r,
                };
                (k, text)
            })
            .collect();
        self.write_order(&written);
        self.orders.push(OrderLine { id, member, fields: written, amount });
        true
    }

    fn write_order(&mut self, fields: &[(String, String)]) {
        let fields = fields.iter().map(|(k, v)| (k.as_str(), V::Raw(v.clone()))).collect();
        self.line("order", fields);
    }

    fn some_order(&mut self) -> Option<usize> {
        (!self.orders.is_empty()).then(|| {
            let n = self.orders.len();
            if self.rng.chance(0.5) {
                n - 1 - self.rng.below(n.min(4) as u64) as usize
            } else {
                self.rng.below(n as u64) as usize
            }
        })
    }

    fn refund(&mut self) -> bool {
        let Some(i) = self.some_order() else { return false };
        let id = self.orders[i].id.clone();
        self.line("refund", vec![("order", s(id))]);
        true
    }

    /// An order line again, exactly (its `at` later): a no-op.
    fn repeat(&mut self) -> bool {
        let Some(i) = self.some_order() else { return false };
        let fields = self.orders[i].fields.clone();
        self.write_order(&fields);
        true
    }

    fn sell(&mut self) -> bool {
        let mechanism = match self.mechanism_of(&["appreciation"]) {
            Some(m) if self.rng.chance(0.75) => m,
            _ => match self.plan.mechanisms.iter().find(|m| m.cashout) {
                Some(m) => m.clone(),
                None if self.rng.chance(0.5) => return false,
                // A kind that sells nothing: refused.
                None => self.any_mechanism(),
            },
        };
        let Some(member) = self.some_member() else { return false };
        // Whoever holds the most of it, now and then.
        let member =
            if self.rng.chance(0.5) { self.richest(&mechanism.id).unwrap_or(member) } else { member };
        let held = self.held(&member).points(&mechanism.id);
        let points = match self.rng.below(10) {
            0..=2 => s("all"),
            3 if held > 0 => self.points_value(held),
            4 => {
                let more = held + self.rng.range(1, 10_000);
                self.points_value(more)
            }
            _ if held > 0 => {
                let part = self.rng.range(1, held);
                self.points_value(part)
            }
            _ => s("all"),
        };
        self.line("sell", vec![("member", s(member)), ("mechanism", s(mechanism.id)), ("points", points)]);
        true
    }

    /// The member holding the most points of `mechanism` (of a few looked at).
    fn richest(&mut self, mechanism: &str) -> Option<String> {
        let mut best: Option<(i64, String)> = None;
        for _ in 0..6 {
            let m = self.some_member()?;
            let p = self.held(&m).points(mechanism);
            if best.as_ref().is_none_or(|(b, _)| p > *b) {
                best = Some((p, m));
            }
        }
        best.map(|(_, m)| m)
    }

    fn withdraw(&mut self) -> bool {
        let mut pick = None;
        for _ in 0..6 {
            let Some(m) = self.some_member() else { return false };
            let wallet = self.held(&m).wallet;
            if wallet > 0 {
                pick = Some((m, wallet));
                break;
            }
        }
        let Some((member, wallet)) = pick else { return false };
        let amount = match self.rng.below(10) {
            0..=2 => wallet,
            3 => wallet + 1,
            _ => self.rng.range(1, wallet),
        };
        let amount = self.money_value(amount);
        self.line("withdraw", vec![("member", s(member)), ("amount", amount)]);
        true
    }

    fn topup(&mut self) -> bool {
        let Some(member) = self.some_member() else { return false };
        let amount = self.rng.pick(&[10_000, 5_000, 100_000, 1]);
        let amount = if amount == 1 { self.rng.range(1, 300_000) } else { amount };
        let amount = self.money_value(amount);
        self.line("topup", vec![("member", s(member)), ("amount", amount)]);
        true
    }

    fn inject(&mut self) -> bool {
        let mechanism = match self.mechanism_of(&["appreciation"]) {
            Some(m) if self.rng.chance(0.7) => m,
            _ => self.any_mechanism(),
        };
        let amount = self.rng.range(1, 2_000_000);
        let amount = self.money_value(amount);
        self.line("inject", vec![("mechanism", s(mechanism.id)), ("amount", amount)]);
        true
    }

    fn redeem(&mut self) -> bool {
        let catalogue = |m: &&Mechanism| m.kind == "coalition" || !m.rewards.is_empty();
        let found: Vec<Mechanism> = self.plan.mechanisms.iter().filter(catalogue).cloned().collect();
        if found.is_empty() && self.rng.chance(0.6) {
            return false;
        }
        if found.is_empty() || self.rng.chance(0.05) {
            // A kind (or a loyalty without a catalogue) that has nothing to redeem: refused.
            let m = self.any_mechanism();
            let Some(member) = self.some_member() else { return false };
            self.line("redeem", vec![("member", s(member)), ("mechanism", s(m.id)), ("reward", s("drink"))]);
            return true;
        }
        let mechanism = found[self.rng.below(found.len() as u64) as usize].clone();
        let Some(member) = self.richest(&mechanism.id) else { return false };
        let held = self.held(&member).points(&mechanism.id);
        let affordable: Vec<&(String, i64)> =
            mechanism.rewards.iter().filter(|(_, cost)| *cost <= held).collect();
        let can = if mechanism.kind == "coalition" { held > 0 } else { !affordable.is_empty() };
        // Nothing to redeem yet: mostly something else happens instead.
        if !can && self.rng.chance(0.8) {
            return false;
        }
        let mut fields = vec![("member", s(member)), ("mechanism", s(mechanism.id.clone()))];
        if mechanism.kind == "coalition" {
            let partner = match self.rng.below(10) {
                0 => "nobody".to_owned(),
                _ => mechanism.partners[self.rng.below(mechanism.partners.len() as u64) as usize].clone(),
            };
            fields.push(("partner", s(partner)));
            let points = match self.rng.below(8) {
                0 => held + 1,
                1 if held > 0 => held,
                _ if held > 1 => self.rng.range(1, held),
                _ => 10_000,
            };
            let points = self.points_value(points);
            fields.push(("points", points));
        } else {
            // Mostly a reward the member can pay for.
            let affordable: Vec<&(String, i64)> =
                mechanism.rewards.iter().filter(|(_, cost)| *cost <= held).collect();
            let reward = match self.rng.below(10) {
                0 => "no such reward".to_owned(),
                1 | 2 => mechanism.rewards[self.rng.below(mechanism.rewards.len() as u64) as usize].0.clone(),
                _ if !affordable.is_empty() => {
                    affordable[self.rng.below(affordable.len() as u64) as usize].0.clone()
                }
                _ => mechanism.rewards[0].0.clone(),
            };
            fields.push(("reward", s(reward)));
        }
        self.line("redeem", fields);
        true
    }

    fn ad_view(&mut self) -> bool {
        let mechanism = match self.mechanism_of(&["ad_tasks"]) {
            Some(m) => m,
            None if self.rng.chance(0.5) => return false,
            // A kind that shows no ads: refused.
            None => self.any_mechanism(),
        };
        let Some(member) = self.some_member() else { return false };
        // A few views in a row by one member reach the day's limit.
        let views = if mechanism.kind == "ad_tasks" { self.rng.range(1, 3) } else { 1 };
        for _ in 0..views {
            self.line("ad_view", vec![("member", s(member.clone())), ("mechanism", s(mechanism.id.clone()))]);
        }
        true
    }

    fn advertiser_fund(&mut self) -> bool {
        let Some(mechanism) = self.mechanism_of(&["ad_tasks"]) else { return false };
        let amount = self.rng.range(100, 1_000_000);
        let amount = self.money_value(amount);
        self.line("advertiser_fund", vec![("mechanism", s(mechanism.id)), ("amount", amount)]);
        true
    }

    fn store(&mut self) -> bool {
        let id = if !self.stores.is_empty() && self.rng.chance(0.15) {
            // A store again, with a new region.
            self.stores[self.rng.below(self.stores.len() as u64) as usize].0.clone()
        } else {
            format!("s{}", self.stores.len() + 1)
        };
        let province = self.rng.pick(&["广东", "浙江", "四川"]);
        let city = self.rng.pick(&["东莞", "杭州", "成都"]);
        let district = self.rng.pick(&["松山湖", "西湖", "武侯"]);
        let depth = match self.rng.below(10) {
            0 => 0,
            1 => 1,
            2 => 2,
            _ => 3,
        };
        let region: Vec<String> = [province, city, district][..depth].iter().map(|p| p.to_string()).collect();
        let mut fields = vec![("store", s(id.clone()))];
        if depth > 0 || self.rng.chance(0.5) {
            fields.push(("region", V::Raw(json_array(&region))));
        }
        if self.rng.chance(0.6)
            && let Some(m) = self.some_member()
        {
            fields.push(("recruiter", s(m)));
        }
        self.line("store", fields);
        self.stores.retain(|(s, _)| *s != id);
        self.stores.push((id, region));
        true
    }

    fn agent(&mut self) -> bool {
        let Some(member) = self.some_member() else { return false };
        // The region of a store (so the agent is paid on its orders), or one with no store yet.
        let full: Vec<&Vec<String>> = self.stores.iter().map(|(_, r)| r).filter(|r| r.len() == 3).collect();
        let region: Vec<String> = match full.len() {
            0 => vec!["广东".into(), "东莞".into(), "松山湖".into()],
            n if self.rng.chance(0.85) => full[self.rng.below(n as u64) as usize].clone(),
            _ => vec!["浙江".into(), "杭州".into(), "西湖".into()],
        };
        let (level, depth) = self.rng.pick(&[("district", 3), ("city", 2), ("province", 1)]);
        // Now and then a region one level off, or a level that does not exist.
        let depth = if self.rng.chance(0.1) { (depth % 3) + 1 } else { depth };
        let level = if self.rng.chance(0.05) { "street" } else { level };
        let region = region[..depth.min(region.len())].to_vec();
        self.line(
            "agent",
            vec![("member", s(member)), ("level", s(level)), ("region", V::Raw(json_array(&region)))],
        );
        true
    }

    fn review(&mut self) -> bool {
        let held: Vec<String> = self
            .referred
            .iter()
            .filter(|m| self.held(m).referral.as_deref() == Some("held"))
            .cloned()
            .collect();
        let member = match held.first() {
            Some(m) if self.rng.chance(0.9) => m.clone(),
            // Now and then a member with nothing to review: refused.
            _ if self.rng.chance(0.15) => match self.some_member() {
                Some(m) => m,
                None => return false,
            },
            _ => return false,
        };
        let decision = if self.rng.chance(0.6) { "approve" } else { "reject" };
        self.line("review", vec![("member", s(member)), ("decision", s(decision))]);
        true
    }

    // ---- operating a scheme (`--operate`) ----

    /// An amendment: one of the plan's, in force at once, within hours, or after some days (a
    /// lowering one needs the notice); now and then in the past.
    fn amend(&mut self) -> bool {
        let plan = self.plan.amendments[self.rng.below(self.plan.amendments.len() as u64) as usize].clone();
        let later = match self.rng.below(10) {
            0..=3 => 0,
            4..=5 => self.rng.range(1, 30 * 3600),
            6 => -self.rng.range(1, 3600),
            _ => self.rng.pick(&[1, 2, 7, 8, 15, 31]) * DAY,
        };
        let effective_at = self.at(self.now + later);
        self.line("amend_plan", vec![("effective_at", s(effective_at)), ("plan", s(plan))]);
        true
    }

    /// An operator's decision on a waiting withdrawal (now and then on a member with none).
    fn withdrawal_review(&mut self) -> bool {
        let waiting = self.engine.as_ref().and_then(|engine| {
            let first = engine.withdrawals_waiting().next()?;
            Some(engine.member_name(first.member).to_owned())
        });
        let member = match waiting {
            Some(m) if self.rng.chance(0.9) => m,
            _ => match self.some_member() {
                Some(m) if self.rng.chance(0.3) => m,
                _ => return false,
            },
        };
        let decision = if self.rng.chance(0.6) { "approve" } else { "reject" };
        self.line("withdrawal_review", vec![("member", s(member)), ("decision", s(decision))]);
        true
    }

    /// A vote opened on one of the plan's amendments (now and then on an id already used).
    fn propose(&mut self) -> bool {
        let n = self.proposals.len();
        let id = if n > 0 && self.rng.chance(0.1) {
            self.proposals[self.rng.below(n as u64) as usize].clone()
        } else {
            format!("p{}", n + 1)
        };
        let plan = self.plan.amendments[self.rng.below(self.plan.amendments.len() as u64) as usize].clone();
        self.line("propose", vec![("proposal", s(id.clone())), ("plan", s(plan))]);
        if !self.proposals.contains(&id) {
            self.proposals.push(id);
        }
        true
    }

    /// A member's vote on a proposal (now and then an unknown one).
    fn vote(&mut self) -> bool {
        let Some(member) = self.some_member() else { return false };
        let proposal = match self.proposals.last() {
            Some(p) if self.rng.chance(0.95) => p.clone(),
            _ => "no-such-proposal".to_owned(),
        };
        let decision = if self.rng.chance(0.6) { "yes" } else { "no" };
        self.line("vote", vec![("member", s(member)), ("proposal", s(proposal)), ("decision", s(decision))]);
        true
    }

    /// The count of a proposal, before or after it closes.
    fn tally(&mut self) -> bool {
        let n = self.proposals.len();
        if n == 0 {
            return false;
        }
        let proposal = self.proposals[self.rng.below(n as u64) as usize].clone();
        self.line("tally", vec![("proposal", s(proposal))]);
        true
    }

    // ---- bad lines ----

    /// One line that is wrong in one way (or, for blank lines and exact repeats, merely odd).
    fn bad_line(&mut self) {
        let member = self.some_member().unwrap_or_else(|| "nobody".into());
        let mechanism = self.any_mechanism().id;
        let at = self.at(self.now);
        match self.rng.below(42) {
            0 => self.line(
                "order",
                vec![("order", s("ghost-order")), ("member", s("ghost")), ("amount", s("10.00"))],
            ),
            1 => self.line("withdraw", vec![("member", s("ghost")), ("amount", s("1.00"))]),
            2 => {
                self.line("sell", vec![("member", s(member)), ("mechanism", s("nope")), ("points", s("all"))])
            }
            3 => self.line("inject", vec![("mechanism", s("nope")), ("amount", s("1.00"))]),
            // Time going backwards.
            4 | 5 => {
                let back = self.now - self.rng.range(1, 2 * DAY);
                let at = self.at(back);
                let id = format!("late-{}", self.lines);
                let fields = vec![("order", s(id)), ("member", s(member)), ("amount", s("5.00"))];
                self.line_at(&at, "order", fields);
            }
            // An order id again with other content.
            6 | 7 => {
                let Some(i) = self.some_order() else { return self.blank() };
                let mut fields = self.orders[i].fields.clone();
                let amount = self.orders[i].amount;
                match self.rng.below(3) {
                    0 => fields.retain(|(k, _)| k != "profit"),
                    1 => {
                        if let Some(m) = self.members.iter().find(|m| **m != self.orders[i].member).cloned() {
                            fields[1].1 = json_string(&m);
                        }
                    }
                    _ => {}
                }
                if fields == self.orders[i].fields {
                    fields[2].1 = json_string(&money(amount + 1));
                }
                self.write_order(&fields);
            }
            8 => {
                let amount = self.rng.pick(&[
                    "-5.00",
                    "0",
                    "0.00",
                    "1.001",
                    "1,000",
                    "abc",
                    "10000000000.01",
                    " 1.00",
                    "+1.00",
                    "1e3",
                    "",
                ]);
                self.line(
                    "order",
                    vec![
                        ("order", s(format!("bad-{}", self.lines))),
                        ("member", s(member)),
                        ("amount", s(amount)),
                    ],
                );
            }
            9 => {
                let amount = self.rng.pick(&["1e3", "12.5", "-3", "100000000000000", "1E2", "0"]);
                self.line("topup", vec![("member", s(member)), ("amount", V::Raw(amount.into()))]);
            }
            10 => {
                let points = self.rng.pick(&["1.00001", "-1", "0", "ALL", "0.0000"]);
                self.line(
                    "sell",
                    vec![("member", s(member)), ("mechanism", s(mechanism)), ("points", s(points))],
                );
            }
            11 => {
                let wallet = self.held(&member).wallet;
                let more = wallet + self.rng.range(1, 100_000);
                let amount = self.money_value(more);
                self.line("withdraw", vec![("member", s(member)), ("amount", amount)]);
            }
            12 => {
                let broken = [
                    "not json".to_owned(),
                    "[1, 2, 3]".to_owned(),
                    format!("{{\"at\":{}", json_string(&at)),
                    format!("{{\"at\":{},\"type\":\"close_day\"}} trailing", json_string(&at)),
                    "{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"join\",\"member\":\"x\",}".to_owned(),
                    "{".to_owned(),
                    "\"just a string\"".to_owned(),
                    "{\"at\":\"2026-01-01T00:00:00Z\" \"type\":\"close_day\"}".to_owned(),
                ];
                let broken = &broken[self.rng.below(broken.len() as u64) as usize];
                self.raw(broken.as_bytes());
            }
            13 => self.line("order", vec![("order", s(format!("x{}", self.lines))), ("member", s(member))]),
            14 => self.line("join", vec![]),
            15 => {
                let text = format!("{{\"type\":\"close_day\",\"member\":{}}}", json_string(&member));
                self.raw(text.as_bytes());
            }
            16 => self.raw(format!("{{\"at\":{}}}", json_string(&at)).as_bytes()),
            17 => self.line("purchase", vec![("member", s(member))]),
            18 => self.line("join", vec![("member", s(format!("x{}", self.lines))), ("referer", s(member))]),
            19 => self.line(
                "order",
                vec![
                    ("order", s(format!("p{}", self.lines))),
                    ("member", s(member)),
                    ("amount", s("1.00")),
                    ("points", s("1")),
                ],
            ),
            20 => {
                let text = format!(
                    "{{\"at\":{},\"type\":\"withdraw\",\"member\":{},\"member\":\"other\",\"amount\":\"1.00\"}}",
                    json_string(&at),
                    json_string(&member)
                );
                self.raw(text.as_bytes());
            }
            21 => {
                // `null` is an absent field.
                let name = self.new_member_name();
                self.line("join", vec![("member", s(name.clone())), ("referrer", V::Raw("null".into()))]);
                self.members.push(name);
            }
            22 | 23 => self.blank(),
            // The wrong kind of mechanism for the event.
            24 => {
                let m = self.mechanism_of(&[
                    "refer_refund",
                    "queue",
                    "distribution",
                    "green_points",
                    "cycle",
                    "coalition",
                ]);
                let id = m.map_or(mechanism, |m| m.id);
                let kind = self.rng.pick(&["sell", "ad_view", "advertiser_fund", "redeem"]);
                let fields = match kind {
                    "sell" => vec![("member", s(member)), ("mechanism", s(id)), ("points", s("1"))],
                    "ad_view" => vec![("member", s(member)), ("mechanism", s(id))],
                    "advertiser_fund" => vec![("mechanism", s(id)), ("amount", s("10.00"))],
                    _ => vec![("member", s(member)), ("mechanism", s(id)), ("reward", s("drink"))],
                };
                self.line(kind, fields);
            }
            25 => self.line("join", vec![("member", s(member))]),
            26 => self.line(
                "join",
                vec![
                    ("member", s(format!("self{}", self.lines))),
                    ("referrer", s(format!("self{}", self.lines))),
                ],
            ),
            27 => {
                self.line("join", vec![("member", s(format!("y{}", self.lines))), ("referrer", s("ghost"))])
            }
            28 => self.line("join", vec![("member", s(""))]),
            29 => self.line(
                "order",
                vec![
                    ("order", s(format!("e{}", self.lines))),
                    ("member", s(member)),
                    ("amount", s("10.00")),
                    ("store", s("")),
                ],
            ),
            30 => {
                let at = self.rng.pick(&[
                    "yesterday",
                    "1800-01-01T00:00:00Z",
                    "2026-02-30T09:00:00+08:00",
                    "2026-01-01T24:00:00Z",
                    "2026-01-01 09:00:00",
                ]);
                self.line_at(at, "close_day", vec![]);
            }
            31 => self.line("review", vec![("member", s(member)), ("decision", s("maybe"))]),
            32 => {
                let mut bytes =
                    format!("{{\"at\":{},\"type\":\"join\",\"member\":\"", json_string(&at)).into_bytes();
                bytes.extend_from_slice(b"\xff\xfe\"}");
                self.raw(&bytes);
            }
            33 => {
                let mut bytes = b"\xEF\xBB\xBF".to_vec();
                bytes.extend_from_slice(
                    format!("{{\"at\":{},\"type\":\"close_day\"}}", json_string(&at)).as_bytes(),
                );
                self.raw(&bytes);
            }
            34 => {
                let Some(i) = self.some_order() else { return self.blank() };
                let id = self.orders[i].id.clone();
                self.line("refund", vec![("order", s(id.clone()))]);
                self.line("refund", vec![("order", s(id))]);
            }
            35 => self.line("refund", vec![("order", s("never-paid"))]),
            36 => self.line("store", vec![("store", s("")), ("region", V::Raw("[\"广东\"]".into()))]),
            37 => {
                let region = V::Raw("[\"广东\",\"东莞\",\"松山湖\",\"一号楼\"]".into());
                self.line("store", vec![("store", s("s-deep")), ("region", region)]);
            }
            38 => self.line("store", vec![("store", s("s-x")), ("recruiter", s("ghost"))]),
            39 => self.line("topup", vec![("member", s("ghost")), ("amount", s("10.00"))]),
            40 => {
                let amount = self.rng.pick(&["0.00", "-1.00", "0.001"]);
                self.line("topup", vec![("member", s(member)), ("amount", s(amount))]);
            }
            _ => {
                // A store event with a region that is not a list of strings.
                let region = self.rng.pick(&["\"广东\"", "[1, 2]", "{}", "[\"\"]"]);
                self.line("store", vec![("store", s("s-odd")), ("region", V::Raw(region.into()))]);
            }
        }
    }

    fn blank(&mut self) {
        let text = self.rng.pick(&["", "   ", "\t"]);
        self.raw(text.as_bytes());
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialize")
}
