//! Compliance: what Chinese law draws as a red line (errors: the plan is refused) and what
//! regulators look at (warnings: shown, allowed). Pure: a [`Plan`] in, [`Finding`]s out, each
//! with the key it is about so that the plan reader can give its line.
//!
//! The rules follow SPEC.md's *Compliance* section and issue 5; each finding explains itself in
//! Chinese and English, in words a merchant understands, and says what to change. The rules
//! about the plan as a whole are here; each kind's own are in its `config.rs` (`Kind::check`).

use crate::findings::Checked;
pub use crate::findings::{Finding, Findings, Level};
use crate::num::{Money, Rate};
use crate::plan::{FundingBase, Plan};

/// Every finding for `plan`, errors first, then in plan order.
pub fn check(plan: &Plan) -> Vec<Finding> {
    let mut findings =
        Findings { plan_name: &plan.name, margin_rate: plan.margin_rate, mechanism: None, list: Vec::new() };
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
    if plan.margin_rate.is_none() && total > 0 {
        findings.push(
            Level::Warning,
            "no-margin",
            "margin_rate".to_owned(),
            format!(
                "计划没有写明毛利率 margin_rate：无法判断各机制的资金比例合计 {} 是否超出利润，现在只按订单全额检查。",
                Rate::from_units(total)
            ),
            format!(
                "the plan states no margin_rate, so its funding rates (together {} of each order) cannot \
                 be compared with the margin: they are only checked against the whole order amount",
                Rate::from_units(total)
            ),
            "set margin_rate to the gross margin of what is sold, such as margin_rate = \"0.30\"".to_owned(),
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
        findings.mechanism =
            Some(Checked { id: &m.id, funding_rate: m.funding_rate, funding_base: m.funding_base });
        m.kind.check(&mut findings);
    }
    let mut findings = findings.list;
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    findings
}

/// Whether `findings` has an error.
pub fn refused(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.level == Level::Error)
}
