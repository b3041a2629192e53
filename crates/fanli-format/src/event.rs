//! The event stream: one JSON object a line, read into engine [`Event`]s.
//!
//! A line is parsed in two steps: [`EventLine::parse`] reads the JSON (borrowing strings from the
//! line where it can), and [`EventLine::event`] checks the fields the event's `type` needs and
//! reads its amounts and time exactly. Amounts are decimal strings ("12.50"); whole JSON numbers
//! are accepted too, fractional ones are not (a JSON fraction is a float to most writers).
//! Unknown fields, and fields that mean nothing for the event's type, are errors: a misspelt
//! `referer` silently ignored would file a member under nobody.

use std::borrow::Cow;
use std::fmt;

use fanli_engine::{
    AmountError, Event, EventKind, MONEY_MAX, Money, Order, POINTS_MAX, Points, SellAmount, Timestamp,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

mod scan;
#[cfg(test)]
mod tests;

/// Why a line is not an event: a stable code (see `docs/rejections.md`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    /// The kind of mistake: `malformed_json`, `unknown_field`, `duplicate_field`, `bad_field`,
    /// `missing_field`, `unknown_type`, `field_not_allowed`, `bad_time` or `bad_amount`.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EventError {}

/// A line read as JSON, not yet checked against its type.
#[derive(Debug, Default)]
pub struct EventLine<'a> {
    at: Option<Str<'a>>,
    kind: Option<Str<'a>>,
    member: Option<Str<'a>>,
    referrer: Option<Str<'a>>,
    phone: Option<Str<'a>>,
    device: Option<Str<'a>>,
    ip: Option<Str<'a>>,
    store: Option<Str<'a>>,
    region: Option<Vec<Str<'a>>>,
    recruiter: Option<Str<'a>>,
    level: Option<Str<'a>>,
    order: Option<Str<'a>>,
    amount: Option<Decimal<'a>>,
    profit: Option<Decimal<'a>>,
    partner: Option<Str<'a>>,
    credit: Option<Decimal<'a>>,
    mechanism: Option<Str<'a>>,
    points: Option<Decimal<'a>>,
    reward: Option<Str<'a>>,
    /// The audit chain's hash of the line before (see `chain`): any type may carry it.
    prev: Option<Str<'a>>,
    decision: Option<Str<'a>>,
    effective_at: Option<Str<'a>>,
    plan: Option<Str<'a>>,
    proposal: Option<Str<'a>>,
}

/// Every field an event may have.
const FIELDS: &[&str] = &[
    "at",
    "type",
    "member",
    "referrer",
    "phone",
    "device",
    "ip",
    "store",
    "region",
    "recruiter",
    "level",
    "order",
    "amount",
    "profit",
    "partner",
    "credit",
    "mechanism",
    "points",
    "reward",
    "prev",
    "decision",
    "effective_at",
    "plan",
    "proposal",
];

/// Reads an event object's fields straight into an [`EventLine`]. (A derived `Deserialize`
/// builds every field in a local and moves the half-kilobyte struct several times a line.)
/// With `skip_type`, a `type` field is passed over whatever its value: the reader was given the
/// type (see [`EventLine::read_object`]).
struct Fill<'l, 'a> {
    line: &'l mut EventLine<'a>,
    skip_type: bool,
}

