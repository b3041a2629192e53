//! Plan amendments (`amend_plan`): checked when recorded, kept until they take effect, then
//! put in force at the first event at or after their `effective_at`.
//!
//! What carries over: a mechanism whose id is in both plans keeps its pool, its obligations and
//! its state (entries, lots, progress, points), and runs under its new settings from then on
//! ([`crate::kind::Kind::reconfigure`]). A mechanism only the new plan has starts empty, after
//! the ones before it (mechanism numbers, and so accounts, never move). A mechanism only the
//! old plan has is retired: it takes no funding, no settlement, no top-up and no ad view, and
//! keeps paying what it owes from its pool, releasing its entries and lots, and letting members
//! sell or redeem what they hold; it stays in every view, marked retired. A later amendment that
//! names it again brings it back, with what it still holds.
//!
//! What is refused (and changes nothing): an `effective_at` before the event, or before that of
//! an amendment already waiting; a change of a plan-wide setting the running state depends on
//! (`settle_after_days`, `timezone`, `clawback`, `[antifraud]`, team-sales ranks starting); a
//! mechanism given another kind; a plan `fanli check` refuses; settings that would reduce what
//! members hold or were promised, or that change what their holdings were made under
//! ([`crate::kind::Settings::reduces`], [`crate::kind::Settings::fixed`]); and an amendment
//! that lowers what members can earn (a mechanism's terms lowered, or a mechanism retired) to
//! take effect sooner than the plan's `notice_days` after it is recorded.
//!
//! An amendment is checked against the plan that will be in force just before it: the last one
//! waiting, else the current one.

use super::{Engine, Mechanism};
use crate::effect::Effect;
use crate::kind::State;
use crate::plan::{MechanismConfig, Plan, WithdrawalConfig};
use crate::pool::Pool;
use crate::rejection::Rejection;
use crate::time::Timestamp;
use crate::{MechanismId, compliance};

/// An amendment recorded and waiting for its time.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub(super) struct Amendment {
    /// From when orders settle under it.
    pub(super) effective_at: Timestamp,
    /// The new plan, as the event gave it.
    pub(super) plan: Plan,
}

/// What putting amendments in force changed, to be put back if the event that brought them
/// into force is refused (the amendments then wait for the next event).
pub(super) struct Undo {
    plan: Plan,
    mechanisms: usize,
    retired: Vec<bool>,
    amendments: Vec<Amendment>,
}

impl Engine {
    /// Records an amendment, to take effect at `effective_at`: checked now against the plan that
    /// will be in force just before it.
    pub(super) fn amend(
        &mut self,
        effective_at: Timestamp,
        plan: &Plan,
        at: Timestamp,
    ) -> Result<(), Rejection> {
        if effective_at < at {
            return Err(Rejection::EffectiveInPast { effective_at, at });
        }
        if let Some(waiting) = self.amendments.last()
            && effective_at < waiting.effective_at
        {
            return Err(Rejection::AmendmentOutOfOrder { effective_at, waiting: waiting.effective_at });
        }
        if let Some(what) = self.vet(plan)? {
            let days = self.last_plan().notice_days;
            let earliest = at.plus_days(days);
            if effective_at < earliest {
                return Err(Rejection::NoticeTooShort { what, days, earliest, effective_at });
            }
        }
        self.amendments.push(Amendment { effective_at, plan: plan.clone() });
        Ok(())
    }

    /// The amendments recorded and not yet in force, in the order they take effect: when, and
    /// the plan from then on (as its event gave it).
    pub fn amendments_waiting(&self) -> impl Iterator<Item = (Timestamp, &Plan)> {
        self.amendments.iter().map(|a| (a.effective_at, &a.plan))
    }

    /// The soonest an amendment to `plan` recorded at `at` may take effect: at once, or after the
    /// plan's notice when it lowers what members can earn, and never before one already
    /// waiting. (What a passed vote records.)
    pub(super) fn soonest(&self, plan: &Plan, at: Timestamp) -> Result<Timestamp, Rejection> {
        let mut soonest = match self.vet(plan)? {
            Some(_) => at.plus_days(self.last_plan().notice_days),
            None => at,
        };
        if let Some(waiting) = self.amendments.last() {
            soonest = soonest.max(waiting.effective_at);
        }
        Ok(soonest)
    }

