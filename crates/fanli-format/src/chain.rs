//! The audit chain: every accepted event in a canonical form, each line carrying the SHA-256 of
//! the line before it, so that anyone holding the log can check that nothing was altered,
//! dropped or reordered, replay it and get the same balances.
//!
//! A chained line is the event's canonical JSON with `prev` first:
//! `{"prev":"<64 hex>","at":"2026-01-01T01:00:00Z","type":"order",...}`. The canonical form
//! has the keys of the event's type in one fixed order, `at` in UTC, money with 2 decimals and
//! points with 4, and leaves out fields that are absent, so the same event always gives the same
//! bytes whatever its source looked like. The first line's `prev` is 64 zeros. The hash covers
//! the whole line (its own `prev` included) without the newline.

use fanli_engine::{Engine, Event, EventKind, Order, SellAmount};

use crate::EventLine;
use crate::line::LineOutcome;
use sha2::{Digest, Sha256};

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A hash chain being written or checked: the hash of the last line.
#[derive(Clone, Debug)]
pub struct Chain {
    head: String,
    lines: u64,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain { head: GENESIS.to_owned(), lines: 0 }
    }
}

impl Chain {
    /// A chain that has `lines` lines, the last hashing to `head`: where a snapshot left it.
    pub fn resume(head: String, lines: u64) -> Chain {
        Chain { head, lines }
    }

    /// The hash of the last line (the genesis value before any).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Lines chained so far.
    pub fn len(&self) -> u64 {
        self.lines
    }

    /// Whether no line is chained yet.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// The chained line for `event` (no newline), which becomes the head.
    pub fn link(&mut self, event: &Event<'_>) -> String {
        let line = chained(&self.head, event);
        self.advance(&line);
        line
    }

    /// After an applied `close_day`, the day's pool report, pinned to the chain's head (call it
    /// once the event is linked); nothing after any other event.
    pub fn report(&self, engine: &Engine, event: &Event<'_>) -> Option<serde_json::Value> {
        matches!(event.kind, EventKind::CloseDay).then(|| crate::pool_report(engine, event.at, self.head()))
    }

    /// Takes `line` (as read, no newline) as the next line: it becomes the head.
    pub fn advance(&mut self, line: &str) {
        self.head = sha256_hex(line.as_bytes());
        self.lines += 1;
    }
}

/// The SHA-256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::merkle::to_hex(&Sha256::digest(bytes))
}

/// `event` in canonical form with `prev` first.
fn chained(prev: &str, event: &Event<'_>) -> String {
    let mut out = String::with_capacity(160);
    out.push_str("{\"prev\":\"");
    out.push_str(prev);
    out.push_str("\",");
    write_fields(&mut out, event);
    out.push('}');
    out
}

/// `event` in canonical form, without `prev`.
pub fn canonical(event: &Event<'_>) -> String {
    let mut out = String::with_capacity(160);
    out.push('{');
    write_fields(&mut out, event);
    out.push('}');
    out
}

