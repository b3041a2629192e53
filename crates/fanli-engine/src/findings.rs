//! Compliance findings: what `fanli check` reports, and where each kind's rules write them
//! (`Kind::check`). Below the kinds; the checks of the plan as a whole are in `compliance`.

use crate::num::Rate;
use crate::terms::FundingBase;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Allowed, shown: what regulators look at.
    Warning,
    /// Refused: past a legal red line.
    Error,
}

impl Level {
    /// `error` or `warning`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// One compliance finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub level: Level,
    /// A short stable id ("recruiting-alone").
    pub rule: &'static str,
    /// The mechanism it is about, if one.
    pub mechanism: Option<String>,
    /// The plan key it is about ("mechanism.r3.referee_min"), as plan errors name keys.
    pub key: String,
    /// What is wrong and why, in Chinese.
    pub zh: String,
    /// What is wrong and why, in English.
    pub en: String,
    /// What to change.
    pub fix: String,
}

/// Where findings go while a plan is checked: each kind's `check` pushes to it, about the
/// mechanism being checked, and reads what it needs of the plan and the mechanism.
pub struct Findings<'p> {
    /// The plan's name.
    pub(crate) plan_name: &'p str,
    /// The plan's `margin_rate`.
    pub(crate) margin_rate: Option<Rate>,
    /// The mechanism being checked, when one is.
    pub(crate) mechanism: Option<Checked<'p>>,
    pub(crate) list: Vec<Finding>,
}

/// What a kind's check may read of the mechanism it checks, besides its own settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked<'p> {
    /// Its id.
    pub(crate) id: &'p str,
    /// Its `funding_rate`.
    pub(crate) funding_rate: Rate,
    /// Its `funding_base`.
    pub(crate) funding_base: FundingBase,
}

impl<'p> Findings<'p> {
    /// The mechanism being checked.
    pub(crate) fn mechanism(&self) -> Checked<'p> {
        self.mechanism.expect("a kind's check runs for a mechanism")
    }

    /// The mechanism's id.
    pub(crate) fn mechanism_id(&self) -> &'p str {
        self.mechanism().id
    }

    /// The plan key of one of the mechanism's keys ("mechanism.r3.referee_min").
    pub(crate) fn key(&self, key: &str) -> String {
        format!("mechanism.{}.{key}", self.mechanism_id())
    }

    /// The plan key of the mechanism's table ("mechanism.r3").
    pub(crate) fn table(&self) -> String {
        format!("mechanism.{}", self.mechanism_id())
    }

    /// A finding about the mechanism being checked (about the plan, outside a mechanism).
    pub(crate) fn push(
        &mut self,
        level: Level,
        rule: &'static str,
        key: String,
        zh: String,
        en: String,
        fix: String,
    ) {
        let mechanism = self.mechanism.map(|m| m.id.to_owned());
        self.list.push(Finding { level, rule, mechanism, key, zh, en, fix });
    }

    /// The warning about rewards by team sales (团队计酬), on the mechanism's key `key`.
    pub(crate) fn team_compensation(&mut self, key: &str) {
        self.push(Level::Warning, "team-compensation", self.key(key), team_zh(), team_en(), team_fix());
    }
}

fn team_zh() -> String {
    "按下线团队业绩计酬（团队计酬）：监管部门据此认定传销的重要依据，须确保奖励只来自真实消费且不超过三级。"
        .to_owned()
}

fn team_en() -> String {
    "rewards by the sales of a downline team (团队计酬): regulators treat team compensation as a mark \
     of pyramid selling; make sure it rests on real purchases and stays within 3 levels"
        .to_owned()
}

fn team_fix() -> String {
    "prefer rewards on a member's own direct referrals' purchases, or keep team rates small".to_owned()
}
