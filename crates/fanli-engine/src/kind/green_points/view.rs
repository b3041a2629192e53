//! What an operator and a member see of a green_points mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::{Money, Points};
use crate::view::{Fields, Figure};

/// Unreleased points and their lots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GreenPointsView {
    /// Points not yet released, all lots (1 point = 1 yuan).
    pub points: Points,
    /// Lots with points left.
    pub lots: u64,
    /// Points released in all.
    pub released: Money,
}

impl Figures for GreenPointsView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("lots"), Figure::Count(self.lots));
        out.figure(key!("released"), Figure::Money(self.released));
    }

    fn text(&self) -> String {
        format!("{} points unreleased in {} lots, {} released", self.points, self.lots, self.released)
    }
}

/// A member's unreleased green points and what they release a day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lots {
    /// Points not yet released.
    pub points: Points,
    /// Lots with points left.
    pub lots: u32,
    /// What their lots release a day, together (before share and team releases).
    pub daily: Money,
}

impl Figures for Lots {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("lots"), Figure::Count(self.lots.into()));
        out.figure(key!("daily"), Figure::Money(self.daily));
    }

    fn text(&self) -> String {
        format!(
            "{} points unreleased in {} lot{}, releasing {} a day",
            self.points,
            self.lots,
            if self.lots == 1 { "" } else { "s" },
            self.daily
        )
    }

    fn shown(&self) -> bool {
        !self.points.is_zero()
    }
}
