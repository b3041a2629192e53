//! A kind that only these tests register (`Tally`, at the end of the list in `kind/mod.rs`):
//! the smallest whole kind, to show what adding one takes (`docs/adding-a-kind.md`) and to
//! check that a kind needs nothing outside its own module and that one line.
//!
//! A tally pays a member a fixed reward from its pool for every `every`-th order of theirs that
//! settles, and takes the count back when a settled order is refunded under `clawback`.

use super::{Cx, Figures, Kind, Look, Refunded, Settlement};
use crate::MemberId;
use crate::compliance::{Findings, Level};
use crate::effect::Effect;
use crate::ledger::Rule;
use crate::num::Money;
use crate::plan::PayTo;
use crate::plan::read::{Reader, Table};
use crate::pool::ClawbackTotals;
use crate::table::slot;
use crate::view::{Fields, Figure};

/// A tally's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct TallyConfig {
    /// Every this many settled orders of a member's pay them `reward`.
    pub every: u32,
    /// What a full tally pays.
    pub reward: Money,
}

/// The orders counted per member.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Tally {
    config: TallyConfig,
    counts: Vec<u32>,
    rewards: u64,
}

/// Rewards owed so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TallyView {
    /// How many.
    pub rewards: u64,
}

impl Figures for TallyView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure("rewards", Figure::Count(self.rewards));
    }

    fn text(&self) -> String {
        format!("{} rewards", self.rewards)
    }
}

/// A member's count towards the next reward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TallyStanding {
    /// Settled orders counted since the last reward.
    pub counted: u32,
}

impl Figures for TallyStanding {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure("counted", Figure::Count(self.counted.into()));
    }

    fn text(&self) -> String {
        format!("{} counted", self.counted)
    }

    fn shown(&self) -> bool {
        self.counted > 0
    }
}

impl Kind for Tally {
    const NAME: &'static str = "tally";
    type Config = TallyConfig;
    type View = TallyView;
    type Standing = TallyStanding;

    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<TallyConfig> {
        let every = r.required(t, "every", |r, v, k| r.integer(v, k, 1..=100));
        let reward = r.required(t, "reward", |r, v, k| r.positive_money(v, k));
        Some(TallyConfig { every: every? as u32, reward: reward? })
    }

    fn check(config: &TallyConfig, findings: &mut Findings<'_>) {
        if config.every == 1 {
            findings.push(
                Level::Warning,
                "every-order",
                findings.key("every"),
                "每单都返：".to_owned(),
                "every order pays".to_owned(),
                "count more orders".to_owned(),
            );
        }
    }

    fn new(config: &TallyConfig) -> Tally {
        Tally { config: config.clone(), counts: Vec::new(), rewards: 0 }
    }

    fn on_settled(&mut self, cx: &mut Cx<'_>, order: &Settlement<'_>) {
        let count = slot(&mut self.counts, order.member);
        *count += 1;
        if *count == self.config.every {
            *count = 0;
            self.rewards += 1;
            cx.pool.owe(order.member, self.config.reward, PayTo::Wallet, Rule::Referral);
        }
    }

    fn claw_back(&mut self, _cx: &mut Cx<'_>, refund: &Refunded<'_>) -> ClawbackTotals {
        let count = slot(&mut self.counts, refund.member);
        *count = count.saturating_sub(1);
        ClawbackTotals::default()
    }

    fn view(&self, _look: &Look<'_>) -> TallyView {
        TallyView { rewards: self.rewards }
    }

    fn standing(&self, _look: &Look<'_>, member: MemberId) -> TallyStanding {
        TallyStanding { counted: self.counts.get(member.index()).copied().unwrap_or(0) }
    }
}

#[allow(dead_code, reason = "the effect type a tally would report, kept to show where one goes")]
fn effect_of(member: MemberId, mechanism: crate::MechanismId, amount: Money) -> Effect {
    Effect::ObligationPaid { mechanism, member, amount, remaining: Money::ZERO }
}