fn write_fields(out: &mut String, event: &Event<'_>) {
    let mut w = Writer { out };
    w.text("at", &event.at.to_string());
    w.text("type", event.kind.type_name());
    match &event.kind {
        EventKind::Join { member, referrer, phone, device, ip } => {
            w.text("member", member);
            for (key, value) in [("referrer", referrer), ("phone", phone), ("device", device), ("ip", ip)] {
                if let Some(value) = value {
                    w.text(key, value);
                }
            }
        }
        EventKind::Store { store, region, recruiter } => {
            w.text("store", store);
            w.list("region", region);
            if let Some(recruiter) = recruiter {
                w.text("recruiter", recruiter);
            }
        }
        EventKind::Agent { member, level, region } => {
            w.text("member", member);
            w.text("level", level);
            w.list("region", region);
        }
        EventKind::Order(Order { id, member, amount, profit, store, partner, credit }) => {
            w.text("order", id);
            w.text("member", member);
            w.text("amount", &amount.to_string());
            if let Some(profit) = profit {
                w.text("profit", &profit.to_string());
            }
            if let Some(store) = store {
                w.text("store", store);
            }
            if let Some(partner) = partner {
                w.text("partner", partner);
            }
            if !credit.is_zero() {
                w.text("credit", &credit.to_string());
            }
        }
        EventKind::Refund { order } => w.text("order", order),
        EventKind::Sell { member, mechanism, points } => {
            w.text("member", member);
            w.text("mechanism", mechanism);
            match points {
                SellAmount::All => w.text("points", "all"),
                SellAmount::Points(p) => w.text("points", &p.to_string()),
            }
        }
        EventKind::Withdraw { member, amount } | EventKind::Topup { member, amount } => {
            w.text("member", member);
            w.text("amount", &amount.to_string());
        }
        EventKind::Redeem { member, mechanism, reward, partner, points } => {
            w.text("member", member);
            w.text("mechanism", mechanism);
            if let Some(reward) = reward {
                w.text("reward", reward);
            }
            if let Some(partner) = partner {
                w.text("partner", partner);
            }
            if let Some(points) = points {
                w.text("points", &points.to_string());
            }
        }
        EventKind::Inject { mechanism, amount } | EventKind::AdvertiserFund { mechanism, amount } => {
            w.text("mechanism", mechanism);
            w.text("amount", &amount.to_string());
        }
        EventKind::AdView { member, mechanism } => {
            w.text("member", member);
            w.text("mechanism", mechanism);
        }
        EventKind::CloseDay => {}
        EventKind::Review { member, approve } => {
            w.text("member", member);
            w.text("decision", if *approve { "approve" } else { "reject" });
        }
        EventKind::WithdrawalReview { member, approve } => {
            w.text("member", member);
            w.text("decision", if *approve { "approve" } else { "reject" });
        }
        EventKind::Propose { proposal, text, .. } => {
            w.text("proposal", proposal);
            w.text("plan", text);
        }
        EventKind::Vote { member, proposal, yes } => {
            w.text("member", member);
            w.text("proposal", proposal);
            w.text("decision", if *yes { "yes" } else { "no" });
        }
        EventKind::Tally { proposal } => w.text("proposal", proposal),
        EventKind::AmendPlan { effective_at, text, .. } => {
            w.text("effective_at", &effective_at.to_string());
            w.text("plan", text);
        }
    }
}

/// Writes `"key":value` pairs, a comma before all but the first.
struct Writer<'o> {
    out: &'o mut String,
}

impl Writer<'_> {
    fn key(&mut self, key: &str) {
        if !self.out.ends_with('{') && !self.out.ends_with(',') {
            self.out.push(',');
        }
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn text(&mut self, key: &str, value: &str) {
        self.key(key);
        self.out.push_str(&serde_json::to_string(value).expect("a string serializes"));
    }

    fn list(&mut self, key: &str, values: &[&str]) {
        self.key(key);
        self.out.push_str(&serde_json::to_string(values).expect("strings serialize"));
    }
}

/// What `fanli audit verify` found when everything held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Lines of the log, all chained and replayed.
    pub lines: u64,
    /// Report lines compared.
    pub reports: usize,
    /// The hash of the last line.
    pub head: String,
}

/// Where a log or a report stops being trustworthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// What is wrong: `log` or `report`.
    pub file: &'static str,
    /// The line (from 1) of that file.
    pub line: usize,
    /// Why.
    pub message: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.message)
    }
}

/// Recomputes the chain of `log` (a `fanli run --chain` output) and replays it on `engine` from
/// scratch; with `report` (a `fanli run --report` output), compares each of its lines with the
/// report the replay derives at the same `close_day`. Names the first line that disagrees.
///
/// The log is read a line at a time, so it may be larger than memory.
pub fn verify(
    engine: &mut Engine,
    mut log: impl std::io::BufRead,
    report: Option<&str>,
) -> Result<Verified, Broken> {
    let mut verifier = Verifier::new(report);
    let mut buffer = String::new();
    loop {
        buffer.clear();
        let read = log
            .read_line(&mut buffer)
            .map_err(|e| broken("log", verifier.lines + 1, format!("cannot be read: {e}")))?;
        if read == 0 {
            break;
        }
        let line = buffer.strip_suffix('\n').unwrap_or(&buffer);
        verifier.line(engine, line.strip_suffix('\r').unwrap_or(line))?;
    }
    verifier.finish()
}

fn broken(file: &'static str, line: usize, message: String) -> Broken {
    Broken { file, line, message }
}

