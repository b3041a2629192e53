//! A validated plan: the mechanisms a tenant runs, in the order they run.
//!
//! The plan file's syntax, its key names and the range checks that name a line live in
//! `fanli-format`; by the time a [`Plan`] exists its values are in range, and
//! [`Plan::check_invariants`] asserts the few facts the engine's arithmetic relies on.

use crate::num::{Money, Rate};
use crate::time::UtcOffset;

/// A plan: global settings and the mechanisms, in the order they run.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Plan {
    /// A name for people ("消费增值 + 推三返一").
    pub name: String,
    /// The refund window: an order settles this many days after it is paid (0: at once).
    pub settle_after_days: u32,
    /// When a business day closes.
    pub timezone: UtcOffset,
    /// The gross margin, when stated: the default profit of an order, and the compliance limit.
    pub margin_rate: Option<Rate>,
    /// The mechanisms, in the order they run.
    pub mechanisms: Vec<MechanismConfig>,
    /// A refund after settlement takes back what the order earned, as far as it still can.
    pub clawback: bool,
    /// Packages sold to qualify (入门套餐), with the value of their goods, for the entry-fee check.
    pub packages: Vec<Package>,
    /// Anti-fraud rules (`[antifraud]`); `None`: no referral is ever held for review.
    pub antifraud: Option<AntifraudConfig>,
}

/// Anti-fraud rules: a join or a referee that trips one has their referral held for review.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct AntifraudConfig {
    /// More members than this registered with one device: the next referral is held.
    pub max_per_device: Option<u32>,
    /// The same for one phone.
    pub max_per_phone: Option<u32>,
    /// The same for one IP.
    pub max_per_ip: Option<u32>,
    /// A referee sharing a device or an IP with their referrer.
    pub shared_device: bool,
    /// More than `referees` referees joining under one referrer within `hours`.
    pub burst: Option<Burst>,
    /// A referee whose first order is at most `max_amount` and who orders nothing more for `days`.
    pub quiet: Option<Quiet>,
    /// A referee sharing a device, phone or IP with any upline to 3 levels (a ring of accounts).
    pub rings: bool,
}

/// The burst rule's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Burst {
    /// Referees allowed in the window.
    pub referees: u32,
    /// The window.
    pub hours: u32,
}

/// The quiet-referee rule's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Quiet {
    /// Days without a second order.
    pub days: u32,
    /// The largest first order that counts as "only the minimum".
    pub max_amount: Money,
}

/// A package a member buys to qualify, as the compliance check sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Package {
    /// Its name.
    pub name: String,
    /// What it costs.
    pub price: Money,
    /// What the goods in it are worth.
    pub value: Money,
}

/// One mechanism of a plan.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct MechanismConfig {
    /// Names the pool, the points and the mechanism in every output.
    pub id: String,
    /// The share of each settled order's base that funds the pool.
    pub funding_rate: Rate,
    /// What `funding_rate` multiplies.
    pub funding_base: FundingBase,
    /// 返现池不足时暂停: while the obligations exceed the pool, nobody new qualifies and no new
    /// entry joins (the plan's setting unless the mechanism has its own).
    pub pause_when_underfunded: bool,
    /// What the mechanism does.
    pub kind: KindConfig,
}

/// What a mechanism's `funding_rate` multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum FundingBase {
    /// The order amount.
    Amount,
    /// The order's profit: its `profit`, else amount × `margin_rate`, else its amount.
    Profit,
}

