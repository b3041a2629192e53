//! A distribution mechanism's settings: its plan keys and its compliance rules.

use crate::findings::{Findings, Level};
use crate::headroom::{Growth, up};
use crate::keys::{Reader, SHARE, Table};
use crate::kind::{Lowered, Settings};
use crate::num::{Money, Rate};
use crate::terms::Reach;
use crate::terms::{FundingBase, Rank};

/// Settings of a distribution mechanism (分销). Every rate is a share of the order amount.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct DistributionConfig {
    /// The k-th upline earns `levels[k]` (at most 3 levels).
    pub levels: Vec<Rate>,
    /// Ranks for 级差, lowest first (by `min_team_sales`).
    pub ranks: Vec<Rank>,
    /// 平级奖: the first upline of the same rank as the highest paid below it earns this.
    pub peer_rate: Option<Rate>,
    /// Regional agents' rates by differential: district, city, province.
    pub regional: [Option<Rate>; 3],
    /// 招商: the member who recruited the store earns this.
    pub recruiter_rate: Option<Rate>,
}

impl Settings for DistributionConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let levels = r.optional(t, "levels", |r, v, k| r.rates(v, k, 3, "[\"0.003\", \"0.002\"]"));
        let ranks = r.optional(t, "ranks", Reader::ranks);
        let peer_rate = r.optional(t, "peer_rate", |r, v, k| r.rate(v, k, SHARE, "between 0 and 1")).maybe();
        let regional = r.optional(t, "regional", |r, v, k| {
            let mut t = r.subtable(v, k, "{ district = \"0.001\", city = \"0.002\" }")?;
            let mut rates = [None, None, None];
            for (slot, level) in rates.iter_mut().zip(["district", "city", "province"]) {
                *slot =
                    r.optional(&mut t, level, |r, v, k| r.rate(v, k, SHARE, "between 0 and 1")).maybe()?;
            }
            r.finish(t);
            Some(rates)
        });
        let recruiter_rate =
            r.optional(t, "recruiter_rate", |r, v, k| r.rate(v, k, SHARE, "between 0 and 1")).maybe();
        let config = DistributionConfig {
            levels: levels.or(Vec::new())?,
            ranks: ranks.or(Vec::new())?,
            peer_rate: peer_rate?,
            regional: regional.or([None; 3])?,
            recruiter_rate: recruiter_rate?,
        };
        if config.peer_rate.is_some() && config.ranks.is_empty() {
            r.table_error(t, &t.key("peer_rate"), "needs `ranks`: 平级奖 pays an upline of the same rank");
            return None;
        }
        let pays = !config.levels.is_empty()
            || !config.ranks.is_empty()
            || config.regional.iter().any(Option::is_some)
            || config.recruiter_rate.is_some();
        if !pays {
            r.table_error(
                t,
                &t.path,
                "pays nobody: give it `levels`, `ranks`, `regional` or `recruiter_rate`",
            );
            return None;
        }
        Some(config)
    }

    fn check(&self, f: &mut Findings<'_>) {
        let d = self;
        // The most one order can allocate, as a share of its amount: every level, the highest rank
        // (the differentials add up to it at most), the peer reward, the highest regional rate
        // (likewise), the recruiter. The budget: funding_rate of the amount, or of the profit
        // (amount × margin_rate when the plan states one).
        let highest = |rates: &mut dyn Iterator<Item = Rate>| rates.max().unwrap_or(Rate::ZERO);
        let most = d.levels.iter().map(|r| r.units()).sum::<i64>()
            + highest(&mut d.ranks.iter().map(|r| r.rate)).units()
            + d.peer_rate.unwrap_or(Rate::ZERO).units()
            + highest(&mut d.regional.iter().flatten().copied()).units()
            + d.recruiter_rate.unwrap_or(Rate::ZERO).units();
        let m = f.mechanism();
        let budget = match (m.funding_base, f.margin_rate) {
            (FundingBase::Profit, Some(margin)) => {
                Money::from_fen(m.funding_rate.units()).mul_rate(margin).fen()
            }
            _ => m.funding_rate.units(),
        };
        if most > budget {
            let (most, budget) = (Rate::from_units(most), Rate::from_units(budget));
            f.push(
                Level::Error,
                "over-allocation",
                f.key("funding_rate"),
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
        if !d.ranks.is_empty() {
            f.team_compensation("ranks");
        }
    }

    fn assert_valid(&self) {
        let d = self;
        assert!(d.levels.len() <= 3, "at most 3 levels");
        assert!(d.ranks.is_sorted_by_key(|r| r.min_team_sales), "ranks sorted");
    }

    fn reach(&self) -> Reach {
        let d = self;
        Reach {
            depth: d.levels.len(),
            ranks: !d.ranks.is_empty(),
            regional: d.regional.iter().any(Option::is_some) || d.recruiter_rate.is_some(),
        }
    }

    /// Every rate at once, ranks and regions at their highest.
    fn growth(&self) -> Growth {
        let d = self;
        let highest = |rates: &mut dyn Iterator<Item = Rate>| rates.max().unwrap_or(Rate::ZERO);
        let rates = d.levels.iter().copied().sum::<Rate>()
            + highest(&mut d.ranks.iter().map(|r| r.rate))
            + d.peer_rate.unwrap_or(Rate::ZERO)
            + highest(&mut d.regional.iter().flatten().copied())
            + d.recruiter_rate.unwrap_or(Rate::ZERO);
        Growth { per_fen: 1 + up(1, rates), per_order: 0, per_largest: 0 }
    }

    fn lowers(&self, old: &Self) -> bool {
        let l = Lowered::default().higher_each(&old.levels, &self.levels).same(&old.ranks, &self.ranks);
        let l = l.higher(&old.peer_rate, &self.peer_rate).higher(&old.recruiter_rate, &self.recruiter_rate);
        old.regional.iter().zip(&self.regional).fold(l, |l, (o, n)| l.higher(o, n)).0
    }
}
