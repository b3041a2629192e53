//! 推N返一 / 消费全返 / 预售返现: bring buyers, get your purchase back in steps.
//!
//! A member becomes a participant when an order of at least `qualify_min` settles; that order's
//! amount is their base. Each direct referee counts once, with their first settled order of at
//! least `referee_min`, and only if the referrer is a participant at that moment (a referee whose
//! first qualifying order settled before their referrer qualified is not counted later: the
//! spec counts "the first order", and a later order is not it). Rewards are owed through the
//! obligation queue, so an underfunded pool pays them late, never from elsewhere.

use super::{Base, Books, Settlement, slot};
use crate::MemberId;
use crate::effect::Effect;
use crate::ledger::Rule;
use crate::num::Money;
use crate::plan::ReferRefundConfig;

#[derive(Debug)]
pub(crate) struct ReferRefund {
    pub(crate) config: ReferRefundConfig,
    members: Vec<Participant>,
    participants: u64,
    referrals: u64,
}

#[derive(Clone, Debug, Default)]
struct Participant {
    /// The refund base in fen; 0 until the member qualifies.
    base: i64,
    /// Referrals counted for this member.
    referrals: u32,
    /// This member's first order of at least `referee_min` has settled (counted or not).
    referee_used: bool,
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

impl ReferRefund {
    pub(crate) fn new(config: &ReferRefundConfig) -> ReferRefund {
        ReferRefund { config: config.clone(), members: Vec::new(), participants: 0, referrals: 0 }
    }

    pub(crate) fn on_settled(&mut self, base: &mut Base, books: &mut Books, order: &Settlement) {
        let Settlement { member, referrer, grandparent, amount, .. } = *order;
        let buyer = slot(&mut self.members, member);
        if buyer.base == 0 && amount >= self.config.qualify_min {
            buyer.base = amount.fen();
            self.participants += 1;
            books.effects.push(Effect::Participant { mechanism: base.id, member, base: amount });
        }
        if buyer.referee_used || amount < self.config.referee_min {
            return;
        }
        buyer.referee_used = true;
        let Some(referrer) = referrer else { return };
        let parent = slot(&mut self.members, referrer);
        if parent.base == 0 {
            return;
        }
        parent.referrals += 1;
        self.referrals += 1;
        let count = parent.referrals;
        let steps = self.config.steps.len() as u32;
        let step = if self.config.repeat {
            (count - 1) % steps + 1
        } else if count <= steps {
            count
        } else {
            0
        };
        let reward = match step {
            0 => Money::ZERO,
            k => self.config.steps[k as usize - 1].amount(Money::from_fen(parent.base)),
        };
        base.owe(referrer, reward, self.config.pay_to, Rule::Referral);
        books.effects.push(Effect::Referral {
            mechanism: base.id,
            referrer,
            referee: member,
            count,
            step,
            of: steps,
            reward,
        });
        let (Some(indirect), Some(grandparent)) = (self.config.indirect, grandparent) else { return };
        if self.members.get(grandparent.index()).is_none_or(|g| g.base == 0) {
            return;
        }
        let reward = indirect.amount(amount);
        base.owe(grandparent, reward, self.config.pay_to, Rule::Indirect);
        books.effects.push(Effect::Indirect {
            mechanism: base.id,
            member: grandparent,
            referee: member,
            reward,
        });
    }

    /// Reads the buyer's and the referrer's state (see `Engine::touch`).
    pub(crate) fn touch(&self, member: MemberId, referrer: Option<MemberId>) -> i64 {
        let base = |m: MemberId| self.members.get(m.index()).map_or(0, |p| p.base);
        base(member) ^ referrer.map_or(0, base)
    }

    /// Participants and referrals counted, in all.
    pub(crate) fn totals(&self) -> (u64, u64) {
        (self.participants, self.referrals)
    }

    /// The member's progress: k of N, and what the next referral pays.
    pub(crate) fn progress(&self, member: MemberId) -> Progress {
        let p = self.members.get(member.index()).cloned().unwrap_or_default();
        let steps = self.config.steps.len() as u32;
        let next = p.referrals + 1;
        let next_step =
            if self.config.repeat { Some((next - 1) % steps) } else { (next <= steps).then_some(next - 1) };
        let base = (p.base > 0).then_some(Money::from_fen(p.base));
        Progress {
            base,
            referrals: p.referrals,
            in_round: if self.config.repeat || p.referrals <= steps {
                (p.referrals.saturating_sub(1)) % steps + u32::from(p.referrals > 0)
            } else {
                steps
            },
            steps,
            next_reward: base.and_then(|b| next_step.map(|k| self.config.steps[k as usize].amount(b))),
        }
    }
}
