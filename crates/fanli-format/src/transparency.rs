//! The transparency log's documents: a signed tree head (what `GET /v1/audit/head` answers and
//! a daily report carries), an inclusion proof and a consistency proof, as JSON, and their
//! checks with nothing but the public key. docs/transparency.md specifies them.
//!
//! A head is signed with Ed25519 over this exact text (UTF-8, each field followed by a line
//! feed, the root in lowercase hex):
//!
//! ```text
//! fanli tree head v1
//! <tenant>
//! <size, decimal>
//! <root, 64 hex>
//! <time, as in the JSON>
//! ```

pub use ed25519_dalek::SigningKey;
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use serde_json::{Value, json};

use crate::merkle::{self, Hash, from_hex, to_hex};

/// A tree head: the log of `tenant` had `size` lines, whose Merkle root is `root`, at `time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// The tenant whose log it is.
    pub tenant: String,
    /// Lines in the tree.
    pub size: u64,
    /// The tree's root.
    pub root: Hash,
    /// When it was signed (RFC 3339).
    pub time: String,
}

impl TreeHead {
    /// The exact bytes the signature covers.
    pub fn message(&self) -> String {
        format!("fanli tree head v1\n{}\n{}\n{}\n{}\n", self.tenant, self.size, to_hex(&self.root), self.time)
    }

    /// The head signed with `key`.
    pub fn sign(self, key: &SigningKey) -> SignedHead {
        let signature = key.sign(self.message().as_bytes()).to_bytes();
        SignedHead { head: self, public_key: key.verifying_key().to_bytes(), signature }
    }
}

/// A [`TreeHead`] with its signature and the public key that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHead {
    /// What is signed.
    pub head: TreeHead,
    /// The signer's Ed25519 public key.
    pub public_key: [u8; 32],
    /// The Ed25519 signature of [`TreeHead::message`].
    pub signature: [u8; 64],
}

impl SignedHead {
    /// `{"tenant", "size", "root", "time", "public_key", "signature"}`, hashes and keys in hex.
    pub fn to_json(&self) -> Value {
        json!({
            "tenant": self.head.tenant,
            "size": self.head.size,
            "root": to_hex(&self.head.root),
            "time": self.head.time,
            "public_key": to_hex(&self.public_key),
            "signature": to_hex(&self.signature),
        })
    }

    /// Reads a head from its JSON text.
    pub fn parse(text: &str) -> Result<SignedHead, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        SignedHead::from_value(&value)
    }

    /// Reads a head from its JSON.
    pub fn from_value(value: &Value) -> Result<SignedHead, String> {
        let text = |key: &str| {
            value.get(key).and_then(Value::as_str).ok_or_else(|| format!("a signed head has a text `{key}`"))
        };
        let size = value.get("size").and_then(Value::as_u64).ok_or("a signed head has a number `size`")?;
        Ok(SignedHead {
            head: TreeHead {
                tenant: text("tenant")?.to_owned(),
                size,
                root: from_hex(text("root")?).ok_or("`root` is 64 hex digits")?,
                time: text("time")?.to_owned(),
            },
            public_key: public_key(text("public_key")?)?,
            signature: from_hex(text("signature")?).ok_or("`signature` is 128 hex digits")?,
        })
    }

    /// Checks the signature, with the head's own key or, when given, the one trusted: a head
    /// signed by another key is refused.
    pub fn verify(&self, trusted: Option<&[u8; 32]>) -> Result<(), String> {
        if let Some(trusted) = trusted
            && trusted != &self.public_key
        {
            return Err(format!(
                "the head is signed by the key {}, not the one trusted ({})",
                to_hex(&self.public_key),
                to_hex(trusted)
            ));
        }
        let key =
            VerifyingKey::from_bytes(&self.public_key).map_err(|_| "its `public_key` is no Ed25519 key")?;
        key.verify(self.head.message().as_bytes(), &Signature::from_bytes(&self.signature)).map_err(|_| {
            "its signature does not hold: the head was altered or signed by another key".to_owned()
        })
    }
}

/// An Ed25519 public key from 64 hex digits.
pub fn public_key(text: &str) -> Result<[u8; 32], String> {
    from_hex(text.trim()).ok_or_else(|| "a public key is 64 hex digits".to_owned())
}

/// That line `line` (from 1) of `tenant`'s log, `event`, is in its tree of `size` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// The tenant whose log it is.
    pub tenant: String,
    /// The line, from 1 (the leaf `line - 1`).
    pub line: u64,
    /// The tree's size.
    pub size: u64,
    /// The line's text, as stored (its leaf hash is computed from it).
    pub event: String,
    /// The sibling hashes from the leaf up.
    pub path: Vec<Hash>,
}

