//! What an operator and a member see of a queue mechanism.

use crate::key;
use crate::kind::Figures;
use crate::num::Money;
use crate::time::Timestamp;
use crate::view::{Fields, Figure};

/// The waiting entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueView {
    /// What they wait for in all (a due entry's amount is in `obligations` until paid).
    pub queued: Money,
    /// How many.
    pub waiting: u64,
    /// When the oldest of them joined.
    pub oldest_since: Option<Timestamp>,
}

impl Figures for QueueView {
    fn write<F: Fields>(&self, out: &mut F) {
        out.figure(key!("queued"), Figure::Money(self.queued));
        out.figure(key!("waiting"), Figure::Count(self.waiting));
        out.figure(key!("oldest_since"), self.oldest_since.map_or(Figure::Null, Figure::Time));
    }

    fn text(&self) -> String {
        let since = self.oldest_since.map_or(String::new(), |t| format!(", the oldest since {t}"));
        format!("{} entries waiting for {}{since}", self.waiting, self.queued)
    }
}

/// A member's place in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Place {
    /// Entries of this member still waiting.
    pub entries: u64,
    /// What they wait for in all.
    pub waiting: Money,
    /// The position of the member's oldest waiting entry, from 1.
    pub position: u64,
    /// What the entries ahead of it wait for.
    pub ahead: Money,
}

impl Figures for Place {
    fn write<F: Fields>(&self, out: &mut F) {
        let waits = self.entries > 0;
        out.figure(key!("entries"), Figure::Count(self.entries));
        out.figure(key!("waiting"), Figure::Money(self.waiting));
        out.figure(key!("position"), Figure::count(waits.then_some(self.position)));
        out.figure(key!("ahead"), Figure::money(waits.then_some(self.ahead)));
    }

    fn text(&self) -> String {
        if self.entries == 0 {
            return "no entry waiting".to_owned();
        }
        format!(
            "{} entr{} waiting for {}; the oldest is number {} in line, with {} queued ahead of it",
            self.entries,
            if self.entries == 1 { "y" } else { "ies" },
            self.waiting,
            self.position,
            self.ahead
        )
    }

    fn shown(&self) -> bool {
        self.entries > 0
    }
}
