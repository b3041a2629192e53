//! The plan file: TOML in, a validated [`Plan`] out, or every mistake with its key and line.
//!
//! The TOML is parsed into a spanned tree, turned into the engine's plan tree (every value
//! with its line, every number with its text) and read by the engine's plan reader
//! ([`fanli_engine::read_plan`]), where each kind reads its own keys. That is what lets every
//! error name the key, its line, and what was expected, and lets plan values be written as
//! strings ("0.30") or as TOML numbers (0.30) and still be read exactly, never through a float.

use std::ops::Range;

use fanli_engine::{Entry, Plan, Value, ValueKind};
pub use fanli_engine::{KeyLines, PlanError, PlanErrors};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Parses and validates a plan file.
pub fn parse_plan(text: &str) -> Result<Plan, PlanErrors> {
    parse_plan_lines(text).map(|(plan, _)| plan)
}

/// Parses and validates a plan file, and says where each key is.
pub fn parse_plan_lines(text: &str) -> Result<(Plan, KeyLines), PlanErrors> {
    let lines = Lines::new(text);
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let line = e.span().map_or(1, |s| lines.line(s.start));
            let message = format!("is not valid TOML: {}", e.message().trim_end_matches('\n'));
            return Err(PlanErrors(vec![PlanError { line, key: String::new(), message }]));
        }
    };
    let tree =
        Value { line: lines.line(root.span().start), kind: ValueKind::Table(table(root.get_ref(), &lines)) };
    fanli_engine::read_plan(&tree)
}

/// Byte offsets to line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(text.match_indices('\n').map(|(i, _)| i).collect())
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

/// A TOML table as the engine's plan tree.
fn table(table: &DeTable<'_>, lines: &Lines) -> Vec<Entry> {
    table
        .iter()
        .map(|(key, value)| Entry {
            key: key.get_ref().to_string(),
            line: lines.line(key.span().start),
            offset: key.span().start,
            value: tree(value, lines),
        })
        .collect()
}

/// A TOML value as the engine's plan tree: numbers keep their text.
fn tree(value: &Spanned<DeValue<'_>>, lines: &Lines) -> Value {
    let kind = match value.get_ref() {
        DeValue::String(s) => ValueKind::String(s.to_string()),
        DeValue::Integer(i) => ValueKind::Integer { text: i.as_str().to_owned(), decimal: i.radix() == 10 },
        DeValue::Float(f) => ValueKind::Float(f.as_str().to_owned()),
        DeValue::Boolean(b) => ValueKind::Boolean(*b),
        DeValue::Datetime(_) => ValueKind::Datetime,
        DeValue::Array(items) => ValueKind::Array(items.iter().map(|v| tree(v, lines)).collect()),
        DeValue::Table(t) => ValueKind::Table(table(t, lines)),
    };
    Value { line: lines.line(value.span().start), kind }
}

/// Why [`set_plan_key`] could not set a key.
#[derive(Debug, thiserror::Error)]
pub enum SetKeyError {
    /// The plan is not TOML at all.
    #[error("the plan is not valid TOML: {}", .0.message())]
    NotToml(toml::de::Error),
    /// `ID.KEY` names a mechanism the plan does not have.
    #[error("no mechanism has id `{0}`")]
    NoMechanism(String),
}

/// `text` with one key set to `value` (written as a TOML string), for `fanli simulate --sweep`:
/// `key` is `ID.KEY` for a mechanism's key (`appr.mint_ratio`) or a top-level key
/// (`margin_rate`). An existing value is replaced where it stands; a missing key is added after
/// the mechanism's `id` (or at the top). The rest of the file is left byte for byte.
pub fn set_plan_key(text: &str, key: &str, value: &str) -> Result<String, SetKeyError> {
    let root = DeTable::parse(text).map_err(SetKeyError::NotToml)?;
    let quoted = serde_json::to_string(value).expect("a string serializes");
    let splice =
        |range: Range<usize>, with: &str| format!("{}{with}{}", &text[..range.start], &text[range.end..]);
    let Some((id, name)) = key.split_once('.') else {
        return Ok(match root.get_ref().get(key) {
            Some(v) => splice(v.span(), &quoted),
            None => format!("{key} = {quoted}\n{text}"),
        });
    };
    let mechanisms = root.get_ref().get("mechanism").and_then(|m| m.get_ref().as_array());
    let mechanism = mechanisms
        .into_iter()
        .flatten()
        .filter_map(|m| m.get_ref().as_table())
        .find(|m| m.get("id").and_then(|v| v.get_ref().as_str()) == Some(id))
        .ok_or_else(|| SetKeyError::NoMechanism(id.to_owned()))?;
    if let Some(v) = mechanism.get(name) {
        return Ok(splice(v.span(), &quoted));
    }
    let id_end = mechanism.get("id").expect("found by id").span().end;
    let line_end = text[id_end..].find('\n').map_or(text.len(), |i| id_end + i);
    Ok(splice(line_end..line_end, &format!("\n{name} = {quoted}")))
}