impl InclusionProof {
    /// `{"proof": "inclusion", "tenant", "line", "size", "event", "leaf", "path"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "proof": "inclusion",
            "tenant": self.tenant,
            "line": self.line,
            "size": self.size,
            "event": self.event,
            "leaf": to_hex(&merkle::leaf_hash(self.event.as_bytes())),
            "path": self.path.iter().map(|h| to_hex(h)).collect::<Vec<_>>(),
        })
    }

    /// Reads a proof from its JSON.
    pub fn from_value(value: &Value) -> Result<InclusionProof, String> {
        if value.get("proof").and_then(Value::as_str) != Some("inclusion") {
            return Err("not an inclusion proof (`\"proof\": \"inclusion\"`)".to_owned());
        }
        let number =
            |key: &str| value.get(key).and_then(Value::as_u64).ok_or(format!("a proof has a number `{key}`"));
        let event =
            value.get("event").and_then(Value::as_str).ok_or("a proof has the line's text, `event`")?;
        if let Some(leaf) = value.get("leaf").and_then(Value::as_str)
            && from_hex::<32>(leaf) != Some(merkle::leaf_hash(event.as_bytes()))
        {
            return Err("its `leaf` is not the hash of its `event`".to_owned());
        }
        Ok(InclusionProof {
            tenant: value.get("tenant").and_then(Value::as_str).unwrap_or_default().to_owned(),
            line: number("line")?,
            size: number("size")?,
            event: event.to_owned(),
            path: path(value)?,
        })
    }

    /// Checks the proof against a head (whose signature is checked apart): same tenant, same
    /// size, and the path leads from the line to the head's root.
    pub fn check(&self, head: &SignedHead) -> Result<(), String> {
        if self.tenant != head.head.tenant {
            return Err(format!(
                "the proof is of tenant `{}`, the head of `{}`",
                self.tenant, head.head.tenant
            ));
        }
        if self.size != head.head.size {
            return Err(format!(
                "the proof is for a tree of {} lines, the head's has {}: ask for the proof at the head's size",
                self.size, head.head.size
            ));
        }
        if self.line == 0 || self.line > self.size {
            return Err(format!("line {} is not in a tree of {} lines", self.line, self.size));
        }
        let leaf = merkle::leaf_hash(self.event.as_bytes());
        if merkle::verify_inclusion(self.line - 1, self.size, &leaf, &self.path, &head.head.root) {
            Ok(())
        } else {
            Err(format!("line {} as given is not in the signed tree of {} lines", self.line, self.size))
        }
    }
}

/// That `tenant`'s tree of `to` lines extends its tree of `from` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The tenant whose log it is.
    pub tenant: String,
    /// The older tree's size.
    pub from: u64,
    /// The newer tree's size.
    pub to: u64,
    /// RFC 6962's `PROOF(from, D[to])`.
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// `{"proof": "consistency", "tenant", "from", "to", "path"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "proof": "consistency",
            "tenant": self.tenant,
            "from": self.from,
            "to": self.to,
            "path": self.path.iter().map(|h| to_hex(h)).collect::<Vec<_>>(),
        })
    }

    /// Reads a proof from its JSON.
    pub fn from_value(value: &Value) -> Result<ConsistencyProof, String> {
        if value.get("proof").and_then(Value::as_str) != Some("consistency") {
            return Err("not a consistency proof (`\"proof\": \"consistency\"`)".to_owned());
        }
        let number =
            |key: &str| value.get(key).and_then(Value::as_u64).ok_or(format!("a proof has a number `{key}`"));
        Ok(ConsistencyProof {
            tenant: value.get("tenant").and_then(Value::as_str).unwrap_or_default().to_owned(),
            from: number("from")?,
            to: number("to")?,
            path: path(value)?,
        })
    }

    /// Checks the proof between an older and a newer head (whose signatures are checked apart).
    pub fn check(&self, old: &SignedHead, new: &SignedHead) -> Result<(), String> {
        for head in [old, new] {
            if !self.tenant.is_empty() && self.tenant != head.head.tenant {
                return Err(format!(
                    "the proof is of tenant `{}`, a head of `{}`",
                    self.tenant, head.head.tenant
                ));
            }
        }
        if (self.from, self.to) != (old.head.size, new.head.size) {
            return Err(format!(
                "the proof goes from {} to {} lines, the heads have {} and {}",
                self.from, self.to, old.head.size, new.head.size
            ));
        }
        if merkle::verify_consistency(self.from, self.to, &old.head.root, &new.head.root, &self.path) {
            Ok(())
        } else {
            Err(format!(
                "the tree of {} lines does not extend the one of {}: a line of the older was changed or removed",
                self.to, self.from
            ))
        }
    }
}

/// A head's time: `unix_millis` in RFC 3339, UTC, to the millisecond.
pub fn head_time(unix_millis: i64) -> String {
    let seconds = fanli_engine::Timestamp::from_unix_nanos(unix_millis.div_euclid(1000) * 1_000_000_000);
    let text = seconds.to_string();
    format!("{}.{:03}Z", text.trim_end_matches('Z'), unix_millis.rem_euclid(1000))
}

