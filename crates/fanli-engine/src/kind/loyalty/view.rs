//! What an operator and a member see of a loyalty mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::{Money, Points};
use crate::time::Timestamp;
use crate::view::{Fields, Figure};

/// Loyalty points, held and in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoyaltyView {
    /// Held by members.
    pub points: Points,
    /// Issued, redeemed, cashed out and expired, in all.
    pub totals: Totals,
}

/// A mechanism's points, in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Totals {
    /// Granted in all.
    pub issued: Points,
    /// Spent on rewards.
    pub redeemed: Points,
    /// Cashed out.
    pub cashed: Points,
    /// Expired unspent.
    pub expired: Points,
}

impl Figures for LoyaltyView {
    fn write<F: Fields>(&self, out: &mut F) {
        let t = &self.totals;
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("issued"), Figure::Points(t.issued));
        out.figure(key!("redeemed"), Figure::Points(t.redeemed));
        out.figure(key!("cashed_out"), Figure::Points(t.cashed));
        out.figure(key!("expired"), Figure::Points(t.expired));
    }

    fn text(&self) -> String {
        let t = &self.totals;
        format!(
            "{} points held; {} issued, {} redeemed, {} cashed out, {} expired",
            self.points, t.issued, t.redeemed, t.cashed, t.expired
        )
    }
}

/// A member's loyalty points, tier and next expiry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoyaltyStanding {
    /// Points held.
    pub points: Points,
    /// The name of the tier reached, if any.
    pub tier: Option<String>,
    /// Settled spend of the rolling year.
    pub year_spend: Money,
    /// Points earned by orders in the rolling year.
    pub year_points: Points,
    /// The oldest points that will expire, and when.
    pub next_expiry: Option<(Points, Timestamp)>,
    /// With reminders: the points that expire within the longest reminder's days (the notice).
    pub expiring_soon: Option<(Points, u32)>,
}

impl Figures for LoyaltyStanding {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("points"), Figure::Points(self.points));
        out.figure(key!("tier"), self.tier.as_deref().map_or(Figure::Null, Figure::Text));
        out.figure(key!("year_spend"), Figure::Money(self.year_spend));
        out.figure(key!("year_points"), Figure::Points(self.year_points));
        match self.next_expiry {
            Some((points, at)) => out.object(key!("next_expiry"), |out| {
                out.figure(key!("points"), Figure::Points(points));
                out.figure(key!("at"), Figure::Time(at));
            }),
            None => out.figure(key!("next_expiry"), Figure::Null),
        }
        if let Some((points, days)) = self.expiring_soon {
            out.object(key!("expiring_soon"), |out| {
                out.figure(key!("points"), Figure::Points(points));
                out.figure(key!("within_days"), Figure::Count(days.into()));
            });
        }
    }

    fn text(&self) -> String {
        let mut line = format!("{} points; {} spent in the last 365 days", self.points, self.year_spend);
        if let Some((expiring, at)) = self.next_expiry {
            line += &format!("; {expiring} of them expire at {at}");
        }
        if let Some((soon, days)) = self.expiring_soon.filter(|(p, _)| !p.is_zero()) {
            line += &format!(" (reminder: {soon} expire within {days} days)");
        }
        line
    }

    fn shown(&self) -> bool {
        !self.points.is_zero() || !self.year_spend.is_zero()
    }
}
