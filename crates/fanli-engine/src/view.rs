//! Read-only views of the state: what an operator sees of a mechanism and a member of themself.

use crate::engine::Engine;
use crate::mechanism::cycle::CycleStanding;
use crate::mechanism::green_points::Lots;
use crate::mechanism::loyalty::{LoyaltyStanding, Totals};
use crate::mechanism::queue::Place;
use crate::mechanism::refer_refund::Progress;
use crate::mechanism::{Mechanism, State};
use crate::num::{Money, Points, Price};
use crate::{MechanismId, MemberId};

/// A mechanism's pool and what it owes.
#[derive(Clone, Debug)]
pub struct MechanismView<'e> {
    /// The mechanism's id in the plan.
    pub id: &'e str,
    /// Its kind ("appreciation").
    pub kind: &'static str,
    /// Cash in the pool.
    pub pool: Money,
    /// Promised and not yet paid.
    pub obligations: Money,
    /// How many obligations wait.
    pub obligations_waiting: usize,
    /// Paid to members in all.
    pub paid: Money,
    /// With `pause_when_underfunded`: whether it is paused (owes more than its pool holds).
    pub paused: Option<bool>,
    /// With `clawback`: what refunds took back, and what they could not.
    pub clawback: Option<crate::ClawbackTotals>,
    /// What only this kind has.
    pub detail: MechanismDetail,
}

/// What only one kind of mechanism has.
#[derive(Clone, Copy, Debug)]
pub enum MechanismDetail {
    /// Points outstanding and their price.
    Appreciation {
        /// Points held by members.
        points: Points,
        /// Pool ÷ points (the initial price while none are out).
        price: Price,
        /// Forced exits (出局) so far.
        exits: u64,
    },
    /// Participants and referrals.
    ReferRefund {
        /// Members who qualified.
        participants: u64,
        /// Referrals counted.
        referrals: u64,
    },
    /// The waiting entries.
    Queue {
        /// What they wait for in all.
        queued: Money,
        /// How many.
        waiting: u64,
        /// When the oldest of them joined.
        oldest_since: Option<crate::Timestamp>,
    },
    /// What order budgets did not allocate.
    Distribution {
        /// Gone back to the platform.
        returned: Money,
    },
    /// Unreleased points and their lots.
    GreenPoints {
        /// Points not yet released, all lots (1 point = 1 yuan).
        points: Points,
        /// Lots with points left.
        lots: u64,
        /// Points released in all.
        released: Money,
    },
    /// Ad views.
    AdTasks {
        /// Task points held by members.
        points: Points,
        /// Views in all.
        views: u64,
    },
    /// Coalition points.
    Coalition {
        /// Held by members.
        points: Points,
        /// Partners of the coalition.
        partners: u64,
    },
    /// Loyalty points.
    Loyalty {
        /// Held by members.
        points: Points,
        /// Issued, redeemed, cashed out and expired, in all.
        totals: Totals,
    },
    /// The dividend's takers.
    Cycle {
        /// Members with quota left.
        holders: u64,
        /// The part of the pool set aside for honor members.
        honor_fund: Money,
    },
}

/// A member's balances and their standing in each mechanism.
#[derive(Clone, Debug)]
pub struct MemberView<'e> {
    /// Who.
    pub id: MemberId,
    /// Their id.
    pub name: &'e str,
    /// Who referred them.
    pub referrer: Option<&'e str>,
    /// Where their referral stands with anti-fraud (held, approved, rejected).
    pub referral: crate::Link,
    /// Withdrawable cash.
    pub wallet: Money,
    /// Store credit.
    pub credit: Money,
    /// The sum of their settled orders.
    pub spent: Money,
    /// The sum of their orders refunded after settlement.
    pub refunded: Money,
    /// The settled spend of their downline to 3 levels, when the plan ranks members by it.
    pub team_sales: Option<Money>,
    /// Their standing in each mechanism, in plan order.
    pub mechanisms: Vec<MemberMechanism>,
}

/// A member's standing in one mechanism.
#[derive(Clone, Copy, Debug)]
pub struct MemberMechanism {
    /// Which mechanism.
    pub mechanism: MechanismId,
    /// Paid to the member by this mechanism so far.
    pub received: Money,
    /// Promised to the member and not yet paid.
    pub owed: Money,
    /// What only this kind has.
    pub detail: MemberDetail,
}

