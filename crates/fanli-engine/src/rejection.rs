//! Why an event was refused: every rejection, with its stable code.
//!
//! A rejection changes nothing: every handler checks what it needs before it moves anything.
//! The variants are listed in the order an event is checked (its time, then its ids, then what
//! they name, then its amounts, then the balances they need), which is the order in which one
//! of several problems is reported. `docs/rejections.md` lists the codes.

use crate::num::{Money, Points};
use crate::time::Timestamp;

/// Why an event was refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The event is earlier than the one before it.
    #[error("time went backwards: {at} is before the previous event at {previous}")]
    TimeWentBackwards {
        /// This event's time.
        at: Timestamp,
        /// The previous accepted event's time.
        previous: Timestamp,
    },
    /// An id is empty.
    #[error("`{0}` is empty")]
    EmptyId(&'static str),
    /// An id breaks the rule for ids ([`check_id`]): blank, longer than 64 characters, or with
    /// a control character.
    #[error("`{what}` {why}")]
    BadId {
        /// Which id (`member`, `order`, `store`, `proposal`).
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// A member named itself as referrer.
    #[error("member `{0}` cannot refer itself")]
    SelfReferral(String),
    /// A member with this id has joined already.
    #[error("member `{0}` has already joined")]
    AlreadyJoined(String),
    /// The referrer has not joined.
    #[error("unknown referrer `{0}`: a referrer must join before the members they refer")]
    UnknownReferrer(String),
    /// No member has this id.
    #[error("unknown member `{0}`")]
    UnknownMember(String),
    /// No order has this id.
    #[error("unknown order `{0}`")]
    UnknownOrder(String),
    /// No mechanism has this id.
    #[error("unknown mechanism `{0}`")]
    UnknownMechanism(String),
    /// The mechanism's kind does not do this.
    #[error("mechanism `{mechanism}` is a {kind} mechanism: it cannot {action}")]
    WrongMechanism {
        /// The mechanism.
        mechanism: String,
        /// Its kind.
        kind: &'static str,
        /// What the event asked.
        action: &'static str,
    },
    /// A mechanism an amendment retired, asked for something new.
    #[error("mechanism `{mechanism}` was retired by an amendment: it cannot {action}")]
    Retired {
        /// The mechanism.
        mechanism: String,
        /// What the event asked.
        action: &'static str,
    },
    /// A partner no coalition of the plan lists.
    #[error("unknown partner `{0}`: the plan's coalition does not list it")]
    UnknownPartner(String),
    /// A reward not in the mechanism's catalogue.
    #[error("mechanism `{mechanism}` has no reward `{reward}`; its rewards: {known}")]
    UnknownReward {
        /// The mechanism.
        mechanism: String,
        /// The reward asked for.
        reward: String,
        /// The catalogue's names.
        known: String,
    },
    /// An agent's level is not one of the three.
    #[error("agent level `{0}` is not one of district, city, province")]
    UnknownLevel(String),
    /// A region path does not fit what it names.
    #[error("{0}")]
    BadRegion(String),
    /// A redemption without what its mechanism needs.
    #[error("a redemption from `{mechanism}` needs {needs}")]
    RedeemNeeds {
        /// The mechanism.
        mechanism: String,
        /// What it needs.
        needs: &'static str,
    },
    /// A review under a plan without anti-fraud rules.
    #[error("the plan has no [antifraud] rules: there is nothing to review")]
    NoAntifraud,
    /// A review for a member whose referral is not held.
    #[error("member `{0}` has no referral waiting for review")]
    NoReview(String),
    /// A vote event under a plan without `[vote]`.
    #[error("the plan has no [vote] rules: nothing is put to the members' vote")]
    NoVoteRules,
    /// A proposal id used before.
    #[error("proposal `{0}` exists already")]
    ProposalExists(String),
    /// No proposal has this id.
    #[error("unknown proposal `{0}`")]
    UnknownProposal(String),
    /// A vote after the vote closed.
    #[error("the vote on proposal `{proposal}` closed at {closed}")]
    VoteClosed {
        /// The proposal.
        proposal: String,
        /// When it closed.
        closed: Timestamp,
    },
    /// A tally before the vote closes.
    #[error("the vote on proposal `{proposal}` is open until {closes}: tally it then")]
    VoteOpen {
        /// The proposal.
        proposal: String,
        /// When it closes.
        closes: Timestamp,
    },
    /// A second tally.
    #[error("proposal `{0}` was tallied already")]
    AlreadyTallied(String),
    /// A member's second vote on a proposal.
    #[error("member `{member}` has voted on proposal `{proposal}` already")]
    AlreadyVoted {
        /// The member.
        member: String,
        /// The proposal.
        proposal: String,
    },
    /// A vote from a member without settled spend.
    #[error("member `{0}` has no settled spend: only members who bought may vote")]
    NotEligible(String),
    /// An amendment dated before the event that records it.
    #[error("`effective_at` {effective_at} is before the amendment's own time {at}")]
    EffectiveInPast {
        /// When it would take effect.
        effective_at: Timestamp,
        /// The event's time.
        at: Timestamp,
    },
    /// An amendment that would take effect before one already waiting.
    #[error("`effective_at` {effective_at} is before that of an amendment already waiting ({waiting})")]
    AmendmentOutOfOrder {
        /// When it would take effect.
        effective_at: Timestamp,
        /// When the waiting one takes effect.
        waiting: Timestamp,
    },
    /// An amendment that changes a plan-wide setting a running plan keeps.
    #[error("an amendment cannot change `{0}` of a running plan")]
    PlanSettingChanged(&'static str),
    /// An amendment that gives a mechanism another kind.
    #[error("mechanism `{mechanism}` is a {was} mechanism: an amendment cannot make it {now}")]
    KindChanged {
        /// The mechanism.
        mechanism: String,
        /// Its kind.
        was: &'static str,
        /// The kind the amendment gives it.
        now: &'static str,
    },
    /// An amendment whose plan `fanli check` refuses.
    #[error("the amended plan crosses a red line (`fanli check`): {0}")]
    Noncompliant(String),
    /// An amendment that would reduce what members were already promised.
    #[error("the amendment would reduce what members of `{mechanism}` hold or were promised: {why}")]
    ReducesPromise {
        /// The mechanism.
        mechanism: String,
        /// What it would reduce.
        why: &'static str,
    },
    /// An amendment that changes what members' holdings were made under.
    #[error("an amendment cannot change `{mechanism}`'s {why}")]
    AmendmentFixed {
        /// The mechanism.
        mechanism: String,
        /// What it would change.
        why: &'static str,
    },
    /// An amendment that lowers what members can earn, without the plan's notice.
    #[error(
        "the amendment lowers what members can earn ({what}): with {days} days' notice it takes \
         effect at {earliest} at the soonest, not {effective_at}"
    )]
    NoticeTooShort {
        /// The first terms it lowers: `` `ID` `` for a mechanism's, `[withdrawal]`.
        what: String,
        /// The plan's `notice_days`.
        days: u32,
        /// The soonest it may take effect.
        earliest: Timestamp,
        /// When it said it takes effect.
        effective_at: Timestamp,
    },
    /// An order id was paid before with other content.
    #[error("order `{order}` was already paid with another {field} ({before}, now {now})")]
    OrderReused {
        /// The order id.
        order: String,
        /// The first field that differs.
        field: &'static str,
        /// Its earlier value.
        before: String,
        /// Its value now.
        now: String,
    },
    /// An amount that must be positive is not.
    #[error("`{0}` must be positive")]
    NotPositive(&'static str),
    /// A part of an order exceeds the order.
    #[error("`{field}` {part} is more than the order amount {amount}")]
    ExceedsAmount {
        /// Which part: `profit` or `credit`.
        field: &'static str,
        /// Its value.
        part: Money,
        /// The order amount.
        amount: Money,
    },
    /// The order spends more store credit than the member has.
    #[error("member `{member}` has {held} store credit, the order spends {wanted}")]
    NotEnoughCredit {
        /// The member.
        member: String,
        /// Their store credit.
        held: Money,
        /// What the order spends.
        wanted: Money,
    },
    /// A withdrawal below the plan's minimum.
    #[error("member `{member}` asked to withdraw {amount}; the smallest withdrawal is {min}")]
    BelowMinimum {
        /// The member.
        member: String,
        /// What they asked for.
        amount: Money,
        /// The plan's `min`.
        min: Money,
    },
    /// A second withdrawal while one waits for review.
    #[error("member `{0}` has a withdrawal waiting for review: it must be decided first")]
    WithdrawalWaiting(String),
    /// A withdrawal past the member's cap for the day.
    #[error("member `{member}` asked for {asked} today; {amount} more is past the {cap} a day")]
    OverDailyCap {
        /// The member.
        member: String,
        /// What they asked for now.
        amount: Money,
        /// What they asked for earlier the same business day.
        asked: Money,
        /// The plan's `max_per_day`.
        cap: Money,
    },
    /// A review of a withdrawal when none waits.
    #[error("member `{0}` has no withdrawal waiting for review")]
    NoWithdrawalWaiting(String),
    /// A withdrawal above the wallet.
    #[error("member `{member}` has {held} in their wallet, cannot withdraw {wanted}")]
    NotEnoughWallet {
        /// The member.
        member: String,
        /// Their wallet.
        held: Money,
        /// The withdrawal.
        wanted: Money,
    },
    /// A sale of more points than held.
    #[error("member `{member}` holds {held} points of `{mechanism}`, cannot {action} {wanted}")]
    NotEnoughPoints {
        /// What the event tried: "sell", "redeem", "cash out".
        action: &'static str,
        /// The member.
        member: String,
        /// The mechanism.
        mechanism: String,
        /// What they hold.
        held: Points,
        /// What they tried to sell.
        wanted: Points,
    },
    /// A member has viewed as many ads today as the plan allows.
    #[error("member `{member}` has viewed {views} ads today, the most a day")]
    TooManyViews {
        /// The member.
        member: String,
        /// The views a day allowed.
        views: u32,
    },
    /// The event's worst case would take a figure past 2^62: its numbers outgrow 64 bits.
    #[error("this event cannot be computed: {0} would outgrow 64 bits (past 2^62 units)")]
    Overflow(String),
}

impl Rejection {
    /// The stable snake_case code of this kind of rejection, for programs (the message is for
    /// people and may be reworded).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::TimeWentBackwards { .. } => "time_went_backwards",
            Rejection::EmptyId(_) => "empty_id",
            Rejection::BadId { .. } => "bad_id",
            Rejection::SelfReferral(_) => "self_referral",
            Rejection::AlreadyJoined(_) => "already_joined",
            Rejection::UnknownReferrer(_) => "unknown_referrer",
            Rejection::UnknownMember(_) => "unknown_member",
            Rejection::UnknownOrder(_) => "unknown_order",
            Rejection::UnknownMechanism(_) => "unknown_mechanism",
            Rejection::WrongMechanism { .. } => "wrong_mechanism",
            Rejection::Retired { .. } => "retired_mechanism",
            Rejection::UnknownPartner(_) => "unknown_partner",
            Rejection::UnknownReward { .. } => "unknown_reward",
            Rejection::UnknownLevel(_) => "unknown_level",
            Rejection::BadRegion(_) => "bad_region",
            Rejection::RedeemNeeds { .. } => "redeem_needs",
            Rejection::NoAntifraud => "no_antifraud",
            Rejection::NoReview(_) => "no_review",
            Rejection::NoVoteRules => "no_vote_rules",
            Rejection::ProposalExists(_) => "proposal_exists",
            Rejection::UnknownProposal(_) => "unknown_proposal",
            Rejection::VoteClosed { .. } => "vote_closed",
            Rejection::VoteOpen { .. } => "vote_open",
            Rejection::AlreadyTallied(_) => "already_tallied",
            Rejection::AlreadyVoted { .. } => "already_voted",
            Rejection::NotEligible(_) => "not_eligible",
            Rejection::EffectiveInPast { .. } => "effective_in_past",
            Rejection::AmendmentOutOfOrder { .. } => "amendment_out_of_order",
            Rejection::PlanSettingChanged(_) => "plan_setting_changed",
            Rejection::KindChanged { .. } => "kind_changed",
            Rejection::Noncompliant(_) => "noncompliant",
            Rejection::ReducesPromise { .. } => "reduces_promise",
            Rejection::AmendmentFixed { .. } => "amendment_fixed",
            Rejection::NoticeTooShort { .. } => "notice_too_short",
            Rejection::OrderReused { .. } => "order_reused",
            Rejection::NotPositive(_) => "not_positive",
            Rejection::ExceedsAmount { .. } => "exceeds_amount",
            Rejection::NotEnoughCredit { .. } => "not_enough_credit",
            Rejection::BelowMinimum { .. } => "below_minimum",
            Rejection::WithdrawalWaiting(_) => "withdrawal_waiting",
            Rejection::OverDailyCap { .. } => "over_daily_cap",
            Rejection::NoWithdrawalWaiting(_) => "no_withdrawal_waiting",
            Rejection::NotEnoughWallet { .. } => "not_enough_wallet",
            Rejection::NotEnoughPoints { .. } => "not_enough_points",
            Rejection::TooManyViews { .. } => "too_many_views",
            Rejection::Overflow(_) => "overflow",
        }
    }
}