impl<'de, 'l> Visitor<'de> for Fill<'l, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        fn set<'de, A: de::MapAccess<'de>, T: Deserialize<'de>>(
            map: &mut A,
            slot: &mut Option<T>,
            name: &'static str,
        ) -> Result<(), A::Error> {
            if slot.is_some() {
                return Err(de::Error::duplicate_field(name));
            }
            // `null` is an absent field.
            *slot = map.next_value::<Option<T>>()?;
            Ok(())
        }
        let e = self.line;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "type" if self.skip_type => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                "at" => set(&mut map, &mut e.at, "at")?,
                "type" => set(&mut map, &mut e.kind, "type")?,
                "member" => set(&mut map, &mut e.member, "member")?,
                "referrer" => set(&mut map, &mut e.referrer, "referrer")?,
                "phone" => set(&mut map, &mut e.phone, "phone")?,
                "device" => set(&mut map, &mut e.device, "device")?,
                "ip" => set(&mut map, &mut e.ip, "ip")?,
                "store" => set(&mut map, &mut e.store, "store")?,
                "region" => set(&mut map, &mut e.region, "region")?,
                "recruiter" => set(&mut map, &mut e.recruiter, "recruiter")?,
                "level" => set(&mut map, &mut e.level, "level")?,
                "order" => set(&mut map, &mut e.order, "order")?,
                "amount" => set(&mut map, &mut e.amount, "amount")?,
                "profit" => set(&mut map, &mut e.profit, "profit")?,
                "partner" => set(&mut map, &mut e.partner, "partner")?,
                "credit" => set(&mut map, &mut e.credit, "credit")?,
                "mechanism" => set(&mut map, &mut e.mechanism, "mechanism")?,
                "points" => set(&mut map, &mut e.points, "points")?,
                "reward" => set(&mut map, &mut e.reward, "reward")?,
                "prev" => set(&mut map, &mut e.prev, "prev")?,
                "decision" => set(&mut map, &mut e.decision, "decision")?,
                "effective_at" => set(&mut map, &mut e.effective_at, "effective_at")?,
                "plan" => set(&mut map, &mut e.plan, "plan")?,
                "proposal" => set(&mut map, &mut e.proposal, "proposal")?,
                other => {
                    let hint = match FIELDS.iter().find(|f| strsim::levenshtein(f, other) <= 2) {
                        Some(close) => format!("; did you mean `{close}`?"),
                        None => format!("; an event's fields are {}", FIELDS.join(", ")),
                    };
                    return Err(de::Error::custom(format!("unknown field `{other}`{hint}")));
                }
            }
        }
        Ok(())
    }
}

/// A JSON string, borrowed from the line unless it had escapes. (serde's own `Cow<str>` borrows
/// only as a bare field, not inside an `Option`, and would allocate for every field.)
#[derive(Debug)]
struct Str<'a>(Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str<'a>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A decimal as written: the text of a JSON string, or a whole JSON number.
#[derive(Debug)]
enum Decimal<'a> {
    Text(Cow<'a, str>),
    Whole(i128),
}

impl<'de: 'a, 'a> Deserialize<'de> for Decimal<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Decimal<'a>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Decimal<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string such as \"12.50\"")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Decimal<'de>, E> {
                Ok(Decimal::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal<'de>, E> {
                Ok(Decimal::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal<'de>, E> {
                Ok(Decimal::Whole(v as i128))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal<'de>, E> {
                Ok(Decimal::Whole(v as i128))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Decimal<'de>, E> {
                Err(E::custom(
                    "a JSON number with a fraction or an exponent is not exact: write amounts as strings such as \"12.50\"",
                ))
            }
        }
        d.deserialize_any(V)
    }
}

/// The fields that only some types take, in the order `present` sets their bits.
const CHECKED: [&str; 21] = [
    "member",
    "referrer",
    "phone",
    "device",
    "ip",
    "store",
    "region",
    "recruiter",
    "level",
    "order",
    "amount",
    "profit",
    "partner",
    "credit",
    "mechanism",
    "points",
    "reward",
    "decision",
    "effective_at",
    "plan",
    "proposal",
];

/// The bits of `names` among [`CHECKED`]; a const fn, so each type's masks are constants.
const fn bits(names: &[&str]) -> u32 {
    let mut mask = 0;
    let mut n = 0;
    while n < names.len() {
        let mut i = 0;
        while i < CHECKED.len() {
            if same(names[n].as_bytes(), CHECKED[i].as_bytes()) {
                mask |= 1 << i;
            }
            i += 1;
        }
        n += 1;
    }
    mask
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The fields one event type takes, beside `at` and `type`.
#[derive(Clone, Copy)]
struct Fields {
    /// The required ones, in the order a message names the first missing.
    required: &'static [&'static str],
    /// `required` as bits.
    needed: u32,
    /// Required and optional, as bits.
    allowed: u32,
}

/// A type's fields from its required and optional names, at compile time.
macro_rules! fields {
    ([$($required:literal),*], [$($optional:literal),*]) => {{
        const REQUIRED: &[&str] = &[$($required),*];
        const FIELDS: Fields = Fields {
            required: REQUIRED,
            needed: bits(REQUIRED),
            allowed: bits(REQUIRED) | bits(&[$($optional),*]),
        };
        FIELDS
    }};
}

