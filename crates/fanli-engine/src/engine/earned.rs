//! With `clawback`: what each settled order earned in each mechanism, so that a refund can take
//! it back.
//!
//! An [`Earned`] is 48 bytes, and there is one per settled order and mechanism: on a plan of
//! three mechanisms that was 144 bytes an order, the largest thing a clawback run kept (issue
//! 19). Most of it is zeros or small numbers (an order creates a few obligations or none, a lot
//! or a queue entry), so [`EarnedTable`] keeps each order's row as variable-length integers:
//! per mechanism a byte saying which parts it has, then those parts. A row costs some 4–12 bytes
//! a mechanism, plus 4 for where it starts.

use crate::kind::Marks;
use crate::ledger::Ledger;
use crate::{MemberId, OrderId};

/// What a settled order earned in one mechanism, as marks taken before and after it settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Earned {
    /// The obligations it created (by number) and what they came to, in fen.
    pub(super) owed: (u64, u64),
    pub(super) owed_total: i64,
    /// Points it earned the buyer, in units.
    pub(super) points: i64,
    /// The lots or queue entries it created.
    pub(super) items: (u32, u32),
    /// A loyalty mechanism's rolling-year entry for it (`u64::MAX`: none).
    pub(super) entry: u64,
}

impl Earned {
    pub(super) const NOTHING: Earned =
        Earned { owed: (0, 0), owed_total: 0, points: 0, items: (0, 0), entry: u64::MAX };

    /// The marks of `mechanism` now, for `member`.
    pub(super) fn mark(mechanism: &super::Mechanism, ledger: &Ledger, member: MemberId) -> Earned {
        let super::Mechanism { pool, state, .. } = mechanism;
        let Marks { items, entry } = state.marks();
        Earned {
            // A queue's obligations are entries of earlier orders made due: not this order's.
            owed: if state.owed_by_order() { (pool.obligations.next_number(), 0) } else { (0, 0) },
            owed_total: pool.owed_total,
            points: ledger.held(pool.id, member).units(),
            items: (items, 0),
            entry,
        }
    }

    /// What happened between `before` and `after`.
    pub(super) fn between(before: Earned, after: Earned) -> Earned {
        Earned {
            owed: (before.owed.0, after.owed.0),
            owed_total: after.owed_total - before.owed_total,
            points: after.points - before.points,
            items: (before.items.0, after.items.0),
            entry: if after.entry > before.entry { before.entry } else { u64::MAX },
        }
    }

    /// The same for every use a refund makes of it: the obligations only when there are some
    /// (what they came to is read only then), the lots or entries only when there are some.
    /// What [`EarnedTable`] keeps of it.
    fn kept(self) -> Earned {
        let owed = self.owed.0 < self.owed.1;
        let items = self.items.0 < self.items.1;
        Earned {
            owed: if owed { self.owed } else { (0, 0) },
            owed_total: if owed { self.owed_total } else { 0 },
            points: self.points,
            items: if items { self.items } else { (0, 0) },
            entry: self.entry,
        }
    }
}

/// Which parts of an [`Earned`] a row has, in its mechanism's first byte.
const OWED: u8 = 1;
const POINTS: u8 = 2;
const ITEMS: u8 = 4;
const ENTRY: u8 = 8;

/// No row: the order has not settled.
const NONE: u32 = u32::MAX;

/// Each settled order's [`Earned`] in every mechanism there was when it settled.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize))]
pub(super) struct EarnedTable {
    /// Per order (by index): where its row starts in `bytes`, in units of 4 bytes (each row is
    /// padded to a multiple of 4, so 16 GiB of rows can be addressed); [`NONE`] for none.
    rows: Vec<u32>,
    /// The rows: the number of mechanisms, then per mechanism its parts' byte and the parts,
    /// every number a LEB128 varint (signed ones zigzagged).
    bytes: Vec<u8>,
    /// The row of the order settling, mechanism by mechanism, until [`EarnedTable::end_row`].
    #[cfg_attr(feature = "snapshot", serde(skip))]
    row: Vec<Earned>,
}

impl EarnedTable {
    /// Whether no order has a row.
    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Starts the row of an order settling in `count` mechanisms: each earned nothing so far.
    pub(super) fn start_row(&mut self, count: usize) {
        self.row.clear();
        self.row.resize(count, Earned::NOTHING);
    }

    /// What the order settling earned in mechanism `m`.
    pub(super) fn put_in_row(&mut self, m: usize, earned: Earned) {
        self.row[m] = earned;
    }

    /// Keeps the row started by [`EarnedTable::start_row`] as `order`'s.
    pub(super) fn end_row(&mut self, order: OrderId) {
        let row = std::mem::take(&mut self.row);
        self.set(order, &row);
        self.row = row;
    }