/// A log checked against signed heads a line at a time: feed every line with
/// [`TreeCheck::line`], then [`TreeCheck::finish`]. (The heads' signatures are checked apart.)
pub struct TreeCheck {
    frontier: merkle::Frontier,
    /// The heads, smallest size first.
    heads: Vec<SignedHead>,
    /// The heads checked so far: whether each holds.
    holds: Vec<bool>,
}

/// What a [`TreeCheck`] found when every head held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeVerified {
    /// Heads checked.
    pub heads: usize,
    /// The largest head's size and time.
    pub size: u64,
    /// When the largest head was signed.
    pub time: String,
    /// Lines after the largest head.
    pub after: u64,
}

/// What a [`TreeCheck`] found wrong: the lines a head no longer matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeBroken {
    /// The log has fewer lines than a head.
    Truncated {
        /// Lines in the log.
        lines: u64,
        /// The head's size.
        size: u64,
        /// When that head was signed.
        time: String,
    },
    /// The root of the first `size` lines is not the head's: a line from `from` to `size` was
    /// edited, inserted or removed (`from` is one past the largest head that still holds).
    Differs {
        /// The first line that may differ.
        from: u64,
        /// The head's size: the last line that may differ.
        size: u64,
        /// When that head was signed.
        time: String,
    },
}

impl std::fmt::Display for TreeBroken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeBroken::Truncated { lines, size, time } => {
                let missing = if *size == lines + 1 {
                    format!("line {size} is missing")
                } else {
                    format!("lines {} to {size} are missing", lines + 1)
                };
                write!(
                    f,
                    "truncated: the log has {lines} lines, the head signed at {time} has {size}: {missing} ({} lines removed)",
                    size - lines
                )
            }
            TreeBroken::Differs { from, size, time } if from == size => write!(
                f,
                "line {size} was altered: the first {size} lines do not hash to the root signed at {time}, the first {} do",
                size - 1
            ),
            TreeBroken::Differs { from, size, time } => write!(
                f,
                "a line from {from} to {size} was altered, inserted or removed: the first {size} lines do not hash to the root signed at {time}{}",
                if *from > 1 { format!(", the first {} do", from - 1) } else { String::new() }
            ),
        }
    }
}

impl TreeCheck {
    /// A check against `heads` (in any order).
    pub fn new(mut heads: Vec<SignedHead>) -> TreeCheck {
        heads.sort_by_key(|h| h.head.size);
        let mut check = TreeCheck { frontier: merkle::Frontier::default(), heads, holds: Vec::new() };
        check.compare();
        check
    }

    /// The log's next line (without its line break).
    pub fn line(&mut self, line: &[u8]) {
        self.frontier.push(merkle::leaf_hash(line));
        self.compare();
    }

    fn compare(&mut self) {
        while let Some(head) = self.heads.get(self.holds.len())
            && head.head.size == self.frontier.size()
        {
            let root = self.frontier.root();
            self.holds.push(head.head.root == root);
        }
    }

    /// Lines so far.
    pub fn lines(&self) -> u64 {
        self.frontier.size()
    }

    /// The tree's root over the lines so far.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// After the last line: the first head that does not hold, else one past the log's end.
    pub fn finish(self) -> Result<TreeVerified, TreeBroken> {
        if let Some(bad) = self.holds.iter().position(|holds| !holds) {
            let from = match self.holds[..bad].iter().rposition(|holds| *holds) {
                Some(good) => self.heads[good].head.size + 1,
                None => 1,
            };
            let head = &self.heads[bad].head;
            return Err(TreeBroken::Differs {
                from: from.min(head.size),
                size: head.size,
                time: head.time.clone(),
            });
        }
        if let Some(head) = self.heads.get(self.holds.len()) {
            let head = &self.heads.last().unwrap_or(head).head;
            return Err(TreeBroken::Truncated {
                lines: self.frontier.size(),
                size: head.size,
                time: head.time.clone(),
            });
        }
        let (size, time) =
            self.heads.last().map_or((0, String::new()), |h| (h.head.size, h.head.time.clone()));
        Ok(TreeVerified { heads: self.heads.len(), size, time, after: self.frontier.size() - size })
    }
}