/// An event's type, read once from its name.
#[derive(Clone, Copy)]
enum Type {
    Join,
    Store,
    Agent,
    Order,
    Refund,
    Sell,
    Withdraw,
    Topup,
    Redeem,
    Inject,
    AdvertiserFund,
    AdView,
    CloseDay,
    Review,
    WithdrawalReview,
    AmendPlan,
    Propose,
    Vote,
    Tally,
}

/// The type named `kind`, and which fields it takes.
fn fields(kind: &str) -> Option<(Type, Fields)> {
    Some(match kind {
        "join" => (Type::Join, fields!(["member"], ["referrer", "phone", "device", "ip"])),
        "store" => (Type::Store, fields!(["store"], ["region", "recruiter"])),
        "agent" => (Type::Agent, fields!(["member", "level", "region"], [])),
        "order" => {
            (Type::Order, fields!(["order", "member", "amount"], ["profit", "store", "partner", "credit"]))
        }
        "refund" => (Type::Refund, fields!(["order"], [])),
        "sell" => (Type::Sell, fields!(["member", "mechanism", "points"], [])),
        "withdraw" => (Type::Withdraw, fields!(["member", "amount"], [])),
        "topup" => (Type::Topup, fields!(["member", "amount"], [])),
        // A loyalty catalogue takes a `reward`; a coalition `partner` and `points`.
        "redeem" => (Type::Redeem, fields!(["member", "mechanism"], ["reward", "partner", "points"])),
        "inject" => (Type::Inject, fields!(["mechanism", "amount"], [])),
        "advertiser_fund" => (Type::AdvertiserFund, fields!(["mechanism", "amount"], [])),
        "ad_view" => (Type::AdView, fields!(["member", "mechanism"], [])),
        "close_day" => (Type::CloseDay, fields!([], [])),
        "review" => (Type::Review, fields!(["member", "decision"], [])),
        "withdrawal_review" => (Type::WithdrawalReview, fields!(["member", "decision"], [])),
        "amend_plan" => (Type::AmendPlan, fields!(["effective_at", "plan"], [])),
        "propose" => (Type::Propose, fields!(["proposal", "plan"], [])),
        "vote" => (Type::Vote, fields!(["member", "proposal", "decision"], [])),
        "tally" => (Type::Tally, fields!(["proposal"], [])),
        _ => return None,
    })
}

const TYPES: &str = "join, store, agent, order, refund, sell, withdraw, topup, redeem, inject, \
                     advertiser_fund, ad_view, close_day, review, withdrawal_review, amend_plan, propose, \
                     vote, tally";

