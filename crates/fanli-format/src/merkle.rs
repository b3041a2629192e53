//! The log as a Merkle tree (RFC 6962 §2.1, the hashing of Certificate Transparency): a tree
//! head (size, root) commits to every line of the log, an inclusion proof shows that one line is
//! in a tree of a given size, a consistency proof that a larger tree extends a smaller one. No
//! I/O: the hashes of the subtrees a proof needs come from a [`Subtrees`] source (memory, or the
//! server's store).
//!
//! The leaves are the chained log lines exactly as stored, without the line break:
//! `leaf = SHA-256(0x00 ‖ line)`, `node = SHA-256(0x01 ‖ left ‖ right)`, and the root of the
//! empty tree is `SHA-256("")`. A tree of `n > 1` leaves splits at `k`, the largest power of two
//! below `n`: its root is `node(MTH(D[0:k]), MTH(D[k:n]))`. docs/transparency.md has the
//! formats.
//!
//! A *subtree* `(level, index)` is the perfect subtree of `2^level` leaves starting at leaf
//! `index << level` (leaves counted from 0; line `N` of the log is leaf `N - 1`).

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf: `SHA-256(0x00 ‖ line)`.
pub fn leaf_hash(line: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(line);
    hasher.finalize().into()
}

/// The hash of an inner node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `hash` in lowercase hex.
pub fn to_hex(hash: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(hash.len() * 2);
    for byte in hash {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 15) as usize] as char);
    }
    out
}

/// `N` bytes from `2N` hex digits (either case); `None` for anything else.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = digit(text[2 * i])? << 4 | digit(text[2 * i + 1])?;
    }
    Some(out)
}

/// The tree being appended to, kept as its *frontier*: the roots of the perfect subtrees that
/// its leaves decompose into (one per bit set in the size, largest first). Appending is O(1)
/// amortized hashes, the root O(log n).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    /// A frontier from its peaks: the hashes of the subtrees [`Frontier::peak_subtrees`] names
    /// for `size`, in that order. `None` when their number does not fit.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Option<Frontier> {
        (peaks.len() == size.count_ones() as usize).then_some(Frontier { size, peaks })
    }

    /// The subtrees `(level, index)` a tree of `size` leaves decomposes into, largest first.
    pub fn peak_subtrees(size: u64) -> Vec<(u32, u64)> {
        let mut out = Vec::with_capacity(size.count_ones() as usize);
        let mut start = 0u64;
        for level in (0..64).rev() {
            if size >> level & 1 == 1 {
                out.push((level, start >> level));
                start += 1 << level;
            }
        }
        out
    }

    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peaks' hashes, largest subtree first.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends a leaf (its [`leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        self.push_with(leaf, |_, _, _| {});
    }

    /// Appends a leaf and calls `completed(level, index, hash)` for each subtree it completes,
    /// the leaf itself (level 0) first.
    pub fn push_with(&mut self, leaf: Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        let index = self.size;
        let mut hash = leaf;
        completed(0, index, &hash);
        let mut level = 0;
        while index >> level & 1 == 1 {
            let left = self.peaks.pop().expect("a peak for each set bit");
            hash = node_hash(&left, &hash);
            level += 1;
            completed(level, index >> level, &hash);
        }
        self.peaks.push(hash);
        self.size += 1;
    }

    /// The tree's root (the empty tree's for no leaves).
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else { return empty_root() };
        peaks.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// Where the hashes of perfect subtrees come from, for proofs.
