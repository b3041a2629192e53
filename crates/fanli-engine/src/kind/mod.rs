//! The mechanism kinds: one module each, behind one trait.
//!
//! A kind is a folder here: `config.rs` (its plan keys, read into a typed config, its compliance
//! rules and the facts its arithmetic relies on), `mod.rs` (its state and its hooks) and
//! `view.rs` (what an operator and a member see of it). [`Kind`] is the contract between a kind
//! and the engine: every hook has a default that does nothing, so a kind implements only what it
//! acts on. The engine calls the hooks of every mechanism in plan order, through the enums that
//! [`kinds!`] writes from the one list at the end of this file: that list is the only place
//! where the kinds are named together, and the only `match` over them.
//!
//! Adding a kind: see `docs/adding-a-kind.md`.

pub mod ad_tasks;
pub mod appreciation;
pub mod coalition;
pub mod cycle;
pub mod distribution;
pub mod green_points;
pub mod loyalty;
pub mod queue;
pub mod refer_refund;
#[cfg(test)]
mod tests;

use std::fmt::Debug;

use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::findings::Findings;
use crate::headroom::Growth;
use crate::keys::{Reader, Table};
use crate::members::Members;
use crate::num::{Money, Points, Price, Rate};
use crate::pool::{Books, Pool};
use crate::rejection::Rejection;
use crate::terms::Reach;
use crate::time::{Timestamp, UtcOffset};
use crate::view::Fields;

/// What a hook may change: its own pool and the books (balances, postings, effects), with the
/// member table to read.
pub(crate) struct Cx<'a> {
    /// The mechanism's pool and obligations.
    pub(crate) pool: &'a mut Pool,
    /// Every balance, and the event's postings and effects.
    pub(crate) books: &'a mut Books,
    /// Members, their referrers and team sales.
    pub(crate) members: &'a Members,
    /// When a business day closes (months and weekdays are counted in it).
    pub(crate) timezone: UtcOffset,
}

/// What a view or a read-ahead may read: the same as [`Cx`], shared.
#[derive(Clone, Copy)]
pub(crate) struct Look<'a> {
    /// The mechanism's pool and obligations.
    pub(crate) pool: &'a Pool,
    /// Every balance.
    pub(crate) books: &'a Books,
    /// The time of the last applied event.
    pub(crate) now: Option<Timestamp>,
}

impl Look<'_> {
    /// The points of this mechanism the member holds.
    pub(crate) fn held(&self, member: MemberId) -> Points {
        self.books.ledger.held(self.pool.id, member)
    }

    /// The points of this mechanism members hold in all.
    pub(crate) fn outstanding(&self) -> Points {
        self.books.ledger.outstanding(self.pool.id)
    }

    /// Starts loading the member's balance of this mechanism's points (a cache hint).
    pub(crate) fn prefetch_points(&self, member: MemberId) {
        self.books.ledger.prefetch(crate::ledger::Account::Points(self.pool.id, member));
    }
}

/// A settled order, as every mechanism sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settlement<'a> {
    /// The buyer.
    pub(crate) member: MemberId,
    /// The buyer's referrer, the referrer's referrer and the one above, as far as some
    /// mechanism of the plan looks (`None` beyond).
    pub(crate) uplines: [Option<MemberId>; 3],
    /// The order amount.
    pub(crate) amount: Money,
    /// What this order put into the mechanism's pool (set per mechanism).
    pub(crate) funding: Money,
    /// When it settled.
    pub(crate) now: Timestamp,
    /// The weekday it was paid, in the plan's timezone (0 = Monday).
    pub(crate) weekday: u8,
    /// Anti-fraud holds the buyer's referral: the parts that depend on it wait for a review
    /// (`uplines` are empty then too).
    pub(crate) held: bool,
    /// The store's district, city and province agents, when a mechanism pays them.
    pub(crate) agents: [Option<MemberId>; 3],
    /// The member who recruited the store, when a mechanism pays them.
    pub(crate) recruiter: Option<MemberId>,
    /// The coalition partner the order names, if any.
    pub(crate) partner: Option<&'a str>,
    /// When a review approves a held referral and the order's referral parts run late: the
    /// first upline position they pay (0: the buyer's own referral was held; k: the link above
    /// the k-th upline was, and the uplines below it were paid at settlement). 0 otherwise.
    pub(crate) from: usize,
}

