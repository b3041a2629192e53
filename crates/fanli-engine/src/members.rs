//! The members: their ids, who referred whom, what they spent, and their team sales.
//!
//! Every kind reads the referral tree (a settlement's uplines, a green-points release's), so
//! it lives here, below the kinds and the engine; the engine's `members` module holds the
//! events that change it (a join, a review).

use crate::MemberId;
use crate::names::{Absent, Names};
use crate::num::Money;
use crate::table::{prefetch, slot};

const NONE: u32 = u32::MAX;

/// Every member, by join order.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Members {
    names: Names,
    records: Vec<MemberRecord>,
    /// The sum of each member's orders refunded after settlement, in fen; rare, so kept apart
    /// (and only as long as the last member with one) to keep `records` small.
    refunded: Vec<i64>,
    /// Each member's team sales in fen: the settled spend of their downline to 3 levels, not
    /// their own. Kept (one figure per member, shared by every mechanism) only when a plan
    /// ranks members by it; empty otherwise.
    team_sales: Vec<i64>,
    /// Whether `team_sales` is kept.
    ranks: bool,
    /// With anti-fraud: whether each member's referral is held or rejected (no reward flows
    /// through it); empty without anti-fraud.
    cut: Vec<bool>,
}

/// What every settlement reads: 16 bytes, so the records of many members share a cache line.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
struct MemberRecord {
    referrer: u32,
    /// The sum of the member's settled orders, in fen.
    spent: i64,
}

impl Members {
    /// No members yet; `ranks`: keep team sales.
    pub(crate) fn new(ranks: bool) -> Members {
        Members { ranks, ..Members::default() }
    }

    /// How many members have joined.
    pub(crate) fn count(&self) -> usize {
        self.records.len()
    }

    /// The member with this id.
    pub(crate) fn find(&self, name: &str) -> Option<MemberId> {
        self.names.find(name).map(MemberId)
    }

    /// The member's id.
    pub(crate) fn name(&self, member: MemberId) -> &str {
        self.names.get(member.0)
    }

    /// The member with this id, or where a new one would go ([`Names::lookup`]).
    pub(crate) fn lookup(&self, name: &str) -> Result<MemberId, Absent> {
        self.names.lookup(name).map(MemberId)
    }

    /// A new member, referred by `referrer` (who has joined); `absent` is what
    /// [`Members::lookup`] said of `name`.
    pub(crate) fn join(&mut self, name: &str, absent: Absent, referrer: Option<MemberId>) -> MemberId {
        let id = MemberId(self.names.insert_absent(name, absent));
        self.records.push(MemberRecord { referrer: referrer.map_or(NONE, |r| r.0), spent: 0 });
        id
    }

    /// The member's referrer, while rewards may flow through the referral (anti-fraud may hold
    /// or cut it).
    pub(crate) fn referrer(&self, member: MemberId) -> Option<MemberId> {
        if self.is_cut(member) {
            return None;
        }
        self.joined_referrer(member)
    }

    /// Who referred the member when they joined, whatever anti-fraud made of it.
    pub(crate) fn joined_referrer(&self, member: MemberId) -> Option<MemberId> {
        match self.records[member.index()].referrer {
            NONE => None,
            r => Some(MemberId(r)),
        }
    }

    /// The member's uplines: referrer, referrer's referrer and the one above, as far as `depth`.
    pub(crate) fn uplines(&self, member: MemberId, depth: usize) -> [Option<MemberId>; 3] {
        let mut uplines = [None; 3];
        let mut current = member;
        for slot in uplines.iter_mut().take(depth) {
            match self.referrer(current) {
                Some(up) => {
                    *slot = Some(up);
                    current = up;
                }
                None => break,
            }
        }
        uplines
    }

    /// Whether rewards through the member's referral are held or cut by anti-fraud.
    pub(crate) fn is_cut(&self, member: MemberId) -> bool {
        self.cut.get(member.index()) == Some(&true)
    }

    /// Holds (or lets through again) the rewards that flow through the member's referral.
    pub(crate) fn set_cut(&mut self, member: MemberId, cut: bool) {
        *slot(&mut self.cut, member) = cut;
    }

    /// Whether team sales are kept (a mechanism ranks members by them).
    pub(crate) fn ranks(&self) -> bool {
        self.ranks
    }

    /// The member's team sales (zero when the plan does not rank members).
    pub(crate) fn team_sales(&self, member: MemberId) -> Money {
        Money::from_fen(self.team_sales.get(member.index()).copied().unwrap_or(0))
    }

    /// Adds a settled order of `amount` to the team sales of these uplines.
    pub(crate) fn add_team_sales(&mut self, uplines: impl IntoIterator<Item = MemberId>, amount: Money) {
        for upline in uplines {
            *slot(&mut self.team_sales, upline) += amount.fen();
        }
    }

    /// The sum of the member's settled orders.
    pub(crate) fn spent(&self, member: MemberId) -> Money {
        Money::from_fen(self.records[member.index()].spent)
    }

    /// A settled order of the member's.
    pub(crate) fn add_spent(&mut self, member: MemberId, amount: Money) {
        self.records[member.index()].spent += amount.fen();
    }

    /// The sum of the member's orders refunded after settlement.
    pub(crate) fn refunded(&self, member: MemberId) -> Money {
        Money::from_fen(self.refunded.get(member.index()).copied().unwrap_or(0))
    }

    /// An order of the member's refunded after settlement.
    pub(crate) fn add_refunded(&mut self, member: MemberId, amount: Money) {
        *slot(&mut self.refunded, member) += amount.fen();
    }

    /// Starts loading where `name` sits in the id table (a cache hint).
    pub(crate) fn prefetch_name(&self, name: &str) {
        self.names.prefetch(name);
    }

    /// Starts loading the member's record (a cache hint).
    pub(crate) fn prefetch(&self, member: MemberId) {
        prefetch(&self.records, member);
    }

    /// Starts loading the member's team sales, when they are kept (a cache hint).
    pub(crate) fn prefetch_team_sales(&self, member: MemberId) {
        prefetch(&self.team_sales, member);
    }
}
