//! A validated plan: the mechanisms a tenant runs, in the order they run.
//!
//! [`read`] turns a plan file's tree of values into a [`Plan`], naming the key and the line of
//! every mistake; each kind's own settings and keys are in its folder under `crate::kind`. By
//! the time a [`Plan`] exists its values are in range, and [`Plan::check_invariants`] asserts
//! the few facts the engine's arithmetic relies on.

pub mod read;

pub use crate::kind::KindConfig;
use crate::num::{Money, Rate};
pub use crate::terms::{FundingBase, PayTo, Rank, Reach, rank_rate};
use crate::time::UtcOffset;

/// A plan: global settings and the mechanisms, in the order they run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Plan {
    /// A name for people ("消费增值 + 推三返一").
    pub name: String,
    /// The refund window: an order settles this many days after it is paid (0: at once).
    pub settle_after_days: u32,
    /// When a business day closes.
    pub timezone: UtcOffset,
    /// The gross margin, when stated: the default profit of an order, and the compliance limit.
    pub margin_rate: Option<Rate>,
    /// The mechanisms, in the order they run.
    pub mechanisms: Vec<MechanismConfig>,
    /// A refund after settlement takes back what the order earned, as far as it still can.
    pub clawback: bool,
    /// An amendment that lowers what members can earn takes effect no sooner than this many
    /// days after it is recorded (`notice_days`, 7 unless the plan says).
    pub notice_days: u32,
    /// Packages sold to qualify (入门套餐), with the value of their goods, for the entry-fee check.
    pub packages: Vec<Package>,
    /// Anti-fraud rules (`[antifraud]`); `None`: no referral is ever held for review.
    pub antifraud: Option<AntifraudConfig>,
    /// Withdrawal controls (`[withdrawal]`); `None`: a withdrawal is paid at once, whole.
    pub withdrawal: Option<WithdrawalConfig>,
    /// Members' votes on amendments (`[vote]`); `None`: nothing is put to the vote.
    pub vote: Option<VoteConfig>,
}

/// How members vote on a proposed amendment (seed 000: 用户参与规则制定).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct VoteConfig {
    /// How many days a vote stays open.
    pub days: u32,
    /// What a vote counts for.
    pub weight: VoteWeight,
    /// The share of what all eligible members could cast that must be cast.
    pub quorum: Rate,
    /// The share of the votes cast that yes must be more than.
    pub majority: Rate,
}

/// What one member's vote counts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum VoteWeight {
    /// One vote a member with settled spend.
    Member,
    /// The member's settled spend, in fen.
    Spend,
}

/// 提现: what a withdrawal costs and how much a member may take out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct WithdrawalConfig {
    /// 提现手续费: the share of each withdrawal kept as a fee (rounded down to the fen).
    pub fee_rate: Rate,
    /// The mechanism whose pool the fee goes back to (seeds 002 and 003: 回流到盈利池); the
    /// platform's when `None`.
    pub fee_to: Option<String>,
    /// The smallest withdrawal.
    pub min: Money,
    /// The most one member may ask for in one business day, held and paid together.
    pub max_per_day: Option<Money>,
    /// A withdrawal above this waits for an operator's approval, its money held meanwhile.
    pub review_above: Option<Money>,
}

/// Anti-fraud rules: a join or a referee that trips one has their referral held for review.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct AntifraudConfig {
    /// More members than this registered with one device: the next referral is held.
    pub max_per_device: Option<u32>,
    /// The same for one phone.
    pub max_per_phone: Option<u32>,
    /// The same for one IP.
    pub max_per_ip: Option<u32>,
    /// A referee sharing a device or an IP with their referrer.
    pub shared_device: bool,
    /// More than `referees` referees joining under one referrer within `hours`.
    pub burst: Option<Burst>,
    /// A referee whose first order is at most `max_amount` and who orders nothing more for `days`.
    pub quiet: Option<Quiet>,
    /// A referee sharing a device, phone or IP with any upline to 3 levels (a ring of accounts).
    pub rings: bool,
}

/// The burst rule's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Burst {
    /// Referees allowed in the window.
    pub referees: u32,
    /// The window.
    pub hours: u32,
}

/// The quiet-referee rule's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Quiet {
    /// Days without a second order.
    pub days: u32,
    /// The largest first order that counts as "only the minimum".
    pub max_amount: Money,
}

/// A package a member buys to qualify, as the compliance check sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Package {
    /// Its name.
    pub name: String,
    /// What it costs.
    pub price: Money,
    /// What the goods in it are worth.
    pub value: Money,
}

/// One mechanism of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct MechanismConfig {
    /// Names the pool, the points and the mechanism in every output.
    pub id: String,
    /// `name`: what members are shown instead of the id ("消费增值"), 1 to 32 characters, no
    /// control characters; without it, pages show the kind's own name (`MechanismView::title`).
    /// Read only by pages: no output of the engine, `fanli run` or the API's JSON changes with it.
    pub name: Option<String>,
    /// The share of each settled order's base that funds the pool.
    pub funding_rate: Rate,
    /// What `funding_rate` multiplies.
    pub funding_base: FundingBase,
    /// 返现池不足时暂停: while the obligations exceed the pool, nobody new qualifies and no new
    /// entry joins (the plan's setting unless the mechanism has its own).
    pub pause_when_underfunded: bool,
    /// What the mechanism does.
    pub kind: KindConfig,
}

impl Plan {
    /// Panics when a value the engine's arithmetic relies on is out of range: a bug in whoever
    /// built the plan, since the plan reader refuses such plans with a message.
    pub fn check_invariants(&self) {
        for (i, m) in self.mechanisms.iter().enumerate() {
            assert!(self.mechanisms[..i].iter().all(|other| other.id != m.id), "mechanism ids are unique");
            assert!(m.funding_rate <= Rate::ONE, "funding_rate is at most 1");
            m.kind.assert_valid();
        }
    }
}