impl Settlement<'_> {
    /// Who referred the buyer.
    pub(crate) fn referrer(&self) -> Option<MemberId> {
        self.uplines[0]
    }
}

/// A settled order refunded under `clawback`: what the order earned in the mechanism, from the
/// marks taken around its settlement.
#[derive(Clone, Debug)]
pub(crate) struct Refunded<'a> {
    /// The buyer.
    pub(crate) member: MemberId,
    /// Who referred the buyer (while rewards may flow through the referral).
    pub(crate) referrer: Option<MemberId>,
    /// The order amount.
    pub(crate) amount: Money,
    /// The coalition partner the order named.
    pub(crate) partner: Option<&'a str>,
    /// When the refund happened.
    pub(crate) at: Timestamp,
    /// Points the settlement gave the buyer in this mechanism.
    pub(crate) points: Points,
    /// The lots or entries it created ([`Kind::marks`] before and after).
    pub(crate) items: std::ops::Range<u32>,
    /// The loyalty rolling-year entry it made ([`Marks::entry`]), if any.
    pub(crate) entry: Option<u64>,
}

/// A kind's counters of what it creates, read before and after an order settles so that a
/// refund (`clawback`) knows what the order created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Marks {
    /// Lots or entries created so far.
    pub(crate) items: u32,
    /// A rolling-year entry count (`u64::MAX`: the kind keeps none).
    pub(crate) entry: u64,
}

impl Marks {
    /// A kind that creates nothing a refund takes back item by item.
    pub(crate) const NONE: Marks = Marks { items: 0, entry: u64::MAX };
}

/// The names an action's refusal gives: the member and the mechanism as the event named them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Who<'a> {
    /// The member.
    pub(crate) member: MemberId,
    /// The member's id.
    pub(crate) member_name: &'a str,
    /// The mechanism's id.
    pub(crate) mechanism: &'a str,
}

impl Who<'_> {
    /// The refusal of an action the mechanism's kind does not do.
    pub(crate) fn wrong(&self, kind: &'static str, action: &'static str) -> Rejection {
        Rejection::WrongMechanism { mechanism: self.mechanism.to_owned(), kind, action }
    }

    /// The refusal of spending more points than the member can.
    pub(crate) fn not_enough(&self, action: &'static str, held: Points, wanted: Points) -> Rejection {
        Rejection::NotEnoughPoints {
            action,
            member: self.member_name.to_owned(),
            mechanism: self.mechanism.to_owned(),
            held,
            wanted,
        }
    }
}

/// A `redeem` event's fields: a reward of a catalogue, or points at a partner.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Redemption<'a> {
    /// The reward's name.
    pub(crate) reward: Option<&'a str>,
    /// The partner.
    pub(crate) partner: Option<&'a str>,
    /// The points.
    pub(crate) points: Option<Points>,
}

/// A mechanism kind: its plan keys, its state and rules, and its views.
///
/// Every hook has a default that does nothing (or refuses the action, for the actions a member
/// asks for), so a kind implements only what it acts on. A hook that changes something is
/// given a [`Cx`]; one that only reads, a [`Look`]. A hook never fails once called: the engine
/// calls it after every check of the event has passed, and a kind's action checks everything
/// before it moves anything.
pub(crate) trait Kind: Clone + Debug + Sized {
    /// The plan file's name for the kind ("appreciation").
    const NAME: &'static str;
    /// Its name for people, in Chinese and in English ("消费增值", "Appreciation").
    const TITLE: (&'static str, &'static str);
    /// Whether members hold its points (listed under `points` in the state and views).
    const POINTS: bool = false;
    /// Whether the obligations a settlement creates are the settled order's own (a clawback
    /// cancels them); a queue's are earlier entries made due.
    const OWED_BY_ORDER: bool = true;
    /// Whether advertisers fund its pool (`advertiser_fund`).
    const ADVERTISERS: bool = false;
    /// Whether it lists the partners an order may name (a coalition).
    const PARTNERS: bool = false;

    /// Its settings.
    type Config: Settings;
    /// What an operator sees of it.
    type View: Clone + Debug + Figures;
    /// What a member sees of their standing in it.
    type Standing: Clone + Debug + Figures;

