//! Day close: which business day each tenant closes next, and the scheduler thread that closes
//! them (and, in a cluster, takes over the tenants no node serves).

use super::*;

/// A tenant's business days, as the scheduler sees them: days are local days of the plan's
/// timezone, numbered from 1970-01-01.
#[derive(Default)]
pub(crate) struct Days {
    /// The last day a `close_day` has closed. A `close_day` at `t` closes the day before `t`'s
    /// last nanosecond (so one at midnight closes the day that just ended); one the scheduler
    /// sends closes the day it was sent for, even when later events pushed its time past midnight.
    pub(crate) closed_through: Option<i64>,
    /// How far behind the wall clock the tenant's latest event (not the scheduler's) was stamped
    /// when it arrived, in nanoseconds; unknown after a start.
    pub(crate) lag: Option<i64>,
}

impl Days {
    /// Takes note of when an event the tenant sent arrived (`arrived`, the wall clock).
    pub(crate) fn arrived(&mut self, event: &fanli_engine::Event<'_>, arrived: i64) {
        self.lag = Some(arrived - event.at.unix_nanos());
    }

    /// Whether the tenant's latest events were history (stamped well before they arrived). Kept
    /// in the store when it changes, so that a restart leaves such a tenant alone as the running
    /// server did.
    pub(crate) fn backfilling(&self) -> bool {
        self.lag.is_some_and(|lag| lag > LIVE_LAG_NANOS)
    }

    /// Takes note of an applied event; `day` is the day a scheduler `close_day` was sent for.
    pub(crate) fn note(
        &mut self,
        event: &fanli_engine::Event<'_>,
        offset: fanli_engine::UtcOffset,
        day: Option<i64>,
    ) {
        if let fanli_engine::EventKind::CloseDay = event.kind {
            let closed = day
                .unwrap_or_else(|| Timestamp::from_unix_nanos(event.at.unix_nanos() - 1).local_day(offset));
            self.closed_through = Some(self.closed_through.map_or(closed, |c| c.max(closed)));
        }
    }

    /// The day the scheduler closes next, if one has ended by `now` and the tenant is live: the
    /// events it sends are stamped about when they arrive (at most [`LIVE_LAG_NANOS`] behind), or,
    /// after a start, before anything arrived, its last event is at most [`LIVE_NANOS`] old. A
    /// tenant sending history (a backfill, a migration, a test: events stamped well before they
    /// arrive) closes its own days; the scheduler leaves it alone. The next day is the one after the
    /// last closed, but never before the day of the last event (`last`): a day that ended before
    /// it can no longer be closed at its own end, since time does not go back.
    pub(crate) fn due(
        &self,
        now: Timestamp,
        last: Timestamp,
        offset: fanli_engine::UtcOffset,
    ) -> Option<(i64, Timestamp)> {
        let pending = self.closed_through.map_or(i64::MIN, |d| d + 1).max(last.local_day(offset));
        let live = match self.lag {
            Some(lag) => lag <= LIVE_LAG_NANOS,
            None => now.unix_nanos() - last.unix_nanos() <= LIVE_NANOS,
        };
        let end = (pending + 1) * DAY_NANOS - i64::from(offset.seconds()) * 1_000_000_000;
        (live && end <= now.unix_nanos())
            .then(|| (pending, Timestamp::from_unix_nanos(end.max(last.unix_nanos()))))
    }
}

pub(crate) const DAY_NANOS: i64 = 86_400 * 1_000_000_000;

/// How far behind the wall clock a live tenant's events may be stamped: ten minutes.
pub(crate) const LIVE_LAG_NANOS: i64 = 600 * 1_000_000_000;

/// After a start, how recent a tenant's last event must be for the scheduler to close its days:
/// a week, so that a server down for a few days catches up, day by day, when it comes back.
pub(crate) const LIVE_NANOS: i64 = 7 * DAY_NANOS;

impl Server {
    /// The scheduler's tick: for every live tenant (see [`Days::due`]) whose next business day
    /// has ended by `now` in the plan's timezone, a `close_day` at the day's end (or at the
    /// tenant's last event, if later), one day at a time until none is due. Returns the
    /// tenants closed, once per day closed, sorted.
    pub fn close_due_days(&self, now: Timestamp) -> Vec<String> {
        let mut closed = Vec::new();
        // A clean stop lets the day close under way finish, and starts no other.
        while closed.is_empty() || !self.stopping.load(Ordering::Relaxed) {
            let due: Vec<(String, i64, Timestamp)> = {
                let app = self.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                app.tenants
                    .iter()
                    .filter_map(|(id, t)| {
                        let engine = t.engine.as_ref()?;
                        let (day, at) = t.days.due(now, engine.now()?, engine.plan().timezone)?;
                        Some((id.clone(), day, at))
                    })
                    .collect()
            };
            if due.is_empty() {
                break;
            }
            let before = closed.len();
            for (id, day, at) in due {
                let line = format!("{{\"at\":\"{at}\",\"type\":\"close_day\"}}").into_bytes();
                let (reply, answer) = tokio::sync::oneshot::channel();
                let job =
                    Job { tenant: id.clone(), by: None, lines: vec![Line::Raw(line)], day: Some(day), reply };
                if self.jobs.send(job).is_ok()
                    && matches!(answer.blocking_recv(), Ok(Ok(results)) if matches!(results[..], [LineResult::Applied { .. }]))
                {
                    self.metrics.day_closes.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(tenant = %id, at = %at, "day closed");
                    closed.push(id);
                } else {
                    tracing::warn!(tenant = %id, at = %at, "the scheduler could not close the day");
                }
            }
            if closed.len() == before {
                // Nothing could be closed (the writer stopped, or the store failed): next tick.
                break;
            }
        }
        closed.sort();
        closed
    }
}