/// [`verify`] a line at a time, for logs that come from elsewhere than a reader (the server's
/// store): feed it every line in order with [`Verifier::line`], then call [`Verifier::finish`].
pub struct Verifier<'r> {
    chain: Chain,
    /// The published report's non-blank lines, with their line numbers (from 0).
    reports: Option<Box<dyn Iterator<Item = (usize, &'r str)> + 'r>>,
    compared: usize,
    lines: usize,
}

impl<'r> Verifier<'r> {
    /// A verifier of a log from its first line, comparing `report` if given.
    pub fn new(report: Option<&'r str>) -> Verifier<'r> {
        let reports = report.map(|r| {
            Box::new(r.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()))
                as Box<dyn Iterator<Item = (usize, &'r str)> + 'r>
        });
        Verifier { chain: Chain::default(), reports, compared: 0, lines: 0 }
    }

    /// Checks the log's next line (without its line break) and replays it on `engine`.
    pub fn line(&mut self, engine: &mut Engine, line: &str) -> Result<(), Broken> {
        self.checked(Some(engine), line)
    }

    /// [`Verifier::line`] without the plan: checks the line's link and canonical form, and
    /// replays nothing (so no balances and no reports are compared).
    pub fn chain_line(&mut self, line: &str) -> Result<(), Broken> {
        self.checked(None, line)
    }

    fn checked(&mut self, engine: Option<&mut Engine>, line: &str) -> Result<(), Broken> {
        self.lines += 1;
        let number = self.lines;
        let chain = &mut self.chain;
        if line.trim().is_empty() {
            return Err(broken("log", number, "a blank line: a chained log has none".to_owned()));
        }
        let parsed = EventLine::parse(line.as_bytes()).map_err(|e| broken("log", number, e.to_string()))?;
        let event = parsed.event().map_err(|e| broken("log", number, e.to_string()))?;
        let prev = parsed.prev().unwrap_or("");
        if prev != chain.head() {
            let before = if number == 1 {
                format!("the first line's `prev` must be {GENESIS}")
            } else {
                format!("line {} hashes to {}", number - 1, chain.head())
            };
            return Err(broken(
                "log",
                number,
                format!(
                    "the chain breaks here: `prev` is {prev:?}, but {before} (a line was altered, dropped or moved)"
                ),
            ));
        }
        if chained(prev, &event) != line {
            return Err(broken(
                "log",
                number,
                format!("not in canonical form (altered?): expected {}", chained(prev, &event)),
            ));
        }
        chain.advance(line);
        let Some(engine) = engine else {
            return Ok(());
        };
        let event = match crate::line::apply(engine, Ok(event)) {
            LineOutcome::Accepted(event) => event,
            LineOutcome::Refused(refusal) => {
                return Err(broken("log", number, format!("replaying it was refused: {}", refusal.error)));
            }
            LineOutcome::Blank => unreachable!("an event was read"),
        };
        if let (Some(derived), Some(reports)) = (chain.report(engine, &event), self.reports.as_mut()) {
            let Some((r, published)) = reports.next() else {
                return Err(broken(
                    "report",
                    self.compared + 1,
                    format!("missing: the log's line {number} closes a day"),
                ));
            };
            let mut published: serde_json::Value = serde_json::from_str(published)
                .map_err(|e| broken("report", r + 1, format!("not JSON: {e}")))?;
            // The server's reports carry the signed tree head of their day (checked against
            // the tree, not derived by the replay).
            if let Some(report) = published.as_object_mut() {
                report.remove("signed_head");
            }
            if published != derived {
                return Err(broken(
                    "report",
                    r + 1,
                    format!("disagrees with the log's line {number}: the log gives {derived}"),
                ));
            }
            self.compared += 1;
        }
        Ok(())
    }

    /// The chain's head after the lines so far.
    pub fn head(&self) -> &str {
        self.chain.head()
    }

    /// After the last line: the report has no days the log does not close.
    pub fn finish(mut self) -> Result<Verified, Broken> {
        if let Some((r, _)) = self.reports.as_mut().and_then(|r| r.next()) {
            return Err(broken("report", r + 1, "has more days than the log closes".to_owned()));
        }
        Ok(Verified { lines: self.chain.len(), reports: self.compared, head: self.chain.head().to_owned() })
    }
}
