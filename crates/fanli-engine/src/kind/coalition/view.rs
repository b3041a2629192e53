//! What an operator and a member see of a coalition mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::{Money, Points};
use crate::view::{Fields, Figure};

/// Coalition points, the partners and the settlement report between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoalitionView {
    /// Held by members.
    pub points: Points,
    /// Partners of the coalition.
    pub partners: u64,
    /// Per month and partner, points issued and redeemed and the net owed.
    pub settlement: Vec<PartnerPeriod>,
}

/// One line of the settlement report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerPeriod {
    /// The month, `YYYY-MM`.
    pub period: String,
    /// The partner's id.
    pub partner: String,
    /// Points the partner's orders issued.
    pub issued: Points,
    /// Points members redeemed at the partner.
    pub redeemed: Points,
    /// `(redeemed − issued) × point_cost`: owed to the partner when positive, by it when negative.
    pub net: Money,
}

impl Figures for CoalitionView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("partners"), Figure::Count(self.partners));
        out.list(key!("settlement"), &self.settlement, |out, p| {
            out.figure(key!("period"), Figure::Text(&p.period));
            out.figure(key!("partner"), Figure::Text(&p.partner));
            out.figure(key!("issued"), Figure::Points(p.issued));
            out.figure(key!("redeemed"), Figure::Points(p.redeemed));
            out.figure(key!("net"), Figure::Money(p.net));
        });
    }

    fn text(&self) -> String {
        format!("{} points held, {} partners (settlement report in --json)", self.points, self.partners)
    }
}

/// A member's coalition points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoalitionStanding {
    /// Points held.
    pub points: Points,
}

impl Figures for CoalitionStanding {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
    }

    fn text(&self) -> String {
        format!("{} coalition points", self.points)
    }

    fn shown(&self) -> bool {
        !self.points.is_zero()
    }
}
