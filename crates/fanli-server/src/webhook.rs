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
//! answer) is retried after a backoff that doubles from [`Deliverer::base`] up to an hour; a
//! tenant's later notifications wait behind a failing one, so the receiver sees them in order.
//! Delivery is at least once: a receiver that acknowledged but whose answer was lost sees the
//! same id again.

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

/// The delay before attempt `attempts + 1`, after `attempts` failures: `base` doubled each time,
/// at most an hour.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let factor = 1u32 << attempts.clamp(0, 20);
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

/// The deliverer: its own connection to the store, and an HTTP client.
pub struct Deliverer {
    store: Store,
    /// In a cluster, this node: it delivers only for the tenants it serves.
    node: Option<String>,
    agent: ureq::Agent,
    /// The first retry's delay.
    pub base: Duration,
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
        base: Duration,
    ) -> crate::store::Result<Deliverer> {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build();
        Ok(Deliverer { store: Store::open(dir, database)?, node, agent: config.into(), base })
    }

    /// One round: for every tenant with a webhook, its due notifications in order until one
    /// fails. Returns how many were delivered.
    pub fn round(&mut self) -> crate::store::Result<usize> {
        let mut delivered = 0;
        let hooks = match &self.node {
            Some(node) => self.store.webhooks_of(node)?,
            None => self.store.webhooks()?,
        };
        for (tenant, url, secret) in hooks {
            for pending in self.store.pending(&tenant, 100)? {
                let now = now_millis();
                if pending.next_at > now {
                    break;
                }
                // The id goes first in the body: `{"id":N,...}`.
                let body = format!("{{\"id\":{},{}", pending.id, &pending.body[1..]);
                match self.post(&url, &secret, pending.id, &body) {
                    Ok(()) => {
                        self.store.delivered(pending.id, now_millis())?;
                        delivered += 1;
                    }
                    Err(error) => {
                        let next = now + backoff(self.base, pending.attempts).as_millis() as i64;
                        tracing::warn!(%tenant, id = pending.id, attempts = pending.attempts + 1, %error, "webhook delivery failed");
                        self.store.failed(pending.id, next, &error)?;
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
    fn the_backoff_doubles_up_to_an_hour() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff(base, 0), Duration::from_millis(500));
        assert_eq!(backoff(base, 1), Duration::from_secs(1));
        assert_eq!(backoff(base, 3), Duration::from_secs(4));
        assert_eq!(backoff(base, 12), Duration::from_secs(2048));
        assert_eq!(backoff(base, 13), Duration::from_secs(3600));
        assert_eq!(backoff(base, 400), Duration::from_secs(3600));
    }
}
