//! A scenario: how members behave. Read from TOML (every key optional, each with the built-in
//! default's value), or the built-in default itself.
//!
//! Probabilities are read as decimals and kept as parts per million, so that a run draws only
//! integers from its seeded generator: the same scenario and seed give the same bytes on every
//! machine.

use serde::Deserialize;

/// The built-in default scenario, as TOML (`fanli simulate --example` prints it).
pub const DEFAULT: &str = r#"# A year of a platform's life: arrivals grow to a peak, decline, then stop.
# Every key is optional; a missing one takes the value shown here.
seed = 42
days = 365

[arrivals]                # new members a day: a straight line between each pair of points
# table = [10, 12, 15]    # or: day by day from day 1 (none after the last)
start = 10                # on day 1
peak = 150                # on peak_day
peak_day = 120
end = 20                  # on decline_day, down from the peak
decline_day = 270
stop_day = 300            # no arrivals from this day on

[members]
referral = 0.6            # a newcomer was referred by an existing member
recent_referrers = 0.7    # ... by one of the last 2,000 to join, rather than anyone
first_order = 0.9         # a newcomer buys on the day they join
repeat = 0.01             # each member buys again on a given day
refund = 0.02             # an order is refunded the next day
fraud = 0.0               # a referral shares its referrer's device (anti-fraud rules may hold it)
redeem = 0.005            # each buyer redeems a loyalty reward or coalition points on a given day
partner = 0.3             # an order is placed at a coalition partner (when the plan has one)

[orders]                  # order amounts: "fixed", "uniform", "lognormal" or "table"
kind = "uniform"
min = "99.00"
max = "2000.00"
# kind = "table"; table = [["399.00", 3], ["999.00", 1]]   (amount, weight)
# kind = "lognormal"; median = "300.00"; sigma = "0.8"; max = "20000.00"

[selling]                 # appreciation points: "hold", "multiple" (sell all at k× spend) or "panic"
strategy = "multiple"
multiple = "1.5"          # with "multiple"
growth = "0.01"           # with "panic": sell all when the price grew less than this in 7 days
checks = 0.05             # the share of holders who look at their points on a given day

[ads]
viewers = 0.05            # the share of members who view ads on a given day
views = 2                 # the ads each of them views (at most the plan's views_per_day)
"#;

/// A scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The generator's seed.
    pub seed: u64,
    /// Days simulated.
    pub days: u32,
    /// New members a day.
    pub arrivals: Arrivals,
    /// Parts per million.
    pub referral: u32,
    /// Parts per million.
    pub recent_referrers: u32,
    /// Parts per million.
    pub first_order: u32,
    /// Parts per million.
    pub repeat: u32,
    /// Parts per million.
    pub refund: u32,
    /// Parts per million.
    pub fraud: u32,
    /// Parts per million of buyers redeeming on a day.
    pub redeem: u32,
    /// Parts per million of orders placed at a coalition partner.
    pub partner: u32,
    /// Order amounts.
    pub orders: Amounts,
    /// What appreciation holders do.
    pub selling: Selling,
    /// Parts per million of holders checking on a day.
    pub checks: u32,
    /// Parts per million of members viewing ads on a day.
    pub viewers: u32,
    /// Ads viewed by each viewer.
    pub views: u32,
}

/// New members a day, a straight line between points, none from `stop_day`; or a table.
#[derive(Clone, Debug)]
pub struct Arrivals {
    /// Newcomers on each day from day 1, when given as a table (the curve is then unused); none
    /// after its last day.
    pub table: Option<Vec<u32>>,
    /// On day 1.
    pub start: u32,
    /// On `peak_day`.
    pub peak: u32,
    /// The peak's day.
    pub peak_day: u32,
    /// On `decline_day`.
    pub end: u32,
    /// Where the decline ends.
    pub decline_day: u32,
    /// No arrivals from this day.
    pub stop_day: u32,
}

impl Arrivals {
    /// Newcomers on `day` (from 1).
    pub fn on(&self, day: u32) -> u32 {
        if let Some(table) = &self.table {
            return table.get(day as usize - 1).copied().unwrap_or(0);
        }
        let line = |from_day: u32, from: u32, to_day: u32, to: u32| -> u32 {
            if to_day <= from_day {
                return to;
            }
            let t = (day - from_day) as i64;
            (from as i64 + (to as i64 - from as i64) * t / (to_day - from_day) as i64) as u32
        };
        if day >= self.stop_day {
            0
        } else if day <= self.peak_day {
            line(1, self.start, self.peak_day, self.peak)
        } else if day <= self.decline_day {
            line(self.peak_day, self.peak, self.decline_day, self.end)
        } else {
            self.end
        }
    }
}

