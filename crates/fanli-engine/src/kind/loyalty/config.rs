//! A loyalty mechanism's settings: its plan keys.

use crate::headroom::{Growth, most, up};
use crate::keys::{Found, Reader, Table, Value};
use crate::kind::{Lowered, Settings};
use crate::num::{Money, Points, Rate};
use crate::terms::Reach;

/// Settings of a loyalty mechanism (积分 / 会员等级).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct LoyaltyConfig {
    /// Points per yuan of a settled order.
    pub earn_per_yuan: Rate,
    /// Points per settled order.
    pub earn_per_order: Points,
    /// Tiers over a rolling year, lowest first: a tier multiplies what an order earns.
    pub tiers: Vec<LoyaltyTier>,
    /// Weekdays on which orders earn more.
    pub bonus_days: Vec<BonusDay>,
    /// Points for topping up store credit (储值).
    pub topup_bonus: Option<TopupBonus>,
    /// Points per yuan a direct referee's settled order earns the referrer.
    pub referee_rate: Rate,
    /// Days after which a lot of points expires; `None`: never.
    pub expiry_days: Option<u32>,
    /// Days before an expiry to remind the member.
    pub reminders: Vec<u32>,
    /// The rewards catalogue.
    pub rewards: Vec<Reward>,
    /// Cash-out rate: `points` points → `amount` into the wallet, from the pool.
    pub cashout: Option<Cashout>,
}

/// A loyalty tier.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct LoyaltyTier {
    /// Its name ("金卡").
    pub name: String,
    /// What qualifies a member for it, over the rolling year.
    pub min: TierMin,
    /// What it multiplies an order's points by.
    pub multiplier: Rate,
}

/// What qualifies a member for a loyalty tier over the rolling year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum TierMin {
    /// Settled spend (`min_spend`).
    Spend(Money),
    /// Points earned by orders (`min_points`), not the balance.
    Points(Points),
}

/// A weekday on which orders earn more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct BonusDay {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// The multiplier.
    pub multiplier: Rate,
}

/// Points for every whole `per` of a top-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct TopupBonus {
    /// The top-up step (positive).
    pub per: Money,
    /// Points per step.
    pub points: Points,
}

/// A reward of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Reward {
    /// Its name, as `redeem` events give it.
    pub name: String,
    /// What it costs.
    pub points: Points,
}

/// The cash-out rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Cashout {
    /// Points (positive) …
    pub points: Points,
    /// … for this much cash.
    pub amount: Money,
}

/// Multipliers: from 0 to 100.
const MULTIPLIER: std::ops::RangeInclusive<Rate> = Rate::ZERO..=Rate::from_units(100_000_000_000);

fn tiers(r: &mut Reader, v: &Value, k: &str) -> Option<Vec<LoyaltyTier>> {
    let tiers = r.tables(v, k, "{ name = \"金卡\", min_spend = \"5000.00\", multiplier = \"1.5\" }", |r, t| {
        let name = r.required(t, "name", Reader::string);
        let spend = r.optional(t, "min_spend", |r, v, k| r.money(v, k)).maybe();
        let points = r.optional(t, "min_points", Reader::points).maybe();
        let multiplier = r.required(t, "multiplier", |r, v, k| r.rate(v, k, MULTIPLIER, "between 0 and 100"));
        let min = match (spend?, points?) {
            (Some(spend), None) => TierMin::Spend(spend),
            (None, Some(points)) => TierMin::Points(points),
            _ => {
                let key = t.path.clone();
                r.table_error(
                    t,
                    &key,
                    "needs one of `min_spend` (settled spend) or `min_points` (points earned), over a rolling year",
                );
                return None;
            }
        };
        Some(LoyaltyTier { name: name?, min, multiplier: multiplier? })
    })?;
    let same =
        tiers.windows(2).all(|w| std::mem::discriminant(&w[0].min) == std::mem::discriminant(&w[1].min));
    if !same || !tiers.windows(2).all(|w| w[0].min < w[1].min) {
        r.error(
            v.line,
            k,
            "must all use `min_spend` or all `min_points`, lowest first, each higher than the last",
        );
        return None;
    }
    Some(tiers)
}

/// A weekday: `"wednesday"`, `"wed"`, `"周三"`, `"星期三"` or ISO 1 (Monday) to 7 (Sunday); 0 is Monday.
fn weekday(r: &mut Reader, value: &Value, key: &str) -> Option<u8> {
    const NAMES: [[&str; 4]; 7] = [
        ["monday", "mon", "周一", "星期一"],
        ["tuesday", "tue", "周二", "星期二"],
        ["wednesday", "wed", "周三", "星期三"],
        ["thursday", "thu", "周四", "星期四"],
        ["friday", "fri", "周五", "星期五"],
        ["saturday", "sat", "周六", "星期六"],
        ["sunday", "sun", "周日", "星期日"],
    ];
    let found = match (r.text_of(value), r.integer_text(value)) {
        (Some(s), _) => {
            let lower = s.to_lowercase();
            NAMES.iter().position(|names| names.contains(&lower.as_str()))
        }
        (_, Some(i)) => i.parse::<usize>().ok().filter(|d| (1..=7).contains(d)).map(|d| d - 1),
        _ => None,
    };
    if found.is_none() {
        r.error(value.line, key, "must be a weekday such as \"wednesday\", \"周三\" or 3 (1 is Monday)");
    }
    found.map(|d| d as u8)
}

