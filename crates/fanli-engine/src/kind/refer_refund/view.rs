//! What an operator and a member see of a refer_refund mechanism.

use super::StepBase;
use crate::key;
use crate::kind::Figures;
use crate::num::{Money, Rate};
use crate::view::{Fields, Figure};

/// Participants and referrals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferRefundView {
    /// Members who qualified.
    pub participants: u64,
    /// Referrals counted.
    pub referrals: u64,
}

impl Figures for ReferRefundView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("participants"), Figure::Count(self.participants));
        out.figure(key!("referrals"), Figure::Count(self.referrals));
    }

    fn text(&self) -> String {
        format!("{} participants, {} referrals", self.participants, self.referrals)
    }
}

/// A member's progress towards the next refund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The refund base, when the member participates and the steps are shares of one base:
    /// `None` with `step_base = "each"`, where each step is a share of the order that pays it.
    pub base: Option<Money>,
    /// Referrals counted so far (with `trigger = "repurchase"`, the member's qualifying orders).
    pub referrals: u32,
    /// Referrals counted in the current round of steps (k of N).
    pub in_round: u32,
    /// The number of steps (N).
    pub steps: u32,
    /// What the next referral pays (`None` once the steps are spent without `repeat`, and, with
    /// `step_base = "each"`, when the next step is a share of an order not yet made).
    pub next_reward: Option<Money>,
    /// What the steps are shares of (always `First` with `trigger = "referral"`).
    pub step_base: StepBase,
    /// With `step_base = "each"`, the share of the next qualifying order the next step pays,
    /// when it is a share (`None` otherwise, and always with `"first"`).
    pub next_share: Option<Rate>,
}

impl Progress {
    /// Whether the member participates. A repurchase ladder pays step 1 on the order that makes
    /// a participant, so with `step_base = "each"` (which has no base to show) one counted
    /// order says it.
    fn participant(&self) -> bool {
        self.base.is_some() || self.step_base == StepBase::Each && self.referrals > 0
    }
}

/// A share as a percentage, exactly: 0.2 as "20%", 0.125 as "12.5%".
fn percent(rate: Rate) -> String {
    format!("{}%", Rate::from_units(rate.units() * 100))
}

impl Figures for Progress {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("base"), Figure::money(self.base));
        out.figure(key!("referrals"), Figure::Count(self.referrals.into()));
        out.figure(key!("progress"), Figure::Of { done: self.in_round.into(), of: self.steps.into() });
        out.figure(key!("next_reward"), Figure::money(self.next_reward));
        // Only a ladder of each order's own shares has one; "first" keeps its figures as they were.
        if self.step_base == StepBase::Each {
            let share = self.next_share.map(percent);
            out.figure(key!("next_share"), share.as_deref().map_or(Figure::Null, Figure::Text));
        }
    }

    fn text(&self) -> String {
        if !self.participant() {
            return "not a participant yet: an order of at least the plan's qualify_min makes one".to_owned();
        }
        let Some(base) = self.base else {
            let next = match (self.next_share, self.next_reward) {
                (Some(share), _) => format!("the next qualifying order pays {} of itself", percent(share)),
                (None, Some(reward)) => format!("the next qualifying order pays {reward}"),
                (None, None) => "the steps are complete".to_owned(),
            };
            return format!(
                "participant, each step a share of its own order; {} referrals ({} of {} this round); {next}",
                self.referrals, self.in_round, self.steps
            );
        };
        let next = match self.next_reward {
            Some(reward) => format!("the next referral pays {reward}"),
            None => "the steps are complete".to_owned(),
        };
        format!(
            "participant on {base}; {} referrals ({} of {} this round); {next}",
            self.referrals, self.in_round, self.steps
        )
    }

    fn shown(&self) -> bool {
        self.base.is_some() || self.referrals > 0
    }
}
