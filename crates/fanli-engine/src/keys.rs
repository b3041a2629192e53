//! Reading a plan file's keys: its tree of values (what `fanli-format` makes of the TOML file,
//! every value with its line, every number with its text), read key by key, every mistake
//! reported with its key and line.
//!
//! The [`Reader`] is what both the plan (`plan/read.rs`) and each kind (its `config.rs`) read
//! their keys with. Values may be written as strings ("0.30") or as TOML numbers (0.30) and are
//! read exactly, from their source text, never through a float.

use std::fmt;

use crate::num::{Money, Points, Rate};
use crate::terms::Rank;
use crate::time::UtcOffset;

/// The most characters a mechanism's `name` has.
pub const NAME_MAX_CHARS: usize = 32;

/// A value of a plan file, with the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// The line, from 1.
    pub line: usize,
    /// What it is.
    pub kind: ValueKind,
}

/// What a plan file's value is. Numbers keep their text, so that they are read exactly.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// A string.
    String(String),
    /// An integer, as written, and whether it is written in base 10.
    Integer {
        /// Its text ("15", "1_000", "0x1F").
        text: String,
        /// Base 10 (not hexadecimal, octal or binary).
        decimal: bool,
    },
    /// A float, as written.
    Float(String),
    /// `true` or `false`.
    Boolean(bool),
    /// A date or time.
    Datetime,
    /// An array.
    Array(Vec<Value>),
    /// A table: its keys in any order.
    Table(Vec<Entry>),
}

/// A key of a table and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The key's line.
    pub line: usize,
    /// The key's byte offset in the file (to list unknown keys in the order written).
    pub offset: usize,
    /// Its value.
    pub value: Value,
}

impl Value {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Value]> {
        match &self.kind {
            ValueKind::Array(a) => Some(a),
            _ => None,
        }
    }

    fn as_table(&self) -> Option<&[Entry]> {
        match &self.kind {
            ValueKind::Table(t) => Some(t),
            _ => None,
        }
    }

    fn type_str(&self) -> &'static str {
        match self.kind {
            ValueKind::String(_) => "string",
            ValueKind::Integer { .. } => "integer",
            ValueKind::Float(_) => "float",
            ValueKind::Boolean(_) => "boolean",
            ValueKind::Datetime => "datetime",
            ValueKind::Array(_) => "array",
            ValueKind::Table(_) => "table",
        }
    }

    /// The source text of a string or number value, so numbers are read exactly.
    fn number_text(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            ValueKind::Integer { text, decimal: true } => Some(text),
            ValueKind::Float(text) => Some(text),
            _ => None,
        }
    }
}

/// One mistake in a plan file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// The line it is on, from 1.
    pub line: usize,
    /// The key's path ("mechanism.r3.steps"), or empty for the file as a whole.
    pub key: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "line {}: `{}` {}", self.line, self.key, self.message)
        }
    }
}

/// All the mistakes found in a plan file, in the order of their lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanErrors(pub Vec<PlanError>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

/// Where each key of a plan file is: for messages about a valid plan (`fanli check`).
#[derive(Clone, Debug, Default)]
pub struct KeyLines(Vec<(String, usize)>);

impl KeyLines {
    /// The line of `key` ("mechanism.r3.referee_min"); for a table ("mechanism.r3"), the line of
    /// its first key read; 1 when unknown.
    pub fn line(&self, key: &str) -> usize {
        let exact = self.0.iter().find(|(k, _)| k == key);
        let prefix = format!("{key}.");
        let inside = || self.0.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, l)| *l).min();
        exact.map(|(_, l)| *l).or_else(inside).unwrap_or(1)
    }
}

/// Rates from 0 to 1, the range of most shares.
pub(crate) const SHARE: std::ops::RangeInclusive<Rate> = Rate::ZERO..=Rate::ONE;

