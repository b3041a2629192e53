//! 推N返一 / 消费全返 / 预售返现: bring buyers, get your purchase back in steps.
//!
//! A member becomes a participant when an order of at least `qualify_min` settles; that order's
//! amount is their base. Each direct referee counts once, with their first settled order of at
//! least `referee_min`, and only if the referrer is a participant at that moment (a referee whose
//! first qualifying order settled before their referrer qualified is not counted later: the
//! spec counts "the first order", and a later order is not it). Rewards are owed through the
//! obligation queue, so an underfunded pool pays them late, never from elsewhere.
//!
//! With `trigger = "repurchase"` (阶梯式返现) the steps count the member's own orders of at least
//! `qualify_min` instead of referrals: the first (which sets the base) pays step 1, the second
//! step 2, and so on; `referrals` in the views then counts those orders. A percent step is of
//! the first order's amount, or with `step_base = "each"` of the order that pays it (the first
//! order's amount is kept under both: it marks the participant, and an amendment may switch).
//! Either way the reward is owed by the order that pays it, so a refund under `clawback`
//! cancels what of it is unpaid, like a referral's.

mod config;
mod view;

pub use config::{ReferRefundConfig, Step, StepBase, Trigger};
pub use view::{Progress, ReferRefundView};

use super::{Cx, Kind, Look, Settlement};
use crate::MemberId;
use crate::effect::Effect;
use crate::ledger::Rule;
use crate::num::Money;
use crate::pool::{Books, Pool};
use crate::table::slot;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct ReferRefund {
    config: ReferRefundConfig,
    members: Vec<Participant>,
    participants: u64,
    referrals: u64,
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Participant {
    /// The refund base in fen; 0 until the member qualifies.
    base: i64,
    /// Referrals counted for this member.
    referrals: u32,
    /// This member's first order of at least `referee_min` has settled (counted or not); and
    /// whether its `indirect` reward waits on a held referral above (see [`ReferRefund::on_downline`]).
    referee: Referee,
}

/// Where a member stands as a referee.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
enum Referee {
    /// No order of at least `referee_min` has settled yet.
    #[default]
    Unused,
    /// One has, and whatever it paid is paid.
    Used,
    /// One was counted while no one above the referrer could take `indirect` (none, or a
    /// referral held for review).
    IndirectWaits,
}

impl ReferRefund {
    fn settle(&mut self, pool: &mut Pool, books: &mut Books, order: &Settlement<'_>) {
        let Settlement { member, amount, .. } = *order;
        let buyer = slot(&mut self.members, member);
        if buyer.base == 0 && amount >= self.config.qualify_min && pool.underfunded(books) {
            pool.hold_back(books, member);
        } else if buyer.base == 0 && amount >= self.config.qualify_min {
            buyer.base = amount.fen();
            self.participants += 1;
            books.effect(Effect::Participant { mechanism: pool.id, member, base: amount });
        }
        if self.config.trigger == Trigger::Repurchase {
            if amount >= self.config.qualify_min && self.members[member.index()].base > 0 {
                self.repurchase(pool, books, member, amount);
            }
            return;
        }
        // Anti-fraud holds the referral: the referee part waits for the review.
        if !order.held {
            self.count_referral(pool, books, order);
        }
    }

    /// The referee part of a settled order: the buyer's first order of at least `referee_min`
    /// counts as a referral of their referrer (and pays the referrer's referrer `indirect`).
    fn count_referral(&mut self, pool: &mut Pool, books: &mut Books, order: &Settlement<'_>) {
        if self.config.trigger == Trigger::Repurchase {
            return;
        }
        let Settlement { member, amount, uplines: [referrer, grandparent, _], .. } = *order;
        let buyer = slot(&mut self.members, member);
        if buyer.referee != Referee::Unused || amount < self.config.referee_min {
            return;
        }
        buyer.referee = Referee::Used;
        let Some(referrer) = referrer else { return };
        let parent = slot(&mut self.members, referrer);
        if parent.base == 0 {
            return;
        }
        parent.referrals += 1;
        self.referrals += 1;
        let count = parent.referrals;
        let parent_base = Money::from_fen(parent.base);
        let steps = self.config.steps.len() as u32;
        let step = self.step_of(count);
        let reward = step.map_or(Money::ZERO, |i| self.config.steps[i].amount(parent_base));
        pool.owe(referrer, reward, self.config.pay_to, Rule::Referral);
        books.effect(Effect::Referral {
            mechanism: pool.id,
            referrer,
            referee: member,
            count,
            step: step.map_or(0, |i| i as u32 + 1),
            of: steps,
            reward,
        });
        if self.config.indirect.is_some() && grandparent.is_none() {
            // No one above the referrer to pay, or a held referral in between: kept, in case a
            // review approves it.
            self.members[member.index()].referee = Referee::IndirectWaits;
        }
        self.indirect(pool, books, member, amount, grandparent);
    }

    /// `indirect` to the referrer's referrer for the referral `member` earned with `amount`.
    fn indirect(
        &mut self,
        pool: &mut Pool,
        books: &mut Books,
        member: MemberId,
        amount: Money,
        grandparent: Option<MemberId>,
    ) {
        let (Some(indirect), Some(grandparent)) = (self.config.indirect, grandparent) else { return };
        if self.members.get(grandparent.index()).is_none_or(|g| g.base == 0) {
            return;
        }
        let reward = indirect.amount(amount);
        pool.owe(grandparent, reward, self.config.pay_to, Rule::Indirect);
        books.effect(Effect::Indirect { mechanism: pool.id, member: grandparent, referee: member, reward });
    }

    /// A downline order whose rewards waited on the referrer's held referral, now approved
    /// (`order.from` is 1): the `indirect` reward its referral would have paid above. Orders come
    /// in the order they settled, so the first that qualifies is the one that was counted.
    fn on_downline(&mut self, pool: &mut Pool, books: &mut Books, order: &Settlement<'_>) {
        let Settlement { member, amount, uplines: [_, grandparent, _], .. } = *order;
        let waits = self.members.get(member.index()).is_some_and(|m| m.referee == Referee::IndirectWaits);
        if order.from != 1 || !waits || amount < self.config.referee_min {
            return;
        }
        self.members[member.index()].referee = Referee::Used;
        self.indirect(pool, books, member, amount, grandparent);
    }

    /// 阶梯式返现: the participant's own qualifying order of `amount` pays the next step, of
    /// their base or (`step_base = "each"`) of `amount`.
    fn repurchase(&mut self, pool: &mut Pool, books: &mut Books, member: MemberId, amount: Money) {
        let buyer = &mut self.members[member.index()];
        buyer.referrals += 1;
        let count = buyer.referrals;
        let base = match self.config.step_base {
            StepBase::First => Money::from_fen(buyer.base),
            StepBase::Each => amount,
        };
        self.referrals += 1;
        let step = self.step_of(count);
        let reward = step.map_or(Money::ZERO, |i| self.config.steps[i].amount(base));
        pool.owe(member, reward, self.config.pay_to, Rule::Repurchase);
        books.effect(Effect::Repurchase {
            mechanism: pool.id,
            member,
            count,
            step: step.map_or(0, |i| i as u32 + 1),
            of: self.config.steps.len() as u32,
            reward,
        });
    }

    /// The member's progress: k of N, and what the next referral pays.
    fn progress(&self, member: MemberId) -> Progress {
        let p = self.members.get(member.index()).cloned().unwrap_or_default();
        let steps = self.config.steps.len() as u32;
        let base = (p.base > 0).then_some(Money::from_fen(p.base));
        // The last referral's step, from 1; a round past the last step without repeat is full.
        let in_round = match p.referrals {
            0 => 0,
            k => self.step_of(k).map_or(steps, |i| i as u32 + 1),
        };
        let next = self.step_of(p.referrals + 1).map(|i| self.config.steps[i]);
        match self.config.step_base {
            StepBase::First => Progress {
                base,
                referrals: p.referrals,
                in_round,
                steps,
                next_reward: base.and_then(|b| next.map(|step| step.amount(b))),
                step_base: StepBase::First,
                next_share: None,
            },
            // No one base: the next step is a share of the next order, or a fixed amount.
            StepBase::Each => Progress {
                base: None,
                referrals: p.referrals,
                in_round,
                steps,
                next_reward: base.and(next).and_then(|step| match step {
                    Step::Fixed(amount) => Some(amount),
                    Step::Percent(_) => None,
                }),
                step_base: StepBase::Each,
                next_share: base.and(next).and_then(|step| match step {
                    Step::Percent(rate) => Some(rate),
                    Step::Fixed(_) => None,
                }),
            },
        }
    }

    /// Which step (0-based) the `count`-th referral pays: round and round with `repeat`, and
    /// none past the last step without it.
    fn step_of(&self, count: u32) -> Option<usize> {
        let steps = self.config.steps.len();
        let k = count as usize - 1;
        if self.config.repeat { Some(k % steps) } else { (k < steps).then_some(k) }
    }
}

impl Kind for ReferRefund {
    const NAME: &'static str = "refer_refund";
    const TITLE: (&'static str, &'static str) = ("推荐返还", "Refer and refund");
    type Config = ReferRefundConfig;
    type View = ReferRefundView;
    type Standing = Progress;

    fn reconfigure(&mut self, config: &ReferRefundConfig) {
        self.config = config.clone();
    }

    fn new(config: &ReferRefundConfig) -> ReferRefund {
        ReferRefund { config: config.clone(), members: Vec::new(), participants: 0, referrals: 0 }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.settle(cx.pool, cx.books, order);
    }

    /// The buyer's own referral (`from` 0), or a link above it (the `indirect` reward).
    fn on_referral(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        if order.from == 0 {
            self.count_referral(cx.pool, cx.books, order);
        } else {
            self.on_downline(cx.pool, cx.books, order);
        }
    }

    fn read_ahead(&self, _look: &Look<'_>, member: MemberId, uplines: &[Option<MemberId>; 3]) -> i64 {
        for m in [Some(member), uplines[0]].into_iter().flatten() {
            crate::table::prefetch(&self.members, m);
        }
        0
    }

    fn view(&self, _look: &Look<'_>) -> ReferRefundView {
        ReferRefundView { participants: self.participants, referrals: self.referrals }
    }

    fn standing(&self, _look: &Look<'_>, member: MemberId) -> Progress {
        self.progress(member)
    }
}
