//! A refer_refund mechanism's settings: its plan keys and its compliance rules.

use crate::findings::{Findings, Level};
use crate::headroom::{Growth, up};
use crate::keys::{Found, Reader, Table, Value};
use crate::kind::{Lowered, Settings};
use crate::num::{MONEY_MAX, Money, Rate};
use crate::terms::PayTo;
use crate::terms::Reach;

/// Settings of a refer_refund mechanism.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct ReferRefundConfig {
    /// An order of at least this makes the buyer a participant; its amount is the refund base.
    pub qualify_min: Money,
    /// A direct referee's first order of at least this counts as one referral.
    pub referee_min: Money,
    /// The k-th referral pays step k (not empty).
    pub steps: Vec<Step>,
    /// Start over after the last step.
    pub repeat: bool,
    /// Paid to the referrer's referrer when the referrer earns a referral.
    pub indirect: Option<Step>,
    /// Where payouts go.
    pub pay_to: PayTo,
    /// What advances the steps: referrals (推N返一) or the member's own repeat orders (阶梯式返现).
    pub trigger: Trigger,
    /// What a percent step of a repurchase ladder is a share of: the first qualifying order, or
    /// the order that pays the step. Always `First` with `trigger = "referral"` (the plan reader
    /// refuses the key there).
    pub step_base: StepBase,
}

/// What advances a refer_refund mechanism's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Trigger {
    /// The k-th counted referral pays step k.
    Referral,
    /// The member's k-th settled order of at least `qualify_min` pays step k (the first order
    /// included, 首次返 30%, 二次复购返 20%, …), of the base set by the first, or of the k-th
    /// order itself with `step_base = "each"`.
    Repurchase,
}

/// What a percent step of a repurchase ladder (`trigger = "repurchase"`) is a share of: plan key
/// `step_base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum StepBase {
    /// `"first"` (the default): of the member's first qualifying order, the base it set, whatever
    /// the later orders' amounts.
    First,
    /// `"each"`: of the qualifying order that pays the step (首单返 30%, 复购返该单 20%, …).
    Each,
}

/// A reward: a share of a base, or a fixed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Step {
    /// A share of the base ("10%").
    Percent(Rate),
    /// A fixed amount ("50.00").
    Fixed(Money),
}

impl Step {
    /// The amount this step pays on `base`, rounded down to the fen.
    pub fn amount(self, base: Money) -> Money {
        match self {
            Step::Percent(rate) => base.mul_rate(rate),
            Step::Fixed(amount) => amount,
        }
    }
}

/// `"10%"` of a base, or a fixed `"50.00"`.
fn step(r: &mut Reader, value: &Value, key: &str) -> Option<Step> {
    let text = r.number_text(value, key, "must be a share such as \"10%\" or an amount such as \"50.00\"")?;
    if text.ends_with('%') {
        match Rate::parse(text) {
            Ok(rate) if rate <= Rate::ONE => Some(Step::Percent(rate)),
            Ok(rate) => {
                r.error(
                    value.line,
                    key,
                    format!("has a step of {text} ({rate}); a step refunds at most 100%"),
                );
                None
            }
            Err(e) => {
                r.error(value.line, key, format!("has a step \"{text}\" that {e}"));
                None
            }
        }
    } else {
        match Money::parse(text) {
            Ok(m) if m <= MONEY_MAX => Some(Step::Fixed(m)),
            Ok(_) => unreachable!("Money::parse caps at MONEY_MAX"),
            Err(e) => {
                r.error(
                    value.line,
                    key,
                    format!("has a step \"{text}\" that {e}: write \"10%\" or \"50.00\""),
                );
                None
            }
        }
    }
}

