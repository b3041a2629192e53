//! Compliance: what Chinese law draws as a red line (errors: the plan is refused) and what
//! regulators look at (warnings: shown, allowed). Pure: a [`Plan`] in, [`Finding`]s out, each
//! with the key it is about so that the plan reader can give its line.
//!
//! The rules follow SPEC.md's *Compliance* section and issue 5; each finding explains itself in
//! Chinese and English, in words a merchant understands, and says what to change. The rules
//! about the plan as a whole are here; each kind's own are in its `config.rs` (`Kind::check`).

use crate::num::{Money, Rate};
use crate::plan::{FundingBase, MechanismConfig, Plan};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Allowed, shown: what regulators look at.
    Warning,
    /// Refused: past a legal red line.
    Error,
}

impl Level {
    /// `error` or `warning`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// One compliance finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub level: Level,
    /// A short stable id ("recruiting-alone").
    pub rule: &'static str,
    /// The mechanism it is about, if one.
    pub mechanism: Option<String>,
    /// The plan key it is about ("mechanism.r3.referee_min"), as plan errors name keys.
    pub key: String,
    /// What is wrong and why, in Chinese.
    pub zh: String,
    /// What is wrong and why, in English.
    pub en: String,
    /// What to change.
    pub fix: String,
}

/// Where findings go while a plan is checked: each kind's `check` pushes to it, about the
/// mechanism being checked.
pub struct Findings<'p> {
    plan: &'p Plan,
    mechanism: Option<&'p MechanismConfig>,
    list: Vec<Finding>,
}

impl<'p> Findings<'p> {
    /// The plan being checked.
    pub(crate) fn plan(&self) -> &'p Plan {
        self.plan
    }

    /// The mechanism being checked.
    pub(crate) fn mechanism(&self) -> &'p MechanismConfig {
        self.mechanism.expect("a kind's check runs for a mechanism")
    }

    /// The mechanism's id.
    pub(crate) fn mechanism_id(&self) -> &'p str {
        &self.mechanism().id
    }

    /// The plan key of one of the mechanism's keys ("mechanism.r3.referee_min").
    pub(crate) fn key(&self, key: &str) -> String {
        format!("mechanism.{}.{key}", self.mechanism_id())
    }

    /// The plan key of the mechanism's table ("mechanism.r3").
    pub(crate) fn table(&self) -> String {
        format!("mechanism.{}", self.mechanism_id())
    }

    /// A finding about the mechanism being checked (about the plan, outside a mechanism).
    pub(crate) fn push(
        &mut self,
        level: Level,
        rule: &'static str,
        key: String,
        zh: String,
        en: String,
        fix: String,
    ) {
        let mechanism = self.mechanism.map(|m| m.id.clone());
        self.list.push(Finding { level, rule, mechanism, key, zh, en, fix });
    }

    /// The warning about rewards by team sales (团队计酬), on the mechanism's key `key`.
    pub(crate) fn team_compensation(&mut self, key: &str) {
        self.push(Level::Warning, "team-compensation", self.key(key), team_zh(), team_en(), team_fix());
    }
}

/// Every finding for `plan`, errors first, then in plan order.
pub fn check(plan: &Plan) -> Vec<Finding> {
    let mut findings = Findings { plan, mechanism: None, list: Vec::new() };
    // Funding against the margin: each rate as a share of the order amount, with what a kind
    // takes of each order on top of its funding (a cycle's honor share).
    let margin = plan.margin_rate.unwrap_or(Rate::ONE);
    let total: i64 = plan
        .mechanisms
        .iter()
        .map(|m| {
            let rate = m.funding_rate.units() + m.kind.extra_rate().units();
            match m.funding_base {
                FundingBase::Amount => rate,
                FundingBase::Profit => Money::from_fen(rate).mul_rate(margin).fen(),
            }
        })
        .sum();
    if total > margin.units() {
        let (total, margin) = (Rate::from_units(total), margin);
        let against =
            if plan.margin_rate.is_some() { "margin_rate" } else { "the whole order (no margin_rate)" };
        findings.push(
            Level::Error,
            "over-margin",
            if plan.margin_rate.is_some() { "margin_rate".to_owned() } else { "mechanism".to_owned() },
            format!(
                "各机制的资金比例合计 {total} 超过毛利 {margin}：返利只能来自利润，超出部分要靠后来者的钱支付（庞氏结构）。"
            ),
            format!(
                "the mechanisms' funding rates add up to {total} of each order, more than {against} ({margin}): \
                 rewards beyond the margin can only be paid with later buyers' money"
            ),
            "lower the funding_rate values, or state the real margin_rate".to_owned(),
        );
    }
    for (i, p) in plan.packages.iter().enumerate() {
        if p.price > p.value {
            findings.push(
                Level::Error,
                "entry-fee",
                format!("package[{}].price", i + 1),
                format!(
                    "套餐「{}」售价 {} 高于所含商品价值 {}：差价是变相的入门费，《禁止传销条例》禁止。",
                    p.name, p.price, p.value
                ),
                format!(
                    "package `{}` costs {} for goods worth {}: the difference is an entry fee (入门费), \
                     which the Regulations on Prohibition of Pyramid Selling forbid",
                    p.name, p.price, p.value
                ),
                "price the package at most at the value of its goods".to_owned(),
            );
        }
    }
    for m in &plan.mechanisms {
        findings.mechanism = Some(m);
        m.kind.check(&mut findings);
    }
    let mut findings = findings.list;
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    findings
}

fn team_zh() -> String {
    "按下线团队业绩计酬（团队计酬）：监管部门据此认定传销的重要依据，须确保奖励只来自真实消费且不超过三级。"
        .to_owned()
}

fn team_en() -> String {
    "rewards by the sales of a downline team (团队计酬): regulators treat team compensation as a mark \
     of pyramid selling; make sure it rests on real purchases and stays within 3 levels"
        .to_owned()
}

fn team_fix() -> String {
    "prefer rewards on a member's own direct referrals' purchases, or keep team rates small".to_owned()
}

/// Whether `findings` has an error.
pub fn refused(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.level == Level::Error)
}