/// A member's standing in one kind of mechanism.
#[derive(Clone, Copy, Debug)]
pub enum MemberDetail {
    /// Points, their value, and when the member will be sold out.
    Appreciation {
        /// Points held.
        points: Points,
        /// Their value at the current price, before the sell fee.
        value: Money,
        /// Settled spend since the last exit.
        basis: Money,
        /// The price at which the member is sold out (出局), if exits are on and they hold points.
        exit_price: Option<Price>,
    },
    /// Referral progress.
    ReferRefund(Progress),
    /// Place in the queue.
    Queue(Place),
    /// Commissions: what `received` and `owed` say.
    Distribution,
    /// Unreleased green points and what they release a day.
    GreenPoints {
        /// Points not yet released.
        points: Points,
        /// Lots with points left, and their daily release.
        lots: Lots,
    },
    /// Quota left, shares and honor level.
    Cycle(CycleStanding),
    /// Coalition points held.
    Coalition {
        /// Points held.
        points: Points,
    },
    /// Loyalty points, tier and the next expiry.
    Loyalty {
        /// Points held.
        points: Points,
        /// Tier, rolling-year figures and the next expiry.
        standing: LoyaltyStanding,
    },
    /// Task points and what the next view releases.
    AdTasks {
        /// Task points held.
        points: Points,
        /// What a view releases now.
        next_reward: Money,
    },
}

