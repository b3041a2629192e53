//! Anti-fraud: rules that hold a referral for an operator's review.
//!
//! A referral is the link from a referee to their referrer. When a rule of the plan's
//! `[antifraud]` table fires on it, the link is *held*: every reward that depends on it — the
//! referee counting as a referral, commissions and team sales for the uplines, queue
//! acceleration, referral shares and points, green share and team releases — is neither paid nor
//! owed. The referee's own rewards go on. A `review` event then approves the referral (the held
//! rewards of the orders settled meanwhile happen then, as if counted then) or rejects it (they
//! never happen, and the link stays cut).
//!
//! Rules (all optional): registrations per device, phone and IP beyond a maximum; a referee
//! sharing a device or IP with their referrer; a burst of referees under one referrer within a
//! window; a referee sharing a device, phone or IP with any upline to 3 levels (a ring of
//! accounts); and a referee whose first order is at most a minimum and who orders nothing more
//! for some days (checked at each event once the days have passed; rewards already paid for
//! that referral stay paid).

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::names::Names;
use crate::num::Money;
use crate::plan::AntifraudConfig;
use crate::time::Timestamp;
use crate::{MemberId, OrderId};

const NONE: u32 = u32::MAX;

/// Where a referral stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Link {
    /// Counted (no rule fired, or no anti-fraud).
    #[default]
    Clear,
    /// Held for review: rewards that depend on it wait.
    Held,
    /// Approved after review.
    Approved,
    /// Rejected after review: rewards that depend on it never happen.
    Rejected,
}

impl Link {
    /// Whether rewards may flow through this referral now.
    pub fn counts(self) -> bool {
        matches!(self, Link::Clear | Link::Approved)
    }

    /// `clear`, `held`, `approved`, `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            Link::Clear => "clear",
            Link::Held => "held",
            Link::Approved => "approved",
            Link::Rejected => "rejected",
        }
    }
}