impl Settings for ReferRefundConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let trigger = r
            .optional(t, "trigger", |r, v, k| {
                Some(match r.choice(v, k, &["referral", "repurchase"])? {
                    "repurchase" => Trigger::Repurchase,
                    _ => Trigger::Referral,
                })
            })
            .or(Trigger::Referral)?;
        let qualify_min = r.required(t, "qualify_min", |r, v, k| r.money(v, k));
        // Repurchase steps count the member's own orders: referees play no part.
        let referee_min = match trigger {
            Trigger::Referral => r.required(t, "referee_min", |r, v, k| r.money(v, k)),
            Trigger::Repurchase => Some(Money::ZERO),
        };
        let steps = r.required(t, "steps", |r, v, k| {
            if !r.is_array(v) {
                r.error(v.line, k, "must be an array such as [\"10%\", \"20%\", \"70%\"]");
                return None;
            }
            let items = r.array(v, k, 1..=100, "must list 1 to 100 steps")?;
            // Every step is read, so that each mistake is reported.
            let steps: Vec<_> = items.iter().map(|s| step(r, s, k)).collect();
            steps.into_iter().collect::<Option<Vec<Step>>>()
        });
        let repeat = r.optional(t, "repeat", Reader::boolean).or(false);
        let indirect = r.optional(t, "indirect", step);
        let pay_to = r
            .optional(t, "pay_to", |r, v, k| {
                Some(match r.choice(v, k, &["wallet", "credit"])? {
                    "credit" => PayTo::Credit,
                    _ => PayTo::Wallet,
                })
            })
            .or(PayTo::Wallet);
        // Read last, so that the keys a hint lists come in the order they always did.
        let step_base = match trigger {
            Trigger::Repurchase => r
                .optional(t, "step_base", |r, v, k| {
                    Some(match r.choice(v, k, &["first", "each"])? {
                        "each" => StepBase::Each,
                        _ => StepBase::First,
                    })
                })
                .or(StepBase::First),
            // A referral's step is a share of the referrer's own purchase: the referee's order
            // is not the referrer's to be refunded.
            Trigger::Referral => r
                .inapplicable(
                    t,
                    "step_base",
                    "says which order a repurchase step is a share of: it applies only with \
                     trigger = \"repurchase\"",
                )
                .then_some(StepBase::First),
        };
        if trigger == Trigger::Repurchase && matches!(indirect, Found::Value(_)) {
            r.table_error(
                t,
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
            step_base: step_base?,
        })
    }

    fn check(&self, f: &mut Findings<'_>) {
        let r = self;
        if r.trigger == Trigger::Referral && r.referee_min.is_zero() {
            f.push(
                Level::Error,
                "recruiting-alone",
                f.key("referee_min"),
                "referee_min 为 0：拉人头即可得奖励，被推荐人无需购买，属于传销的典型特征。".to_owned(),
                "referee_min is 0: a referral pays without the recruit buying anything, which is \
                 rewarding recruitment itself (拉人头), a mark of pyramid selling"
                    .to_owned(),
                "set referee_min to a real purchase, such as the price of the product".to_owned(),
            );
        }
        if r.trigger == Trigger::Referral && !r.referee_min.is_zero() {
            unfunded_referral(r, f);
            if r.referee_min < TOKEN_PURCHASE {
                f.push(
                    Level::Warning,
                    "token-purchase",
                    f.key("referee_min"),
                    format!(
                        "referee_min 只有 {}：被推荐人象征性消费即可计入推荐，奖励实际是为拉人头而付（低于 {TOKEN_PURCHASE} 元视为象征性消费）。",
                        r.referee_min
                    ),
                    format!(
                        "referee_min is only {}: a token purchase makes a referral count, so the reward                          is in effect paid for bringing people (拉人头); fanli counts an order below                          {TOKEN_PURCHASE} as a token (docs/decisions.md, *Compliance*)",
                        r.referee_min
                    ),
                    "set referee_min to the price of a real product".to_owned(),
                );
            }
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
        let id = f.mechanism_id();
        let promises_all = ["返一", "全返", "返本"].iter().any(|w| f.plan_name.contains(w) || id.contains(w));
        if promises_all && all_percent && percent != Rate::ONE.units() {
            let sum = Rate::from_units(percent);
            f.push(
                Level::Warning,
                "steps-promise",
                f.key("steps"),
                format!("计划名称承诺全额返还，但各步骤合计只返还 {sum} 倍：宣传与规则不符。"),
                format!(
                    "the plan's name promises the purchase back in full, but its steps add up to \
                     {sum} of the base: what is advertised is not what the rules pay"
                ),
                "make the steps add up to 100%, or rename the plan".to_owned(),
            );
        }
    }

    fn assert_valid(&self) {
        let r = self;
        assert!(!r.steps.is_empty(), "steps is not empty");
        assert!(
            r.trigger == Trigger::Repurchase || r.step_base == StepBase::First,
            "step_base is \"first\" unless trigger is \"repurchase\""
        );
    }

    fn reach(&self) -> Reach {
        let config = self;
        Reach { depth: if config.indirect.is_some() { 2 } else { 1 }, ..Reach::default() }
    }

    /// One settled order pays at most one step and one `indirect`. A referral's step is a share
    /// of the referrer's base, the amount of an order paid earlier (or this one): at most that
    /// share of the largest order paid so far, not of this order; a fixed step is its amount.
    /// `indirect` is a share of this order's amount, or a fixed amount. A repurchase step is a
    /// share of the member's first qualifying order (again at most the largest so far) or, with
    /// `step_base = "each"`, of this order. Counted as the largest share plus the largest fixed
    /// amount: one step is one or the other.
    fn growth(&self) -> Growth {
        let c = self;
        let share = c.steps.iter().filter_map(|s| match s {
            Step::Percent(rate) => Some(*rate),
            Step::Fixed(_) => None,
        });
        let share = share.max().unwrap_or(Rate::ZERO);
        let fixed = c.steps.iter().filter_map(|s| match s {
            Step::Fixed(amount) => Some(amount.fen().max(0) as u128),
            Step::Percent(_) => None,
        });
        let fixed = fixed.max().unwrap_or(0);
        let (indirect_share, indirect_fixed) = match c.indirect {
            Some(Step::Percent(rate)) => (up(1, rate), 0),
            Some(Step::Fixed(amount)) => (0, amount.fen().max(0) as u128),
            None => (0, 0),
        };
        let of_this_order = c.trigger == Trigger::Repurchase && c.step_base == StepBase::Each;
        let (share_per_fen, per_largest) =
            if of_this_order { (up(1, share), 0) } else { (0, share.units().max(0) as u128) };
        Growth { per_fen: 1 + share_per_fen + indirect_share, per_order: fixed + indirect_fixed, per_largest }
    }

    fn lowers(&self, old: &Self) -> bool {
        let steps_lower = self.steps.len() < old.steps.len()
            || old.steps.iter().zip(&self.steps).any(|(o, n)| step_lower(o, n))
            || match (&old.indirect, &self.indirect) {
                (Some(o), Some(n)) => step_lower(o, n),
                (Some(_), None) => true,
                (None, _) => false,
            };
        let l = Lowered(steps_lower).lower(&old.qualify_min, &self.qualify_min);
        let l = l.lower(&old.referee_min, &self.referee_min).higher(&old.repeat, &self.repeat);
        // "each" pays more than "first" on an order larger than the first, and less on a smaller
        // one: neither way is plainly better, so either change needs the notice.
        l.same(&old.pay_to, &self.pay_to).same(&old.step_base, &self.step_base).0
    }

    fn fixed(&self, old: &Self) -> Option<&'static str> {
        // Members' counts are of referrals or of repurchases, as the trigger said. `step_base`
        // is not fixed: it changes no count, and the first order's amount is kept under either,
        // so the next step is paid under the new setting.
        (self.trigger != old.trigger).then_some("trigger (what members' progress counts)")
    }
}

