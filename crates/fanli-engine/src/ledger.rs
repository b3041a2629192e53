//! Double entry: every movement is a [`Posting`] between two accounts of one asset, and every
//! balance lives here, so the books sum to zero by construction.
//!
//! Assets are cash (fen) and each points-issuing mechanism's points (1/10000). A points
//! mechanism's `Issued` account holds minus the points outstanding.

use crate::num::{Money, Points};
use crate::{MechanismId, MemberId};

/// An account of the tenant's books.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Account {
    /// Money from and to the outside world.
    External,
    /// The merchant's and the platform's share of every order.
    Platform,
    /// A mechanism's funded pool; never below zero.
    Pool(MechanismId),
    /// A member's withdrawable cash (零钱).
    Wallet(MemberId),
    /// A member's store credit, spendable only on orders.
    Credit(MemberId),
    /// Points of a mechanism not held by anyone: minus the points outstanding.
    Issued(MechanismId),
    /// Points of a mechanism held by a member.
    Points(MechanismId, MemberId),
    /// Cash members asked to withdraw, held while an operator reviews it (`[withdrawal]`'s
    /// `review_above`): no longer spendable, not yet paid out.
    Withdrawals,
}

impl Account {
    /// The asset this account is kept in.
    pub fn asset(self) -> Asset {
        match self {
            Account::Issued(m) | Account::Points(m, _) => Asset::Points(m),
            _ => Asset::Cash,
        }
    }
}

/// What an account counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Asset {
    /// CNY, in fen.
    Cash,
    /// A mechanism's points, in 1/10000.
    Points(MechanismId),
}

/// Why a posting happened: with the event that caused it and the mechanism, this explains any
/// balance line by line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Rule {
    /// An order's cash part paid in.
    Payment,
    /// An order's part paid with store credit.
    CreditSpent,
    /// A settled order funds a mechanism's pool.
    Funding,
    /// An unsettled order refunded: the payment goes back.
    Cancel,
    /// A settled order refunded: the merchant bears it, rewards stay.
    Refund,
    /// A member withdraws cash.
    Withdraw,
    /// A member tops up store credit.
    Topup,
    /// Cash injected into a pool.
    Inject,
    /// Points minted for a settled order.
    Mint,
    /// Points sold by their holder.
    Sell,
    /// Points sold by a forced exit (出局).
    Exit,
    /// A referral step paid (推N返一).
    Referral,
    /// An indirect referral reward paid.
    Indirect,
    /// A repurchase step paid (阶梯式返现).
    Repurchase,
    /// A queue entry paid early by a referee's order.
    Acceleration,
    /// A queue entry paid at its turn.
    Release,
    /// A due queue entry (进三补一) paid.
    Due,
    /// 分销: a commission to the k-th upline (`levels`).
    Level,
    /// 分销 级差: an upline's rank rate above the highest paid below it.
    Rank,
    /// 分销 平级奖: an upline of the same rank as the one below it.
    Peer,
    /// 分销: a regional agent's differential.
    Regional,
    /// 分销 招商: the share of the member who recruited the store.
    Recruiter,
    /// What an order's distribution budget did not allocate, back to the platform.
    Returned,
    /// Green points granted for a settled order (a lot).
    Grant,
    /// Green points released day by day from a member's own lots (burned, then paid as cash).
    DailyRelease,
    /// Green points a member releases because a downline released theirs (share acceleration).
    ShareRelease,
    /// Green points a member releases by team rank (级差) on a downline's release.
    TeamRelease,
    /// 循环购: the day's dividend by shares.
    Dividend,
    /// 循环购: the honor members' equal split.
    Honor,
    /// 广告电商: task points earned by spending.
    TaskPoints,
    /// 广告电商: an advertiser funds the pool.
    AdvertiserFund,
    /// 广告电商: task points released by viewing an ad.
    AdView,
    /// Loyalty points earned by an order.
    Earn,
    /// Loyalty points for a direct referee's order.
    RefereeBonus,
    /// Loyalty points for topping up store credit.
    TopupBonus,
    /// Loyalty points expired unspent.
    Expire,
    /// Loyalty points spent on a reward.
    Redeem,
    /// Loyalty points cashed out, and the cash they pay.
    Cashout,
    /// Points taken back from a refunded order (`clawback`).
    Clawback,
    /// A withdrawal's fee, back to the pool the plan names (回流) or the platform.
    WithdrawalFee,
    /// A withdrawal held for an operator's review.
    WithdrawalHeld,
    /// A held withdrawal rejected: its money back in the wallet.
    WithdrawalReturned,
}

