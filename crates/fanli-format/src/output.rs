//! The state and the trace as JSON, in the shapes the spec documents.
//!
//! Money is a string with 2 decimals, points and prices strings with 4. Members come in join
//! order and mechanisms in plan order, so the bytes depend on nothing but the plan and events.
//! The state is streamed member by member (a run may have millions), never built as a tree.

use fanli_engine::{
    Account, Applied, Asset, CoalitionConfig, Effect, Engine, Fields, Figure, Figures, Key, LoyaltyConfig,
    MechanismView, MemberId, MemberView, Money, Points, Posting, Price,
};
use serde_json::{Value, json};

use crate::line::Refusal;
use crate::stream::Rejected;

/// The end state as one JSON document: `plan`, `mechanisms`, `members`, `rejected`,
/// `accounts_balance`, and with a trace, `events`.
///
/// Laid out with each mechanism, member, rejection and trace entry on a line of its own: compact
/// enough for millions of members, and still readable and diffable line by line. The member
/// lines, which are nearly all of it, are written by hand (names escaped by serde_json); the
/// shape is fixed, and serde's per-key machinery costs more than the engine run at that size.
pub fn state_json<W: std::io::Write>(
    engine: &Engine,
    rejected: &[Rejected],
    events: Option<&[Value]>,
    out: W,
) -> std::io::Result<()> {
    state_json_each(engine, rejected, events, out, |_| {})
}

/// [`state_json`], handing each member's view to `each` once it is written (in join order): a
/// caller that needs every member's figures as well (the simulator's outcomes) walks the
/// members once, not twice; at a million members a walk is a second or so.
pub fn state_json_each<W: std::io::Write>(
    engine: &Engine,
    rejected: &[Rejected],
    events: Option<&[Value]>,
    mut out: W,
    mut each: impl FnMut(&MemberView<'_>),
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(b"{\n \"plan\":");
    string(&mut buf, &engine.plan().name);
    buf.extend_from_slice(b",\n \"mechanisms\":{");
    let mut any = false;
    for m in engine.mechanism_views() {
        buf.extend_from_slice(if any { b",\n  " } else { b"\n  " });
        any = true;
        string(&mut buf, m.id);
        buf.push(b':');
        mechanism(&mut buf, &m);
    }
    close(&mut buf, any, b'}');
    buf.extend_from_slice(b",\n \"members\":{");
    let keys = Keys::of(engine);
    let mut any = false;
    let mut written = Ok(());
    engine.for_each_member_view(|view| {
        if written.is_err() {
            return;
        }
        buf.extend_from_slice(if any { b",\n  " } else { b"\n  " });
        any = true;
        member(&mut buf, engine, &keys, view);
        each(view);
        if buf.len() > 1 << 16 {
            written = out.write_all(&buf);
            buf.clear();
        }
    });
    written?;
    close(&mut buf, any, b'}');
    if let Some(reviews) = engine.reviews() {
        buf.extend_from_slice(b",\n \"reviews\":[");
        for (i, r) in reviews.iter().enumerate() {
            buf.extend_from_slice(if i > 0 { b",\n  " } else { b"\n  " });
            serde_json::to_writer(&mut buf, &review_json(engine, r))?;
        }
        close(&mut buf, !reviews.is_empty(), b']');
    }
    if engine.plan().vote.is_some() || engine.proposals().next().is_some() {
        buf.extend_from_slice(b",\n \"proposals\":[");
        let mut any = false;
        for p in engine.proposals() {
            buf.extend_from_slice(if any { b",\n  " } else { b"\n  " });
            any = true;
            serde_json::to_writer(&mut buf, &proposal_json(&p))?;
        }
        close(&mut buf, any, b']');
    }
    buf.extend_from_slice(b",\n \"rejected\":[");
    for (i, r) in rejected.iter().enumerate() {
        buf.extend_from_slice(if i > 0 { b",\n  " } else { b"\n  " });
        let (code, error) = (r.refusal.code, &r.refusal.error);
        serde_json::to_writer(&mut buf, &json!({"line": r.line, "code": code, "error": error}))?;
    }
    close(&mut buf, !rejected.is_empty(), b']');
    buf.extend_from_slice(b",\n \"accounts_balance\":");
    buf.extend_from_slice(if engine.accounts_balance() { b"true" } else { b"false" });
    if let Some(events) = events {
        buf.extend_from_slice(b",\n \"events\":[");
        for (i, event) in events.iter().enumerate() {
            buf.extend_from_slice(if i > 0 { b",\n  " } else { b"\n  " });
            serde_json::to_writer(&mut buf, event)?;
            if buf.len() > 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        close(&mut buf, !events.is_empty(), b']');
    }
    buf.extend_from_slice(b"\n}");
    out.write_all(&buf)
}

/// `{ID: {...}, ...}`: the mechanisms as they stand under `mechanisms` in the state document,
/// or only the one with id `only`; `None` when there is no such mechanism.
pub fn mechanisms_json(engine: &Engine, only: Option<&str>) -> Option<Vec<u8>> {
    let mut buf = vec![b'{'];
    let mut any = false;
    for m in engine.mechanism_views().filter(|m| only.is_none_or(|id| id == m.id)) {
        if any {
            buf.push(b',');
        }
        any = true;
        string(&mut buf, m.id);
        buf.push(b':');
        mechanism(&mut buf, &m);
    }
    buf.push(b'}');
    (any || only.is_none()).then_some(buf)
}

/// One anti-fraud review as it stands under `reviews` in the state document: the member, the
/// referrer, the rules that fired with their evidence, the orders held (the referee's own, and
/// their downline's whose rewards above crossed the held referral), and the decision.
pub fn review_json(engine: &Engine, r: &fanli_engine::Review) -> Value {
    let decision = r.decision.map(
        |(approve, at)| json!({"decision": if approve { "approve" } else { "reject" }, "at": at.to_string()}),
    );
    let hits: Vec<Value> =
        r.hits.iter().map(|(rule, evidence)| json!({"rule": rule, "evidence": evidence})).collect();
    let orders: Vec<&str> = r.held_orders.iter().map(|&o| engine.order_name(o)).collect();
    let downline: Vec<&str> = r.downline_orders.iter().map(|&(o, _)| engine.order_name(o)).collect();
    json!({
        "member": engine.member_name(r.member), "referrer": engine.member_name(r.referrer),
        "status": engine.link(r.member).name(), "held_at": r.held_at.to_string(), "hits": hits,
        "held_orders": orders, "downline_orders": downline, "decision": decision,
    })
}

/// A proposal put to the members' vote, as the state document lists it.
pub fn proposal_json(p: &fanli_engine::ProposalView<'_>) -> Value {
    let mut v = json!({
        "id": p.id, "opened": p.opened.to_string(), "closes": p.closes.to_string(),
        "yes": p.yes, "no": p.no, "voters": p.voters,
    });
    if let Some(outcome) = &p.outcome {
        v["outcome"] = outcome_json(outcome);
    }
    v
}

fn outcome_json(o: &fanli_engine::Outcome) -> Value {
    let mut v = json!({"eligible": o.eligible, "quorum": o.quorum, "passed": o.passed});
    if let Some(at) = o.effective_at {
        v["effective_at"] = at.to_string().into();
    }
    if let Some(code) = &o.refused {
        v["refused"] = code.as_str().into();
    }
    v
}

/// `{ID: {...}}`: one member as they stand under `members` in the state document.
pub fn member_json<W: std::io::Write>(engine: &Engine, member: MemberId, mut out: W) -> std::io::Result<()> {
    let mut buf = Vec::new();
    buf.push(b'{');
    self::member(&mut buf, engine, &Keys::of(engine), &engine.member_view_of(member));
    buf.push(b'}');
    out.write_all(&buf)
}

fn close(buf: &mut Vec<u8>, any: bool, bracket: u8) {
    if any {
        buf.extend_from_slice(b"\n ");
    }
    buf.push(bracket);
}

/// A JSON string: copied as it is when nothing in it needs escaping, else through serde_json.
fn string(buf: &mut Vec<u8>, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push(b'"');
        buf.extend_from_slice(text.as_bytes());
        buf.push(b'"');
    } else {
        serde_json::to_writer(&mut *buf, text).expect("writing to memory");
    }
}

/// `,"key":` (or without the comma for the first key of an object).
fn key(buf: &mut Vec<u8>, first: bool, key: &str) {
    if !first {
        buf.push(b',');
    }
    buf.push(b'"');
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":");
}