/// The kind of a mechanism, with its own settings.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum KindConfig {
    /// 消费增值: points that appreciate against a cash pool.
    Appreciation(AppreciationConfig),
    /// 推N返一 / 消费全返: refunds for bringing buyers.
    ReferRefund(ReferRefundConfig),
    /// 排队返利: a queue of rebates paid in order.
    Queue(QueueConfig),
    /// 分销: commissions to uplines, ranks, regional agents and store recruiters.
    Distribution(DistributionConfig),
    /// 绿色积分: points released into the wallet day by day.
    GreenPoints(GreenPointsConfig),
    /// 循环购: a daily dividend by shares, capped by a quota earned by spending.
    Cycle(CycleConfig),
    /// 广告电商: task points from spending, released by viewing ads.
    AdTasks(AdTasksConfig),
    /// 积分 / 会员等级: loyalty points with tiers, expiry, rewards and cash-out.
    Loyalty(LoyaltyConfig),
    /// 跨行业: one point shared by partners, with a settlement report between them.
    Coalition(CoalitionConfig),
}

/// How far into the referral tree and the store table a mechanism looks when an order settles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Levels of uplines it pays or counts (0 to 3).
    pub depth: usize,
    /// Whether it ranks members by team sales.
    pub ranks: bool,
    /// Whether it pays a store's regional agents or recruiter.
    pub regional: bool,
}

impl KindConfig {
    /// The plan file's name for this kind.
    pub fn name(&self) -> &'static str {
        match self {
            KindConfig::Appreciation(_) => "appreciation",
            KindConfig::ReferRefund(_) => "refer_refund",
            KindConfig::Queue(_) => "queue",
            KindConfig::Distribution(_) => "distribution",
            KindConfig::GreenPoints(_) => "green_points",
            KindConfig::Cycle(_) => "cycle",
            KindConfig::AdTasks(_) => "ad_tasks",
            KindConfig::Loyalty(_) => "loyalty",
            KindConfig::Coalition(_) => "coalition",
        }
    }

    /// What a settlement must look up for this kind.
    pub fn reach(&self) -> Reach {
        match self {
            KindConfig::Appreciation(_) => Reach::default(),
            KindConfig::ReferRefund(r) => {
                Reach { depth: if r.indirect.is_some() { 2 } else { 1 }, ..Reach::default() }
            }
            KindConfig::Queue(_) => Reach { depth: 1, ..Reach::default() },
            KindConfig::Distribution(d) => Reach {
                depth: d.levels.len(),
                ranks: !d.ranks.is_empty(),
                regional: d.regional.iter().any(Option::is_some) || d.recruiter_rate.is_some(),
            },
            KindConfig::GreenPoints(g) => {
                Reach { depth: 0, ranks: !g.team_ranks.is_empty(), regional: false }
            }
            KindConfig::Cycle(_) => Reach { depth: 1, ..Reach::default() },
            KindConfig::AdTasks(_) => Reach::default(),
            KindConfig::Loyalty(_) => Reach { depth: 1, ..Reach::default() },
            KindConfig::Coalition(_) => Reach::default(),
        }
    }
}

/// Settings of an appreciation mechanism.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct AppreciationConfig {
    /// The share of the funding minted as points value.
    pub mint_ratio: Rate,
    /// The price while no points are outstanding, in yuan per point (positive).
    pub initial_price: Rate,
    /// The share of a sale that stays in the pool (below 1).
    pub sell_fee: Rate,
    /// A member whose points are worth this multiple of their spend is sold out; `None`: never.
    pub exit_multiple: Option<Rate>,
}

/// Settings of a refer_refund mechanism.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct ReferRefundConfig {
    /// An order of at least this makes the buyer a participant; its amount is the refund base.
    pub qualify_min: Money,
    /// A direct referee's first order of at least this counts as one referral.
    pub referee_min: Money,
    /// The k-th referral pays step k (not empty).
    pub steps: Vec<Step>,
    /// Start over after the last step.
    pub repeat: bool,
    /// Paid to the referrer's referrer when the referrer earns a referral.
    pub indirect: Option<Step>,
    /// Where payouts go.
    pub pay_to: PayTo,
    /// What advances the steps: referrals (推N返一) or the member's own repeat orders (阶梯式返现).
    pub trigger: Trigger,
}

/// What advances a refer_refund mechanism's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Trigger {
    /// The k-th counted referral pays step k.
    Referral,
    /// The member's k-th settled order of at least `qualify_min` pays step k (the first order
    /// included, 首次返 30%, 二次复购返 20%, …), of the base set by the first.
    Repurchase,
}

