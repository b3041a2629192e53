//! A simulation's risk grade: `low`, `medium`, `high` or `severe` (低, 中, 高, 极高), from three
//! measures taken at the end of the run (docs/risk.md gives the thresholds and why):
//!
//! 1. **Made whole**: the share of members with settled spend who were paid back at least the
//!    lesser of their spend and what the plan promised them (received ≥ min(spent, received +
//!    owed + waiting)): a member to whom nothing more is promised is whole, and so is one paid
//!    back their spend whatever is still promised beyond it.
//! 2. **Unpaid promises**: what is owed by the pools plus what waits on future members' money
//!    ([`waiting`]), as a share of the members' settled spend.
//! 3. **Pool build-up** (资金池): each mechanism's pool beyond what it owes (pool − obligations,
//!    0 when it owes more), summed, as a share of the members' settled spend.
//!
//! Each measure gets a grade by its thresholds; the plan's grade is the worst of the three. Every
//! comparison is exact (integers cross-multiplied), so a share exactly on a threshold is graded
//! the same on every machine.

use fanli_engine::{
    AdTasksStanding, AppreciationStanding, CycleStanding, Engine, Lots, MemberMechanism, Money, Place,
    Progress, ReferRefundConfig, Trigger,
};
use serde_json::{Value, json};

use crate::report::Outcome;

/// A risk grade, from the least to the most serious.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grade {
    /// 低.
    Low,
    /// 中.
    Medium,
    /// 高.
    High,
    /// 极高.
    Severe,
}

impl Grade {
    /// Its stable code: `low`, `medium`, `high`, `severe`.
    pub fn code(self) -> &'static str {
        match self {
            Grade::Low => "low",
            Grade::Medium => "medium",
            Grade::High => "high",
            Grade::Severe => "severe",
        }
    }

    /// The grade of a stable code, as [`Grade::code`] writes it.
    pub fn from_code(code: &str) -> Option<Grade> {
        [Grade::Low, Grade::Medium, Grade::High, Grade::Severe].into_iter().find(|g| g.code() == code)
    }

    /// Its Chinese name: 低, 中, 高, 极高.
    pub fn zh(self) -> &'static str {
        match self {
            Grade::Low => "低",
            Grade::Medium => "中",
            Grade::High => "高",
            Grade::Severe => "极高",
        }
    }

    /// What the grade means, for a regulator, in Chinese and in English (docs/risk.md).
    pub fn sentence(self) -> (&'static str, &'static str) {
        match self {
            Grade::Low => (
                "低风险：模拟中几乎每位消费者都拿到了方案承诺的回报，兑付不依赖后来会员的资金，平台也没有沉淀会员的资金。",
                "Low risk: in the simulation almost every spender received what the plan promised them, payouts do not depend on later members' money, and the platform does not accumulate members' money.",
            ),
            Grade::Medium => (
                "中风险：部分承诺要靠后来会员的消费才能兑付，或平台沉淀了一定的会员资金；上线前应限定承诺、公示资金池，并持续监测。",
                "Medium risk: part of what the plan promises can only be paid from later members' spending, or the platform holds a noticeable amount of members' money; it should cap its promises, publish its pools and be monitored.",
            ),
            Grade::High => (
                "高风险：相当一部分会员的回报要靠后来者的资金支付，或会员资金在资金池中大量沉淀，具有非法集资的典型特征；应修改方案后再上线。",
                "High risk: a large part of members' returns can only be paid with later members' money, or members' money piles up in pools: the typical features of illegal fundraising (非法集资); the plan should be changed before it runs.",
            ),
            Grade::Severe => (
                "极高风险：新会员停止加入后，大多数承诺无法兑付或会员资金主要沉淀在资金池中，兑付依赖后来者的资金，符合庞氏结构和非法集资的特征；不应上线。",
                "Severe risk: once new members stop coming, most of what was promised cannot be paid or members' money sits mostly in pools, and payouts depend on later members' money: the shape of a Ponzi scheme and of illegal fundraising (非法集资); it should not run.",
            ),
        }
    }
}

/// The thresholds, in 1/10000 of a share (basis points): a measure no worse than the first is
/// `low`, than the second `medium`, than the third `high`, and `severe` beyond.
pub mod thresholds {
    /// Made whole: at least 95%, 80%, 50% of the members with spend.
    pub const MADE_WHOLE: [u64; 3] = [9_500, 8_000, 5_000];
    /// Unpaid promises: at most 5%, 20%, 50% of the settled spend.
    pub const UNPAID: [u64; 3] = [500, 2_000, 5_000];
    /// Pool build-up: at most 5%, 15%, 30% of the settled spend.
    pub const POOL_EXCESS: [u64; 3] = [500, 1_500, 3_000];
}

