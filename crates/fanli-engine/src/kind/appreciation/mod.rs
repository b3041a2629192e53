//! 消费增值: points that appreciate against a cash pool.
//!
//! The price is `pool ÷ points outstanding`, never stored: it is read off the ledger as an exact
//! [`Price`] whenever needed. Forced exits (出局) come off a min-heap of exit prices, so finding
//! the next member due is O(log n) whatever the number of members.

mod config;
mod view;

use std::cmp::Ordering;
use std::collections::BinaryHeap;

pub use config::AppreciationConfig;
pub use view::{AppreciationStanding, AppreciationView};

use super::{Cx, Kind, Look, Refunded, Settlement};
use crate::MemberId;
use crate::effect::ClawbackTotals;
use crate::effect::Effect;
use crate::headroom::{LIMIT, most, up};
use crate::ledger::{Account, Rule};
use crate::num::{Money, Points, Price, Rate, cmp_ratio};
use crate::pool::{Books, Pool};
use crate::table::slot;
use crate::terms::PayTo;
use ethnum::U256;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Appreciation {
    config: AppreciationConfig,
    members: Vec<Holder>,
    /// Exit prices, lowest first; entries whose version is not their holder's are stale.
    exits: BinaryHeap<ExitPrice>,
    /// Holders with a current entry in `exits`.
    live: usize,
    /// Forced exits so far.
    forced: u64,
}

#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct Holder {
    /// Settled spend since the last exit, in fen.
    basis: i64,
    /// Bumped whenever points or basis change, so older heap entries can be told apart.
    version: u32,
    in_heap: bool,
}

/// A holder's exit price, `exit_multiple × basis ÷ points`. The multiple is the same for every
/// holder, so exit prices order as `basis ÷ points` do: the entry keeps those two (24 bytes, not
/// the 48 of a scaled ratio) and compares them with one exact 64 × 64-bit product.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct ExitPrice {
    basis_fen: u64,
    points_units: u64,
    member: MemberId,
    version: u32,
}

