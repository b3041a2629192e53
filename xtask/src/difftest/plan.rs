//! Random plans for `cargo xtask difftest`.
//!
//! A plan has 1 to 4 mechanisms drawn from all nine kinds, and every key of each kind is either
//! given a random valid value or left out to take its default. Values are written in each form
//! the parser accepts (a quoted decimal, a TOML number, a percentage for rates, a string for whole
//! numbers), so the reading of every form is compared too. Plan-level keys vary the same way:
//! `settle_after_days` 0 and more, `timezone`, `margin_rate`, `pause_when_underfunded` (plan and
//! mechanism), `clawback`, `[[package]]` and `[antifraud]` with each of its rules.
//!
//! Each plan is of one [`Class`]:
//! - most are meant to pass `fanli check`: their funding rates fit the margin and a
//!   distribution's budget covers the most one order can allocate, so `fanli run` runs them;
//! - some are meant to fail it (over the margin, a distribution over its budget, a referral
//!   reward without a purchase, a package dearer than its goods): the refusal is compared, and
//!   `run --allow-noncompliant` runs them anyway;
//! - some carry one or two mistakes the plan parser must name (an unknown, missing, mistyped or
//!   out-of-range key, a rule between keys, TOML that does not parse), so the error paths are
//!   compared;
//! - a few have extreme numbers (an appreciation minting 10× at 0.0001 a point, multipliers at
//!   their maximum) that outgrow 64 bits once the stream brings large orders, so the overflow
//!   stop is compared.
//!
//! The plan is built as a small document model ([`Doc`]) rather than as text, so that a mistake
//! can be put into a valid plan key by key, and the stream generator is told what it needs about
//! the plan (ids, kinds, rewards, partners, thresholds) in a [`Plan`].

use super::Rand;

/// The nine mechanism kinds of the spec.
pub(crate) const KINDS: [&str; 9] = [
    "appreciation",
    "refer_refund",
    "queue",
    "distribution",
    "green_points",
    "cycle",
    "ad_tasks",
    "loyalty",
    "coalition",
];

/// What a plan is meant to do under `fanli check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Meant to pass `check`.
    Valid,
    /// Meant to be refused by `check` (a compliance error).
    Refused,
    /// Carries a mistake the parser must name.
    KeyError,
    /// Extreme numbers, to reach the 64-bit overflow stop.
    Extreme,
}

/// One mechanism, as far as the stream generator needs to know it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Mechanism {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    /// A loyalty catalogue: each reward's name and cost in 1/10000 points.
    pub(crate) rewards: Vec<(String, i64)>,
    /// A coalition's partner ids.
    pub(crate) partners: Vec<String>,
    /// A loyalty mechanism with `cashout` (sold through `sell`).
    pub(crate) cashout: bool,
}

/// A generated plan: its text, and what the stream generator needs to know about it.
pub(crate) struct Plan {
    /// The plan file as written for the binaries.
    pub(crate) text: String,
    /// A valid plan to steer the stream generator with: `text` itself unless a mistake was put
    /// into it, then the plan as it was before.
    pub(crate) steer: String,
    pub(crate) class: Class,
    /// The plan's time zone, in seconds east of UTC.
    pub(crate) timezone: i32,
    pub(crate) mechanisms: Vec<Mechanism>,
    pub(crate) antifraud: bool,
    /// Amounts in fen the plan's rules turn on (minimums, tiers, units), for orders to land on.
    pub(crate) amounts: Vec<i64>,
    /// The keys the plan sets (before any mistake is put in), for the coverage report:
    /// `appreciation.exit_multiple`, `queue.release.every`, `refer_refund.steps=fixed`, ….
    pub(crate) keys: Vec<String>,
    /// With `--operate`: plans to amend it with (each the plan with some of its keys drawn
    /// again, a mechanism retired or added, now and then a setting that may not change), for
    /// `amend_plan` and `propose`; empty otherwise.
    pub(crate) amendments: Vec<String>,
    /// With `--operate`: whether the plan has a `[withdrawal]` table with a review threshold,
    /// and a `[vote]` table.
    pub(crate) reviews_withdrawals: bool,
    pub(crate) votes: bool,
}

/// A TOML table: its header and its keys in order, each value as TOML text.
#[derive(Clone, Debug)]
struct Table {
    header: &'static str,
    /// The mechanism kind, for a `[[mechanism]]`.
    kind: Option<&'static str>,
    keys: Vec<(String, String)>,
}

impl Table {
    fn new(header: &'static str, kind: Option<&'static str>) -> Table {
        Table { header, kind, keys: Vec::new() }
    }
    fn set(&mut self, key: &str, value: String) {
        match self.keys.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.keys.push((key.to_owned(), value)),
        }
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.keys.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    fn remove(&mut self, key: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|(k, _)| k != key);
        self.keys.len() != before
    }
}

/// A plan file: top-level keys, then tables, then any raw text (a broken tail).
#[derive(Clone, Debug)]
struct Doc {
    comment: bool,
    top: Table,
    tables: Vec<Table>,
    tail: String,
}

impl Doc {
    fn render(&self) -> String {
        let mut s = String::new();
        if self.comment {
            s.push_str("# a plan from cargo xtask difftest\n");
        }
        for (k, v) in &self.top.keys {
            s.push_str(&format!("{k} = {v}\n"));
        }
        for t in &self.tables {
            s.push_str(&format!("\n{}\n", t.header));
            for (k, v) in &t.keys {
                s.push_str(&format!("{k} = {v}\n"));
            }
        }
        s.push_str(&self.tail);
        s
    }

    fn mechanisms(&mut self) -> impl Iterator<Item = &mut Table> {
        self.tables.iter_mut().filter(|t| t.kind.is_some())
    }
}