/// A number of `1/10^D` units with exactly `D` places, straight into the buffer, in quotes when
/// `QUOTED`: the state of a large run holds millions of them. `D` is 2 (money) or 4 (points,
/// prices).
///
/// Nearly half the figures of a large run's state are zero (nothing owed, no credit): those are
/// one copy of a constant, inlined where the figure is written (no call).
#[inline(always)]
fn fixed_point<const D: u32, const QUOTED: bool>(buf: &mut Vec<u8>, units: i64) {
    if units == 0 {
        return buf.extend_from_slice(match (D, QUOTED) {
            (2, false) => b"0.00",
            (2, true) => b"\"0.00\"",
            (_, false) => b"0.0000",
            (_, true) => b"\"0.0000\"",
        });
    }
    nonzero::<D, QUOTED>(buf, units);
}

/// [`fixed_point`] of a number other than zero. The text (at most 16 bytes for an integer part
/// of up to 8 digits: quotes, sign, digits, point, places) is built in a `u128` from its last
/// byte to its first, each byte or pair of digits put in front by a shift of a constant width,
/// then appended as 16 bytes, the extra ones cut off after: a copy of a constant length, where
/// copying the text's own length from a stack array was a call to `memcpy` each figure (~20
/// instructions; callgrind, issue 19). Longer numbers take the stack array.
#[inline(never)]
fn nonzero<const D: u32, const QUOTED: bool>(buf: &mut Vec<u8>, units: i64) {
    debug_assert!(D == 2 || D == 4, "{D} places");
    let abs = units.unsigned_abs();
    let (mut int, frac) = if D == 2 { (abs / 100, abs % 100) } else { (abs / 10_000, abs % 10_000) };
    if int >= 100_000_000 {
        return long::<D, QUOTED>(buf, units);
    }
    // The text's bytes so far, its first byte lowest (`to_le_bytes` lays them out in order).
    let (mut text, mut len) = if QUOTED { (u128::from(b'"'), 1) } else { (0u128, 0) };
    /// Puts two digits in front of `text`.
    fn pair(text: u128, two: u64) -> u128 {
        text << 16 | u128::from(PAIRS_LE[two as usize])
    }
    if D == 2 {
        text = pair(text, frac);
    } else {
        text = pair(pair(text, frac % 100), frac / 100);
    }
    text = text << 8 | u128::from(b'.');
    len += D as usize + 1;
    while int >= 100 {
        text = pair(text, int % 100);
        len += 2;
        int /= 100;
    }
    if int >= 10 {
        text = pair(text, int);
        len += 2;
    } else {
        text = text << 8 | u128::from(b'0' + int as u8);
        len += 1;
    }
    if units < 0 {
        text = text << 8 | u128::from(b'-');
        len += 1;
    }
    if QUOTED {
        text = text << 8 | u128::from(b'"');
        len += 1;
    }
    let at = buf.len();
    buf.extend_from_slice(&text.to_le_bytes());
    buf.truncate(at + len);
}

