//! The plan file: TOML in, a validated [`Plan`] out, or every mistake with its key and line.
//!
//! The TOML is parsed into a spanned tree and walked by hand rather than through serde derives:
//! that is what lets every error name the key, its line, and what was expected, and lets plan
//! values be written as strings ("0.30") or as TOML numbers (0.30) and still be read exactly,
//! from their source text, never through a float.

use std::fmt;
use std::ops::Range;

use fanli_engine::{
    AdTasksConfig, AntifraudConfig, AppreciationConfig, Band, BonusDay, Burst, Cashout, CoalitionConfig,
    CycleConfig, DistributionConfig, FundingBase, GreenPointsConfig, Honor, KindConfig, LoyaltyConfig,
    LoyaltyTier, MONEY_MAX, MechanismConfig, Money, Package, Partner, PayTo, Plan, Points, QueueConfig,
    Quiet, Rank, Rate, ReferRefundConfig, Release, Reward, Step, Tier, TierMin, TopupBonus, Trigger,
    UtcOffset,
};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One mistake in a plan file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// The line it is on, from 1.
    pub line: usize,
    /// The key's path ("mechanism.r3.steps"), or empty for the file as a whole.
    pub key: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "line {}: `{}` {}", self.line, self.key, self.message)
        }
    }
}

/// All the mistakes found in a plan file, in the order of their lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanErrors(pub Vec<PlanError>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

/// The kinds a plan may name, for messages.
const KINDS: &[&str] = &[
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

/// Rates from 0 to 1, the range of most shares.
const SHARE: std::ops::RangeInclusive<Rate> = Rate::ZERO..=Rate::ONE;

/// Where each key of a plan file is: for messages about a valid plan (`fanli check`).
#[derive(Clone, Debug, Default)]
pub struct KeyLines(Vec<(String, usize)>);

impl KeyLines {
    /// The line of `key` ("mechanism.r3.referee_min"); for a table ("mechanism.r3"), the line of
    /// its first key read; 1 when unknown.
    pub fn line(&self, key: &str) -> usize {
        let exact = self.0.iter().find(|(k, _)| k == key);
        let prefix = format!("{key}.");
        let inside = || self.0.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, l)| *l).min();
        exact.map(|(_, l)| *l).or_else(inside).unwrap_or(1)
    }
}

/// Parses and validates a plan file.
pub fn parse_plan(text: &str) -> Result<Plan, PlanErrors> {
    parse_plan_lines(text).map(|(plan, _)| plan)
}

/// Parses and validates a plan file, and says where each key is.
pub fn parse_plan_lines(text: &str) -> Result<(Plan, KeyLines), PlanErrors> {
    let lines = Lines::new(text);
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let line = e.span().map_or(1, |s| lines.line(s.start));
            let message = format!("is not valid TOML: {}", e.message().trim_end_matches('\n'));
            return Err(PlanErrors(vec![PlanError { line, key: String::new(), message }]));
        }
    };
    let mut cx = Cx { lines, errors: Vec::new(), keys: Vec::new() };
    let plan = cx.plan(&root);
    cx.errors.sort_by_key(|e| e.line);
    match plan {
        Some(plan) if cx.errors.is_empty() => Ok((plan, KeyLines(cx.keys))),
        _ => Err(PlanErrors(cx.errors)),
    }
}

/// Byte offsets to line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(text.match_indices('\n').map(|(i, _)| i).collect())
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

struct Cx {
    lines: Lines,
    errors: Vec<PlanError>,
    /// Every key read, with its line.
    keys: Vec<(String, usize)>,
}

/// A table being read: keys are taken one by one, and whatever is left over is unknown.
struct Table<'t, 'i> {
    table: &'t DeTable<'i>,
    span: Range<usize>,
    path: String,
    taken: Vec<&'static str>,
}

type Value<'t, 'i> = &'t Spanned<DeValue<'i>>;

impl Cx {
    fn error(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let line = self.lines.line(span.start);
        self.errors.push(PlanError { line, key: key.to_owned(), message: message.into() });
    }

    fn plan(&mut self, root: &Spanned<DeTable<'_>>) -> Option<Plan> {
        let mut t = Table::new(root.get_ref(), root.span(), String::new());
        let name = self.required(&mut t, "name", Cx::string);
        let settle_after_days =
            self.required(&mut t, "settle_after_days", |cx, v, k| cx.integer(v, k, 0..=365));
        let timezone = self.optional(&mut t, "timezone", Cx::timezone).or(UtcOffset::CHINA);
        let margin_rate = self.optional(&mut t, "margin_rate", |cx, v, k| {
            cx.rate(v, k, Rate::from_units(1)..=Rate::ONE, "between 0 and 1")
        });
        let pause = self.optional(&mut t, "pause_when_underfunded", Cx::boolean).or(false);
        let clawback = self.optional(&mut t, "clawback", Cx::boolean).or(false);
        let mechanisms =
            self.required(&mut t, "mechanism", |cx, v, k| cx.mechanisms(v, k, pause.unwrap_or(false)));
        let packages = self.optional(&mut t, "package", |cx, v, k| {
            cx.tables(v, k, "[[package]] with name, price and value", |cx, t| {
                let name = cx.required(t, "name", Cx::string);
                let price = cx.required(t, "price", |cx, v, k| cx.positive_money(v, k));
                let value = cx.required(t, "value", |cx, v, k| cx.money(v, k));
                Some(Package { name: name?, price: price?, value: value? })
            })
        });
        let antifraud = self.optional(&mut t, "antifraud", Cx::antifraud);
        self.finish(t);
        Some(Plan {
            name: name?,
            settle_after_days: settle_after_days? as u32,
            timezone: timezone?,
            margin_rate: margin_rate.maybe()?,
            mechanisms: mechanisms?,
            clawback: clawback?,
            packages: packages.or(Vec::new())?,
            antifraud: antifraud.maybe()?,
        })
    }

