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

use super::{Base, Books, Settlement};
use crate::MemberId;
use crate::effect::Effect;
use crate::engine::Members;
use crate::ledger::{Account, Rule};
use crate::num::{Money, Rate};
use crate::plan::{DistributionConfig, PayTo, rank_rate};

#[derive(Debug)]
pub(crate) struct Distribution {
    pub(crate) config: DistributionConfig,
    /// What order budgets left unallocated and went back to the platform.
    returned: Money,
}

impl Distribution {
    pub(crate) fn new(config: &DistributionConfig) -> Distribution {
        Distribution { config: config.clone(), returned: Money::ZERO }
    }

    /// Returned to the platform in all.
    pub(crate) fn returned(&self) -> Money {
        self.returned
    }

    pub(crate) fn on_settled(
        &mut self,
        base: &mut Base,
        books: &mut Books,
        order: &Settlement,
        members: &Members,
    ) {
        let amount = order.amount;
        let mut allocated = Money::ZERO;
        let mut commission = |member: MemberId, rate: Rate, rule: Rule| {
            let reward = amount.mul_rate(rate);
            if reward.is_zero() {
                return;
            }
            allocated += reward;
            books.effect(Effect::Commission {
                mechanism: base.id,
                member,
                buyer: order.member,
                rule,
                amount: reward,
            });
            base.owe_or_pay(books, member, reward, PayTo::Wallet, rule);
        };
        let config = &self.config;
        for (rate, upline) in config.levels.iter().zip(order.uplines) {
            let Some(upline) = upline else { break };
            commission(upline, *rate, Rule::Level);
        }
        if !config.ranks.is_empty() {
            let mut highest = Rate::ZERO;
            let mut peer_paid = false;
            for upline in order.uplines.into_iter().flatten() {
                let rate = rank_rate(&config.ranks, members.team_sales(upline));
                if rate > highest {
                    commission(upline, rate - highest, Rule::Rank);
                    highest = rate;
                } else if rate == highest
                    && highest > Rate::ZERO
                    && !peer_paid
                    && let Some(peer) = config.peer_rate
                {
                    commission(upline, peer, Rule::Peer);
                    peer_paid = true;
                }
            }
        }
        let mut highest = Rate::ZERO;
        for (rate, agent) in config.regional.iter().zip(order.agents) {
            if let (Some(rate), Some(agent)) = (*rate, agent)
                && rate > highest
            {
                commission(agent, rate - highest, Rule::Regional);
                highest = rate;
            }
        }
        if let (Some(rate), Some(recruiter)) = (config.recruiter_rate, order.recruiter) {
            commission(recruiter, rate, Rule::Recruiter);
        }
        let unallocated = order.funding - allocated;
        if unallocated > Money::ZERO {
            books.ledger.post(
                Account::Pool(base.id),
                Account::Platform,
                unallocated.fen(),
                Some(base.id),
                Rule::Returned,
            );
            self.returned += unallocated;
            books.effect(Effect::Returned { mechanism: base.id, amount: unallocated });
        }
    }
}