    /// Keeps what `order` earned in each mechanism (`earned[m]` for mechanism `m`).
    fn set(&mut self, order: OrderId, earned: &[Earned]) {
        let start = u32::try_from(self.bytes.len() / 4).expect("earned rows fit in 16 GiB");
        assert!(start != NONE, "earned rows fit in 16 GiB");
        put(&mut self.bytes, earned.len() as u64);
        for e in earned.iter().map(|e| e.kept()) {
            let at = self.bytes.len();
            self.bytes.push(0);
            let mut parts = 0;
            if e.owed != (0, 0) {
                parts |= OWED;
                put(&mut self.bytes, e.owed.0);
                put(&mut self.bytes, e.owed.1 - e.owed.0);
                put(&mut self.bytes, zigzag(e.owed_total));
            }
            if e.points != 0 {
                parts |= POINTS;
                put(&mut self.bytes, zigzag(e.points));
            }
            if e.items != (0, 0) {
                parts |= ITEMS;
                put(&mut self.bytes, u64::from(e.items.0));
                put(&mut self.bytes, u64::from(e.items.1 - e.items.0));
            }
            if e.entry != u64::MAX {
                parts |= ENTRY;
                put(&mut self.bytes, e.entry);
            }
            self.bytes[at] = parts;
        }
        self.bytes.resize(self.bytes.len().next_multiple_of(4), 0);
        let i = order.index();
        if self.rows.len() <= i {
            self.rows.resize(i + 1, NONE);
        }
        self.rows[i] = start;
    }

    /// What `order` earned in mechanism `m`; `None` when it has no row (it has not settled).
    /// A mechanism added after it settled earned nothing from it.
    pub(super) fn get(&self, order: OrderId, m: usize) -> Option<Earned> {
        let start = *self.rows.get(order.index()).filter(|&&s| s != NONE)?;
        let row = read_row(&self.bytes, start as usize * 4, m).expect("a row the table wrote");
        Some(row.unwrap_or(Earned::NOTHING))
    }

    /// The mechanisms after `count` were dropped (an amendment that added them undone): rows
    /// keep only the first `count`, so that a mechanism added later at the same place earned
    /// nothing from them.
    pub(super) fn truncate_mechanisms(&mut self, count: usize) {
        let longer = |&start: &u32| {
            start != NONE
                && read_len(&self.bytes, start as usize * 4).expect("a row the table wrote").0 > count
        };
        if !self.rows.iter().any(longer) {
            return;
        }
        let old = std::mem::take(self);
        self.rows = vec![NONE; old.rows.len()];
        let mut row = Vec::new();
        // Rows are written again in the order they were written (by where they start), so the
        // bytes come out as if they had been written at `count` mechanisms.
        let mut order: Vec<(u32, usize)> =
            old.rows.iter().enumerate().filter(|(_, s)| **s != NONE).map(|(i, &s)| (s, i)).collect();
        order.sort_unstable();
        for (start, i) in order {
            let (len, _) = read_len(&old.bytes, start as usize * 4).expect("a row the table wrote");
            row.clear();
            row.extend((0..len.min(count)).map(|m| {
                read_row(&old.bytes, start as usize * 4, m)
                    .expect("a row the table wrote")
                    .unwrap_or(Earned::NOTHING)
            }));
            self.set(OrderId::from_index(i), &row);
        }
    }
}

/// The number of mechanisms of the row at byte `at`, and where its first mechanism starts.
fn read_len(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut at = at;
    let len = usize::try_from(take(bytes, &mut at)?).ok()?;
    Some((len, at))
}

/// Mechanism `m` of the row at byte `at`: `Some(None)` when the row has fewer mechanisms; `None`
/// when the bytes are not a row.
fn read_row(bytes: &[u8], at: usize, m: usize) -> Option<Option<Earned>> {
    let (len, mut at) = read_len(bytes, at)?;
    if m >= len {
        return Some(None);
    }
    for i in 0..=m {
        let parts = *bytes.get(at)?;
        at += 1;
        if parts & !(OWED | POINTS | ITEMS | ENTRY) != 0 {
            return None;
        }
        let mut e = Earned::NOTHING;
        if parts & OWED != 0 {
            let start = take(bytes, &mut at)?;
            e.owed = (start, start.checked_add(take(bytes, &mut at)?)?);
            e.owed_total = unzigzag(take(bytes, &mut at)?);
        }
        if parts & POINTS != 0 {
            e.points = unzigzag(take(bytes, &mut at)?);
        }
        if parts & ITEMS != 0 {
            let start = u32::try_from(take(bytes, &mut at)?).ok()?;
            e.items = (start, start.checked_add(u32::try_from(take(bytes, &mut at)?).ok()?)?);
        }
        if parts & ENTRY != 0 {
            e.entry = take(bytes, &mut at)?;
        }
        if i == m {
            return Some(Some(e));
        }
    }
    None
}