/// A reward: a share of a base, or a fixed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Step {
    /// A share of the base ("10%").
    Percent(Rate),
    /// A fixed amount ("50.00").
    Fixed(Money),
}

impl Step {
    /// The amount this step pays on `base`, rounded down to the fen.
    pub fn amount(self, base: Money) -> Money {
        match self {
            Step::Percent(rate) => base.mul_rate(rate),
            Step::Fixed(amount) => amount,
        }
    }
}

/// Where a mechanism pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum PayTo {
    /// 零钱: withdrawable cash.
    Wallet,
    /// Store credit, spendable only on orders.
    Credit,
}

/// Settings of a queue mechanism.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct QueueConfig {
    /// An order of at least this creates an entry.
    pub min_order: Money,
    /// when_funded: an entry waits for this multiple of the order amount.
    pub credit_ratio: Rate,
    /// when_funded: an entry becomes eligible this many days after it settles.
    pub lock_days: u32,
    /// How entries are released.
    pub release: Release,
    /// A referee's settled order pays this share of it to the referrer's oldest waiting entry.
    pub referral_acceleration: Rate,
}

/// How a queue releases its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Release {
    /// At each day close, strictly in order, each head entry the pool can pay in full.
    WhenFunded,
    /// 进三补一: every `every` new entries make the oldest waiting one due for `ratio` × its order.
    EveryN {
        /// Entries per release (at least 1).
        every: u32,
        /// What a due entry is owed, as a share of its order.
        ratio: Rate,
    },
}

/// Settings of a distribution mechanism (分销). Every rate is a share of the order amount.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct DistributionConfig {
    /// The k-th upline earns `levels[k]` (at most 3 levels).
    pub levels: Vec<Rate>,
    /// Ranks for 级差, lowest first (by `min_team_sales`).
    pub ranks: Vec<Rank>,
    /// 平级奖: the first upline of the same rank as the highest paid below it earns this.
    pub peer_rate: Option<Rate>,
    /// Regional agents' rates by differential: district, city, province.
    pub regional: [Option<Rate>; 3],
    /// 招商: the member who recruited the store earns this.
    pub recruiter_rate: Option<Rate>,
}

/// A rank by team sales: a member whose team sales reach `min_team_sales` has it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Rank {
    /// A name for people ("星耀").
    pub name: String,
    /// The team sales it takes.
    pub min_team_sales: Money,
    /// What it earns (a share of the order, or of a release).
    pub rate: Rate,
}

/// The rate of the highest rank whose threshold `team_sales` reaches (0 with none). `ranks` is
/// sorted by threshold.
pub fn rank_rate(ranks: &[Rank], team_sales: Money) -> Rate {
    ranks.iter().rev().find(|r| team_sales >= r.min_team_sales).map_or(Rate::ZERO, |r| r.rate)
}

/// Settings of a green_points mechanism (绿色积分 全补贴).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct GreenPointsConfig {
    /// An order of at least `min` earns `multiple` × its amount in points; lowest first.
    pub tiers: Vec<Tier>,
    /// Each lot releases this share of its order amount a day.
    pub daily_release_rate: Rate,
    /// The k-th upline releases `share[k]` × a member's base release from their own points.
    pub share: Vec<Rate>,
    /// Team ranks: uplines release by differential of their rank rates × a base release.
    pub team_ranks: Vec<Rank>,
}

/// A green-points tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Tier {
    /// The least order amount it takes.
    pub min: Money,
    /// Points per yuan of the order.
    pub multiple: Rate,
}

/// Settings of a cycle mechanism (循环购).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct CycleConfig {
    /// Quota (能量值) earned per yuan spent: the most the member can be paid.
    pub quota_multiple: Rate,
    /// Spend per share (贡献值); positive.
    pub share_unit: Money,
    /// A direct referee's settled spend adds this share of it to the referrer's weight.
    pub referral_share_rate: Rate,
    /// 荣誉会员分红: a share of each order split equally among members of honor levels.
    pub honor: Option<Honor>,
}