    /// `pause` is the plan's `pause_when_underfunded`, which a mechanism may override.
    fn mechanisms(&mut self, value: Value<'_, '_>, key: &str, pause: bool) -> Option<Vec<MechanismConfig>> {
        let Some(array) = value.get_ref().as_array() else {
            self.error(&value.span(), key, "must be an array of tables: write each as [[mechanism]]");
            return None;
        };
        if array.is_empty() {
            self.error(&value.span(), key, "is empty: a plan needs at least one mechanism");
            return None;
        }
        let mut ids = Vec::new();
        let mechanisms: Vec<_> =
            array.iter().enumerate().map(|(i, item)| self.mechanism(item, i, &mut ids, pause)).collect();
        mechanisms.into_iter().collect()
    }

    /// One `[[mechanism]]`; `ids` are the ids of the ones before it.
    fn mechanism(
        &mut self,
        value: Value<'_, '_>,
        index: usize,
        ids: &mut Vec<String>,
        pause: bool,
    ) -> Option<MechanismConfig> {
        let Some(table) = value.get_ref().as_table() else {
            self.error(&value.span(), &format!("mechanism[{}]", index + 1), "must be a table");
            return None;
        };
        // Name the mechanism by its id in every message, once it is known.
        let mut t = Table::new(table, value.span(), format!("mechanism[{}]", index + 1));
        let id = self.required(&mut t, "id", |cx, v, k| {
            let id = cx.id(v, k)?;
            if ids.contains(&id) {
                cx.error(
                    &v.span(),
                    &format!("mechanism.{id}.id"),
                    "is used by an earlier mechanism: ids must be unique",
                );
                return None;
            }
            ids.push(id.clone());
            Some(id)
        });
        if let Some(id) = &id {
            t.path = format!("mechanism.{id}");
        }
        let kind = self.required(&mut t, "kind", |cx, v, k| cx.choice(v, k, KINDS));
        // Loyalty and coalition points need no pool unless they cash out: the spec lists no
        // funding_rate for them, so it defaults to 0 there and is required everywhere else.
        let read_rate =
            |cx: &mut Cx, v: Value<'_, '_>, k: &str| cx.rate(v, k, Rate::ZERO..=Rate::ONE, "between 0 and 1");
        let funding_rate = match kind {
            Some("loyalty" | "coalition") => self.optional(&mut t, "funding_rate", read_rate).or(Rate::ZERO),
            _ => self.required(&mut t, "funding_rate", read_rate),
        };
        let funding_base = self
            .optional(&mut t, "funding_base", |cx, v, k| {
                Some(match cx.choice(v, k, &["amount", "profit"])? {
                    "profit" => FundingBase::Profit,
                    _ => FundingBase::Amount,
                })
            })
            .or(FundingBase::Amount);
        let pause = self.optional(&mut t, "pause_when_underfunded", Cx::boolean).or(pause);
        // Without a kind, its keys cannot be told from unknown ones: report nothing more.
        let kind = match kind? {
            "appreciation" => self.appreciation(&mut t).map(KindConfig::Appreciation),
            "refer_refund" => self.refer_refund(&mut t).map(KindConfig::ReferRefund),
            "queue" => self.queue(&mut t).map(KindConfig::Queue),
            "distribution" => self.distribution(&mut t).map(KindConfig::Distribution),
            "green_points" => self.green_points(&mut t).map(KindConfig::GreenPoints),
            "cycle" => self.cycle(&mut t).map(KindConfig::Cycle),
            "ad_tasks" => self.ad_tasks(&mut t).map(KindConfig::AdTasks),
            "loyalty" => self.loyalty(&mut t).map(KindConfig::Loyalty),
            "coalition" => self.coalition(&mut t).map(KindConfig::Coalition),
            _ => unreachable!("choice() only returns listed kinds"),
        };
        self.finish(t);
        Some(MechanismConfig {
            id: id?,
            funding_rate: funding_rate?,
            funding_base: funding_base?,
            pause_when_underfunded: pause?,
            kind: kind?,
        })
    }

    fn appreciation(&mut self, t: &mut Table<'_, '_>) -> Option<AppreciationConfig> {
        let mint_ratio = self.required(t, "mint_ratio", |cx, v, k| {
            cx.rate(v, k, Rate::from_units(1)..=Rate::from_units(10_000_000_000), "above 0 and at most 10")
        });
        let initial_price = self.optional(t, "initial_price", |cx, v, k| {
            cx.rate(
                v,
                k,
                Rate::from_units(100_000)..=Rate::from_units(1_000_000_000_000),
                "between 0.0001 and 1000",
            )
        });
        let sell_fee = self.optional(t, "sell_fee", |cx, v, k| {
            cx.rate(v, k, Rate::ZERO..=Rate::from_units(999_999_999), "at least 0 and below 1")
        });
        let exit_multiple = self.optional(t, "exit_multiple", |cx, v, k| {
            cx.rate(
                v,
                k,
                Rate::from_units(1)..=Rate::from_units(1_000_000_000_000),
                "above 0 and at most 1000",
            )
        });
        Some(AppreciationConfig {
            mint_ratio: mint_ratio?,
            initial_price: initial_price.or(Rate::ONE)?,
            sell_fee: sell_fee.or(Rate::ZERO)?,
            exit_multiple: exit_multiple.maybe()?,
        })
    }