    /// A new mechanism of this kind, with nothing in it.
    fn new(config: &Self::Config) -> Self;
    /// An amendment took effect: from now on the mechanism runs under `config`. What it holds
    /// (entries, lots, progress, points) carries over as it is; the amendment was refused if
    /// the new settings would reduce any of it ([`Settings::reduces`]).
    fn reconfigure(&mut self, config: &Self::Config);

    // ---- what the engine calls, in plan order ----

    /// An order settled; its funding is in the pool already.
    fn on_settled(&mut self, _cx: &mut Cx<'_>, _order: &Settlement<'_>) {}
    /// The referral part of a settled order whose referral was held and is now approved
    /// (`order.from` says from which upline on).
    fn on_referral(&mut self, _cx: &mut Cx<'_>, _order: &Settlement<'_>) {}
    /// A member topped up store credit.
    fn on_topup(&mut self, _cx: &mut Cx<'_>, _member: MemberId, _amount: Money, _now: Timestamp) {}
    /// The business day closed, after the day's settlements.
    fn on_close_day(&mut self, _cx: &mut Cx<'_>, _now: Timestamp) {}
    /// After every accepted event, before the pool pays its obligations: time is now `now`.
    fn on_time(&mut self, _cx: &mut Cx<'_>, _now: Timestamp) {}
    /// After every accepted event, once the pool has paid what it could.
    fn after_payouts(&mut self, _cx: &mut Cx<'_>) {}
    /// A settled order was refunded under `clawback`: take back what it earned here, as far as
    /// it can (its obligations are cancelled already, when [`Kind::OWED_BY_ORDER`]).
    fn claw_back(&mut self, _cx: &mut Cx<'_>, _refund: &Refunded<'_>) -> ClawbackTotals {
        ClawbackTotals::default()
    }
    /// Its counters of what it creates (see [`Marks`]).
    fn marks(&self) -> Marks {
        Marks::NONE
    }
    /// Starts loading what settling an order of `member` will use: a cache hint, which changes
    /// nothing. Returns a value only so that reads are not optimized away.
    fn read_ahead(&self, _look: &Look<'_>, _member: MemberId, _uplines: &[Option<MemberId>; 3]) -> i64 {
        0
    }
    /// Whether settling orders that put `fundings` into its pool, in this order, keeps its
    /// counts within 64 bits, for a kind whose growth depends on its state when they settle
    /// (appreciation's minting, on the price); `total` is at least their sum. Reads only.
    fn mints_within(
        &self,
        _look: &Look<'_>,
        _total: Money,
        _fundings: &mut dyn Iterator<Item = Money>,
    ) -> bool {
        true
    }
    /// Keeps indexes that make one member's standing cheap, from now on (a server that shows
    /// members one at a time).
    fn index_members(&mut self) {}
    /// The coalition partner named `name`, when this kind lists partners.
    fn partner(&self, _name: &str) -> Option<usize> {
        None
    }

    // ---- what members ask for ----

    /// What the member may sell now, and the word for it ("sell", "cash out"); `Err`: the
    /// action this kind cannot do, for the refusal.
    fn sellable(
        &self,
        _look: &Look<'_>,
        _member: MemberId,
        _at: Timestamp,
    ) -> Result<(Points, &'static str), &'static str> {
        Err("sell points")
    }
    /// What a sale of `points` adds to its promises (a cash-out owed from the pool), exactly.
    fn sell_growth(&self, _points: Points) -> u128 {
        0
    }
    /// Sells `points` (at most [`Kind::sellable`]).
    fn sell(&mut self, _cx: &mut Cx<'_>, _member: MemberId, _points: Points, _at: Timestamp) {
        unreachable!("{} sells nothing: sellable refused", Self::NAME)
    }
    /// A `redeem` event: checks it, then spends.
    fn redeem(
        &mut self,
        _cx: &mut Cx<'_>,
        who: Who<'_>,
        _what: Redemption<'_>,
        _at: Timestamp,
    ) -> Result<(), Rejection> {
        Err(who.wrong(Self::NAME, "redeem rewards"))
    }
    /// An `ad_view` event: checks it, then releases.
    fn ad_view(&mut self, _cx: &mut Cx<'_>, who: Who<'_>, _at: Timestamp) -> Result<(), Rejection> {
        Err(who.wrong(Self::NAME, "show ads"))
    }

    // ---- views ----

    /// What an operator sees.
    fn view(&self, look: &Look<'_>) -> Self::View;
    /// One member's standing.
    fn standing(&self, look: &Look<'_>, member: MemberId) -> Self::Standing;
    /// Every member's standing at once (`members` of them), when that is cheaper than one at a
    /// time (a queue's places: one pass instead of one each); `None`: ask one at a time.
    fn standings(&self, _look: &Look<'_>, _members: usize) -> Option<Vec<Self::Standing>> {
        None
    }
    /// The price of its points, for a kind whose points have one.
    fn price(&self, _look: &Look<'_>) -> Option<Price> {
        None
    }
}

/// A kind's settings: read from its plan keys, checked against the law (`fanli check`) and
/// against what the kind's arithmetic relies on, and what they let a settlement reach and grow.
pub(crate) trait Settings: Clone + Debug + Sized {
    /// Whether the kind needs no `funding_rate` (0 when absent): its points need no pool unless
    /// they are cashed out.
    const FUNDING_OPTIONAL: bool = false;

    /// Reads its keys from the mechanism's table (the common keys are read already).
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self>;
    /// Its compliance findings (`fanli check`).
    fn check(&self, _findings: &mut Findings<'_>) {}
    /// Panics when a value the kind's arithmetic relies on is out of range (a bug in whoever
    /// built the config: the plan reader refuses such values with a message).
    fn assert_valid(&self) {}
    /// How far into the referral tree and the store table it looks when an order settles.
    fn reach(&self) -> Reach {
        Reach::default()
    }
    /// What it takes of each order on top of its `funding_rate` (a cycle's honor share), for
    /// the margin check.
    fn extra_rate(&self) -> Rate {
        Rate::ZERO
    }
    /// The most its counts (balances, promises, points, tallies) may grow by when an order
    /// settles, its late referral parts included: every rate, tier and bonus at its most (see
    /// `headroom.rs`). The default is a kind that pays only from what its pool received.
    fn growth(&self) -> Growth {
        Growth::CASH
    }
    /// The most its counts may grow by when a member tops up `amount`.
    fn topup_growth(&self, _amount: Money) -> u128 {
        0
    }
    /// Whether these settings, replacing `old` by an amendment, lower what members can earn
    /// from now on (a rate down, a threshold up, a step fewer): such an amendment needs the
    /// plan's notice. Where a change is neither plainly up nor down, it counts as lowering.
    fn lowers(&self, old: &Self) -> bool;
    /// What these settings, replacing `old`, would reduce of what members already hold or were
    /// promised, if anything: such an amendment is refused. Settings apply to what happens
    /// next, so most changes reduce nothing.
    fn reduces(&self, _old: &Self) -> Option<&'static str> {
        None
    }
    /// What of `old` an amendment may not change at all, because what the mechanism holds was
    /// made under it (a queue's release rule, a loyalty lot's expiry), if anything: such an
    /// amendment is refused.
    fn fixed(&self, _old: &Self) -> Option<&'static str> {
        None
    }
}

/// Compares two settings field by field, in the direction that favours members, for
/// [`Settings::lowers`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Lowered(pub(crate) bool);

impl Lowered {
    /// A figure members gain from when it is higher (a rate, a share): lowered if it fell.
    pub(crate) fn higher<T: PartialOrd>(self, old: &T, new: &T) -> Lowered {
        Lowered(self.0 || new < old)
    }
    /// A figure members gain from when it is lower (a minimum, a fee, a wait): lowered if it
    /// rose.
    pub(crate) fn lower<T: PartialOrd>(self, old: &T, new: &T) -> Lowered {
        Lowered(self.0 || new > old)
    }
    /// A setting that is neither: any change counts as lowering.
    pub(crate) fn same<T: PartialEq>(self, old: &T, new: &T) -> Lowered {
        Lowered(self.0 || new != old)
    }
    /// A list of figures members gain from when higher (steps, levels, shares): lowered if it
    /// lost an item or an item fell.
    pub(crate) fn higher_each<T: PartialOrd>(self, old: &[T], new: &[T]) -> Lowered {
        Lowered(self.0 || new.len() < old.len() || old.iter().zip(new).any(|(o, n)| n < o))
    }
}

/// A view's figures, written to any output (the JSON document, a table, a page).
pub trait Figures {
    /// Writes its figures in order.
    fn write<F: Fields>(&self, out: &mut F);
    /// Its one line for people (`fanli run`'s text).
    fn text(&self) -> String;
    /// Whether it has anything worth showing (a member's standing with nothing in it is left
    /// out of the state document).
    fn shown(&self) -> bool {
        true
    }
}

/// Writes, from the list of kinds, the enums that hold one of each (config, state, views) and
/// the one `match` that dispatches each hook to the kind's own.
macro_rules! kinds {
    ($($(#[$meta:meta])* $variant:ident($module:ident::$state:ident, $config:ident, $view:ident, $standing:ident)),* $(,)?) => {
        /// What a mechanism does: its kind, with the kind's settings.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
        pub enum KindConfig {
            $(
                $(#[$meta])*
                #[doc = concat!("A `", stringify!($module), "` mechanism.")]
                $variant($module::$config),
            )*
        }

        /// The kind-specific state of a mechanism. One per mechanism (a handful a plan), so
        /// the largest kind's size costs nothing worth a `Box` and its indirection on every hook.
        #[derive(Clone, Debug)]
        #[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
        #[allow(clippy::large_enum_variant)]
        pub(crate) enum State {
            $($(#[$meta])* $variant($module::$state),)*
        }

        /// Every member's standing in one mechanism, in join order, each as its kind keeps it.
        pub(crate) enum Standings {
            $($(#[$meta])* $variant(std::vec::IntoIter<$module::$standing>),)*
        }

        impl Iterator for Standings {
            type Item = MemberDetail;
            fn next(&mut self) -> Option<MemberDetail> {
                match self { $($(#[$meta])* Standings::$variant(all) => all.next().map(MemberDetail::$variant),)* }
            }
        }

        /// What an operator sees of one kind of mechanism.
        #[derive(Clone, Debug)]
        pub enum MechanismDetail {
            $(
                $(#[$meta])*
                #[doc = concat!("A `", stringify!($module), "` mechanism's figures.")]
                $variant($module::$view),
            )*
        }

        /// A member's standing in one kind of mechanism.
        #[derive(Clone, Debug)]
        pub enum MemberDetail {
            $(
                $(#[$meta])*
                #[doc = concat!("A member's standing in a `", stringify!($module), "` mechanism.")]
                $variant($module::$standing),
            )*
        }


        impl KindConfig {
            /// The plan file's names of the kinds, in the order listed.
            #[allow(clippy::vec_init_then_push, reason = "a kind may be listed only under a `cfg`")]
            pub fn names() -> Vec<&'static str> {
                let mut names = Vec::new();
                $($(#[$meta])* names.push(<$module::$state as Kind>::NAME);)*
                names
            }

            /// Reads the keys of a mechanism of kind `name` (one of [`KindConfig::names`]).
            pub(crate) fn read(name: &str, r: &mut Reader, t: &mut Table<'_>) -> Option<KindConfig> {
                $(
                    $(#[$meta])*
                    if name == <$module::$state as Kind>::NAME {
                        return <$module::$config as Settings>::read(r, t).map(KindConfig::$variant);
                    }
                )*
                unreachable!("`{name}` is not one of KindConfig::names()")
            }

            /// Whether a mechanism of kind `name` may leave out `funding_rate`.
            pub(crate) fn funding_optional(name: &str) -> bool {
                $(
                    $(#[$meta])*
                    if name == <$module::$state as Kind>::NAME {
                        return <$module::$config as Settings>::FUNDING_OPTIONAL;
                    }
                )*
                false
            }

            /// The plan file's name for this kind.
            pub fn name(&self) -> &'static str {
                match self { $($(#[$meta])* KindConfig::$variant(_) => <$module::$state as Kind>::NAME,)* }
            }

            /// This kind's name for people, in Chinese and in English ("消费增值", "Appreciation").
            pub fn title(&self) -> (&'static str, &'static str) {
                match self { $($(#[$meta])* KindConfig::$variant(_) => <$module::$state as Kind>::TITLE,)* }
            }

            /// What a settlement must look up for this kind.
            pub fn reach(&self) -> Reach {
                match self { $($(#[$meta])* KindConfig::$variant(c) => c.reach(),)* }
            }

            /// What it takes of each order on top of its `funding_rate`.
            pub fn extra_rate(&self) -> Rate {
                match self { $($(#[$meta])* KindConfig::$variant(c) => c.extra_rate(),)* }
            }

            /// Whether members hold its points.
            pub fn has_points(&self) -> bool {
                match self { $($(#[$meta])* KindConfig::$variant(_) => <$module::$state as Kind>::POINTS,)* }
            }

            /// This kind's settings, when it is the kind whose settings are `T`.
            pub fn get<T: OfKind<KindConfig>>(&self) -> Option<&T> {
                T::of(self)
            }

            pub(crate) fn growth(&self) -> Growth {
                match self { $($(#[$meta])* KindConfig::$variant(c) => c.growth(),)* }
            }

            pub(crate) fn topup_growth(&self, amount: Money) -> u128 {
                match self { $($(#[$meta])* KindConfig::$variant(c) => c.topup_growth(amount),)* }
            }

            pub(crate) fn check(&self, findings: &mut Findings<'_>) {
                match self { $($(#[$meta])* KindConfig::$variant(c) => c.check(findings),)* }
            }

            pub(crate) fn assert_valid(&self) {
                match self { $($(#[$meta])* KindConfig::$variant(c) => c.assert_valid(),)* }
            }

            /// Whether these settings, replacing `old` (of the same kind), lower what members
            /// can earn; another kind always does.
            pub(crate) fn lowers(&self, old: &KindConfig) -> bool {
                match (self, old) {
                    $($(#[$meta])* (KindConfig::$variant(new), KindConfig::$variant(old)) => new.lowers(old),)*
                    #[allow(unreachable_patterns, reason = "a plan may list a single kind")]
                    _ => true,
                }
            }

            /// What of `old` (of the same kind) these settings change that an amendment may
            /// not change.
            pub(crate) fn fixed(&self, old: &KindConfig) -> Option<&'static str> {
                match (self, old) {
                    $($(#[$meta])* (KindConfig::$variant(new), KindConfig::$variant(old)) => new.fixed(old),)*
                    #[allow(unreachable_patterns, reason = "a plan may list a single kind")]
                    _ => Some("its kind"),
                }
            }

            /// What these settings, replacing `old` (of the same kind), would reduce of what
            /// members hold or were promised.
            pub(crate) fn reduces(&self, old: &KindConfig) -> Option<&'static str> {
                match (self, old) {
                    $($(#[$meta])* (KindConfig::$variant(new), KindConfig::$variant(old)) => new.reduces(old),)*
                    #[allow(unreachable_patterns, reason = "a plan may list a single kind")]
                    _ => Some("its kind"),
                }
            }
        }

        $(
            $(#[$meta])*
            impl OfKind<KindConfig> for $module::$config {
                fn of(config: &KindConfig) -> Option<&Self> {
                    if let KindConfig::$variant(c) = config { Some(c) } else { None }
                }
            }
            $(#[$meta])*
            impl OfKind<MechanismDetail> for $module::$view {
                fn of(detail: &MechanismDetail) -> Option<&Self> {
                    if let MechanismDetail::$variant(v) = detail { Some(v) } else { None }
                }
            }
        )*

        impl MechanismDetail {
            /// This kind's figures, when it is the kind whose view is `T`.
            pub fn get<T: OfKind<MechanismDetail>>(&self) -> Option<&T> {
                T::of(self)
            }
        }

        $(
            $(#[$meta])*
            impl OfKind<MemberDetail> for $module::$standing {
                fn of(detail: &MemberDetail) -> Option<&Self> {
                    if let MemberDetail::$variant(v) = detail { Some(v) } else { None }
                }
            }
        )*

        impl MemberDetail {
            /// This kind's standing, when it is the kind whose standing is `T`.
            pub fn get<T: OfKind<MemberDetail>>(&self) -> Option<&T> {
                T::of(self)
            }
        }

        impl Figures for MechanismDetail {
            fn write<F: Fields>(&self, out: &mut F) {
                match self { $($(#[$meta])* MechanismDetail::$variant(v) => v.write(out),)* }
            }
            fn text(&self) -> String {
                match self { $($(#[$meta])* MechanismDetail::$variant(v) => v.text(),)* }
            }
            fn shown(&self) -> bool {
                match self { $($(#[$meta])* MechanismDetail::$variant(v) => v.shown(),)* }
            }
        }

        impl Figures for MemberDetail {
            fn write<F: Fields>(&self, out: &mut F) {
                match self { $($(#[$meta])* MemberDetail::$variant(v) => v.write(out),)* }
            }
            fn text(&self) -> String {
                match self { $($(#[$meta])* MemberDetail::$variant(v) => v.text(),)* }
            }
            fn shown(&self) -> bool {
                match self { $($(#[$meta])* MemberDetail::$variant(v) => v.shown(),)* }
            }
        }

        impl State {
            pub(crate) fn new(config: &KindConfig) -> State {
                match config { $($(#[$meta])* KindConfig::$variant(c) => State::$variant(<$module::$state as Kind>::new(c)),)* }
            }
            pub(crate) fn name(&self) -> &'static str {
                match self { $($(#[$meta])* State::$variant(_) => <$module::$state as Kind>::NAME,)* }
            }
            /// Runs under `config` from now on (of its own kind: the amendment was refused
            /// otherwise).
            pub(crate) fn reconfigure(&mut self, config: &KindConfig) {
                match (self, config) {
                    $($(#[$meta])* (State::$variant(k), KindConfig::$variant(c)) => k.reconfigure(c),)*
                    #[allow(unreachable_patterns, reason = "a plan may list a single kind")]
                    _ => unreachable!("an amendment keeps each mechanism's kind"),
                }
            }
            pub(crate) fn title(&self) -> (&'static str, &'static str) {
                match self { $($(#[$meta])* State::$variant(_) => <$module::$state as Kind>::TITLE,)* }
            }
            pub(crate) fn has_points(&self) -> bool {
                match self { $($(#[$meta])* State::$variant(_) => <$module::$state as Kind>::POINTS,)* }
            }
            pub(crate) fn owed_by_order(&self) -> bool {
                match self { $($(#[$meta])* State::$variant(_) => <$module::$state as Kind>::OWED_BY_ORDER,)* }
            }
            pub(crate) fn lists_partners(&self) -> bool {
                match self { $($(#[$meta])* State::$variant(_) => <$module::$state as Kind>::PARTNERS,)* }
            }
            pub(crate) fn takes_advertisers(&self) -> bool {
                match self { $($(#[$meta])* State::$variant(_) => <$module::$state as Kind>::ADVERTISERS,)* }
            }
            pub(crate) fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
                match self { $($(#[$meta])* State::$variant(k) => k.on_settled(cx, order),)* }
            }
            pub(crate) fn on_referral(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
                match self { $($(#[$meta])* State::$variant(k) => k.on_referral(cx, order),)* }
            }
            pub(crate) fn on_topup(&mut self, cx: &mut Cx<'_>, member: MemberId, amount: Money, now: Timestamp) {
                match self { $($(#[$meta])* State::$variant(k) => k.on_topup(cx, member, amount, now),)* }
            }
            pub(crate) fn on_close_day(&mut self, cx: &mut Cx<'_>, now: Timestamp) {
                match self { $($(#[$meta])* State::$variant(k) => k.on_close_day(cx, now),)* }
            }
            #[inline]
            pub(crate) fn on_time(&mut self, cx: &mut Cx<'_>, now: Timestamp) {
                match self { $($(#[$meta])* State::$variant(k) => k.on_time(cx, now),)* }
            }
            #[inline]
            pub(crate) fn after_payouts(&mut self, cx: &mut Cx<'_>) {
                match self { $($(#[$meta])* State::$variant(k) => k.after_payouts(cx),)* }
            }
            pub(crate) fn claw_back(&mut self, cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
                match self { $($(#[$meta])* State::$variant(k) => k.claw_back(cx, refund),)* }
            }
            pub(crate) fn marks(&self) -> Marks {
                match self { $($(#[$meta])* State::$variant(k) => k.marks(),)* }
            }
            pub(crate) fn read_ahead(&self, look: &Look<'_>, member: MemberId, uplines: &[Option<MemberId>; 3]) -> i64 {
                match self { $($(#[$meta])* State::$variant(k) => k.read_ahead(look, member, uplines),)* }
            }
            pub(crate) fn index_members(&mut self) {
                match self { $($(#[$meta])* State::$variant(k) => k.index_members(),)* }
            }
            pub(crate) fn partner(&self, name: &str) -> Option<usize> {
                match self { $($(#[$meta])* State::$variant(k) => k.partner(name),)* }
            }
            pub(crate) fn sellable(&self, look: &Look<'_>, member: MemberId, at: Timestamp) -> Result<(Points, &'static str), &'static str> {
                match self { $($(#[$meta])* State::$variant(k) => k.sellable(look, member, at),)* }
            }
            pub(crate) fn sell_growth(&self, points: Points) -> u128 {
                match self { $($(#[$meta])* State::$variant(k) => k.sell_growth(points),)* }
            }
            pub(crate) fn mints_within(&self, look: &Look<'_>, total: Money, fundings: &mut dyn Iterator<Item = Money>) -> bool {
                match self { $($(#[$meta])* State::$variant(k) => k.mints_within(look, total, fundings),)* }
            }
            pub(crate) fn sell(&mut self, cx: &mut Cx<'_>, member: MemberId, points: Points, at: Timestamp) {
                match self { $($(#[$meta])* State::$variant(k) => k.sell(cx, member, points, at),)* }
            }
            pub(crate) fn redeem(&mut self, cx: &mut Cx<'_>, who: Who<'_>, what: Redemption<'_>, at: Timestamp) -> Result<(), Rejection> {
                match self { $($(#[$meta])* State::$variant(k) => k.redeem(cx, who, what, at),)* }
            }
            pub(crate) fn ad_view(&mut self, cx: &mut Cx<'_>, who: Who<'_>, at: Timestamp) -> Result<(), Rejection> {
                match self { $($(#[$meta])* State::$variant(k) => k.ad_view(cx, who, at),)* }
            }
            pub(crate) fn view(&self, look: &Look<'_>) -> MechanismDetail {
                match self { $($(#[$meta])* State::$variant(k) => MechanismDetail::$variant(k.view(look)),)* }
            }
            pub(crate) fn standing(&self, look: &Look<'_>, member: MemberId) -> MemberDetail {
                match self { $($(#[$meta])* State::$variant(k) => MemberDetail::$variant(k.standing(look, member)),)* }
            }
            pub(crate) fn standings(&self, look: &Look<'_>, members: usize) -> Option<Standings> {
                match self {
                    $($(#[$meta])* State::$variant(k) => k.standings(look, members)
                        .map(|all| Standings::$variant(all.into_iter())),)*
                }
            }
            pub(crate) fn price(&self, look: &Look<'_>) -> Option<Price> {
                match self { $($(#[$meta])* State::$variant(k) => k.price(look),)* }
            }
        }
    };
}

/// One kind's part of an enum that holds one of each kind: `KindConfig::get::<LoyaltyConfig>()`
/// gives a loyalty mechanism's settings, and nothing for the other kinds.
pub trait OfKind<E>: Sized {
    /// The value, when `e` holds this kind.
    fn of(e: &E) -> Option<&Self>;
}

kinds! {
    Appreciation(appreciation::Appreciation, AppreciationConfig, AppreciationView, AppreciationStanding),
    ReferRefund(refer_refund::ReferRefund, ReferRefundConfig, ReferRefundView, Progress),
    Queue(queue::Queue, QueueConfig, QueueView, Place),
    Distribution(distribution::Distribution, DistributionConfig, DistributionView, Commissions),
    GreenPoints(green_points::GreenPoints, GreenPointsConfig, GreenPointsView, Lots),
    Cycle(cycle::Cycle, CycleConfig, CycleView, CycleStanding),
    AdTasks(ad_tasks::AdTasks, AdTasksConfig, AdTasksView, AdTasksStanding),
    Loyalty(loyalty::Loyalty, LoyaltyConfig, LoyaltyView, LoyaltyStanding),
    Coalition(coalition::Coalition, CoalitionConfig, CoalitionView, CoalitionStanding),
    // A kind only the engine's tests register (see docs/adding-a-kind.md).
    #[cfg(test)]
    Tally(tests::Tally, TallyConfig, TallyView, TallyStanding),
}