/// Settings of an ad_tasks mechanism (广告电商).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct AdTasksConfig {
    /// Task points earned per yuan of a settled order.
    pub points_per_yuan: Rate,
    /// Views a member may make in a business day.
    pub views_per_day: u32,
    /// Reward bands by task points held, from 0 up, each starting above the last.
    pub rewards: Vec<Band>,
}

/// A reward band: a view by a member holding at least `from` task points (and less than the
/// next band's `from`, or at most `to` whole points) releases `reward` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Band {
    /// The least task points held.
    pub from: crate::num::Points,
    /// The band's last whole point, when it ends before the next band begins.
    pub to: Option<crate::num::Points>,
    /// Task points a view releases into the wallet (1 point = 1 yuan).
    pub reward: crate::num::Points,
}

impl AdTasksConfig {
    /// The band a member holding `held` task points is in, if any.
    pub fn band(&self, held: crate::num::Points) -> Option<&Band> {
        let one = crate::num::Points::from_whole(1);
        self.rewards.iter().rev().find(|b| held >= b.from).filter(|b| b.to.is_none_or(|to| held < to + one))
    }

    /// The task points no band covers, as (first, last) figures for people ("201", "1000.9999";
    /// "any number above" when the last band ends).
    pub fn gaps(&self) -> Vec<(String, String)> {
        use crate::num::Points;
        let short = |p: Points| {
            let text = p.to_string();
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        };
        let (one, tick) = (Points::from_whole(1), Points::from_units(1));
        let mut gaps = Vec::new();
        if let Some(first) = self.rewards.first().filter(|b| !b.from.is_zero()) {
            gaps.push(("0".to_owned(), short(first.from - tick)));
        }
        for (i, band) in self.rewards.iter().enumerate() {
            let Some(to) = band.to else { continue };
            match self.rewards.get(i + 1) {
                Some(next) if to + one < next.from => gaps.push((short(to + one), short(next.from - tick))),
                None => gaps.push((short(to + one), "any number above".to_owned())),
                Some(_) => {}
            }
        }
        gaps
    }
}

/// Settings of a loyalty mechanism (积分 / 会员等级).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct LoyaltyConfig {
    /// Points per yuan of a settled order.
    pub earn_per_yuan: Rate,
    /// Points per settled order.
    pub earn_per_order: crate::num::Points,
    /// Tiers over a rolling year, lowest first: a tier multiplies what an order earns.
    pub tiers: Vec<LoyaltyTier>,
    /// Weekdays on which orders earn more.
    pub bonus_days: Vec<BonusDay>,
    /// Points for topping up store credit (储值).
    pub topup_bonus: Option<TopupBonus>,
    /// Points per yuan a direct referee's settled order earns the referrer.
    pub referee_rate: Rate,
    /// Days after which a lot of points expires; `None`: never.
    pub expiry_days: Option<u32>,
    /// Days before an expiry to remind the member.
    pub reminders: Vec<u32>,
    /// The rewards catalogue.
    pub rewards: Vec<Reward>,
    /// Cash-out rate: `points` points → `amount` into the wallet, from the pool.
    pub cashout: Option<Cashout>,
}

/// A loyalty tier.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct LoyaltyTier {
    /// Its name ("金卡").
    pub name: String,
    /// What qualifies a member for it, over the rolling year.
    pub min: TierMin,
    /// What it multiplies an order's points by.
    pub multiplier: Rate,
}

/// What qualifies a member for a loyalty tier over the rolling year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum TierMin {
    /// Settled spend (`min_spend`).
    Spend(Money),
    /// Points earned by orders (`min_points`), not the balance.
    Points(crate::num::Points),
}

/// A weekday on which orders earn more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct BonusDay {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// The multiplier.
    pub multiplier: Rate,
}