    fn refer_refund(&mut self, t: &mut Table<'_, '_>) -> Option<ReferRefundConfig> {
        let trigger = self
            .optional(t, "trigger", |cx, v, k| {
                Some(match cx.choice(v, k, &["referral", "repurchase"])? {
                    "repurchase" => Trigger::Repurchase,
                    _ => Trigger::Referral,
                })
            })
            .or(Trigger::Referral)?;
        let qualify_min = self.required(t, "qualify_min", |cx, v, k| cx.money(v, k));
        // Repurchase steps count the member's own orders: referees play no part.
        let referee_min = match trigger {
            Trigger::Referral => self.required(t, "referee_min", |cx, v, k| cx.money(v, k)),
            Trigger::Repurchase => Some(Money::ZERO),
        };
        let steps = self.required(t, "steps", |cx, v, k| {
            let Some(array) = v.get_ref().as_array() else {
                cx.error(&v.span(), k, "must be an array such as [\"10%\", \"20%\", \"70%\"]");
                return None;
            };
            if array.is_empty() || array.len() > 100 {
                cx.error(&v.span(), k, "must list 1 to 100 steps");
                return None;
            }
            let steps: Vec<_> = array.iter().map(|s| cx.step(s, k)).collect();
            steps.into_iter().collect::<Option<Vec<Step>>>()
        });
        let repeat = self.optional(t, "repeat", Cx::boolean).or(false);
        let indirect = self.optional(t, "indirect", |cx, v, k| cx.step(v, k));
        let pay_to = self
            .optional(t, "pay_to", |cx, v, k| {
                Some(match cx.choice(v, k, &["wallet", "credit"])? {
                    "credit" => PayTo::Credit,
                    _ => PayTo::Wallet,
                })
            })
            .or(PayTo::Wallet);
        if trigger == Trigger::Repurchase && matches!(indirect, Found::Value(_)) {
            let span = t.span.clone();
            self.error(
                &span,
                &t.key("indirect"),
                "rewards referrals: it does not apply with trigger = \"repurchase\"",
            );
            return None;
        }
        Some(ReferRefundConfig {
            trigger,
            qualify_min: qualify_min?,
            referee_min: referee_min?,
            steps: steps?,
            repeat: repeat?,
            indirect: indirect.maybe()?,
            pay_to: pay_to?,
        })
    }

    fn queue(&mut self, t: &mut Table<'_, '_>) -> Option<QueueConfig> {
        let release = self.required(t, "release", Cx::release);
        // every-n entries are owed `ratio` × the order, so there `credit_ratio` is read (a plan
        // template may carry it) but has no effect.
        let credit_ratio = self.optional(t, "credit_ratio", |cx, v, k| {
            cx.rate(v, k, Rate::from_units(1)..=Rate::from_units(10_000_000_000), "above 0 and at most 10")
        });
        let min_order = self.optional(t, "min_order", |cx, v, k| cx.money(v, k));
        let lock_days = self.optional(t, "lock_days", |cx, v, k| cx.integer(v, k, 0..=3650));
        let acceleration = self.optional(t, "referral_acceleration", |cx, v, k| {
            cx.rate(v, k, Rate::ZERO..=Rate::ONE, "between 0 and 1")
        });
        Some(QueueConfig {
            min_order: min_order.or(Money::ZERO)?,
            credit_ratio: credit_ratio.or(Rate::ONE)?,
            lock_days: lock_days.or(0)? as u32,
            release: release?,
            referral_acceleration: acceleration.or(Rate::ZERO)?,
        })
    }

    fn distribution(&mut self, t: &mut Table<'_, '_>) -> Option<DistributionConfig> {
        let levels = self.optional(t, "levels", |cx, v, k| cx.rates(v, k, 3, "[\"0.003\", \"0.002\"]"));
        let ranks = self.optional(t, "ranks", Cx::ranks);
        let peer_rate =
            self.optional(t, "peer_rate", |cx, v, k| cx.rate(v, k, SHARE, "between 0 and 1")).maybe();
        let regional = self.optional(t, "regional", |cx, v, k| {
            let Some(table) = v.get_ref().as_table() else {
                cx.error(&v.span(), k, "must be a table such as { district = \"0.001\", city = \"0.002\" }");
                return None;
            };
            let mut r = Table::new(table, v.span(), k.to_owned());
            let mut rates = [None, None, None];
            for (slot, level) in rates.iter_mut().zip(["district", "city", "province"]) {
                *slot =
                    cx.optional(&mut r, level, |cx, v, k| cx.rate(v, k, SHARE, "between 0 and 1")).maybe()?;
            }
            cx.finish(r);
            Some(rates)
        });
        let recruiter_rate =
            self.optional(t, "recruiter_rate", |cx, v, k| cx.rate(v, k, SHARE, "between 0 and 1")).maybe();
        let config = DistributionConfig {
            levels: levels.or(Vec::new())?,
            ranks: ranks.or(Vec::new())?,
            peer_rate: peer_rate?,
            regional: regional.or([None; 3])?,
            recruiter_rate: recruiter_rate?,
        };
        let span = t.span.clone();
        if config.peer_rate.is_some() && config.ranks.is_empty() {
            self.error(&span, &t.key("peer_rate"), "needs `ranks`: 平级奖 pays an upline of the same rank");
            return None;
        }
        let pays = !config.levels.is_empty()
            || !config.ranks.is_empty()
            || config.regional.iter().any(Option::is_some)
            || config.recruiter_rate.is_some();
        if !pays {
            self.error(
                &span,
                &t.path,
                "pays nobody: give it `levels`, `ranks`, `regional` or `recruiter_rate`",
            );
            return None;
        }
        Some(config)
    }

    fn green_points(&mut self, t: &mut Table<'_, '_>) -> Option<GreenPointsConfig> {
        let tiers = self.required(t, "tiers", Cx::tiers);
        let daily_release_rate = self.required(t, "daily_release_rate", |cx, v, k| {
            cx.rate(v, k, Rate::from_units(1)..=Rate::ONE, "above 0 and at most 1")
        });
        let share = self.optional(t, "share", |cx, v, k| cx.rates(v, k, 3, "[\"0.50\", \"0.30\"]"));
        let team_ranks = self.optional(t, "team_ranks", Cx::ranks);
        Some(GreenPointsConfig {
            tiers: tiers?,
            daily_release_rate: daily_release_rate?,
            share: share.or(Vec::new())?,
            team_ranks: team_ranks.or(Vec::new())?,
        })
    }