/// The three measures and their grades.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Risk {
    /// The worst of the three.
    pub grade: Grade,
    /// The members' settled spend, what the money measures are shares of.
    pub spend: Money,
    /// Members with settled spend.
    pub spenders: usize,
    /// Of them, made whole (see the module).
    pub made_whole: usize,
    /// Owed by the pools plus waiting on future members, all members.
    pub unpaid: Money,
    /// Members with something owed or waiting.
    pub unpaid_members: usize,
    /// Pools beyond what they owe, summed over the mechanisms.
    pub pool_excess: Money,
}

impl Risk {
    /// Measures a simulation's end state from its members' outcomes.
    pub fn of(engine: &Engine, outcomes: &[Outcome]) -> Risk {
        let spenders: Vec<&Outcome> = outcomes.iter().filter(|o| !o.spent.is_zero()).collect();
        let made_whole = spenders.iter().filter(|o| o.made_whole()).count();
        let spend: Money = spenders.iter().map(|o| o.spent).sum();
        let unpaid: Money = outcomes.iter().map(|o| o.owed + o.waiting).sum();
        let unpaid_members = outcomes.iter().filter(|o| !(o.owed + o.waiting).is_zero()).count();
        let pool_excess: Money =
            engine.mechanism_views().map(|m| (m.pool - m.obligations).max(Money::ZERO)).sum();
        let mut risk = Risk {
            grade: Grade::Low,
            spend,
            spenders: spenders.len(),
            made_whole,
            unpaid,
            unpaid_members,
            pool_excess,
        };
        risk.grade = risk.made_whole_grade().max(risk.unpaid_grade()).max(risk.pool_excess_grade());
        risk
    }

    /// The grade of the share made whole (everyone is whole when nobody spent).
    pub fn made_whole_grade(&self) -> Grade {
        let (part, whole) = (self.made_whole as u128, self.spenders.max(1) as u128);
        let whole_enough = |bp: u64| self.spenders == 0 || part * 10_000 >= whole * bp as u128;
        grade_by(|i| whole_enough(thresholds::MADE_WHOLE[i]))
    }

    /// The grade of the unpaid promises' share of the spend.
    pub fn unpaid_grade(&self) -> Grade {
        grade_by(|i| at_most(self.unpaid, self.spend, thresholds::UNPAID[i]))
    }

    /// The grade of the pools' build-up as a share of the spend.
    pub fn pool_excess_grade(&self) -> Grade {
        grade_by(|i| at_most(self.pool_excess, self.spend, thresholds::POOL_EXCESS[i]))
    }

    /// As `summary.json` holds it, under `risk`.
    pub fn json(&self) -> Value {
        let (zh, en) = self.sentence();
        json!({
            "grade": self.grade.code(),
            "grade_zh": self.grade.zh(),
            "sentence": {"zh": zh, "en": en},
            "spend": self.spend.to_string(),
            "made_whole": self.made_whole,
            "made_whole_share": share(self.made_whole as u128, self.spenders as u128),
            "made_whole_grade": self.made_whole_grade().code(),
            "unpaid": self.unpaid.to_string(),
            "unpaid_members": self.unpaid_members,
            "unpaid_share": share(self.unpaid.fen().max(0) as u128, self.spend.fen().max(0) as u128),
            "unpaid_grade": self.unpaid_grade().code(),
            "pool_excess": self.pool_excess.to_string(),
            "pool_excess_share": share(self.pool_excess.fen().max(0) as u128, self.spend.fen().max(0) as u128),
            "pool_excess_grade": self.pool_excess_grade().code(),
        })
    }

