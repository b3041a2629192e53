//! 提现 under the plan's `[withdrawal]`: a fee back to a pool (回流到盈利池, seeds 002 and 003),
//! a minimum, a cap per member and business day, and an operator's review above a threshold,
//! the money held meanwhile (it leaves the wallet at once, so it cannot be spent twice). Without
//! the section a withdrawal is paid at once and whole, as it always was.
//!
//! A member has at most one withdrawal waiting for review: the review names the member, as an
//! anti-fraud review does, and a second request while one waits is refused
//! (`withdrawal_waiting`). A withdrawal's fee is set when it is asked for; an amendment that
//! changes the fee later does not change it. What a member asked for in a day counts against
//! the cap whether it was paid or is waiting; a rejected one no longer counts.

use std::collections::BTreeMap;

use super::Engine;
use super::orders::positive;
use crate::MemberId;
use crate::effect::Effect;
use crate::ledger::{Account, Rule};
use crate::num::Money;
use crate::rejection::Rejection;
use crate::table::slot;
use crate::time::Timestamp;

/// No request waiting.
const NONE: u32 = u32::MAX;

/// The withdrawals waiting for review, and what each member asked for today.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(super) struct Withdrawals {
    /// Waiting for review, by request number (so in the order asked).
    waiting: BTreeMap<u32, Waiting>,
    /// Each member's waiting request, by member index (`NONE`: none).
    by_member: Vec<u32>,
    /// Each member's business day of their last request, and what they asked for that day (fen).
    today: Vec<(i64, i64)>,
    /// Requests so far.
    requests: u32,
}

/// A withdrawal waiting for review.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Waiting {
    member: MemberId,
    amount: Money,
    fee: Money,
    at: Timestamp,
    /// The business day it was asked on.
    day: i64,
}

/// A withdrawal waiting for an operator's review, as the review queue shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitingWithdrawal {
    /// Who asked.
    pub member: MemberId,
    /// How much (held, out of their wallet).
    pub amount: Money,
    /// The fee it will cost when paid.
    pub fee: Money,
    /// When it was asked for.
    pub at: Timestamp,
}

impl Engine {
    /// A member asks to withdraw `amount` from their wallet.
    pub(super) fn withdraw(&mut self, member: &str, amount: Money, at: Timestamp) -> Result<(), Rejection> {
        let id = self.member_named(member)?;
        positive(amount, "amount")?;
        let Some(config) = &self.plan.withdrawal else {
            let held = self.books.ledger.wallet(id);
            if amount > held {
                return Err(Rejection::NotEnoughWallet { member: member.to_owned(), held, wanted: amount });
            }
            self.books.ledger.post(
                Account::Wallet(id),
                Account::External,
                amount.fen(),
                None,
                Rule::Withdraw,
            );
            return Ok(());
        };
        if amount < config.min {
            return Err(Rejection::BelowMinimum { member: member.to_owned(), amount, min: config.min });
        }
        let w = &mut self.withdrawals;
        if w.by_member.get(id.index()).is_some_and(|&n| n != NONE) {
            return Err(Rejection::WithdrawalWaiting(member.to_owned()));
        }
        let day = at.local_day(self.plan.timezone);
        let asked = w.today.get(id.index()).filter(|(d, _)| *d == day).map_or(0, |(_, fen)| *fen);
        if let Some(cap) = config.max_per_day
            && asked + amount.fen() > cap.fen()
        {
            return Err(Rejection::OverDailyCap {
                member: member.to_owned(),
                amount,
                asked: Money::from_fen(asked),
                cap,
            });
        }
        let held = self.books.ledger.wallet(id);
        if amount > held {
            return Err(Rejection::NotEnoughWallet { member: member.to_owned(), held, wanted: amount });
        }
        let fee = amount.mul_rate(config.fee_rate);
        let review = config.review_above.is_some_and(|above| amount > above);
        *slot(&mut w.today, id) = (day, asked + amount.fen());
        if review {
            let number = w.requests;
            w.requests += 1;
            w.waiting.insert(number, Waiting { member: id, amount, fee, at, day });
            *slot_or(&mut w.by_member, id, NONE) = number;
            self.books.ledger.post(
                Account::Wallet(id),
                Account::Withdrawals,
                amount.fen(),
                None,
                Rule::WithdrawalHeld,
            );
            self.books.effect(Effect::WithdrawalHeld { member: id, amount });
        } else {
            w.requests += 1;
            self.pay_out(Account::Wallet(id), id, amount, fee);
        }
        Ok(())
    }

    /// An operator's decision on the member's withdrawal waiting for review: approved, it is
    /// paid (less its fee); rejected, its money goes back to the wallet.
    pub(super) fn review_withdrawal(&mut self, member: &str, approve: bool) -> Result<(), Rejection> {
        let id = self.member_named(member)?;
        let w = &mut self.withdrawals;
        let number = w.by_member.get(id.index()).copied().unwrap_or(NONE);
        let Some(waiting) = w.waiting.remove(&number) else {
            return Err(Rejection::NoWithdrawalWaiting(member.to_owned()));
        };
        w.by_member[id.index()] = NONE;
        let Waiting { amount, fee, day, .. } = waiting;
        if approve {
            self.pay_out(Account::Withdrawals, id, amount, fee);
        } else {
            if let Some(today) = w.today.get_mut(id.index()).filter(|(d, _)| *d == day) {
                today.1 -= amount.fen();
            }
            self.books.ledger.post(
                Account::Withdrawals,
                Account::Wallet(id),
                amount.fen(),
                None,
                Rule::WithdrawalReturned,
            );
            self.books.effect(Effect::WithdrawalReturned { member: id, amount });
        }
        Ok(())
    }

    /// Pays `amount` out of `from` to the member, less `fee`, which goes to the pool the plan
    /// names (or the platform).
    fn pay_out(&mut self, from: Account, member: MemberId, amount: Money, fee: Money) {
        let to = self
            .plan
            .withdrawal
            .as_ref()
            .and_then(|c| c.fee_to.as_deref())
            .and_then(|id| self.mechanism_named(id).ok());
        let ledger = &mut self.books.ledger;
        ledger.post(from, Account::External, amount.fen() - fee.fen(), None, Rule::Withdraw);
        match to {
            Some(m) => ledger.post(from, Account::Pool(m), fee.fen(), Some(m), Rule::WithdrawalFee),
            None => ledger.post(from, Account::Platform, fee.fen(), None, Rule::WithdrawalFee),
        }
        self.books.effect(Effect::WithdrawalPaid { member, amount, fee });
    }

    /// The withdrawals waiting for review, in the order asked.
    pub fn withdrawals_waiting(&self) -> impl Iterator<Item = WaitingWithdrawal> + '_ {
        self.withdrawals.waiting.values().map(|w| WaitingWithdrawal {
            member: w.member,
            amount: w.amount,
            fee: w.fee,
            at: w.at,
        })
    }

    /// What the member has waiting for review, when the plan has `[withdrawal]`.
    pub(super) fn withdrawing(&self, member: MemberId) -> Option<Money> {
        self.plan.withdrawal.as_ref()?;
        let number = self.withdrawals.by_member.get(member.index()).copied().unwrap_or(NONE);
        Some(self.withdrawals.waiting.get(&number).map_or(Money::ZERO, |w| w.amount))
    }
}

/// The slot of `member` in `table`, grown with `empty` up to it.
fn slot_or(table: &mut Vec<u32>, member: MemberId, empty: u32) -> &mut u32 {
    if table.len() <= member.index() {
        table.resize(member.index() + 1, empty);
    }
    &mut table[member.index()]
}
