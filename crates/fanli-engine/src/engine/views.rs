//! Read-only views of the state: what an operator sees of a mechanism and a member of themself.
//! Each kind's own figures come from its `view.rs`; these add what every mechanism has.

use super::{Engine, Mechanism};
use crate::kind::{Figures, MechanismDetail, MemberDetail, Standings};
use crate::num::{Money, Price};
use crate::{MechanismId, MemberId};

/// A mechanism's pool and what it owes.
#[derive(Clone, Debug)]
pub struct MechanismView<'e> {
    /// The mechanism's id in the plan.
    pub id: &'e str,
    /// Its kind ("appreciation").
    pub kind: &'static str,
    /// Its kind's name for people, in Chinese and in English ("消费增值", "Appreciation").
    pub title: (&'static str, &'static str),
    /// The plan's `name` for it, shown to members instead of the id, if it has one.
    pub name: Option<&'e str>,
    /// Cash in the pool.
    pub pool: Money,
    /// Promised and not yet paid.
    pub obligations: Money,
    /// How many obligations wait.
    pub obligations_waiting: usize,
    /// Paid to members in all.
    pub paid: Money,
    /// With `pause_when_underfunded`: whether it is paused (owes more than its pool holds).
    pub paused: Option<bool>,
    /// With `clawback`: what refunds took back, and what they could not.
    pub clawback: Option<crate::ClawbackTotals>,
    /// The price of its points, for a kind whose points have one (appreciation).
    pub price: Option<Price>,
    /// What only this kind has.
    pub detail: MechanismDetail,
    /// Retired by an amendment: it takes nothing new and pays what it owes.
    pub retired: bool,
}

/// A member's balances and their standing in each mechanism.
#[derive(Clone, Debug)]
pub struct MemberView<'e> {
    /// Who.
    pub id: MemberId,
    /// Their id.
    pub name: &'e str,
    /// Who referred them.
    pub referrer: Option<&'e str>,
    /// Where their referral stands with anti-fraud (held, approved, rejected).
    pub referral: crate::Link,
    /// Withdrawable cash.
    pub wallet: Money,
    /// Store credit.
    pub credit: Money,
    /// The sum of their settled orders.
    pub spent: Money,
    /// The sum of their orders refunded after settlement.
    pub refunded: Money,
    /// The settled spend of their downline to 3 levels, when the plan ranks members by it.
    pub team_sales: Option<Money>,
    /// With `[withdrawal]`: what they asked to withdraw and waits for review (held out of the
    /// wallet).
    pub withdrawing: Option<Money>,
    /// Their standing in each mechanism, in plan order.
    pub mechanisms: Vec<MemberMechanism>,
}

/// A member's standing in one mechanism.
#[derive(Clone, Debug)]
pub struct MemberMechanism {
    /// Which mechanism.
    pub mechanism: MechanismId,
    /// Paid to the member by this mechanism so far.
    pub received: Money,
    /// Promised to the member and not yet paid.
    pub owed: Money,
    /// What only this kind has.
    pub detail: MemberDetail,
}

impl MemberMechanism {
    /// Whether the member has anything in this mechanism worth showing.
    pub fn shown(&self) -> bool {
        !self.received.is_zero() || !self.owed.is_zero() || self.detail.shown()
    }
}