impl<'a> EventLine<'a> {
    /// Reads one line as JSON. The line is checked as UTF-8 once, whole: cheaper than serde_json
    /// checking each string of it on its own.
    pub fn parse(line: &'a [u8]) -> Result<EventLine<'a>, EventError> {
        let mut event = EventLine::default();
        event.read(line).map(|()| event)
    }

    /// [`EventLine::parse`] in place: a reader that keeps its lines where they are (an
    /// `EventLine` is several hundred bytes) reads each into the same one.
    ///
    /// Most lines are read by a scanner that knows the events' shape and is sure of them
    /// (`scan`); a line it is not sure of is read by serde_json, which says what is wrong with
    /// it, so that both read every line alike.
    pub fn read(&mut self, line: &'a [u8]) -> Result<(), EventError> {
        *self = EventLine::default();
        if scan::scan(line, self).is_some() {
            return Ok(());
        }
        *self = EventLine::default();
        self.read_serde(line)
    }

    /// [`EventLine::read`] by serde_json alone, on an `EventLine` with no field set.
    fn read_serde(&mut self, line: &'a [u8]) -> Result<(), EventError> {
        // serde would read a struct from an array too, and say something puzzling about it.
        if line.trim_ascii_start().first() != Some(&b'{') {
            return Err(err("malformed_json", "malformed JSON: an event is a JSON object, one per line"));
        }
        let line = std::str::from_utf8(line).map_err(|e| {
            err(
                "malformed_json",
                format!("malformed JSON: the line is not UTF-8 (byte {})", e.valid_up_to() + 1),
            )
        })?;
        let mut json = serde_json::Deserializer::from_str(line);
        json.deserialize_map(Fill { line: self, skip_type: false })
            .and_then(|()| json.end())
            .map_err(json_error)
    }

    /// Reads a JSON object parsed already (a request's body) as [`EventLine::read`] reads a line,
    /// borrowing its strings: no JSON is written or read again. With `kind`, it is an event of
    /// that type, and a `type` in the object is ignored, whatever its value; with `at`, that is
    /// its time when the object has no `at` (an `"at": null` stays absent, as in a line).
    ///
    /// An error is what [`EventLine::read`] says of the object written as a line (`kind` as its
    /// `type`, in that field's place or last, and a missing `at` last), column included: the
    /// line is written then, and only then, to say where.
    pub fn read_object(
        &mut self,
        object: &'a serde_json::Map<String, serde_json::Value>,
        kind: Option<&'a str>,
        at: Option<&'a str>,
    ) -> Result<(), EventError> {
        *self = EventLine::default();
        let fields = object.iter().map(|(key, value)| {
            (de::value::BorrowedStrDeserializer::<serde_json::Error>::new(key.as_str()), value)
        });
        let fill = Fill { line: self, skip_type: kind.is_some() };
        if let Err(error) = fill.visit_map(de::value::MapDeserializer::new(fields)) {
            return Err(as_line(object, kind, at).err().unwrap_or_else(|| json_error(error)));
        }
        if let Some(kind) = kind {
            self.kind = Some(Str(Cow::Borrowed(kind)));
        }
        if let Some(at) = at
            && !object.contains_key("at")
        {
            self.at = Some(Str(Cow::Borrowed(at)));
        }
        Ok(())
    }

    /// Tells the engine which member, referrer and order this line names, so that it can start
    /// loading them (see [`Engine::prefetch`]) while it applies the line before.
    pub fn prefetch(&self, engine: &fanli_engine::Engine) {
        engine.prefetch([self.member.as_deref(), self.referrer.as_deref()], self.order.as_deref());
    }

    /// The offset the line's `at` is written at (`Z` is UTC), when it has a time that ends in one.
    pub fn offset(&self) -> Option<fanli_engine::UtcOffset> {
        fanli_engine::UtcOffset::of_rfc3339(self.at.as_deref()?)
    }

    /// The audit chain's `prev`, when the line has one.
    pub fn prev(&self) -> Option<&str> {
        self.prev.as_deref()
    }

    /// Checks the fields against the event's type and reads the values.
    pub fn event<'e>(&'e self) -> Result<Event<'e>, EventError> {
        let kind_name = self.kind.as_deref().ok_or_else(|| err("missing_field", "missing field `type`"))?;
        let (kind_type, Fields { required, needed, allowed }) = fields(kind_name).ok_or_else(|| {
            err("unknown_type", format!("unknown event type `{kind_name}`; expected one of {TYPES}"))
        })?;
        // Bit masks: a check costs a few instructions; the names are only for the messages.
        let present = self.present();
        if present & !allowed != 0 {
            let stray = CHECKED.iter().enumerate().find(|(i, _)| present & !allowed & (1 << i) != 0);
            let name = stray.map_or("?", |(_, name)| name);
            return Err(err(
                "field_not_allowed",
                format!("field `{name}` does not apply to {} {kind_name} event", article(kind_name)),
            ));
        }
        if needed & !present != 0 {
            let name = required.iter().find(|name| present & bits(&[name]) == 0).map_or("?", |n| n);
            return Err(err(
                "missing_field",
                format!("missing field `{name}`: {} {kind_name} event needs it", article(kind_name)),
            ));
        }
        let at = self.at.as_deref().ok_or_else(|| err("missing_field", "missing field `at`"))?;
        let at = time(at, "at")?;
        let s = |field: &'e Option<Str<'a>>| -> &'e str { field.as_deref().unwrap_or_default() };
        let kind = match kind_type {
            Type::Join => EventKind::Join {
                member: s(&self.member),
                referrer: self.referrer.as_deref(),
                phone: self.phone.as_deref(),
                device: self.device.as_deref(),
                ip: self.ip.as_deref(),
            },
            Type::Store => EventKind::Store {
                store: s(&self.store),
                region: self.region(),
                recruiter: self.recruiter.as_deref(),
            },
            Type::Agent => {
                EventKind::Agent { member: s(&self.member), level: s(&self.level), region: self.region() }
            }
            Type::Order => EventKind::Order(Order {
                id: s(&self.order),
                member: s(&self.member),
                amount: money(&self.amount, "amount")?,
                profit: self.profit.as_ref().map(|_| money_or_zero(&self.profit, "profit")).transpose()?,
                store: self.store.as_deref(),
                partner: self.partner.as_deref(),
                credit: money_or_zero(&self.credit, "credit")?,
            }),
            Type::Refund => EventKind::Refund { order: s(&self.order) },
            Type::Sell => EventKind::Sell {
                member: s(&self.member),
                mechanism: s(&self.mechanism),
                points: match &self.points {
                    Some(Decimal::Text(t)) if t == "all" => SellAmount::All,
                    p => SellAmount::Points(points(p)?),
                },
            },
            Type::Withdraw => {
                EventKind::Withdraw { member: s(&self.member), amount: money(&self.amount, "amount")? }
            }
            Type::Topup => {
                EventKind::Topup { member: s(&self.member), amount: money(&self.amount, "amount")? }
            }
            Type::Redeem => EventKind::Redeem {
                member: s(&self.member),
                mechanism: s(&self.mechanism),
                reward: self.reward.as_deref(),
                partner: self.partner.as_deref(),
                points: self.points.as_ref().map(|_| points(&self.points)).transpose()?,
            },
            Type::Inject => {
                EventKind::Inject { mechanism: s(&self.mechanism), amount: money(&self.amount, "amount")? }
            }
            Type::AdvertiserFund => EventKind::AdvertiserFund {
                mechanism: s(&self.mechanism),
                amount: money(&self.amount, "amount")?,
            },
            Type::AdView => EventKind::AdView { member: s(&self.member), mechanism: s(&self.mechanism) },
            Type::CloseDay => EventKind::CloseDay,
            Type::Review => EventKind::Review { member: s(&self.member), approve: self.decision()? },
            Type::WithdrawalReview => {
                EventKind::WithdrawalReview { member: s(&self.member), approve: self.decision()? }
            }
            Type::AmendPlan => EventKind::AmendPlan {
                effective_at: time(s(&self.effective_at), "effective_at")?,
                text: s(&self.plan),
                plan: plan(s(&self.plan))?,
            },
            Type::Propose => EventKind::Propose {
                proposal: s(&self.proposal),
                text: s(&self.plan),
                plan: plan(s(&self.plan))?,
            },
            Type::Vote => EventKind::Vote {
                member: s(&self.member),
                proposal: s(&self.proposal),
                yes: match self.decision.as_deref() {
                    Some("yes") => true,
                    Some("no") => false,
                    other => {
                        return Err(err(
                            "bad_field",
                            format!("`decision` must be \"yes\" or \"no\", not {other:?}"),
                        ));
                    }
                },
            },
            Type::Tally => EventKind::Tally { proposal: s(&self.proposal) },
        };
        Ok(Event { at, kind })
    }

    /// `decision`: approve (true) or reject.
    fn decision(&self) -> Result<bool, EventError> {
        match self.decision.as_deref() {
            Some("approve") => Ok(true),
            Some("reject") => Ok(false),
            other => {
                Err(err("bad_field", format!("`decision` must be \"approve\" or \"reject\", not {other:?}")))
            }
        }
    }

    fn region(&self) -> Vec<&str> {
        self.region.iter().flatten().map(|part| &**part).collect()
    }

    /// The fields that only some types take, as a mask of [`CHECKED`]'s bits.
    fn present(&self) -> u32 {
        let set = [
            self.member.is_some(),
            self.referrer.is_some(),
            self.phone.is_some(),
            self.device.is_some(),
            self.ip.is_some(),
            self.store.is_some(),
            self.region.is_some(),
            self.recruiter.is_some(),
            self.level.is_some(),
            self.order.is_some(),
            self.amount.is_some(),
            self.profit.is_some(),
            self.partner.is_some(),
            self.credit.is_some(),
            self.mechanism.is_some(),
            self.points.is_some(),
            self.reward.is_some(),
            self.decision.is_some(),
            self.effective_at.is_some(),
            self.plan.is_some(),
            self.proposal.is_some(),
        ];
        set.iter().enumerate().fold(0, |mask, (i, &set)| mask | (u32::from(set) << i))
    }
}

