//! Interned names: member, order and store ids mapped to dense indexes.
//!
//! All the names live in one `String`, so a million order ids cost their bytes plus about two
//! dozen bytes each, not an allocation each. The index from name to number is an open-addressing
//! table of 16-byte slots, four to a 64-byte bucket: a slot holds a name of up to 11 bytes (most
//! member and order ids, phone numbers) itself, so a lookup reads the one cache line of the
//! name's bucket and nothing else, unless that bucket has overflowed into the next. A longer
//! name's slot says where its text is. Hashing is FxHash (deterministic; names come from the
//! tenant's own systems, so flooding is not a concern here).
//!
//! Why not `hashbrown`: its control bytes and its slots are two arrays, so a lookup in a table
//! larger than the cache waits for two misses, one after the other (`perf annotate` on the
//! 2,000,000-event benchmark put 39% of the lookup's samples on the first and 52% on the
//! second). Names are never removed, which keeps this table short: no tombstones, and a bucket's
//! slots fill in order, so the first empty slot ends a search.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

/// A name [`Names::lookup`] did not find: its hash, so that adding it does not hash it again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Absent(u64);

#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    text: String,
    /// Where name `i` starts in `text`; it ends where name `i + 1` starts (or at the end).
    starts: Vec<u32>,
    table: Table,
}

/// A table slot: a name's key and its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
struct Slot {
    key: Key,
    index: u32,
}

/// A name of up to 11 bytes inline, its length plus one in the last byte; or, marked with `LONG`
/// in the last byte, where a longer name's text is (start and length, little-endian) and three
/// bytes of its hash (a fingerprint: a search reads a long name's text only when they match, so
/// a new long id costs no more than a short one). A last byte of zero is an empty slot, so a
/// zeroed bucket is an empty one.
type Key = [u8; 12];
const INLINE_MAX: usize = 11;
const EMPTY: u8 = 0;
const LONG: u8 = 0xFF;

fn inline_key(name: &[u8]) -> Option<Key> {
    (name.len() <= INLINE_MAX).then(|| {
        let mut key = [0u8; 12];
        key[..name.len()].copy_from_slice(name);
        key[11] = name.len() as u8 + 1;
        key
    })
}

fn long_key(start: u32, len: u32, hash: u64) -> Key {
    let mut key = [0u8; 12];
    key[0..4].copy_from_slice(&start.to_le_bytes());
    key[4..8].copy_from_slice(&len.to_le_bytes());
    key[8..11].copy_from_slice(&fingerprint(hash));
    key[11] = LONG;
    key
}

/// The hash's top bytes: independent of the low bits that choose the bucket.
fn fingerprint(hash: u64) -> [u8; 3] {
    let [.., a, b, c] = hash.to_le_bytes();
    [a, b, c]
}

