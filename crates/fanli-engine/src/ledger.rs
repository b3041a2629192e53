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
    held: Vec<i64>,
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
        let debited = self.balance_mut(from);
        *debited -= amount;
        let floor_is_zero = !matches!(from, Account::External | Account::Platform | Account::Issued(_));
        assert!(!floor_is_zero || *debited >= 0, "{from:?} would go below zero ({rule:?})");
        *self.balance_mut(to) += amount;
        if self.record {
            self.journal.push(Posting { from, to, amount, mechanism, rule });
        }
    }

    pub(crate) fn balance(&self, account: Account) -> i64 {
        match account {
            Account::External => self.external,
            Account::Platform => self.platform,
            Account::Withdrawals => self.withdrawals,
            Account::Pool(m) => self.pools[m.index()],
            Account::Wallet(member) => self.wallets[member.index()],
            Account::Credit(member) => self.credits[member.index()],
            Account::Issued(m) => self.points[m.index()].issued,
            Account::Points(m, member) => {
                self.points[m.index()].held.get(member.index()).copied().unwrap_or(0)
            }
        }
    }

    /// Inlined into `post`: out of line, its call and match were about 56 of a posting's
    /// 130 instructions (callgrind, issue 19), and `post` runs 14 times an event on all-kinds.
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
            Account::Points(m, member) => crate::table::slot(&mut self.points[m.index()].held, member),
        }
    }

    /// Starts loading a member account's balance into the cache (a hint: changes nothing).
    pub(crate) fn prefetch(&self, account: Account) {
        let (table, member) = match account {
            Account::Wallet(member) => (&self.wallets, member),
            Account::Credit(member) => (&self.credits, member),
            Account::Points(m, member) => (&self.points[m.index()].held, member),
            _ => return,
        };
        crate::table::prefetch(table, member);
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
        let points = self
            .points
            .iter()
            .all(|book| book.issued as i128 + book.held.iter().map(|&b| b as i128).sum::<i128>() == 0);
        cash == 0 && points
    }
}
