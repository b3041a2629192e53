//! Compliance: what Chinese law draws as a red line (errors: the plan is refused) and what
//! regulators look at (warnings: shown, allowed). Pure: a [`Plan`] in, [`Finding`]s out, each
//! with the key it is about so that the plan reader can give its line.
//!
//! The rules follow SPEC.md's *Compliance* section and issue 5; each finding explains itself in
//! Chinese and English, in words a merchant understands, and says what to change.

use crate::num::{Money, Rate};
use crate::plan::{FundingBase, KindConfig, Plan, Release, Step, Trigger};

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

/// Every finding for `plan`, errors first, then in plan order.
pub fn check(plan: &Plan) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut push =
        |level, rule, mechanism: Option<&str>, key: String, zh: String, en: String, fix: String| {
            findings.push(Finding { level, rule, mechanism: mechanism.map(str::to_owned), key, zh, en, fix });
        };
    // Funding against the margin: each rate as a share of the order amount.
    let margin = plan.margin_rate.unwrap_or(Rate::ONE);
    let total: i64 = plan
        .mechanisms
        .iter()
        .map(|m| {
            // A cycle's honor members get a share of each order on top of its funding.
            let honor = match &m.kind {
                KindConfig::Cycle(c) => c.honor.as_ref().map_or(0, |h| h.rate.units()),
                _ => 0,
            };
            let rate = m.funding_rate.units() + honor;
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
        push(
            Level::Error,
            "over-margin",
            None,
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
            push(
                Level::Error,
                "entry-fee",
                None,
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
        let id = m.id.as_str();
        let key = |k: &str| format!("mechanism.{id}.{k}");
        if let KindConfig::Distribution(d) = &m.kind {
            // The most one order can allocate, as a share of its amount: every level, the
            // highest rank (the differentials add up to it at most), the peer reward, the highest
            // regional rate (likewise), the recruiter. The budget: funding_rate of the amount, or
            // of the profit (amount × margin_rate when the plan states one).
            let highest = |rates: &mut dyn Iterator<Item = Rate>| rates.max().unwrap_or(Rate::ZERO);
            let most = d.levels.iter().map(|r| r.units()).sum::<i64>()
                + highest(&mut d.ranks.iter().map(|r| r.rate)).units()
                + d.peer_rate.unwrap_or(Rate::ZERO).units()
                + highest(&mut d.regional.iter().flatten().copied()).units()
                + d.recruiter_rate.unwrap_or(Rate::ZERO).units();
            let budget = match (m.funding_base, plan.margin_rate) {
                (FundingBase::Profit, Some(margin)) => {
                    Money::from_fen(m.funding_rate.units()).mul_rate(margin).fen()
                }
                _ => m.funding_rate.units(),
            };
            if most > budget {
                let (most, budget) = (Rate::from_units(most), Rate::from_units(budget));
                push(
                    Level::Error,
                    "over-allocation",
                    Some(id),
                    key("funding_rate"),
                    format!(
                        "一笔订单最多要分出订单金额的 {most}，超过该机制的资金 {budget}：超出部分只能欠着，\
                         靠后来订单的资金支付。"
                    ),
                    format!(
                        "one order can allocate up to {most} of its amount (levels, the highest rank, the \
                         peer reward, the highest regional rate and the recruiter together), more than the \
                         mechanism's budget of {budget}: the rest could only be paid with later orders' money"
                    ),
                    format!("raise funding_rate to at least {most}, or lower the rates"),
                );
            }
        }
        match &m.kind {
            KindConfig::ReferRefund(r) => {
                if r.trigger == Trigger::Referral && r.referee_min.is_zero() {
                    push(
                        Level::Error,
                        "recruiting-alone",
                        Some(id),
                        key("referee_min"),
                        "referee_min 为 0：拉人头即可得奖励，被推荐人无需购买，属于传销的典型特征。"
                            .to_owned(),
                        "referee_min is 0: a referral pays without the recruit buying anything, which is \
                         rewarding recruitment itself (拉人头), a mark of pyramid selling"
                            .to_owned(),
                        "set referee_min to a real purchase, such as the price of the product".to_owned(),
                    );
                }
                let percent: i64 = r
                    .steps
                    .iter()
                    .map(|s| match s {
                        Step::Percent(rate) => rate.units(),
                        Step::Fixed(_) => 0,
                    })
                    .sum();
                let all_percent = r.steps.iter().all(|s| matches!(s, Step::Percent(_)));
                let promises_all =
                    ["返一", "全返", "返本"].iter().any(|w| plan.name.contains(w) || id.contains(w));
                if promises_all && all_percent && percent != Rate::ONE.units() {
                    let sum = Rate::from_units(percent);
                    push(
                        Level::Warning,
                        "steps-promise",
                        Some(id),
                        key("steps"),
                        format!("计划名称承诺全额返还，但各步骤合计只返还 {sum} 倍：宣传与规则不符。"),
                        format!(
                            "the plan's name promises the purchase back in full, but its steps add up to \
                             {sum} of the base: what is advertised is not what the rules pay"
                        ),
                        "make the steps add up to 100%, or rename the plan".to_owned(),
                    );
                }
            }
            KindConfig::Distribution(d) if !d.ranks.is_empty() => {
                push(
                    Level::Warning,
                    "team-compensation",
                    Some(id),
                    key("ranks"),
                    team_zh(),
                    team_en(),
                    team_fix(),
                );
            }
            KindConfig::GreenPoints(g) => {
                if let Some(t) = g.tiers.iter().find(|t| t.multiple > Rate::ONE) {
                    let multiple = t.multiple;
                    push(
                        Level::Warning,
                        "static-return",
                        Some(id),
                        key("tiers"),
                        format!(
                            "消费送 {multiple} 倍积分并按日释放为现金：承诺回报超过消费额，有非法集资风险。"
                        ),
                        format!(
                            "a tier gives {multiple}× the order in points released as cash: a promised \
                             return above 100% of spend, the risk of illegal fund-raising (非法集资)"
                        ),
                        "keep multiples at or below 1, and run `fanli simulate` to see who is left unpaid"
                            .to_owned(),
                    );
                }
                if !g.team_ranks.is_empty() {
                    push(
                        Level::Warning,
                        "team-compensation",
                        Some(id),
                        key("team_ranks"),
                        team_zh(),
                        team_en(),
                        team_fix(),
                    );
                }
            }
            KindConfig::Cycle(c) if c.quota_multiple > Rate::ONE => {
                let multiple = c.quota_multiple;
                push(
                    Level::Warning,
                    "static-return",
                    Some(id),
                    key("quota_multiple"),
                    format!("能量值为消费额的 {multiple} 倍：承诺回报超过消费额，有非法集资风险。"),
                    format!(
                        "the quota is {multiple}× spend: a promised return above 100% of spend, the risk \
                         of illegal fund-raising (非法集资)"
                    ),
                    "keep quota_multiple at or below 1".to_owned(),
                );
            }
            KindConfig::Queue(q) => {
                let (ratio, k) = match q.release {
                    Release::WhenFunded => (q.credit_ratio, "credit_ratio"),
                    Release::EveryN { ratio, .. } => (ratio, "release.ratio"),
                };
                if ratio > Rate::ONE {
                    push(
                        Level::Warning,
                        "static-return",
                        Some(id),
                        key(k),
                        format!("排队返还消费额的 {ratio} 倍：承诺回报超过消费额，有非法集资风险。"),
                        format!(
                            "the queue pays back {ratio}× the order: a promised return above 100% of spend, \
                             the risk of illegal fund-raising (非法集资)"
                        ),
                        format!("keep {k} at or below 1"),
                    );
                }
            }
            KindConfig::Appreciation(a) => {
                if a.exit_multiple.is_none() {
                    push(
                        Level::Warning,
                        "no-forced-exit",
                        Some(id),
                        format!("mechanism.{id}"),
                        "消费增值没有出局倍数：积分无上限增值，早期参与者的收益由后来者承担。".to_owned(),
                        "appreciation without exit_multiple: points appreciate without limit and early \
                         members' gains are paid by later ones"
                            .to_owned(),
                        "set exit_multiple (2 or 3 in the seeds)".to_owned(),
                    );
                }
                if let Some(multiple) = a.exit_multiple
                    && (multiple < Rate::ONE || multiple > Rate::from_units(10 * Rate::ONE.units()))
                {
                    let (zh, en) = if multiple < Rate::ONE {
                        (
                            format!(
                                "出局倍数 {multiple} 小于 1：会员在积分价值低于其消费时就被强制卖出，必然亏损。"
                            ),
                            format!(
                                "exit_multiple is {multiple}, below 1: members are sold out while their points \
                                 are worth less than they spent, a certain loss"
                            ),
                        )
                    } else {
                        (
                            format!("出局倍数 {multiple} 过高：几乎没有人会出局，相当于没有出局机制。"),
                            format!(
                                "exit_multiple is {multiple}: hardly anyone will ever exit, which is almost no \
                                 forced exit at all"
                            ),
                        )
                    };
                    push(
                        Level::Warning,
                        "odd-exit-multiple",
                        Some(id),
                        key("exit_multiple"),
                        zh,
                        en,
                        "use an exit_multiple between 1 and 10 (2 or 3 in the seeds)".to_owned(),
                    );
                }
                if a.mint_ratio > Rate::ONE {
                    let ratio = a.mint_ratio;
                    push(
                        Level::Warning,
                        "mint-above-one",
                        Some(id),
                        key("mint_ratio"),
                        format!("mint_ratio 为 {ratio}，大于 1：发行的积分价值超过入池资金，价格会下跌。"),
                        format!(
                            "mint_ratio is {ratio}, above 1: points are minted for more than the cash that \
                             enters the pool, so the price can fall"
                        ),
                        "keep mint_ratio at or below 1".to_owned(),
                    );
                }
            }
            KindConfig::AdTasks(a) => {
                for gap in a.gaps() {
                    let (from, to) = gap;
                    push(
                        Level::Warning,
                        "band-gap",
                        Some(id),
                        key("rewards"),
                        format!(
                            "奖励档位缺少 {from} 到 {to} 任务积分的一档：持有这些积分的会员看广告得不到奖励。"
                        ),
                        format!(
                            "the reward bands leave task points from {from} to {to} without a reward: \
                             members holding that many get nothing for a view"
                        ),
                        format!("add a band {{ from = \"{from}\", reward = … }}"),
                    );
                }
            }
            _ => {}
        }
    }
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
