//! Interned names: member, order and store ids mapped to dense indexes.
//!
//! All the names live in one `String`, so a million order ids cost their bytes plus about two
//! dozen bytes each, not an allocation each. Each table slot carries the name's hash and where
//! its text is, so a lookup touches the slot and the text and nothing else, and growing the
//! table never re-reads a name. Hashing is FxHash (deterministic; names come from the tenant's
//! own systems, so flooding is not a concern here).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

#[derive(Debug, Default)]
pub(crate) struct Names {
    text: String,
    /// Where name `i` starts in `text`; it ends where name `i + 1` starts (or at the end).
    starts: Vec<u32>,
    table: HashTable<Slot>,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    index: u32,
    hash: u32,
    start: u32,
    len: u32,
}

/// A 32-bit hash spread over 64 bits, so that hashbrown's bucket bits (low) and tag bits (high)
/// both come from it and a slot can give its hash back without reading its name.
fn spread(hash: u32) -> u64 {
    (hash as u64) << 32 | hash as u64
}

fn hash(name: &str) -> u32 {
    (FxBuildHasher.hash_one(name) >> 32) as u32
}

impl Names {
    pub(crate) fn get(&self, index: u32) -> &str {
        let i = index as usize;
        let end = self.starts.get(i + 1).map_or(self.text.len(), |&e| e as usize);
        &self.text[self.starts[i] as usize..end]
    }

    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        let hash = hash(name);
        let text = &self.text;
        let slot = self.table.find(spread(hash), |s| {
            s.hash == hash && &text[s.start as usize..(s.start + s.len) as usize] == name
        })?;
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
        let hash = hash(name);
        self.table.insert_unique(spread(hash), Slot { index, hash, start, len }, |s| spread(s.hash));
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
        assert_eq!(names.get(1), "会员二");
        assert_eq!(names.get(2), "");
        assert_eq!(names.find("o9999"), Some(10_002));
        assert_eq!(names.get(10_002), "o9999");
        assert_eq!(names.get(0), "A");
    }
}