/// [`nonzero`] of an integer part of 9 digits or more: written from the right into a stack
/// array and copied once.
#[cold]
fn long<const D: u32, const QUOTED: bool>(buf: &mut Vec<u8>, units: i64) {
    // A quote, "-" and 19 integer digits (u64::MAX / 100 has 18), the point, 4 places, a quote.
    let mut out = [0u8; 27];
    let mut at = out.len();
    let (mut int, frac) = match D {
        2 => (units.unsigned_abs() / 100, units.unsigned_abs() % 100),
        _ => (units.unsigned_abs() / 10_000, units.unsigned_abs() % 10_000),
    };
    fn pair(out: &mut [u8; 27], at: &mut usize, two: u64) {
        *at -= 2;
        let i = 2 * two as usize;
        out[*at..*at + 2].copy_from_slice(&PAIRS[i..i + 2]);
    }
    if QUOTED {
        at -= 1;
        out[at] = b'"';
    }
    if D == 2 {
        pair(&mut out, &mut at, frac);
    } else {
        pair(&mut out, &mut at, frac % 100);
        pair(&mut out, &mut at, frac / 100);
    }
    at -= 1;
    out[at] = b'.';
    while int >= 100 {
        pair(&mut out, &mut at, int % 100);
        int /= 100;
    }
    if int >= 10 {
        pair(&mut out, &mut at, int);
    } else {
        at -= 1;
        out[at] = b'0' + int as u8;
    }
    if units < 0 {
        at -= 1;
        out[at] = b'-';
    }
    if QUOTED {
        at -= 1;
        out[at] = b'"';
    }
    buf.extend_from_slice(&out[at..]);
}

/// "00" to "99", two bytes each.
const PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        pairs[2 * i] = b'0' + (i / 10) as u8;
        pairs[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    pairs
};

/// "00" to "99" as `u16`s whose little-endian bytes are the two digits: the tens digit in the
/// low byte.
const PAIRS_LE: [u16; 100] = {
    let mut pairs = [0u16; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = (b'0' as u16 + (i / 10) as u16) | (b'0' as u16 + (i % 10) as u16) << 8;
        i += 1;
    }
    pairs
};

/// An amount in a JSON value position, as the document writes every figure.
trait Scaled {
    /// The figure, unquoted, or in quotes when `QUOTED`.
    fn write_as<const QUOTED: bool>(self, buf: &mut Vec<u8>);

    /// The figure, unquoted.
    fn write(self, buf: &mut Vec<u8>)
    where
        Self: Sized,
    {
        self.write_as::<false>(buf);
    }
}

impl Scaled for Money {
    #[inline(always)]
    fn write_as<const QUOTED: bool>(self, buf: &mut Vec<u8>) {
        fixed_point::<2, QUOTED>(buf, self.fen());
    }
}

impl Scaled for Points {
    #[inline(always)]
    fn write_as<const QUOTED: bool>(self, buf: &mut Vec<u8>) {
        fixed_point::<4, QUOTED>(buf, self.units());
    }
}

impl Scaled for Price {
    fn write_as<const QUOTED: bool>(self, buf: &mut Vec<u8>) {
        match i64::try_from(self.display_units()) {
            Ok(units) => fixed_point::<4, QUOTED>(buf, units),
            Err(_) => {
                if QUOTED {
                    buf.push(b'"');
                }
                buf.extend_from_slice(self.display().as_bytes());
                if QUOTED {
                    buf.push(b'"');
                }
            }
        }
    }
}

/// A figure as a JSON string.
#[inline(always)]
fn fixed(buf: &mut Vec<u8>, value: impl Scaled) {
    value.write_as::<true>(buf);
}

/// `literal`, then a figure, unquoted: the literal carries the quotes around it.
fn then(buf: &mut Vec<u8>, literal: &[u8], value: impl Scaled) {
    buf.extend_from_slice(literal);
    value.write(buf);
}