impl Engine {
    /// Every mechanism, in plan order.
    pub fn mechanism_views(&self) -> impl Iterator<Item = MechanismView<'_>> {
        self.mechanisms.iter().map(|m| self.mechanism_view(m))
    }

    fn mechanism_view<'e>(&'e self, m: &'e Mechanism) -> MechanismView<'e> {
        let pool = &m.pool;
        MechanismView {
            id: &pool.name,
            kind: m.state.name(),
            title: m.state.title(),
            name: self.plan.mechanisms.get(pool.id.index()).and_then(|c| c.name.as_deref()),
            pool: pool.pool(&self.books),
            obligations: pool.obligations.outstanding(),
            obligations_waiting: pool.obligations.len(),
            paid: pool.paid,
            paused: pool.pause.then_some(pool.paused),
            clawback: self.plan.clawback.then_some(pool.clawback),
            price: m.state.price(&self.look(m)),
            detail: m.state.view(&self.look(m)),
            retired: m.retired,
        }
    }

    /// Every mechanism's id, in plan order.
    pub fn mechanism_ids(&self) -> impl Iterator<Item = MechanismId> + use<> {
        (0..self.mechanisms.len()).map(MechanismId::from_index)
    }

    /// With anti-fraud rules: every referral held for review, in the order held, with its
    /// decision once made. `None` without `[antifraud]`.
    pub fn reviews(&self) -> Option<&[crate::Review]> {
        self.antifraud.as_ref().map(|a| a.reviews.as_slice())
    }

    /// Where the member's referral stands (always `Clear` without anti-fraud).
    pub fn link(&self, member: MemberId) -> crate::Link {
        self.antifraud.as_ref().map_or(crate::Link::Clear, |a| a.link(member))
    }

    /// Whether members hold the mechanism's points.
    pub fn has_points(&self, mechanism: MechanismId) -> bool {
        self.mechanisms[mechanism.index()].state.has_points()
    }

    /// The current price of the mechanism's points, for a kind whose points have one
    /// (appreciation).
    pub fn price(&self, mechanism: MechanismId) -> Option<Price> {
        let m = &self.mechanisms[mechanism.index()];
        m.state.price(&self.look(m))
    }

    /// Every member, in join order. A kind that can give every member's standing in one pass
    /// (a queue's places) is asked once, not once a member; so is each pool for what it owes
    /// whom (one pass over its obligations).
    pub fn member_views(&self) -> impl Iterator<Item = MemberView<'_>> {
        let mut standing = self.standings();
        (0..self.member_count()).map(move |i| {
            let member = MemberId::from_index(i);
            self.member_view(member, Vec::with_capacity(self.mechanisms.len()), |m, mechanism| {
                standing(m, mechanism, member)
            })
        })
    }

    /// [`Engine::member_views`], each view lent to `each` in turn: one list of mechanisms
    /// serves every member, so that a walk over millions (the state document) allocates
    /// nothing a member.
    pub fn for_each_member_view(&self, mut each: impl FnMut(&MemberView<'_>)) {
        let mut standing = self.standings();
        let mut mechanisms = Vec::with_capacity(self.mechanisms.len());
        for i in 0..self.member_count() {
            let member = MemberId::from_index(i);
            let view = self.member_view(member, mechanisms, |m, mechanism| standing(m, mechanism, member));
            each(&view);
            mechanisms = view.mechanisms;
        }
    }

    /// What mechanism `m` owes each member and their standing in it, asked of every member in
    /// join order.
    fn standings(&self) -> impl FnMut(usize, &Mechanism, MemberId) -> (Money, MemberDetail) + '_ {
        let count = self.member_count();
        let mut all: Vec<Option<Standings>> =
            self.mechanisms.iter().map(|m| m.state.standings(&self.look(m), count)).collect();
        let mut owed: Vec<std::iter::Peekable<std::vec::IntoIter<(MemberId, i64)>>> = self
            .mechanisms
            .iter()
            .map(|m| m.pool.obligations.owed_by_member().into_iter().peekable())
            .collect();
        move |m, mechanism, member| {
            let owed = owed[m].next_if(|&(owed, _)| owed == member).map_or(0, |(_, fen)| fen);
            let detail = match &mut all[m] {
                Some(standings) => standings.next().expect("a standing for every member"),
                None => mechanism.state.standing(&self.look(mechanism), member),
            };
            (Money::from_fen(owed), detail)
        }
    }

    /// One member's view. Cheaper than [`Engine::member_views`] for a few members: a queue
    /// place costs the member's position in the queue, not the whole queue.
    pub fn member_view_of(&self, member: MemberId) -> MemberView<'_> {
        self.member_view(member, Vec::with_capacity(self.mechanisms.len()), |_, m| {
            (m.pool.obligations.owed(member), m.state.standing(&self.look(m), member))
        })
    }

    /// `standing(m, mechanism)`: what mechanism `m` owes the member, and their standing in it;
    /// `mechanisms` (emptied first) holds them.
    fn member_view(
        &self,
        member: MemberId,
        mut mechanisms: Vec<MemberMechanism>,
        mut standing: impl FnMut(usize, &Mechanism) -> (Money, MemberDetail),
    ) -> MemberView<'_> {
        let ledger = &self.books.ledger;
        mechanisms.clear();
        mechanisms.extend(self.mechanisms.iter().enumerate().map(|(m, mechanism)| {
            let (owed, detail) = standing(m, mechanism);
            MemberMechanism {
                mechanism: mechanism.pool.id,
                received: mechanism.pool.received(member),
                owed,
                detail,
            }
        }));
        MemberView {
            id: member,
            name: self.member_name(member),
            referrer: self.members.joined_referrer(member).map(|r| self.member_name(r)),
            referral: self.link(member),
            wallet: ledger.wallet(member),
            credit: ledger.credit(member),
            spent: self.members.spent(member),
            refunded: self.members.refunded(member),
            team_sales: self.members.ranks().then(|| self.members.team_sales(member)),
            withdrawing: self.withdrawing(member),
            mechanisms,
        }
    }
}