    fn loyalty(&mut self, t: &mut Table<'_, '_>) -> Option<LoyaltyConfig> {
        const MULTIPLIER: std::ops::RangeInclusive<Rate> = Rate::ZERO..=Rate::from_units(100_000_000_000);
        let earn = self.required(t, "earn", |cx, v, k| {
            let mut e = cx.subtable(v, k, "{ per_yuan = \"1\", per_order = \"5\" }")?;
            let per_yuan = cx
                .optional(&mut e, "per_yuan", |cx, v, k| cx.rate(v, k, MULTIPLIER, "between 0 and 100"))
                .or(Rate::ZERO);
            let per_order = cx.optional(&mut e, "per_order", Cx::points).or(Points::ZERO);
            cx.finish(e);
            Some((per_yuan?, per_order?))
        });
        let tiers = self.optional(t, "tiers", |cx, v, k| {
            let tiers = cx.tables(v, k, "{ name = \"金卡\", min_spend = \"5000.00\", multiplier = \"1.5\" }", |cx, t| {
                let name = cx.required(t, "name", Cx::string);
                let spend = cx.optional(t, "min_spend", |cx, v, k| cx.money(v, k)).maybe();
                let points = cx.optional(t, "min_points", Cx::points).maybe();
                let multiplier =
                    cx.required(t, "multiplier", |cx, v, k| cx.rate(v, k, MULTIPLIER, "between 0 and 100"));
                let min = match (spend?, points?) {
                    (Some(spend), None) => TierMin::Spend(spend),
                    (None, Some(points)) => TierMin::Points(points),
                    _ => {
                        let (span, key) = (t.span.clone(), t.path.clone());
                        cx.error(&span, &key, "needs one of `min_spend` (settled spend) or `min_points` (points earned), over a rolling year");
                        return None;
                    }
                };
                Some(LoyaltyTier { name: name?, min, multiplier: multiplier? })
            })?;
            let same = tiers.windows(2).all(|w| std::mem::discriminant(&w[0].min) == std::mem::discriminant(&w[1].min));
            if !same || !tiers.windows(2).all(|w| w[0].min < w[1].min) {
                cx.error(&v.span(), k, "must all use `min_spend` or all `min_points`, lowest first, each higher than the last");
                return None;
            }
            Some(tiers)
        });
        let bonus_days = self.optional(t, "bonus_days", |cx, v, k| {
            cx.table_array(
                v,
                k,
                "{ weekday = \"wednesday\", multiplier = \"2\" }",
                |cx, t| {
                    let weekday = cx.required(t, "weekday", Cx::weekday);
                    let multiplier = cx
                        .required(t, "multiplier", |cx, v, k| cx.rate(v, k, MULTIPLIER, "between 0 and 100"));
                    Some(BonusDay { weekday: weekday?, multiplier: multiplier? })
                },
                |b| b.weekday,
                "weekday",
            )
        });
        let topup_bonus = self.optional(t, "topup_bonus", |cx, v, k| {
            let mut b = cx.subtable(v, k, "{ per = \"100.00\", points = \"2\" }")?;
            // "top up 100, get 2 points": the step may be written `per` or `amount`.
            let per = match cx.optional(&mut b, "amount", |cx, v, k| cx.positive_money(v, k)) {
                Found::Absent => cx.required(&mut b, "per", |cx, v, k| cx.positive_money(v, k)),
                // Both given: `per` is then reported as a key too many.
                found => found.maybe().flatten(),
            };
            let points = cx.required(&mut b, "points", Cx::points);
            cx.finish(b);
            Some(TopupBonus { per: per?, points: points? })
        });
        let referee_rate = self
            .optional(t, "referee_rate", |cx, v, k| cx.rate(v, k, MULTIPLIER, "between 0 and 100"))
            .or(Rate::ZERO);
        let expiry_days = self.optional(t, "expiry_days", |cx, v, k| cx.integer(v, k, 1..=3650)).maybe();
        let reminders = self.optional(t, "reminders", |cx, v, k| {
            let array = v.get_ref().as_array().filter(|a| a.len() <= 10);
            let Some(array) = array else {
                cx.error(&v.span(), k, "must list at most 10 day counts, such as [30, 7]");
                return None;
            };
            let days: Option<Vec<u32>> =
                array.iter().map(|d| cx.integer(d, k, 1..=3650).map(|d| d as u32)).collect();
            days
        });
        let rewards = self.optional(t, "rewards", |cx, v, k| {
            let rewards = cx.tables(v, k, "{ name = \"any drink\", points = \"5\" }", |cx, t| {
                let name = cx.required(t, "name", Cx::string);
                let points = cx.required(t, "points", Cx::positive_points);
                Some(Reward { name: name?, points: points? })
            })?;
            if let Some(dup) =
                rewards.iter().enumerate().find(|(i, r)| rewards[..*i].iter().any(|o| o.name == r.name))
            {
                cx.error(
                    &v.span(),
                    k,
                    format!("lists `{}` twice: a reward's name is how `redeem` names it", dup.1.name),
                );
                return None;
            }
            Some(rewards)
        });
        let cashout = self.optional(t, "cashout", |cx, v, k| {
            let mut c = cx.subtable(v, k, "{ points = \"1000\", amount = \"10.00\" }")?;
            let points = cx.required(&mut c, "points", Cx::positive_points);
            let amount = cx.required(&mut c, "amount", |cx, v, k| cx.money(v, k));
            cx.finish(c);
            Some(Cashout { points: points?, amount: amount? })
        });
        let (per_yuan, per_order) = earn?;
        let config = LoyaltyConfig {
            earn_per_yuan: per_yuan,
            earn_per_order: per_order,
            tiers: tiers.or(Vec::new())?,
            bonus_days: bonus_days.or(Vec::new())?,
            topup_bonus: topup_bonus.maybe()?,
            referee_rate: referee_rate?,
            expiry_days: expiry_days?.map(|d| d as u32),
            reminders: reminders.or(Vec::new())?,
            rewards: rewards.or(Vec::new())?,
            cashout: cashout.maybe()?,
        };
        if !config.reminders.is_empty() && config.expiry_days.is_none() {
            let span = t.span.clone();
            self.error(&span, &t.key("reminders"), "needs `expiry_days`: it reminds of expiries");
            return None;
        }
        Some(config)
    }

