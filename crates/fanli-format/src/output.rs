//! The state and the trace as JSON, in the shapes the spec documents.
//!
//! Money is a string with 2 decimals, points and prices strings with 4. Members come in join
//! order and mechanisms in plan order, so the bytes depend on nothing but the plan and events.
//! The state is streamed member by member (a run may have millions), never built as a tree.

use fanli_engine::{
    Account, Applied, Asset, Effect, Engine, MechanismDetail, MechanismView, MemberDetail, MemberMechanism,
    MemberView, Money, Points, Posting, Price,
};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

/// A rejected line: its number (from 1) and why.
pub type Rejected = (usize, String);

/// The end state as one JSON document: `plan`, `mechanisms`, `members`, `rejected`,
/// `accounts_balance`, and with a trace, `events`.
///
/// Laid out with each mechanism, member, rejection and trace entry on a line of its own: compact
/// enough for millions of members, and still readable and diffable line by line.
pub fn state_json<W: std::io::Write>(
    engine: &Engine,
    rejected: &[Rejected],
    events: Option<&[Value]>,
    out: W,
) -> serde_json::Result<()> {
    let doc = Document { engine, rejected, events };
    let mut serializer = serde_json::Serializer::with_formatter(out, Lines::default());
    doc.serialize(&mut serializer)
}

/// A formatter that breaks lines only in the two outer levels of the document.
#[derive(Default)]
struct Lines {
    /// Per open object or array: whether it has had an entry yet.
    open: Vec<bool>,
}

impl Lines {
    const LEVELS: usize = 2;

    fn begin<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.open.push(false);
        w.write_all(bracket)
    }

    fn end<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        let had_entries = self.open.pop().unwrap_or(false);
        if had_entries && self.open.len() < Lines::LEVELS {
            self.newline(w)?;
        }
        w.write_all(bracket)
    }

    fn entry<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if let Some(open) = self.open.last_mut() {
            *open = true;
        }
        if self.open.len() <= Lines::LEVELS { self.newline(w) } else { Ok(()) }
    }

    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.open.len() {
            w.write_all(b" ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Lines {
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.entry(w, first)
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.entry(w, first)
    }
}

struct Document<'a> {
    engine: &'a Engine,
    rejected: &'a [Rejected],
    events: Option<&'a [Value]>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let engine = self.engine;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("plan", &engine.plan().name)?;
        map.serialize_entry("mechanisms", &Mechanisms(engine))?;
        map.serialize_entry("members", &Members(engine))?;
        let rejected: Vec<_> =
            self.rejected.iter().map(|(line, error)| json!({"line": line, "error": error})).collect();
        map.serialize_entry("rejected", &rejected)?;
        map.serialize_entry("accounts_balance", &engine.accounts_balance())?;
        if let Some(events) = self.events {
            map.serialize_entry("events", events)?;
        }
        map.end()
    }
}

/// Serializes a value through its `Display`, with no allocation.
struct Text<T>(T);

impl<T: std::fmt::Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

fn price(p: Price) -> Text<impl std::fmt::Display> {
    Text(p.display())
}

struct Mechanisms<'a>(&'a Engine);

impl Serialize for Mechanisms<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for m in self.0.mechanism_views() {
            map.serialize_entry(m.id, &Mechanism(&m))?;
        }
        map.end()
    }
}

struct Mechanism<'a>(&'a MechanismView<'a>);

impl Serialize for Mechanism<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("kind", m.kind)?;
        map.serialize_entry("pool", &Text(m.pool))?;
        map.serialize_entry("obligations", &Text(m.obligations))?;
        map.serialize_entry("obligations_waiting", &m.obligations_waiting)?;
        map.serialize_entry("paid", &Text(m.paid))?;
        match m.detail {
            MechanismDetail::Appreciation { points, price: p } => {
                map.serialize_entry("points", &Text(points))?;
                map.serialize_entry("price", &price(p))?;
            }
            MechanismDetail::ReferRefund { participants, referrals } => {
                map.serialize_entry("participants", &participants)?;
                map.serialize_entry("referrals", &referrals)?;
            }
            MechanismDetail::Queue { queued, waiting } => {
                map.serialize_entry("queued", &Text(queued))?;
                map.serialize_entry("waiting", &waiting)?;
            }
        }
        map.end()
    }
}

struct Members<'a>(&'a Engine);

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let engine = self.0;
        let mut map = s.serialize_map(Some(engine.member_count()))?;
        for view in engine.member_views() {
            map.serialize_entry(view.name, &Member { engine, view: &view })?;
        }
        map.end()
    }
}

struct Member<'a> {
    engine: &'a Engine,
    view: &'a MemberView<'a>,
}

