//! The events the engine applies, borrowing their names from the caller's buffer.
//!
//! An event here is already well formed (amounts parsed, required fields present); whether it
//! makes sense against the state (a known member, enough points) is the engine's to decide.

use crate::num::{Money, Points};
use crate::plan::Plan;
use crate::time::Timestamp;

/// One input event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// When it happened; never earlier than the event before it.
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind<'a>,
}

/// What an event does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind<'a> {
    /// A member joins, optionally under a referrer who has already joined.
    Join {
        /// The new member's id.
        member: &'a str,
        /// Who referred them, fixed from now on.
        referrer: Option<&'a str>,
        /// Contact and device facts kept for anti-fraud rules.
        phone: Option<&'a str>,
        /// A device fingerprint.
        device: Option<&'a str>,
        /// The address registered from.
        ip: Option<&'a str>,
    },
    /// A store is registered (or its region and recruiter updated).
    Store {
        /// The store's id.
        store: &'a str,
        /// Province, city, district (any prefix of them).
        region: Vec<&'a str>,
        /// The member who recruited the store (招商).
        recruiter: Option<&'a str>,
    },
    /// A member becomes the agent of a region.
    Agent {
        /// The agent.
        member: &'a str,
        /// "district", "city" or "province".
        level: &'a str,
        /// The region path the agent covers.
        region: Vec<&'a str>,
    },
    /// An order is paid.
    Order(Order<'a>),
    /// An order is refunded.
    Refund {
        /// The order's id.
        order: &'a str,
    },
    /// A member sells appreciation points.
    Sell {
        /// The seller.
        member: &'a str,
        /// The appreciation mechanism.
        mechanism: &'a str,
        /// How many.
        points: SellAmount,
    },
    /// A member withdraws cash from their wallet.
    Withdraw {
        /// The member.
        member: &'a str,
        /// How much (positive).
        amount: Money,
    },
    /// A member tops up store credit (储值).
    Topup {
        /// The member.
        member: &'a str,
        /// How much (positive).
        amount: Money,
    },
    /// A member redeems a reward from a catalogue.
    Redeem {
        /// The member.
        member: &'a str,
        /// The mechanism whose catalogue it is.
        mechanism: &'a str,
        /// The reward's name (a loyalty catalogue).
        reward: Option<&'a str>,
        /// The partner where points are redeemed (a coalition).
        partner: Option<&'a str>,
        /// How many points (a coalition).
        points: Option<Points>,
    },
    /// Cash is added to a pool without minting (融资补贴).
    Inject {
        /// The mechanism whose pool receives it.
        mechanism: &'a str,
        /// How much (positive).
        amount: Money,
    },
    /// An advertiser funds an ad_tasks pool.
    AdvertiserFund {
        /// The mechanism.
        mechanism: &'a str,
        /// How much (positive).
        amount: Money,
    },
    /// A member views an ad.
    AdView {
        /// The viewer.
        member: &'a str,
        /// The ad_tasks mechanism.
        mechanism: &'a str,
    },
    /// The business day closes: due orders settle, then the daily jobs run.
    CloseDay,
    /// An operator's decision on a member's withdrawal waiting for review (`[withdrawal]`'s
    /// `review_above`).
    WithdrawalReview {
        /// Whose withdrawal.
        member: &'a str,
        /// Approve (paid now) or reject (back to the wallet).
        approve: bool,
    },
    /// An amendment put to the members' vote (`[vote]`).
    Propose {
        /// The proposal's id.
        proposal: &'a str,
        /// The new plan's text, as the log keeps it.
        text: &'a str,
        /// The new plan, read from `text`.
        plan: Box<Plan>,
    },
    /// A member's vote on a proposal.
    Vote {
        /// Who.
        member: &'a str,
        /// Which proposal.
        proposal: &'a str,
        /// Yes or no.
        yes: bool,
    },
    /// A closed proposal's votes counted.
    Tally {
        /// Which proposal.
        proposal: &'a str,
    },
    /// The plan is amended: orders settled from `effective_at` on run under `plan`.
    AmendPlan {
        /// When the new plan takes effect (never before the event itself).
        effective_at: Timestamp,
        /// The new plan's text, as the log keeps it.
        text: &'a str,
        /// The new plan, read from `text`.
        plan: Box<Plan>,
    },
    /// An operator's decision on a referral held by anti-fraud.
    Review {
        /// The referee whose referral was held.
        member: &'a str,
        /// Approve (its rewards proceed now) or reject (they never happen).
        approve: bool,
    },
}

/// A paid order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order<'a> {
    /// Unique per tenant; repeating it exactly is a no-op.
    pub id: &'a str,
    /// The buyer.
    pub member: &'a str,
    /// What the buyer paid (positive).
    pub amount: Money,
    /// The order's profit, when the shop states it (at most the amount).
    pub profit: Option<Money>,
    /// Where it was bought.
    pub store: Option<&'a str>,
    /// The coalition partner it was bought from.
    pub partner: Option<&'a str>,
    /// The part of the amount paid with store credit.
    pub credit: Money,
}

/// How many points a sale sells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SellAmount {
    /// All the member holds (a no-op when that is none).
    All,
    /// This many (positive).
    Points(Points),
}

impl EventKind<'_> {
    /// The event's `type` in the stream.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Join { .. } => "join",
            EventKind::Store { .. } => "store",
            EventKind::Agent { .. } => "agent",
            EventKind::Order(_) => "order",
            EventKind::Refund { .. } => "refund",
            EventKind::Sell { .. } => "sell",
            EventKind::Withdraw { .. } => "withdraw",
            EventKind::Topup { .. } => "topup",
            EventKind::Redeem { .. } => "redeem",
            EventKind::Inject { .. } => "inject",
            EventKind::AdvertiserFund { .. } => "advertiser_fund",
            EventKind::AdView { .. } => "ad_view",
            EventKind::CloseDay => "close_day",
            EventKind::Review { .. } => "review",
            EventKind::AmendPlan { .. } => "amend_plan",
            EventKind::WithdrawalReview { .. } => "withdrawal_review",
            EventKind::Propose { .. } => "propose",
            EventKind::Vote { .. } => "vote",
            EventKind::Tally { .. } => "tally",
        }
    }
}