/// The text a slot's key names: inline, or a span of `text`.
fn key_text<'t>(key: &'t Key, text: &'t str) -> &'t [u8] {
    if key[11] == LONG {
        let start = u32::from_le_bytes(key[0..4].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(key[4..8].try_into().expect("4 bytes")) as usize;
        &text.as_bytes()[start..start + len]
    } else {
        &key[..key[11] as usize - 1]
    }
}

fn hash(name: &[u8]) -> u64 {
    FxBuildHasher.hash_one(name)
}

/// Four slots in one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Bucket([Slot; SLOTS]);

const SLOTS: usize = 4;
const EMPTY_BUCKET: Bucket = Bucket([Slot { key: [0; 12], index: 0 }; SLOTS]);

/// Linear probing over buckets, at most three quarters full (so a search ends, and usually in
/// the name's own bucket). A name's home bucket is its hash modulo the (power of two) bucket
/// count, so growing splits bucket `i` into `i` and `i + n`: the rehash reads the old table
/// and writes the new one in order, which the hardware prefetches.
#[derive(Clone, Debug, Default)]
struct Table {
    buckets: Vec<Bucket>,
    len: usize,
}

impl Table {
    /// A table sized for `names` names (a snapshot's, restored).
    #[cfg(feature = "snapshot")]
    fn with_capacity(names: usize) -> Table {
        let buckets = names.div_ceil(3).next_power_of_two().max(4);
        Table { buckets: vec![EMPTY_BUCKET; buckets], len: 0 }
    }

    /// The index in the first slot, probing from `hash`'s bucket, whose key `is` accepts.
    fn find(&self, hash: u64, is: impl Fn(&Key) -> bool) -> Option<u32> {
        let mask = self.buckets.len().checked_sub(1)?;
        let mut b = hash as usize & mask;
        loop {
            for slot in &self.buckets[b].0 {
                if is(&slot.key) {
                    return Some(slot.index);
                }
                if slot.key[11] == EMPTY {
                    return None;
                }
            }
            b = (b + 1) & mask;
        }
    }

    /// Adds a slot for a key not yet present; `hash_of` gives any present key's hash, for growing.
    fn insert(&mut self, hash: u64, slot: Slot, hash_of: impl Fn(&Key) -> u64) {
        if self.len + 1 > 3 * self.buckets.len() {
            let buckets = (2 * self.buckets.len()).max(4);
            let old = std::mem::replace(&mut self.buckets, vec![EMPTY_BUCKET; buckets]);
            for slot in old.iter().flat_map(|bucket| bucket.0).filter(|s| s.key[11] != EMPTY) {
                self.place(hash_of(&slot.key), slot);
            }
        }
        self.place(hash, slot);
        self.len += 1;
    }

    fn place(&mut self, hash: u64, slot: Slot) {
        let mask = self.buckets.len() - 1;
        let mut b = hash as usize & mask;
        loop {
            if let Some(free) = self.buckets[b].0.iter_mut().find(|s| s.key[11] == EMPTY) {
                *free = slot;
                return;
            }
            b = (b + 1) & mask;
        }
    }
}

/// Name `index` of names stored end to end in `text`, name `i` starting at `starts[i]` and
/// ending where name `i + 1` starts (or at the end): [`Names`]' and [`TaggedNames`]' layout.
fn name_at<'t>(text: &'t str, starts: &[u32], index: u32) -> &'t str {
    let i = index as usize;
    let end = starts.get(i + 1).map_or(text.len(), |&e| e as usize);
    &text[starts[i] as usize..end]
}

/// Appends `name` to names stored as [`name_at`] reads them; returns where it starts.
fn push_name(text: &mut String, starts: &mut Vec<u32>, name: &str) -> u32 {
    u32::try_from(text.len() + name.len()).expect("names fit in 4 GiB");
    let start = text.len() as u32;
    text.push_str(name);
    starts.push(start);
    start
}