impl Engine {
    /// Every mechanism, in plan order.
    pub fn mechanism_views(&self) -> impl Iterator<Item = MechanismView<'_>> {
        self.mechanisms.iter().map(|m| self.mechanism_view(m))
    }

    fn mechanism_view<'e>(&'e self, m: &'e Mechanism) -> MechanismView<'e> {
        let Mechanism { base, state } = m;
        let detail = match state {
            State::Appreciation(a) => MechanismDetail::Appreciation {
                points: self.books.ledger.outstanding(base.id),
                price: a.price(base, &self.books),
                exits: a.forced_exits(),
            },
            State::ReferRefund(r) => {
                let (participants, referrals) = r.totals();
                MechanismDetail::ReferRefund { participants, referrals }
            }
            State::Queue(q) => MechanismDetail::Queue {
                queued: q.queued(),
                waiting: q.waiting(),
                oldest_since: q.oldest_since(),
            },
            State::Distribution(d) => MechanismDetail::Distribution { returned: d.returned() },
            State::GreenPoints(g) => MechanismDetail::GreenPoints {
                points: self.books.ledger.outstanding(base.id),
                lots: g.live_lots() as u64,
                released: g.released(),
            },
            State::Cycle(c) => {
                MechanismDetail::Cycle { holders: c.holders() as u64, honor_fund: c.honor_fund() }
            }
            State::AdTasks(a) => MechanismDetail::AdTasks {
                points: self.books.ledger.outstanding(base.id),
                views: a.total_views(),
            },
            State::Loyalty(l) => MechanismDetail::Loyalty {
                points: self.books.ledger.outstanding(base.id),
                totals: l.totals(),
            },
            State::Coalition(c) => MechanismDetail::Coalition {
                points: self.books.ledger.outstanding(base.id),
                partners: c.config.partners.len() as u64,
            },
        };
        MechanismView {
            id: &base.name,
            kind: self.plan().mechanisms[base.id.index()].kind.name(),
            pool: base.pool(&self.books),
            obligations: base.obligations.outstanding(),
            obligations_waiting: base.obligations.len(),
            paid: base.paid,
            paused: base.pause.then_some(base.paused),
            clawback: self.plan().clawback.then_some(base.clawback),
            detail,
        }
    }

    /// Every mechanism's id, in plan order.
    pub fn mechanism_ids(&self) -> impl Iterator<Item = MechanismId> + use<> {
        (0..self.mechanisms.len()).map(MechanismId::from_index)
    }

    /// With anti-fraud rules: every referral held for review, in the order held, with its
    /// decision once made. `None` without `[antifraud]`.
    pub fn reviews(&self) -> Option<&[crate::Review]> {
        self.antifraud.as_ref().map(|a| a.reviews.as_slice())
    }

    /// Where the member's referral stands (always `Clear` without anti-fraud).
    pub fn link(&self, member: MemberId) -> crate::Link {
        self.antifraud.as_ref().map_or(crate::Link::Clear, |a| a.link(member))
    }

    /// Whether the mechanism issues points (appreciation, green points, task points).
    pub fn has_points(&self, mechanism: MechanismId) -> bool {
        matches!(
            self.mechanisms[mechanism.index()].state,
            State::Appreciation(_)
                | State::GreenPoints(_)
                | State::AdTasks(_)
                | State::Loyalty(_)
                | State::Coalition(_)
        )
    }

    /// A coalition's settlement report: per month and partner, points issued and redeemed and
    /// the net owed between the partner and the coalition. `None` for other kinds.
    pub fn settlement_report(&self, mechanism: MechanismId) -> Option<Vec<crate::PartnerPeriod>> {
        match &self.mechanisms[mechanism.index()].state {
            State::Coalition(c) => Some(c.report()),
            _ => None,
        }
    }

    /// The current price of an appreciation mechanism.
    pub fn price(&self, mechanism: MechanismId) -> Option<Price> {
        match &self.mechanisms[mechanism.index()] {
            Mechanism { base, state: State::Appreciation(a) } => Some(a.price(base, &self.books)),
            _ => None,
        }
    }

    /// Every member, in join order. Queue places are computed once for all, in one pass.
    pub fn member_views(&self) -> impl Iterator<Item = MemberView<'_>> {
        let places = self.all_places();
        (0..self.member_count()).map(move |i| {
            let member = MemberId::from_index(i);
            self.member_view(member, |m| places[m].get(i).copied().unwrap_or_default())
        })
    }

    /// One member's view. Cheaper than [`Engine::member_views`] for a few members: a queue
    /// place costs the member's position in the queue, not the whole queue.
    pub fn member_view_of(&self, member: MemberId) -> MemberView<'_> {
        self.member_view(member, |m| match &self.mechanisms[m].state {
            State::Queue(q) => q.place(member),
            _ => Place::default(),
        })
    }

    fn all_places(&self) -> Vec<Vec<Place>> {
        self.mechanisms
            .iter()
            .map(|m| match &m.state {
                State::Queue(q) => q.places(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// `place(m)`: the member's place in mechanism `m`, when it is a queue.
    fn member_view(&self, member: MemberId, place: impl Fn(usize) -> Place) -> MemberView<'_> {
        let ledger = &self.books.ledger;
        let record = &self.members.records[member.index()];
        let mechanisms = self
            .mechanisms
            .iter()
            .enumerate()
            .map(|(m, Mechanism { base, state })| {
                let detail = match state {
                    State::Appreciation(a) => {
                        let points = ledger.held(base.id, member);
                        MemberDetail::Appreciation {
                            points,
                            value: a.price(base, &self.books).value(points),
                            basis: a.basis(member),
                            exit_price: a.exit_price(base, &self.books, member),
                        }
                    }
                    State::ReferRefund(r) => MemberDetail::ReferRefund(r.progress(member)),
                    State::Queue(_) => MemberDetail::Queue(place(m)),
                    State::Distribution(_) => MemberDetail::Distribution,
                    State::GreenPoints(g) => MemberDetail::GreenPoints {
                        points: ledger.held(base.id, member),
                        lots: g.lots_of(member),
                    },
                    State::Cycle(c) => MemberDetail::Cycle(c.standing(member)),
                    State::AdTasks(a) => {
                        let points = ledger.held(base.id, member);
                        MemberDetail::AdTasks { points, next_reward: a.reward(points) }
                    }
                    State::Loyalty(l) => MemberDetail::Loyalty {
                        points: ledger.held(base.id, member),
                        standing: l.standing(member, self.now()),
                    },
                    State::Coalition(_) => MemberDetail::Coalition { points: ledger.held(base.id, member) },
                };
                MemberMechanism {
                    mechanism: base.id,
                    received: base.received(member),
                    owed: base.obligations.owed(member),
                    detail,
                }
            })
            .collect();
        MemberView {
            id: member,
            name: self.member_name(member),
            referrer: self.members.joined_referrer(member).map(|r| self.member_name(r)),
            referral: self.link(member),
            wallet: ledger.wallet(member),
            credit: ledger.credit(member),
            spent: Money::from_fen(record.spent),
            refunded: Money::from_fen(self.members.refunded.get(member.index()).copied().unwrap_or(0)),
            team_sales: self.members.ranks.then(|| self.members.team_sales(member)),
            mechanisms,
        }
    }
}
