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

mod config;
mod view;

pub use config::{AdTasksConfig, Band};
pub use view::{AdTasksStanding, AdTasksView};

use super::{Cx, Kind, Look, Refunded, Settlement, Who};
use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points};
use crate::pool::{Books, Pool};
use crate::rejection::Rejection;
use crate::table::slot;
use crate::terms::PayTo;
use crate::time::Timestamp;

/// Points units per fen: 1 point is 1 yuan.
const UNITS_PER_FEN: i64 = 100;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct AdTasks {
    config: AdTasksConfig,
    /// Per member: the business day of their last view and their views that day. 8 bytes a
    /// member: an event's day (years 1900 to 2200) is within ±150,000 of 1970's first.
    views: Vec<(i32, u32)>,
    /// Views in all.
    total_views: u64,
}

impl AdTasks {
    /// A settled order earns `points_per_yuan` task points a yuan.
    fn earn(&mut self, pool: &Pool, books: &mut Books, order: &Settlement<'_>) {
        let units = order.amount.mul_rate(self.config.points_per_yuan).fen() * UNITS_PER_FEN;
        books.ledger.post(
            Account::Issued(pool.id),
            Account::Points(pool.id, order.member),
            units,
            Some(pool.id),
            Rule::TaskPoints,
        );
    }

    /// The member's views on `day` so far.
    fn views_on(&self, member: MemberId, day: i64) -> u32 {
        match self.views.get(member.index()) {
            Some(&(d, n)) if i64::from(d) == day => n,
            _ => 0,
        }
    }

    /// What a view by a member holding `held` releases.
    fn reward(&self, held: Points) -> Money {
        let points = self.config.band(held).map_or(Points::ZERO, |b| b.reward.min(held));
        Money::from_fen(points.units() / UNITS_PER_FEN)
    }

    /// A view, already checked to be within the day's allowance.
    fn release(&mut self, pool: &mut Pool, books: &mut Books, member: MemberId, day: i64) {
        let views = self.views_on(member, day) + 1;
        let day = i32::try_from(day).expect("an event's day fits an i32 (Timestamp::YEARS)");
        *slot(&mut self.views, member) = (day, views);
        self.total_views += 1;
        let reward = self.reward(books.ledger.held(pool.id, member));
        books.ledger.post(
            Account::Points(pool.id, member),
            Account::Issued(pool.id),
            reward.fen() * UNITS_PER_FEN,
            Some(pool.id),
            Rule::AdView,
        );
        pool.owe(member, reward, PayTo::Wallet, Rule::AdView);
        books.effect(Effect::AdViewed { mechanism: pool.id, member, views, reward });
    }
}

impl Kind for AdTasks {
    const NAME: &'static str = "ad_tasks";
    const TITLE: (&'static str, &'static str) = ("广告任务", "Ad tasks");
    const POINTS: bool = true;
    const ADVERTISERS: bool = true;
    type Config = AdTasksConfig;
    type View = AdTasksView;
    type Standing = AdTasksStanding;

    fn reconfigure(&mut self, config: &AdTasksConfig) {
        self.config = config.clone();
    }

    fn new(config: &AdTasksConfig) -> AdTasks {
        AdTasks { config: config.clone(), views: Vec::new(), total_views: 0 }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.earn(cx.pool, cx.books, order);
    }

    /// Burns what the member still holds of the task points the order earned.
    fn claw_back(&mut self, cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        let taken = cx.pool.burn_earned(cx.books, refund.member, refund.points);
        ClawbackTotals::points(taken, refund.points - taken)
    }

    fn read_ahead(&self, look: &Look<'_>, member: MemberId, _uplines: &[Option<MemberId>; 3]) -> i64 {
        look.prefetch_points(member);
        0
    }

    /// A view, within the day's allowance (the plan's business day).
    fn ad_view(&mut self, cx: &mut Cx<'_>, who: Who<'_>, at: Timestamp) -> Result<(), Rejection> {
        let day = at.local_day(cx.timezone);
        let allowed = self.config.views_per_day;
        if self.views_on(who.member, day) >= allowed {
            return Err(Rejection::TooManyViews { member: who.member_name.to_owned(), views: allowed });
        }
        self.release(cx.pool, cx.books, who.member, day);
        Ok(())
    }

    fn view(&self, look: &Look<'_>) -> AdTasksView {
        AdTasksView { points: look.outstanding(), views: self.total_views }
    }

    fn standing(&self, look: &Look<'_>, member: MemberId) -> AdTasksStanding {
        let points = look.held(member);
        AdTasksStanding { points, next_reward: self.reward(points) }
    }
}
