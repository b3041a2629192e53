//! What members and the operator do with balances: sell or cash out points, redeem them, view
//! ads, top up cash, and fund pools (withdrawals: `withdrawals.rs`).

use super::Engine;
use super::orders::positive;
use crate::MechanismId;
use crate::event::SellAmount;
use crate::kind::{Cx, Look, Redemption, State, Who};
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points};
use crate::rejection::Rejection;
use crate::time::Timestamp;

impl Engine {
    /// Appreciation points sold, or loyalty points cashed out.
    pub(super) fn sell(
        &mut self,
        member: &str,
        mechanism: &str,
        points: SellAmount,
        at: Timestamp,
    ) -> Result<(), Rejection> {
        let (who, m) = self.named(member, mechanism)?;
        let member_id = who.member;
        let (held, action) = {
            let mechanism = &self.mechanisms[m.index()];
            let look = Look { pool: &mechanism.pool, books: &self.books, now: self.last_at };
            mechanism
                .state
                .sellable(&look, member_id, at)
                .map_err(|action| who.wrong(mechanism.state.name(), action))?
        };
        let points = match points {
            SellAmount::All if held.is_zero() => return Ok(()),
            SellAmount::All => held,
            SellAmount::Points(p) if p <= Points::ZERO => return Err(Rejection::NotPositive("points")),
            SellAmount::Points(p) if p > held => return Err(who.not_enough(action, held, p)),
            SellAmount::Points(p) => p,
        };
        let growth = self.mechanisms[m.index()].state.sell_growth(points);
        self.grow(growth, || format!("what `{mechanism}` owes, with this cash-out"))?;
        let (state, mut cx) = self.hook(m);
        state.sell(&mut cx, member_id, points, at);
        Ok(())
    }

    pub(super) fn topup(&mut self, member: &str, amount: Money, at: Timestamp) -> Result<(), Rejection> {
        let id = self.member_named(member)?;
        positive(amount, "amount")?;
        let bonus = self
            .plan
            .mechanisms
            .iter()
            .map(|m| m.kind.topup_growth(amount))
            .fold(0u128, u128::saturating_add);
        let growth = (amount.fen() as u128 * super::CASH_PASSES).saturating_add(bonus);
        self.grow(growth, || "what the plan has issued, with this top-up".to_owned())?;
        self.books.ledger.post(Account::External, Account::Credit(id), amount.fen(), None, Rule::Topup);
        let timezone = self.plan.timezone;
        for mechanism in self.mechanisms.iter_mut().filter(|m| !m.retired) {
            let (state, mut cx) = mechanism.hooked(&mut self.books, &self.members, timezone);
            state.on_topup(&mut cx, id, amount, at);
        }
        Ok(())
    }

    /// A reward of a loyalty catalogue, or coalition points at a partner.
    pub(super) fn redeem(
        &mut self,
        member: &str,
        mechanism: &str,
        what: Redemption<'_>,
        at: Timestamp,
    ) -> Result<(), Rejection> {
        let (who, m) = self.named(member, mechanism)?;
        let (state, mut cx) = self.hook(m);
        state.redeem(&mut cx, who, what, at)
    }

    pub(super) fn ad_view(&mut self, member: &str, mechanism: &str, at: Timestamp) -> Result<(), Rejection> {
        let (who, m) = self.named(member, mechanism)?;
        if self.mechanisms[m.index()].retired && self.mechanisms[m.index()].state.takes_advertisers() {
            return Err(Rejection::Retired { mechanism: mechanism.to_owned(), action: "reward an ad view" });
        }
        let (state, mut cx) = self.hook(m);
        state.ad_view(&mut cx, who, at)
    }

    /// Cash into a pool from outside: an injection (any mechanism) or an advertiser's funds
    /// (a kind that takes them).
    pub(super) fn fund(&mut self, mechanism: &str, amount: Money, rule: Rule) -> Result<(), Rejection> {
        let m = self.mechanism_named(mechanism)?;
        positive(amount, "amount")?;
        let state = &self.mechanisms[m.index()].state;
        if rule == Rule::AdvertiserFund && !state.takes_advertisers() {
            return Err(Rejection::WrongMechanism {
                mechanism: mechanism.to_owned(),
                kind: state.name(),
                action: "take advertiser funds",
            });
        }
        self.grow(amount.fen() as u128 * super::CASH_PASSES, || "the cash paid in, with this".to_owned())?;
        self.books.ledger.post(Account::External, Account::Pool(m), amount.fen(), Some(m), rule);
        Ok(())
    }

    /// The mechanism named `name`, or the rejection of an unknown one.
    pub(super) fn mechanism_named(&self, name: &str) -> Result<MechanismId, Rejection> {
        self.mechanisms
            .iter()
            .position(|m| m.pool.name == name)
            .map(MechanismId::from_index)
            .ok_or_else(|| Rejection::UnknownMechanism(name.to_owned()))
    }

    /// The member and the mechanism a member's action names, or the rejection of an unknown one.
    fn named<'n>(&self, member: &'n str, mechanism: &'n str) -> Result<(Who<'n>, MechanismId), Rejection> {
        let member_id = self.member_named(member)?;
        let m = self.mechanism_named(mechanism)?;
        Ok((Who { member: member_id, member_name: member, mechanism }, m))
    }

    /// A mechanism's state and the context its hooks take.
    fn hook(&mut self, m: MechanismId) -> (&mut State, Cx<'_>) {
        self.mechanisms[m.index()].hooked(&mut self.books, &self.members, self.plan.timezone)
    }
}