/// The most characters an id may have.
pub const ID_MAX_CHARS: usize = 64;

/// The rule for ids (members, orders, stores, partners, proposals; SPEC.md, *Event stream*):
/// 1 to 64 characters, not blank, no control character. One rule for every reader of events:
/// `fanli run`, the simulator and the server all apply events through the engine.
#[inline]
pub fn check_id(what: &'static str, id: &str) -> Result<(), Rejection> {
    // The usual id, checked inline: a few printable ASCII characters, none a space (a byte each).
    if !id.is_empty() && id.len() <= ID_MAX_CHARS && id.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    check_id_closely(what, id)
}

/// [`check_id`] for an id that is not plain printable ASCII: empty, long, or with spaces, other
/// scripts or control characters.
#[cold]
fn check_id_closely(what: &'static str, id: &str) -> Result<(), Rejection> {
    if id.is_empty() {
        return Err(Rejection::EmptyId(what));
    }
    let bad = |why: String| Err(Rejection::BadId { what, why });
    let (mut chars, mut blank) = (0, true);
    for c in id.chars() {
        if c.is_control() {
            return bad(format!("has a control character (U+{:04X}); an id may not", c as u32));
        }
        blank &= c.is_whitespace();
        chars += 1;
    }
    if blank {
        return bad("is blank: an id needs a character that is not a space".to_owned());
    }
    if chars > ID_MAX_CHARS {
        return bad(format!("is {chars} characters long; an id has at most {ID_MAX_CHARS}"));
    }
    Ok(())
}