fn path(value: &Value) -> Result<Vec<Hash>, String> {
    value
        .get("path")
        .and_then(Value::as_array)
        .ok_or("a proof has a `path` (a list of hashes)")?
        .iter()
        .map(|h| h.as_str().and_then(from_hex).ok_or_else(|| "a `path` hash is 64 hex digits".to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{Frontier, Leaves, consistency_proof, inclusion_proof, leaf_hash};

    fn log(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{{\"line\":{}}}", i + 1)).collect()
    }

    fn head(lines: &[String], key: &SigningKey) -> SignedHead {
        let mut frontier = Frontier::default();
        lines.iter().for_each(|l| frontier.push(leaf_hash(l.as_bytes())));
        let head = TreeHead {
            tenant: "acme".to_owned(),
            size: lines.len() as u64,
            root: frontier.root(),
            time: "2026-01-01T00:00:00Z".to_owned(),
        };
        head.sign(key)
    }

    #[test]
    fn a_head_and_its_proofs_check_with_the_public_key_only() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let lines = log(11);
        let signed = head(&lines, &key);
        let json = signed.to_json().to_string();
        let read = SignedHead::parse(&json).unwrap();
        assert_eq!(read, signed);
        read.verify(None).unwrap();
        read.verify(Some(&key.verifying_key().to_bytes())).unwrap();
        assert!(read.verify(Some(&[1; 32])).unwrap_err().contains("not the one trusted"));
        assert_eq!(
            read.head.message(),
            format!("fanli tree head v1\nacme\n11\n{}\n2026-01-01T00:00:00Z\n", to_hex(&read.head.root))
        );
        // One changed field, and the signature no longer holds.
        let mut altered = read.clone();
        altered.head.size = 10;
        assert!(altered.verify(None).unwrap_err().contains("does not hold"));

        let leaves: Vec<Hash> = lines.iter().map(|l| leaf_hash(l.as_bytes())).collect();
        let proof = InclusionProof {
            tenant: "acme".to_owned(),
            line: 4,
            size: 11,
            event: lines[3].clone(),
            path: inclusion_proof(&mut Leaves(&leaves), 3, 11).unwrap(),
        };
        let proof = InclusionProof::from_value(&proof.to_json()).unwrap();
        proof.check(&read).unwrap();
        let mut edited = proof.clone();
        edited.event = "{\"line\":40}".to_owned();
        assert!(edited.check(&read).unwrap_err().contains("not in the signed tree"));

        let old = head(&lines[..6], &key);
        let consistency = ConsistencyProof {
            tenant: "acme".to_owned(),
            from: 6,
            to: 11,
            path: consistency_proof(&mut Leaves(&leaves), 6, 11).unwrap(),
        };
        let consistency = ConsistencyProof::from_value(&consistency.to_json()).unwrap();
        consistency.check(&old, &read).unwrap();
        let mut rewritten = lines[..6].to_vec();
        rewritten[2] = "{\"line\":30}".to_owned();
        let forged = head(&rewritten, &key);
        assert!(consistency.check(&forged, &read).unwrap_err().contains("does not extend"));
    }

    fn check(lines: &[String], heads: &[SignedHead]) -> Result<TreeVerified, TreeBroken> {
        let mut check = TreeCheck::new(heads.to_vec());
        lines.iter().for_each(|l| check.line(l.as_bytes()));
        check.finish()
    }

    #[test]
    fn a_heads_time_is_to_the_millisecond() {
        assert_eq!(head_time(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(head_time(1_767_225_600_000), "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn a_tree_check_names_the_altered_or_missing_lines() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let lines = log(100);
        let heads: Vec<SignedHead> = [10, 60, 99, 100].iter().map(|n| head(&lines[..*n], &key)).collect();
        let verified = check(&lines, &heads).unwrap();
        assert_eq!((verified.heads, verified.size, verified.after), (4, 100, 0));
        let mut longer = lines.clone();
        longer.push("{\"line\":101}".to_owned());
        assert_eq!(check(&longer, &heads).unwrap().after, 1);
        // The newest line edited: named.
        let mut last = lines.clone();
        last[99].push(' ');
        let broken = check(&last, &heads).unwrap_err();
        assert_eq!(broken.to_string().split(':').next(), Some("line 100 was altered"));
        // Line 30 edited: between the heads of 10 and 60 lines.
        let mut middle = lines.clone();
        middle[29] = "{\"line\":3000}".to_owned();
        let broken = check(&middle, &heads).unwrap_err();
        assert_eq!(
            broken,
            TreeBroken::Differs { from: 11, size: 60, time: "2026-01-01T00:00:00Z".to_owned() }
        );
        assert!(broken.to_string().starts_with("a line from 11 to 60 was altered"), "{broken}");
        // The last 73 lines removed.
        let broken = check(&lines[..27], &heads).unwrap_err();
        assert_eq!(
            broken.to_string(),
            "truncated: the log has 27 lines, the head signed at 2026-01-01T00:00:00Z has 100: lines 28 to 100 are missing (73 lines removed)"
        );
        // A line inserted at the start.
        let mut inserted = lines.clone();
        inserted.insert(0, "{}".to_owned());
        assert!(check(&inserted, &heads).unwrap_err().to_string().starts_with("a line from 1 to 10"));
    }
}