/// Reads values and reports mistakes: the plan reader's state, which every kind's `read` uses.
#[derive(Default)]
pub(crate) struct Reader {
    errors: Vec<PlanError>,
    /// Every key read, with its line.
    keys: Vec<(String, usize)>,
}

/// A table being read: keys are taken one by one, and whatever is left over is unknown.
pub(crate) struct Table<'t> {
    entries: &'t [Entry],
    line: usize,
    pub(crate) path: String,
    taken: Vec<&'static str>,
    /// Keys refused as not applying here ([`Reader::inapplicable`]): reported already, and
    /// not among the keys a hint lists.
    refused: Vec<&'static str>,
}

impl<'t> Table<'t> {
    fn new(entries: &'t [Entry], line: usize, path: String) -> Table<'t> {
        Table { entries, line, path, taken: Vec::new(), refused: Vec::new() }
    }

    /// The full path of one of its keys.
    pub(crate) fn key(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    fn get(&self, key: &str) -> Option<&'t Value> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }
}

/// A key that may be absent, after reading.
pub(crate) enum Found<T> {
    Absent,
    /// Present but wrong (reported).
    Invalid,
    Value(T),
}

impl<T> Found<T> {
    /// The value, or `default` when absent; `None` when invalid.
    pub(crate) fn or(self, default: T) -> Option<T> {
        match self {
            Found::Absent => Some(default),
            Found::Invalid => None,
            Found::Value(v) => Some(v),
        }
    }

    /// `Some(None)` when absent, `None` when invalid.
    pub(crate) fn maybe(self) -> Option<Option<T>> {
        match self {
            Found::Absent => Some(None),
            Found::Invalid => None,
            Found::Value(v) => Some(Some(v)),
        }
    }
}

impl Reader {
    /// What the reading came to: the mistakes, in the order of their lines, and where each key
    /// read is.
    pub(crate) fn finish_reading(mut self) -> (Vec<PlanError>, KeyLines) {
        self.errors.sort_by_key(|e| e.line);
        (self.errors, KeyLines(self.keys))
    }

    /// The table at the root of a plan file.
    pub(crate) fn root<'t>(&mut self, root: &'t Value) -> Option<Table<'t>> {
        match root.as_table() {
            Some(entries) => Some(Table::new(entries, root.line, String::new())),
            None => {
                self.error(root.line, "", "must be a table of keys");
                None
            }
        }
    }