/// Order amounts, in fen.
#[derive(Clone, Debug)]
pub enum Amounts {
    /// Always this.
    Fixed(i64),
    /// Uniform between the two, to the fen.
    Uniform(i64, i64),
    /// (amount, weight) pairs.
    Table(Vec<(i64, u32)>),
    /// Lognormal: `median × e^(sigma × Z)`, Z standard normal, at most `max` (sigma in 1/10^9).
    Lognormal {
        /// The median, in fen.
        median: i64,
        /// The spread of the logarithm, in 1/10^9.
        sigma: i64,
        /// The largest amount, in fen.
        max: i64,
    },
}

/// What an appreciation holder does when they look at their points.
#[derive(Clone, Copy, Debug)]
pub enum Selling {
    /// Never sells (forced exits still happen).
    Hold,
    /// Sells everything once the points are worth this many times their spend (in 1/10^9).
    Multiple(i64),
    /// Sells everything when the price grew less than this share in 7 days (in 1/10^9).
    Panic(i64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    seed: Option<u64>,
    days: Option<u32>,
    arrivals: Option<ArrivalsFile>,
    members: Option<MembersFile>,
    orders: Option<OrdersFile>,
    selling: Option<SellingFile>,
    ads: Option<AdsFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArrivalsFile {
    start: Option<u32>,
    peak: Option<u32>,
    peak_day: Option<u32>,
    end: Option<u32>,
    decline_day: Option<u32>,
    stop_day: Option<u32>,
    table: Option<Vec<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersFile {
    referral: Option<f64>,
    recent_referrers: Option<f64>,
    first_order: Option<f64>,
    repeat: Option<f64>,
    refund: Option<f64>,
    fraud: Option<f64>,
    redeem: Option<f64>,
    partner: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrdersFile {
    kind: Option<String>,
    amount: Option<String>,
    min: Option<String>,
    max: Option<String>,
    table: Option<Vec<(String, u32)>>,
    median: Option<String>,
    sigma: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SellingFile {
    strategy: Option<String>,
    multiple: Option<String>,
    growth: Option<String>,
    checks: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdsFile {
    viewers: Option<f64>,
    views: Option<u32>,
}

impl Scenario {
    /// The built-in default.
    pub fn default_scenario() -> Scenario {
        Scenario::parse(DEFAULT).expect("the built-in scenario is valid")
    }

    /// The built-in default at a tenth of its arrivals (about 2,600 members over the year):
    /// what `fanli check` simulates for its sustainability estimate, in well under a second.
    pub fn check_scenario() -> Scenario {
        let mut scenario = Scenario::default_scenario();
        let a = &mut scenario.arrivals;
        for count in [&mut a.start, &mut a.peak, &mut a.end] {
            *count = (*count / 10).max(1);
        }
        scenario
    }

    /// Reads a scenario file; what it leaves out is the default's.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let a = file.arrivals.unwrap_or(ArrivalsFile {
            start: None,
            peak: None,
            peak_day: None,
            end: None,
            decline_day: None,
            stop_day: None,
            table: None,
        });
        let arrivals = Arrivals {
            table: a.table,
            start: a.start.unwrap_or(10),
            peak: a.peak.unwrap_or(150),
            peak_day: a.peak_day.unwrap_or(120).max(1),
            end: a.end.unwrap_or(20),
            decline_day: a.decline_day.unwrap_or(270),
            stop_day: a.stop_day.unwrap_or(300),
        };
        if arrivals.decline_day < arrivals.peak_day {
            return Err("arrivals.decline_day must not come before arrivals.peak_day".to_owned());
        }
        let m = file.members.unwrap_or(MembersFile {
            referral: None,
            recent_referrers: None,
            first_order: None,
            repeat: None,
            refund: None,
            fraud: None,
            redeem: None,
            partner: None,
        });
        let ppm = |key: &str, value: Option<f64>, default: f64| -> Result<u32, String> {
            let value = value.unwrap_or(default);
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("`{key}` is {value}: a probability is between 0 and 1"));
            }
            Ok((value * 1e6).round() as u32)
        };
        let o = file.orders.unwrap_or(OrdersFile {
            kind: None,
            amount: None,
            min: None,
            max: None,
            table: None,
            median: None,
            sigma: None,
        });
        let fen = |key: &str, text: Option<&str>, default: &str| -> Result<i64, String> {
            let text = text.unwrap_or(default);
            match fanli_engine::Money::parse(text) {
                Ok(m) if m.fen() > 0 => Ok(m.fen()),
                _ => Err(format!("`{key}` is {text:?}: write a positive amount such as \"99.00\"")),
            }
        };
        let orders = match o.kind.as_deref().unwrap_or("uniform") {
            "fixed" => Amounts::Fixed(fen("orders.amount", o.amount.as_deref(), "999.00")?),
            "uniform" => {
                let (min, max) = (
                    fen("orders.min", o.min.as_deref(), "99.00")?,
                    fen("orders.max", o.max.as_deref(), "2000.00")?,
                );
                if max < min {
                    return Err("orders.max is below orders.min".to_owned());
                }
                Amounts::Uniform(min, max)
            }
            "table" => {
                let rows = o.table.ok_or("orders.table is missing: [[\"399.00\", 3], …]")?;
                let rows: Result<Vec<_>, String> =
                    rows.iter().map(|(a, w)| Ok((fen("orders.table", Some(a), "")?, *w))).collect();
                let rows = rows?;
                if rows.iter().map(|r| r.1 as u64).sum::<u64>() == 0 {
                    return Err("orders.table needs a positive weight".to_owned());
                }
                Amounts::Table(rows)
            }
            "lognormal" => {
                let sigma = fanli_engine::Rate::parse(o.sigma.as_deref().unwrap_or("0.8"))
                    .map_err(|e| format!("`orders.sigma` {e}"))?
                    .units();
                if sigma > 2_000_000_000 {
                    return Err("`orders.sigma` is at most 2".to_owned());
                }
                Amounts::Lognormal {
                    median: fen("orders.median", o.median.as_deref(), "300.00")?,
                    sigma,
                    max: fen("orders.max", o.max.as_deref(), "100000.00")?,
                }
            }
            other => {
                return Err(format!(
                    "orders.kind is {other:?}: one of \"fixed\", \"uniform\", \"lognormal\", \"table\""
                ));
            }
        };
        let s = file.selling.unwrap_or(SellingFile {
            strategy: None,
            multiple: None,
            growth: None,
            checks: None,
        });
        let rate = |key: &str, text: Option<&str>, default: &str| -> Result<i64, String> {
            let text = text.unwrap_or(default);
            fanli_engine::Rate::parse(text).map(|r| r.units()).map_err(|e| format!("`{key}` {e}"))
        };
        let selling = match s.strategy.as_deref().unwrap_or("multiple") {
            "hold" => Selling::Hold,
            "multiple" => Selling::Multiple(rate("selling.multiple", s.multiple.as_deref(), "1.5")?),
            "panic" => Selling::Panic(rate("selling.growth", s.growth.as_deref(), "0.01")?),
            other => {
                return Err(format!(
                    "selling.strategy is {other:?}: one of \"hold\", \"multiple\", \"panic\""
                ));
            }
        };
        let ads = file.ads.unwrap_or(AdsFile { viewers: None, views: None });
        Ok(Scenario {
            seed: file.seed.unwrap_or(42),
            days: file.days.unwrap_or(365).clamp(1, 3650),
            arrivals,
            referral: ppm("members.referral", m.referral, 0.6)?,
            recent_referrers: ppm("members.recent_referrers", m.recent_referrers, 0.7)?,
            first_order: ppm("members.first_order", m.first_order, 0.9)?,
            repeat: ppm("members.repeat", m.repeat, 0.01)?,
            refund: ppm("members.refund", m.refund, 0.02)?,
            fraud: ppm("members.fraud", m.fraud, 0.0)?,
            redeem: ppm("members.redeem", m.redeem, 0.005)?,
            partner: ppm("members.partner", m.partner, 0.3)?,
            orders,
            selling,
            checks: ppm("selling.checks", s.checks, 0.05)?,
            viewers: ppm("ads.viewers", ads.viewers, 0.05)?,
            views: ads.views.unwrap_or(2),
        })
    }
}