/// A count: most in a large run's state are a single digit (a member's referrals, lots,
/// entries), one byte pushed; others through `itoa` (a copy of a length known only at run time).
#[inline(always)]
fn integer(buf: &mut Vec<u8>, n: u64) {
    if n < 10 {
        buf.push(b'0' + n as u8);
    } else {
        buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
}

/// Each mechanism's key in a member's line (`,"ID":`, the id as it is, as [`key`] writes it),
/// and whether members hold its points: looked up and made once a document, not once a member.
struct Keys {
    mechanisms: Vec<(Vec<u8>, bool)>,
}

impl Keys {
    fn of(engine: &Engine) -> Keys {
        let mechanisms = engine
            .mechanism_ids()
            .map(|m| {
                let mut json = Vec::new();
                key(&mut json, false, engine.mechanism_name(m));
                (json, engine.has_points(m))
            })
            .collect();
        Keys { mechanisms }
    }

    /// Mechanism `m`'s key, without the comma for the first of an object.
    fn key(&self, m: fanli_engine::MechanismId, first: bool) -> &[u8] {
        &self.mechanisms[m.index()].0[usize::from(first)..]
    }

    fn has_points(&self, m: fanli_engine::MechanismId) -> bool {
        self.mechanisms[m.index()].1
    }
}

/// One member: `wallet`, `credit`, `spent`, `points.{ID}`, then what they have beyond that.
fn member(buf: &mut Vec<u8>, engine: &Engine, keys: &Keys, v: &MemberView<'_>) {
    string(buf, v.name);
    then(buf, b":{\"wallet\":\"", v.wallet);
    then(buf, b"\",\"credit\":\"", v.credit);
    then(buf, b"\",\"spent\":\"", v.spent);
    buf.extend_from_slice(b"\",\"points\":{");
    let mut first = true;
    for m in &v.mechanisms {
        if keys.has_points(m.mechanism) {
            buf.extend_from_slice(keys.key(m.mechanism, first));
            fixed(buf, engine.points(m.mechanism, v.id));
            first = false;
        }
    }
    buf.push(b'}');
    if let Some(team_sales) = v.team_sales {
        buf.extend_from_slice(b",\"team_sales\":");
        fixed(buf, team_sales);
    }
    if let Some(withdrawing) = v.withdrawing {
        buf.extend_from_slice(b",\"withdrawing\":");
        fixed(buf, withdrawing);
    }
    if let Some(referrer) = v.referrer {
        buf.extend_from_slice(b",\"referrer\":");
        string(buf, referrer);
    }
    if v.referral != fanli_engine::Link::Clear {
        buf.extend_from_slice(b",\"referral\":");
        string(buf, v.referral.name());
    }
    if !v.refunded.is_zero() {
        buf.extend_from_slice(b",\"refunded\":");
        fixed(buf, v.refunded);
    }
    // One pass: `mechanisms` is opened at the first mechanism shown (each `shown` is a match
    // over the kinds, for every mechanism of every member).
    let mut first = true;
    for m in v.mechanisms.iter().filter(|m| m.shown()) {
        if first {
            buf.extend_from_slice(b",\"mechanisms\":{");
        }
        buf.extend_from_slice(keys.key(m.mechanism, first));
        then(buf, b"{\"received\":\"", m.received);
        then(buf, b"\",\"owed\":\"", m.owed);
        buf.push(b'"');
        m.detail.write(&mut Json { buf, first: false });
        buf.push(b'}');
        first = false;
    }
    if !first {
        buf.push(b'}');
    }
    buf.push(b'}');
}

/// A view's figures as JSON members, after those already written (`first`: none yet).
struct Json<'b> {
    buf: &'b mut Vec<u8>,
    first: bool,
}

impl Json<'_> {
    #[inline(always)]
    fn key(&mut self, key: Key) {
        // Each case its own copy, of a length known where it is inlined; after a figure of the
        // same view `first` is known, and the comma is part of the one copy.
        if self.first {
            self.buf.extend_from_slice(key.json(true));
        } else {
            self.buf.extend_from_slice(key.json(false));
        }
        self.first = false;
    }
}

impl Fields for Json<'_> {
    // Inlined into each view's `write`, where the figure's type and key are known: the `match`
    // and the key's copy fold away (a state holds millions of figures).
    #[inline(always)]
    fn figure(&mut self, name: Key, figure: Figure<'_>) {
        self.key(name);
        let buf = &mut *self.buf;
        match figure {
            Figure::Money(m) => fixed(buf, m),
            Figure::Points(p) => fixed(buf, p),
            Figure::Price(p) => fixed(buf, p),
            Figure::Count(n) => integer(buf, n),
            Figure::Text(text) => string(buf, text),
            Figure::Of { done, of } => {
                buf.push(b'"');
                integer(buf, done);
                buf.extend_from_slice(b" of ");
                integer(buf, of);
                buf.push(b'"');
            }
            // RFC 3339 needs no escaping: its digits straight into the buffer, not a `String`.
            Figure::Time(at) => {
                buf.push(b'"');
                at.write_rfc3339(buf);
                buf.push(b'"');
            }
            Figure::Null => buf.extend_from_slice(b"null"),
        }
    }

    fn object(&mut self, name: Key, fill: impl FnOnce(&mut Self)) {
        self.key(name);
        self.buf.push(b'{');
        self.first = true;
        fill(self);
        self.buf.push(b'}');
        self.first = false;
    }

    fn list<T>(&mut self, name: Key, items: &[T], mut fill: impl FnMut(&mut Self, &T)) {
        self.key(name);
        self.buf.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.buf.push(b'{');
            self.first = true;
            fill(self, item);
            self.buf.push(b'}');
        }
        self.buf.push(b']');
        self.first = false;
    }
}

/// One mechanism: `kind`, `pool`, `obligations`, `paid`, and the kind's own figures.
fn mechanism(buf: &mut Vec<u8>, m: &MechanismView<'_>) {
    buf.extend_from_slice(b"{\"kind\":");
    string(buf, m.kind);
    then(buf, b",\"pool\":\"", m.pool);
    then(buf, b"\",\"obligations\":\"", m.obligations);
    buf.extend_from_slice(b"\",\"obligations_waiting\":");
    integer(buf, m.obligations_waiting as u64);
    then(buf, b",\"paid\":\"", m.paid);
    buf.push(b'"');
    if let Some(paused) = m.paused {
        buf.extend_from_slice(if paused { b",\"paused\":true" } else { b",\"paused\":false" });
    }
    if m.retired {
        buf.extend_from_slice(b",\"retired\":true");
    }
    if let Some(c) = m.clawback {
        then(buf, b",\"clawback\":{\"cancelled\":\"", c.cancelled);
        then(buf, b"\",\"kept\":\"", c.kept);
        then(buf, b"\",\"points_taken\":\"", c.points_taken);
        then(buf, b"\",\"points_kept\":\"", c.points_kept);
        buf.extend_from_slice(b"\"}");
    }
    m.detail.write(&mut Json { buf, first: false });
    buf.push(b'}');
}

