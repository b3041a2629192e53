//! Members joining, and the reviews of referrals that anti-fraud holds.

use super::Engine;
use super::orders::OrderRecord;
use crate::effect::Effect;
use crate::kind::Settlement;
use crate::num::Money;
use crate::rejection::Rejection;
use crate::time::Timestamp;
use crate::{MemberId, OrderId};

impl Engine {
    /// `contacts`: device, phone and IP, for anti-fraud.
    pub(super) fn join(
        &mut self,
        member: &str,
        referrer: Option<&str>,
        contacts: [Option<&str>; 3],
        at: Timestamp,
    ) -> Result<(), Rejection> {
        crate::rejection::check_id("member", member)?;
        if referrer == Some(member) {
            return Err(Rejection::SelfReferral(member.to_owned()));
        }
        let Err(absent) = self.members.lookup(member) else {
            return Err(Rejection::AlreadyJoined(member.to_owned()));
        };
        let referrer = match referrer {
            Some(name) => {
                Some(self.members.find(name).ok_or_else(|| Rejection::UnknownReferrer(name.to_owned()))?)
            }
            None => None,
        };
        let id = self.members.join(member, absent, referrer);
        self.books.ledger.add_member();
        self.books.effect(Effect::Joined { member: id });
        if let Some(antifraud) = &mut self.antifraud {
            let uplines = self.members.uplines(id, 3);
            let referrer = self.members.joined_referrer(id);
            let hits = antifraud.on_join(id, referrer, contacts, at, uplines);
            self.members.set_cut(id, !hits.is_empty());
            if !hits.is_empty() {
                let review = antifraud.reviews.len() as u32 - 1;
                self.books.effect(Effect::Held { member: id, review });
            }
        }
        Ok(())
    }

    /// An operator's decision on a held referral. Approved, the rewards that waited on it happen
    /// now, order by order, as if counted now; rejected, they never happen.
    pub(super) fn review(&mut self, member: &str, approve: bool, at: Timestamp) -> Result<(), Rejection> {
        let id = self.member_named(member)?;
        let antifraud = self.antifraud.as_mut().ok_or(Rejection::NoAntifraud)?;
        let review = antifraud.open_review(id).ok_or_else(|| Rejection::NoReview(member.to_owned()))?;
        let (orders, downline) = antifraud.decide(review, approve, at);
        self.books.effect(Effect::Reviewed { member: id, approved: approve });
        if approve {
            self.members.set_cut(id, false);
            for order in orders {
                self.settle_referral(order, at, 0);
            }
            for (order, from) in downline {
                self.settle_referral(order, at, usize::from(from));
            }
        }
        Ok(())
    }

    /// The referral parts of a settled order whose referral was held and is now approved: from
    /// upline position `from` on (0: the buyer's own referral; 1 or 2: a link further up, the
    /// uplines below it having been paid at settlement).
    fn settle_referral(&mut self, order: OrderId, now: Timestamp, from: usize) {
        let OrderRecord { member, amount, weekday, .. } = *self.orders.record(order);
        let uplines = self.members.uplines(member, self.depth);
        if self.members.ranks() {
            self.members.add_team_sales(uplines.into_iter().skip(from).flatten(), amount);
        }
        let order = Settlement {
            member,
            uplines,
            amount,
            funding: Money::ZERO,
            now,
            weekday,
            held: false,
            agents: [None; 3],
            recruiter: None,
            partner: None,
            from,
        };
        let timezone = self.plan.timezone;
        for mechanism in self.mechanisms.iter_mut().filter(|m| !m.retired) {
            let (state, mut cx) = mechanism.hooked(&mut self.books, &self.members, timezone);
            state.on_referral(&mut cx, &order);
        }
    }

    /// The member named `name`, or the rejection of an unknown one.
    pub(super) fn member_named(&self, name: &str) -> Result<MemberId, Rejection> {
        self.members.find(name).ok_or_else(|| Rejection::UnknownMember(name.to_owned()))
    }
}