impl Serialize for Member<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (engine, v) = (self.engine, self.view);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("wallet", &Text(v.wallet))?;
        map.serialize_entry("credit", &Text(v.credit))?;
        map.serialize_entry("spent", &Text(v.spent))?;
        map.serialize_entry("points", &PointsByMechanism { engine, view: v })?;
        if let Some(referrer) = v.referrer {
            map.serialize_entry("referrer", referrer)?;
        }
        if !v.refunded.is_zero() {
            map.serialize_entry("refunded", &Text(v.refunded))?;
        }
        if v.mechanisms.iter().any(has_standing) {
            map.serialize_entry("mechanisms", &Standings { engine, view: v })?;
        }
        map.end()
    }
}

/// `points.{ID}` for every points-issuing mechanism, held or not.
struct PointsByMechanism<'a> {
    engine: &'a Engine,
    view: &'a MemberView<'a>,
}

impl Serialize for PointsByMechanism<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for m in &self.view.mechanisms {
            if let MemberDetail::Appreciation { points, .. } = m.detail {
                map.serialize_entry(self.engine.mechanism_name(m.mechanism), &Text(points))?;
            }
        }
        map.end()
    }
}

/// Whether the member has anything in this mechanism worth showing.
fn has_standing(m: &MemberMechanism) -> bool {
    !m.received.is_zero()
        || !m.owed.is_zero()
        || match m.detail {
            MemberDetail::Appreciation { points, basis, .. } => !points.is_zero() || !basis.is_zero(),
            MemberDetail::ReferRefund(p) => p.base.is_some() || p.referrals > 0,
            MemberDetail::Queue(place) => place.entries > 0,
        }
}

/// The member's standing in each mechanism they have any in: progress, place, value.
struct Standings<'a> {
    engine: &'a Engine,
    view: &'a MemberView<'a>,
}

impl Serialize for Standings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for m in self.view.mechanisms.iter().filter(|m| has_standing(m)) {
            map.serialize_entry(self.engine.mechanism_name(m.mechanism), &Standing(m))?;
        }
        map.end()
    }
}

struct Standing<'a>(&'a MemberMechanism);

impl Serialize for Standing<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut map = s.serialize_map(None)?;
        match m.detail {
            MemberDetail::Appreciation { points, value, basis, exit_price } => {
                map.serialize_entry("points", &Text(points))?;
                map.serialize_entry("value", &Text(value))?;
                map.serialize_entry("basis", &Text(basis))?;
                map.serialize_entry("exit_price", &exit_price.map(price))?;
            }
            MemberDetail::ReferRefund(p) => {
                map.serialize_entry("base", &p.base.map(Text))?;
                map.serialize_entry("referrals", &p.referrals)?;
                map.serialize_entry("progress", &Text(format_args!("{} of {}", p.in_round, p.steps)))?;
                map.serialize_entry("next_reward", &p.next_reward.map(Text))?;
            }
            MemberDetail::Queue(place) => {
                map.serialize_entry("entries", &place.entries)?;
                map.serialize_entry("waiting", &Text(place.waiting))?;
                let waiting = place.entries > 0;
                map.serialize_entry("position", &waiting.then_some(place.position))?;
                map.serialize_entry("ahead", &waiting.then_some(Text(place.ahead)))?;
            }
        }
        map.serialize_entry("received", &Text(m.received))?;
        map.serialize_entry("owed", &Text(m.owed))?;
        map.end()
    }
}

/// One trace entry: the line, and what applying it did (or why it was refused).
pub fn trace_entry(engine: &Engine, line: usize, kind: &str, outcome: Result<Applied<'_>, &str>) -> Value {
    let applied = match outcome {
        Err(error) => return json!({"index": line, "ok": false, "type": kind, "error": error}),
        Ok(applied) => applied,
    };
    let name = |m: fanli_engine::MemberId| engine.member_name(m).to_owned();
    let mech = |m: fanli_engine::MechanismId| engine.mechanism_name(m).to_owned();
    let postings: Vec<Value> = applied.postings.iter().map(|p| posting(engine, p)).collect();
    let effects: Vec<Value> = applied.effects.iter().map(|e| effect(engine, e)).collect();
    let mut entry =
        json!({"index": line, "ok": true, "type": kind, "postings": postings, "effects": effects});
    // The spec's appreciation fields, for the plan's first appreciation mechanism; every
    // mechanism's own effects are in `effects`.
    let first = engine.mechanism_ids().find(|&m| engine.price(m).is_some());
    if let Some(m) = first {
        let minted: Points = applied
            .effects
            .iter()
            .filter_map(|e| match *e {
                Effect::Minted { mechanism, points, .. } if mechanism == m => Some(points),
                _ => None,
            })
            .sum();
        let exits: Vec<Value> = applied
            .effects
            .iter()
            .filter_map(|e| match *e {
                Effect::Sold { mechanism, member, points, payout, forced: true } if mechanism == m => {
                    Some(json!({"member": name(member), "points": points.to_string(), "payout": payout.to_string()}))
                }
                _ => None,
            })
            .collect();
        let o = entry.as_object_mut().expect("an object");
        o.insert("mechanism".into(), mech(m).into());
        o.insert("minted".into(), minted.to_string().into());
        o.insert("price".into(), engine.price(m).expect("appreciation").display().to_string().into());
        o.insert("exits".into(), exits.into());
    }
    entry
}