/// The trace entry of a blank line: skipped (as the server answers one), and listed all the
/// same, because the trace has an entry per input line (entry `i` is line `i + 1`).
pub fn blank_entry(line: usize) -> Value {
    json!({"index": line, "ok": true, "type": "", "skipped": "a blank line", "postings": [], "effects": []})
}

/// One trace entry: the line, and what applying it did (or why it was refused).
pub fn trace_entry(
    engine: &Engine,
    line: usize,
    kind: &str,
    outcome: Result<Applied<'_>, &Refusal>,
) -> Value {
    let applied = match outcome {
        // A rejected line changed nothing: no postings, no effects (listed, so that every entry
        // has the same fields).
        Err(refusal) => {
            let (code, error) = (refusal.code, &refusal.error);
            return json!({
                "index": line, "ok": false, "type": kind, "code": code, "error": error,
                "postings": [], "effects": [],
            });
        }
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
        Account::Withdrawals => "withdrawals".to_owned(),
        Account::Pool(m) => format!("pool:{}", mech(m)),
        Account::Wallet(id) => format!("member:{}:wallet", member(id)),
        Account::Credit(id) => format!("member:{}:credit", member(id)),
        Account::Issued(m) => format!("issued:{}", mech(m)),
        Account::Points(m, id) => format!("member:{}:points:{}", member(id), mech(m)),
    }
}

/// What the last applied event should tell the tenant's webhook, each with its `type`:
/// `reward_paid` (cash from a mechanism's pool to a member's wallet or credit, other than the
/// member's own sale or a forced exit), `exit` (a forced exit, 出局), `expiry_reminder` (loyalty
/// points about to expire) and `review_needed` (anti-fraud held a referral). Empty unless the
/// engine records ([`Engine::record`]).
pub fn notifications(engine: &Engine) -> Vec<Value> {
    let applied = engine.applied();
    let mut out = Vec::new();
    for p in applied.postings {
        let (Account::Pool(m), Account::Wallet(member) | Account::Credit(member)) = (p.from, p.to) else {
            continue;
        };
        if matches!(p.rule, fanli_engine::Rule::Sell | fanli_engine::Rule::Exit) {
            continue;
        }
        out.push(json!({
            "type": "reward_paid", "member": engine.member_name(member),
            "amount": Money::from_fen(p.amount).to_string(),
            "to": if matches!(p.to, Account::Wallet(_)) { "wallet" } else { "credit" },
            "mechanism": engine.mechanism_name(m), "rule": p.rule.name(),
        }));
    }
    for e in applied.effects {
        let kind = match e {
            Effect::Sold { forced: true, .. } => "exit",
            Effect::ExpiryReminder { .. } => "expiry_reminder",
            Effect::Held { .. } => "review_needed",
            _ => continue,
        };
        let mut v = effect(engine, e);
        if let Some(fields) = v.as_object_mut() {
            fields.remove("effect");
        }
        let mut notification = json!({"type": kind});
        notification.as_object_mut().expect("an object").extend(v.as_object().cloned().unwrap_or_default());
        out.push(notification);
    }
    out
}

/// What the last applied event did to each member it touched: for each member (in the order
/// first touched), each movement into or out of their accounts as `[rule, mechanism, account,
/// amount]`, the account `wallet`, `credit` or `points`, the amount signed from the member's side
/// (`+100.00` in, `-10.00` out; points with 4 decimals). Compact, since the server keeps one such
/// row per member and event. Empty unless the engine records ([`Engine::record`]).
pub fn member_postings(engine: &Engine) -> Vec<(fanli_engine::MemberId, Vec<Value>)> {
    let mut out: Vec<(fanli_engine::MemberId, Vec<Value>)> = Vec::new();
    let side = |a: Account| match a {
        Account::Wallet(m) => Some((m, "wallet")),
        Account::Credit(m) => Some((m, "credit")),
        Account::Points(_, m) => Some((m, "points")),
        _ => None,
    };
    for p in engine.applied().postings {
        let amount = |sign: char| match p.asset() {
            Asset::Cash => format!("{sign}{}", Money::from_fen(p.amount)),
            Asset::Points(_) => format!("{sign}{}", Points::from_units(p.amount)),
        };
        let mechanism = p.mechanism.map_or("", |m| engine.mechanism_name(m));
        for (account, sign) in [(p.from, '-'), (p.to, '+')] {
            let Some((member, kind)) = side(account) else { continue };
            let row = json!([p.rule.name(), mechanism, kind, amount(sign)]);
            match out.iter_mut().find(|(m, _)| *m == member) {
                Some((_, rows)) => rows.push(row),
                None => out.push((member, vec![row])),
            }
        }
    }
    out
}