impl Names {
    pub(crate) fn get(&self, index: u32) -> &str {
        name_at(&self.text, &self.starts, index)
    }

    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        self.lookup(name).ok()
    }

    /// The index of `name`, or, when it is not here, its hash for [`Names::insert_absent`]: a
    /// new order or member is looked up and then added, and the name is hashed once for both.
    pub(crate) fn lookup(&self, name: &str) -> Result<u32, Absent> {
        let name = name.as_bytes();
        let hash = hash(name);
        let found = match inline_key(name) {
            // Short names compare within the slot; the text is never read.
            Some(key) => self.table.find(hash, |k| *k == key),
            None => {
                let fingerprint = fingerprint(hash);
                self.table.find(hash, |k| {
                    k[11] == LONG && k[8..11] == fingerprint && key_text(k, &self.text) == name
                })
            }
        };
        found.ok_or(Absent(hash))
    }

    /// Starts loading the bucket where `name` is, or would go, into the cache; changes nothing.
    pub(crate) fn prefetch(&self, name: &str) {
        if let Some(mask) = self.table.buckets.len().checked_sub(1) {
            prefetch_index::prefetch_index(&self.table.buckets, hash(name.as_bytes()) as usize & mask);
        }
    }

    /// Adds a name not yet present and returns its index.
    pub(crate) fn insert(&mut self, name: &str) -> u32 {
        self.insert_absent(name, Absent(hash(name.as_bytes())))
    }

    /// [`Names::insert`] of a name [`Names::lookup`] did not find (nothing added since).
    pub(crate) fn insert_absent(&mut self, name: &str, absent: Absent) -> u32 {
        debug_assert!(self.find(name).is_none());
        debug_assert_eq!(absent.0, hash(name.as_bytes()), "the lookup was of this name");
        let index = u32::try_from(self.starts.len()).expect("fewer than 2^32 names");
        let start = push_name(&mut self.text, &mut self.starts, name);
        let hash_of_name = absent.0;
        let key =
            inline_key(name.as_bytes()).unwrap_or_else(|| long_key(start, name.len() as u32, hash_of_name));
        let Names { text, table, .. } = self;
        table.insert(hash_of_name, Slot { key, index }, |k| hash(key_text(k, text)));
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

/// Interned names whose table keeps, per name, only 4 bytes of its hash and its index: 8-byte
/// slots, eight to a 64-byte bucket, filled to three quarters before the table doubles. For
/// order ids (about two a member, issue 19): the [`Names`] table's 16-byte slots, at most
/// three quarters full, cost an order 21 to 43 bytes; these cost 11 to 21.
///
/// The price is paid by a lookup that finds its name: it compares the name's text (its start
/// and its bytes: one or two more cache lines). Most order lookups find nothing (a new order),
/// and a miss reads only its bucket, as with [`Names`]: a slot whose hash bytes match names
/// another name only about once in 2^(32 − log2 buckets) comparisons. The bucket is the hash's
/// low bits, which the slot keeps, so the table grows without hashing any name again.
#[derive(Clone, Debug, Default)]
pub(crate) struct TaggedNames {
    text: String,
    /// Where name `i` starts in `text`; it ends where name `i + 1` starts (or at the end).
    starts: Vec<u32>,
    buckets: Vec<TagBucket>,
}

/// A slot: the low 32 bits of a name's hash and its index ([`NO_INDEX`]: empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
struct TagSlot {
    hash: u32,
    index: u32,
}

const NO_INDEX: u32 = u32::MAX;
const TAG_SLOTS: usize = 8;

/// Eight slots in one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct TagBucket([TagSlot; TAG_SLOTS]);

const EMPTY_TAG_BUCKET: TagBucket = TagBucket([TagSlot { hash: 0, index: NO_INDEX }; TAG_SLOTS]);

impl TaggedNames {
    pub(crate) fn get(&self, index: u32) -> &str {
        name_at(&self.text, &self.starts, index)
    }

    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        self.lookup(name).ok()
    }

    /// The index of `name`, or, when it is not here, its hash for
    /// [`TaggedNames::insert_absent`] (as [`Names::lookup`]).
    pub(crate) fn lookup(&self, name: &str) -> Result<u32, Absent> {
        let full = hash(name.as_bytes());
        let Some(mask) = self.buckets.len().checked_sub(1) else { return Err(Absent(full)) };
        let hash = full as u32;
        let mut b = hash as usize & mask;
        loop {
            for slot in &self.buckets[b].0 {
                if slot.index == NO_INDEX {
                    return Err(Absent(full));
                }
                if slot.hash == hash && self.get(slot.index) == name {
                    return Ok(slot.index);
                }
            }
            b = (b + 1) & mask;
        }
    }

    /// Starts loading the bucket where `name` is, or would go, into the cache; changes nothing.
    pub(crate) fn prefetch(&self, name: &str) {
        if let Some(mask) = self.buckets.len().checked_sub(1) {
            let hash = hash(name.as_bytes()) as u32;
            prefetch_index::prefetch_index(&self.buckets, hash as usize & mask);
        }
    }

    /// Adds a name not yet present and returns its index (the tests'; the engine looks up
    /// first and adds with [`TaggedNames::insert_absent`]).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, name: &str) -> u32 {
        self.insert_absent(name, Absent(hash(name.as_bytes())))
    }

    /// Adds a name [`TaggedNames::lookup`] did not find (nothing added since) and returns its
    /// index.
    pub(crate) fn insert_absent(&mut self, name: &str, absent: Absent) -> u32 {
        debug_assert!(self.find(name).is_none());
        debug_assert_eq!(absent.0, hash(name.as_bytes()), "the lookup was of this name");
        let index = u32::try_from(self.starts.len())
            .ok()
            .filter(|&i| i != NO_INDEX)
            .expect("fewer than 2^32 - 1 names");
        push_name(&mut self.text, &mut self.starts, name);
        if self.starts.len() > 6 * self.buckets.len() {
            let buckets = (2 * self.buckets.len()).max(4);
            let old = std::mem::replace(&mut self.buckets, vec![EMPTY_TAG_BUCKET; buckets]);
            for slot in old.iter().flat_map(|bucket| bucket.0).filter(|s| s.index != NO_INDEX) {
                self.place(slot);
            }
        }
        self.place(TagSlot { hash: absent.0 as u32, index });
        index
    }

    /// The names of `text` starting at `starts` (checked), with their table.
    #[cfg(feature = "snapshot")]
    fn from_parts(text: String, starts: Vec<u32>) -> TaggedNames {
        let buckets = starts.len().div_ceil(6).next_power_of_two().max(4);
        let mut names = TaggedNames { text, starts, buckets: vec![EMPTY_TAG_BUCKET; buckets] };
        for index in 0..names.starts.len() as u32 {
            let hash = hash(names.get(index).as_bytes()) as u32;
            names.place(TagSlot { hash, index });
        }
        names
    }

    fn place(&mut self, slot: TagSlot) {
        let mask = self.buckets.len() - 1;
        let mut b = slot.hash as usize & mask;
        loop {
            if let Some(free) = self.buckets[b].0.iter_mut().find(|s| s.index == NO_INDEX) {
                *free = slot;
                return;
            }
            b = (b + 1) & mask;
        }
    }
}