/// What serde_json found wrong with a line, as an [`EventError`].
fn json_error(e: serde_json::Error) -> EventError {
    let message = e.to_string();
    // serde_json appends " at line 1 column N"; a stream line is always line 1 to it.
    let message = message.split(" at line ").next().unwrap_or(&message);
    let (code, what) = match message {
        _ if !e.is_data() => ("malformed_json", "malformed JSON: "),
        m if m.starts_with("unknown field") => ("unknown_field", ""),
        m if m.starts_with("duplicate field") => ("duplicate_field", ""),
        _ => ("bad_field", ""),
    };
    err(code, format!("{what}{message} (column {})", e.column()))
}

/// The object [`EventLine::read_object`] was given, written as a line with its `type` and `at`,
/// and read: what that read says is where the object's error lies.
fn as_line(
    object: &serde_json::Map<String, serde_json::Value>,
    kind: Option<&str>,
    at: Option<&str>,
) -> Result<(), EventError> {
    let mut object = object.clone();
    if let Some(kind) = kind {
        object.insert("type".to_owned(), kind.into());
    }
    if let Some(at) = at
        && !object.contains_key("at")
    {
        object.insert("at".to_owned(), at.into());
    }
    let line = serde_json::to_vec(&object).map_err(json_error)?;
    EventLine::default().read(&line)
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

/// `text` read as a plan (an amendment's or a proposal's).
fn plan(text: &str) -> Result<Box<fanli_engine::Plan>, EventError> {
    crate::parse_plan(text)
        .map(Box::new)
        .map_err(|errors| err("bad_plan", format!("`plan` is not a plan fanli reads: {errors}")))
}

/// `text` read as the time of the field `field`.
fn time(text: &str, field: &str) -> Result<Timestamp, EventError> {
    Timestamp::parse_rfc3339(text).ok_or_else(|| {
        err(
            "bad_time",
            format!(
                "`{field}` is not an RFC 3339 time from 1900 to 2200 such as \"2026-01-01T09:00:00+08:00\": {text:?}"
            ),
        )
    })
}

fn err(code: &'static str, message: impl Into<String>) -> EventError {
    EventError { code, message: message.into() }
}

/// A required positive amount of money.
fn money(value: &Option<Decimal<'_>>, field: &str) -> Result<Money, EventError> {
    let m = money_or_zero(value, field)?;
    if m.is_zero() {
        return Err(err("bad_amount", format!("`{field}` must be positive, not zero")));
    }
    Ok(m)
}

/// An amount of money that may be zero (an order's profit or the credit it spends).
fn money_or_zero(value: &Option<Decimal<'_>>, field: &str) -> Result<Money, EventError> {
    match value {
        None => Ok(Money::ZERO),
        Some(Decimal::Text(t)) => Money::parse(t).map_err(|e| amount_error(field, t, e)),
        Some(Decimal::Whole(n)) => whole(*n, 100, MONEY_MAX.fen(), field).map(Money::from_fen),
    }
}

/// A positive number of points.
fn points(value: &Option<Decimal<'_>>) -> Result<Points, EventError> {
    let p = match value {
        None => Points::ZERO,
        Some(Decimal::Text(t)) => Points::parse(t).map_err(|e| amount_error("points", t, e))?,
        Some(Decimal::Whole(n)) => Points::from_units(whole(*n, 10_000, POINTS_MAX.units(), "points")?),
    };
    if p.is_zero() {
        return Err(err("bad_amount", "`points` must be positive, not zero (or \"all\")"));
    }
    Ok(p)
}

/// A whole JSON number as a count of `1/scale` units, at most `max` of them.
fn whole(n: i128, scale: i128, max: i64, field: &str) -> Result<i64, EventError> {
    if n < 0 {
        return Err(amount_error(field, &n.to_string(), AmountError::Negative));
    }
    match n.checked_mul(scale).and_then(|u| i64::try_from(u).ok()) {
        Some(units) if units <= max => Ok(units),
        _ => Err(amount_error(field, &n.to_string(), AmountError::TooLarge)),
    }
}

fn amount_error(field: &str, text: &str, e: AmountError) -> EventError {
    err("bad_amount", format!("`{field}` {text:?} {e}"))
}