    fn coalition(&mut self, t: &mut Table<'_, '_>) -> Option<CoalitionConfig> {
        let partners = self.required(t, "partners", |cx, v, k| {
            let example = "{ id = \"bank\", earn_per_yuan = \"0.1\", bonus = \"0.5\" }";
            let partners = cx.tables(v, k, example, |cx, t| {
                let id = cx.required(t, "id", Cx::id);
                let earn = cx.required(t, "earn_per_yuan", |cx, v, k| {
                    cx.rate(v, k, Rate::ZERO..=Rate::from_units(100_000_000_000), "between 0 and 100")
                });
                let bonus = cx
                    .optional(t, "bonus", |cx, v, k| {
                        cx.rate(v, k, Rate::ZERO..=Rate::from_units(10_000_000_000), "between 0 and 10")
                    })
                    .or(Rate::ZERO);
                Some(Partner { id: id?, earn_per_yuan: earn?, bonus: bonus? })
            })?;
            let twice =
                partners.iter().enumerate().find(|(i, p)| partners[..*i].iter().any(|o| o.id == p.id));
            if let Some((_, dup)) = twice {
                cx.error(&v.span(), k, format!("lists `{}` twice: orders name partners by id", dup.id));
                return None;
            }
            Some(partners)
        });
        let point_cost = self.required(t, "point_cost", |cx, v, k| cx.money(v, k));
        Some(CoalitionConfig { partners: partners?, point_cost: point_cost? })
    }

    fn antifraud(&mut self, value: Value<'_, '_>, key: &str) -> Option<AntifraudConfig> {
        let mut t = self.subtable(value, key, "[antifraud] with max_per_device = 3, …")?;
        let count =
            |cx: &mut Cx, v: Value<'_, '_>, k: &str| cx.integer(v, k, 1..=1_000_000).map(|n| n as u32);
        let max_per_device = self.optional(&mut t, "max_per_device", count).maybe();
        let max_per_phone = self.optional(&mut t, "max_per_phone", count).maybe();
        let max_per_ip = self.optional(&mut t, "max_per_ip", count).maybe();
        let shared_device = self.optional(&mut t, "shared_device", Cx::boolean).or(false);
        let rings = self.optional(&mut t, "rings", Cx::boolean).or(false);
        let burst = self.optional(&mut t, "burst", |cx, v, k| {
            let mut b = cx.subtable(v, k, "{ referees = 5, hours = 24 }")?;
            let referees = cx.required(&mut b, "referees", count);
            let hours = cx.required(&mut b, "hours", |cx, v, k| cx.integer(v, k, 1..=8760).map(|n| n as u32));
            cx.finish(b);
            Some(Burst { referees: referees?, hours: hours? })
        });
        let quiet = self.optional(&mut t, "quiet", |cx, v, k| {
            let mut q = cx.subtable(v, k, "{ days = 30, max_amount = \"99.00\" }")?;
            let days = cx.required(&mut q, "days", |cx, v, k| cx.integer(v, k, 1..=3650).map(|n| n as u32));
            let max_amount = cx.required(&mut q, "max_amount", |cx, v, k| cx.money(v, k));
            cx.finish(q);
            Some(Quiet { days: days?, max_amount: max_amount? })
        });
        self.finish(t);
        Some(AntifraudConfig {
            max_per_device: max_per_device?,
            max_per_phone: max_per_phone?,
            max_per_ip: max_per_ip?,
            shared_device: shared_device?,
            burst: burst.maybe()?,
            quiet: quiet.maybe()?,
            rings: rings?,
        })
    }

    /// A table value, to read keys from.
    fn subtable<'t, 'i>(&mut self, value: Value<'t, 'i>, key: &str, example: &str) -> Option<Table<'t, 'i>> {
        match value.get_ref().as_table() {
            Some(table) => Some(Table::new(table, value.span(), key.to_owned())),
            None => {
                self.error(&value.span(), key, format!("must be a table such as {example}"));
                None
            }
        }
    }

    /// A weekday: `"wednesday"`, `"wed"`, `"周三"`, `"星期三"` or ISO 1 (Monday) to 7 (Sunday); 0 is Monday.
    fn weekday(&mut self, value: Value<'_, '_>, key: &str) -> Option<u8> {
        const NAMES: [[&str; 4]; 7] = [
            ["monday", "mon", "周一", "星期一"],
            ["tuesday", "tue", "周二", "星期二"],
            ["wednesday", "wed", "周三", "星期三"],
            ["thursday", "thu", "周四", "星期四"],
            ["friday", "fri", "周五", "星期五"],
            ["saturday", "sat", "周六", "星期六"],
            ["sunday", "sun", "周日", "星期日"],
        ];
        let found = match value.get_ref() {
            DeValue::String(s) => {
                let lower = s.to_lowercase();
                NAMES.iter().position(|names| names.contains(&lower.as_str()))
            }
            DeValue::Integer(i) => {
                i.as_str().parse::<usize>().ok().filter(|d| (1..=7).contains(d)).map(|d| d - 1)
            }
            _ => None,
        };
        if found.is_none() {
            self.error(
                &value.span(),
                key,
                "must be a weekday such as \"wednesday\", \"周三\" or 3 (1 is Monday)",
            );
        }
        found.map(|d| d as u8)
    }

    fn positive_money(&mut self, value: Value<'_, '_>, key: &str) -> Option<Money> {
        match self.money(value, key)? {
            m if m > Money::ZERO => Some(m),
            _ => {
                self.error(&value.span(), key, "must be positive");
                None
            }
        }
    }

    fn positive_points(&mut self, value: Value<'_, '_>, key: &str) -> Option<Points> {
        match self.points(value, key)? {
            p if p > Points::ZERO => Some(p),
            _ => {
                self.error(&value.span(), key, "must be positive");
                None
            }
        }
    }

    fn ad_tasks(&mut self, t: &mut Table<'_, '_>) -> Option<AdTasksConfig> {
        let points_per_yuan = self.required(t, "points_per_yuan", |cx, v, k| {
            cx.rate(v, k, Rate::ZERO..=Rate::from_units(1_000_000_000_000), "between 0 and 1000")
        });
        let views_per_day = self.required(t, "views_per_day", |cx, v, k| cx.integer(v, k, 1..=10_000));
        let rewards = self.required(t, "rewards", Cx::bands);
        Some(AdTasksConfig {
            points_per_yuan: points_per_yuan?,
            views_per_day: views_per_day? as u32,
            rewards: rewards?,
        })
    }

