//! Notifications to the tenant's webhook, through an outbox.
//!
//! The writer puts an event's notifications (see [`fanli_format::notifications`]) in the
//! `outbox` table in the same transaction as the event, so a notification exists exactly when its
//! event is durable. A deliverer thread, on a connection of its own, posts each tenant's
//! notifications in order, one at a time: `POST URL` with the JSON body (its `id` first), and
//!
//! - `X-Fanli-Delivery: ID`: the outbox id, the same on every retry (the receiver's dedup key);
//! - `X-Fanli-Signature: t=UNIX_SECONDS,v1=HEX`: HMAC-SHA256 under the webhook's secret of
//!   `"{t}.{body}"`, so a receiver can check origin and freshness.
//!
//! Any 2xx acknowledges. Anything else (another status, a refused connection, 10 s without an
//! answer) is a failed attempt, retried after an exponential backoff with jitter (see
//! [`Retry`]): the delay doubles from [`Retry::base`] up to [`Retry::max_delay`], and each is
//! drawn at random between half of it and all of it, so that many notifications failing
//! together do not come back together. After [`Retry::attempts`] failed attempts (16 by
//! default: about 2 to 4 hours with a base of 1 s) the notification becomes a **dead letter**:
//! tried no more, listed by `GET /v1/webhook/dead` and the console's `/console/webhook`, and
//! sent again by `POST /v1/webhook/dead/{id}/replay` (or `/v1/webhook/dead/replay`: all of the
//! tenant's) with the same id, its attempts counted from 0.
//!
//! **Order.** Each round takes a tenant's notifications that are due, oldest first; a failure
//! ends that tenant's round (one slow receiver costs a round one timeout, not one per
//! notification) and the failed notification waits out its own backoff while the later ones go
//! on in the next rounds. So a receiver sees the notifications in order while it acknowledges
//! them, and out of order after a failure: one that failed arrives after later ones. Every body
//! carries the log's `line` of its event (and the outbox `id`, increasing within a line): a
//! receiver that needs them in order sorts or applies them by `line`, then `id`.
//! Delivery is at least once: a receiver that acknowledged but whose answer was lost sees the
//! same id again.
//!
//! Each notification's state (attempts, next time, delivered or dead) is a row of the store's
//! `outbox`, written as each attempt ends: a restart goes on where the last one stopped.

use std::path::Path;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::Store;

/// The signature header's value for `body` sent at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// How the deliverer retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// The first retry's delay (before jitter).
    pub base: Duration,
    /// The longest delay (before jitter).
    pub max_delay: Duration,
    /// Attempts in all, the first one included: after this many failures, a dead letter.
    pub attempts: u32,
    /// The jitter's seed; `None`: a random one (a test sets one to have the same delays).
    pub seed: Option<u64>,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { base: Duration::from_secs(1), max_delay: Duration::from_secs(3600), attempts: 16, seed: None }
    }
}

impl Retry {
    /// The delay before attempt `attempts + 1`, after `attempts` failures, without jitter:
    /// `base` doubled each time, at most `max_delay`.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let factor = 1u32 << attempts.clamp(0, 20);
        self.base.saturating_mul(factor).min(self.max_delay)
    }

    /// [`Retry::backoff`] with jitter: `random` (any `u64`) picks a delay between half the
    /// backoff and all of it, to the millisecond.
    pub fn delay(&self, attempts: i64, random: u64) -> Duration {
        let full = self.backoff(attempts).as_millis() as u64;
        let half = full / 2;
        Duration::from_millis(half + random % (full - half + 1))
    }
}

/// A small random generator for the jitter (SplitMix64): seeded, the same delays each run.
/// Not for secrets.
#[derive(Clone, Debug)]
pub struct Jitter(u64);

impl Jitter {
    /// A generator from `seed`, or from the system's randomness.
    pub fn new(seed: Option<u64>) -> Jitter {
        Jitter(seed.unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            let _ = getrandom::fill(&mut bytes);
            u64::from_le_bytes(bytes)
        }))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The deliverer: its own connection to the store, and an HTTP client.
pub struct Deliverer {
    store: Store,
    /// In a cluster, this node: it delivers only for the tenants it serves.
    node: Option<String>,
    agent: ureq::Agent,
    /// How it retries.
    pub retry: Retry,
    jitter: Jitter,
}

fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Deliverer {
    /// A deliverer on the store in `dir`.
    pub fn open(
        dir: &Path,
        database: Option<&str>,
        node: Option<String>,
        retry: Retry,
    ) -> crate::store::Result<Deliverer> {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build();
        let jitter = Jitter::new(retry.seed);
        Ok(Deliverer { store: Store::open(dir, database)?, node, agent: config.into(), retry, jitter })
    }

    /// One round: for every tenant with a webhook, its due notifications in order until one
    /// fails (which waits out its backoff, or becomes a dead letter after its last attempt).
    /// Returns how many were delivered.
    pub fn round(&mut self) -> crate::store::Result<usize> {
        let mut delivered = 0;
        let hooks = match &self.node {
            Some(node) => self.store.webhooks_of(node)?,
            None => self.store.webhooks()?,
        };
        for (tenant, url, secret) in hooks {
            for pending in self.store.due(&tenant, now_millis(), 100)? {
                // The id goes first in the body: `{"id":N,...}`.
                let body = format!("{{\"id\":{},{}", pending.id, &pending.body[1..]);
                match self.post(&url, &secret, pending.id, &body) {
                    Ok(()) => {
                        self.store.delivered(pending.id, now_millis())?;
                        delivered += 1;
                    }
                    Err(error) => {
                        let attempts = pending.attempts + 1;
                        let now = now_millis();
                        if attempts >= i64::from(self.retry.attempts) {
                            tracing::error!(%tenant, id = pending.id, attempts, %error, "webhook notification given up: a dead letter");
                            self.store.dead(pending.id, now, &error)?;
                        } else {
                            let delay = self.retry.delay(pending.attempts, self.jitter.next_u64());
                            tracing::warn!(%tenant, id = pending.id, attempts, %error, retry_in = ?delay, "webhook delivery failed");
                            self.store.failed(pending.id, now + delay.as_millis() as i64, &error)?;
                        }
                        break;
                    }
                }
            }
        }
        Ok(delivered)
    }

    fn post(&self, url: &str, secret: &str, id: i64, body: &str) -> Result<(), String> {
        let t = now_millis() / 1000;
        let response = self
            .agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Fanli-Delivery", id.to_string())
            .header("X-Fanli-Signature", signature(secret, t, body))
            .send(body)
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("the receiver answered {status}")) }
    }

    /// Delivers forever, a round every `pause` (a failed round is logged and retried).
    pub fn run(&mut self, pause: Duration) {
        self.run_until(pause, &std::sync::atomic::AtomicBool::new(false));
    }

    /// [`Deliverer::run`] until `stop` is set: it stops between rounds (each delivery's
    /// position is saved as it is made, so a stop loses none).
    pub fn run_until(&mut self, pause: Duration, stop: &std::sync::atomic::AtomicBool) {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if let Err(e) = self.round() {
                tracing::error!(error = %e, "the webhook outbox could not be read");
            }
            // The pause in short steps, to see a stop soon.
            let until = std::time::Instant::now() + pause;
            while std::time::Instant::now() < until && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(pause.min(Duration::from_millis(50)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Pinned against an independent computation:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature("secret", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_its_maximum() {
        let retry = Retry { base: Duration::from_millis(500), ..Retry::default() };
        assert_eq!(retry.backoff(0), Duration::from_millis(500));
        assert_eq!(retry.backoff(1), Duration::from_secs(1));
        assert_eq!(retry.backoff(3), Duration::from_secs(4));
        assert_eq!(retry.backoff(12), Duration::from_secs(2048));
        assert_eq!(retry.backoff(13), Duration::from_secs(3600));
        assert_eq!(retry.backoff(400), Duration::from_secs(3600));
        let short = Retry { base: Duration::from_millis(10), max_delay: Duration::from_millis(40), ..retry };
        assert_eq!(short.backoff(1), Duration::from_millis(20));
        assert_eq!(short.backoff(5), Duration::from_millis(40));
    }

    #[test]
    fn the_jitter_draws_between_half_the_backoff_and_all_of_it() {
        let retry = Retry { base: Duration::from_millis(1000), ..Retry::default() };
        // The ends: 0 gives half, one below the span's size gives all of it.
        assert_eq!(retry.delay(0, 0), Duration::from_millis(500));
        assert_eq!(retry.delay(0, 500), Duration::from_millis(1000));
        assert_eq!(retry.delay(0, 501), Duration::from_millis(500));
        assert_eq!(retry.delay(2, 1234), Duration::from_millis(2000 + 1234));
        // Seeded: the same draws each run (SplitMix64's first outputs for seed 0, as its
        // reference implementation gives them), and different seeds differ.
        let mut jitter = Jitter::new(Some(0));
        assert_eq!(jitter.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(jitter.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        let draws = |seed| {
            let mut j = Jitter::new(Some(seed));
            (0..8).map(|_| retry.delay(3, j.next_u64()).as_millis()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        // Every delay after 3 failures is within [4 s, 8 s], and they spread.
        let spread = draws(7);
        assert!(spread.iter().all(|&d| (4000..=8000).contains(&d)), "{spread:?}");
        assert!(spread.iter().max().unwrap() - spread.iter().min().unwrap() > 1000, "{spread:?}");
    }
}