impl Rule {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Payment => "payment",
            Rule::CreditSpent => "credit_spent",
            Rule::Funding => "funding",
            Rule::Cancel => "cancel",
            Rule::Refund => "refund",
            Rule::Withdraw => "withdraw",
            Rule::Topup => "topup",
            Rule::Inject => "inject",
            Rule::Mint => "mint",
            Rule::Sell => "sell",
            Rule::Exit => "exit",
            Rule::Referral => "referral",
            Rule::Indirect => "indirect",
            Rule::Repurchase => "repurchase",
            Rule::Acceleration => "acceleration",
            Rule::Release => "release",
            Rule::Due => "due",
            Rule::Level => "level",
            Rule::Rank => "rank",
            Rule::Peer => "peer",
            Rule::Regional => "regional",
            Rule::Recruiter => "recruiter",
            Rule::Returned => "returned",
            Rule::Grant => "grant",
            Rule::DailyRelease => "daily_release",
            Rule::ShareRelease => "share_release",
            Rule::TeamRelease => "team_release",
            Rule::Dividend => "dividend",
            Rule::Honor => "honor",
            Rule::TaskPoints => "task_points",
            Rule::AdvertiserFund => "advertiser_fund",
            Rule::AdView => "ad_view",
            Rule::Earn => "earn",
            Rule::RefereeBonus => "referee_bonus",
            Rule::TopupBonus => "topup_bonus",
            Rule::Expire => "expire",
            Rule::Redeem => "redeem",
            Rule::Cashout => "cashout",
            Rule::Clawback => "clawback",
            Rule::WithdrawalFee => "withdrawal_fee",
            Rule::WithdrawalHeld => "withdrawal_held",
            Rule::WithdrawalReturned => "withdrawal_returned",
        }
    }
}

/// One movement of one asset between two accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Posting {
    /// The account debited.
    pub from: Account,
    /// The account credited.
    pub to: Account,
    /// How much, in the asset's unit (fen or 1/10000 point); always positive.
    pub amount: i64,
    /// The mechanism on whose behalf, if any.
    pub mechanism: Option<MechanismId>,
    /// Why.
    pub rule: Rule,
}

impl Posting {
    /// The asset moved.
    pub fn asset(&self) -> Asset {
        self.from.asset()
    }
}

/// Every balance of a tenant, and the postings of the event being applied.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Ledger {
    external: i64,
    platform: i64,
    withdrawals: i64,
    pools: Vec<i64>,
    wallets: Vec<i64>,
    credits: Vec<i64>,
    /// Per mechanism: (issued, held by member). Empty for mechanisms without points.
    points: Vec<PointsBook>,
    pub(crate) journal: Vec<Posting>,
    /// Whether `journal` (and the event's effects) are kept: only when someone reads them.
    pub(crate) record: bool,
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct PointsBook {
    issued: i64,
    /// Points held, by member index, in 1/10000 point: in 4 bytes while they fit (214,748
    /// points), else `SPILLED` and the figure whole in `held_large` (exact either way; half the
    /// bytes of an `i64` column: issue 19).
    held: Vec<i32>,
    held_large: std::collections::BTreeMap<u32, i64>,
}

/// A `PointsBook::held` figure kept in `held_large`.
const SPILLED: i32 = i32::MIN;

impl PointsBook {
    /// What the member holds.
    #[inline]
    fn get(&self, member: MemberId) -> i64 {
        match self.held.get(member.index()) {
            None => 0,
            Some(&SPILLED) => self.held_large[&(member.index() as u32)],
            Some(&fits) => i64::from(fits),
        }
    }

    /// Adds `delta` to what the member holds and returns the new figure.
    #[inline(always)]
    fn add(&mut self, member: MemberId, delta: i64) -> i64 {
        let small = crate::table::slot(&mut self.held, member);
        if *small != SPILLED {
            let total = i64::from(*small) + delta;
            match i32::try_from(total) {
                Ok(fits) if fits != SPILLED => {
                    *small = fits;
                    return total;
                }
                _ => {}
            }
        }
        self.add_large(member, delta)
    }