    /// A table within a table, named `path` in messages.
    pub(crate) fn table<'t>(&mut self, value: &'t Value, path: String, message: &str) -> Option<Table<'t>> {
        match value.as_table() {
            Some(entries) => Some(Table::new(entries, value.line, path)),
            None => {
                self.error(value.line, &path, message);
                None
            }
        }
    }

    /// Reports a mistake at `line` about `key`.
    pub(crate) fn error(&mut self, line: usize, key: &str, message: impl Into<String>) {
        self.errors.push(PlanError { line, key: key.to_owned(), message: message.into() });
    }

    /// Reports a mistake about a key of `t` as a whole (at the table's line).
    pub(crate) fn table_error(&mut self, t: &Table<'_>, key: &str, message: impl Into<String>) {
        self.error(t.line, key, message);
    }

    // ---- keys ----

    /// Takes a key that must be present; `None` when it is missing or invalid (both reported).
    pub(crate) fn required<'t, T>(
        &mut self,
        t: &mut Table<'t>,
        key: &'static str,
        read: impl FnOnce(&mut Reader, &'t Value, &str) -> Option<T>,
    ) -> Option<T> {
        match self.optional(t, key, read) {
            Found::Value(v) => Some(v),
            Found::Invalid => None,
            Found::Absent => {
                let what = if t.path.is_empty() { "the plan".to_owned() } else { format!("`{}`", t.path) };
                let line = t.line;
                self.error(line, &t.key(key), format!("is missing: {what} needs it"));
                None
            }
        }
    }

    /// Takes a key that may be absent.
    pub(crate) fn optional<'t, T>(
        &mut self,
        t: &mut Table<'t>,
        key: &'static str,
        read: impl FnOnce(&mut Reader, &'t Value, &str) -> Option<T>,
    ) -> Found<T> {
        t.taken.push(key);
        let Some(value) = t.get(key) else { return Found::Absent };
        self.keys.push((t.key(key), value.line));
        match read(self, value, &t.key(key)) {
            Some(v) => Found::Value(v),
            None => Found::Invalid,
        }
    }

    /// Refuses `key` where the table's other settings give it no meaning: when present, a
    /// mistake at its line saying `why`, and `false`. The key is not listed among those the
    /// table expects, since here it expects none of it.
    pub(crate) fn inapplicable(&mut self, t: &mut Table<'_>, key: &'static str, why: &str) -> bool {
        t.refused.push(key);
        let Some(value) = t.get(key) else { return true };
        self.error(value.line, &t.key(key), why);
        false
    }

    /// Reports every key of `t` nobody took.
    pub(crate) fn finish(&mut self, t: Table<'_>) {
        let mut unknown: Vec<&Entry> = t
            .entries
            .iter()
            .filter(|e| !t.taken.contains(&e.key.as_str()) && !t.refused.contains(&e.key.as_str()))
            .collect();
        unknown.sort_by_key(|e| e.offset);
        for entry in unknown {
            let name = entry.key.as_str();
            let close = t.taken.iter().find(|known| strsim::levenshtein(known, name) <= 2);
            let hint = match close {
                Some(known) => format!("; did you mean `{known}`?"),
                None => format!(
                    "; expected one of {}",
                    t.taken.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            self.error(entry.line, &t.key(name), format!("is not a known key{hint}"));
        }
    }

    // ---- values ----

    /// A table value, to read keys from.
    pub(crate) fn subtable<'t>(&mut self, value: &'t Value, key: &str, example: &str) -> Option<Table<'t>> {
        match value.as_table() {
            Some(entries) => Some(Table::new(entries, value.line, key.to_owned())),
            None => {
                self.error(value.line, key, format!("must be a table such as {example}"));
                None
            }
        }
    }

    /// An array of tables, each read by `item`, ordered by the key `by` that `order` reads.
    pub(crate) fn table_array<T, K: PartialOrd>(
        &mut self,
        value: &Value,
        key: &str,
        example: &str,
        item: impl FnMut(&mut Reader, &mut Table<'_>) -> Option<T>,
        order: impl Fn(&T) -> K,
        by: &str,
    ) -> Option<Vec<T>> {
        let items = self.tables(value, key, example, item)?;
        if !items.windows(2).all(|w| order(&w[0]) < order(&w[1])) {
            self.error(
                value.line,
                key,
                format!("must be listed by `{by}`, lowest first, each higher than the last"),
            );
            return None;
        }
        Some(items)
    }

    /// An array of 1 to 100 tables, each read by `item`.
    pub(crate) fn tables<T>(
        &mut self,
        value: &Value,
        key: &str,
        example: &str,
        mut item: impl FnMut(&mut Reader, &mut Table<'_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let array = value.as_array().filter(|a| !a.is_empty() && a.len() <= 100);
        let Some(array) = array else {
            self.error(value.line, key, format!("must be an array of 1 to 100 tables such as [{example}]"));
            return None;
        };
        let mut items = Vec::new();
        for (i, v) in array.iter().enumerate() {
            let path = format!("{key}[{}]", i + 1);
            let Some(entries) = v.as_table() else {
                self.error(v.line, &path, format!("must be a table such as {example}"));
                items.push(None);
                continue;
            };
            let mut t = Table::new(entries, v.line, path);
            let read = item(self, &mut t);
            self.finish(t);
            items.push(read);
        }
        items.into_iter().collect()
    }

    /// An array's items, when it has as many as `sizes` allows; else reports `expected`.
    pub(crate) fn array<'v>(
        &mut self,
        value: &'v Value,
        key: &str,
        sizes: std::ops::RangeInclusive<usize>,
        expected: &str,
    ) -> Option<&'v [Value]> {
        let array = value.as_array().filter(|a| sizes.contains(&a.len()));
        if array.is_none() {
            self.error(value.line, key, expected);
        }
        array
    }

    /// Ranks `{ name, min_team_sales, rate }`, lowest first.
    pub(crate) fn ranks(&mut self, value: &Value, key: &str) -> Option<Vec<Rank>> {
        let example = "{ name = \"青铜\", min_team_sales = \"800000.00\", rate = \"0.10\" }";
        self.table_array(
            value,
            key,
            example,
            |r, t| {
                let name = r.required(t, "name", Reader::string);
                let min = r.required(t, "min_team_sales", |r, v, k| r.money(v, k));
                let rate = r.required(t, "rate", |r, v, k| r.rate(v, k, SHARE, "between 0 and 1"));
                Some(Rank { name: name?, min_team_sales: min?, rate: rate? })
            },
            |r| r.min_team_sales,
            "min_team_sales",
        )
    }

    /// A list of 1 to `max` rates between 0 and 1.
    pub(crate) fn rates(&mut self, value: &Value, key: &str, max: usize, example: &str) -> Option<Vec<Rate>> {
        let expected = format!("must be an array of 1 to {max} rates such as {example}");
        let items = self.array(value, key, 1..=max, &expected)?;
        // Every item is read, so that each mistake is reported.
        let rates: Vec<_> = items.iter().map(|v| self.rate(v, key, SHARE, "between 0 and 1")).collect();
        rates.into_iter().collect()
    }

    pub(crate) fn string(&mut self, value: &Value, key: &str) -> Option<String> {
        match value.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.error(value.line, key, format!("must be a string, not {}", value.type_str()));
                None
            }
        }
    }

    pub(crate) fn id(&mut self, value: &Value, key: &str) -> Option<String> {
        let id = self.string(value, key)?;
        let fine = !id.is_empty() && id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if !fine {
            self.error(
                value.line,
                key,
                "must be letters, digits, `_` or `-` (it names accounts and JSON keys)",
            );
            return None;
        }
        let chars = id.chars().count();
        if chars > crate::ID_MAX_CHARS {
            self.error(
                value.line,
                key,
                format!("is {chars} characters long; an id has at most {}", crate::ID_MAX_CHARS),
            );
            return None;
        }
        Some(id)
    }

    /// A name shown to people (a mechanism's `name`): 1 to [`NAME_MAX_CHARS`] characters, none
    /// of them a control character, not blank.
    pub(crate) fn display_name(&mut self, value: &Value, key: &str) -> Option<String> {
        let name = self.string(value, key)?;
        let chars = name.chars().count();
        let problem = if name.trim().is_empty() {
            Some("is empty: write the name members see, e.g. \"消费增值\", or leave the key out".to_owned())
        } else if chars > NAME_MAX_CHARS {
            Some(format!("is {chars} characters long; a name has at most {NAME_MAX_CHARS}"))
        } else if name.chars().any(char::is_control) {
            Some("has a control character (a line break, a tab...): write it on one line".to_owned())
        } else {
            None
        };
        match problem {
            Some(message) => {
                self.error(value.line, key, message);
                None
            }
            None => Some(name),
        }
    }

    pub(crate) fn choice<'c>(&mut self, value: &Value, key: &str, choices: &[&'c str]) -> Option<&'c str> {
        let text = value.as_str();
        if let Some(found) = choices.iter().find(|c| Some(**c) == text) {
            return Some(found);
        }
        let list = choices.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        self.error(value.line, key, format!("must be one of {list}"));
        None
    }

    pub(crate) fn boolean(&mut self, value: &Value, key: &str) -> Option<bool> {
        let b = match value.kind {
            ValueKind::Boolean(b) => Some(b),
            _ => None,
        };
        if b.is_none() {
            self.error(value.line, key, "must be true or false");
        }
        b
    }

    /// A whole number, as a TOML integer or, like the rates and amounts, a string ("15").
    pub(crate) fn integer(
        &mut self,
        value: &Value,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let text = match &value.kind {
            ValueKind::Integer { text, decimal: true } => Some(text.replace('_', "")),
            ValueKind::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.clone()),
            _ => None,
        };
        match text.and_then(|t| t.parse::<i64>().ok()) {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.error(
                    value.line,
                    key,
                    format!("must be a whole number from {} to {}", range.start(), range.end()),
                );
                None
            }
        }
    }

    pub(crate) fn timezone(&mut self, value: &Value, key: &str) -> Option<UtcOffset> {
        let offset = value.as_str().and_then(UtcOffset::parse);
        if offset.is_none() {
            self.error(value.line, key, "must be a UTC offset such as \"+08:00\"");
        }
        offset
    }

    pub(crate) fn rate(
        &mut self,
        value: &Value,
        key: &str,
        range: std::ops::RangeInclusive<Rate>,
        expected: &str,
    ) -> Option<Rate> {
        match value.number_text().map(Rate::parse) {
            Some(Ok(rate)) if range.contains(&rate) => Some(rate),
            Some(Ok(rate)) => {
                self.error(value.line, key, format!("is {rate}; it must be {expected}"));
                None
            }
            Some(Err(e)) => {
                self.error(value.line, key, format!("{e}: write a rate such as \"0.30\" or \"10%\""));
                None
            }
            None => {
                self.error(value.line, key, "must be a rate such as \"0.30\" or \"10%\"");
                None
            }
        }
    }

    pub(crate) fn money(&mut self, value: &Value, key: &str) -> Option<Money> {
        match value.number_text().map(Money::parse) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                self.error(value.line, key, format!("{e}: write an amount such as \"1000.00\""));
                None
            }
            None => {
                self.error(value.line, key, "must be an amount such as \"1000.00\"");
                None
            }
        }
    }

    pub(crate) fn positive_money(&mut self, value: &Value, key: &str) -> Option<Money> {
        match self.money(value, key)? {
            m if m > Money::ZERO => Some(m),
            _ => {
                self.error(value.line, key, "must be positive");
                None
            }
        }
    }

    pub(crate) fn points(&mut self, value: &Value, key: &str) -> Option<Points> {
        match value.number_text().map(Points::parse) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                self.error(value.line, key, format!("{e}: write points such as \"12.5\""));
                None
            }
            None => {
                self.error(value.line, key, "must be a number of points such as \"12.5\"");
                None
            }
        }
    }

    pub(crate) fn positive_points(&mut self, value: &Value, key: &str) -> Option<Points> {
        match self.points(value, key)? {
            p if p > Points::ZERO => Some(p),
            _ => {
                self.error(value.line, key, "must be positive");
                None
            }
        }
    }

    /// The text of a string or number, for a kind that reads it its own way; reports
    /// `expected` when the value is neither.
    pub(crate) fn number_text<'v>(&mut self, value: &'v Value, key: &str, expected: &str) -> Option<&'v str> {
        let text = value.number_text();
        if text.is_none() {
            self.error(value.line, key, expected);
        }
        text
    }

    /// Whether the value is a table (reports nothing).
    pub(crate) fn is_table(&self, value: &Value) -> bool {
        value.as_table().is_some()
    }

    /// Whether the value is an array (reports nothing).
    pub(crate) fn is_array(&self, value: &Value) -> bool {
        value.as_array().is_some()
    }

    /// A string value's text, without reporting anything when it is not one.
    pub(crate) fn text_of<'v>(&self, value: &'v Value) -> Option<&'v str> {
        value.as_str()
    }

    /// An integer value's decimal text, without reporting anything when it is not one.
    pub(crate) fn integer_text<'v>(&self, value: &'v Value) -> Option<&'v str> {
        match &value.kind {
            ValueKind::Integer { text, .. } => Some(text),
            _ => None,
        }
    }
}