/// [`member_postings`] as the server stores it: each member's rows as one JSON array, the bytes
/// `Value::Array(rows).to_string()` gives, written straight out (a batch of events makes one
/// or more for each event, on the commit's path).
///
/// Members are found among those already written by a scan while they are few (most events
/// move one to a handful), by a map once an event has moved more than `SCAN_UP_TO`: a day's
/// close paying a pool to thousands of members was a scan per posting over all of them
/// (quadratic; 5% of all samples in `xtask load --events 2000000`).
pub fn member_history(engine: &Engine) -> Vec<(fanli_engine::MemberId, String)> {
    /// Members of an event found by a scan; past this many, by `index`.
    const SCAN_UP_TO: usize = 16;
    let mut out: Vec<(fanli_engine::MemberId, Vec<u8>)> = Vec::new();
    // Each member's place in `out`, once it holds more than `SCAN_UP_TO`.
    let mut index: std::collections::HashMap<fanli_engine::MemberId, usize> =
        std::collections::HashMap::new();
    for p in engine.applied().postings {
        let mechanism = p.mechanism.map_or("", |m| engine.mechanism_name(m));
        for (account, sign) in [(p.from, b'-'), (p.to, b'+')] {
            let (member, kind): (_, &[u8]) = match account {
                Account::Wallet(m) => (m, b"\"wallet\",\""),
                Account::Credit(m) => (m, b"\"credit\",\""),
                Account::Points(_, m) => (m, b"\"points\",\""),
                _ => continue,
            };
            let found = if out.len() <= SCAN_UP_TO {
                out.iter().position(|(m, _)| *m == member)
            } else {
                if index.is_empty() {
                    index.extend(out.iter().enumerate().map(|(i, (m, _))| (*m, i)));
                }
                index.get(&member).copied()
            };
            let buf = match found {
                Some(i) => {
                    out[i].1.push(b',');
                    &mut out[i].1
                }
                None => {
                    if !index.is_empty() {
                        index.insert(member, out.len());
                    }
                    out.push((member, Vec::with_capacity(96)));
                    let buf = &mut out.last_mut().expect("just pushed").1;
                    buf.push(b'[');
                    buf
                }
            };
            buf.push(b'[');
            string(buf, p.rule.name());
            buf.push(b',');
            string(buf, mechanism);
            buf.push(b',');
            buf.extend_from_slice(kind);
            buf.push(sign);
            match p.asset() {
                Asset::Cash => Money::from_fen(p.amount).write(buf),
                Asset::Points(_) => Points::from_units(p.amount).write(buf),
            }
            buf.extend_from_slice(b"\"]");
        }
    }
    out.into_iter()
        .map(|(member, mut buf)| {
            buf.push(b']');
            (member, String::from_utf8(buf).expect("JSON written from strings"))
        })
        .collect()
}

/// A line of a member's history read back, typed: the event's type and time (from its line of
/// the log) and the member's movements in it (what [`member_postings`] wrote).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The event's `type`.
    pub kind: String,
    /// When it happened.
    pub at: fanli_engine::Timestamp,
    /// The member's movements, in posting order.
    pub movements: Vec<Movement>,
}

/// One movement into or out of a member's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    /// The ledger rule (`payment`, `release`, …).
    pub rule: String,
    /// The mechanism's id; empty for a movement of no mechanism.
    pub mechanism: String,
    /// `wallet`, `credit` or `points`.
    pub account: String,
    /// How much, signed from the member's side.
    pub amount: Signed,
}

/// An amount moved, negative when it left the member's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    /// Cash (wallet or credit).
    Money(Money),
    /// Points.
    Points(Points),
}

impl Signed {
    /// Whether it left the member's account.
    pub fn is_out(self) -> bool {
        match self {
            Signed::Money(m) => m.fen() < 0,
            Signed::Points(p) => p.units() < 0,
        }
    }

    /// Reads `+100.00` / `-1.5000` as [`member_postings`] wrote it (cash for `wallet` and
    /// `credit`, points for `points`).
    fn parse(text: &str, points: bool) -> Option<Signed> {
        let (negative, digits) = match text.as_bytes().first()? {
            b'+' => (false, &text[1..]),
            b'-' => (true, &text[1..]),
            _ => return None,
        };
        let sign = if negative { -1 } else { 1 };
        Some(if points {
            Signed::Points(Points::from_units(sign * Points::parse(digits).ok()?.units()))
        } else {
            Signed::Money(Money::from_fen(sign * Money::parse(digits).ok()?.fen()))
        })
    }
}

impl std::fmt::Display for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plus = if self.is_out() { "" } else { "+" };
        match self {
            Signed::Money(m) => write!(f, "{plus}{m}"),
            Signed::Points(p) => write!(f, "{plus}{p}"),
        }
    }
}