    /// The grade's sentence, then the measures that set it, in Chinese and in English.
    pub fn sentence(&self) -> (String, String) {
        let (zh, en) = self.grade.sentence();
        let spend = self.spend.fen().max(0) as u128;
        let percent = |part: u128, whole: u128| {
            let units = (part * 10_000).checked_div(whole).unwrap_or(0);
            format!("{}.{:02}%", units / 100, units % 100)
        };
        let mut why_zh = Vec::new();
        let mut why_en = Vec::new();
        if self.grade != Grade::Low && self.made_whole_grade() == self.grade {
            let p = percent(self.made_whole as u128, self.spenders as u128);
            why_zh.push(format!("有消费的会员中只有 {p} 回本或拿到了全部承诺"));
            why_en.push(format!("only {p} of the members with spend were made whole"));
        }
        if self.grade != Grade::Low && self.unpaid_grade() == self.grade {
            let p = percent(self.unpaid.fen().max(0) as u128, spend);
            why_zh.push(format!(
                "{} 名会员共 {} 元的承诺尚未兑付、要靠以后的新会员（消费额的 {p}）",
                self.unpaid_members, self.unpaid
            ));
            why_en.push(format!(
                "{} promised to {} members is unpaid and waits on future members ({p} of the spend)",
                self.unpaid, self.unpaid_members
            ));
        }
        if self.grade != Grade::Low && self.pool_excess_grade() == self.grade {
            let p = percent(self.pool_excess.fen().max(0) as u128, spend);
            why_zh.push(format!("资金池沉淀 {} 元，超出所欠（消费额的 {p}）", self.pool_excess));
            why_en
                .push(format!("{} sits in pools beyond what they owe ({p} of the spend)", self.pool_excess));
        }
        if why_en.is_empty() {
            return (zh.to_owned(), en.to_owned());
        }
        (format!("{zh}依据：{}。", why_zh.join("；")), format!("{en} Because {}.", why_en.join("; ")))
    }
}

/// The first grade whose test passes (`test(0)` for low, 1 medium, 2 high), else severe.
fn grade_by(test: impl Fn(usize) -> bool) -> Grade {
    [Grade::Low, Grade::Medium, Grade::High]
        .into_iter()
        .enumerate()
        .find(|&(i, _)| test(i))
        .map_or(Grade::Severe, |(_, g)| g)
}

/// `part ≤ bp/10000 × whole`, exactly (nothing is too much of no spend only if it is nothing).
fn at_most(part: Money, whole: Money, bp: u64) -> bool {
    let (part, whole) = (part.fen().max(0) as i128, whole.fen().max(0) as i128);
    part * 10_000 <= whole * bp as i128
}

/// A share with 4 decimals, rounded down ("0.0280").
fn share(part: u128, whole: u128) -> String {
    let units = (part * 10_000).checked_div(whole).unwrap_or(0);
    format!("{}.{:04}", units / 10_000, units % 10_000)
}

/// What a member's standing in a mechanism promises them that only later money can pay, beyond
/// what the pool formally owes them (`owed`):
/// - a queue: what their waiting entries wait for;
/// - green points: their unreleased points (1 point = 1 yuan);
/// - a cycle: the quota left (the most it will still pay them as dividends of later sales);
/// - ad tasks: their task points (1 point = 1 yuan, released by views);
/// - refer_refund with `trigger = "referral"`: the steps left in the current round on their base
///   (a round complete is paid; the next round, with `repeat`, is an offer, not yet a promise);
///   a repurchase ladder waits on the member's own orders, not on other members, and counts 0;
/// - appreciation (消费增值), for a member holding points: with forced exits, what their points
///   will be worth at the exit price (出局, the plan's promise) beyond their value now; without,
///   their spend not yet back (spend − received − value now). Either is paid only when the price
///   rises, and it rises only with later members' orders;
/// - distribution, loyalty, coalition: 0 (points redeemable now, or commissions already owed).
pub fn waiting(engine: &Engine, standing: &MemberMechanism) -> Money {
    let detail = &standing.detail;
    if let Some(place) = detail.get::<Place>() {
        place.waiting
    } else if let Some(lots) = detail.get::<Lots>() {
        Money::from_fen(lots.points.units() / 100)
    } else if let Some(cycle) = detail.get::<CycleStanding>() {
        cycle.quota
    } else if let Some(ads) = detail.get::<AdTasksStanding>() {
        Money::from_fen(ads.points.units() / 100)
    } else if let Some(a) = detail.get::<AppreciationStanding>() {
        if a.points.is_zero() {
            return Money::ZERO;
        }
        match a.exit_price {
            Some(exit) => (exit.value(a.points) - a.value).max(Money::ZERO),
            None => (a.basis - standing.received - a.value).max(Money::ZERO),
        }
    } else if let Some(progress) = detail.get::<Progress>() {
        let config = engine
            .plan()
            .mechanisms
            .get(standing.mechanism.index())
            .and_then(|m| m.kind.get::<ReferRefundConfig>());
        match (config, progress.base) {
            (Some(c), Some(base)) if c.trigger == Trigger::Referral => {
                c.steps.iter().skip(progress.in_round as usize).map(|s| s.amount(base)).sum()
            }
            _ => Money::ZERO,
        }
    } else {
        Money::ZERO
    }
}
