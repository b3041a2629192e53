//! 跨行业 coalition points: partners (a bank, an airline, …) issue one shared point on their
//! own orders at their own rates, members redeem points at any partner, and a settlement report
//! says, per partner and month, the points issued and redeemed and what the partner owes the
//! coalition or is owed by it at `point_cost` a point.
//!
//! Decisions where the spec is brief:
//! - An order earns points only when it names a partner of the plan (`order.partner`); naming
//!   one the plan does not list is refused when the plan has a coalition. It earns
//!   `amount × earn_per_yuan × (1 + bonus)`, rounded down to 1/10000 point (`bonus` is the
//!   partner's extra share: 航司会员额外获 50% 里程加成 is `bonus = "0.5"`).
//! - `redeem` with `partner` and `points` spends the member's points at that partner.
//! - A month is the calendar month of the plan's timezone. A partner's net for a month is
//!   `(redeemed − issued) × point_cost`, rounded towards zero to the fen: positive, the
//!   coalition owes the partner (it gave goods for points others issued); negative, the
//!   partner owes the coalition (it issued points others will honour). The report is figures
//!   for the operator, not postings: money between partners is settled outside fanli.

use std::collections::BTreeMap;

use super::{Base, Books, Settlement};
use crate::MemberId;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points};
use crate::plan::CoalitionConfig;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Coalition {
    pub(crate) config: CoalitionConfig,
    /// (month as year × 12 + month − 1, partner index) → (issued, redeemed) in points units.
    report: BTreeMap<(i64, usize), (i64, i64)>,
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

impl Coalition {
    pub(crate) fn new(config: &CoalitionConfig) -> Coalition {
        Coalition { config: config.clone(), report: BTreeMap::new() }
    }

    /// The partner's index, if the plan lists it.
    pub(crate) fn partner(&self, name: &str) -> Option<usize> {
        self.config.partners.iter().position(|p| p.id == name)
    }

    /// A settled order at a partner earns that partner's points.
    /// `month` is the settlement's, as [`crate::time::Timestamp::local_month`] counts.
    pub(crate) fn on_settled(
        &mut self,
        base: &Base,
        books: &mut Books,
        order: &Settlement,
        partner: Option<&str>,
        month: i64,
    ) {
        let Some(index) = partner.and_then(|p| self.partner(p)) else { return };
        let p = &self.config.partners[index];
        // One rounding, at the end: fen × 100 (units of 1/10000 point per yuan) × earn × (1 +
        // bonus). Within i128: at most 10^14 × 10^11 × 1.1·10^10 (the plan's bounds).
        let exact = order.amount.fen() as i128
            * 100
            * p.earn_per_yuan.units() as i128
            * (RATE + p.bonus.units()) as i128
            / (RATE as i128 * RATE as i128);
        let units = i64::try_from(exact).expect("within the plan's bounds, an order earns under 2^63 units");
        if units == 0 {
            return;
        }
        books.ledger.post(
            Account::Issued(base.id),
            Account::Points(base.id, order.member),
            units,
            Some(base.id),
            Rule::Earn,
        );
        self.report.entry((month, index)).or_default().0 += units;
        books.effect(Effect::Earned {
            mechanism: base.id,
            member: order.member,
            points: Points::from_units(units),
            rule: Rule::Earn,
        });
    }

    /// Spends `points` (checked to be held) at partner `index`.
    pub(crate) fn redeem(
        &mut self,
        base: &Base,
        books: &mut Books,
        member: MemberId,
        (index, points): (usize, Points),
        month: i64,
    ) {
        books.ledger.post(
            Account::Points(base.id, member),
            Account::Issued(base.id),
            points.units(),
            Some(base.id),
            Rule::Redeem,
        );
        self.report.entry((month, index)).or_default().1 += points.units();
        books.effect(Effect::PartnerRedeemed { mechanism: base.id, member, partner: index as u32, points });
    }

    /// Clawback of `earned` points of a refunded order at `partner`: burns what the member still
    /// holds of them, and takes them off the partner's issued points in `month` (the refund's).
    /// Returns the points burned.
    pub(crate) fn claw_back(
        &mut self,
        base: &Base,
        books: &mut Books,
        (member, earned): (MemberId, Points),
        partner: Option<&str>,
        month: i64,
    ) -> Points {
        let taken = earned.min(books.ledger.held(base.id, member));
        books.ledger.post(
            Account::Points(base.id, member),
            Account::Issued(base.id),
            taken.units(),
            Some(base.id),
            Rule::Clawback,
        );
        if let Some(index) = partner.and_then(|p| self.partner(p)) {
            self.report.entry((month, index)).or_default().0 -= taken.units();
        }
        taken
    }

    /// The settlement report, by month then partner (in plan order).
    pub(crate) fn report(&self) -> Vec<PartnerPeriod> {
        self.report
            .iter()
            .map(|(&(month, partner), &(issued, redeemed))| {
                let net = (redeemed - issued) as i128 * self.config.point_cost.fen() as i128 / 10_000;
                PartnerPeriod {
                    period: format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1),
                    partner: self.config.partners[partner].id.clone(),
                    issued: Points::from_units(issued),
                    redeemed: Points::from_units(redeemed),
                    net: Money::from_fen(net as i64),
                }
            })
            .collect()
    }
}

const RATE: i64 = 1_000_000_000;