/// A snapshot keeps the text and each name's length, not the table, whose layout is the
/// hasher's business. Restoring checks the lengths against the text and rebuilds the table.
#[cfg(feature = "snapshot")]
mod snapshot {
    use serde::de::Error as _;
    use serde::ser::SerializeTuple as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Names, Slot, Table, TaggedNames, hash, inline_key, key_text, long_key};

    /// Each name's length, in order, computed from `starts` as it is written.
    struct Lengths<'n>(&'n str, &'n [u32]);

    impl Serialize for Lengths<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let Lengths(text, starts) = *self;
            let ends = starts.iter().skip(1).copied().chain([text.len() as u32]);
            serializer.collect_seq(starts.iter().zip(ends).map(|(&start, end)| end - start))
        }
    }

    /// The text and the lengths, as a tuple: the same bytes for both tables.
    fn serialize<S: Serializer>(text: &str, starts: &[u32], serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(text)?;
        tuple.serialize_element(&Lengths(text, starts))?;
        tuple.end()
    }

    impl Serialize for Names {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize(&self.text, &self.starts, serializer)
        }
    }

    impl Serialize for TaggedNames {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize(&self.text, &self.starts, serializer)
        }
    }

    /// Restored as a [`Names`] is: the lengths checked against the text, the table rebuilt.
    impl<'de> Deserialize<'de> for TaggedNames {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TaggedNames, D::Error> {
            let (text, lengths) = <(String, Vec<u32>)>::deserialize(deserializer)?;
            let mut starts = Vec::with_capacity(lengths.len());
            let mut start = 0usize;
            for len in lengths {
                let end = start + len as usize;
                if text.get(start..end).is_none() {
                    return Err(D::Error::custom("a name's length runs past the names' text"));
                }
                starts.push(start as u32);
                start = end;
            }
            if start != text.len() {
                return Err(D::Error::custom("the names' lengths do not add up to their text"));
            }
            Ok(TaggedNames::from_parts(text, starts))
        }
    }

    impl<'de> Deserialize<'de> for Names {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Names, D::Error> {
            let (text, lengths) = <(String, Vec<u32>)>::deserialize(deserializer)?;
            let mut starts = Vec::with_capacity(lengths.len());
            let mut table = Table::with_capacity(lengths.len());
            let mut start = 0usize;
            for (index, len) in lengths.into_iter().enumerate() {
                let end = start + len as usize;
                let name = text
                    .get(start..end)
                    .ok_or_else(|| D::Error::custom("a name's length runs past the names' text"))?;
                let key = inline_key(name.as_bytes())
                    .unwrap_or_else(|| long_key(start as u32, len, hash(name.as_bytes())));
                let slot = Slot { key, index: index as u32 };
                table.insert(hash(name.as_bytes()), slot, |k| hash(key_text(k, &text)));
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
    use super::{Names, TaggedNames};

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
        // Long names that share a length and most of their bytes are told apart (by fingerprint
        // or, when that matches, by their text).
        for i in 0..1_000 {
            names.intern(&format!("a-long-order-number-{i:06}"));
        }
        assert_eq!(names.find("a-long-order-number-000999"), Some(11_005));
        assert_eq!(names.find("a-long-order-number-001000"), None);
        assert_eq!(names.get(1), "会员二");
        assert_eq!(names.get(2), "");
        assert_eq!(names.find("o9999"), Some(10_002));
        assert_eq!(names.get(10_002), "o9999");
        assert_eq!(names.get(0), "A");
    }

    /// How many buckets a lookup of `name` reads.
    fn buckets_read(names: &Names, name: &str) -> usize {
        let (hash, key) = (super::hash(name.as_bytes()), super::inline_key(name.as_bytes()));
        let mask = names.table.buckets.len() - 1;
        let mut b = hash as usize & mask;
        for read in 1.. {
            let found = names.table.buckets[b].0.iter().any(|slot| match key {
                Some(key) => slot.key == key,
                None => {
                    slot.key[11] == super::LONG
                        && slot.key[8..11] == super::fingerprint(hash)
                        && super::key_text(&slot.key, &names.text) == name.as_bytes()
                }
            });
            if found {
                return read;
            }
            b = (b + 1) & mask;
        }
        unreachable!()
    }

    /// The ids real systems use (sequential numbers, phone numbers, dated order numbers, hex
    /// and UUID-like strings) spread over the buckets as random hashes would: at the table's
    /// fullest (three quarters), a lookup reads little more than its one bucket. A hash whose
    /// low bits were weak would cluster them and fail this.
    #[test]
    fn common_id_shapes_spread_over_the_buckets() {
        type Shape = (&'static str, fn(u64) -> String);
        let shapes: [Shape; 5] = [
            ("m{i}", |i| format!("m{i}")),
            ("phone", |i| format!("138{i:08}")),
            ("dated order", |i| format!("ORD2026{:02}{i:06}", i % 12 + 1)),
            ("multiples of 1024", |i| format!("{}", i * 1024)),
            ("uuid-like", |i| format!("{:08x}-0000-4000-8000-{i:012x}", i.wrapping_mul(2_654_435_761))),
        ];
        // 3 × 2^15 names fill 2^15 buckets to three quarters, just short of growing.
        let n = 3 << 15;
        for (shape, id) in shapes {
            let mut names = Names::default();
            for i in 0..n {
                names.insert(&id(i));
            }
            assert_eq!(names.table.buckets.len(), 1 << 15);
            let reads: Vec<usize> = (0..n).map(|i| buckets_read(&names, &id(i))).collect();
            let mean = reads.iter().sum::<usize>() as f64 / n as f64;
            let max = reads.iter().max().copied().unwrap_or(0);
            assert!(mean < 1.4 && max < 64, "{shape}: {mean:.3} buckets a lookup on average, {max} at most");
        }
    }

    /// Through many growths, with long names among short ones: every name is found at its
    /// index, and names never inserted are not.
    #[test]
    fn finds_every_name_through_growth() {
        let mut names = Names::default();
        let name =
            |i: u32| if i.is_multiple_of(7) { format!("a-long-member-name-{i}") } else { format!("m{i}") };
        for i in 0..200_000 {
            assert_eq!(names.insert(&name(i)), i);
        }
        for i in 0..200_000 {
            assert_eq!(names.find(&name(i)), Some(i), "{}", name(i));
            assert_eq!(names.get(i), name(i));
        }
        for i in 200_000..210_000 {
            assert_eq!(names.find(&name(i)), None);
        }
        assert!(names.table.len * 4 <= names.table.buckets.len() * 4 * 3);
    }

    /// The tagged table finds every name at its index through many growths, short and long
    /// names alike, and finds no name never inserted.
    #[test]
    fn tagged_names_find_every_name_through_growth() {
        let mut names = TaggedNames::default();
        assert_eq!(names.find("o1"), None);
        let name = |i: u32| {
            if i.is_multiple_of(7) { format!("a-long-order-number-{i:08}") } else { format!("o{i}") }
        };
        for i in 0..200_000 {
            assert_eq!(names.find(&name(i)), None);
            assert_eq!(names.insert(&name(i)), i);
        }
        for i in 0..200_000 {
            assert_eq!(names.find(&name(i)), Some(i), "{}", name(i));
            assert_eq!(names.get(i), name(i));
        }
        for i in 200_000..210_000 {
            assert_eq!(names.find(&name(i)), None);
        }
        assert_eq!(names.insert(""), 200_000);
        assert_eq!(names.insert("订单一"), 200_001);
        assert_eq!((names.find(""), names.find("订单一")), (Some(200_000), Some(200_001)));
        // Three quarters full at most: 200,002 names in 2^16 buckets of eight.
        assert_eq!(names.buckets.len(), 1 << 16);
        assert!(names.starts.len() <= 6 * names.buckets.len());
    }

    /// A slot whose hash bytes match a name's but which holds another name is passed over: the
    /// text decides.
    #[test]
    fn tagged_names_compare_the_text_when_the_hash_bytes_match() {
        let mut names = TaggedNames::default();
        names.insert("order-a");
        names.insert("order-b");
        let hash = super::hash(b"order-c") as u32;
        // A slot for "order-c"'s hash that points at "order-b".
        names.place(super::TagSlot { hash, index: 1 });
        assert_eq!(names.find("order-c"), None);
        assert_eq!(names.insert("order-c"), 2);
        assert_eq!(names.find("order-c"), Some(2));
        assert_eq!(names.find("order-b"), Some(1));
    }

    /// The id shapes of `common_id_shapes_spread_over_the_buckets`, in the tagged table at its
    /// fullest (three quarters): a lookup, found or not, reads little more than one bucket.
    #[test]
    fn tagged_names_spread_common_id_shapes() {
        type Shape = (&'static str, fn(u64) -> String);
        let shapes: [Shape; 4] = [
            ("o{i}", |i| format!("o{i}")),
            ("dated order", |i| format!("ORD2026{:02}{i:06}", i % 12 + 1)),
            ("multiples of 1024", |i| format!("{}", i * 1024)),
            ("uuid-like", |i| format!("{:08x}-0000-4000-8000-{i:012x}", i.wrapping_mul(2_654_435_761))),
        ];
        let n = 6 << 14;
        for (shape, id) in shapes {
            let mut names = TaggedNames::default();
            for i in 0..n {
                names.insert(&id(i));
            }
            assert_eq!(names.buckets.len(), 1 << 14);
            let mask = names.buckets.len() - 1;
            let reads = |name: &str| {
                let hash = super::hash(name.as_bytes()) as u32;
                let mut b = hash as usize & mask;
                for read in 1.. {
                    let slots = &names.buckets[b].0;
                    if slots
                        .iter()
                        .any(|s| s.index == super::NO_INDEX || (s.hash == hash && names.get(s.index) == name))
                    {
                        return read;
                    }
                    b = (b + 1) & mask;
                }
                unreachable!()
            };
            let found: Vec<usize> = (0..n).map(|i| reads(&id(i))).collect();
            let missed: Vec<usize> = (n..2 * n).map(|i| reads(&id(i))).collect();
            let mean = |r: &[usize]| r.iter().sum::<usize>() as f64 / r.len() as f64;
            assert!(mean(&found) < 1.5, "{shape}: {:.3} buckets a hit", mean(&found));
            assert!(mean(&missed) < 3.0, "{shape}: {:.3} buckets a miss", mean(&missed));
        }
    }
}