    /// Reward bands `{ from, reward }` (optionally `to`, the band's last whole point): they must
    /// start at 0 and leave no task points without a reward.
    /// Reward bands `{ from, reward }`, optionally with `to` (the band's last whole point). A
    /// band list that leaves task points without a reward is allowed, and `fanli check` warns.
    fn bands(&mut self, value: Value<'_, '_>, key: &str) -> Option<Vec<Band>> {
        self.table_array(
            value,
            key,
            "{ from = \"1001\", reward = \"20\" }",
            |cx, t| {
                let from = cx.required(t, "from", Cx::points);
                let to = cx.optional(t, "to", Cx::points).maybe();
                let reward = cx.required(t, "reward", Cx::points);
                let (from, to) = (from?, to?);
                if to.is_some_and(|to| to < from) {
                    let (span, k) = (t.span.clone(), t.key("to"));
                    cx.error(&span, &k, "is below `from`: a band runs from `from` to `to`, both included");
                    return None;
                }
                Some(Band { from, to, reward: reward? })
            },
            |b| b.from,
            "from",
        )
    }

    fn cycle(&mut self, t: &mut Table<'_, '_>) -> Option<CycleConfig> {
        let quota_multiple = self.required(t, "quota_multiple", |cx, v, k| {
            cx.rate(v, k, Rate::ZERO..=Rate::from_units(100_000_000_000), "between 0 and 100")
        });
        let share_unit = self.required(t, "share_unit", |cx, v, k| match cx.money(v, k)? {
            unit if unit > Money::ZERO => Some(unit),
            _ => {
                cx.error(&v.span(), k, "must be positive: it is the spend that makes one share");
                None
            }
        });
        let referral_share_rate = self
            .optional(t, "referral_share_rate", |cx, v, k| {
                cx.rate(v, k, Rate::ZERO..=Rate::from_units(10_000_000_000), "between 0 and 10")
            })
            .or(Rate::ZERO);
        let honor = self.optional(t, "honor", |cx, v, k| {
            let Some(table) = v.get_ref().as_table() else {
                cx.error(
                    &v.span(),
                    k,
                    "must be a table such as { rate = \"0.05\", levels = [\"1\", \"2\", \"5\"] }",
                );
                return None;
            };
            let mut h = Table::new(table, v.span(), k.to_owned());
            let rate = cx.required(&mut h, "rate", |cx, v, k| cx.rate(v, k, SHARE, "between 0 and 1"));
            let levels = cx.required(&mut h, "levels", |cx, v, k| {
                let array = v.get_ref().as_array().filter(|a| !a.is_empty() && a.len() <= 10);
                let Some(array) = array else {
                    cx.error(
                        &v.span(),
                        k,
                        "must list 1 to 10 share counts (V1 to V10), such as [\"1\", \"2\", \"5\"]",
                    );
                    return None;
                };
                let levels: Option<Vec<Points>> = array.iter().map(|l| cx.points(l, k)).collect();
                let levels = levels?;
                if !levels.windows(2).all(|w| w[0] < w[1]) || levels[0] <= Points::ZERO {
                    cx.error(&v.span(), k, "must rise from V1 to V10, each above the last and V1 above 0");
                    return None;
                }
                Some(levels)
            });
            cx.finish(h);
            Some(Honor { rate: rate?, levels: levels? })
        });
        Some(CycleConfig {
            quota_multiple: quota_multiple?,
            share_unit: share_unit?,
            referral_share_rate: referral_share_rate?,
            honor: honor.maybe()?,
        })
    }

    /// A list of 1 to `max` rates between 0 and 1.
    fn rates(&mut self, value: Value<'_, '_>, key: &str, max: usize, example: &str) -> Option<Vec<Rate>> {
        let array = value.get_ref().as_array().filter(|a| !a.is_empty() && a.len() <= max);
        let Some(array) = array else {
            self.error(&value.span(), key, format!("must be an array of 1 to {max} rates such as {example}"));
            return None;
        };
        let rates: Vec<_> = array.iter().map(|v| self.rate(v, key, SHARE, "between 0 and 1")).collect();
        rates.into_iter().collect()
    }

    /// An array of tables, each read by `item`, ordered by the key `by` that `order` reads.
    fn table_array<T, K: PartialOrd>(
        &mut self,
        value: Value<'_, '_>,
        key: &str,
        example: &str,
        item: impl FnMut(&mut Cx, &mut Table<'_, '_>) -> Option<T>,
        order: impl Fn(&T) -> K,
        by: &str,
    ) -> Option<Vec<T>> {
        let items = self.tables(value, key, example, item)?;
        if !items.windows(2).all(|w| order(&w[0]) < order(&w[1])) {
            self.error(
                &value.span(),
                key,
                format!("must be listed by `{by}`, lowest first, each higher than the last"),
            );
            return None;
        }
        Some(items)
    }

