//! A queue mechanism's settings: its plan keys and its compliance rules.

use crate::findings::{Findings, Level};
use crate::headroom::{Growth, up};
use crate::keys::{Reader, Table, Value};
use crate::kind::{Lowered, Settings};
use crate::num::{Money, Rate};
use crate::terms::Reach;

/// Settings of a queue mechanism.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub struct QueueConfig {
    /// An order of at least this creates an entry.
    pub min_order: Money,
    /// when_funded: an entry waits for this multiple of the order amount.
    pub credit_ratio: Rate,
    /// when_funded: an entry becomes eligible this many days after it settles.
    pub lock_days: u32,
    /// How entries are released.
    pub release: Release,
    /// A referee's settled order pays this share of it to the referrer's oldest waiting entry.
    pub referral_acceleration: Rate,
}

/// How a queue releases its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "snapshot", derive(serde::Serialize, serde::Deserialize))]
pub enum Release {
    /// At each day close, strictly in order, each head entry the pool can pay in full.
    WhenFunded,
    /// 进三补一: every `every` new entries make the oldest waiting one due for `ratio` × its order.
    EveryN {
        /// Entries per release (at least 1).
        every: u32,
        /// What a due entry is owed, as a share of its order.
        ratio: Rate,
    },
}

impl QueueConfig {
    /// What an entry for an order of `amount` is owed.
    pub fn owed(&self, amount: Money) -> Money {
        match self.release {
            Release::WhenFunded => amount.mul_rate(self.credit_ratio),
            Release::EveryN { ratio, .. } => amount.mul_rate(ratio),
        }
    }
}

fn release(r: &mut Reader, value: &Value, key: &str) -> Option<Release> {
    const EXPECTED: &str = "must be \"when_funded\" or a table such as { every = 3, ratio = \"0.70\" }";
    if let Some(text) = r.text_of(value) {
        if text == "when_funded" {
            return Some(Release::WhenFunded);
        }
        r.error(value.line, key, EXPECTED);
        return None;
    }
    if !r.is_table(value) {
        r.error(value.line, key, EXPECTED);
        return None;
    }
    let mut t = r.subtable(value, key, EXPECTED)?;
    let every = r.required(&mut t, "every", |r, v, k| r.integer(v, k, 1..=1000));
    let ratio = r.required(&mut t, "ratio", |r, v, k| {
        r.rate(v, k, Rate::from_units(1)..=Rate::from_units(10_000_000_000), "above 0 and at most 10")
    });
    r.finish(t);
    Some(Release::EveryN { every: every? as u32, ratio: ratio? })
}

impl Settings for QueueConfig {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let release = r.required(t, "release", release);
        // every-n entries are owed `ratio` × the order, so there `credit_ratio` is read (a plan
        // template may carry it) but has no effect.
        let credit_ratio = r.optional(t, "credit_ratio", |r, v, k| {
            r.rate(v, k, Rate::from_units(1)..=Rate::from_units(10_000_000_000), "above 0 and at most 10")
        });
        let min_order = r.optional(t, "min_order", |r, v, k| r.money(v, k));
        let lock_days = r.optional(t, "lock_days", |r, v, k| r.integer(v, k, 0..=3650));
        let acceleration = r.optional(t, "referral_acceleration", |r, v, k| {
            r.rate(v, k, Rate::ZERO..=Rate::ONE, "between 0 and 1")
        });
        Some(QueueConfig {
            min_order: min_order.or(Money::ZERO)?,
            credit_ratio: credit_ratio.or(Rate::ONE)?,
            lock_days: lock_days.or(0)? as u32,
            release: release?,
            referral_acceleration: acceleration.or(Rate::ZERO)?,
        })
    }

    fn check(&self, f: &mut Findings<'_>) {
        let q = self;
        let (ratio, k) = match q.release {
            Release::WhenFunded => (q.credit_ratio, "credit_ratio"),
            Release::EveryN { ratio, .. } => (ratio, "release.ratio"),
        };
        if ratio > Rate::ONE {
            f.push(
                Level::Warning,
                "static-return",
                f.key(k),
                format!("排队返还消费额的 {ratio} 倍：承诺回报超过消费额，有非法集资风险。"),
                format!(
                    "the queue pays back {ratio}× the order: a promised return above 100% of spend, \
                     the risk of illegal fund-raising (非法集资)"
                ),
                format!("keep {k} at or below 1"),
            );
        }
    }

    fn assert_valid(&self) {
        let q = self;
        if let Release::EveryN { every, .. } = q.release {
            assert!(every >= 1, "every is at least 1");
        }
    }

    fn reach(&self) -> Reach {
        Reach { depth: 1, ..Reach::default() }
    }

    /// An entry waits for its ratio of the order.
    fn growth(&self) -> Growth {
        let config = self;
        let ratio = match config.release {
            Release::WhenFunded => config.credit_ratio,
            Release::EveryN { ratio, .. } => ratio,
        };
        Growth { per_fen: 1 + up(1, ratio), per_order: 0, per_largest: 0 }
    }

    fn lowers(&self, old: &Self) -> bool {
        let l = Lowered::default().lower(&old.min_order, &self.min_order);
        let l = l.higher(&old.credit_ratio, &self.credit_ratio);
        let l = l.higher(&old.referral_acceleration, &self.referral_acceleration);
        match (&old.release, &self.release) {
            (Release::EveryN { every: oe, ratio: or }, Release::EveryN { every: ne, ratio: nr }) => {
                l.lower(oe, ne).higher(or, nr).0
            }
            _ => l.0,
        }
    }

    fn fixed(&self, old: &Self) -> Option<&'static str> {
        // Entries wait under the rule and the lock they joined under.
        if std::mem::discriminant(&self.release) != std::mem::discriminant(&old.release) {
            return Some("release (when waiting entries are paid)");
        }
        (self.lock_days != old.lock_days).then_some("lock_days (waiting entries' locks)")
    }
}
