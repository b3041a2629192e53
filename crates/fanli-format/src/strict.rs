//! JSON read strictly: an object with a duplicated key is refused, at any depth.
//!
//! `serde_json::Value` keeps the last of two equal keys, so `{"member":"A","member":"B"}` would
//! be booked for B while a reader who stops at the first sees A. What the log holds must read
//! the same to everyone: the event reader ([`crate::EventLine`]) refuses such a line, and the
//! server reads its request bodies with [`object`].

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON object from `bytes`, refused when it is not one or when any object in it repeats a
/// key (the error names the key).
pub fn object(bytes: &[u8]) -> Result<Map<String, Value>, serde_json::Error> {
    match value(bytes)? {
        Value::Object(map) => Ok(map),
        other => Err(de::Error::invalid_type(unexpected(&other), &"a JSON object")),
    }
}

/// Any JSON value from `bytes`, refused when an object in it repeats a key.
pub fn value(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|Strict(v)| v)
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("a number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

/// A `Value` read with duplicate keys refused.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_refused_at_any_depth_and_named() {
        let refused = |text: &str| object(text.as_bytes()).unwrap_err().to_string();
        assert_eq!(refused(r#"{"member":"A","member":"B"}"#), "duplicate key `member` at line 1 column 22");
        assert!(refused(r#"{"a":{"b":1,"b":2}}"#).starts_with("duplicate key `b`"));
        assert!(refused(r#"{"a":[{"c":1,"c":1}]}"#).starts_with("duplicate key `c`"));
        assert!(refused("[1]").starts_with("invalid type: sequence, expected a JSON object"));
        let fine = object(br#"{"a":{"b":1},"b":[1,2.5,"x",null,true],"c":-3}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&fine).unwrap(),
            r#"{"a":{"b":1},"b":[1,2.5,"x",null,true],"c":-3}"#
        );
    }
}
