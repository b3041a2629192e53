//! A cycle mechanism's settings: its plan keys and its compliance rules.

use crate::findings::{Findings, Level};
use crate::headroom::{Growth, up};
use crate::keys::{Reader, SHARE, Table};
use crate::kind::{Lowered, Settings};
use crate::num::{Money, Points, Rate};
use crate::terms::Reach;

/// Settings of a cycle mechanism (循环购).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct CycleConfig {
    /// Quota (能量值) earned per yuan spent: the most the member can be paid.
    pub quota_multiple: Rate,
    /// Spend per share (贡献值); positive.
    pub share_unit: Money,
    /// A direct referee's settled spend adds this share of it to the referrer's weight.
    pub referral_share_rate: Rate,
    /// 荣誉会员分红: a share of each order split equally among members of honor levels.
    pub honor: Option<Honor>,
}

/// Honor members' dividend.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Honor {
    /// The share of each settled order set aside for honor members.
    pub rate: Rate,
    /// Shares it takes to reach V1, V2, …, at most V10; rising.
    pub levels: Vec<Points>,
}

impl Settings for CycleConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let quota_multiple = r.required(t, "quota_multiple", |r, v, k| {
            r.rate(v, k, Rate::ZERO..=Rate::from_units(100_000_000_000), "between 0 and 100")
        });
        let share_unit = r.required(t, "share_unit", |r, v, k| match r.money(v, k)? {
            unit if unit > Money::ZERO => Some(unit),
            _ => {
                r.error(v.line, k, "must be positive: it is the spend that makes one share");
                None
            }
        });
        let referral_share_rate = r
            .optional(t, "referral_share_rate", |r, v, k| {
                r.rate(v, k, Rate::ZERO..=Rate::from_units(10_000_000_000), "between 0 and 10")
            })
            .or(Rate::ZERO);
        let honor = r.optional(t, "honor", |r, v, k| {
            let mut h = r.subtable(v, k, "{ rate = \"0.05\", levels = [\"1\", \"2\", \"5\"] }")?;
            let rate = r.required(&mut h, "rate", |r, v, k| r.rate(v, k, SHARE, "between 0 and 1"));
            let levels = r.required(&mut h, "levels", |r, v, k| {
                let expected = "must list 1 to 10 share counts (V1 to V10), such as [\"1\", \"2\", \"5\"]";
                let items = r.array(v, k, 1..=10, expected)?;
                let levels: Vec<Points> = items.iter().map(|l| r.points(l, k)).collect::<Option<_>>()?;
                if !levels.windows(2).all(|w| w[0] < w[1]) || levels[0] <= Points::ZERO {
                    r.error(v.line, k, "must rise from V1 to V10, each above the last and V1 above 0");
                    return None;
                }
                Some(levels)
            });
            r.finish(h);
            Some(Honor { rate: rate?, levels: levels? })
        });
        Some(CycleConfig {
            quota_multiple: quota_multiple?,
            share_unit: share_unit?,
            referral_share_rate: referral_share_rate?,
            honor: honor.maybe()?,
        })
    }

    fn check(&self, f: &mut Findings<'_>) {
        let c = self;
        if c.quota_multiple > Rate::ONE {
            let multiple = c.quota_multiple;
            f.push(
                Level::Warning,
                "static-return",
                f.key("quota_multiple"),
                format!("能量值为消费额的 {multiple} 倍：承诺回报超过消费额，有非法集资风险。"),
                format!(
                    "the quota is {multiple}× spend: a promised return above 100% of spend, the risk \
                     of illegal fund-raising (非法集资)"
                ),
                "keep quota_multiple at or below 1".to_owned(),
            );
        }
    }

    fn assert_valid(&self) {
        let c = self;
        assert!(c.share_unit > Money::ZERO, "share_unit is positive");
        assert!(c.honor.as_ref().is_none_or(|h| !h.levels.is_empty()), "honor levels");
    }

    fn reach(&self) -> Reach {
        Reach { depth: 1, ..Reach::default() }
    }

    /// The honor members' share of each order, which comes on top of the funding.
    fn extra_rate(&self) -> Rate {
        let config = self;
        config.honor.as_ref().map_or(Rate::ZERO, |h| h.rate)
    }

    /// Quota, and shares: the weight (own spend and referees' share) over the share unit, in
    /// 1/10000 share.
    fn growth(&self) -> Growth {
        let c = self;
        let weight = up(1, Rate::ONE + c.referral_share_rate);
        let shares = (weight * 10_000).div_ceil(c.share_unit.fen().max(1) as u128);
        let honor = c.honor.as_ref().map_or(0, |h| up(1, h.rate));
        Growth { per_fen: 1 + honor + up(1, c.quota_multiple).max(shares), per_order: 0, per_largest: 0 }
    }

    fn lowers(&self, old: &Self) -> bool {
        let l = Lowered::default().higher(&old.quota_multiple, &self.quota_multiple);
        let l = l.same(&old.share_unit, &self.share_unit);
        l.higher(&old.referral_share_rate, &self.referral_share_rate).same(&old.honor, &self.honor).0
    }
}