/// Points for every whole `per` of a top-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct TopupBonus {
    /// The top-up step (positive).
    pub per: Money,
    /// Points per step.
    pub points: crate::num::Points,
}

/// A reward of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Reward {
    /// Its name, as `redeem` events give it.
    pub name: String,
    /// What it costs.
    pub points: crate::num::Points,
}

/// The cash-out rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Cashout {
    /// Points (positive) …
    pub points: crate::num::Points,
    /// … for this much cash.
    pub amount: Money,
}

/// Settings of a coalition mechanism (跨行业).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct CoalitionConfig {
    /// The partners, each with its own earn rate.
    pub partners: Vec<Partner>,
    /// What one point is worth between partners.
    pub point_cost: Money,
}

/// A coalition partner.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Partner {
    /// Its id, as orders and redemptions name it.
    pub id: String,
    /// Points per yuan of its settled orders.
    pub earn_per_yuan: Rate,
    /// An extra share of those points (0.5: 50% more).
    pub bonus: Rate,
}

/// Honor members' dividend.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Honor {
    /// The share of each settled order set aside for honor members.
    pub rate: Rate,
    /// Shares it takes to reach V1, V2, …, at most V10; rising.
    pub levels: Vec<crate::num::Points>,
}

impl Plan {
    /// Panics when a value the engine's arithmetic relies on is out of range: a bug in whoever
    /// built the plan, since `fanli-format` refuses such plans with a message.
    pub fn check_invariants(&self) {
        for (i, m) in self.mechanisms.iter().enumerate() {
            assert!(self.mechanisms[..i].iter().all(|other| other.id != m.id), "mechanism ids are unique");
            assert!(m.funding_rate <= Rate::ONE, "funding_rate is at most 1");
            match &m.kind {
                KindConfig::Appreciation(a) => {
                    assert!(a.initial_price > Rate::ZERO, "initial_price is positive");
                    assert!(a.sell_fee < Rate::ONE, "sell_fee is below 1");
                    assert!(a.exit_multiple.is_none_or(|x| x > Rate::ZERO), "exit_multiple > 0");
                }
                KindConfig::ReferRefund(r) => assert!(!r.steps.is_empty(), "steps is not empty"),
                KindConfig::Coalition(c) => {
                    assert!(!c.partners.is_empty(), "a coalition has partners");
                    for (i, p) in c.partners.iter().enumerate() {
                        assert!(c.partners[..i].iter().all(|o| o.id != p.id), "partner ids are unique");
                    }
                }
                KindConfig::Queue(q) => {
                    if let Release::EveryN { every, .. } = q.release {
                        assert!(every >= 1, "every is at least 1");
                    }
                }
                KindConfig::Distribution(d) => {
                    assert!(d.levels.len() <= 3, "at most 3 levels");
                    assert!(d.ranks.is_sorted_by_key(|r| r.min_team_sales), "ranks sorted");
                }
                KindConfig::Loyalty(l) => {
                    assert!(l.topup_bonus.is_none_or(|t| t.per > Money::ZERO), "topup per is positive");
                    assert!(l.cashout.is_none_or(|c| c.points > crate::num::Points::ZERO), "cashout points");
                    assert!(l.tiers.is_sorted_by_key(|t| t.min), "tiers sorted");
                }
                KindConfig::AdTasks(a) => assert!(a.rewards.is_sorted_by_key(|b| b.from), "bands sorted"),
                KindConfig::Cycle(c) => {
                    assert!(c.share_unit > Money::ZERO, "share_unit is positive");
                    assert!(c.honor.as_ref().is_none_or(|h| !h.levels.is_empty()), "honor levels");
                }
                KindConfig::GreenPoints(g) => {
                    assert!(g.share.len() <= 3, "at most 3 share levels");
                    assert!(g.tiers.is_sorted_by_key(|t| t.min), "tiers sorted");
                    assert!(g.team_ranks.is_sorted_by_key(|r| r.min_team_sales), "ranks sorted");
                }
            }
        }
    }
}
