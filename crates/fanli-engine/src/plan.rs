//! A validated plan: the mechanisms a tenant runs, in the order they run.
//!
//! The plan file's syntax, its key names and the range checks that name a line live in
//! `fanli-format`; by the time a [`Plan`] exists its values are in range, and
//! [`Plan::check_invariants`] asserts the few facts the engine's arithmetic relies on.

use crate::num::{Money, Rate};
use crate::time::UtcOffset;

/// A plan: global settings and the mechanisms, in the order they run.
#[derive(Clone, Debug)]
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
}

/// One mechanism of a plan.
#[derive(Clone, Debug)]
pub struct MechanismConfig {
    /// Names the pool, the points and the mechanism in every output.
    pub id: String,
    /// The share of each settled order's base that funds the pool.
    pub funding_rate: Rate,
    /// What `funding_rate` multiplies.
    pub funding_base: FundingBase,
    /// What the mechanism does.
    pub kind: KindConfig,
}

/// What a mechanism's `funding_rate` multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FundingBase {
    /// The order amount.
    Amount,
    /// The order's profit: its `profit`, else amount × `margin_rate`, else its amount.
    Profit,
}

/// The kind of a mechanism, with its own settings.
#[derive(Clone, Debug)]
pub enum KindConfig {
    /// 消费增值: points that appreciate against a cash pool.
    Appreciation(AppreciationConfig),
    /// 推N返一 / 消费全返: refunds for bringing buyers.
    ReferRefund(ReferRefundConfig),
    /// 排队返利: a queue of rebates paid in order.
    Queue(QueueConfig),
}

impl KindConfig {
    /// The plan file's name for this kind.
    pub fn name(&self) -> &'static str {
        match self {
            KindConfig::Appreciation(_) => "appreciation",
            KindConfig::ReferRefund(_) => "refer_refund",
            KindConfig::Queue(_) => "queue",
        }
    }
}

/// Settings of an appreciation mechanism.
#[derive(Clone, Debug)]
pub struct AppreciationConfig {
    /// The share of the funding minted as points value.
    pub mint_ratio: Rate,
    /// The price while no points are outstanding, in yuan per point (positive).
    pub initial_price: Rate,
    /// The share of a sale that stays in the pool (below 1).
    pub sell_fee: Rate,
    /// A member whose points are worth this multiple of their spend is sold out; `None`: never.
    pub exit_multiple: Option<Rate>,
}

/// Settings of a refer_refund mechanism.
#[derive(Clone, Debug)]
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
}

/// A reward: a share of a base, or a fixed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Where a mechanism pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayTo {
    /// 零钱: withdrawable cash.
    Wallet,
    /// Store credit, spendable only on orders.
    Credit,
}

/// Settings of a queue mechanism.
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// An order of at least this creates an entry.
    pub min_order: Money,
    /// when_funded: an entry waits for this multiple of the order amount.
    pub credit_ratio: Rate,
    /// when_funded: an entry becomes eligible this many days after it settles.
    pub lock_days: u32,
    /// How entries are released.
    pub release: Release,
    /// A referee's settled order pays this share of it to the referrer's oldest waiting entry.
    pub referral_acceleration: Rate,
}

/// How a queue releases its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// At each day close, strictly in order, each head entry the pool can pay in full.
    WhenFunded,
    /// 进三补一: every `every` new entries make the oldest waiting one due for `ratio` × its order.
    EveryN {
        /// Entries per release (at least 1).
        every: u32,
        /// What a due entry is owed, as a share of its order.
        ratio: Rate,
    },
}

impl Plan {
    /// Panics when a value the engine's arithmetic relies on is out of range: a bug in whoever
    /// built the plan, since `fanli-format` refuses such plans with a message.
    pub fn check_invariants(&self) {
        for (i, m) in self.mechanisms.iter().enumerate() {
            assert!(self.mechanisms[..i].iter().all(|other| other.id != m.id), "mechanism ids are unique");
            assert!(m.funding_rate <= Rate::ONE, "funding_rate is at most 1");
            match &m.kind {
                KindConfig::Appreciation(a) => {
                    assert!(a.initial_price > Rate::ZERO, "initial_price is positive");
                    assert!(a.sell_fee < Rate::ONE, "sell_fee is below 1");
                    assert!(a.exit_multiple.is_none_or(|x| x > Rate::ZERO), "exit_multiple > 0");
                }
                KindConfig::ReferRefund(r) => assert!(!r.steps.is_empty(), "steps is not empty"),
                KindConfig::Queue(q) => {
                    if let Release::EveryN { every, .. } = q.release {
                        assert!(every >= 1, "every is at least 1");
                    }
                }
            }
        }
    }
}