    /// An array of 1 to 100 tables, each read by `item`.
    fn tables<T>(
        &mut self,
        value: Value<'_, '_>,
        key: &str,
        example: &str,
        mut item: impl FnMut(&mut Cx, &mut Table<'_, '_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let array = value.get_ref().as_array().filter(|a| !a.is_empty() && a.len() <= 100);
        let Some(array) = array else {
            self.error(
                &value.span(),
                key,
                format!("must be an array of 1 to 100 tables such as [{example}]"),
            );
            return None;
        };
        let mut items = Vec::new();
        for (i, v) in array.iter().enumerate() {
            let path = format!("{key}[{}]", i + 1);
            let Some(table) = v.get_ref().as_table() else {
                self.error(&v.span(), &path, format!("must be a table such as {example}"));
                items.push(None);
                continue;
            };
            let mut t = Table::new(table, v.span(), path);
            let read = item(self, &mut t);
            self.finish(t);
            items.push(read);
        }
        items.into_iter().collect()
    }

    fn ranks(&mut self, value: Value<'_, '_>, key: &str) -> Option<Vec<Rank>> {
        let example = "{ name = \"青铜\", min_team_sales = \"800000.00\", rate = \"0.10\" }";
        self.table_array(
            value,
            key,
            example,
            |cx, t| {
                let name = cx.required(t, "name", Cx::string);
                let min = cx.required(t, "min_team_sales", |cx, v, k| cx.money(v, k));
                let rate = cx.required(t, "rate", |cx, v, k| cx.rate(v, k, SHARE, "between 0 and 1"));
                Some(Rank { name: name?, min_team_sales: min?, rate: rate? })
            },
            |r| r.min_team_sales,
            "min_team_sales",
        )
    }

    fn tiers(&mut self, value: Value<'_, '_>, key: &str) -> Option<Vec<Tier>> {
        self.table_array(
            value,
            key,
            "{ min = \"3000.00\", multiple = \"2.5\" }",
            |cx, t| {
                let min = cx.required(t, "min", |cx, v, k| cx.money(v, k));
                let multiple = cx.required(t, "multiple", |cx, v, k| {
                    cx.rate(
                        v,
                        k,
                        Rate::from_units(1)..=Rate::from_units(100_000_000_000),
                        "above 0 and at most 100",
                    )
                });
                Some(Tier { min: min?, multiple: multiple? })
            },
            |t| t.min,
            "min",
        )
    }

    fn release(&mut self, value: Value<'_, '_>, key: &str) -> Option<Release> {
        const EXPECTED: &str = "must be \"when_funded\" or a table such as { every = 3, ratio = \"0.70\" }";
        if let Some(text) = value.get_ref().as_str() {
            if text == "when_funded" {
                return Some(Release::WhenFunded);
            }
            self.error(&value.span(), key, EXPECTED);
            return None;
        }
        let Some(table) = value.get_ref().as_table() else {
            self.error(&value.span(), key, EXPECTED);
            return None;
        };
        let mut t = Table::new(table, value.span(), key.to_owned());
        let every = self.required(&mut t, "every", |cx, v, k| cx.integer(v, k, 1..=1000));
        let ratio = self.required(&mut t, "ratio", |cx, v, k| {
            cx.rate(v, k, Rate::from_units(1)..=Rate::from_units(10_000_000_000), "above 0 and at most 10")
        });
        self.finish(t);
        Some(Release::EveryN { every: every? as u32, ratio: ratio? })
    }

    // ---- keys ----

    /// Takes a key that must be present; `None` when it is missing or invalid (both reported).
    fn required<'t, 'i, T>(
        &mut self,
        t: &mut Table<'t, 'i>,
        key: &'static str,
        read: impl FnOnce(&mut Cx, Value<'t, 'i>, &str) -> Option<T>,
    ) -> Option<T> {
        match self.optional(t, key, read) {
            Found::Value(v) => Some(v),
            Found::Invalid => None,
            Found::Absent => {
                let what = if t.path.is_empty() { "the plan".to_owned() } else { format!("`{}`", t.path) };
                let span = t.span.clone();
                self.error(&span, &t.key(key), format!("is missing: {what} needs it"));
                None
            }
        }
    }

    /// Takes a key that may be absent.
    fn optional<'t, 'i, T>(
        &mut self,
        t: &mut Table<'t, 'i>,
        key: &'static str,
        read: impl FnOnce(&mut Cx, Value<'t, 'i>, &str) -> Option<T>,
    ) -> Found<T> {
        t.taken.push(key);
        let Some(value) = t.table.get(key) else { return Found::Absent };
        self.keys.push((t.key(key), self.lines.line(value.span().start)));
        match read(self, value, &t.key(key)) {
            Some(v) => Found::Value(v),
            None => Found::Invalid,
        }
    }

    /// Reports every key of `t` nobody took.
    fn finish(&mut self, t: Table<'_, '_>) {
        let mut unknown: Vec<_> =
            t.table.iter().filter(|(k, _)| !t.taken.contains(&k.get_ref().as_ref())).collect();
        unknown.sort_by_key(|(k, _)| k.span().start);
        for (key, _) in unknown {
            let name = key.get_ref().as_ref();
            let close = t.taken.iter().find(|known| strsim::levenshtein(known, name) <= 2);
            let hint = match close {
                Some(known) => format!("; did you mean `{known}`?"),
                None => format!(
                    "; expected one of {}",
                    t.taken.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            self.error(&key.span(), &t.key(name), format!("is not a known key{hint}"));
        }
    }

    // ---- values ----

    fn string(&mut self, value: Value<'_, '_>, key: &str) -> Option<String> {
        match value.get_ref().as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.error(
                    &value.span(),
                    key,
                    format!("must be a string, not {}", value.get_ref().type_str()),
                );
                None
            }
        }
    }

    fn id(&mut self, value: Value<'_, '_>, key: &str) -> Option<String> {
        let id = self.string(value, key)?;
        let fine = !id.is_empty() && id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if !fine {
            self.error(
                &value.span(),
                key,
                "must be letters, digits, `_` or `-` (it names accounts and JSON keys)",
            );
            return None;
        }
        Some(id)
    }

    fn choice(&mut self, value: Value<'_, '_>, key: &str, choices: &[&'static str]) -> Option<&'static str> {
        let text = value.get_ref().as_str();
        if let Some(found) = choices.iter().find(|c| Some(**c) == text) {
            return Some(found);
        }
        let list = choices.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        self.error(&value.span(), key, format!("must be one of {list}"));
        None
    }

    fn boolean(&mut self, value: Value<'_, '_>, key: &str) -> Option<bool> {
        let b = value.get_ref().as_bool();
        if b.is_none() {
            self.error(&value.span(), key, "must be true or false");
        }
        b
    }

    /// A whole number, as a TOML integer or, like the rates and amounts, a string ("15").
    fn integer(
        &mut self,
        value: Value<'_, '_>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let text = match value.get_ref() {
            DeValue::Integer(i) if i.radix() == 10 => Some(i.as_str().replace('_', "")),
            DeValue::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                Some(s.to_string())
            }
            _ => None,
        };
        match text.and_then(|t| t.parse::<i64>().ok()) {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.error(
                    &value.span(),
                    key,
                    format!("must be a whole number from {} to {}", range.start(), range.end()),
                );
                None
            }
        }
    }

    fn timezone(&mut self, value: Value<'_, '_>, key: &str) -> Option<UtcOffset> {
        let offset = value.get_ref().as_str().and_then(UtcOffset::parse);
        if offset.is_none() {
            self.error(&value.span(), key, "must be a UTC offset such as \"+08:00\"");
        }
        offset
    }

    /// The source text of a string or number value, so numbers are read exactly.
    fn number_text<'v>(value: &'v DeValue<'_>) -> Option<&'v str> {
        match value {
            DeValue::String(s) => Some(s),
            DeValue::Integer(i) if i.radix() == 10 => Some(i.as_str()),
            DeValue::Float(f) => Some(f.as_str()),
            _ => None,
        }
    }

    fn rate(
        &mut self,
        value: Value<'_, '_>,
        key: &str,
        range: std::ops::RangeInclusive<Rate>,
        expected: &str,
    ) -> Option<Rate> {
        let text = Cx::number_text(value.get_ref());
        match text.map(Rate::parse) {
            Some(Ok(rate)) if range.contains(&rate) => Some(rate),
            Some(Ok(rate)) => {
                self.error(&value.span(), key, format!("is {rate}; it must be {expected}"));
                None
            }
            Some(Err(e)) => {
                self.error(&value.span(), key, format!("{e}: write a rate such as \"0.30\" or \"10%\""));
                None
            }
            None => {
                self.error(&value.span(), key, "must be a rate such as \"0.30\" or \"10%\"");
                None
            }
        }
    }

    fn money(&mut self, value: Value<'_, '_>, key: &str) -> Option<Money> {
        match Cx::number_text(value.get_ref()).map(Money::parse) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                self.error(&value.span(), key, format!("{e}: write an amount such as \"1000.00\""));
                None
            }
            None => {
                self.error(&value.span(), key, "must be an amount such as \"1000.00\"");
                None
            }
        }
    }

    fn points(&mut self, value: Value<'_, '_>, key: &str) -> Option<Points> {
        match Cx::number_text(value.get_ref()).map(Points::parse) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                self.error(&value.span(), key, format!("{e}: write points such as \"12.5\""));
                None
            }
            None => {
                self.error(&value.span(), key, "must be a number of points such as \"12.5\"");
                None
            }
        }
    }

    /// `"10%"` of a base, or a fixed `"50.00"`.
    fn step(&mut self, value: Value<'_, '_>, key: &str) -> Option<Step> {
        let Some(text) = Cx::number_text(value.get_ref()) else {
            self.error(&value.span(), key, "must be a share such as \"10%\" or an amount such as \"50.00\"");
            return None;
        };
        if text.ends_with('%') {
            match Rate::parse(text) {
                Ok(rate) if rate <= Rate::ONE => Some(Step::Percent(rate)),
                Ok(rate) => {
                    self.error(
                        &value.span(),
                        key,
                        format!("has a step of {text} ({rate}); a step refunds at most 100%"),
                    );
                    None
                }
                Err(e) => {
                    self.error(&value.span(), key, format!("has a step \"{text}\" that {e}"));
                    None
                }
            }
        } else {
            match Money::parse(text) {
                Ok(m) if m <= MONEY_MAX => Some(Step::Fixed(m)),
                Ok(_) => unreachable!("Money::parse caps at MONEY_MAX"),
                Err(e) => {
                    self.error(
                        &value.span(),
                        key,
                        format!("has a step \"{text}\" that {e}: write \"10%\" or \"50.00\""),
                    );
                    None
                }
            }
        }
    }
}

