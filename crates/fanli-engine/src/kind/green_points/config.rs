//! A green_points mechanism's settings: its plan keys and its compliance rules.

use super::UNITS_PER_FEN;
use crate::findings::{Findings, Level};
use crate::headroom::{Growth, up};
use crate::keys::{Reader, Table, Value};
use crate::kind::{Lowered, Settings};
use crate::num::{Money, Rate};
use crate::terms::Rank;
use crate::terms::Reach;

/// Settings of a green_points mechanism (绿色积分 全补贴).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct GreenPointsConfig {
    /// An order of at least `min` earns `multiple` × its amount in points; lowest first.
    pub tiers: Vec<Tier>,
    /// Each lot releases this share of its order amount a day.
    pub daily_release_rate: Rate,
    /// The k-th upline releases `share[k]` × a member's base release from their own points.
    pub share: Vec<Rate>,
    /// Team ranks: uplines release by differential of their rank rates × a base release.
    pub team_ranks: Vec<Rank>,
}

/// A green-points tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Tier {
    /// The least order amount it takes.
    pub min: Money,
    /// Points per yuan of the order.
    pub multiple: Rate,
}

fn tiers(r: &mut Reader, value: &Value, key: &str) -> Option<Vec<Tier>> {
    r.table_array(
        value,
        key,
        "{ min = \"3000.00\", multiple = \"2.5\" }",
        |r, t| {
            let min = r.required(t, "min", |r, v, k| r.money(v, k));
            let multiple = r.required(t, "multiple", |r, v, k| {
                r.rate(
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

impl Settings for GreenPointsConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let tiers = r.required(t, "tiers", tiers);
        let daily_release_rate = r.required(t, "daily_release_rate", |r, v, k| {
            r.rate(v, k, Rate::from_units(1)..=Rate::ONE, "above 0 and at most 1")
        });
        let share = r.optional(t, "share", |r, v, k| r.rates(v, k, 3, "[\"0.50\", \"0.30\"]"));
        let team_ranks = r.optional(t, "team_ranks", Reader::ranks);
        Some(GreenPointsConfig {
            tiers: tiers?,
            daily_release_rate: daily_release_rate?,
            share: share.or(Vec::new())?,
            team_ranks: team_ranks.or(Vec::new())?,
        })
    }

    fn check(&self, f: &mut Findings<'_>) {
        let g = self;
        if let Some(t) = g.tiers.iter().find(|t| t.multiple > Rate::ONE) {
            let multiple = t.multiple;
            f.push(
                Level::Warning,
                "static-return",
                f.key("tiers"),
                format!("消费送 {multiple} 倍积分并按日释放为现金：承诺回报超过消费额，有非法集资风险。"),
                format!(
                    "a tier gives {multiple}× the order in points released as cash: a promised \
                     return above 100% of spend, the risk of illegal fund-raising (非法集资)"
                ),
                "keep multiples at or below 1, and run `fanli simulate` to see who is left unpaid".to_owned(),
            );
        }
        if !g.team_ranks.is_empty() {
            f.team_compensation("team_ranks");
        }
    }

    fn assert_valid(&self) {
        let g = self;
        assert!(g.share.len() <= 3, "at most 3 share levels");
        assert!(g.tiers.is_sorted_by_key(|t| t.min), "tiers sorted");
        assert!(g.team_ranks.is_sorted_by_key(|r| r.min_team_sales), "ranks sorted");
    }

    fn reach(&self) -> Reach {
        let g = self;
        Reach { depth: 0, ranks: !g.team_ranks.is_empty(), regional: false }
    }

    /// A lot of the highest tier's multiple, in 1/10000 points (a point is 100 fen).
    fn growth(&self) -> Growth {
        let g = self;
        let multiple = g.tiers.iter().map(|t| t.multiple).max().unwrap_or(Rate::ZERO);
        Growth { per_fen: 1 + up(UNITS_PER_FEN as u128, multiple), per_order: 0, per_largest: 0 }
    }

    fn lowers(&self, old: &Self) -> bool {
        let l = Lowered::default().same(&old.tiers, &self.tiers);
        let l = l.higher(&old.daily_release_rate, &self.daily_release_rate);
        l.higher_each(&old.share, &self.share).same(&old.team_ranks, &self.team_ranks).0
    }
}