/// A referee's qualifying order below this is a token purchase (`token-purchase`): well below
/// the smallest qualifying order of the seeds (99.00) and above the token prices of 拉人头
/// funnels (0.01, 1.00, 9.90 "体验装"). See docs/decisions.md, *Compliance*.
pub(crate) const TOKEN_PURCHASE: Money = Money::from_fen(5_000);

/// `unfunded-referral`: a referral's fixed reward (the largest fixed step, with a fixed
/// `indirect` paid on the same referral) must be covered by what the referee's smallest
/// qualifying order funds, `funding_rate × referee_min` (× `margin_rate` on a profit base);
/// beyond it the reward is paid for the recruit, not for the purchase (拉人头). Compared
/// exactly, by cross-multiplication.
fn unfunded_referral(r: &ReferRefundConfig, f: &mut Findings<'_>) {
    let fixed = |s: &Step| match s {
        Step::Fixed(m) => m.fen() as i128,
        Step::Percent(_) => 0,
    };
    let step = r.steps.iter().map(fixed).max().unwrap_or(0);
    let indirect = r.indirect.as_ref().map_or(0, fixed);
    if step == 0 {
        return;
    }
    let reward = step + indirect;
    let checked = f.mechanism();
    let one = Rate::ONE.units() as i128;
    // funded = referee_min × rate (× margin): reward > funded, both sides times one².
    let margin = match checked.funding_base {
        crate::plan::FundingBase::Amount => one,
        crate::plan::FundingBase::Profit => f.margin_rate.unwrap_or(Rate::ONE).units() as i128,
    };
    let funded = r.referee_min.fen() as i128 * checked.funding_rate.units() as i128 * margin;
    if reward * one * one <= funded {
        return;
    }
    let covers = Money::from_fen((funded / (one * one)) as i64);
    let what = if indirect > 0 {
        "the largest fixed step with the fixed indirect reward"
    } else {
        "the largest fixed step"
    };
    let paid = Money::from_fen(reward as i64);
    f.push(
        Level::Error,
        "unfunded-referral",
        f.key("steps"),
        format!(
            "一次推荐固定奖励 {paid}，而被推荐人的最低合格订单（referee_min {}）按资金比例只提供 {covers}：奖励不是来自被推荐人的消费，而是为拉人头支付，属于传销特征。",
            r.referee_min
        ),
        format!(
            "a referral pays {paid} ({what}), but the referee's smallest qualifying order (referee_min {}) \
             funds only {covers} at this mechanism's funding rate: the reward is paid for the recruit, \
             not for their purchase (拉人头)",
            r.referee_min
        ),
        format!("lower the fixed steps to at most {covers}, or raise referee_min or funding_rate"),
    );
}

