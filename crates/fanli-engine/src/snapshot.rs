//! Snapshots: the whole [`Engine`] as bytes, so a restart restores it instead of replaying the
//! event log (feature `snapshot`).
//!
//! A snapshot is a fixed header and the engine's postcard encoding:
//!
//! | bytes | what |
//! | --- | --- |
//! | 8 | [`SNAPSHOT_MAGIC`], `FANLISNP` |
//! | 4 | [`SNAPSHOT_FORMAT`], little-endian |
//! | 2 | the length of the crate version, little-endian |
//! | n | the crate version (`CARGO_PKG_VERSION`) that wrote it |
//! | rest | the engine: plan, members, orders, mechanisms, ledger, anti-fraud |
//!
//! postcard is not self-describing: bytes of another shape may decode into nonsense rather
//! than fail. So [`Engine::restore`] accepts only a snapshot of this format version written by
//! this crate version, and [`SNAPSHOT_FORMAT`] must be bumped whenever the shape of anything an
//! engine holds changes (a test fingerprints a snapshot to catch a forgotten bump). Any refusal
//! means the caller replays the log instead.
//!
//! The snapshot holds everything: the plan (restoring needs nothing else), the postings and
//! effects of the last event ([`Engine::applied`] reads the same after a restore), and whether
//! the engine records them ([`Engine::record`] survives). Day-close and settlement scratch
//! buffers, empty between events, are left out. The bytes are a function of the state: hash
//! tables are saved in key order or as their names, so snapshotting a restored engine gives
//! the same bytes again.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::Engine;

/// The first eight bytes of every snapshot.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"FANLISNP";

/// The shape of the state a snapshot holds. Bump it whenever a type reachable from [`Engine`]
/// changes shape (a field added, removed, reordered or retyped; a variant added or moved).
pub const SNAPSHOT_FORMAT: u32 = 13;

/// The version of this crate, which a snapshot must have been written by.
const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why [`Engine::restore`] refused bytes. Any of these: replay the log instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes do not start with [`SNAPSHOT_MAGIC`].
    #[error("not a fanli engine snapshot: it does not start with `FANLISNP`")]
    BadMagic,
    /// Written in another format version.
    #[error("the snapshot is in format version {found}, this engine reads version {expected}")]
    FormatVersion {
        /// The snapshot's format version.
        found: u32,
        /// [`SNAPSHOT_FORMAT`].
        expected: u32,
    },
    /// Written by another version of the engine.
    #[error("the snapshot was written by fanli-engine {found}, this is fanli-engine {expected}")]
    CrateVersion {
        /// The version that wrote it.
        found: String,
        /// This crate's version.
        expected: &'static str,
    },
    /// The bytes end before the snapshot does.
    #[error("the snapshot is truncated: the bytes end before the engine's state does")]
    Truncated,
    /// The bytes have the right header but do not decode as an engine's state.
    #[error("the snapshot is corrupt: {0}")]
    Corrupt(String),
}

impl Engine {
    /// The engine's whole state as bytes, to be given back to [`Engine::restore`] by the same
    /// version of this crate. See the [module documentation](crate::snapshot) for the layout.
    ///
    /// Takes `&self`: a caller that must not hold its lock while this runs can clone the
    /// engine under the lock and snapshot the clone.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(&SNAPSHOT_MAGIC);
        bytes.extend_from_slice(&SNAPSHOT_FORMAT.to_le_bytes());
        let version = u16::try_from(CRATE_VERSION.len()).expect("a crate version is short");
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(CRATE_VERSION.as_bytes());
        // Nothing an engine holds fails to encode: every sequence knows its length.
        postcard::to_extend(self, bytes).expect("an engine encodes")
    }

    /// The engine a [`Engine::snapshot`] was taken of: the same state, the same plan, the same
    /// answer from [`Engine::applied`], recording as it did; applying the events that followed
    /// the snapshot gives what the snapshotted engine gave them.
    ///
    /// Refuses bytes that are not a snapshot, or are of another format or crate version, or
    /// are cut short or do not decode. It checks what decoding can, not every invariant of
    /// the state: bytes that were not written by [`Engine::snapshot`] but happen to decode
    /// may give an engine that panics later. Keep snapshots where they cannot be altered.
    pub fn restore(bytes: &[u8]) -> Result<Engine, SnapshotError> {
        let rest = bytes.strip_prefix(&SNAPSHOT_MAGIC).ok_or_else(|| {
            // Cut within the magic: a snapshot's start, but not all of it.
            if SNAPSHOT_MAGIC.starts_with(bytes) { SnapshotError::Truncated } else { SnapshotError::BadMagic }
        })?;
        let (format, rest) = split::<4>(rest)?;
        let format = u32::from_le_bytes(format);
        if format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::FormatVersion { found: format, expected: SNAPSHOT_FORMAT });
        }
        let (len, rest) = split::<2>(rest)?;
        let len = u16::from_le_bytes(len) as usize;
        let version = rest.get(..len).ok_or(SnapshotError::Truncated)?;
        if version != CRATE_VERSION.as_bytes() {
            return Err(SnapshotError::CrateVersion {
                found: String::from_utf8_lossy(version).into_owned(),
                expected: CRATE_VERSION,
            });
        }
        let (engine, trailing) = postcard::take_from_bytes::<Engine>(&rest[len..]).map_err(|e| match e {
            postcard::Error::DeserializeUnexpectedEnd => SnapshotError::Truncated,
            other => SnapshotError::Corrupt(other.to_string()),
        })?;
        if !trailing.is_empty() {
            return Err(SnapshotError::Corrupt(format!(
                "{} bytes follow the engine's state",
                trailing.len()
            )));
        }
        Ok(engine)
    }
}

/// The first `N` bytes and the rest.
fn split<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8]), SnapshotError> {
    let (head, rest) = bytes.split_first_chunk::<N>().ok_or(SnapshotError::Truncated)?;
    Ok((*head, rest))
}

/// `#[serde(with)]` for a hash map: written in key order, so that the bytes do not depend on
/// the table's layout (a restored map may lay its entries out differently).
pub(crate) mod sorted_map {
    use super::*;

    pub(crate) fn serialize<K, V, H, S>(map: &HashMap<K, V, H>, serializer: S) -> Result<S::Ok, S::Error>
    where
        K: Serialize + Ord,
        V: Serialize,
        S: Serializer,
    {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_map(entries)
    }

    pub(crate) fn deserialize<'de, K, V, H, D>(deserializer: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        HashMap::<K, V, H>::deserialize(deserializer)
    }
}

/// `#[serde(with)]` for [`crate::Review::hits`]: a rule name is a `&'static str`, so it is
/// restored as the entry of [`crate::antifraud::RULES`] with the saved text.
pub(crate) mod rule_hits {
    use super::*;
    use crate::antifraud::RULES;

    pub(crate) fn serialize<S: Serializer>(
        hits: &[(&'static str, String)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        hits.serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(&'static str, String)>, D::Error> {
        let hits = Vec::<(String, String)>::deserialize(deserializer)?;
        hits.into_iter()
            .map(|(rule, evidence)| match RULES.iter().find(|&&known| known == rule) {
                Some(&known) => Ok((known, evidence)),
                None => Err(D::Error::custom(format!("unknown anti-fraud rule `{rule}`"))),
            })
            .collect()
    }
}
