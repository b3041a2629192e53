//! What an operator and a member see of an ad_tasks mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::{Money, Points};
use crate::view::{Fields, Figure};

/// Task points and ad views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdTasksView {
    /// Task points held by members.
    pub points: Points,
    /// Views in all.
    pub views: u64,
}

impl Figures for AdTasksView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("views"), Figure::Count(self.views));
    }

    fn text(&self) -> String {
        format!("{} task points held, {} views", self.points, self.views)
    }
}

/// A member's task points and what the next view releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdTasksStanding {
    /// Task points held.
    pub points: Points,
    /// What a view releases now.
    pub next_reward: Money,
}

impl Figures for AdTasksStanding {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("next_reward"), Figure::Money(self.next_reward));
    }

    fn text(&self) -> String {
        format!("{} task points; the next ad view releases {}", self.points, self.next_reward)
    }

    fn shown(&self) -> bool {
        !self.points.is_zero()
    }
}
