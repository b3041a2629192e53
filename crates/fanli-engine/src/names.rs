//! Interned names: member, order and store ids mapped to dense indexes.
//!
//! All the names live in one `String`, so a million order ids cost their bytes plus about a
//! dozen bytes each, not an allocation each. Lookups hash with FxHash (deterministic; names
//! come from the tenant's own systems, so flooding is not a concern here).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

#[derive(Debug, Default)]
pub(crate) struct Names {
    text: String,
    /// `ends[i]` is where name `i` ends in `text`; it starts where name `i - 1` ends.
    ends: Vec<u32>,
    table: HashTable<u32>,
}

impl Names {
    pub(crate) fn get(&self, index: u32) -> &str {
        let i = index as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        let hash = FxBuildHasher.hash_one(name);
        self.table.find(hash, |&i| self.get(i) == name).copied()
    }

    /// Adds a name not yet present and returns its index.
    pub(crate) fn insert(&mut self, name: &str) -> u32 {
        debug_assert!(self.find(name).is_none());
        let index = u32::try_from(self.ends.len()).expect("fewer than 2^32 names");
        self.text.push_str(name);
        self.ends.push(u32::try_from(self.text.len()).expect("names fit in 4 GiB"));
        let hash = FxBuildHasher.hash_one(name);
        let Names { text, ends, table } = self;
        table.insert_unique(hash, index, |&i| {
            let i = i as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            FxBuildHasher.hash_one(&text[start..ends[i] as usize])
        });
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
        assert_eq!(names.intern("A"), 0);
        assert_eq!(names.find("B"), None);
        for i in 0..10_000 {
            names.intern(&format!("o{i}"));
        }
        assert_eq!(names.get(1), "会员二");
        assert_eq!(names.find("o9999"), Some(10_001));
        assert_eq!(names.get(10_001), "o9999");
    }
}