impl Settings for LoyaltyConfig {
    /// Loyalty points need no pool unless they are cashed out.
    const FUNDING_OPTIONAL: bool = true;

    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let earn = r.required(t, "earn", |r, v, k| {
            let mut e = r.subtable(v, k, "{ per_yuan = \"1\", per_order = \"5\" }")?;
            let per_yuan = r
                .optional(&mut e, "per_yuan", |r, v, k| r.rate(v, k, MULTIPLIER, "between 0 and 100"))
                .or(Rate::ZERO);
            let per_order = r.optional(&mut e, "per_order", Reader::points).or(Points::ZERO);
            r.finish(e);
            Some((per_yuan?, per_order?))
        });
        let tiers = r.optional(t, "tiers", tiers);
        let bonus_days = r.optional(t, "bonus_days", |r, v, k| {
            r.table_array(
                v,
                k,
                "{ weekday = \"wednesday\", multiplier = \"2\" }",
                |r, t| {
                    let weekday = r.required(t, "weekday", weekday);
                    let multiplier =
                        r.required(t, "multiplier", |r, v, k| r.rate(v, k, MULTIPLIER, "between 0 and 100"));
                    Some(BonusDay { weekday: weekday?, multiplier: multiplier? })
                },
                |b| b.weekday,
                "weekday",
            )
        });
        let topup_bonus = r.optional(t, "topup_bonus", |r, v, k| {
            let mut b = r.subtable(v, k, "{ per = \"100.00\", points = \"2\" }")?;
            // "top up 100, get 2 points": the step may be written `per` or `amount`.
            let per = match r.optional(&mut b, "amount", |r, v, k| r.positive_money(v, k)) {
                Found::Absent => r.required(&mut b, "per", |r, v, k| r.positive_money(v, k)),
                // Both given: `per` is then reported as a key too many.
                found => found.maybe().flatten(),
            };
            let points = r.required(&mut b, "points", Reader::points);
            r.finish(b);
            Some(TopupBonus { per: per?, points: points? })
        });
        let referee_rate = r
            .optional(t, "referee_rate", |r, v, k| r.rate(v, k, MULTIPLIER, "between 0 and 100"))
            .or(Rate::ZERO);
        let expiry_days = r.optional(t, "expiry_days", |r, v, k| r.integer(v, k, 1..=3650)).maybe();
        let reminders = r.optional(t, "reminders", |r, v, k| {
            let items = r.array(v, k, 0..=10, "must list at most 10 day counts, such as [30, 7]")?;
            items.iter().map(|d| r.integer(d, k, 1..=3650).map(|d| d as u32)).collect::<Option<Vec<u32>>>()
        });
        let rewards = r.optional(t, "rewards", |r, v, k| {
            let rewards = r.tables(v, k, "{ name = \"any drink\", points = \"5\" }", |r, t| {
                let name = r.required(t, "name", Reader::string);
                let points = r.required(t, "points", Reader::positive_points);
                Some(Reward { name: name?, points: points? })
            })?;
            if let Some(dup) =
                rewards.iter().enumerate().find(|(i, r)| rewards[..*i].iter().any(|o| o.name == r.name))
            {
                r.error(
                    v.line,
                    k,
                    format!("lists `{}` twice: a reward's name is how `redeem` names it", dup.1.name),
                );
                return None;
            }
            Some(rewards)
        });
        let cashout = r.optional(t, "cashout", |r, v, k| {
            let mut c = r.subtable(v, k, "{ points = \"1000\", amount = \"10.00\" }")?;
            let points = r.required(&mut c, "points", Reader::positive_points);
            let amount = r.required(&mut c, "amount", |r, v, k| r.money(v, k));
            r.finish(c);
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
            r.table_error(t, &t.key("reminders"), "needs `expiry_days`: it reminds of expiries");
            return None;
        }
        Some(config)
    }

    fn assert_valid(&self) {
        let l = self;
        assert!(l.topup_bonus.is_none_or(|t| t.per > Money::ZERO), "topup per is positive");
        assert!(l.cashout.is_none_or(|c| c.points > Points::ZERO), "cashout points");
        assert!(l.tiers.is_sorted_by_key(|t| t.min), "tiers sorted");
    }

    fn reach(&self) -> Reach {
        Reach { depth: 1, ..Reach::default() }
    }

    /// An order's points at the highest tier on the best bonus day, and the referrer's.
    fn growth(&self) -> Growth {
        let l = self;
        let tier = most(l.tiers.iter().map(|t| t.multiplier));
        let bonus = most(l.bonus_days.iter().map(|b| b.multiplier));
        let boosted = |units: u128| up(up(units, tier), bonus);
        Growth {
            per_fen: 1 + boosted(up(100, l.earn_per_yuan)) + up(100, l.referee_rate),
            per_order: boosted(l.earn_per_order.units().max(0) as u128),
            per_largest: 0,
        }
    }

    /// `topup_bonus` points per whole step of the top-up.
    fn topup_growth(&self, amount: Money) -> u128 {
        let l = self;
        l.topup_bonus.map_or(0, |b| {
            let steps = (amount.fen() / b.per.fen()).max(0) as u128;
            steps.saturating_mul(b.points.units().max(0) as u128)
        })
    }

    fn lowers(&self, old: &Self) -> bool {
        let l = Lowered::default().higher(&old.earn_per_yuan, &self.earn_per_yuan);
        let l = l.higher(&old.earn_per_order, &self.earn_per_order).same(&old.tiers, &self.tiers);
        let l = l.same(&old.bonus_days, &self.bonus_days).same(&old.topup_bonus, &self.topup_bonus);
        let l = l.higher(&old.referee_rate, &self.referee_rate).same(&old.rewards, &self.rewards);
        l.same(&old.cashout, &self.cashout).0
    }

    fn fixed(&self, old: &Self) -> Option<&'static str> {
        // Lots expire, and reminders go out, in the order they were granted under these.
        (self.expiry_days != old.expiry_days || self.reminders != old.reminders)
            .then_some("expiry_days and reminders (when granted lots expire)")
    }
}