impl Ord for ExitPrice {
    /// Reversed, so the max-heap pops the lowest exit price; ties go to the earliest joined.
    fn cmp(&self, other: &ExitPrice) -> Ordering {
        let mine = self.basis_fen as u128 * other.points_units as u128;
        let theirs = other.basis_fen as u128 * self.points_units as u128;
        theirs.cmp(&mine).then_with(|| other.member.cmp(&self.member))
    }
}
impl PartialOrd for ExitPrice {
    fn partial_cmp(&self, other: &ExitPrice) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for ExitPrice {
    fn eq(&self, other: &ExitPrice) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ExitPrice {}

impl Appreciation {
    /// The current price: pool ÷ points outstanding, or `initial_price` while none are out.
    fn price_of(&self, pool: &Pool, books: &Books) -> Price {
        let outstanding = books.ledger.outstanding(pool.id);
        if outstanding.is_zero() {
            Price::per_point(self.config.initial_price)
        } else {
            Price::ratio(pool.pool(books), outstanding)
        }
    }

    /// A settled order funded the pool with `funding`: mint at the price before it.
    fn mint(&mut self, pool: &Pool, books: &mut Books, order: &Settlement<'_>) {
        let Settlement { member, amount, funding, .. } = *order;
        let outstanding = books.ledger.outstanding(pool.id);
        let before = if outstanding.is_zero() {
            Price::per_point(self.config.initial_price)
        } else {
            Price::ratio(pool.pool(books) - funding, outstanding)
        };
        assert!(!before.is_zero(), "a pool with points outstanding is never empty");
        let minted = before.points_for(funding, self.config.mint_ratio);
        books.ledger.post(
            Account::Issued(pool.id),
            Account::Points(pool.id, member),
            minted.units(),
            Some(pool.id),
            Rule::Mint,
        );
        if !minted.is_zero() {
            books.effect(Effect::Minted { mechanism: pool.id, member, points: minted });
        }
        slot(&mut self.members, member).basis += amount.fen();
        self.reindex(pool, books, member);
    }

    /// Sells `points` of the member's (already checked to be held) at the current price.
    fn sell_points(
        &mut self,
        pool: &mut Pool,
        books: &mut Books,
        member: MemberId,
        points: Points,
        forced: bool,
    ) {
        let price = self.price_of(pool, books);
        let payout = price.value_after_fee(points, self.config.sell_fee);
        let rule = if forced { Rule::Exit } else { Rule::Sell };
        books.ledger.post(
            Account::Points(pool.id, member),
            Account::Issued(pool.id),
            points.units(),
            Some(pool.id),
            rule,
        );
        pool.pay(books, member, payout, PayTo::Wallet, rule);
        books.effect(Effect::Sold { mechanism: pool.id, member, points, payout, forced });
        if forced {
            slot(&mut self.members, member).basis = 0;
        }
        self.reindex(pool, books, member);
    }

    /// Sells out, one at a time, every member whose points are worth `exit_multiple` × their
    /// basis, lowest exit price first; each sale's fee raises the price for the next.
    fn force_exits(&mut self, pool: &mut Pool, books: &mut Books) {
        let Some(multiple) = self.config.exit_multiple else { return };
        while let Some(&ExitPrice { basis_fen, points_units, member, version }) = self.exits.peek() {
            if self.members[member.index()].version != version {
                self.exits.pop();
                continue;
            }
            let outstanding = books.ledger.outstanding(pool.id);
            let cash = pool.pool(books);
            // p ≥ exit price  ⇔  pool ÷ outstanding ≥ multiple × basis ÷ (10^9 × points)
            let exit_fen = multiple.units() as u128 * basis_fen as u128;
            let exit_units = Rate::ONE.units() as u128 * points_units as u128;
            let due = cmp_ratio(cash.fen() as u128, outstanding.units() as u128, exit_fen, exit_units)
                != Ordering::Less;
            if !due {
                break;
            }
            let points = books.ledger.held(pool.id, member);
            self.sell_points(pool, books, member, points, true);
            self.forced += 1;
        }
    }

    /// Replaces the member's heap entry after their points or basis changed.
    fn reindex(&mut self, pool: &Pool, books: &Books, member: MemberId) {
        if self.config.exit_multiple.is_none() {
            return;
        }
        let points = books.ledger.held(pool.id, member);
        let holder = slot(&mut self.members, member);
        holder.version = holder.version.wrapping_add(1);
        let was_live = holder.in_heap;
        holder.in_heap = !points.is_zero() && holder.basis > 0;
        if holder.in_heap {
            self.exits.push(ExitPrice {
                basis_fen: holder.basis as u64,
                points_units: points.units() as u64,
                member,
                version: holder.version,
            });
        }
        match (was_live, holder.in_heap) {
            (false, true) => self.live += 1,
            (true, false) => self.live -= 1,
            _ => {}
        }
        if self.exits.len() > self.live + self.live / 2 + 1024 {
            self.compact();
        }
    }

    /// Drops stale heap entries, so the heap stays within one and a half times the live holders
    /// (twice was 58 bytes a member on all-kinds at its peak: issue 19).
    fn compact(&mut self) {
        let members = &self.members;
        self.exits.retain(|e| members[e.member.index()].version == e.version);
    }

    /// The member's settled spend since their last exit.
    fn basis(&self, member: MemberId) -> Money {
        Money::from_fen(self.members.get(member.index()).map_or(0, |h| h.basis))
    }

    /// The price at which the member will be sold out, if they hold points and exits are on.
    fn exit_price(&self, pool: &Pool, books: &Books, member: MemberId) -> Option<Price> {
        let multiple = self.config.exit_multiple?;
        let basis = self.basis(member);
        let points = books.ledger.held(pool.id, member);
        if points.is_zero() || basis.is_zero() {
            return None;
        }
        // exit price (yuan/point) = multiple × basis ÷ points; as a pool-like ratio of fen
        // to units that is (multiple × basis) ÷ points, with the 10^9 of the rate folded in.
        Some(Price::ratio(basis, points).scaled(multiple))
    }
}

impl Kind for Appreciation {
    const NAME: &'static str = "appreciation";
    const TITLE: (&'static str, &'static str) = ("消费增值", "Appreciation");
    const POINTS: bool = true;
    type Config = AppreciationConfig;
    type View = AppreciationView;
    type Standing = AppreciationStanding;

    fn reconfigure(&mut self, config: &AppreciationConfig) {
        self.config = config.clone();
    }

    fn new(config: &AppreciationConfig) -> Appreciation {
        Appreciation {
            config: config.clone(),
            members: Vec::new(),
            exits: BinaryHeap::new(),
            live: 0,
            forced: 0,
        }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        self.mint(cx.pool, cx.books, order);
    }

    fn after_payouts(&mut self, cx: &mut Cx<'_>) {
        self.force_exits(cx.pool, cx.books);
    }

    /// Burns what the member still holds of the points the order minted (the pool keeps the
    /// order's funding) and takes its amount off their spend basis.
    fn claw_back(&mut self, cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        let taken = cx.pool.burn_earned(cx.books, refund.member, refund.points);
        let holder = slot(&mut self.members, refund.member);
        holder.basis -= refund.amount.fen().min(holder.basis);
        self.reindex(cx.pool, cx.books, refund.member);
        ClawbackTotals::points(taken, refund.points - taken)
    }

    fn read_ahead(&self, look: &Look<'_>, member: MemberId, _uplines: &[Option<MemberId>; 3]) -> i64 {
        crate::table::prefetch(&self.members, member);
        look.prefetch_points(member);
        0
    }

    fn sellable(
        &self,
        look: &Look<'_>,
        member: MemberId,
        _at: crate::time::Timestamp,
    ) -> Result<(Points, &'static str), &'static str> {
        Ok((look.held(member), "sell"))
    }

    fn sell(&mut self, cx: &mut Cx<'_>, member: MemberId, points: Points, _at: crate::time::Timestamp) {
        self.sell_points(cx.pool, cx.books, member, points, false);
    }

    fn view(&self, look: &Look<'_>) -> AppreciationView {
        AppreciationView {
            points: look.outstanding(),
            price: self.price_of(look.pool, look.books),
            exits: self.forced,
        }
    }

    fn standing(&self, look: &Look<'_>, member: MemberId) -> AppreciationStanding {
        let points = look.held(member);
        let price = self.price_of(look.pool, look.books);
        AppreciationStanding {
            points,
            value: price.value(points),
            basis: self.basis(member),
            exit_price: self.exit_price(look.pool, look.books, member),
            price,
        }
    }

    /// With points out already, minting can at most multiply them by `(P_end ÷ P_0)^⌈m⌉`
    /// (each mint multiplies them by `1 + m·f ÷ P`, at most `(1 + f ÷ P)^m`, the pool growing
    /// from `P` to `P + f`): when even that stays within bounds, nothing more to check.
    /// Otherwise (an empty pool, a mint ratio above 1 near the edge) the mints are worked out
    /// one by one, exactly as settling will.
    fn mints_within(&self, look: &Look<'_>, total: Money, fundings: &mut dyn Iterator<Item = Money>) -> bool {
        let outstanding = look.outstanding().units() as u128;
        let pool = look.pool.pool(look.books).fen() as u128;
        if outstanding > 0 && pool > 0 {
            let power = up(1, most([self.config.mint_ratio])) as u32;
            let end = U256::from(pool + total.fen().max(0) as u128);
            let grown = (0..power).try_fold(U256::from(outstanding), |n, _| n.checked_mul(end));
            let room = (0..power).try_fold(U256::from(LIMIT), |n, _| n.checked_mul(U256::from(pool)));
            if let (Some(grown), Some(room)) = (grown, room)
                && grown <= room
            {
                return true;
            }
        }
        let (mut outstanding, mut pool) = (look.outstanding(), look.pool.pool(look.books));
        for funding in fundings {
            let price = if outstanding.is_zero() {
                Price::per_point(self.config.initial_price)
            } else {
                Price::ratio(pool, outstanding)
            };
            pool += funding;
            if price.is_zero() {
                // Settling asserts against it: not an overflow.
                continue;
            }
            match price.try_points_for(funding, self.config.mint_ratio) {
                Some(minted) if (outstanding.units() as u128 + minted.units() as u128) <= LIMIT => {
                    outstanding += minted;
                }
                _ => return false,
            }
        }
        true
    }

    fn price(&self, look: &Look<'_>) -> Option<Price> {
        Some(self.price_of(look.pool, look.books))
    }
}
