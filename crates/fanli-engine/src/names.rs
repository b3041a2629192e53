//! Interned names: member, order and store ids mapped to dense indexes.
//!
//! All the names live in one `String`, so a million order ids cost their bytes plus about two
//! dozen bytes each, not an allocation each. A table slot holds a name of up to 11 bytes (most
//! member and order ids, phone numbers) itself: a lookup then touches the control bytes and the
//! slot and nothing else, and growing the table rehashes from the slot. A longer name's slot
//! says where its text is. Hashing is FxHash (deterministic; names come from the tenant's own
//! systems, so flooding is not a concern here).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    text: String,
    /// Where name `i` starts in `text`; it ends where name `i + 1` starts (or at the end).
    starts: Vec<u32>,
    table: HashTable<Slot>,
}

/// A table slot: 16 bytes, so a million members' table stays within a cache-friendly 16 MiB.
#[derive(Clone, Copy, Debug)]
struct Slot {
    index: u32,
    key: Key,
}

/// A name of up to 11 bytes inline, its length in the last byte; or, marked with `LONG` in the
/// last byte, where a longer name's text is (start and length, little-endian).
type Key = [u8; 12];
const INLINE_MAX: usize = 11;
const LONG: u8 = 0xFF;

fn inline_key(name: &[u8]) -> Option<Key> {
    (name.len() <= INLINE_MAX).then(|| {
        let mut key = [0u8; 12];
        key[..name.len()].copy_from_slice(name);
        key[11] = name.len() as u8;
        key
    })
}

fn long_key(start: u32, len: u32) -> Key {
    let mut key = [0u8; 12];
    key[0..4].copy_from_slice(&start.to_le_bytes());
    key[4..8].copy_from_slice(&len.to_le_bytes());
    key[11] = LONG;
    key
}

/// The text a slot's key names: inline, or a span of `text`.
fn key_text<'t>(key: &'t Key, text: &'t str) -> &'t [u8] {
    if key[11] == LONG {
        let start = u32::from_le_bytes(key[0..4].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(key[4..8].try_into().expect("4 bytes")) as usize;
        &text.as_bytes()[start..start + len]
    } else {
        &key[..key[11] as usize]
    }
}

fn hash(name: &[u8]) -> u64 {
    FxBuildHasher.hash_one(name)
}

impl Names {
    pub(crate) fn get(&self, index: u32) -> &str {
        let i = index as usize;
        let end = self.starts.get(i + 1).map_or(self.text.len(), |&e| e as usize);
        &self.text[self.starts[i] as usize..end]
    }

    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        let name = name.as_bytes();
        let slot = match inline_key(name) {
            // Short names compare within the slot; the text is never read.
            Some(key) => self.table.find(hash(name), |s| s.key == key)?,
            None => {
                self.table.find(hash(name), |s| s.key[11] == LONG && key_text(&s.key, &self.text) == name)?
            }
        };
        Some(slot.index)
    }

    /// Adds a name not yet present and returns its index.
    pub(crate) fn insert(&mut self, name: &str) -> u32 {
        debug_assert!(self.find(name).is_none());
        let index = u32::try_from(self.starts.len()).expect("fewer than 2^32 names");
        let end = u32::try_from(self.text.len() + name.len()).expect("names fit in 4 GiB");
        let (start, len) = (self.text.len() as u32, name.len() as u32);
        debug_assert_eq!(start + len, end);
        self.text.push_str(name);
        self.starts.push(start);
        let key = inline_key(name.as_bytes()).unwrap_or_else(|| long_key(start, len));
        let Names { text, table, .. } = self;
        table.insert_unique(hash(name.as_bytes()), Slot { index, key }, |s| hash(key_text(&s.key, text)));
        index
    }

    /// The index of `name`, adding it if it is new.
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        match self.find(name) {
            Some(index) => index,
            None => self.insert(name),
        }
    }
}

/// A snapshot keeps the text and each name's length, not the table: `HashTable` has no serde
/// impls, and its layout is the hasher's business. Restoring checks the lengths against the
/// text and rebuilds the table, which finds and inserts exactly as the original did.
#[cfg(feature = "snapshot")]
mod snapshot {
    use serde::de::Error as _;
    use serde::ser::SerializeTuple as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{HashTable, Names, Slot, hash, inline_key, key_text, long_key};

    /// Each name's length, in order, computed from `starts` as it is written.
    struct Lengths<'n>(&'n Names);

    impl Serialize for Lengths<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let Names { text, starts, .. } = self.0;
            let ends = starts.iter().skip(1).copied().chain([text.len() as u32]);
            serializer.collect_seq(starts.iter().zip(ends).map(|(&start, end)| end - start))
        }
    }

    impl Serialize for Names {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut tuple = serializer.serialize_tuple(2)?;
            tuple.serialize_element(&self.text)?;
            tuple.serialize_element(&Lengths(self))?;
            tuple.end()
        }
    }

    impl<'de> Deserialize<'de> for Names {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Names, D::Error> {
            let (text, lengths) = <(String, Vec<u32>)>::deserialize(deserializer)?;
            let mut starts = Vec::with_capacity(lengths.len());
            let mut table = HashTable::with_capacity(lengths.len());
            let mut start = 0usize;
            for (index, len) in lengths.into_iter().enumerate() {
                let end = start + len as usize;
                let name = text
                    .get(start..end)
                    .ok_or_else(|| D::Error::custom("a name's length runs past the names' text"))?;
                let key = inline_key(name.as_bytes()).unwrap_or_else(|| long_key(start as u32, len));
                let slot = Slot { index: index as u32, key };
                table.insert_unique(hash(name.as_bytes()), slot, |s| hash(key_text(&s.key, &text)));
                starts.push(start as u32);
                start = end;
            }
            if start != text.len() {
                return Err(D::Error::custom("the names' lengths do not add up to their text"));
            }
            Ok(Names { text, starts, table })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn interns_in_order() {
        let mut names = Names::default();
        assert_eq!(names.insert("A"), 0);
        assert_eq!(names.insert("会员二"), 1);
        assert_eq!(names.insert(""), 2);
        assert_eq!(names.intern("A"), 0);
        assert_eq!(names.find("B"), None);
        assert_eq!(names.find(""), Some(2));
        for i in 0..10_000 {
            names.intern(&format!("o{i}"));
        }
        let long = "a-name-longer-than-fifteen-bytes";
        assert_eq!(names.insert(long), 10_003);
        assert_eq!(names.find(long), Some(10_003));
        assert_eq!(names.find("a-name-longer-than-fifteen-bytez"), None);
        assert_eq!(names.find("eleven-byte"), None);
        assert_eq!(names.insert("eleven-byte"), 10_004);
        assert_eq!(names.insert("twelve-bytes"), 10_005);
        assert_eq!(names.find("eleven-byte"), Some(10_004));
        assert_eq!(names.find("twelve-bytes"), Some(10_005));
        // A long name whose bytes look like a short one's key must not match it.
        assert_eq!(names.find("twelve-byte"), None);
        assert_eq!(names.get(1), "会员二");
        assert_eq!(names.get(2), "");
        assert_eq!(names.find("o9999"), Some(10_002));
        assert_eq!(names.get(10_002), "o9999");
        assert_eq!(names.get(0), "A");
    }
}