    /// `add` when the figure is or goes past an `i32`.
    #[cold]
    #[inline(never)]
    fn add_large(&mut self, member: MemberId, delta: i64) -> i64 {
        let total = self.get(member) + delta;
        let key = member.index() as u32;
        let small = crate::table::slot(&mut self.held, member);
        match i32::try_from(total) {
            Ok(fits) if fits != SPILLED => {
                if *small == SPILLED {
                    self.held_large.remove(&key);
                }
                *small = fits;
            }
            _ => {
                *small = SPILLED;
                self.held_large.insert(key, total);
            }
        }
        total
    }
}

impl Ledger {
    pub(crate) fn new(mechanisms: usize) -> Ledger {
        Ledger {
            pools: vec![0; mechanisms],
            points: (0..mechanisms).map(|_| PointsBook::default()).collect(),
            record: true,
            ..Ledger::default()
        }
    }

    /// Accounts for the mechanisms an amendment added (empty), or, `count` being fewer, drops
    /// those of the last ones again (when the event that brought the amendment into force was
    /// refused: they are still empty).
    pub(crate) fn set_mechanisms(&mut self, count: usize) {
        debug_assert!(self.pools.iter().skip(count).all(|&pool| pool == 0), "a dropped pool is empty");
        self.pools.resize(count, 0);
        self.points.resize_with(count, PointsBook::default);
    }

    pub(crate) fn add_member(&mut self) {
        self.wallets.push(0);
        self.credits.push(0);
    }

    /// Moves `amount` from `from` to `to` and records it. A zero amount records nothing.
    ///
    /// Panics if the move would take a pool, a wallet, store credit or held points below zero:
    /// callers check what they take before they take it, so this is a broken invariant.
    ///
    /// Inlined (issue 19, branch `settle7`): nearly every caller names its accounts' kinds as
    /// constants (`Platform` to `Pool(m)`, `Pool(m)` to `Wallet(member)`), so once inlined the
    /// matches on them, the asset check and the floor check of an account without one fold
    /// away. Out of line, a posting was about 80 instructions, run 14 times an event on
    /// all-kinds, and half of them the call and those matches.
    #[inline(always)]
    pub(crate) fn post(
        &mut self,
        from: Account,
        to: Account,
        amount: i64,
        mechanism: Option<MechanismId>,
        rule: Rule,
    ) {
        assert!(amount >= 0, "postings move positive amounts");
        assert_eq!(from.asset(), to.asset(), "a posting moves one asset");
        if amount == 0 {
            return;
        }
        let debited = match from {
            Account::Points(m, member) => self.points[m.index()].add(member, -amount),
            _ => {
                let debited = self.balance_mut(from);
                *debited -= amount;
                *debited
            }
        };
        let floor_is_zero = !matches!(from, Account::External | Account::Platform | Account::Issued(_));
        assert!(!floor_is_zero || debited >= 0, "{from:?} would go below zero ({rule:?})");
        match to {
            Account::Points(m, member) => {
                self.points[m.index()].add(member, amount);
            }
            _ => *self.balance_mut(to) += amount,
        }
        if self.record {
            self.journal.push(Posting { from, to, amount, mechanism, rule });
        }
    }

    #[inline]
    pub(crate) fn balance(&self, account: Account) -> i64 {
        match account {
            Account::External => self.external,
            Account::Platform => self.platform,
            Account::Withdrawals => self.withdrawals,
            Account::Pool(m) => self.pools[m.index()],
            Account::Wallet(member) => self.wallets[member.index()],
            Account::Credit(member) => self.credits[member.index()],
            Account::Issued(m) => self.points[m.index()].issued,
            Account::Points(m, member) => self.points[m.index()].get(member),
        }
    }