/// Appends `value` as a LEB128 varint: 7 bits a byte, low first, the top bit set on all but the
/// last.
fn put(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push(value as u8 | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

/// Reads a varint at `at` and moves past it; `None` past the end or over 64 bits.
fn take(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A signed number as an unsigned one, small magnitudes small: 0, −1, 1, −2, … → 0, 1, 2, 3, …
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

/// Restoring checks every row (that it reads to its end within the bytes), so that a refund
/// never reads a broken one.
#[cfg(feature = "snapshot")]
impl<'de> serde::Deserialize<'de> for EarnedTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<EarnedTable, D::Error> {
        use serde::de::Error as _;
        #[derive(serde::Deserialize)]
        struct Raw {
            rows: Vec<u32>,
            bytes: Vec<u8>,
        }
        let Raw { rows, bytes } = Raw::deserialize(deserializer)?;
        for &start in rows.iter().filter(|&&s| s != NONE) {
            let at = start as usize * 4;
            let whole = read_len(&bytes, at)
                .and_then(|(len, _)| (0..len).try_for_each(|m| read_row(&bytes, at, m).map(drop)));
            if whole.is_none() {
                return Err(D::Error::custom("an order's earned row is not one"));
            }
        }
        Ok(EarnedTable { rows, bytes, row: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::{Earned, EarnedTable, take, unzigzag, zigzag};
    use crate::OrderId;

    fn e(owed: (u64, u64), owed_total: i64, points: i64, items: (u32, u32), entry: u64) -> Earned {
        Earned { owed, owed_total, points, items, entry }
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX - 1, u64::MAX] {
            let mut bytes = Vec::new();
            super::put(&mut bytes, v);
            let mut at = 0;
            assert_eq!(take(&bytes, &mut at), Some(v));
            assert_eq!(at, bytes.len());
        }
        assert_eq!(bytes_of(u64::MAX).len(), 10);
        for v in [0, 1, -1, 2, -2, i64::MAX, i64::MIN, 123_456_789, -987_654_321] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!((zigzag(0), zigzag(-1), zigzag(1), zigzag(-2)), (0, 1, 2, 3));
        // An 11th byte, or a 10th with more than the 64th bit, is not a varint.
        let mut at = 0;
        assert_eq!(take(&[0xff; 11], &mut at), None);
        let mut at = 0;
        assert_eq!(take(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], &mut at), None);
    }

    fn bytes_of(v: u64) -> Vec<u8> {
        let mut bytes = Vec::new();
        super::put(&mut bytes, v);
        bytes
    }

    #[test]
    fn rows_keep_what_a_refund_reads() {
        let mut table = EarnedTable::default();
        let a = [
            e((5, 8), 12_345, 0, (0, 0), u64::MAX),
            e((9, 9), 777, -40_000, (3, 4), u64::MAX),
            e((0, 0), 0, 1 << 40, (4_000_000_000, 4_000_000_002), 1 << 33),
        ];
        table.set(OrderId::from_index(7), &a);
        let b = [Earned::NOTHING, e((u64::MAX - 3, u64::MAX), i64::MIN, i64::MAX, (1, 2), 0)];
        table.set(OrderId::from_index(2), &b);
        assert_eq!(table.get(OrderId::from_index(7), 0), Some(a[0]));
        // Owed nothing: what it came to is never read, so it is not kept.
        assert_eq!(table.get(OrderId::from_index(7), 1), Some(e((0, 0), 0, -40_000, (3, 4), u64::MAX)));
        assert_eq!(table.get(OrderId::from_index(7), 2), Some(a[2]));
        assert_eq!(table.get(OrderId::from_index(7), 3), Some(Earned::NOTHING), "a later mechanism");
        assert_eq!(table.get(OrderId::from_index(2), 0), Some(Earned::NOTHING));
        assert_eq!(table.get(OrderId::from_index(2), 1), Some(b[1]));
        assert_eq!(table.get(OrderId::from_index(3), 0), None, "not settled");
        assert_eq!(table.get(OrderId::from_index(99), 0), None, "past the end");
        assert_eq!(table.bytes.len() % 4, 0);

        table.truncate_mechanisms(1);
        assert_eq!(table.get(OrderId::from_index(7), 0), Some(a[0]));
        assert_eq!(table.get(OrderId::from_index(7), 1), Some(Earned::NOTHING));
        assert_eq!(table.get(OrderId::from_index(7), 2), Some(Earned::NOTHING));
        assert_eq!(table.get(OrderId::from_index(2), 1), Some(Earned::NOTHING));
        assert_eq!(table.get(OrderId::from_index(3), 0), None);
    }
}
