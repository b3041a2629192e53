//! A kind that only these tests register (`Tally`, at the end of the list in `kind/mod.rs`):
//! the smallest whole kind, to show what adding one takes (`docs/adding-a-kind.md`) and to
//! check that a kind needs nothing outside its own module and that one line.
//!
//! A tally pays a member a fixed reward from its pool for every `every`-th order of theirs that
//! settles, and takes the count back when a settled order is refunded under `clawback`.

use super::{Cx, Figures, Kind, Look, Lowered, Refunded, Settings, Settlement};
use crate::effect::ClawbackTotals;
use crate::event::{Event, EventKind, Order};
use crate::findings::{Findings, Level};
use crate::key;
use crate::keys::{Entry, Reader, Table, Value, ValueKind};
use crate::ledger::Rule;
use crate::num::Money;
use crate::plan::read::read_plan;
use crate::plan::{PayTo, Plan};
use crate::table::slot;
use crate::time::Timestamp;
use crate::view::{Fields, Figure, Key};
use crate::{Engine, MemberId};

/// A tally's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct TallyConfig {
    /// Every this many settled orders of a member's pay them `reward`.
    pub every: u32,
    /// What a full tally pays.
    pub reward: Money,
}

impl Settings for TallyConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<TallyConfig> {
        let every = r.required(t, "every", |r, v, k| r.integer(v, k, 1..=100));
        let reward = r.required(t, "reward", |r, v, k| r.positive_money(v, k));
        Some(TallyConfig { every: every? as u32, reward: reward? })
    }

    fn growth(&self) -> crate::headroom::Growth {
        crate::headroom::Growth { per_fen: 1, per_order: self.reward.fen() as u128, per_largest: 0 }
    }

    fn check(&self, findings: &mut Findings<'_>) {
        if self.every == 1 {
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

    fn lowers(&self, old: &TallyConfig) -> bool {
        Lowered::default().lower(&old.every, &self.every).higher(&old.reward, &self.reward).0
    }
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
        out.figure(key!("rewards"), Figure::Count(self.rewards));
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
        out.figure(key!("counted"), Figure::Count(self.counted.into()));
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
    const TITLE: (&'static str, &'static str) = ("计数", "Tally");
    type Config = TallyConfig;
    type View = TallyView;
    type Standing = TallyStanding;

    fn reconfigure(&mut self, config: &TallyConfig) {
        self.config = config.clone();
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

/// A plan file's tree, written by hand: `table` of (key, value) at successive lines.
fn table(entries: Vec<(&str, Value)>) -> Value {
    let entries = entries
        .into_iter()
        .enumerate()
        .map(|(i, (key, value))| Entry { key: key.to_owned(), line: value.line, offset: i, value })
        .collect();
    Value { line: 1, kind: ValueKind::Table(entries) }
}

fn text(line: usize, s: &str) -> Value {
    Value { line, kind: ValueKind::String(s.to_owned()) }
}

fn int(line: usize, n: i64) -> Value {
    Value { line, kind: ValueKind::Integer { text: n.to_string(), decimal: true } }
}

/// A plan with one tally mechanism, its keys `extra` besides the common ones.
fn tally_plan(extra: Vec<(&str, Value)>) -> Value {
    let mut mechanism =
        vec![("id", text(4, "t")), ("kind", text(5, "tally")), ("funding_rate", text(6, "0.10"))];
    mechanism.extend(extra);
    let mut mechanism = table(mechanism);
    mechanism.line = 3;
    table(vec![
        ("name", text(1, "tally")),
        ("settle_after_days", int(2, 0)),
        ("mechanism", Value { line: 3, kind: ValueKind::Array(vec![mechanism]) }),
    ])
}

fn at(day: u32) -> Timestamp {
    Timestamp::parse_rfc3339("2026-01-01T12:00:00+08:00").expect("a time").plus_days(day)
}

fn apply(engine: &mut Engine, day: u32, kind: EventKind<'_>) {
    engine.apply(&Event { at: at(day), kind }).expect("accepted");
}

fn order<'a>(id: &'a str, member: &'a str, yuan: i64) -> EventKind<'a> {
    EventKind::Order(Order {
        id,
        member,
        amount: Money::from_yuan(yuan),
        profit: None,
        store: None,
        partner: None,
        credit: Money::ZERO,
    })
}

/// Figures as `key=value` words, to compare a view against text.
struct Words(Vec<String>);

impl Fields for Words {
    fn figure(&mut self, key: Key, figure: Figure<'_>) {
        self.0.push(format!("{}={figure:?}", key.name()));
    }
    fn object(&mut self, key: Key, fill: impl FnOnce(&mut Self)) {
        self.0.push(format!("{}{{", key.name()));
        fill(self);
        self.0.push("}".to_owned());
    }
    fn list<T>(&mut self, key: Key, items: &[T], mut fill: impl FnMut(&mut Self, &T)) {
        self.0.push(format!("{}[", key.name()));
        for item in items {
            fill(self, item);
        }
        self.0.push("]".to_owned());
    }
}

#[test]
fn a_kind_reads_its_own_keys_and_names_their_lines() {
    let (plan, lines) = read_plan(&tally_plan(vec![("every", int(7, 3)), ("reward", text(8, "5.00"))]))
        .expect("a valid plan");
    assert_eq!(plan.mechanisms[0].kind.name(), "tally");
    assert_eq!(
        plan.mechanisms[0].kind.get::<TallyConfig>(),
        Some(&TallyConfig { every: 3, reward: Money::from_yuan(5) })
    );
    assert_eq!(lines.line("mechanism.t.reward"), 8);
    // Its own mistakes, and keys it does not know, are reported with their lines.
    let errors = read_plan(&tally_plan(vec![("every", int(7, 0)), ("rewrd", text(8, "5.00"))]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        errors,
        "line 3: `mechanism.t.reward` is missing: `mechanism.t` needs it\n\
         line 7: `mechanism.t.every` must be a whole number from 1 to 100\n\
         line 8: `mechanism.t.rewrd` is not a known key; did you mean `reward`?"
    );
}

#[test]
fn a_kind_has_its_compliance_rules() {
    let (plan, _) =
        read_plan(&tally_plan(vec![("every", int(7, 1)), ("reward", text(8, "1.00"))])).expect("a plan");
    let findings = crate::compliance::check(&plan);
    let rules: Vec<(&str, &str)> = findings.iter().map(|f| (f.rule, f.key.as_str())).collect();
    // The plan's (it states no margin_rate), then the kind's own.
    assert_eq!(rules, [("no-margin", "margin_rate"), ("every-order", "mechanism.t.every")]);
}

#[test]
fn a_kind_gets_its_hooks_and_shows_its_views() {
    let (plan, _) =
        read_plan(&tally_plan(vec![("every", int(7, 2)), ("reward", text(8, "5.00"))])).expect("a plan");
    let mut engine = Engine::new(Plan { clawback: true, ..plan });
    apply(
        &mut engine,
        0,
        EventKind::Join { member: "a", referrer: None, phone: None, device: None, ip: None },
    );
    apply(&mut engine, 0, order("o1", "a", 100));
    apply(&mut engine, 1, order("o2", "a", 100));
    apply(&mut engine, 2, order("o3", "a", 100));
    // The second order filled the tally: 5.00 owed from a pool funded 10.00 an order, paid at once.
    let a = engine.find_member("a").expect("joined");
    let view = engine.member_view_of(a);
    assert_eq!((view.wallet, view.mechanisms[0].received), (Money::from_yuan(5), Money::from_yuan(5)));
    let mechanism = engine.mechanism_views().next().expect("one mechanism");
    assert_eq!((mechanism.kind, mechanism.pool), ("tally", Money::from_yuan(25)));
    let mut words = Words(Vec::new());
    mechanism.detail.write(&mut words);
    assert_eq!(words.0, ["rewards=Count(1)"]);
    assert_eq!(view.mechanisms[0].detail.text(), "1 counted");
    // A refund after settlement takes the count back (clawback).
    apply(&mut engine, 3, EventKind::Refund { order: "o3" });
    assert_eq!(engine.member_view_of(a).mechanisms[0].detail.text(), "0 counted");
    assert!(!engine.member_view_of(a).mechanisms[0].detail.shown());
    assert!(engine.accounts_balance());
}