    /// Not for points held (4 bytes a member: see `PointsBook::add`). Inlined into `post`: out
    /// of line, its call and match were about 56 of a posting's 130 instructions (callgrind,
    /// issue 19), and `post` runs 14 times an event on all-kinds.
    #[inline(always)]
    fn balance_mut(&mut self, account: Account) -> &mut i64 {
        match account {
            Account::External => &mut self.external,
            Account::Platform => &mut self.platform,
            Account::Withdrawals => &mut self.withdrawals,
            Account::Pool(m) => &mut self.pools[m.index()],
            Account::Wallet(member) => &mut self.wallets[member.index()],
            Account::Credit(member) => &mut self.credits[member.index()],
            Account::Issued(m) => &mut self.points[m.index()].issued,
            Account::Points(..) => unreachable!("points held are added to by PointsBook::add"),
        }
    }

    /// Starts loading a member account's balance into the cache (a hint: changes nothing).
    pub(crate) fn prefetch(&self, account: Account) {
        match account {
            Account::Wallet(member) => crate::table::prefetch(&self.wallets, member),
            Account::Credit(member) => crate::table::prefetch(&self.credits, member),
            Account::Points(m, member) => crate::table::prefetch(&self.points[m.index()].held, member),
            _ => {}
        }
    }

    pub(crate) fn pool(&self, m: MechanismId) -> Money {
        Money::from_fen(self.pools[m.index()])
    }

    pub(crate) fn wallet(&self, member: MemberId) -> Money {
        Money::from_fen(self.wallets[member.index()])
    }

    pub(crate) fn credit(&self, member: MemberId) -> Money {
        Money::from_fen(self.credits[member.index()])
    }

    pub(crate) fn held(&self, m: MechanismId, member: MemberId) -> Points {
        Points::from_units(self.balance(Account::Points(m, member)))
    }

    /// Points of mechanism `m` held by members.
    pub(crate) fn outstanding(&self, m: MechanismId) -> Points {
        Points::from_units(-self.points[m.index()].issued)
    }

    /// Whether every asset's accounts sum to zero, summing every account afresh.
    pub(crate) fn balances(&self) -> bool {
        let cash: i128 = [self.external, self.platform, self.withdrawals]
            .iter()
            .chain(&self.pools)
            .chain(&self.wallets)
            .chain(&self.credits)
            .map(|&b| b as i128)
            .sum();
        let points = self.points.iter().all(|book| {
            let small = book.held.iter().filter(|&&b| b != SPILLED).map(|&b| b as i128);
            let large = book.held_large.values().map(|&b| b as i128);
            book.issued as i128 + small.chain(large).sum::<i128>() == 0
        });
        cash == 0 && points
    }
}

#[cfg(test)]
mod held_tests {
    use super::*;

    /// Points held are exact past an `i32` of units, kept aside while they are that large.
    #[test]
    fn points_held_spill_past_an_i32_and_stay_exact() {
        let mut ledger = Ledger::new(1);
        let m = MechanismId::from_index(0);
        let (a, b) = (MemberId::from_index(0), MemberId::from_index(1));
        ledger.add_member();
        ledger.add_member();
        let grant = |ledger: &mut Ledger, who: MemberId, units: i64| {
            ledger.post(Account::Issued(m), Account::Points(m, who), units, Some(m), Rule::Grant)
        };
        grant(&mut ledger, a, i64::from(i32::MAX) - 5);
        assert_eq!(ledger.balance(Account::Points(m, a)), i64::from(i32::MAX) - 5);
        grant(&mut ledger, a, 10);
        assert_eq!(ledger.balance(Account::Points(m, a)), i64::from(i32::MAX) + 5);
        grant(&mut ledger, a, 1 << 40);
        grant(&mut ledger, b, 7);
        assert_eq!(ledger.balance(Account::Points(m, a)), i64::from(i32::MAX) + 5 + (1 << 40));
        assert_eq!(ledger.points[0].held_large.len(), 1);
        assert!(ledger.balances());
        ledger.post(Account::Points(m, a), Account::Issued(m), (1 << 40) + 10, Some(m), Rule::Grant);
        assert_eq!(ledger.balance(Account::Points(m, a)), i64::from(i32::MAX) - 5);
        assert_eq!(ledger.points[0].held_large.len(), 0);
        assert_eq!(ledger.balance(Account::Points(m, b)), 7);
        assert_eq!(ledger.outstanding(m), Points::from_units(i64::from(i32::MAX) + 2));
        assert!(ledger.balances());
    }
}
