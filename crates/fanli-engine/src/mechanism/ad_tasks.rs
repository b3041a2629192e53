//! 广告电商: spending earns task points; each ad view (up to `views_per_day` a business day)
//! releases some of them into the wallet, by the band of task points the member holds.
//! Advertisers fund the pool (`advertiser_fund`) besides the orders' funding.
//!
//! Decisions where the spec is brief:
//! - 1 task point released is 1 yuan; a view releases `min(band reward, points held)`, rounded
//!   down to the fen so that the points burned and the cash owed are the same amount.
//! - A view is counted even when it releases nothing (no points held); the day is the plan's
//!   business day (`timezone`), like `close_day`'s.
//! - The release is owed through the obligation queue, so an underfunded pool pays it late.

use super::{Base, Books, Settlement, slot};
use crate::MemberId;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points};
use crate::plan::{AdTasksConfig, PayTo};

/// Points units per fen: 1 point is 1 yuan.
const UNITS_PER_FEN: i64 = 100;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct AdTasks {
    pub(crate) config: AdTasksConfig,
    /// Per member: the business day of their last view and their views that day.
    views: Vec<(i64, u32)>,
    /// Views in all.
    total_views: u64,
}

impl AdTasks {
    pub(crate) fn new(config: &AdTasksConfig) -> AdTasks {
        AdTasks { config: config.clone(), views: Vec::new(), total_views: 0 }
    }

    /// A settled order earns `points_per_yuan` task points a yuan.
    pub(crate) fn on_settled(&mut self, base: &Base, books: &mut Books, order: &Settlement) {
        let units = order.amount.mul_rate(self.config.points_per_yuan).fen() * UNITS_PER_FEN;
        books.ledger.post(
            Account::Issued(base.id),
            Account::Points(base.id, order.member),
            units,
            Some(base.id),
            Rule::TaskPoints,
        );
    }

    /// Clawback of `earned` task points of a refunded order: burns what the member still holds
    /// of them. Returns the points burned.
    pub(crate) fn claw_back(
        &mut self,
        base: &Base,
        books: &mut Books,
        member: MemberId,
        earned: Points,
    ) -> Points {
        let taken = earned.min(books.ledger.held(base.id, member));
        books.ledger.post(
            Account::Points(base.id, member),
            Account::Issued(base.id),
            taken.units(),
            Some(base.id),
            Rule::Clawback,
        );
        taken
    }

    /// The member's views on `day` so far.
    pub(crate) fn views_on(&self, member: MemberId, day: i64) -> u32 {
        match self.views.get(member.index()) {
            Some(&(d, n)) if d == day => n,
            _ => 0,
        }
    }

    /// What a view by a member holding `held` releases.
    pub(crate) fn reward(&self, held: Points) -> Money {
        let points = self.config.band(held).map_or(Points::ZERO, |b| b.reward.min(held));
        Money::from_fen(points.units() / UNITS_PER_FEN)
    }

    /// A view, already checked to be within the day's allowance.
    pub(crate) fn view(&mut self, base: &mut Base, books: &mut Books, member: MemberId, day: i64) {
        let views = self.views_on(member, day) + 1;
        *slot(&mut self.views, member) = (day, views);
        self.total_views += 1;
        let reward = self.reward(books.ledger.held(base.id, member));
        books.ledger.post(
            Account::Points(base.id, member),
            Account::Issued(base.id),
            reward.fen() * UNITS_PER_FEN,
            Some(base.id),
            Rule::AdView,
        );
        base.owe(member, reward, PayTo::Wallet, Rule::AdView);
        books.effect(Effect::AdViewed { mechanism: base.id, member, views, reward });
    }

    /// Views in all.
    pub(crate) fn total_views(&self) -> u64 {
        self.total_views
    }
}