    /// The plan in force once every waiting amendment has taken effect.
    fn last_plan(&self) -> &Plan {
        self.amendments.last().map_or(&self.plan, |a| &a.plan)
    }

    /// Checks `plan` as an amendment of the plan that will be in force before it, whenever it
    /// takes effect; what it lowers of what members can earn, if anything (it then needs the
    /// plan's notice).
    pub(super) fn vet(&self, plan: &Plan) -> Result<Option<String>, Rejection> {
        let before = self.last_plan();
        kept_settings(before, plan)?;
        for new in &plan.mechanisms {
            if let Some(old) = before.mechanisms.iter().find(|m| m.id == new.id)
                && old.kind.name() != new.kind.name()
            {
                return Err(Rejection::KindChanged {
                    mechanism: new.id.clone(),
                    was: old.kind.name(),
                    now: new.kind.name(),
                });
            }
        }
        let findings = compliance::check(plan);
        if compliance::refused(&findings) {
            let rules: Vec<&str> =
                findings.iter().filter(|f| f.level == compliance::Level::Error).map(|f| f.rule).collect();
            return Err(Rejection::Noncompliant(rules.join(", ")));
        }
        let mut lowered: Option<String> = None;
        for old in &before.mechanisms {
            let Some(new) = plan.mechanisms.iter().find(|m| m.id == old.id) else {
                // Retired: members can earn nothing more from it.
                lowered = lowered.or(Some(format!("`{}` retired", old.id)));
                continue;
            };
            let refused = |why: Option<&'static str>| why.map(|why| (old.id.clone(), why));
            if let Some((mechanism, why)) = refused(new.kind.reduces(&old.kind)) {
                return Err(Rejection::ReducesPromise { mechanism, why });
            }
            if let Some((mechanism, why)) = refused(new.kind.fixed(&old.kind)) {
                return Err(Rejection::AmendmentFixed { mechanism, why });
            }
            if pool_lowers(old, new) || new.kind.lowers(&old.kind) {
                lowered = lowered.or(Some(format!("`{}`", old.id)));
            }
        }
        if withdrawal_lowers(before.withdrawal.as_ref(), plan.withdrawal.as_ref()) {
            lowered = lowered.or(Some("[withdrawal]".to_owned()));
        }
        Ok(lowered)
    }

    /// Puts in force every amendment due at `at`, in the order they take effect; what to put
    /// back if the event is refused. `None` when none is due.
    pub(super) fn take_effect(&mut self, at: Timestamp) -> Option<Undo> {
        let due = self.amendments.iter().take_while(|a| a.effective_at <= at).count();
        if due == 0 {
            return None;
        }
        let undo = Undo {
            plan: self.plan.clone(),
            mechanisms: self.mechanisms.len(),
            retired: self.mechanisms.iter().map(|m| m.retired).collect(),
            amendments: self.amendments.clone(),
        };
        for amendment in self.amendments.drain(..due).collect::<Vec<_>>() {
            self.books.effect(Effect::PlanAmended { effective_at: amendment.effective_at });
            self.switch_to(amendment.plan);
        }
        Some(undo)
    }

    /// Puts back what [`Engine::take_effect`] changed: the event that brought the amendments
    /// into force was refused, so nothing ran under them and the mechanisms they added are
    /// empty.
    pub(super) fn undo(&mut self, undo: Undo) {
        let Undo { plan, mechanisms, retired, amendments } = undo;
        self.resize_earned(self.mechanisms.len(), mechanisms);
        self.mechanisms.truncate(mechanisms);
        self.books.ledger.set_mechanisms(mechanisms);
        for ((mechanism, config), retired) in self.mechanisms.iter_mut().zip(&plan.mechanisms).zip(retired) {
            mechanism
                .pool
                .reconfigure((config.funding_rate, config.funding_base), config.pause_when_underfunded);
            mechanism.state.reconfigure(&config.kind);
            mechanism.retired = retired;
        }
        self.plan = plan;
        self.amendments = amendments;
        self.books.effects.clear();
        self.fit();
    }