pub trait Subtrees {
    /// Why a hash could not be had.
    type Error;
    /// The hash of the perfect subtree `(level, index)`: leaves `index << level` to
    /// `(index + 1) << level`, not included.
    fn subtree(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// The largest power of two below `n` (`n > 1`).
fn split(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for `lo` a multiple of a power of two at least `hi - lo`: the perfect
/// subtrees of the range, folded from the right.
fn range_hash<S: Subtrees>(source: &mut S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let mut hashes = Vec::new();
    for (level, index) in Frontier::peak_subtrees(hi - lo) {
        debug_assert_eq!(lo % (1 << level), 0);
        hashes.push(source.subtree(level, (lo >> level) + index)?);
    }
    let mut hashes = hashes.into_iter().rev();
    let Some(last) = hashes.next() else { return Ok(empty_root()) };
    Ok(hashes.fold(last, |right, left| node_hash(&left, &right)))
}

/// The root of the tree of the first `size` leaves.
pub fn root<S: Subtrees>(source: &mut S, size: u64) -> Result<Hash, S::Error> {
    range_hash(source, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 6962 §2.1.1,
/// `PATH(m, D[n])`): the sibling hashes from the leaf up. Empty when `index >= size`.
pub fn inclusion_proof<S: Subtrees>(source: &mut S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    let mut path = Vec::new();
    if index < size {
        inclusion_path(source, index, 0, size, &mut path)?;
    }
    Ok(path)
}

fn inclusion_path<S: Subtrees>(
    source: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if n == 1 {
        return Ok(());
    }
    let k = split(n);
    if m < lo + k {
        inclusion_path(source, m, lo, lo + k, out)?;
        out.push(range_hash(source, lo + k, hi)?);
    } else {
        inclusion_path(source, m, lo + k, hi, out)?;
        out.push(source.subtree(k.trailing_zeros(), lo / k)?);
    }
    Ok(())
}

/// The consistency proof between the trees of `from` and `to` leaves (RFC 6962 §2.1.2,
/// `PROOF(m, D[n])`); empty when `from` is 0 or not below `to`.
pub fn consistency_proof<S: Subtrees>(source: &mut S, from: u64, to: u64) -> Result<Vec<Hash>, S::Error> {
    let mut path = Vec::new();
    if from > 0 && from < to {
        subproof(source, from, 0, to, true, &mut path)?;
    }
    Ok(path)
}

fn subproof<S: Subtrees>(
    source: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push(range_hash(source, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(source, m, lo, lo + k, whole, out)?;
        out.push(range_hash(source, lo + k, hi)?);
    } else {
        subproof(source, m - k, lo + k, hi, false, out)?;
        out.push(source.subtree(k.trailing_zeros(), lo / k)?);
    }
    Ok(())
}

/// The root that an inclusion proof of `leaf` at `index` in a tree of `size` leaves leads to
/// (RFC 9162 §2.1.3.2); `None` when the proof has not the length that index and size give.
pub fn root_from_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// Whether `path` proves `leaf` at `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    root_from_inclusion(index, size, leaf, path).is_some_and(|r| &r == root)
}

/// Whether `path` proves that the tree of `to` leaves with root `to_root` extends the tree of
/// `from` leaves with root `from_root` (RFC 9162 §2.1.4.2). Every tree extends the empty one;
/// a tree extends itself with an empty proof.
pub fn verify_consistency(from: u64, to: u64, from_root: &Hash, to_root: &Hash, path: &[Hash]) -> bool {
    if from > to {
        return false;
    }
    if from == 0 {
        return path.is_empty() && (to > 0 || from_root == to_root);
    }
    if from == to {
        return path.is_empty() && from_root == to_root;
    }
    let mut nodes: Vec<Hash> = Vec::with_capacity(path.len() + 1);
    if from.is_power_of_two() {
        nodes.push(*from_root);
    }
    nodes.extend_from_slice(path);
    let Some((first, rest)) = nodes.split_first() else { return false };
    let (mut f, mut s) = (from - 1, to - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    &fr == from_root && &sr == to_root && s == 0
}

/// Leaf hashes in memory as a [`Subtrees`] source: each subtree hashed from its leaves (fine for
/// a proof at a time: a proof's subtrees cover the tree once).
pub struct Leaves<'a>(pub &'a [Hash]);

impl Subtrees for Leaves<'_> {
    type Error = std::convert::Infallible;

    fn subtree(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        let lo = (index << level) as usize;
        Ok(perfect(&self.0[lo..lo + (1usize << level)]))
    }
}

/// The root of a perfect tree of `leaves` (a power of two of them).
pub fn perfect(leaves: &[Hash]) -> Hash {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let half = leaves.len() / 2;
    node_hash(&perfect(&leaves[..half]), &perfect(&leaves[half..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6962's `MTH`, straight from its definition.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn hex(text: &str) -> Hash {
        from_hex(text).expect("hex")
    }

    fn proof(path: Vec<Hash>) -> Vec<String> {
        path.iter().map(|h| to_hex(h)).collect()
    }

    /// The leaves of certificate-transparency's test data (`testonly/constants.go`).
    fn ct_leaves() -> Vec<Hash> {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        inputs.iter().map(|l| leaf_hash(l)).collect()
    }

    const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn the_roots_are_certificate_transparencys() {
        let leaves = ct_leaves();
        let mut frontier = Frontier::default();
        assert_eq!(to_hex(&frontier.root()), CT_ROOTS[0]);
        for (size, leaf) in leaves.iter().enumerate() {
            frontier.push(*leaf);
            let expected = CT_ROOTS[size + 1];
            assert_eq!(to_hex(&frontier.root()), expected, "size {}", size + 1);
            assert_eq!(to_hex(&root(&mut Leaves(&leaves), size as u64 + 1).unwrap()), expected);
        }
    }

    #[test]
    fn the_proofs_are_certificate_transparencys() {
        let leaves = ct_leaves();
        let mut source = Leaves(&leaves);
        let inclusion = |s: &mut Leaves, i, n| proof(inclusion_proof(s, i, n).unwrap());
        assert_eq!(
            inclusion(&mut source, 0, 8),
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        assert_eq!(
            inclusion(&mut source, 5, 8),
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
        let consistency = |s: &mut Leaves, m, n| proof(consistency_proof(s, m, n).unwrap());
        assert!(consistency(&mut source, 1, 1).is_empty());
        assert_eq!(
            consistency(&mut source, 1, 8),
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        assert_eq!(
            consistency(&mut source, 6, 8),
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        );
        assert_eq!(
            consistency(&mut source, 2, 5),
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        );
        let (r6, r8) = (hex(CT_ROOTS[6]), hex(CT_ROOTS[8]));
        let path = consistency_proof(&mut source, 6, 8).unwrap();
        assert!(verify_consistency(6, 8, &r6, &r8, &path));
        assert!(!verify_consistency(6, 8, &r8, &r6, &path));
        assert!(verify_inclusion(5, 8, &leaves[5], &inclusion_proof(&mut source, 5, 8).unwrap(), &r8));
        assert!(!verify_inclusion(4, 8, &leaves[5], &inclusion_proof(&mut source, 5, 8).unwrap(), &r8));
    }

    #[test]
    fn hex_goes_both_ways() {
        let hash = leaf_hash(b"x");
        assert_eq!(from_hex::<32>(&to_hex(&hash)), Some(hash));
        assert_eq!(from_hex::<32>(&to_hex(&hash).to_uppercase()), Some(hash));
        assert_eq!(from_hex::<32>("00"), None);
        assert_eq!(from_hex::<2>("0g00"), None);
    }

    #[test]
    fn the_frontier_names_its_completed_subtrees() {
        let leaves: Vec<Hash> = (0..13u8).map(|i| leaf_hash(&[i])).collect();
        let mut frontier = Frontier::default();
        let mut completed = Vec::new();
        for leaf in &leaves {
            frontier.push_with(*leaf, |level, index, hash| completed.push((level, index, *hash)));
        }
        for (level, index, hash) in &completed {
            assert_eq!(*hash, Leaves(&leaves).subtree(*level, *index).unwrap());
        }
        // 13 leaves, 6 pairs, 3 fours, 1 eight.
        assert_eq!(completed.len(), 13 + 6 + 3 + 1);
        let peaks: Vec<Hash> = Frontier::peak_subtrees(13)
            .into_iter()
            .map(|(l, i)| Leaves(&leaves).subtree(l, i).unwrap())
            .collect();
        assert_eq!(Frontier::peak_subtrees(13), [(3, 0), (2, 2), (0, 12)]);
        assert_eq!(Frontier::from_peaks(13, peaks), Some(frontier));
    }

    proptest! {
        #[test]
        fn every_proof_verifies_and_no_altered_one_does(
            size in 1u64..300,
            pick in any::<u64>(),
            from_pick in any::<u64>(),
            flip in any::<(usize, u8)>(),
        ) {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let root = mth(&leaves);
            let mut frontier = Frontier::default();
            leaves.iter().for_each(|l| frontier.push(*l));
            prop_assert_eq!(frontier.root(), root);
            let mut source = Leaves(&leaves);
            let index = pick % size;
            let path = inclusion_proof(&mut source, index, size).unwrap();
            prop_assert!(verify_inclusion(index, size, &leaves[index as usize], &path, &root));
            // Another leaf, another index, another size, an altered hash: refused.
            let other = leaf_hash(b"not in the log");
            prop_assert!(!verify_inclusion(index, size, &other, &path, &root));
            if size > 1 {
                prop_assert!(!verify_inclusion((index + 1) % size, size, &leaves[index as usize], &path, &root));
            }
            // (A path checks against a size and a root together, as a signed head gives them.)
            let mut longer = leaves.clone();
            longer.push(other);
            prop_assert!(!verify_inclusion(index, size + 1, &leaves[index as usize], &path, &mth(&longer)));
            if !path.is_empty() {
                let mut bad = path.clone();
                let (i, bit) = (flip.0 % bad.len(), 1u8 << (flip.1 % 8));
                bad[i][0] ^= bit;
                prop_assert!(!verify_inclusion(index, size, &leaves[index as usize], &bad, &root));
            }
            // Consistency from every smaller tree (one picked) to this one.
            let from = from_pick % (size + 1);
            let old = mth(&leaves[..from as usize]);
            let path = consistency_proof(&mut source, from, size).unwrap();
            prop_assert!(verify_consistency(from, size, &old, &root, &path));
            if from > 0 && from < size {
                let mut changed = leaves.clone();
                changed[(flip.0 as u64 % from) as usize] = other;
                let forged = mth(&changed[..from as usize]);
                prop_assert!(!verify_consistency(from, size, &forged, &root, &path));
                prop_assert!(!verify_consistency(from, size, &old, &mth(&changed), &path));
                prop_assert!(!verify_consistency(from - 1, size, &old, &root, &path));
            }
        }
    }
}
