//! The fanli engine: a plan applied to a stream of events, as a pure state machine.
//!
//! Events go in through [`Engine::apply`]; postings and effects come out. There is no I/O, no
//! clock, no randomness, no float and no hash-order iteration here, so the same plan and the same
//! events give the same bytes out everywhere: in `fanli run`, in the simulator and in the server.
//!
//! An event is either applied whole or rejected with a [`Rejection`] that changed nothing: every
//! handler checks all it needs before it moves any money.

mod antifraud;
pub mod compliance;
mod effect;
mod engine;
mod event;
mod findings;
mod headroom;
mod keys;
pub mod kind;
mod ledger;
mod members;
mod names;
mod num;
pub mod plan;
mod pool;
mod rejection;
#[cfg(feature = "snapshot")]
pub mod snapshot;
mod table;
mod terms;
mod time;
pub mod view;

pub use antifraud::{Link, Review};
pub use effect::ClawbackTotals;
pub use effect::Effect;
pub use engine::{
    Applied, Engine, MechanismView, MemberMechanism, MemberView, Outcome, ProposalView, WaitingWithdrawal,
};
pub use event::{Event, EventKind, Order, SellAmount};
pub use keys::{Entry, KeyLines, PlanError, PlanErrors, Value, ValueKind};
pub use kind::ad_tasks::{AdTasksConfig, AdTasksStanding, AdTasksView, Band};
pub use kind::appreciation::{AppreciationConfig, AppreciationStanding, AppreciationView};
pub use kind::coalition::{CoalitionConfig, CoalitionStanding, CoalitionView, Partner, PartnerPeriod};
pub use kind::cycle::{CycleConfig, CycleStanding, CycleView, Honor};
pub use kind::distribution::{Commissions, DistributionConfig, DistributionView};
pub use kind::green_points::{GreenPointsConfig, GreenPointsView, Lots, Tier};
pub use kind::loyalty::{
    BonusDay, Cashout, LoyaltyConfig, LoyaltyStanding, LoyaltyTier, LoyaltyView, Reward, TierMin, TopupBonus,
    Totals,
};
pub use kind::queue::{Place, QueueConfig, QueueView, Release};
pub use kind::refer_refund::{Progress, ReferRefundConfig, ReferRefundView, Step, StepBase, Trigger};
pub use kind::{Figures, KindConfig, MechanismDetail, MemberDetail, OfKind};
pub use ledger::{Account, Asset, Posting, Rule};
pub use num::{AmountError, Fixed, MONEY_MAX, Money, POINTS_MAX, Points, Price, Rate};
pub use plan::read::read_plan;
pub use plan::{
    AntifraudConfig, Burst, FundingBase, MechanismConfig, Package, PayTo, Plan, Quiet, Rank, Reach,
    VoteConfig, VoteWeight, WithdrawalConfig, rank_rate,
};
pub use rejection::{ID_MAX_CHARS, Rejection, check_id};
#[cfg(feature = "snapshot")]
pub use snapshot::{SNAPSHOT_FORMAT, SNAPSHOT_MAGIC, SnapshotError};
pub use time::{AtOffset, Timestamp, UtcOffset, date};
pub use view::{Fields, Figure, Key};

/// A member, by join order (0 is the first to join).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct MemberId(u32);

/// A mechanism, by its place in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct MechanismId(u16);

/// An order, by the order it was first paid in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct OrderId(u32);

macro_rules! index {
    ($t:ident, $int:ty) => {
        impl $t {
            /// The position, for indexing.
            pub fn index(self) -> usize {
                self.0 as usize
            }
            #[allow(dead_code, reason = "not every id is made from an index")]
            pub(crate) fn from_index(index: usize) -> $t {
                $t(<$int>::try_from(index).expect(concat!(stringify!($t), " fits its index type")))
            }
        }
    };
}
index!(MemberId, u32);
index!(MechanismId, u16);
index!(OrderId, u32);