impl HistoryEntry {
    /// Reads an entry from the event's line of the log and the member's movements as the
    /// server keeps them; `None` for text that is not one.
    pub fn parse(event: &str, movements: &str) -> Option<HistoryEntry> {
        let event: Value = serde_json::from_str(event).ok()?;
        let rows: Vec<Value> = serde_json::from_str(movements).ok()?;
        let movements = rows
            .iter()
            .map(|row| {
                let text = |i: usize| row[i].as_str().map(str::to_owned);
                let account = text(2)?;
                let amount = Signed::parse(row[3].as_str()?, account == "points")?;
                Some(Movement { rule: text(0)?, mechanism: text(1)?, account, amount })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(HistoryEntry {
            kind: event["type"].as_str()?.to_owned(),
            at: fanli_engine::Timestamp::parse_rfc3339(event["at"].as_str()?)?,
            movements,
        })
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
        Effect::Repurchase { mechanism, member, count, step, of, reward } => json!({
            "effect": "repurchase", "mechanism": mech(mechanism), "member": name(member),
            "orders": count, "step": step, "of": of,
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
        Effect::Commission { mechanism, member, buyer, rule, amount } => json!({
            "effect": "commission", "mechanism": mech(mechanism), "member": name(member),
            "buyer": name(buyer), "rule": rule.name(), "amount": amount.to_string(),
        }),
        Effect::Returned { mechanism, amount } => json!({
            "effect": "returned", "mechanism": mech(mechanism), "amount": amount.to_string(),
        }),
        Effect::Granted { mechanism, member, points, daily } => json!({
            "effect": "granted", "mechanism": mech(mechanism), "member": name(member),
            "points": points.to_string(), "daily": daily.to_string(),
        }),
        Effect::GreenReleased { mechanism, member, from, rule, amount } => json!({
            "effect": "released", "mechanism": mech(mechanism), "member": name(member),
            "from": name(from), "rule": rule.name(), "amount": amount.to_string(),
        }),
        Effect::Dividend { mechanism, member, rule, amount } => json!({
            "effect": rule.name(), "mechanism": mech(mechanism), "member": name(member),
            "amount": amount.to_string(),
        }),
        Effect::AdViewed { mechanism, member, views, reward } => json!({
            "effect": "ad_view", "mechanism": mech(mechanism), "member": name(member),
            "views_today": views, "reward": reward.to_string(),
        }),
        Effect::Earned { mechanism, member, points, rule } => json!({
            "effect": rule.name(), "mechanism": mech(mechanism), "member": name(member),
            "points": points.to_string(),
        }),
        Effect::ExpiryReminder { mechanism, member, points, expires, days } => json!({
            "effect": "expiry_reminder", "mechanism": mech(mechanism), "member": name(member),
            "points": points.to_string(), "expires": expires.to_string(), "days_before": days,
        }),
        Effect::Expired { mechanism, member, points } => json!({
            "effect": "expired", "mechanism": mech(mechanism), "member": name(member),
            "points": points.to_string(),
        }),
        Effect::Redeemed { mechanism, member, reward, points } => json!({
            "effect": "redeemed", "mechanism": mech(mechanism), "member": name(member),
            "reward": loyalty_reward(engine, mechanism, reward as usize), "points": points.to_string(),
        }),
        Effect::CashedOut { mechanism, member, points, cash } => json!({
            "effect": "cashed_out", "mechanism": mech(mechanism), "member": name(member),
            "points": points.to_string(), "cash": cash.to_string(),
        }),
        Effect::PartnerRedeemed { mechanism, member, partner, points } => json!({
            "effect": "redeemed", "mechanism": mech(mechanism), "member": name(member),
            "partner": coalition_partner(engine, mechanism, partner as usize), "points": points.to_string(),
        }),
        Effect::Paused { mechanism, owed, pool } => json!({
            "effect": "paused", "mechanism": mech(mechanism), "owed": owed.to_string(), "pool": pool.to_string(),
        }),
        Effect::Resumed { mechanism } => json!({"effect": "resumed", "mechanism": mech(mechanism)}),
        Effect::WithdrawalHeld { member, amount } => json!({
            "effect": "withdrawal_held", "member": name(member), "amount": amount.to_string(),
        }),
        Effect::WithdrawalPaid { member, amount, fee } => json!({
            "effect": "withdrawal_paid", "member": name(member), "amount": amount.to_string(), "fee": fee.to_string(),
        }),
        Effect::WithdrawalReturned { member, amount } => json!({
            "effect": "withdrawal_returned", "member": name(member), "amount": amount.to_string(),
        }),
        Effect::ProposalOpened { proposal, closes } => json!({
            "effect": "proposal_opened", "proposal": engine.proposal_name(proposal), "closes": closes.to_string(),
        }),
        Effect::Voted { proposal, member, yes, weight } => json!({
            "effect": "voted", "proposal": engine.proposal_name(proposal), "member": name(member),
            "vote": if yes { "yes" } else { "no" }, "weight": weight,
        }),
        Effect::Tallied { proposal } => {
            let mut v = engine.proposal_outcome(proposal).map_or(json!({}), outcome_json);
            v["effect"] = "tallied".into();
            v["proposal"] = engine.proposal_name(proposal).into();
            v
        }
        Effect::PlanAmended { effective_at } => {
            json!({"effect": "plan_amended", "effective_at": effective_at.to_string()})
        }
        Effect::MechanismAdded { mechanism } => {
            json!({"effect": "mechanism_added", "mechanism": mech(mechanism)})
        }
        Effect::MechanismRetired { mechanism } => {
            json!({"effect": "mechanism_retired", "mechanism": mech(mechanism)})
        }
        Effect::HeldBack { mechanism, member } => json!({
            "effect": "held_back", "mechanism": mech(mechanism), "member": name(member),
        }),
        Effect::ClawedBack { mechanism, order: o, totals } => json!({
            "effect": "clawback", "mechanism": mech(mechanism), "order": order(o),
            "cancelled": totals.cancelled.to_string(), "kept": totals.kept.to_string(),
            "points_taken": totals.points_taken.to_string(), "points_kept": totals.points_kept.to_string(),
        }),
        Effect::Held { member, review } => {
            let hits: Vec<Value> =
                engine.reviews().and_then(|r| r.get(review as usize)).map_or(Vec::new(), |r| {
                    r.hits
                        .iter()
                        .map(|(rule, evidence)| json!({"rule": rule, "evidence": evidence}))
                        .collect()
                });
            json!({"effect": "held_for_review", "member": name(member), "hits": hits})
        }
        Effect::Reviewed { member, approved } => json!({
            "effect": "reviewed", "member": name(member),
            "decision": if approved { "approve" } else { "reject" },
        }),
        Effect::ObligationPaid { mechanism, member, amount, remaining } => json!({
            "effect": "obligation_paid", "mechanism": mech(mechanism), "member": name(member),
            "amount": amount.to_string(), "remaining": remaining.to_string(),
        }),
    }
}

/// The name of reward `reward` of a loyalty mechanism's catalogue.
fn loyalty_reward(engine: &Engine, mechanism: fanli_engine::MechanismId, reward: usize) -> &str {
    let loyalty = engine.plan().mechanisms[mechanism.index()].kind.get::<LoyaltyConfig>();
    loyalty.and_then(|l| l.rewards.get(reward)).map_or("", |r| r.name.as_str())
}

/// The id of partner `partner` of a coalition mechanism.
fn coalition_partner(engine: &Engine, mechanism: fanli_engine::MechanismId, partner: usize) -> &str {
    let coalition = engine.plan().mechanisms[mechanism.index()].kind.get::<CoalitionConfig>();
    coalition.and_then(|c| c.partners.get(partner)).map_or("", |p| p.id.as_str())
}

/// `fanli check --json`: the plan's compliance findings, each with the line of its key.
pub fn findings_json(
    plan: &str,
    findings: &[fanli_engine::compliance::Finding],
    lines: &crate::KeyLines,
) -> Value {
    use fanli_engine::compliance::Level;
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    let list: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "level": f.level.name(), "rule": f.rule, "mechanism": f.mechanism, "key": f.key,
                "line": lines.line(&f.key), "zh": f.zh, "en": f.en, "fix": f.fix,
            })
        })
        .collect();
    json!({
        "plan": plan,
        "compliant": count(Level::Error) == 0,
        "errors": count(Level::Error),
        "warnings": count(Level::Warning),
        "findings": list,
    })
}