/// Whether step `new` pays less than `old`: a percent lower, a fixed amount lower, or the other
/// form (which pays more for some orders and less for others).
fn step_lower(old: &Step, new: &Step) -> bool {
    match (old, new) {
        (Step::Percent(o), Step::Percent(n)) => n < o,
        (Step::Fixed(o), Step::Fixed(n)) => n < o,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(
        trigger: Trigger,
        step_base: StepBase,
        steps: Vec<Step>,
        indirect: Option<Step>,
    ) -> ReferRefundConfig {
        ReferRefundConfig {
            qualify_min: Money::from_fen(100_000),
            referee_min: Money::from_fen(100_000),
            steps,
            repeat: true,
            indirect,
            pay_to: PayTo::Wallet,
            trigger,
            step_base,
        }
    }

    fn percent(text: &str) -> Step {
        Step::Percent(Rate::parse(text).unwrap())
    }

    #[test]
    fn growth_is_a_share_of_the_largest_order_and_of_this_one_not_the_most_an_event_carries() {
        // plan-all's r3: steps 10%, 20%, 70% of the referrer's base, 1% of this order above.
        // Before, every order counted 2 × 10^12 fen whatever the plan: 2^62 held 2.3 million
        // orders of any size.
        let r3 = config(
            Trigger::Referral,
            StepBase::First,
            vec![percent("10%"), percent("20%"), percent("70%")],
            Some(percent("1%")),
        );
        assert_eq!(r3.growth(), Growth { per_fen: 2, per_order: 0, per_largest: 700_000_000 });
        // A fixed step and a fixed `indirect` are counted whole, once each, per order.
        let fixed = config(
            Trigger::Referral,
            StepBase::First,
            vec![Step::Fixed(Money::from_fen(5_000)), percent("50%"), Step::Fixed(Money::from_fen(4_900))],
            Some(Step::Fixed(Money::from_fen(2_000))),
        );
        assert_eq!(fixed.growth(), Growth { per_fen: 1, per_order: 7_000, per_largest: 500_000_000 });
        // A ladder's step is of the first order (at most the largest) or, with "each", of this one.
        let steps = vec![percent("30%"), percent("20%")];
        let first = config(Trigger::Repurchase, StepBase::First, steps.clone(), None);
        assert_eq!(first.growth(), Growth { per_fen: 1, per_order: 0, per_largest: 300_000_000 });
        let each = config(Trigger::Repurchase, StepBase::Each, steps, None);
        assert_eq!(each.growth(), Growth { per_fen: 2, per_order: 0, per_largest: 0 });
        // The share of the largest order rounds up: 70% of 10,001 fen is 7,000.7.
        assert_eq!(r3.growth().of_largest(Money::from_fen(10_001)), 7_001);
        assert_eq!(r3.growth().of(Money::from_fen(10_001)), 20_002);
    }
}
