//! What an event did, beyond its postings: the facts a trace shows and a member cares about.

use crate::ledger::Rule;
use crate::num::{Money, Points};
use crate::time::Timestamp;
use crate::{MechanismId, MemberId, OrderId};

/// One consequence of an event, in the order it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Effect {
    /// A member joined.
    Joined {
        /// Who.
        member: MemberId,
    },
    /// An order was paid; it settles later (`settle_after_days`).
    Paid {
        /// Which.
        order: OrderId,
    },
    /// An order settled: mechanisms acted on it.
    Settled {
        /// Which.
        order: OrderId,
    },
    /// An unsettled order was refunded: it never reaches the mechanisms.
    Cancelled {
        /// Which.
        order: OrderId,
    },
    /// A settled order was refunded: rewards already granted stay.
    Refunded {
        /// Which.
        order: OrderId,
    },
    /// An exact repeat of an order: nothing happened.
    Repeated {
        /// Which.
        order: OrderId,
    },
    /// Appreciation points minted for a settled order.
    Minted {
        /// The appreciation mechanism.
        mechanism: MechanismId,
        /// The buyer.
        member: MemberId,
        /// How many.
        points: Points,
    },
    /// Appreciation points sold, by their holder or by a forced exit.
    Sold {
        /// The appreciation mechanism.
        mechanism: MechanismId,
        /// The seller.
        member: MemberId,
        /// How many.
        points: Points,
        /// What reached the wallet, after the fee.
        payout: Money,
        /// A forced exit (出局) rather than the member's own sale.
        forced: bool,
    },
    /// A member's order made them a refer_refund participant.
    Participant {
        /// The refer_refund mechanism.
        mechanism: MechanismId,
        /// Who.
        member: MemberId,
        /// The refund base: the qualifying order's amount.
        base: Money,
    },
    /// A referral counted.
    Referral {
        /// The refer_refund mechanism.
        mechanism: MechanismId,
        /// Who earns it.
        referrer: MemberId,
        /// Whose order counted.
        referee: MemberId,
        /// The referrer's count of referrals, this one included.
        count: u32,
        /// The step this referral paid, from 1 (0 when past the last step without `repeat`).
        step: u32,
        /// The number of steps.
        of: u32,
        /// What it pays (owed through the obligation queue).
        reward: Money,
    },
    /// A participant's own qualifying order paid a step (阶梯式返现).
    Repurchase {
        /// The refer_refund mechanism.
        mechanism: MechanismId,
        /// The buyer.
        member: MemberId,
        /// Their qualifying orders, this one included.
        count: u32,
        /// The step it paid, from 1 (0 when past the last step without `repeat`).
        step: u32,
        /// The number of steps.
        of: u32,
        /// What it pays (owed through the obligation queue).
        reward: Money,
    },
    /// An indirect referral reward.
    Indirect {
        /// The refer_refund mechanism.
        mechanism: MechanismId,
        /// Who earns it: the referrer's referrer.
        member: MemberId,
        /// Whose order counted.
        referee: MemberId,
        /// What it pays.
        reward: Money,
    },
    /// A queue entry joined.
    Queued {
        /// The queue mechanism.
        mechanism: MechanismId,
        /// Whose entry.
        member: MemberId,
        /// The entry's number in this queue, from 1.
        entry: u64,
        /// What it waits for.
        amount: Money,
        /// Its position among the waiting entries, from 1.
        position: u64,
        /// What the entries ahead of it wait for.
        ahead: Money,
    },
    /// A referee's order paid part of a waiting entry early.
    Accelerated {
        /// The queue mechanism.
        mechanism: MechanismId,
        /// The referrer whose entry it is.
        member: MemberId,
        /// The entry's number.
        entry: u64,
        /// What was paid.
        amount: Money,
        /// What the entry still waits for.
        remaining: Money,
    },
    /// A queue entry paid at its turn (when_funded).
    Released {
        /// The queue mechanism.
        mechanism: MechanismId,
        /// Whose entry.
        member: MemberId,
        /// The entry's number.
        entry: u64,
        /// What was paid.
        amount: Money,
    },
    /// A queue entry became due (进三补一) and joined the obligation queue.
    Due {
        /// The queue mechanism.
        mechanism: MechanismId,
        /// Whose entry.
        member: MemberId,
        /// The entry's number.
        entry: u64,
        /// What it is owed.
        amount: Money,
    },
    /// A distribution commission, owed through the obligation queue.
    Commission {
        /// The distribution mechanism.
        mechanism: MechanismId,
        /// Who earns it.
        member: MemberId,
        /// Whose order it is on.
        buyer: MemberId,
        /// Which rule: `Level`, `Rank`, `Peer`, `Regional` or `Recruiter`.
        rule: Rule,
        /// What it pays.
        amount: Money,
    },
    /// What an order's distribution budget left unallocated went back to the platform.
    Returned {
        /// The distribution mechanism.
        mechanism: MechanismId,
        /// How much.
        amount: Money,
    },
    /// A green-points lot was granted for a settled order.
    Granted {
        /// The green_points mechanism.
        mechanism: MechanismId,
        /// The buyer.
        member: MemberId,
        /// The lot's points.
        points: Points,
        /// What it releases a day.
        daily: Money,
    },
    /// Green points released from a member's lots and owed to their wallet.
    GreenReleased {
        /// The green_points mechanism.
        mechanism: MechanismId,
        /// Whose points.
        member: MemberId,
        /// Whose base release caused it (the member themself for their own daily release).
        from: MemberId,
        /// `DailyRelease`, `ShareRelease` or `TeamRelease`.
        rule: Rule,
        /// How much (1 point = 1 yuan).
        amount: Money,
    },
    /// A cycle payout: the day's dividend or the honor split.
    Dividend {
        /// The cycle mechanism.
        mechanism: MechanismId,
        /// To whom.
        member: MemberId,
        /// `Dividend` or `Honor`.
        rule: Rule,
        /// What was paid.
        amount: Money,
    },
    /// An ad was viewed: task points released.
    AdViewed {
        /// The ad_tasks mechanism.
        mechanism: MechanismId,
        /// The viewer.
        member: MemberId,
        /// Their views this business day, this one included.
        views: u32,
        /// What it released, owed to the wallet.
        reward: Money,
    },
    /// Loyalty points granted: a new lot.
    Earned {
        /// The loyalty mechanism.
        mechanism: MechanismId,
        /// Who.
        member: MemberId,
        /// How many.
        points: Points,
        /// `Earn`, `RefereeBonus` or `TopupBonus`.
        rule: Rule,
    },
    /// Loyalty points will expire soon (提醒).
    ExpiryReminder {
        /// The loyalty mechanism.
        mechanism: MechanismId,
        /// Whose.
        member: MemberId,
        /// What is left of the lot.
        points: Points,
        /// When it expires.
        expires: Timestamp,
        /// The reminder (days before) that fired.
        days: u32,
    },
    /// Loyalty points expired unspent.
    Expired {
        /// The loyalty mechanism.
        mechanism: MechanismId,
        /// Whose.
        member: MemberId,
        /// How many.
        points: Points,
    },
    /// A reward of the catalogue redeemed.
    Redeemed {
        /// The loyalty mechanism.
        mechanism: MechanismId,
        /// Who.
        member: MemberId,
        /// The reward (index into the plan's catalogue).
        reward: u32,
        /// What it cost.
        points: Points,
    },
    /// Loyalty points cashed out.
    CashedOut {
        /// The loyalty mechanism.
        mechanism: MechanismId,
        /// Who.
        member: MemberId,
        /// Points spent.
        points: Points,
        /// Cash owed to the wallet.
        cash: Money,
    },
    /// Coalition points redeemed at a partner.
    PartnerRedeemed {
        /// The coalition mechanism.
        mechanism: MechanismId,
        /// Who.
        member: MemberId,
        /// The partner (index into the plan's partners).
        partner: u32,
        /// How many.
        points: Points,
    },
    /// 返现池不足时暂停: the mechanism owes more than its pool holds, and lets nobody new in.
    Paused {
        /// The mechanism.
        mechanism: MechanismId,
        /// What it owes.
        owed: Money,
        /// What its pool holds.
        pool: Money,
    },
    /// A withdrawal waits for an operator's review, its money held.
    WithdrawalHeld {
        /// Who asked.
        member: MemberId,
        /// How much.
        amount: Money,
    },
    /// A withdrawal was paid out, less its fee.
    WithdrawalPaid {
        /// Who asked.
        member: MemberId,
        /// What left the wallet.
        amount: Money,
        /// What of it was kept as the fee.
        fee: Money,
    },
    /// A withdrawal was rejected on review: its money is back in the wallet.
    WithdrawalReturned {
        /// Who asked.
        member: MemberId,
        /// How much.
        amount: Money,
    },
    /// A proposal was put to the members' vote.
    ProposalOpened {
        /// The proposal, by number (see `Engine::proposal_name`).
        proposal: u32,
        /// When its vote closes.
        closes: Timestamp,
    },
    /// A member voted.
    Voted {
        /// The proposal.
        proposal: u32,
        /// Who.
        member: MemberId,
        /// Yes or no.
        yes: bool,
        /// What the vote counts for (1, or the member's settled spend in fen).
        weight: i64,
    },
    /// A proposal's votes were counted (`Engine::proposal_outcome` says how it came out).
    Tallied {
        /// The proposal.
        proposal: u32,
    },
    /// An amendment took effect: from now on the plan is the amended one.
    PlanAmended {
        /// When it was to take effect (this event is the first at or after it).
        effective_at: Timestamp,
    },
    /// An amendment added the mechanism: it starts empty.
    MechanismAdded {
        /// The mechanism.
        mechanism: MechanismId,
    },
    /// An amendment retired the mechanism: it takes nothing new and pays what it owes.
    MechanismRetired {
        /// The mechanism.
        mechanism: MechanismId,
    },
    /// The pause ended: the pool covers what the mechanism owes.
    Resumed {
        /// The mechanism.
        mechanism: MechanismId,
    },
    /// A settled order would have made the member a participant or added an entry or a lot,
    /// but the mechanism is paused.
    HeldBack {
        /// The mechanism.
        mechanism: MechanismId,
        /// The buyer.
        member: MemberId,
    },
    /// `clawback`: what a refunded order's rewards gave back, and what they could not.
    ClawedBack {
        /// The mechanism.
        mechanism: MechanismId,
        /// The refunded order.
        order: OrderId,
        /// Taken back, and kept.
        totals: ClawbackTotals,
    },
    /// Anti-fraud held a member's referral for review.
    Held {
        /// The referee.
        member: MemberId,
        /// The review (index into [`crate::Engine::reviews`]): the rules that fired, the evidence.
        review: u32,
    },
    /// A held referral was reviewed.
    Reviewed {
        /// The referee.
        member: MemberId,
        /// Approved (its rewards happen now) or rejected (never).
        approved: bool,
    },
    /// An obligation was paid from the pool, in full or in part.
    ObligationPaid {
        /// The mechanism.
        mechanism: MechanismId,
        /// To whom.
        member: MemberId,
        /// What was paid now.
        amount: Money,
        /// What this obligation still waits for.
        remaining: Money,
    },
}

/// What refunds after settlement took back from a mechanism, and what they could not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct ClawbackTotals {
    /// Unpaid promises cancelled (commissions, referral steps, queue entries).
    pub cancelled: Money,
    /// Already paid out: the merchant's cost.
    pub kept: Money,
    /// Points burned (unreleased, unspent).
    pub points_taken: Points,
    /// Points already sold, released or spent.
    pub points_kept: Points,
}

impl ClawbackTotals {
    /// Points burned, and points the refund could no longer take back.
    pub(crate) fn points(taken: Points, kept: Points) -> ClawbackTotals {
        ClawbackTotals { points_taken: taken, points_kept: kept, ..ClawbackTotals::default() }
    }
}

impl std::ops::AddAssign for ClawbackTotals {
    fn add_assign(&mut self, other: ClawbackTotals) {
        self.cancelled += other.cancelled;
        self.kept += other.kept;
        self.points_taken += other.points_taken;
        self.points_kept += other.points_kept;
    }
}