fn account(engine: &Engine, account: Account) -> String {
    let member = |m: fanli_engine::MemberId| engine.member_name(m);
    let mech = |m: fanli_engine::MechanismId| engine.mechanism_name(m);
    match account {
        Account::External => "external".to_owned(),
        Account::Platform => "platform".to_owned(),
        Account::Pool(m) => format!("pool:{}", mech(m)),
        Account::Wallet(id) => format!("member:{}:wallet", member(id)),
        Account::Credit(id) => format!("member:{}:credit", member(id)),
        Account::Issued(m) => format!("issued:{}", mech(m)),
        Account::Points(m, id) => format!("member:{}:points:{}", member(id), mech(m)),
    }
}

fn posting(engine: &Engine, p: &Posting) -> Value {
    let (asset, amount) = match p.asset() {
        Asset::Cash => ("cash".to_owned(), Money::from_fen(p.amount).to_string()),
        Asset::Points(m) => {
            (format!("points:{}", engine.mechanism_name(m)), Points::from_units(p.amount).to_string())
        }
    };
    let mut v = json!({
        "asset": asset,
        "from": account(engine, p.from),
        "to": account(engine, p.to),
        "amount": amount,
        "rule": p.rule.name(),
    });
    if let Some(m) = p.mechanism {
        v["mechanism"] = engine.mechanism_name(m).into();
    }
    v
}

fn effect(engine: &Engine, e: &Effect) -> Value {
    let name = |m: fanli_engine::MemberId| engine.member_name(m);
    let mech = |m: fanli_engine::MechanismId| engine.mechanism_name(m);
    let order = |o: fanli_engine::OrderId| engine.order_name(o);
    match *e {
        Effect::Joined { member } => json!({"effect": "joined", "member": name(member)}),
        Effect::Paid { order: o } => json!({"effect": "paid", "order": order(o)}),
        Effect::Settled { order: o } => json!({"effect": "settled", "order": order(o)}),
        Effect::Cancelled { order: o } => json!({"effect": "cancelled", "order": order(o)}),
        Effect::Refunded { order: o } => json!({"effect": "refunded", "order": order(o)}),
        Effect::Repeated { order: o } => json!({"effect": "repeated", "order": order(o)}),
        Effect::Minted { mechanism, member, points } => json!({
            "effect": "minted", "mechanism": mech(mechanism), "member": name(member),
            "points": points.to_string(),
        }),
        Effect::Sold { mechanism, member, points, payout, forced } => json!({
            "effect": if forced { "exit" } else { "sold" }, "mechanism": mech(mechanism),
            "member": name(member), "points": points.to_string(), "payout": payout.to_string(),
        }),
        Effect::Participant { mechanism, member, base } => json!({
            "effect": "participant", "mechanism": mech(mechanism), "member": name(member),
            "base": base.to_string(),
        }),
        Effect::Referral { mechanism, referrer, referee, count, step, of, reward } => json!({
            "effect": "referral", "mechanism": mech(mechanism), "member": name(referrer),
            "referee": name(referee), "referrals": count, "step": step, "of": of,
            "progress": format!("{} of {of}", if step == 0 { of } else { step }),
            "reward": reward.to_string(),
        }),
        Effect::Indirect { mechanism, member, referee, reward } => json!({
            "effect": "indirect", "mechanism": mech(mechanism), "member": name(member),
            "referee": name(referee), "reward": reward.to_string(),
        }),
        Effect::Queued { mechanism, member, entry, amount, position, ahead } => json!({
            "effect": "queued", "mechanism": mech(mechanism), "member": name(member), "entry": entry,
            "amount": amount.to_string(), "position": position, "ahead": ahead.to_string(),
        }),
        Effect::Accelerated { mechanism, member, entry, amount, remaining } => json!({
            "effect": "accelerated", "mechanism": mech(mechanism), "member": name(member),
            "entry": entry, "amount": amount.to_string(), "remaining": remaining.to_string(),
        }),
        Effect::Released { mechanism, member, entry, amount } => json!({
            "effect": "released", "mechanism": mech(mechanism), "member": name(member),
            "entry": entry, "amount": amount.to_string(),
        }),
        Effect::Due { mechanism, member, entry, amount } => json!({
            "effect": "due", "mechanism": mech(mechanism), "member": name(member),
            "entry": entry, "amount": amount.to_string(),
        }),
        Effect::ObligationPaid { mechanism, member, amount, remaining } => json!({
            "effect": "obligation_paid", "mechanism": mech(mechanism), "member": name(member),
            "amount": amount.to_string(), "remaining": remaining.to_string(),
        }),
    }
}