/// The scheduler: every second, the day closes that are due (a second keeps the window in which
/// an event can land between midnight and its `close_day` short) and, in a cluster, the
/// tenants to take over. Ends when a clean stop begins ([`Server::stopping`]), once the day
/// close it is making is committed.
pub(crate) fn run(server: &Server) {
    let stopping = || server.stopping.load(Ordering::Relaxed);
    while !stopping() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        server.close_due_days(Timestamp::from_unix_nanos(now));
        // A second, looking every 50 ms for a stop.
        for _ in 0..20 {
            if stopping() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use fanli_engine::{Timestamp, UtcOffset};

    use super::Days;

    #[test]
    fn the_next_day_to_close_is_never_before_the_last_events_day() {
        let at = |t: &str| Timestamp::parse_rfc3339(t).unwrap();
        let china = UtcOffset::CHINA;
        let day = |t: &str| at(t).local_day(china);
        let last = at("2026-03-20T10:00:00+08:00");
        // Nothing closed yet: the last event's day, once it has ended, at its midnight.
        let fresh = Days::default();
        assert_eq!(fresh.due(at("2026-03-20T23:59:59+08:00"), last, china), None);
        assert_eq!(
            fresh.due(at("2026-03-21T00:00:01+08:00"), last, china),
            Some((day("2026-03-20T12:00:00+08:00"), at("2026-03-21T00:00:00+08:00")))
        );
        // History closed through March 1, then live events on the 20th: the days between ended
        // before the last event and are not closed after the fact.
        let old = Days { closed_through: Some(day("2026-03-01T12:00:00+08:00")), lag: None };
        assert_eq!(
            old.due(at("2026-03-21T00:00:01+08:00"), last, china),
            fresh.due(at("2026-03-21T00:00:01+08:00"), last, china)
        );
        // Closed through the 20th: the 21st is next, due at the 22nd's midnight.
        let closed = Days { closed_through: Some(day("2026-03-20T12:00:00+08:00")), lag: None };
        let after = at("2026-03-21T00:00:00+08:00");
        assert_eq!(closed.due(at("2026-03-21T23:00:00+08:00"), after, china), None);
        assert_eq!(
            closed.due(at("2026-03-22T00:00:00+08:00"), after, china).map(|(_, t)| t),
            Some(at("2026-03-22T00:00:00+08:00"))
        );
        // An operator's close_day at 23:00 closes its own day; one at midnight the day before.
        let mut days = Days::default();
        let close = |t: &str| fanli_engine::Event { at: at(t), kind: fanli_engine::EventKind::CloseDay };
        days.note(&close("2026-03-20T23:00:00+08:00"), china, None);
        assert_eq!(days.closed_through, Some(day("2026-03-20T12:00:00+08:00")));
        days.note(&close("2026-03-22T00:00:00+08:00"), china, None);
        assert_eq!(days.closed_through, Some(day("2026-03-21T12:00:00+08:00")));
        // The scheduler's close names its day, even when pushed past midnight.
        days.note(&close("2026-03-23T00:00:00.5+08:00"), china, Some(day("2026-03-22T12:00:00+08:00")));
        assert_eq!(days.closed_through, Some(day("2026-03-22T12:00:00+08:00")));
        // A tenant whose events arrive stamped long before (a backfill of recent days) is left
        // alone, however recent the days; one whose events are stamped as they arrive is live.
        let backfill = Days { closed_through: None, lag: Some(3 * 86_400 * 1_000_000_000) };
        assert_eq!(backfill.due(at("2026-03-21T00:00:01+08:00"), last, china), None);
        let live = Days { closed_through: None, lag: Some(2_000_000_000) };
        assert_eq!(
            live.due(at("2026-03-21T00:00:01+08:00"), last, china),
            fresh.due(at("2026-03-21T00:00:01+08:00"), last, china)
        );
        // After a start (no lag known yet): up to a week after its last event a tenant is live;
        // past a week it is replaying history.
        assert_eq!(
            closed.due(at("2026-03-27T23:59:59+08:00"), after, china).map(|(d, _)| d),
            Some(day("2026-03-21T12:00:00+08:00"))
        );
        assert_eq!(closed.due(at("2026-03-28T00:00:01+08:00"), after, china), None);
    }
}