/// A published daily pool report read back (what [`pool_report`] wrote), typed: the console's
/// pool history and charts read these, not JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyReport {
    /// When the day closed, as the `close_day` event said (RFC 3339).
    pub at: String,
    /// The audit chain's head at that line.
    pub chain: String,
    /// Each mechanism's figures, in plan order.
    pub mechanisms: Vec<PoolFigures>,
}

/// One mechanism's line of a [`DailyReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolFigures {
    /// The mechanism's id.
    pub id: String,
    /// What its pool held.
    pub pool: Money,
    /// What it owed and could not pay yet.
    pub obligations: Money,
    /// What it had paid out in all.
    pub paid: Money,
    /// Its points' price as published: yuan a point, rounded to 4 places for people (never
    /// computed with; the exact price is a ratio the engine keeps).
    pub price: Option<String>,
}

impl DailyReport {
    /// Reads a report as the store keeps it; `None` for a document that is not one.
    pub fn parse(text: &str) -> Option<DailyReport> {
        let doc: Value = serde_json::from_str(text).ok()?;
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let money = |v: &Value| v.as_str().and_then(|s| Money::parse(s).ok());
        let mechanisms = doc["mechanisms"]
            .as_object()?
            .iter()
            .map(|(id, m)| {
                Some(PoolFigures {
                    id: id.clone(),
                    pool: money(&m["pool"])?,
                    obligations: money(&m["obligations"])?,
                    paid: money(&m["paid"])?,
                    price: m.get("price").and_then(text),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(DailyReport { at: text(&doc["at"])?, chain: text(&doc["chain"])?, mechanisms })
    }

    /// The figures of the mechanism `id`, if the report has it.
    pub fn of(&self, id: &str) -> Option<&PoolFigures> {
        self.mechanisms.iter().find(|m| m.id == id)
    }
}

/// The daily pool report: after a `close_day` at `at`, each mechanism's pool, obligations and
/// paid (and price, for appreciation), with the audit chain's head at that line, so that a
/// published report pins the log up to it.
pub fn pool_report(engine: &Engine, at: fanli_engine::Timestamp, chain: &str) -> Value {
    let mut mechanisms = serde_json::Map::new();
    for m in engine.mechanism_views() {
        let mut v = json!({
            "pool": m.pool.to_string(), "obligations": m.obligations.to_string(), "paid": m.paid.to_string(),
        });
        if let Some(price) = m.price {
            v["price"] = price.display().to_string().into();
        }
        mechanisms.insert(m.id.to_owned(), v);
    }
    json!({"at": at.to_string(), "chain": chain, "mechanisms": mechanisms})
}

#[cfg(test)]
mod fixed_point_tests {
    /// The plain way, that `fixed_point` must match byte for byte.
    fn plain(units: i64, decimals: u32) -> String {
        let scale = 10u64.pow(decimals);
        let abs = units.unsigned_abs();
        let sign = if units < 0 { "-" } else { "" };
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = decimals as usize)
    }

    #[test]
    fn writes_what_format_writes() {
        let mut cases =
            vec![0, 1, -1, 9, 10, 99, 100, 101, -100, 12_345, -99_999, i64::MAX, i64::MIN, i64::MIN + 1];
        // Around the longest integer part of the short path (8 digits), for both scales.
        for edge in [9_999_999_999, 10_000_000_000, 999_999_999_999, 1_000_000_000_000] {
            cases.extend([edge - 1, edge, edge + 1, -edge + 1, -edge, -edge - 1]);
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x as i64) >> (x % 60));
        }
        for units in cases {
            for decimals in [2, 4] {
                let mut buf = b"x".to_vec();
                let mut quoted = b"x".to_vec();
                if decimals == 2 {
                    super::fixed_point::<2, false>(&mut buf, units);
                    super::fixed_point::<2, true>(&mut quoted, units);
                } else {
                    super::fixed_point::<4, false>(&mut buf, units);
                    super::fixed_point::<4, true>(&mut quoted, units);
                }
                assert_eq!(String::from_utf8(buf).unwrap(), format!("x{}", plain(units, decimals)));
                assert_eq!(String::from_utf8(quoted).unwrap(), format!("x\"{}\"", plain(units, decimals)));
            }
        }
    }
}
