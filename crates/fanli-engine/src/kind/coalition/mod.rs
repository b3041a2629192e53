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

mod config;
mod view;

use std::collections::BTreeMap;

pub use config::{CoalitionConfig, Partner};
pub use view::{CoalitionStanding, CoalitionView, PartnerPeriod};

use super::{Cx, Kind, Look, Redemption, Refunded, Settlement, Who};
use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points};
use crate::pool::{Books, Pool};
use crate::rejection::Rejection;
use crate::time::Timestamp;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Coalition {
    config: CoalitionConfig,
    /// (month as year × 12 + month − 1, partner index) → (issued, redeemed) in points units.
    report: BTreeMap<(i64, usize), (i64, i64)>,
}

impl Coalition {
    /// A settled order at a partner earns that partner's points.
    /// `month` is the settlement's, as [`crate::time::Timestamp::local_month`] counts.
    fn earn(&mut self, pool: &Pool, books: &mut Books, order: &Settlement<'_>, month: i64) {
        let Some(index) = order.partner.and_then(|p| self.partner(p)) else { return };
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
            Account::Issued(pool.id),
            Account::Points(pool.id, order.member),
            units,
            Some(pool.id),
            Rule::Earn,
        );
        self.report.entry((month, index)).or_default().0 += units;
        books.effect(Effect::Earned {
            mechanism: pool.id,
            member: order.member,
            points: Points::from_units(units),
            rule: Rule::Earn,
        });
    }

    /// Spends `points` (checked to be held) at partner `index`.
    fn redeem_at(
        &mut self,
        pool: &Pool,
        books: &mut Books,
        member: MemberId,
        (index, points): (usize, Points),
        month: i64,
    ) {
        books.ledger.post(
            Account::Points(pool.id, member),
            Account::Issued(pool.id),
            points.units(),
            Some(pool.id),
            Rule::Redeem,
        );
        self.report.entry((month, index)).or_default().1 += points.units();
        books.effect(Effect::PartnerRedeemed { mechanism: pool.id, member, partner: index as u32, points });
    }

    /// The settlement report, by month then partner (in plan order).
    fn report(&self) -> Vec<PartnerPeriod> {
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

impl Kind for Coalition {
    const NAME: &'static str = "coalition";
    const TITLE: (&'static str, &'static str) = ("联盟积分", "Coalition points");
    const POINTS: bool = true;
    const PARTNERS: bool = true;
    type Config = CoalitionConfig;
    type View = CoalitionView;
    type Standing = CoalitionStanding;

    fn reconfigure(&mut self, config: &CoalitionConfig) {
        self.config = config.clone();
    }

    fn new(config: &CoalitionConfig) -> Coalition {
        Coalition { config: config.clone(), report: BTreeMap::new() }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        let month = order.now.local_month(cx.timezone);
        self.earn(cx.pool, cx.books, order, month);
    }

    /// Burns what the member still holds of the points the order earned, and takes them off
    /// the partner's issued points in the refund's month.
    fn claw_back(&mut self, cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        let taken = cx.pool.burn_earned(cx.books, refund.member, refund.points);
        if let Some(index) = refund.partner.and_then(|p| self.partner(p)) {
            let month = refund.at.local_month(cx.timezone);
            self.report.entry((month, index)).or_default().0 -= taken.units();
        }
        ClawbackTotals::points(taken, refund.points - taken)
    }

    fn read_ahead(&self, look: &Look<'_>, member: MemberId, _uplines: &[Option<MemberId>; 3]) -> i64 {
        look.prefetch_points(member);
        0
    }

    /// The partner's index, if the plan lists it.
    fn partner(&self, name: &str) -> Option<usize> {
        self.config.partners.iter().position(|p| p.id == name)
    }

    /// Points spent at a partner of the coalition.
    fn redeem(
        &mut self,
        cx: &mut Cx<'_>,
        who: Who<'_>,
        what: Redemption<'_>,
        at: Timestamp,
    ) -> Result<(), Rejection> {
        let Redemption { reward: None, partner: Some(partner), points: Some(points) } = what else {
            return Err(Rejection::RedeemNeeds {
                mechanism: who.mechanism.to_owned(),
                needs: "a `partner` and `points` (and no `reward`)",
            });
        };
        let index = self.partner(partner).ok_or_else(|| Rejection::UnknownPartner(partner.to_owned()))?;
        let held = cx.books.ledger.held(cx.pool.id, who.member);
        if points > held {
            return Err(who.not_enough("redeem", held, points));
        }
        let month = at.local_month(cx.timezone);
        self.redeem_at(cx.pool, cx.books, who.member, (index, points), month);
        Ok(())
    }

    fn view(&self, look: &Look<'_>) -> CoalitionView {
        CoalitionView {
            points: look.outstanding(),
            partners: self.config.partners.len() as u64,
            settlement: self.report(),
        }
    }

    fn standing(&self, look: &Look<'_>, member: MemberId) -> CoalitionStanding {
        CoalitionStanding { points: look.held(member) }
    }
}

const RATE: i64 = 1_000_000_000;
