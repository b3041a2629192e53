//! What an operator and a member see of a cycle mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::{Money, Points};
use crate::view::{Fields, Figure};

/// The dividend's takers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CycleView {
    /// Members with quota left.
    pub holders: u64,
    /// The part of the pool set aside for honor members.
    pub honor_fund: Money,
}

impl Figures for CycleView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("holders"), Figure::Count(self.holders));
        out.figure(key!("honor_fund"), Figure::Money(self.honor_fund));
    }

    fn text(&self) -> String {
        format!("{} members with quota left; {} set aside for honor members", self.holders, self.honor_fund)
    }
}

/// A member's standing in a cycle mechanism.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CycleStanding {
    /// Quota left: the most the mechanism will still pay them.
    pub quota: Money,
    /// Shares (贡献值).
    pub shares: Points,
    /// Honor level (V1 = 1), 0 below the first.
    pub honor: u32,
}

impl Figures for CycleStanding {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("quota"), Figure::Money(self.quota));
        out.figure(key!("shares"), Figure::Points(self.shares));
        out.figure(key!("honor"), Figure::Count(self.honor.into()));
    }

    fn text(&self) -> String {
        let honor = if self.honor > 0 { format!(", honor V{}", self.honor) } else { String::new() };
        format!("quota left {}, {} shares{honor}", self.quota, self.shares)
    }

    fn shown(&self) -> bool {
        !self.quota.is_zero() || !self.shares.is_zero()
    }
}
