//! 分销: commissions on every settled order to the buyer's uplines (`levels`), to ranked uplines
//! by differential (级差, with 平级奖), to the store's regional agents by differential, and to the
//! member who recruited the store (招商).
//!
//! The order's budget `c = funding_rate × amount` enters the pool; each commission is a share of
//! the order amount, rounded down to the fen and owed through the obligation queue (paid at once
//! when nothing older waits and the pool covers it: the same end state, one round trip fewer); what the
//! commissions leave of `c` goes back to the platform at once (`returned`). When the commissions
//! exceed `c` (a plan `fanli check` refuses), nothing returns and the pool owes the difference
//! until other orders fund it: it never borrows.
//!
//! Ranks read team sales, which the engine keeps up to date as orders settle (three uplines per
//! order), so no commission walks more than the buyer's three uplines.

mod config;
mod view;

pub use config::DistributionConfig;
pub use view::{Commissions, DistributionView};

use super::{Cx, Kind, Look, Settlement};
use crate::MemberId;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::members::Members;
use crate::num::{Money, Rate};
use crate::pool::{Books, Pool};
use crate::terms::{PayTo, rank_rate};

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Distribution {
    config: DistributionConfig,
    /// What order budgets left unallocated and went back to the platform.
    returned: Money,
    /// The commissions of the order being settled (kept to reuse its allocation); empty
    /// between events, so a snapshot leaves it out.
    #[cfg_attr(feature = "snapshot", serde(skip))]
    scratch: Vec<(MemberId, Rate, Rule)>,
}

impl Distribution {
    fn settle(&mut self, pool: &mut Pool, books: &mut Books, order: &Settlement<'_>, members: &Members) {
        let mut due = std::mem::take(&mut self.scratch);
        if !order.held {
            self.upline_commissions(order, members, &mut due);
        }
        let config = &self.config;
        let mut highest = Rate::ZERO;
        for (rate, agent) in config.regional.iter().zip(order.agents) {
            if let (Some(rate), Some(agent)) = (*rate, agent)
                && rate > highest
            {
                due.push((agent, rate - highest, Rule::Regional));
                highest = rate;
            }
        }
        if let (Some(rate), Some(recruiter)) = (config.recruiter_rate, order.recruiter) {
            due.push((recruiter, rate, Rule::Recruiter));
        }
        let allocated = self.pay(pool, books, order, &due);
        due.clear();
        self.scratch = due;
        let unallocated = order.funding - allocated;
        if unallocated > Money::ZERO {
            books.ledger.post(
                Account::Pool(pool.id),
                Account::Platform,
                unallocated.fen(),
                Some(pool.id),
                Rule::Returned,
            );
            self.returned += unallocated;
            books.effect(Effect::Returned { mechanism: pool.id, amount: unallocated });
        }
    }

    /// The referral part of a settled order, when anti-fraud held it and a review approved it:
    /// the uplines' commissions, funded now from what the order's budget had returned to the
    /// platform.
    fn pay_late(&mut self, pool: &mut Pool, books: &mut Books, order: &Settlement<'_>, members: &Members) {
        let mut due = std::mem::take(&mut self.scratch);
        self.upline_commissions(order, members, &mut due);
        let total: Money = due.iter().map(|&(_, rate, _)| order.amount.mul_rate(rate)).sum();
        books.ledger.post(
            Account::Platform,
            Account::Pool(pool.id),
            total.fen(),
            Some(pool.id),
            Rule::Funding,
        );
        self.returned -= total.min(self.returned);
        self.pay(pool, books, order, &due);
        due.clear();
        self.scratch = due;
    }

    /// `levels` and `ranks` (级差, 平级奖): what the buyer's uplines earn, as (member, rate, rule).
    fn upline_commissions(
        &self,
        order: &Settlement<'_>,
        members: &Members,
        due: &mut Vec<(MemberId, Rate, Rule)>,
    ) {
        // Late, for a downline order (`from` > 0), only the uplines above the held link are
        // paid; the walk still starts at the buyer, so the differentials are the order's.
        let config = &self.config;
        for (k, (rate, upline)) in config.levels.iter().zip(order.uplines).enumerate() {
            let Some(upline) = upline else { break };
            if k >= order.from {
                due.push((upline, *rate, Rule::Level));
            }
        }
        if config.ranks.is_empty() {
            return;
        }
        let mut highest = Rate::ZERO;
        let mut peer_paid = false;
        for (k, upline) in order.uplines.into_iter().enumerate() {
            let Some(upline) = upline else { break };
            let rate = rank_rate(&config.ranks, members.team_sales(upline));
            if rate > highest {
                if k >= order.from {
                    due.push((upline, rate - highest, Rule::Rank));
                }
                highest = rate;
            } else if rate == highest
                && highest > Rate::ZERO
                && !peer_paid
                && let Some(peer) = config.peer_rate
            {
                if k >= order.from {
                    due.push((upline, peer, Rule::Peer));
                }
                peer_paid = true;
            }
        }
    }

    /// Owes each commission (`rate` × the order, down to the fen), in order; returns the total.
    fn pay(
        &self,
        pool: &mut Pool,
        books: &mut Books,
        order: &Settlement<'_>,
        due: &[(MemberId, Rate, Rule)],
    ) -> Money {
        let mut allocated = Money::ZERO;
        for &(member, rate, rule) in due {
            let reward = order.amount.mul_rate(rate);
            if reward.is_zero() {
                continue;
            }
            allocated += reward;
            books.effect(Effect::Commission {
                mechanism: pool.id,
                member,
                buyer: order.member,
                rule,
                amount: reward,
            });
            pool.owe_or_pay(books, member, reward, PayTo::Wallet, rule);
        }
        allocated
    }
}

impl Kind for Distribution {
    const NAME: &'static str = "distribution";
    const TITLE: (&'static str, &'static str) = ("分销", "Distribution");
    type Config = DistributionConfig;
    type View = DistributionView;
    type Standing = Commissions;

    fn reconfigure(&mut self, config: &DistributionConfig) {
        self.config = config.clone();
    }

    fn new(config: &DistributionConfig) -> Distribution {
        Distribution { config: config.clone(), returned: Money::ZERO, scratch: Vec::new() }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.settle(cx.pool, cx.books, order, cx.members);
    }

    fn on_referral(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.pay_late(cx.pool, cx.books, order, cx.members);
    }

    /// Starts loading the wallets the uplines' commissions may be paid into.
    fn read_ahead(&self, look: &Look<'_>, _member: MemberId, uplines: &[Option<MemberId>; 3]) -> i64 {
        for &upline in uplines.iter().flatten() {
            look.books.ledger.prefetch(Account::Wallet(upline));
        }
        0
    }

    fn view(&self, _look: &Look<'_>) -> DistributionView {
        DistributionView { returned: self.returned }
    }

    fn standing(&self, _look: &Look<'_>, _member: MemberId) -> Commissions {
        Commissions
    }
}
