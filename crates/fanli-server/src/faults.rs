//! Fault injection, for tests (issue 17): group commits that fail at seeded random points, as a
//! full disk or a failed fsync would make them fail. The transaction is not made: nothing of
//! the group is stored, and the writer must answer none of it as done. Off unless asked for
//! ([`App::inject_faults`](crate::App::inject_faults); `fanli serve` reads
//! `FANLI_INJECT_FAULTS=SEED/ONE_IN`, which only tests set).

/// A seeded source of failed commits: each commit fails with a chance of one in `one_in`.
#[derive(Clone, Debug)]
pub struct Faults {
    state: u64,
    one_in: u64,
    /// Commits failed so far.
    pub(crate) injected: u64,
}

impl Faults {
    /// Fails about one commit in `one_in`, at the points `seed` picks.
    pub fn seeded(seed: u64, one_in: u64) -> Faults {
        Faults { state: seed ^ 0x9E37_79B9_7F4A_7C15, one_in: one_in.max(1), injected: 0 }
    }

    /// `SEED/ONE_IN`, as `FANLI_INJECT_FAULTS` has it.
    pub fn parse(text: &str) -> Option<Faults> {
        let (seed, one_in) = text.split_once('/')?;
        Some(Faults::seeded(seed.trim().parse().ok()?, one_in.trim().parse().ok()?))
    }

    /// Called before each group commit: an error when this one is to fail.
    pub(crate) fn before_commit(&mut self) -> Result<(), crate::store::StoreError> {
        // SplitMix64: small, seeded, and the same on every platform.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        if !z.is_multiple_of(self.one_in) {
            return Ok(());
        }
        self.injected += 1;
        let error = std::io::Error::new(std::io::ErrorKind::StorageFull, "an injected fault (a full disk)");
        Err(crate::store::StoreError::Io(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_fails_the_same_commits() {
        let run = |seed| {
            let mut faults = Faults::seeded(seed, 4);
            (0..64).map(|_| faults.before_commit().is_err()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let failed = run(7).iter().filter(|&&f| f).count();
        assert!((4..=32).contains(&failed), "{failed}");
        assert!(Faults::parse("7/4").is_some() && Faults::parse("7").is_none());
    }
}
