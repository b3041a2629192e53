//! What an operator and a member see of an appreciation mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::{Money, Points, Price};
use crate::view::{Fields, Figure};

/// Points outstanding and their price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppreciationView {
    /// Points held by members.
    pub points: Points,
    /// Pool ÷ points (the initial price while none are out).
    pub price: Price,
    /// Forced exits (出局) so far.
    pub exits: u64,
}

impl Figures for AppreciationView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("price"), Figure::Price(self.price));
        out.figure(key!("exits"), Figure::Count(self.exits));
    }

    fn text(&self) -> String {
        format!("{} points at {} a point", self.points, self.price.display())
    }
}

/// A member's points, their value, and when the member will be sold out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppreciationStanding {
    /// Points held.
    pub points: Points,
    /// Their value at the current price, before the sell fee.
    pub value: Money,
    /// Settled spend since the last exit.
    pub basis: Money,
    /// The price at which the member is sold out (出局), if exits are on and they hold points.
    pub exit_price: Option<Price>,
    /// The current price (not a figure of the member's: the text names it).
    pub price: Price,
}

impl Figures for AppreciationStanding {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("value"), Figure::Money(self.value));
        out.figure(key!("basis"), Figure::Money(self.basis));
        out.figure(key!("exit_price"), Figure::price(self.exit_price));
    }

    fn text(&self) -> String {
        let mut line =
            format!("{} points worth {} at {} a point", self.points, self.value, self.price.display());
        if !self.basis.is_zero() {
            line += &format!("; spent {} since the last exit", self.basis);
        }
        if let Some(exit) = self.exit_price {
            line += &format!("; sold out (出局) when the price reaches {}", exit.display());
        }
        line
    }

    fn shown(&self) -> bool {
        !self.points.is_zero() || !self.basis.is_zero()
    }
}