    /// Runs under `new` from now on (checked when it was recorded).
    fn switch_to(&mut self, new: Plan) {
        let count = self.mechanisms.len();
        let mut configs: Vec<MechanismConfig> = Vec::with_capacity(count + new.mechanisms.len());
        for (i, old) in self.plan.mechanisms.iter().enumerate() {
            let mechanism = &mut self.mechanisms[i];
            match new.mechanisms.iter().find(|m| m.id == old.id) {
                Some(config) => {
                    mechanism.pool.reconfigure(
                        (config.funding_rate, config.funding_base),
                        config.pause_when_underfunded,
                    );
                    mechanism.state.reconfigure(&config.kind);
                    mechanism.retired = false;
                    configs.push(config.clone());
                }
                None => {
                    if !mechanism.retired {
                        self.books.effect(Effect::MechanismRetired { mechanism: MechanismId::from_index(i) });
                    }
                    mechanism.retired = true;
                    configs.push(old.clone());
                }
            }
        }
        for config in &new.mechanisms {
            if configs.iter().any(|m| m.id == config.id) {
                continue;
            }
            let id = MechanismId::from_index(configs.len());
            self.mechanisms.push(Mechanism {
                pool: Pool::new(
                    id,
                    &config.id,
                    (config.funding_rate, config.funding_base),
                    config.pause_when_underfunded,
                ),
                state: State::new(&config.kind),
                retired: false,
            });
            self.books.effect(Effect::MechanismAdded { mechanism: id });
            configs.push(config.clone());
        }
        self.resize_earned(count, configs.len());
        self.books.ledger.set_mechanisms(configs.len());
        self.plan = Plan { mechanisms: configs, ..new };
        self.fit();
    }

    /// With `clawback`, what each settled order earned is kept per order and mechanism: from
    /// `before` mechanisms to `count`. A row has the mechanisms there were when its order
    /// settled, and a mechanism added since earned nothing from it; fewer mechanisms (an
    /// amendment undone) drop their part of the rows, so that one added later in their place
    /// earned nothing from earlier orders either.
    fn resize_earned(&mut self, before: usize, count: usize) {
        if count < before && !self.earned.is_empty() {
            self.earned.truncate_mechanisms(count);
        }
    }
}

/// The plan-wide settings the running state depends on stay as they are.
fn kept_settings(old: &Plan, new: &Plan) -> Result<(), Rejection> {
    let changed = if new.settle_after_days != old.settle_after_days {
        "settle_after_days"
    } else if new.timezone != old.timezone {
        "timezone"
    } else if new.clawback != old.clawback {
        "clawback"
    } else if new.antifraud != old.antifraud {
        "[antifraud]"
    } else if ranks(new) && !ranks(old) {
        // Team sales are kept only while some mechanism ranks by them.
        "ranks by team sales (team sales were not kept so far)"
    } else {
        return Ok(());
    };
    Err(Rejection::PlanSettingChanged(changed))
}

/// Whether some mechanism of the plan ranks members by team sales.
fn ranks(plan: &Plan) -> bool {
    plan.mechanisms.iter().any(|m| m.kind.reach().ranks)
}

/// Whether new withdrawal terms cost members more or let them take out less: a higher fee or
/// minimum, a lower cap or review threshold (or one where there was none), another pool for the
/// fee. Dropping the section lowers nothing.
fn withdrawal_lowers(old: Option<&WithdrawalConfig>, new: Option<&WithdrawalConfig>) -> bool {
    let (old, new) = match (old, new) {
        (_, None) => return false,
        (None, Some(_)) => return true,
        (Some(old), Some(new)) => (old, new),
    };
    // `None` caps nothing: as high as can be.
    let lower = |old: Option<crate::num::Money>, new: Option<crate::num::Money>| match (old, new) {
        (None, Some(_)) => true,
        (Some(o), Some(n)) => n < o,
        (_, None) => false,
    };
    new.fee_rate > old.fee_rate
        || new.min > old.min
        || new.fee_to != old.fee_to
        || lower(old.max_per_day, new.max_per_day)
        || lower(old.review_above, new.review_above)
}

/// Whether the pool's new terms let less money in, or pause it more: less for members to be
/// paid from.
fn pool_lowers(old: &MechanismConfig, new: &MechanismConfig) -> bool {
    new.funding_rate < old.funding_rate
        || new.funding_base != old.funding_base
        || (new.pause_when_underfunded && !old.pause_when_underfunded)
}
