//! An ad_tasks mechanism's settings: its plan keys and its compliance rules.

use super::UNITS_PER_FEN;
use crate::findings::{Findings, Level};
use crate::headroom::{Growth, up};
use crate::keys::{Reader, Table, Value};
use crate::kind::{Lowered, Settings};
use crate::num::{Points, Rate};

/// Settings of an ad_tasks mechanism (广告电商).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct AdTasksConfig {
    /// Task points earned per yuan of a settled order.
    pub points_per_yuan: Rate,
    /// Views a member may make in a business day.
    pub views_per_day: u32,
    /// Reward bands by task points held, from 0 up, each starting above the last.
    pub rewards: Vec<Band>,
}

/// A reward band: a view by a member holding at least `from` task points (and less than the
/// next band's `from`, or at most `to` whole points) releases `reward` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Band {
    /// The least task points held.
    pub from: Points,
    /// The band's last whole point, when it ends before the next band begins.
    pub to: Option<Points>,
    /// Task points a view releases into the wallet (1 point = 1 yuan).
    pub reward: Points,
}

impl AdTasksConfig {
    /// The band a member holding `held` task points is in, if any.
    pub fn band(&self, held: Points) -> Option<&Band> {
        let one = Points::from_whole(1);
        self.rewards.iter().rev().find(|b| held >= b.from).filter(|b| b.to.is_none_or(|to| held < to + one))
    }

    /// The task points no band covers, as (first, last) figures for people ("201", "1000.9999";
    /// "any number above" when the last band ends).
    pub fn gaps(&self) -> Vec<(String, String)> {
        let short = |p: Points| {
            let text = p.to_string();
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        };
        let (one, tick) = (Points::from_whole(1), Points::from_units(1));
        let mut gaps = Vec::new();
        if let Some(first) = self.rewards.first().filter(|b| !b.from.is_zero()) {
            gaps.push(("0".to_owned(), short(first.from - tick)));
        }
        for (i, band) in self.rewards.iter().enumerate() {
            let Some(to) = band.to else { continue };
            match self.rewards.get(i + 1) {
                Some(next) if to + one < next.from => gaps.push((short(to + one), short(next.from - tick))),
                None => gaps.push((short(to + one), "any number above".to_owned())),
                Some(_) => {}
            }
        }
        gaps
    }
}

/// Reward bands `{ from, reward }`, optionally with `to` (the band's last whole point). A band
/// list that leaves task points without a reward is allowed, and `fanli check` warns.
fn bands(r: &mut Reader, value: &Value, key: &str) -> Option<Vec<Band>> {
    r.table_array(
        value,
        key,
        "{ from = \"1001\", reward = \"20\" }",
        |r, t| {
            let from = r.required(t, "from", Reader::points);
            let to = r.optional(t, "to", Reader::points).maybe();
            let reward = r.required(t, "reward", Reader::points);
            let (from, to) = (from?, to?);
            if to.is_some_and(|to| to < from) {
                r.table_error(
                    t,
                    &t.key("to"),
                    "is below `from`: a band runs from `from` to `to`, both included",
                );
                return None;
            }
            Some(Band { from, to, reward: reward? })
        },
        |b| b.from,
        "from",
    )
}

impl Settings for AdTasksConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let points_per_yuan = r.required(t, "points_per_yuan", |r, v, k| {
            r.rate(v, k, Rate::ZERO..=Rate::from_units(1_000_000_000_000), "between 0 and 1000")
        });
        let views_per_day = r.required(t, "views_per_day", |r, v, k| r.integer(v, k, 1..=10_000));
        let rewards = r.required(t, "rewards", bands);
        Some(AdTasksConfig {
            points_per_yuan: points_per_yuan?,
            views_per_day: views_per_day? as u32,
            rewards: rewards?,
        })
    }

    fn check(&self, f: &mut Findings<'_>) {
        let a = self;
        for (from, to) in a.gaps() {
            f.push(
                Level::Warning,
                "band-gap",
                f.key("rewards"),
                format!("奖励档位缺少 {from} 到 {to} 任务积分的一档：持有这些积分的会员看广告得不到奖励。"),
                format!(
                    "the reward bands leave task points from {from} to {to} without a reward: \
                     members holding that many get nothing for a view"
                ),
                format!("add a band {{ from = \"{from}\", reward = … }}"),
            );
        }
    }

    fn assert_valid(&self) {
        let a = self;
        assert!(a.rewards.is_sorted_by_key(|b| b.from), "bands sorted");
    }

    /// Task points per yuan, in 1/10000 points (a point is 100 fen).
    fn growth(&self) -> Growth {
        let a = self;
        Growth { per_fen: 1 + up(UNITS_PER_FEN as u128, a.points_per_yuan), per_order: 0, per_largest: 0 }
    }

    fn lowers(&self, old: &Self) -> bool {
        let l = Lowered::default().higher(&old.points_per_yuan, &self.points_per_yuan);
        l.higher(&old.views_per_day, &self.views_per_day).same(&old.rewards, &self.rewards).0
    }
}
