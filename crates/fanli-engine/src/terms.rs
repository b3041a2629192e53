//! The words of a plan that the kinds share: what a funding rate multiplies, where a payout
//! goes, ranks by team sales, and how far a settlement looks. Below both the plan and the kinds.

use crate::num::{Money, Rate};

/// What a mechanism's `funding_rate` multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum FundingBase {
    /// The order amount.
    Amount,
    /// The order's profit: its `profit`, else amount × `margin_rate`, else its amount.
    Profit,
}

/// How far into the referral tree and the store table a mechanism looks when an order settles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Levels of uplines it pays or counts (0 to 3).
    pub depth: usize,
    /// Whether it ranks members by team sales.
    pub ranks: bool,
    /// Whether it pays a store's regional agents or recruiter.
    pub regional: bool,
}

/// Where a mechanism pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum PayTo {
    /// 零钱: withdrawable cash.
    Wallet,
    /// Store credit, spendable only on orders.
    Credit,
}

/// A rank by team sales: a member whose team sales reach `min_team_sales` has it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Rank {
    /// A name for people ("星耀").
    pub name: String,
    /// The team sales it takes.
    pub min_team_sales: Money,
    /// What it earns (a share of the order, or of a release).
    pub rate: Rate,
}

/// The rate of the highest rank whose threshold `team_sales` reaches (0 with none). `ranks` is
/// sorted by threshold.
pub fn rank_rate(ranks: &[Rank], team_sales: Money) -> Rate {
    ranks.iter().rev().find(|r| team_sales >= r.min_team_sales).map_or(Rate::ZERO, |r| r.rate)
}
