//! Members' vote on an amendment (seed 000: 用户参与规则制定, 返现比例调整), under the plan's
//! `[vote]`: a `propose` opens a vote on a new plan for `days` days; each member with settled
//! spend may `vote` once, yes or no, counted as one or weighted by their settled spend then, as
//! the plan says; after the vote closes a `tally` counts it. It passes when the votes cast reach
//! `quorum` of what all eligible members could cast and more than `majority` of them are yes;
//! a passed amendment is then recorded as an `amend_plan` would be, taking effect at once or,
//! when it lowers what members can earn, after the plan's notice. Every step is an event of the
//! log, so a replay recounts the same.
//!
//! A proposal is checked when it opens as an amendment is (the settings it may not change, the
//! kinds, `fanli check`); the tally checks it again against the plan then in force, and a passed
//! proposal that no longer fits is tallied as passed but not recorded, with the reason.
//! What "all eligible members could cast" counts is read at the tally, from every member's
//! settled spend: one pass over the members, once per proposal.

use super::Engine;
use crate::MemberId;
use crate::effect::Effect;
use crate::num::Rate;
use crate::plan::{Plan, VoteWeight};
use crate::rejection::Rejection;
use crate::time::Timestamp;

/// A proposal put to the members' vote.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(super) struct Proposal {
    id: String,
    plan: Plan,
    opened: Timestamp,
    closes: Timestamp,
    /// Yes and no, counted as the plan weighs them (members, or fen of settled spend).
    yes: i64,
    no: i64,
    /// Who voted, in the order they did.
    voters: Vec<MemberId>,
    outcome: Option<Outcome>,
}

/// How a tally came out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct Outcome {
    /// What all eligible members could have cast, weighed as the votes are.
    pub eligible: i64,
    /// Whether the votes cast reached the quorum.
    pub quorum: bool,
    /// Whether it passed: quorum, and more than the majority yes.
    pub passed: bool,
    /// When the amendment takes effect, if it passed and was recorded.
    pub effective_at: Option<Timestamp>,
    /// Why a passed amendment was not recorded: the code of the rejection it met.
    pub refused: Option<String>,
}

/// A proposal, as the views show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalView<'e> {
    /// Its id.
    pub id: &'e str,
    /// When the vote opened and when it closes.
    pub opened: Timestamp,
    /// When it closes: votes are taken before, the tally at or after.
    pub closes: Timestamp,
    /// Yes and no so far, weighed as the plan says.
    pub yes: i64,
    /// No so far.
    pub no: i64,
    /// How many members voted.
    pub voters: usize,
    /// The tally's outcome, once tallied.
    pub outcome: Option<Outcome>,
}

impl Engine {
    /// `propose`: opens a vote on `plan` as an amendment.
    pub(super) fn propose(&mut self, id: &str, plan: &Plan, at: Timestamp) -> Result<(), Rejection> {
        let Some(rules) = &self.plan.vote else { return Err(Rejection::NoVoteRules) };
        crate::rejection::check_id("proposal", id)?;
        if self.proposals.iter().any(|p| p.id == id) {
            return Err(Rejection::ProposalExists(id.to_owned()));
        }
        let closes = at.plus_days(rules.days);
        self.vet(plan)?;
        self.books.effect(Effect::ProposalOpened { proposal: self.proposals.len() as u32, closes });
        self.proposals.push(Proposal {
            id: id.to_owned(),
            plan: plan.clone(),
            opened: at,
            closes,
            yes: 0,
            no: 0,
            voters: Vec::new(),
            outcome: None,
        });
        Ok(())
    }

