//! What an operator and a member see of a refer_refund mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::Money;
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
    /// The refund base, when the member participates.
    pub base: Option<Money>,
    /// Referrals counted so far.
    pub referrals: u32,
    /// Referrals counted in the current round of steps (k of N).
    pub in_round: u32,
    /// The number of steps (N).
    pub steps: u32,
    /// What the next referral pays (`None` once the steps are spent without `repeat`).
    pub next_reward: Option<Money>,
}

impl Figures for Progress {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("base"), Figure::money(self.base));
        out.figure(key!("referrals"), Figure::Count(self.referrals.into()));
        out.figure(key!("progress"), Figure::Of { done: self.in_round.into(), of: self.steps.into() });
        out.figure(key!("next_reward"), Figure::money(self.next_reward));
    }

    fn text(&self) -> String {
        let Some(base) = self.base else {
            return "not a participant yet: an order of at least the plan's qualify_min makes one".to_owned();
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