/// A key that may be absent, after reading.
enum Found<T> {
    Absent,
    /// Present but wrong (reported).
    Invalid,
    Value(T),
}

impl<T> Found<T> {
    /// The value, or `default` when absent; `None` when invalid.
    fn or(self, default: T) -> Option<T> {
        match self {
            Found::Absent => Some(default),
            Found::Invalid => None,
            Found::Value(v) => Some(v),
        }
    }

    /// `Some(None)` when absent, `None` when invalid.
    fn maybe(self) -> Option<Option<T>> {
        match self {
            Found::Absent => Some(None),
            Found::Invalid => None,
            Found::Value(v) => Some(Some(v)),
        }
    }
}

impl<'t, 'i> Table<'t, 'i> {
    fn new(table: &'t DeTable<'i>, span: Range<usize>, path: String) -> Table<'t, 'i> {
        Table { table, span, path, taken: Vec::new() }
    }

    fn key(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }
}

/// `text` with one key set to `value` (written as a TOML string), for `fanli simulate --sweep`:
/// `key` is `ID.KEY` for a mechanism's key (`appr.mint_ratio`) or a top-level key
/// (`margin_rate`). An existing value is replaced where it stands; a missing key is added after
/// the mechanism's `id` (or at the top). The rest of the file is left byte for byte.
pub fn set_plan_key(text: &str, key: &str, value: &str) -> Result<String, String> {
    let root = DeTable::parse(text).map_err(|e| format!("the plan is not valid TOML: {}", e.message()))?;
    let quoted = serde_json::to_string(value).expect("a string serializes");
    let splice =
        |range: Range<usize>, with: &str| format!("{}{with}{}", &text[..range.start], &text[range.end..]);
    let Some((id, name)) = key.split_once('.') else {
        return Ok(match root.get_ref().get(key) {
            Some(v) => splice(v.span(), &quoted),
            None => format!("{key} = {quoted}\n{text}"),
        });
    };
    let mechanisms = root.get_ref().get("mechanism").and_then(|m| m.get_ref().as_array());
    let mechanism = mechanisms
        .into_iter()
        .flatten()
        .filter_map(|m| m.get_ref().as_table())
        .find(|m| m.get("id").and_then(|v| v.get_ref().as_str()) == Some(id))
        .ok_or_else(|| format!("no mechanism has id `{id}`"))?;
    if let Some(v) = mechanism.get(name) {
        return Ok(splice(v.span(), &quoted));
    }
    let id_end = mechanism.get("id").expect("found by id").span().end;
    let line_end = text[id_end..].find('\n').map_or(text.len(), |i| id_end + i);
    Ok(splice(line_end..line_end, &format!("\n{name} = {quoted}")))
}