    /// `vote`: a member's yes or no on an open proposal.
    pub(super) fn vote(&mut self, member: &str, id: &str, yes: bool, at: Timestamp) -> Result<(), Rejection> {
        let Some(rules) = &self.plan.vote else { return Err(Rejection::NoVoteRules) };
        let weight = rules.weight;
        let who = self.member_named(member)?;
        let index = self.proposal(id)?;
        let p = &self.proposals[index];
        if at >= p.closes {
            return Err(Rejection::VoteClosed { proposal: id.to_owned(), closed: p.closes });
        }
        if p.voters.contains(&who) {
            return Err(Rejection::AlreadyVoted { member: member.to_owned(), proposal: id.to_owned() });
        }
        let spent = self.members.spent(who).fen();
        if spent <= 0 {
            return Err(Rejection::NotEligible(member.to_owned()));
        }
        let counted = match weight {
            VoteWeight::Member => 1,
            VoteWeight::Spend => spent,
        };
        let p = &mut self.proposals[index];
        if yes {
            p.yes += counted;
        } else {
            p.no += counted;
        }
        p.voters.push(who);
        self.books.effect(Effect::Voted { proposal: index as u32, member: who, yes, weight: counted });
        Ok(())
    }

    /// `tally`: counts a closed proposal's votes and, if it passed, records its amendment.
    pub(super) fn tally(&mut self, id: &str, at: Timestamp) -> Result<(), Rejection> {
        let Some(rules) = self.plan.vote.clone() else { return Err(Rejection::NoVoteRules) };
        let index = self.proposal(id)?;
        let p = &self.proposals[index];
        if at < p.closes {
            return Err(Rejection::VoteOpen { proposal: id.to_owned(), closes: p.closes });
        }
        if p.outcome.is_some() {
            return Err(Rejection::AlreadyTallied(id.to_owned()));
        }
        let eligible: i64 = (0..self.members.count())
            .map(|i| self.members.spent(MemberId::from_index(i)).fen())
            .filter(|&spent| spent > 0)
            .map(|spent| match rules.weight {
                VoteWeight::Member => 1,
                VoteWeight::Spend => spent,
            })
            .sum();
        let (yes, cast) = (p.yes, p.yes + p.no);
        let quorum = at_least(cast, rules.quorum, eligible);
        let passed = quorum && cast > 0 && more_than(yes, rules.majority, cast);
        let plan = p.plan.clone();
        let (mut effective_at, mut refused) = (None, None);
        if passed {
            match self.soonest(&plan, at).and_then(|soonest| self.amend(soonest, &plan, at).map(|()| soonest))
            {
                Ok(soonest) => effective_at = Some(soonest),
                Err(rejection) => refused = Some(rejection.code().to_owned()),
            }
        }
        let outcome = Outcome { eligible, quorum, passed, effective_at, refused };
        self.proposals[index].outcome = Some(outcome);
        self.books.effect(Effect::Tallied { proposal: index as u32 });
        if effective_at == Some(at) {
            self.take_effect(at);
        }
        Ok(())
    }

    fn proposal(&self, id: &str) -> Result<usize, Rejection> {
        self.proposals
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| Rejection::UnknownProposal(id.to_owned()))
    }

    /// Every proposal put to the vote, in the order proposed.
    pub fn proposals(&self) -> impl Iterator<Item = ProposalView<'_>> {
        self.proposals.iter().map(|p| ProposalView {
            id: &p.id,
            opened: p.opened,
            closes: p.closes,
            yes: p.yes,
            no: p.no,
            voters: p.voters.len(),
            outcome: p.outcome.clone(),
        })
    }

    /// Whether `member` voted on proposal `id` (`None`: no such proposal), for a page that
    /// offers the vote only once.
    pub fn voted(&self, id: &str, member: MemberId) -> Option<bool> {
        let p = self.proposals.iter().find(|p| p.id == id)?;
        Some(p.voters.contains(&member))
    }

    /// The id of proposal number `index` (as effects name them).
    pub fn proposal_name(&self, index: u32) -> &str {
        &self.proposals[index as usize].id
    }

    /// The outcome of proposal number `index`, once tallied.
    pub fn proposal_outcome(&self, index: u32) -> Option<&Outcome> {
        self.proposals[index as usize].outcome.as_ref()
    }
}

/// `part ≥ share × whole`, exactly.
fn at_least(part: i64, share: Rate, whole: i64) -> bool {
    i128::from(part) * i128::from(Rate::ONE.units()) >= i128::from(share.units()) * i128::from(whole)
}

/// `part > share × whole`, exactly.
fn more_than(part: i64, share: Rate, whole: i64) -> bool {
    i128::from(part) * i128::from(Rate::ONE.units()) > i128::from(share.units()) * i128::from(whole)
}