/// A referral held for review, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Review {
    /// The referee.
    pub member: MemberId,
    /// Their referrer.
    pub referrer: MemberId,
    /// The rules that fired, with their evidence ("device d1 has 4 members, at most 3").
    #[cfg_attr(feature = "snapshot", serde(with = "crate::snapshot::rule_hits"))]
    pub hits: Vec<(&'static str, String)>,
    /// When it was held.
    pub held_at: Timestamp,
    /// The orders settled while held, whose dependent rewards wait.
    pub held_orders: Vec<OrderId>,
    /// Orders of the referee's own referees (and theirs) settled while held, with the upline
    /// position whose rewards crossed the held referral (1 or 2): those rewards wait too.
    pub downline_orders: Vec<(OrderId, u8)>,
    /// The decision and its time, once reviewed.
    pub decision: Option<(bool, Timestamp)>,
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Antifraud {
    pub(crate) config: AntifraudConfig,
    /// Each member's referral.
    links: Vec<Link>,
    /// Each member's open review (index into `reviews`), or `NONE`.
    review_of: Vec<u32>,
    pub(crate) reviews: Vec<Review>,
    /// Device, phone and IP of each member (interned; `NONE` when not given).
    contacts: Vec<[u32; 3]>,
    names: [Names; 3],
    /// Members registered per device, phone and IP.
    counts: [Vec<u32>; 3],
    /// Recent referee joins per referrer, for the burst rule.
    #[cfg_attr(feature = "snapshot", serde(with = "crate::snapshot::sorted_map"))]
    recent: FxHashMap<u32, VecDeque<Timestamp>>,
    /// Settled orders per member, for the quiet rule.
    orders: Vec<u32>,
    /// Quiet checks due: (when, referee).
    quiet: VecDeque<(Timestamp, MemberId)>,
}

/// What each contact kind is called in evidence.
const KINDS: [&str; 3] = ["device", "phone", "ip"];

/// Every rule name a hit may carry: a snapshot restores [`Review::hits`] (`&'static str`) by
/// looking the saved name up here, so a new rule must be added here too.
pub(crate) const RULES: [&str; 7] = ["device", "phone", "ip", "shared-device", "ring", "burst", "quiet"];

impl Antifraud {
    pub(crate) fn new(config: &AntifraudConfig) -> Antifraud {
        Antifraud {
            config: config.clone(),
            links: Vec::new(),
            review_of: Vec::new(),
            reviews: Vec::new(),
            contacts: Vec::new(),
            names: Default::default(),
            counts: Default::default(),
            recent: FxHashMap::default(),
            orders: Vec::new(),
            quiet: VecDeque::new(),
        }
    }

    /// The member's referral.
    pub(crate) fn link(&self, member: MemberId) -> Link {
        self.links.get(member.index()).copied().unwrap_or_default()
    }

    /// A member joined (already checked): registers their contacts and runs the join rules on
    /// their referral. Returns the hits, when their referral is now held.
    pub(crate) fn on_join(
        &mut self,
        member: MemberId,
        referrer: Option<MemberId>,
        contacts: [Option<&str>; 3],
        at: Timestamp,
        uplines: [Option<MemberId>; 3],
    ) -> Vec<(&'static str, String)> {
        let mut ids = [NONE; 3];
        let mut hits = Vec::new();
        let limits = [self.config.max_per_device, self.config.max_per_phone, self.config.max_per_ip];
        for (k, contact) in contacts.iter().enumerate() {
            let Some(contact) = contact.filter(|c| !c.is_empty()) else { continue };
            let id = self.names[k].intern(contact);
            let counts = &mut self.counts[k];
            if counts.len() <= id as usize {
                counts.resize(id as usize + 1, 0);
            }
            counts[id as usize] += 1;
            ids[k] = id;
            if let Some(max) = limits[k]
                && counts[id as usize] > max
            {
                let rule = ["device", "phone", "ip"][k];
                hits.push((
                    rule,
                    format!("{} {contact} has {} members, at most {max}", KINDS[k], counts[id as usize]),
                ));
            }
        }
        debug_assert_eq!(self.contacts.len(), member.index());
        self.contacts.push(ids);
        self.links.push(Link::Clear);
        self.review_of.push(NONE);
        let Some(referrer) = referrer else { return Vec::new() };
        let shares = |a: [u32; 3], b: [u32; 3], kinds: &[usize]| {
            kinds.iter().copied().find(|&k| a[k] != NONE && a[k] == b[k])
        };
        if self.config.shared_device
            && let Some(k) = shares(ids, self.contacts[referrer.index()], &[0, 2])
        {
            hits.push((
                "shared-device",
                format!("shares {} {} with their referrer", KINDS[k], self.names[k].get(ids[k])),
            ));
        }
        if self.config.rings {
            for (level, upline) in uplines.iter().enumerate() {
                let Some(upline) = upline else { break };
                if let Some(k) = shares(ids, self.contacts[upline.index()], &[0, 1, 2]) {
                    hits.push((
                        "ring",
                        format!(
                            "shares {} {} with their upline {} levels up",
                            KINDS[k],
                            self.names[k].get(ids[k]),
                            level + 1
                        ),
                    ));
                    break;
                }
            }
        }
        if let Some(burst) = self.config.burst {
            let window = self.recent.entry(referrer.0).or_default();
            let since = Timestamp::from_unix_nanos(at.unix_nanos() - burst.hours as i64 * 3_600_000_000_000);
            while window.front().is_some_and(|&t| t <= since) {
                window.pop_front();
            }
            window.push_back(at);
            if window.len() > burst.referees as usize {
                hits.push((
                    "burst",
                    format!(
                        "the referrer's {}th referee within {} hours, at most {}",
                        window.len(),
                        burst.hours,
                        burst.referees
                    ),
                ));
            }
        }
        if !hits.is_empty() {
            self.hold(member, referrer, hits.clone(), at);
        }
        hits
    }

    fn hold(
        &mut self,
        member: MemberId,
        referrer: MemberId,
        hits: Vec<(&'static str, String)>,
        at: Timestamp,
    ) {
        debug_assert!(hits.iter().all(|(rule, _)| RULES.contains(rule)), "a rule missing from RULES");
        self.links[member.index()] = Link::Held;
        self.review_of[member.index()] = self.reviews.len() as u32;
        self.reviews.push(Review {
            member,
            referrer,
            hits,
            held_at: at,
            held_orders: Vec::new(),
            downline_orders: Vec::new(),
            decision: None,
        });
    }

    /// An order of the member settled. Returns whether its referral rewards are held.
    pub(crate) fn on_settled(
        &mut self,
        member: MemberId,
        order: OrderId,
        amount: Money,
        now: Timestamp,
        referred: bool,
    ) -> bool {
        if self.orders.len() <= member.index() {
            self.orders.resize(member.index() + 1, 0);
        }
        self.orders[member.index()] += 1;
        if let Some(quiet) = self.config.quiet
            && referred
            && self.orders[member.index()] == 1
            && amount <= quiet.max_amount
            && self.link(member) == Link::Clear
        {
            self.quiet.push_back((now.plus_days(quiet.days), member));
        }
        let review = self.review_of[member.index()];
        if self.link(member) == Link::Held && review != NONE {
            self.reviews[review as usize].held_orders.push(order);
            return true;
        }
        false
    }

    /// The quiet rule: referees whose days have passed without a second order. Returns the
    /// members newly held, with their referrer.
    pub(crate) fn on_time(
        &mut self,
        now: Timestamp,
        referrer: impl Fn(MemberId) -> Option<MemberId>,
    ) -> Vec<MemberId> {
        let mut held = Vec::new();
        let Some(quiet) = self.config.quiet else { return held };
        while let Some(&(due, member)) = self.quiet.front() {
            if due > now {
                break;
            }
            self.quiet.pop_front();
            if self.orders[member.index()] == 1 && self.link(member) == Link::Clear {
                let Some(up) = referrer(member) else { continue };
                let hit =
                    format!("one order of at most {}, then none for {} days", quiet.max_amount, quiet.days);
                self.hold(member, up, vec![("quiet", hit)], now);
                held.push(member);
            }
        }
        held
    }

    /// The open review of `member`, if any.
    pub(crate) fn open_review(&self, member: MemberId) -> Option<usize> {
        let review = *self.review_of.get(member.index())?;
        (review != NONE && self.link(member) == Link::Held).then_some(review as usize)
    }

    /// A downline order settled whose rewards from upline position `from` on crossed the held
    /// referral of `referee`: they wait for its review too.
    pub(crate) fn hold_downline(&mut self, referee: MemberId, order: OrderId, from: u8) {
        if let Some(review) = self.open_review(referee) {
            self.reviews[review].downline_orders.push((order, from));
        }
    }

    /// Records the decision; returns the orders whose held rewards now happen (on approval):
    /// the referee's own, then their downline's with the position they pay from.
    pub(crate) fn decide(
        &mut self,
        review: usize,
        approve: bool,
        at: Timestamp,
    ) -> (Vec<OrderId>, Vec<(OrderId, u8)>) {
        let r = &mut self.reviews[review];
        r.decision = Some((approve, at));
        self.links[r.member.index()] = if approve { Link::Approved } else { Link::Rejected };
        if approve { (r.held_orders.clone(), r.downline_orders.clone()) } else { (Vec::new(), Vec::new()) }
    }
}