/// A TOML basic string.
pub(crate) fn quote(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c if c.is_control() => s.push_str(&format!("\\u{:04X}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// `units` of `10^-scale` as a plain decimal, without trailing zeros after the point.
pub(crate) fn decimal(units: i64, scale: u32) -> String {
    let one = 10i64.pow(scale);
    let (whole, frac) = (units / one, units % one);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = scale as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Money in fen as the spec writes it ("1000.00").
pub(crate) fn money(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// Rates are kept in millionths (ppm): exact, and fine enough for every rate a plan names.
const PPM: i64 = 1_000_000;

/// Builds one plan.
struct Builder<'r> {
    rng: &'r mut Rand,
    class: Class,
    amounts: Vec<i64>,
}

impl Builder<'_> {
    /// A rate (in ppm) as TOML: a quoted decimal (sometimes with 2 places at least, as "0.30"), a
    /// TOML number, or a percentage.
    fn rate(&mut self, ppm: i64) -> String {
        let text = decimal(ppm, 6);
        match self.rng.below(20) {
            0..=10 => quote(&text),
            11..=13 if ppm % 10_000 == 0 && ppm < PPM => {
                quote(&format!("{}.{:02}", ppm / PPM, ppm % PPM / 10_000))
            }
            11..=15 => text,
            _ => quote(&format!("{}%", decimal(ppm, 4))),
        }
    }

    /// A rate in [lo, hi] ppm, rounded to `step` ppm.
    fn rate_in(&mut self, lo: i64, hi: i64, step: i64) -> i64 {
        let n = self.rng.range(lo / step, hi / step);
        (n * step).clamp(lo, hi)
    }

    /// Money as TOML: mostly a quoted "12.50", sometimes a TOML number or fewer decimals.
    fn money(&mut self, fen: i64) -> String {
        match self.rng.below(10) {
            0 => money(fen),
            1 => quote(&decimal(fen, 2)),
            _ => quote(&money(fen)),
        }
    }

    /// Points (in 1/10000) as TOML.
    fn points(&mut self, units: i64) -> String {
        let text = decimal(units, 4);
        if self.rng.chance(0.15) { text } else { quote(&text) }
    }

    /// A whole number as a TOML integer, or sometimes as a string ("15").
    fn integer(&mut self, n: i64) -> String {
        if self.rng.chance(0.15) { quote(&n.to_string()) } else { n.to_string() }
    }

    fn boolean(&mut self) -> String {
        if self.rng.chance(0.5) { "true".into() } else { "false".into() }
    }

    /// An amount an order may land on, remembered for the stream.
    fn threshold(&mut self, fen: i64) -> i64 {
        self.amounts.push(fen);
        fen
    }

    /// A money amount the rules turn on: round figures from the seeds, or anything.
    fn some_minimum(&mut self) -> i64 {
        let fen = match self.rng.below(8) {
            0 => 0,
            1 => 990,
            2 => 3_900,
            3 => 9_900,
            4 => 50_000,
            5 => 100_000,
            _ => self.rng.range(1, 200_000),
        };
        self.threshold(fen)
    }

    fn maybe(&mut self, p: f64) -> bool {
        self.rng.chance(p)
    }

    /// A name for a rank or tier.
    fn name(&mut self, i: usize) -> String {
        let names = ["青铜", "白银", "黄金", "钻石", "V1", "gold", "店长", "总监", "银卡", "金卡"];
        format!("{}{}", self.rng.pick(&names), i + 1)
    }

    /// `{ name, min_team_sales, rate }` ranks, lowest first.
    fn ranks(&mut self, n: usize, rate_hi: i64) -> (String, i64) {
        let mut min = 0;
        let mut items = Vec::new();
        let mut highest = 0;
        for i in 0..n {
            min += self.rng.range(if i == 0 { 0 } else { 1 }, 300_000);
            let rate = self.rate_in(1_000, rate_hi, 500);
            highest = highest.max(rate);
            let (name, min_text, rate_text) = (self.name(i), self.money(min), self.rate(rate));
            items.push(format!(
                "{{ name = {}, min_team_sales = {min_text}, rate = {rate_text} }}",
                quote(&name)
            ));
        }
        (format!("[{}]", items.join(", ")), highest)
    }

    // ---- the kinds: each fills its table and says what the stream needs ----

    /// Fills a mechanism's table with its kind's keys; what it needs of the budget beyond its
    /// own rate (a distribution's allocation, a cycle's honor share).
    fn fill(&mut self, kind: &str, t: &mut Table, m: &mut Mechanism) -> (i64, i64) {
        let mut need = (0, 0);
        match kind {
            "appreciation" => self.appreciation(t),
            "refer_refund" => self.refer_refund(t),
            "queue" => self.queue(t),
            "distribution" => need.0 = self.distribution(t),
            "green_points" => self.green_points(t),
            "cycle" => need.1 = self.cycle(t),
            "ad_tasks" => self.ad_tasks(t),
            "loyalty" => self.loyalty(t, m),
            _ => self.coalition(t, m),
        }
        need
    }

    fn appreciation(&mut self, t: &mut Table) {
        let extreme = self.class == Class::Extreme;
        let mint = if extreme {
            10 * PPM
        } else {
            match self.rng.below(10) {
                0 => self.rate_in(PPM, 3 * PPM, 10_000),
                1 => self.rate_in(1, 10 * PPM, 1),
                _ => self.rate_in(300_000, PPM, 10_000),
            }
        };
        let mint = self.rate(mint);
        t.set("mint_ratio", mint);
        // initial_price: 0.0001 to 1000, in 1/10000.
        if extreme {
            t.set("initial_price", quote("0.0001"));
        } else if self.maybe(0.7) {
            let units = match self.rng.below(10) {
                0 => 1,
                1 => 10_000_000,
                2 => self.rng.range(1, 10_000_000),
                _ => self.rng.range(5_000, 50_000),
            };
            let text = if self.rng.chance(0.8) { quote(&decimal(units, 4)) } else { decimal(units, 4) };
            t.set("initial_price", text);
        }
        if self.maybe(0.7) {
            let fee = match self.rng.below(10) {
                0 => 0,
                1 => 999_999,
                _ => self.rate_in(0, 500_000, 10_000),
            };
            let fee = if fee == 999_999 { quote("0.999999999") } else { self.rate(fee) };
            t.set("sell_fee", fee);
        }
        if self.maybe(0.75) {
            let multiple = match self.rng.below(12) {
                0 => self.rate_in(100_000, 999_999, 100_000),
                1 => self.rate_in(10 * PPM, 1_000 * PPM, PPM),
                2 => 2 * PPM,
                3 => 3 * PPM,
                _ => self.rate_in(1_100_000, 3 * PPM, 100_000),
            };
            let multiple = self.rate(multiple);
            t.set("exit_multiple", multiple);
        }
    }

    fn step(&mut self) -> String {
        match self.rng.below(10) {
            0 => "0".into(),
            1..=3 => {
                let fen = self.rng.pick(&[0, 2_000, 4_900, 5_000, 10_000, 12_345]);
                self.money(fen)
            }
            _ => {
                let percent = self.rng.pick(&[5, 10, 20, 25, 33, 50, 70, 75, 80, 100]);
                if self.rng.chance(0.2) {
                    quote(&format!("{}.5%", percent.min(99)))
                } else {
                    quote(&format!("{percent}%"))
                }
            }
        }
    }

    fn refer_refund(&mut self, t: &mut Table) {
        let repurchase = match self.rng.below(4) {
            0 => {
                t.set("trigger", quote("referral"));
                false
            }
            1 => {
                t.set("trigger", quote("repurchase"));
                true
            }
            _ => false,
        };
        let qualify = self.some_minimum();
        let qualify = self.money(qualify);
        t.set("qualify_min", qualify);
        if !repurchase {
            let mut referee = self.some_minimum();
            if referee == 0 && self.class != Class::Refused {
                referee = self.threshold(3_900);
            }
            let referee = self.money(referee);
            t.set("referee_min", referee);
        }
        let n = self.rng.range(1, 6) as usize;
        let steps: Vec<String> = (0..n).map(|_| self.step()).collect();
        t.set("steps", format!("[{}]", steps.join(", ")));
        if self.maybe(0.6) {
            let repeat = self.boolean();
            t.set("repeat", repeat);
        }
        if !repurchase && self.maybe(0.5) {
            let indirect = self.step();
            t.set("indirect", indirect);
        }
        match self.rng.below(4) {
            0 => t.set("pay_to", quote("wallet")),
            1 => t.set("pay_to", quote("credit")),
            _ => {}
        }
    }

    fn queue(&mut self, t: &mut Table) {
        if self.rng.chance(0.5) {
            t.set("release", quote("when_funded"));
        } else {
            let every = self.rng.range(1, 5);
            let every = self.integer(every);
            let ratio = self.rate_in(100_000, 1_500_000, 10_000);
            let ratio = self.rate(ratio);
            t.set("release", format!("{{ every = {every}, ratio = {ratio} }}"));
        }
        if self.maybe(0.7) {
            let ratio = self.rate_in(500_000, 1_500_000, 100_000);
            let ratio = self.rate(ratio);
            t.set("credit_ratio", ratio);
        }
        if self.maybe(0.7) {
            let min = self.some_minimum();
            let min = self.money(min);
            t.set("min_order", min);
        }
        if self.maybe(0.7) {
            let days = self.rng.range(0, 10);
            let days = self.integer(days);
            t.set("lock_days", days);
        }
        if self.maybe(0.7) {
            let rate = self.rate_in(0, 500_000, 10_000);
            let rate = self.rate(rate);
            t.set("referral_acceleration", rate);
        }
    }

    /// Returns the most one order can allocate, in ppm of its amount.
    fn distribution(&mut self, t: &mut Table) -> i64 {
        let mut most = 0;
        let mut any = false;
        if self.maybe(0.6) {
            let n = self.rng.range(1, 3);
            let rates: Vec<i64> = (0..n).map(|_| self.rate_in(1_000, 20_000, 500)).collect();
            most += rates.iter().sum::<i64>();
            let texts: Vec<String> = rates.iter().map(|&r| self.rate(r)).collect();
            t.set("levels", format!("[{}]", texts.join(", ")));
            any = true;
        }
        if self.maybe(0.45) {
            let n = self.rng.range(1, 3) as usize;
            let (ranks, highest) = self.ranks(n, 20_000);
            t.set("ranks", ranks);
            most += highest;
            any = true;
            if self.maybe(0.5) {
                let peer = self.rate_in(1_000, 5_000, 500);
                most += peer;
                let peer = self.rate(peer);
                t.set("peer_rate", peer);
            }
        }
        if self.maybe(0.4) || !any && self.rng.chance(0.5) {
            let mut parts = Vec::new();
            let mut highest = 0;
            for level in ["district", "city", "province"] {
                if self.rng.chance(0.7) {
                    let rate = self.rate_in(1_000, 5_000, 500);
                    highest = highest.max(rate);
                    parts.push(format!("{level} = {}", self.rate(rate)));
                }
            }
            most += highest;
            t.set("regional", format!("{{ {} }}", parts.join(", ")));
            any = true;
        }
        if self.maybe(0.4) || !any {
            let rate = self.rate_in(1_000, 10_000, 500);
            most += rate;
            let rate = self.rate(rate);
            t.set("recruiter_rate", rate);
        }
        most
    }

    fn green_points(&mut self, t: &mut Table) {
        let n = self.rng.range(1, 4);
        let mut min = 0;
        let mut tiers = Vec::new();
        for i in 0..n {
            min += if i == 0 { self.rng.pick(&[0, 10_000, 300_000]) } else { self.rng.range(1, 500_000) };
            let fen = self.threshold(min);
            let multiple = if self.class == Class::Extreme {
                100 * PPM
            } else if self.rng.chance(0.7) {
                self.rate_in(100_000, PPM, 50_000)
            } else {
                self.rate_in(PPM, 4 * PPM, 500_000)
            };
            let (min_text, multiple) = (self.money(fen), self.rate(multiple));
            tiers.push(format!("{{ min = {min_text}, multiple = {multiple} }}"));
        }
        t.set("tiers", format!("[{}]", tiers.join(", ")));
        let rate = match self.rng.below(6) {
            0 => PPM,
            _ => self.rate_in(1_000, 200_000, 1_000),
        };
        let rate = self.rate(rate);
        t.set("daily_release_rate", rate);
        if self.maybe(0.5) {
            let n = self.rng.range(1, 3);
            let rates: Vec<String> = (0..n)
                .map(|_| {
                    let r = self.rate_in(100_000, 600_000, 50_000);
                    self.rate(r)
                })
                .collect();
            t.set("share", format!("[{}]", rates.join(", ")));
        }
        if self.maybe(0.35) {
            let n = self.rng.range(1, 3) as usize;
            let (ranks, _) = self.ranks(n, 500_000);
            t.set("team_ranks", ranks);
        }
    }

    /// Returns the honor rate (funded on top of `funding_rate`), in ppm.
    fn cycle(&mut self, t: &mut Table) -> i64 {
        let multiple = match self.rng.below(8) {
            0 => 0,
            1 => 100 * PPM,
            2..=4 => self.rate_in(PPM, 3 * PPM, 100_000),
            _ => self.rate_in(10_000, PPM, 10_000),
        };
        let multiple = self.rate(multiple);
        t.set("quota_multiple", multiple);
        let unit = self.rng.pick(&[1, 10_000, 100_000, 200_000]);
        let unit = if unit == 1 { self.rng.range(1, 300_000) } else { unit };
        let unit = self.threshold(unit);
        let unit = self.money(unit);
        t.set("share_unit", unit);
        if self.maybe(0.6) {
            let rate = self.rate_in(0, 2 * PPM, 50_000);
            let rate = self.rate(rate);
            t.set("referral_share_rate", rate);
        }
        if self.maybe(0.4) {
            let rate = self.rate_in(1_000, 50_000, 1_000);
            let n = self.rng.range(1, 4);
            let mut level = 0;
            let levels: Vec<String> = (0..n)
                .map(|_| {
                    level += self.rng.range(1, 30_000);
                    self.points(level)
                })
                .collect();
            let rate_text = self.rate(rate);
            t.set("honor", format!("{{ rate = {rate_text}, levels = [{}] }}", levels.join(", ")));
            return rate;
        }
        0
    }

    fn ad_tasks(&mut self, t: &mut Table) {
        let per_yuan = match self.rng.below(6) {
            0 => 0,
            1 => 1_000 * PPM,
            _ => self.rate_in(10_000, 10 * PPM, 10_000),
        };
        let per_yuan = self.rate(per_yuan);
        t.set("points_per_yuan", per_yuan);
        let views = self.rng.range(1, 5);
        let views = self.integer(views);
        t.set("views_per_day", views);
        let n = self.rng.range(1, 4);
        let mut from = if self.rng.chance(0.85) { 0 } else { self.rng.range(1, 1_000_000) };
        let mut bands = Vec::new();
        for _ in 0..n {
            let reward = self.rng.range(0, 500_000);
            let (from_text, reward_text) = (self.points(from), self.points(reward));
            let mut band = format!("{{ from = {from_text}");
            let mut next = from + self.rng.range(1, 20_000_000);
            if self.rng.chance(0.4) {
                // `to` is the band's last point: up to the next band, or short of it (a gap).
                let to = if self.rng.chance(0.6) { next - 10_000 } else { from + (next - from) / 3 };
                let to = to.max(from);
                band.push_str(&format!(", to = {}", self.points(to)));
                next = next.max(to + 1);
            }
            band.push_str(&format!(", reward = {reward_text} }}"));
            bands.push(band);
            from = next;
        }
        t.set("rewards", format!("[{}]", bands.join(", ")));
    }

    fn loyalty(&mut self, t: &mut Table, m: &mut Mechanism) {
        let extreme = self.class == Class::Extreme;
        let mut earn = Vec::new();
        if self.rng.chance(0.8) {
            let rate = if extreme { 100 * PPM } else { self.rate_in(0, 5 * PPM, 100_000) };
            earn.push(format!("per_yuan = {}", self.rate(rate)));
        }
        if self.rng.chance(0.4) {
            let points = self.rng.range(0, 100_000);
            earn.push(format!("per_order = {}", self.points(points)));
        }
        t.set("earn", format!("{{ {} }}", earn.join(", ")));
        if self.maybe(0.4) {
            let by_points = self.rng.chance(0.4);
            let n = self.rng.range(1, 3);
            let mut min = 0;
            let tiers: Vec<String> = (0..n)
                .map(|i| {
                    min += self.rng.range(1, 500_000);
                    let name = quote(&self.name(i as usize));
                    let multiplier = if extreme { 100 * PPM } else { self.rate_in(PPM, 3 * PPM, 100_000) };
                    let multiplier = self.rate(multiplier);
                    let min = if by_points {
                        format!("min_points = {}", self.points(min * 100))
                    } else {
                        format!("min_spend = {}", self.money(min))
                    };
                    format!("{{ name = {name}, {min}, multiplier = {multiplier} }}")
                })
                .collect();
            t.set("tiers", format!("[{}]", tiers.join(", ")));
        }
        if self.maybe(0.35) {
            let mut day = self.rng.range(0, 3);
            let mut days = Vec::new();
            while day < 7 && days.len() < 3 {
                let names = [
                    ["monday", "mon", "周一", "星期一"],
                    ["tuesday", "tue", "周二", "星期二"],
                    ["wednesday", "wed", "周三", "星期三"],
                    ["thursday", "thu", "周四", "星期四"],
                    ["friday", "fri", "周五", "星期五"],
                    ["saturday", "sat", "周六", "星期六"],
                    ["sunday", "sun", "周日", "星期日"],
                ];
                let weekday = match self.rng.below(6) {
                    0 => (day + 1).to_string(),
                    1 => quote(&names[day as usize][0].to_uppercase()),
                    n => quote(names[day as usize][(n as usize - 2) % 4]),
                };
                let multiplier = if extreme { 100 * PPM } else { self.rate_in(PPM, 5 * PPM, 500_000) };
                let multiplier = self.rate(multiplier);
                days.push(format!("{{ weekday = {weekday}, multiplier = {multiplier} }}"));
                day += self.rng.range(1, 4);
            }
            t.set("bonus_days", format!("[{}]", days.join(", ")));
        }
        if self.maybe(0.35) {
            let per = self.rng.pick(&[10_000, 5_000, 1]);
            let per = self.threshold(per);
            let key = if self.rng.chance(0.7) { "per" } else { "amount" };
            let points = self.rng.range(0, 50_000);
            let (per, points) = (self.money(per), self.points(points));
            t.set("topup_bonus", format!("{{ {key} = {per}, points = {points} }}"));
        }
        if self.maybe(0.35) {
            let rate = self.rate_in(0, 2 * PPM, 100_000);
            let rate = self.rate(rate);
            t.set("referee_rate", rate);
        }
        if self.maybe(0.45) {
            let days = self.rng.range(1, 20);
            let text = self.integer(days);
            t.set("expiry_days", text);
            if self.maybe(0.5) {
                let n = self.rng.range(1, 3);
                let reminders: Vec<String> =
                    (0..n).map(|_| self.rng.range(1, days + 2).to_string()).collect();
                t.set("reminders", format!("[{}]", reminders.join(", ")));
            }
        }
        if self.maybe(0.65) {
            let n = self.rng.range(1, 3);
            let names = ["drink", "any drink", "蛋糕", "voucher", "mug"];
            let mut items = Vec::new();
            for i in 0..n as usize {
                let name = names[i % names.len()].to_owned();
                let points = if self.rng.chance(0.8) {
                    self.rng.range(1, 200_000)
                } else {
                    self.rng.range(1, 5_000_000)
                };
                items.push(format!("{{ name = {}, points = {} }}", quote(&name), self.points(points)));
                m.rewards.push((name, points));
            }
            t.set("rewards", format!("[{}]", items.join(", ")));
        }
        if self.maybe(0.4) {
            let points = self.rng.range(1, 10_000_000);
            let fen = self.rng.range(0, 5_000);
            let (points, fen) = (self.points(points), self.money(fen));
            t.set("cashout", format!("{{ points = {points}, amount = {fen} }}"));
            m.cashout = true;
        }
    }

    fn coalition(&mut self, t: &mut Table, m: &mut Mechanism) {
        let n = self.rng.range(1, 3);
        let ids = ["bank", "air", "mall", "油站"];
        let mut items = Vec::new();
        for id in ids.iter().take(n as usize) {
            let id = id.to_string();
            let earn =
                if self.class == Class::Extreme { 100 * PPM } else { self.rate_in(0, 2 * PPM, 50_000) };
            let mut item = format!("{{ id = {}, earn_per_yuan = {}", quote(&id), self.rate(earn));
            if self.rng.chance(0.5) {
                let bonus =
                    if self.class == Class::Extreme { 10 * PPM } else { self.rate_in(0, PPM, 50_000) };
                item.push_str(&format!(", bonus = {}", self.rate(bonus)));
            }
            item.push_str(" }");
            items.push(item);
            m.partners.push(id);
        }
        t.set("partners", format!("[{}]", items.join(", ")));
        let cost = self.rng.range(1, 100);
        let cost = self.money(cost);
        t.set("point_cost", cost);
    }
}

/// A mechanism id for `kind`, unique in the plan.
fn mechanism_id(rng: &mut Rand, kind: &str, taken: &[String]) -> String {
    let base = match kind {
        "appreciation" => rng.pick(&["appr", "增值", "appr-1"]),
        "refer_refund" => rng.pick(&["r3", "返一", "refund_3"]),
        "queue" => rng.pick(&["union", "queue", "排队"]),
        "distribution" => rng.pick(&["dist", "分销"]),
        "green_points" => rng.pick(&["green", "绿色"]),
        "cycle" => rng.pick(&["cycle", "循环"]),
        "ad_tasks" => rng.pick(&["ads", "广告"]),
        "loyalty" => rng.pick(&["cafe", "积分"]),
        _ => rng.pick(&["miles", "联盟"]),
    };
    let mut id = base.to_owned();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}{n}");
        n += 1;
    }
    id
}

/// A random plan; with `operate`, also `notice_days`, `[withdrawal]`, `[vote]` and amendments.
pub(crate) fn generate(rng: &mut Rand, operate: bool) -> Plan {
    let class = match rng.below(100) {
        0..=4 => Class::Extreme,
        5..=16 => Class::KeyError,
        17..=29 => Class::Refused,
        _ => Class::Valid,
    };
    let mut b = Builder { rng, class, amounts: Vec::new() };
    let mut doc = Doc {
        comment: b.rng.chance(0.3),
        top: Table::new("", None),
        tables: Vec::new(),
        tail: String::new(),
    };

    let names =
        ["消费增值 + 推三返一", "a plan", "全返 plan", "返一 \"quoted\" \\ test", "本地生活", "plan-∞"];
    let name = format!("{} {}", b.rng.pick(&names), b.rng.below(1000));
    doc.top.set("name", quote(&name));
    let settle = if class == Class::Extreme || b.rng.chance(0.4) { 0 } else { b.rng.range(1, 10) };
    let settle = b.integer(settle);
    doc.top.set("settle_after_days", settle);
    let zones = [
        ("+08:00", 8 * 3600),
        ("Z", 0),
        ("+00:00", 0),
        ("-05:00", -5 * 3600),
        ("+05:30", 19_800),
        ("-11:45", -42_300),
    ];
    let timezone = if b.maybe(0.5) {
        let (text, seconds) = b.rng.pick(&zones);
        doc.top.set("timezone", quote(text));
        seconds
    } else {
        8 * 3600
    };
    let margin = if b.maybe(0.55) {
        let margin = b.rate_in(200_000, PPM, 10_000);
        let text = b.rate(margin);
        doc.top.set("margin_rate", text);
        Some(margin)
    } else {
        None
    };
    if b.maybe(0.25) {
        let pause = b.boolean();
        doc.top.set("pause_when_underfunded", pause);
    }
    if b.maybe(0.25) {
        let clawback = b.boolean();
        doc.top.set("clawback", clawback);
    }

    // The mechanisms: kinds first, then each one's keys, then the funding rates that fit.
    let count = if class == Class::Extreme { b.rng.range(1, 2) } else { b.rng.range(1, 4) } as usize;
    let mut kinds: Vec<&'static str> = (0..count).map(|_| b.rng.pick(&KINDS)).collect();
    if class == Class::Extreme {
        kinds[0] = b.rng.pick(&["appreciation", "appreciation", "loyalty", "coalition", "green_points"]);
    }
    let mut mechanisms = Vec::new();
    let mut tables = Vec::new();
    // What each needs of the budget beyond its own rate: a distribution's allocation, an honor share.
    let mut needs = Vec::new();
    for &kind in &kinds {
        let taken: Vec<String> = mechanisms.iter().map(|m: &Mechanism| m.id.clone()).collect();
        let id = mechanism_id(b.rng, kind, &taken);
        let mut m =
            Mechanism { id: id.clone(), kind, rewards: Vec::new(), partners: Vec::new(), cashout: false };
        let mut t = Table::new("[[mechanism]]", Some(kind));
        t.set("id", quote(&id));
        t.set("kind", quote(kind));
        let need = b.fill(kind, &mut t, &mut m);
        if b.maybe(0.15) {
            let pause = b.boolean();
            t.set("pause_when_underfunded", pause);
        }
        needs.push(need);
        mechanisms.push(m);
        tables.push(t);
    }

    // Funding: the rates (and honor shares) add up to at most the margin, each rate taken as a
    // share of the amount; a distribution's rate covers its allocation. A profit-based rate
    // counts at most its own value, so the sum of the rates is a safe bound.
    let budget = margin.unwrap_or(PPM);
    let fixed: i64 = needs.iter().map(|(dist, honor)| dist + honor).sum();
    let mut left = (budget - fixed).max(0) * b.rng.range(30, 100) / 100;
    let optional = |kind: &str| matches!(kind, "loyalty" | "coalition");
    let last = tables.len() - 1;
    for (i, t) in tables.iter_mut().enumerate() {
        let kind = t.kind.expect("a mechanism");
        let (dist, _) = needs[i];
        let share = if i == last { left } else { left * b.rng.range(0, 100) / 100 };
        left -= share;
        let mut rate = dist + share / 100 * 100;
        if class == Class::Extreme && kind == "appreciation" && i == 0 && fixed == 0 {
            // All the budget into the pool that mints 10× at 0.0001 a point.
            rate = ((budget - fixed) / 100 * 100).max(rate);
            left = 0;
        }
        if optional(kind) && b.rng.chance(0.5) && dist == 0 {
            left += share;
            continue;
        }
        let base = match b.rng.below(10) {
            // A profit base with a margin leaves a distribution short of its allocation.
            0 | 1 if dist == 0 || margin.is_none() => Some("profit"),
            2 => Some("amount"),
            _ => None,
        };
        if let Some(base) = base {
            t.set("funding_base", quote(base));
        }
        let text = b.rate(rate.min(PPM));
        t.set("funding_rate", text);
    }
    for t in &mut tables {
        // Keys in another order now and then: errors are reported by line.
        if b.rng.chance(0.15) {
            b.rng.shuffle(&mut t.keys);
        }
    }
    doc.tables = tables;

    if b.maybe(0.15) {
        for i in 0..b.rng.range(1, 2) {
            let value = b.rng.range(100, 100_000);
            let price = if b.rng.chance(0.3) { value } else { b.rng.range(1, value) };
            let price = b.threshold(price);
            let mut t = Table::new("[[package]]", None);
            t.set("name", quote(&format!("套餐{}", i + 1)));
            let (price, value) = (b.money(price), b.money(value));
            t.set("price", price);
            t.set("value", value);
            doc.tables.push(t);
        }
    }
    let antifraud = b.maybe(0.3);
    if antifraud {
        let mut t = Table::new("[antifraud]", None);
        for key in ["max_per_device", "max_per_phone", "max_per_ip"] {
            if b.rng.chance(0.4) {
                let n = b.rng.range(1, 3);
                let n = b.integer(n);
                t.set(key, n);
            }
        }
        for key in ["shared_device", "rings"] {
            if b.rng.chance(0.4) {
                let v = b.boolean();
                t.set(key, v);
            }
        }
        if b.rng.chance(0.3) {
            let (referees, hours) = (b.rng.range(1, 4), b.rng.range(1, 48));
            t.set("burst", format!("{{ referees = {referees}, hours = {hours} }}"));
        }
        if b.rng.chance(0.3) {
            let days = b.rng.range(1, 10);
            let fen = b.rng.range(0, 20_000);
            let fen = b.threshold(fen);
            let fen = b.money(fen);
            t.set("quiet", format!("{{ days = {days}, max_amount = {fen} }}"));
        }
        doc.tables.push(t);
    }

    let (mut reviews_withdrawals, mut votes) = (false, false);
    let mut amendments = Vec::new();
    if operate {
        (reviews_withdrawals, votes) = operating(&mut b, &mut doc, &mechanisms);
        for _ in 0..b.rng.range(1, 3) {
            amendments.push(amendment(&mut b, &doc));
        }
    }
    let steer = doc.render();
    let keys = usage(&doc);
    match class {
        Class::Refused => refuse(&mut b, &mut doc, margin),
        Class::KeyError => {
            for _ in 0..b.rng.range(1, 2) {
                mistake(&mut b, &mut doc);
            }
        }
        _ => {}
    }
    let text = doc.render();
    let Builder { mut amounts, .. } = b;
    amounts.sort_unstable();
    amounts.dedup();
    Plan {
        text,
        steer,
        class,
        timezone,
        mechanisms,
        antifraud,
        amounts,
        keys,
        amendments,
        reviews_withdrawals,
        votes,
    }
}

/// `notice_days`, `[withdrawal]` and `[vote]`, each now and then; whether withdrawals may wait
/// for review, and whether there is a vote.
fn operating(b: &mut Builder<'_>, doc: &mut Doc, mechanisms: &[Mechanism]) -> (bool, bool) {
    if b.maybe(0.5) {
        let days = b.rng.pick(&[0, 0, 1, 2, 7, 30]);
        let days = b.integer(days);
        doc.top.set("notice_days", days);
    }
    let mut review = false;
    if b.maybe(0.5) {
        let mut t = Table::new("[withdrawal]", None);
        if b.maybe(0.7) {
            let rate = b.rate_in(0, 100_000, 5_000);
            let rate = b.rate(rate);
            t.set("fee_rate", rate);
        }
        if b.maybe(0.5) {
            let id = mechanisms[b.rng.below(mechanisms.len() as u64) as usize].id.clone();
            t.set("fee_to", quote(&id));
        }
        if b.maybe(0.4) {
            let fen = b.rng.pick(&[1, 100, 1_000, 5_000]);
            let fen = b.threshold(fen);
            let fen = b.money(fen);
            t.set("min", fen);
        }
        if b.maybe(0.4) {
            let fen = b.rng.range(1_000, 200_000);
            let fen = b.money(fen);
            t.set("max_per_day", fen);
        }
        if b.maybe(0.6) {
            review = true;
            let fen = b.rng.pick(&[0, 500, 5_000, 20_000]);
            let fen = b.money(fen);
            t.set("review_above", fen);
        }
        doc.tables.push(t);
    }
    let mut votes = false;
    if b.maybe(0.4) {
        votes = true;
        let mut t = Table::new("[vote]", None);
        let days = b.rng.range(1, 3);
        let days = b.integer(days);
        t.set("days", days);
        if b.maybe(0.5) {
            let weight = b.rng.pick(&["member", "spend"]);
            t.set("weight", quote(weight));
        }
        for key in ["quorum", "majority"] {
            if b.maybe(0.5) {
                let share = b.rate_in(0, PPM, 50_000);
                let share = b.rate(share);
                t.set(key, share);
            }
        }
        doc.tables.push(t);
    }
    (review, votes)
}

/// The plan amended: each mechanism kept, with its keys drawn again (its funding kept, or cut
/// or raised), or retired; now and then a new mechanism, another notice, or a plan-wide setting
/// that may not change.
fn amendment(b: &mut Builder<'_>, doc: &Doc) -> String {
    let mut doc = doc.clone();
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for t in std::mem::take(&mut doc.tables) {
        let Some(kind) = t.kind else {
            kept.push(t);
            continue;
        };
        taken.push(t.get("id").unwrap_or_default().trim_matches('"').to_owned());
        match b.rng.below(10) {
            0 => {} // retired
            1..=4 => {
                let mut fresh = Table::new("[[mechanism]]", Some(kind));
                for key in ["id", "kind", "funding_rate", "funding_base", "pause_when_underfunded"] {
                    if let Some(value) = t.get(key) {
                        fresh.set(key, value.to_owned());
                    }
                }
                let mut m = Mechanism::default();
                b.fill(kind, &mut fresh, &mut m);
                kept.push(fresh);
            }
            5 => {
                let mut t = t;
                let rate = b.rate_in(0, 300_000, 10_000);
                let rate = b.rate(rate);
                t.set("funding_rate", rate);
                kept.push(t);
            }
            _ => kept.push(t),
        }
    }
    if b.maybe(0.2) {
        let kind = b.rng.pick(&KINDS);
        let id = mechanism_id(b.rng, kind, &taken);
        let mut t = Table::new("[[mechanism]]", Some(kind));
        t.set("id", quote(&id));
        t.set("kind", quote(kind));
        b.fill(kind, &mut t, &mut Mechanism::default());
        t.set("funding_rate", quote("0"));
        kept.push(t);
    }
    if !kept.iter().any(|t| t.kind.is_some())
        && let Some(first) = doc.tables.first().cloned()
    {
        kept.insert(0, first);
    }
    doc.tables = kept;
    match b.rng.below(20) {
        0 => {
            let days = b.rng.range(0, 10);
            doc.top.set("settle_after_days", days.to_string());
        }
        1 => doc.top.set("clawback", "true".into()),
        2 | 3 => {
            let days = b.rng.pick(&[0, 1, 14]);
            doc.top.set("notice_days", days.to_string());
        }
        _ => {}
    }
    doc.render()
}

/// The keys `doc` sets, with the keys of its inline tables and the forms of a few values that
/// choose a path (`trigger=repurchase`, `steps=percent`, `settle_after_days=0`).
fn usage(doc: &Doc) -> Vec<String> {
    let mut keys = Vec::new();
    for (k, v) in &doc.top.keys {
        match k.as_str() {
            "settle_after_days" => {
                let zero = v.trim_matches('"') == "0";
                keys.push(format!("plan.settle_after_days={}", if zero { "0" } else { "more" }));
            }
            _ => keys.push(format!("plan.{k}")),
        }
    }
    for t in &doc.tables {
        let prefix = t.kind.unwrap_or_else(|| t.header.trim_matches(['[', ']']));
        for (k, v) in &t.keys {
            if matches!(k.as_str(), "id" | "kind") {
                continue;
            }
            keys.push(format!("{prefix}.{k}"));
            keys.extend(inline_keys(v).into_iter().map(|sub| format!("{prefix}.{k}.{sub}")));
            match k.as_str() {
                "trigger" | "pay_to" | "funding_base" | "release" if v.starts_with('"') => {
                    keys.push(format!("{prefix}.{k}={}", v.trim_matches('"')));
                }
                "steps" | "indirect" => {
                    let items =
                        v.trim_matches(['[', ']']).split(',').map(str::trim).filter(|i| !i.is_empty());
                    for item in items {
                        let form = if item.contains('%') { "percent" } else { "fixed" };
                        keys.push(format!("{prefix}.{k}={form}"));
                    }
                }
                _ => {}
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The keys written inside an inline table or an array of them (`{ every = 3, ratio = … }`).
fn inline_keys(value: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find(" = ") {
        let before = &rest[..at];
        let start = before.rfind(|c: char| !(c.is_ascii_lowercase() || c == '_')).map_or(0, |i| i + 1);
        if start < at {
            keys.push(before[start..].to_owned());
        }
        rest = &rest[at + 3..];
    }
    keys
}

/// Puts one compliance error into a valid plan: funding over the margin, a distribution over
/// its budget, a referral reward with no purchase, or a package dearer than its goods.
fn refuse(b: &mut Builder<'_>, doc: &mut Doc, margin: Option<i64>) {
    // New mechanisms go after the last one, before any package or anti-fraud table.
    let after = doc.tables.iter().rposition(|t| t.kind.is_some()).map_or(0, |i| i + 1);
    match b.rng.below(4) {
        0 => {
            // A margin below what the rates add up to (a first rate raised to make sure).
            let first = doc.mechanisms().next().expect("a plan has a mechanism");
            first.set("funding_rate", quote("0.5"));
            first.remove("funding_base");
            let below = margin.map_or(400_000, |m| m.min(490_000));
            doc.top.set("margin_rate", quote(&decimal(below.max(10_000), 6)));
        }
        1 => {
            let dist = doc.mechanisms().find(|t| t.kind == Some("distribution"));
            match dist {
                Some(t) => t.set("funding_rate", quote("0.000001")),
                None => {
                    let mut t = Table::new("[[mechanism]]", Some("distribution"));
                    t.set("id", quote("dist-over"));
                    t.set("kind", quote("distribution"));
                    t.set("funding_rate", quote("0.001"));
                    t.set("levels", "[\"0.01\", \"0.005\"]".into());
                    doc.tables.insert(after, t);
                }
            }
        }
        2 => {
            let rr =
                doc.mechanisms().find(|t| t.kind == Some("refer_refund") && t.get("referee_min").is_some());
            match rr {
                Some(t) => t.set("referee_min", quote("0.00")),
                None => {
                    let mut t = Table::new("[[mechanism]]", Some("refer_refund"));
                    t.set("id", quote("recruit"));
                    t.set("kind", quote("refer_refund"));
                    t.set("funding_rate", quote("0"));
                    t.set("qualify_min", quote("0"));
                    t.set("referee_min", b.rng.pick(&["\"0\"", "0", "\"0.00\""]).into());
                    t.set("steps", "[\"50.00\"]".into());
                    doc.tables.insert(after, t);
                }
            }
        }
        _ => entry_fee(doc),
    }
}

/// A package priced above the goods in it (入门费).
fn entry_fee(doc: &mut Doc) {
    let mut t = Table::new("[[package]]", None);
    t.set("name", quote("入门套餐"));
    t.set("price", quote("399.00"));
    t.set("value", quote("99.00"));
    // Packages come after the mechanisms; an [antifraud] table may follow.
    let at = doc.tables.iter().position(|t| t.header == "[antifraud]").unwrap_or(doc.tables.len());
    doc.tables.insert(at, t);
}

/// Puts one mistake into a plan that the parser must name.
fn mistake(b: &mut Builder<'_>, doc: &mut Doc) {
    let mechanisms = doc.tables.iter().filter(|t| t.kind.is_some() && !t.keys.is_empty()).count();
    if mechanisms == 0 {
        // An earlier mistake took them all away: one more at the top.
        doc.top.set("settle_after_days", "\"soon\"".into());
        return;
    }
    let pick = b.rng.range(0, mechanisms as i64 - 1) as usize;
    let index =
        doc.tables.iter().enumerate().filter(|(_, t)| t.kind.is_some() && !t.keys.is_empty()).nth(pick);
    let index = index.map(|(i, _)| i).expect("counted above");
    let bad_values = [
        "\"-0.5\"",
        "\"1.5\"",
        "true",
        "[1, 2]",
        "\"0.1234567891\"",
        "\"abc\"",
        "{}",
        "\"\"",
        "1e3",
        "\"12,5\"",
        "-1",
        "\"10000000000.01\"",
        "\"101%\"",
        "0x10",
    ];
    match b.rng.below(22) {
        0 => doc.top.set(b.rng.pick(&["settle_days", "margin", "timezon", "colour"]), quote("3")),
        1 => {
            let key = b.rng.pick(&["name", "settle_after_days"]);
            doc.top.remove(key);
        }
        2 => {
            let v = b.rng.pick(&["366", "-1", "\"7.5\"", "\"x\"", "7.0", "1_0"]);
            doc.top.set("settle_after_days", v.into());
        }
        3 => doc.top.set("timezone", b.rng.pick(&["\"+25:00\"", "\"CST\"", "8", "\"+8:00\""]).into()),
        4 => doc.top.set("margin_rate", b.rng.pick(&["\"0\"", "\"1.5\"", "\"abc\"", "0"]).into()),
        // A mechanism key misspelt, or one that does not exist at all.
        5 | 6 => {
            let t = &mut doc.tables[index];
            let (key, value) = t.keys[b.rng.below(t.keys.len() as u64) as usize].clone();
            let typo = if key.len() > 3 && b.rng.chance(0.7) {
                let mut chars: Vec<char> = key.chars().collect();
                let at = b.rng.below(chars.len() as u64) as usize;
                chars.remove(at);
                chars.into_iter().collect()
            } else {
                "bonus_rate".to_owned()
            };
            if typo != key {
                t.remove(&key);
                t.set(&typo, value);
            }
        }
        // A required key missing.
        7 | 8 => {
            let t = &mut doc.tables[index];
            let required: &[&str] = match t.kind {
                Some("appreciation") => &["mint_ratio", "id", "kind", "funding_rate"],
                Some("refer_refund") => &["qualify_min", "steps", "referee_min"],
                Some("queue") => &["release"],
                Some("green_points") => &["tiers", "daily_release_rate"],
                Some("cycle") => &["quota_multiple", "share_unit"],
                Some("ad_tasks") => &["points_per_yuan", "views_per_day", "rewards"],
                Some("loyalty") => &["earn"],
                Some("coalition") => &["partners", "point_cost"],
                _ => &["id", "kind", "funding_rate"],
            };
            let key = b.rng.pick(required);
            t.remove(key);
        }
        // A value of the wrong type, out of range or over-precise.
        9..=12 => {
            let t = &mut doc.tables[index];
            let key = t.keys[b.rng.below(t.keys.len() as u64) as usize].0.clone();
            let value = b.rng.pick(&bad_values);
            t.set(&key, value.into());
        }
        13 => doc.tables[index].set("kind", quote(b.rng.pick(&["appreciate", "Queue", "", "pyramid"]))),
        14 => {
            // Two mechanisms with one id.
            let first =
                doc.tables.iter().find(|t| t.kind.is_some()).and_then(|t| t.get("id")).unwrap_or("\"x\"");
            let mut copy = doc.tables[index].clone();
            copy.set("id", first.to_owned());
            doc.tables.insert(index + 1, copy);
        }
        15 => doc.tables[index].set("id", quote(b.rng.pick(&["a b", "", "x.y", "pool:1"]))),
        // TOML that does not parse.
        16 => {
            let tail = b.rng.pick(&[
                "broken = \"unterminated\n",
                "[[mechanism]\n",
                "name = \"twice\"\n",
                "= 3\n",
                "[antifraud\nmax_per_ip = 1\n",
            ]);
            // `name` again is a duplicate key only at the top, so that one goes first.
            if tail.starts_with("name") {
                doc.top.keys.push(("name".into(), quote("twice")));
            } else {
                doc.tail = tail.into();
            }
        }
        17 => {
            doc.tables.retain(|t| t.kind.is_none());
            doc.top.set("mechanism", "[]".into());
        }
        18 => {
            let mut t = Table::new("[[package]]", None);
            t.set("name", quote("p"));
            t.set("price", b.rng.pick(&["\"0\"", "\"-1.00\"", "\"9.999\""]).into());
            if b.rng.chance(0.5) {
                t.set("value", quote("1.00"));
            }
            doc.tables.push(t);
        }
        19 => {
            let mut t = Table::new("[antifraud]", None);
            match b.rng.below(4) {
                0 => t.set("max_per_devices", "3".into()),
                1 => t.set("burst", "{ referees = 5 }".into()),
                2 => t.set("quiet", "{ days = 0, max_amount = \"1.00\" }".into()),
                _ => t.set("max_per_ip", "0".into()),
            }
            doc.tables.retain(|t| t.header != "[antifraud]");
            doc.tables.push(t);
        }
        // A rule between keys of one kind; a kind without one gets a key of another kind.
        _ => {
            let t = &mut doc.tables[index];
            match t.kind {
                Some("distribution") => {
                    if b.rng.chance(0.5) {
                        t.keys.retain(|(k, _)| !matches!(k.as_str(), "ranks" | "funding_rate" | "id" | "kind"));
                        t.set("peer_rate", quote("0.01"));
                    } else {
                        t.keys.retain(|(k, _)| matches!(k.as_str(), "funding_rate" | "id" | "kind"));
                    }
                }
                Some("loyalty") => match b.rng.below(3) {
                    0 => {
                        t.remove("expiry_days");
                        t.set("reminders", "[30, 7]".into());
                    }
                    1 => t.set(
                        "tiers",
                        "[{ name = \"a\", min_spend = \"10.00\", multiplier = \"1\" }, { name = \"b\", min_points = \"5\", multiplier = \"2\" }]".into(),
                    ),
                    _ => t.set("rewards", "[{ name = \"x\", points = \"1\" }, { name = \"x\", points = \"2\" }]".into()),
                },
                Some("refer_refund") => {
                    if b.rng.chance(0.5) {
                        t.set("trigger", quote("repurchase"));
                        t.set("indirect", quote("10%"));
                    } else {
                        t.set("steps", b.rng.pick(&["[]", "[\"101%\"]", "[\"1e2\"]", "\"10%\""]).into());
                    }
                }
                Some("ad_tasks") => t.set(
                    "rewards",
                    b.rng.pick(&[
                        "[{ from = \"10\", to = \"5\", reward = \"1\" }]",
                        "[{ from = \"10\", reward = \"1\" }, { from = \"5\", reward = \"1\" }]",
                    ])
                    .into(),
                ),
                Some("cycle") => t.set("honor", "{ rate = \"0.01\", levels = [\"5\", \"2\"] }".into()),
                Some("green_points") => t.set("tiers", "[{ min = \"100.00\", multiple = \"0\" }]".into()),
                Some("coalition") => t.set(
                    "partners",
                    "[{ id = \"bank\", earn_per_yuan = \"1\" }, { id = \"bank\", earn_per_yuan = \"2\" }]".into(),
                ),
                Some("queue") => t.set("release", b.rng.pick(&["{ every = 0, ratio = \"0.7\" }", "\"when_full\""]).into()),
                _ => t.set("referee_min", quote("10.00")),
            }
        }
    }
}
