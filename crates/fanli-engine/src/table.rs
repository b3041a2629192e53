//! Per-member tables: a `Vec` indexed by member, grown on first write, and a cache hint for a
//! row. Every module keeps its per-member state this way (the ledger, the pools, each kind), so
//! the helpers live here, below all of them.

use crate::MemberId;

/// A growable per-member table: reading past the end gives the default.
pub(crate) fn slot<T: Default + Clone>(table: &mut Vec<T>, member: MemberId) -> &mut T {
    let i = member.index();
    if table.len() <= i {
        table.resize(i + 1, T::default());
    }
    &mut table[i]
}

/// Starts loading a member's row of a per-member table into the cache: a hint, which changes
/// nothing (a member past the end of the table is skipped). See `Engine::close_day`.
pub(crate) fn prefetch<T>(table: &[T], member: MemberId) {
    if member.index() < table.len() {
        prefetch_index::prefetch_index(table, member.index());
    }
}
