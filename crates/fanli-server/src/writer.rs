//! The writer: one thread applies every request waiting, in order, and commits what they add
//! (events, notifications, reports, members' history) in one transaction before answering each
//! (group commit); how a tenant is loaded from its snapshot and log; the snapshot thread.

use super::*;

/// Events for one tenant, waiting for the writer.
pub(crate) struct Job {
    pub(crate) tenant: String,
    /// The id of the key that sent them; `None` for the server's own (the scheduler's).
    pub(crate) by: Option<String>,
    pub(crate) lines: Vec<Line>,
    /// For the scheduler's `close_day`: the day it closes.
    pub(crate) day: Option<i64>,
    pub(crate) reply: tokio::sync::oneshot::Sender<Result<Vec<LineResult>, ApiError>>,
}

/// What one line of a job came to.
#[derive(Debug)]
pub(crate) enum LineResult {
    /// Applied (and committed, once the job is answered), at this time; a new order posted on
    /// its own, or a retry of one, has the answer `POST /v1/orders` gives: its JSON text,
    /// serialized once by the writer (the text an order's retries get back from the store) and
    /// sent as it is, not a value serialized again on the request's thread.
    Applied { at: String, answer: Option<String> },
    /// A blank line: skipped, as every reader skips it.
    Skipped,
    /// Refused, with the rejection's code: nothing changed.
    Refused(fanli_format::Refusal),
}

impl LineResult {
    /// Writes the result as `POST /v1/events` answers it for line `number` (from 1): `{"line",
    /// "ok": true, "at"}` (with `"answer"` when it has one), `{"line", "ok": true, "skipped": "a
    /// blank line"}` or `{"line", "ok": false, "code", "error"}`. Written out directly: a batch
    /// answers thousands of them.
    fn write_json(&self, number: usize, out: &mut Vec<u8>) {
        let string = |out: &mut Vec<u8>, text: &str| {
            serde_json::to_writer(&mut *out, text).expect("a string serializes");
        };
        out.extend_from_slice(b"{\"line\":");
        out.extend_from_slice(number.to_string().as_bytes());
        match self {
            LineResult::Applied { at, answer } => {
                out.extend_from_slice(b",\"ok\":true,\"at\":");
                string(out, at);
                if let Some(answer) = answer {
                    out.extend_from_slice(b",\"answer\":");
                    out.extend_from_slice(answer.as_bytes());
                }
            }
            LineResult::Skipped => out.extend_from_slice(b",\"ok\":true,\"skipped\":\"a blank line\""),
            LineResult::Refused(refusal) => {
                out.extend_from_slice(b",\"ok\":false,\"code\":");
                string(out, refusal.code);
                out.extend_from_slice(b",\"error\":");
                string(out, &refusal.error);
            }
        }
        out.push(b'}');
    }
}

/// `{"results": [...]}`: each line's result as `POST /v1/events` answers it, numbered from 1.
pub(crate) fn results_body(results: &[LineResult]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + results.len() * 56);
    out.extend_from_slice(b"{\"results\":[");
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        result.write_json(i + 1, &mut out);
    }
    out.extend_from_slice(b"]}");
    out
}

/// A line of a job: as sent, or an event's fields, stamped with the time they are applied at
/// when they have no `at`. Fields are read where they are (`EventLine::read_object`), not
/// written out and read again.
pub(crate) enum Line {
    /// A blank line of a body: answered, skipped.
    Blank,
    /// A line of a `POST /v1/events` body (or the scheduler's `close_day`).
    Raw(Vec<u8>),
    /// An event's fields with its `type` among them (the console's).
    Stamp(serde_json::Map<String, Value>),
    /// A request's body, the fields of an event of type `kind` (`POST /v1/orders`, ...): a `type`
    /// among them is ignored.
    Body { kind: &'static str, fields: serde_json::Map<String, Value> },
}

impl Line {
    /// The fields of an order sent on its own, whose answer is kept for its retries.
    fn order(&self) -> Option<&serde_json::Map<String, Value>> {
        match self {
            Line::Body { kind: "order", fields } => Some(fields),
            Line::Stamp(fields) if fields.get("type").and_then(Value::as_str) == Some("order") => {
                Some(fields)
            }
            _ => None,
        }
    }
}

/// Group commit: the writer takes every job waiting, applies them in order under the state's
/// lock, releases it, stores all their accepted events in one transaction on its own connection
/// (`store`; made again by `reopen` when it is lost, and without one, under the lock on the
/// state's), and only then answers each. While a group is stored, requests read the state it
/// left; `api::durable` holds their answers until that group is stored (docs/decisions.md,
/// "What a read can see while a group is being stored"). `checkpoints` is woken after each group.
pub(crate) fn write_loop(
    server: &Server,
    queue: &std::sync::mpsc::Receiver<Job>,
    mut store: Option<Store>,
    reopen: impl Fn() -> Option<Store>,
    checkpoints: Option<std::sync::mpsc::SyncSender<()>>,
) {
    while let Ok(first) = queue.recv() {
        let mut lines = first.lines.len();
        let mut batch = vec![first];
        let mut lingered = false;
        while batch.len() < 4096 {
            match queue.try_recv() {
                Ok(job) => {
                    lines += job.lines.len();
                    batch.push(job);
                }
                // Requests that arrived during the last commit are on their way: a moment's wait
                // lets them join this commit instead of each making its own. Not for a group
                // already large ([`STREAM_FROM`] lines: a client's batch), whose commit is shared
                // by enough lines: one connection posting batches would wait 200 µs a batch.
                Err(_) if !lingered && batch.len() < 16 && lines < STREAM_FROM => {
                    lingered = true;
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        if store.as_ref().is_some_and(Store::closed) {
            tracing::warn!("the writer's connection was lost: made again");
            store = reopen();
        }
        let replies = match store.as_mut() {
            Some(store) => commit_outside(server, &batch, store),
            None => {
                let mut app = server.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                app.apply_batch(&batch)
            }
        };
        if let Some(checkpoints) = &checkpoints {
            // Already awake, or woken now: either way the log is copied soon.
            let _ = checkpoints.try_send(());
        }
        server.metrics.commit_seconds.observe(started.elapsed());
        let (mut applied, mut rejected) = (0, 0);
        for reply in &replies {
            match reply {
                Ok(results) => {
                    // A blank line counts with the applied ones, as it always has.
                    let refused = results.iter().filter(|r| matches!(r, LineResult::Refused(_))).count();
                    rejected += refused as u64;
                    applied += (results.len() - refused) as u64;
                }
                Err(_) => {
                    server.metrics.commit_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        server.metrics.events_applied.fetch_add(applied, Ordering::Relaxed);
        server.metrics.events_rejected.fetch_add(rejected, Ordering::Relaxed);
        tracing::debug!(requests = batch.len(), applied, rejected, elapsed = ?started.elapsed(), "group commit");
        for (job, reply) in batch.into_iter().zip(replies) {
            // A client that went away does not stop the others.
            let _ = job.reply.send(reply);
        }
    }
}

/// One group, its store outside the state's lock: applied to the engines under the lock (the
/// group numbered [`App::applied`] if it changed any), stored and synced on the writer's own
/// connection with the lock released (requests read and queue meanwhile), then settled under
/// the lock again: on success the heads and snapshots, on failure the tenants rebuilt from the
/// store and the jobs tried again in halves (under the lock, as [`App::apply_batch`] does), the
/// group marked failed. Either way [`Server::settled`] then says the group is settled, and the
/// answers held for it go (or, for reads that may have seen a failed group, are refused).
///
/// On SQLite, a group of [`STREAM_FROM`] lines or more is stored as it is applied: the writer
/// opens the transaction, a storer thread inserts the rows of every [`PART_LINES`] lines the
/// engine has applied (a [`Part`]) while the engine goes on with the rest, on the other core,
/// and the writer then adds the last rows (the heads, the reports, ...) and commits. The same
/// rows in the same one transaction, committed before any answer: a failure anywhere rolls the
/// whole group back, as before.
fn commit_outside(
    server: &Server,
    jobs: &[Job],
    store: &mut Store,
) -> Vec<Result<Vec<LineResult>, ApiError>> {
    let stream = !store.is_postgres() && jobs.iter().map(|job| job.lines.len()).sum::<usize>() >= STREAM_FROM;
    let mut lost = Vec::new();
    let (Applied { touched, replies, group, .. }, committed) = if stream {
        // The transaction is opened here: without it, no part is handed over (its rows would
        // be stored outside of it), and the group fails.
        let begun = store.begin_append();
        let storer = &mut *store;
        let ((applied, injected), streamed) = std::thread::scope(|scope| {
            let (parts, received) = std::sync::mpsc::channel();
            let storing = begun.is_ok().then(|| {
                std::thread::Builder::new()
                    .name("fanli-storer".to_owned())
                    .spawn_scoped(scope, move || store_parts(storer, &received))
                    .inspect_err(
                        |error| tracing::warn!(%error, "no storer thread: the group is stored once applied"),
                    )
            });
            let storing = storing.and_then(Result::ok);
            let applied = apply_locked(server, jobs, storing.as_ref().map(|_| &parts));
            drop(parts);
            let streamed = storing.map_or(Ok(()), |storing| {
                storing.join().unwrap_or_else(|_| Err(storer_failed("it panicked")))
            });
            (applied, streamed)
        });
        // The last rows (the lines after the last part, the heads, the reports, ...) and the
        // commit, on the writer's thread, in the transaction it opened.
        let committed = begun.and(injected).and(streamed).and_then(|()| {
            store.append_part(&appends(&applied.touched, &applied.rows))?;
            store.end_append(true)
        });
        if committed.is_err() {
            let _ = store.end_append(false);
        }
        (applied, committed)
    } else {
        let (applied, injected) = apply_locked(server, jobs, None);
        let committed =
            injected.and_then(|()| store_group(store, &applied.touched, &applied.rows, &mut lost));
        (applied, committed)
    };
    let failed = committed.is_err() || !lost.is_empty();
    let mut app = server.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut retries = retry_budget(jobs.len());
    let replies = app.settle(jobs, touched, replies, committed, &lost, &mut retries);
    if let Some(group) = group {
        // Under the lock, after the rebuild: a request that locks after this sees the state
        // the store holds, and one that saw the group before is told what became of it.
        server.settle(group, failed);
    }
    replies
}

/// Stores a group's rows (`touched`, with `rows` read from the state when it was applied) in
/// one transaction on `store`. A tenant whose lease moved on (another node took it over: its
/// state here is stale and no longer ours) leaves the group, whose other tenants are stored
/// without it; it is added to `lost`.
fn store_group(
    store: &mut Store,
    touched: &[Touched],
    rows: &[Rows],
    lost: &mut Vec<String>,
) -> Result<(), store::StoreError> {
    let mut appends = appends(touched, rows);
    loop {
        match store.append(&appends) {
            Err(store::StoreError::LeaseLost(tenant)) if appends.iter().any(|a| a.tenant == tenant) => {
                appends.retain(|a| a.tenant != tenant);
                lost.push(tenant);
            }
            other => break other,
        }
    }
}

/// A group's rows, a tenant's [`store::Append`] each: what its lines added since the last
/// [`Part`] handed over (all of it when none was), with the rows read from the state.
fn appends<'a>(touched: &'a [Touched], rows: &'a [Rows]) -> Vec<store::Append<'a>> {
    touched
        .iter()
        .zip(rows)
        .map(|(t, rows)| store::Append {
            tenant: &t.tenant,
            after: t.before.len() + t.stored,
            lines: &t.lines,
            by: &t.by,
            notifications: &t.notifications,
            reports: &t.reports,
            members: &t.members,
            history: &t.history,
            days: &t.days,
            answers: &t.answers,
            plans: &t.plans,
            backfilling: rows.backfilling.clone(),
            lease: rows.lease.as_ref().map(|(node, epoch)| (node.as_str(), *epoch)),
            tree: Some(&t.tree),
        })
        .collect()
}

/// A group applied under the state's lock, not yet stored.
struct Applied {
    touched: Vec<Touched>,
    replies: Vec<Result<Vec<LineResult>, ApiError>>,
    rows: Vec<Rows>,
    /// Its number, if it changed any tenant ([`App::applied`]).
    group: Option<u64>,
}

/// Applies `jobs` under the state's lock, handing a [`Part`] to `parts` (if any) every
/// [`PART_LINES`] lines of a tenant; with the fault a test injects into the commit, if any.
fn apply_locked(
    server: &Server,
    jobs: &[Job],
    parts: Option<&std::sync::mpsc::Sender<Part>>,
) -> (Applied, Result<(), store::StoreError>) {
    let mut app = server.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (touched, replies) = app.apply_jobs(jobs, parts);
    let rows = app.rows(&touched);
    let injected = app.inject_fault();
    let group = touched.iter().any(Touched::changed).then(|| {
        app.applied += 1;
        app.applied
    });
    (Applied { touched, replies, rows, group }, injected)
}

/// Groups of this many lines or more are stored as they are applied, in [`Part`]s (SQLite).
const STREAM_FROM: usize = 256;

/// The lines of a tenant a [`Part`] holds: few enough that the storer starts early and ends
/// soon after the engine, enough that handing one over costs little.
const PART_LINES: usize = 128;

/// The rows of a tenant's lines handed to the storer while the engine applies the rest of their
/// group ([`commit_outside`]): the lines from `after`, who sent them, and what they did.
pub(crate) struct Part {
    tenant: String,
    after: u64,
    lines: Vec<String>,
    by: Vec<Option<String>>,
    notifications: Vec<String>,
    members: Vec<store::MemberRow>,
    history: Vec<(String, u64, String)>,
}

impl Part {
    fn append(&self) -> store::Append<'_> {
        store::Append {
            tenant: &self.tenant,
            after: self.after,
            lines: &self.lines,
            by: &self.by,
            notifications: &self.notifications,
            reports: &[],
            members: &self.members,
            history: &self.history,
            days: &[],
            answers: &[],
            plans: &[],
            backfilling: None,
            lease: None,
            tree: None,
        }
    }
}

/// The storer: inserts each part as it comes into the transaction the writer opened on `store`,
/// until the writer drops its end. After a failure it only drains the parts: the group fails
/// whole, and the writer rolls the transaction back.
fn store_parts(store: &mut Store, parts: &std::sync::mpsc::Receiver<Part>) -> Result<(), store::StoreError> {
    let mut stored = Ok(());
    for part in parts {
        if stored.is_ok() {
            stored = store.append_part(&[part.append()]);
        }
    }
    stored
}

/// The storer thread stopped: the group is not stored.
fn storer_failed(why: &str) -> store::StoreError {
    store::StoreError::Io(std::io::Error::other(format!("the storer thread: {why}")))
}

/// What a group's store needs of the state besides a tenant's rows ([`App::rows`]).
pub(crate) struct Rows {
    /// The backfill setting, if the group changed it.
    backfilling: Option<(String, bool)>,
    /// In a cluster: this node and its lease's epoch, the fence on the append.
    lease: Option<(String, i64)>,
}

/// Hands `lines`, sent by the key `by`, to the writer and waits until they are applied and
/// durable: a result per line.
pub(crate) async fn submit_lines(
    server: &Shared,
    tenant: String,
    by: Option<String>,
    lines: Vec<Line>,
) -> Result<Vec<LineResult>, ApiError> {
    crate::api::durable::wrote();
    let (reply, answer) = tokio::sync::oneshot::channel();
    server
        .jobs
        .send(Job { tenant, by, lines, day: None, reply })
        .map_err(|_| internal("the writer has stopped"))?;
    answer.await.map_err(|_| internal("the writer dropped the request"))?
}

impl App {
    /// Applies each job's lines to its tenant in order, then commits every accepted event in one
    /// transaction; a result per line of each job. If the commit fails, every tenant touched is
    /// rebuilt from the store (nothing unacknowledged stays applied) and the jobs are tried again
    /// in halves, so that a job whose events cannot be stored fails alone (see [`retry_budget`]).
    /// All of it under the state's lock, on the state's own connection: the writer's way when it
    /// has no connection of its own, and a failed group's retries ([`commit_outside`] is the
    /// usual way).
    pub(crate) fn apply_batch(&mut self, jobs: &[Job]) -> Vec<Result<Vec<LineResult>, ApiError>> {
        let mut retries = retry_budget(jobs.len());
        self.apply_group(jobs, &mut retries)
    }

    /// [`App::apply_batch`], with `retries` splits of a failed group left.
    fn apply_group(&mut self, jobs: &[Job], retries: &mut u32) -> Vec<Result<Vec<LineResult>, ApiError>> {
        let (touched, replies) = self.apply_jobs(jobs, None);
        let rows = self.rows(&touched);
        let injected = self.inject_fault();
        let mut lost = Vec::new();
        let committed = injected.and_then(|()| store_group(&mut self.store, &touched, &rows, &mut lost));
        self.settle(jobs, touched, replies, committed, &lost, retries)
    }

    /// Applies each job's lines to its tenant's engine, in order: what the group adds for each
    /// tenant (to store) and a result per line of each job (to answer once stored). Each tenant's
    /// new tree head is signed here, before the commit, and stored with its lines. With `parts`,
    /// a tenant's rows are handed over there every [`PART_LINES`] lines, as they are made (the
    /// rest stay in its [`Touched`]).
    #[allow(clippy::type_complexity)]
    fn apply_jobs(
        &mut self,
        jobs: &[Job],
        parts: Option<&std::sync::mpsc::Sender<Part>>,
    ) -> (Vec<Touched>, Vec<Result<Vec<LineResult>, ApiError>>) {
        let mut touched: Vec<Touched> = Vec::new();
        let mut replies = Vec::with_capacity(jobs.len());
        // The latest `at` taken: the wall clock plus the tolerance, read once for the group.
        let latest = self.future_tolerance.map(|t| wall_now().saturating_add(t.as_nanos() as i64));
        for job in jobs {
            // A tenant can leave between a request's check and its turn here: its lease moved.
            let Some(Tenant { engine, chain, days, webhook, log, .. }) = self.tenants.get_mut(&job.tenant)
            else {
                replies.push(Err(unavailable(&job.tenant)));
                continue;
            };
            let Some(engine) = engine.as_mut() else {
                replies.push(Err(no_plan()));
                continue;
            };
            let offset = engine.plan().timezone;
            let slot = match touched.iter().position(|t| t.tenant == job.tenant) {
                Some(slot) => slot,
                None => {
                    touched.push(Touched {
                        backfilling: days.backfilling(),
                        tenant: job.tenant.clone(),
                        before: chain.clone(),
                        lines: Vec::new(),
                        by: Vec::new(),
                        notifications: Vec::new(),
                        reports: Vec::new(),
                        members: Vec::new(),
                        history: Vec::new(),
                        days: Vec::new(),
                        answers: Vec::new(),
                        plans: Vec::new(),
                        tree: Default::default(),
                        signed: None,
                        stored: 0,
                    });
                    touched.len() - 1
                }
            };
            let mut results = Vec::with_capacity(job.lines.len());
            for line in &job.lines {
                let orders_before = engine.order_count();
                // The time of fields that have none: now, never before the tenant's last event.
                let stamped: Option<String>;
                // An amendment sent without `effective_at` (`PUT /v1/plan`): effective at its time.
                let at_once: serde_json::Map<String, Value>;
                let mut read = EventLine::default();
                let outcome = match line {
                    Line::Blank => {
                        results.push(LineResult::Skipped);
                        continue;
                    }
                    Line::Raw(bytes) => apply_bytes(engine, &mut read, bytes, latest),
                    Line::Stamp(fields) | Line::Body { fields, .. } => {
                        let kind = match line {
                            Line::Body { kind, .. } => Some(*kind),
                            _ => None,
                        };
                        stamped = (!fields.contains_key("at")).then(|| stamp(engine));
                        let fields = match (kind, &stamped) {
                            (Some("amend_plan"), Some(at)) if !fields.contains_key("effective_at") => {
                                at_once = fields
                                    .clone()
                                    .into_iter()
                                    .chain([("effective_at".to_owned(), Value::from(at.as_str()))])
                                    .collect();
                                &at_once
                            }
                            _ => fields,
                        };
                        apply_object(engine, &mut read, fields, kind, stamped.as_deref(), latest)
                    }
                };
                let applied = match outcome {
                    LineOutcome::Accepted(event) => {
                        days.note(&event, offset, job.day);
                        if job.day.is_none() {
                            days.arrived(&event, wall_now());
                        }
                        let chained = chain.link(&event);
                        let (line, at, touched) = (chain.len(), event.at.to_string(), &mut touched[slot]);
                        log.push(&chained, &mut touched.tree.nodes);
                        if let Some(mut report) = chain.report(engine, &event) {
                            // The day's report carries the head of the tree its `close_day` ends.
                            if let Some(head) = log.sign(&self.signing_keys, &job.tenant) {
                                report["signed_head"] = head.to_json();
                            }
                            touched.reports.push((line, report.to_string()));
                            let counts = (engine.member_count() as u64, engine.order_count() as u64);
                            touched.days.push((line, at.clone(), counts.0, counts.1));
                        }
                        if let fanli_engine::EventKind::Join { member, referrer, phone, .. } = &event.kind {
                            touched.members.push((
                                (*member).to_owned(),
                                referrer.map(str::to_owned),
                                phone.map(str::to_owned),
                            ));
                        }
                        if let Some(change) = plan_change(engine, &event, line, job.by.as_deref()) {
                            touched.plans.push(change);
                        }
                        for (member, body) in fanli_format::member_history(engine) {
                            touched.history.push((engine.member_name(member).to_owned(), line, body));
                        }
                        Ok((chained, at))
                    }
                    LineOutcome::Refused(refusal) => Err(refusal),
                    LineOutcome::Blank => {
                        results.push(LineResult::Skipped);
                        continue;
                    }
                };
                match applied {
                    Ok((chained, at)) => {
                        if webhook.is_some() {
                            for mut notification in fanli_format::notifications(engine) {
                                notification["tenant"] = job.tenant.as_str().into();
                                notification["line"] = chain.len().into();
                                notification["at"] = at.as_str().into();
                                touched[slot].notifications.push(notification.to_string());
                            }
                        }
                        touched[slot].lines.push(chained);
                        touched[slot].by.push(job.by.clone());
                        if let Some(parts) = parts
                            && touched[slot].lines.len() >= PART_LINES
                        {
                            // If the storer has stopped, its error fails the group.
                            let _ = parts.send(touched[slot].part());
                        }
                        let mut answered = None;
                        if let Some(fields) = line.order() {
                            let id = fields.get("order").and_then(Value::as_str).unwrap_or_default();
                            let request = order_request(fields);
                            if engine.order_count() > orders_before {
                                // A new order posted on its own: its answer is kept, for retries.
                                let answer = order_answer(engine, fields, &at).to_string();
                                touched[slot].answers.push((id.to_owned(), request, answer.clone()));
                                answered = Some(answer);
                            } else {
                                // A retry that raced its first request here: the first answer,
                                // kept in this batch or committed by an earlier one.
                                let kept = touched[slot]
                                    .answers
                                    .iter()
                                    .find(|a| a.0 == id)
                                    .map(|a| (a.1.clone(), a.2.clone()));
                                let kept = kept.or_else(|| self.store.answer(&job.tenant, id).ok().flatten());
                                if let Some((first, answer)) = kept
                                    && first == request
                                    && serde_json::from_str::<Value>(&answer).is_ok()
                                {
                                    answered = Some(answer);
                                }
                            }
                        }
                        if let Line::Body { kind, fields } = line
                            && answered.is_none()
                        {
                            answered =
                                withdrawal_or_vote_answer(engine, kind, fields, &at).map(|a| a.to_string());
                        }
                        results.push(LineResult::Applied { at, answer: answered });
                    }
                    Err(refusal) => results.push(LineResult::Refused(refusal)),
                }
            }
            replies.push(Ok(results));
        }
        // Each tenant's new tree head, signed before the commit and stored with its lines.
        for t in touched.iter_mut().filter(|t| t.changed()) {
            if let Some(tenant) = self.tenants.get_mut(&t.tenant)
                && let Some(head) = tenant.log.sign(&self.signing_keys, &t.tenant)
            {
                t.tree.head = Some(crate::transparency::head_row(&head));
                t.signed = Some(head);
            }
        }
        (touched, replies)
    }

    /// What a group's store needs of the state besides its rows, per tenant touched, read when
    /// the group is applied: the backfill setting if it changed, the lease that fences it.
    fn rows(&self, touched: &[Touched]) -> Vec<Rows> {
        touched
            .iter()
            .map(|t| Rows {
                backfilling: {
                    let now = self.tenants.get(&t.tenant).is_some_and(|x| x.days.backfilling());
                    (now != t.backfilling).then(|| (backfill_key(&t.tenant), now))
                },
                lease: self
                    .cluster
                    .as_ref()
                    .zip(self.tenants.get(&t.tenant).and_then(|x| x.epoch))
                    .map(|(c, e)| (c.node.clone(), e)),
            })
            .collect()
    }

    /// Tests only: a commit made to fail at a seeded random point.
    fn inject_fault(&mut self) -> Result<(), store::StoreError> {
        match self.faults.as_mut() {
            Some(faults) => faults.before_commit(),
            None => Ok(()),
        }
    }

    /// After a group's store: the tenants whose lease was `lost` leave; if the store failed,
    /// every tenant touched is rebuilt from the store and the jobs are tried again in halves
    /// (under this lock, on the state's connection); if it succeeded, the new heads become the
    /// tenants' latest and snapshots are handed over. The replies to send.
    fn settle(
        &mut self,
        jobs: &[Job],
        mut touched: Vec<Touched>,
        mut replies: Vec<Result<Vec<LineResult>, ApiError>>,
        committed: Result<(), store::StoreError>,
        lost: &[String],
        retries: &mut u32,
    ) -> Vec<Result<Vec<LineResult>, ApiError>> {
        for tenant in lost {
            tracing::warn!(tenant = %tenant, "the tenant's lease moved to another node: no longer serving it");
            self.tenants.remove(tenant);
        }
        if let Err(e) = committed {
            for Touched { tenant: id, .. } in &touched {
                if self.tenants.contains_key(id)
                    && let Err(rebuild) = self.rebuild(id)
                {
                    tracing::error!(tenant = %id, error = %rebuild, "the tenant could not be rebuilt");
                    if self.cluster.is_some() {
                        // Its state here holds what was not stored: no longer served, its lease
                        // runs out and a node rebuilds it from the store.
                        self.tenants.remove(id);
                    }
                }
            }
            // Issue 17: one request's failing events do not fail the others. The group is tried
            // again in halves (each half from the state the store holds), down to the request
            // that fails alone, unless the tenant moved away or the retries are spent (a store
            // that fails every commit, say a full disk, fails the rest at once).
            if jobs.len() > 1 && *retries > 0 && !matches!(e, store::StoreError::LeaseLost(_)) {
                *retries -= 1;
                tracing::warn!(requests = jobs.len(), error = %e, "a group commit failed: trying it again in halves");
                let (first, second) = jobs.split_at(jobs.len() / 2);
                let mut replies = self.apply_group(first, retries);
                replies.extend(self.apply_group(second, retries));
                return replies;
            }
            // One id for the failure: every request of the batch answers with it.
            let id = error_id();
            tracing::error!(%id, error = %e, "a group commit failed: the events could not be stored");
            return jobs.iter().map(|_| Err(ApiError::internal_with_id(&id))).collect();
        }
        for t in &mut touched {
            if let (Some(head), Some(tenant)) = (t.signed.take(), self.tenants.get_mut(&t.tenant)) {
                tenant.log.head = Some(head);
            }
        }
        if let Some(snapshots) = &self.snapshots {
            for Touched { tenant: id, .. } in &touched {
                let Some(tenant) = self.tenants.get_mut(id) else { continue }; // Its lease was lost.
                if tenant.chain.len() >= tenant.snapshot_line + self.snapshot_every {
                    let engine = tenant.engine.clone().expect("a plan");
                    let job = SnapshotJob {
                        tenant: id.clone(),
                        engine,
                        chain: tenant.chain.clone(),
                        closed_through: tenant.days.closed_through,
                    };
                    tenant.snapshot_line = tenant.chain.len();
                    let _ = snapshots.send(job);
                }
            }
        }
        for (job, reply) in jobs.iter().zip(replies.iter_mut()) {
            if lost.contains(&job.tenant) {
                *reply = Err(unavailable(&job.tenant));
            }
        }
        replies
    }

    /// The tenant's engine again from its plan and its stored log.
    pub(crate) fn rebuild(&mut self, id: &str) -> Result<(), TenantError> {
        let tenant = self.tenants.get_mut(id).expect("known");
        let (engine, chain, days, _) =
            load_tenant(&mut self.store, id, tenant.plan.as_deref().expect("a plan"))?;
        let signer = tenant.log.signer.take();
        tenant.log = crate::transparency::load(&mut self.store, id, chain.len())?;
        tenant.log.signer = signer;
        tenant.engine = Some(engine);
        tenant.days = days;
        tenant.chain = chain;
        tenant.record();
        Ok(())
    }
}

/// How many times a failed group commit of `requests` requests is split and tried again: enough
/// to find one request whose events cannot be stored (a split per halving, log2 of the group's
/// size) and a few more, few enough that a store failing every commit (each failure rebuilds
/// the tenants touched from the store) is not tried a thousand times.
pub(crate) fn retry_budget(requests: usize) -> u32 {
    usize::BITS - requests.leading_zeros() + 4
}

/// What a group commit adds for one tenant.
pub(crate) struct Touched {
    pub(crate) tenant: String,
    /// Whether it was sending history before the batch.
    pub(crate) backfilling: bool,
    /// The chain before the batch.
    pub(crate) before: Chain,
    /// The chained lines appended.
    pub(crate) lines: Vec<String>,
    /// Which key sent each of them (its id; `None` for the server's own).
    pub(crate) by: Vec<Option<String>>,
    /// The notifications they make, as JSON.
    pub(crate) notifications: Vec<String>,
    /// The daily pool report after each `close_day`, with the line of that `close_day`.
    pub(crate) reports: Vec<(u64, String)>,
    /// New members: (member, referrer, phone).
    pub(crate) members: Vec<(String, Option<String>, Option<String>)>,
    /// What each event did to each member: (member, line, JSON).
    pub(crate) history: Vec<(String, u64, String)>,
    /// At each `close_day`: (line, time, members, orders).
    pub(crate) days: Vec<(u64, String, u64, u64)>,
    /// New orders posted on their own: (order id, request, first answer).
    pub(crate) answers: Vec<(String, String, String)>,
    /// The plan versions the new events record.
    pub(crate) plans: Vec<store::PlanChange>,
    /// The subtree hashes its lines complete and the head signed over them, to store.
    pub(crate) tree: store::TreeRows,
    /// That head, the tenant's latest once committed.
    pub(crate) signed: Option<fanli_format::transparency::SignedHead>,
    /// The lines already handed to the storer in [`Part`]s, with their rows: `lines` and the
    /// rows beside it hold only what came after them.
    pub(crate) stored: u64,
}

impl Touched {
    /// Whether the group appends lines to the tenant's log.
    fn changed(&self) -> bool {
        self.stored > 0 || !self.lines.is_empty()
    }

    /// The rows made since the last part, handed over as the next.
    fn part(&mut self) -> Part {
        let part = Part {
            tenant: self.tenant.clone(),
            after: self.before.len() + self.stored,
            lines: std::mem::replace(&mut self.lines, Vec::with_capacity(PART_LINES)),
            by: std::mem::replace(&mut self.by, Vec::with_capacity(PART_LINES)),
            notifications: std::mem::take(&mut self.notifications),
            members: std::mem::take(&mut self.members),
            history: std::mem::take(&mut self.history),
        };
        self.stored += part.lines.len() as u64;
        part
    }
}

/// The plan version an accepted event at `line` records, sent by the key `by`: an
/// `amend_plan`'s plan, a `propose`'s, or the proposal a `tally` passed and recorded (a passed
/// proposal the engine could not record, as its outcome says, records none).
fn plan_change(
    engine: &Engine,
    event: &fanli_engine::Event<'_>,
    line: u64,
    by: Option<&str>,
) -> Option<store::PlanChange> {
    let recorded_at = event.at.to_string();
    let by = by.map(str::to_owned);
    match &event.kind {
        fanli_engine::EventKind::AmendPlan { effective_at, text, .. } => Some(store::PlanChange::Amendment {
            line,
            text: (*text).to_owned(),
            effective_at: effective_at.to_string(),
            recorded_at,
            by,
        }),
        fanli_engine::EventKind::Propose { proposal, text, .. } => Some(store::PlanChange::Proposed {
            proposal: (*proposal).to_owned(),
            text: (*text).to_owned(),
            recorded_at,
            by,
        }),
        fanli_engine::EventKind::Tally { proposal } => {
            let outcome = engine.proposals().find(|p| p.id == *proposal)?.outcome?;
            Some(store::PlanChange::Passed {
                proposal: (*proposal).to_owned(),
                line,
                effective_at: outcome.effective_at?.to_string(),
                recorded_at,
            })
        }
        _ => None,
    }
}

/// What `POST /v1/orders` answers: the time the order was stamped with and the buyer's view
/// right after it.
pub(crate) fn order_answer(engine: &Engine, fields: &serde_json::Map<String, Value>, at: &str) -> Value {
    let member = fields.get("member").and_then(Value::as_str).and_then(|m| engine.find_member(m));
    let view = member.map_or_else(|| json!({}), |member| member_value(engine, member));
    json!({"ok": true, "at": at, "members": view})
}

/// What the withdrawal and vote routes answer, read from the event just applied (its effects,
/// which the server's engines record): for `withdraw` and `withdrawal_review`, the stamp, what
/// became of the withdrawal (`paid` with its fee, `waiting` for review with the fee it will
/// cost, or `returned` to the wallet) and the member's view; for `propose`, `vote` and `tally`,
/// the stamp and the proposal as `GET /v1/proposals/{id}` shows it. `None` for other kinds.
pub(crate) fn withdrawal_or_vote_answer(
    engine: &Engine,
    kind: &str,
    fields: &serde_json::Map<String, Value>,
    at: &str,
) -> Option<Value> {
    use fanli_engine::Effect;
    match kind {
        "withdraw" | "withdrawal_review" => {
            let name = fields.get("member").and_then(Value::as_str)?;
            let member = engine.find_member(name)?;
            let amount = fields.get("amount").and_then(Value::as_str).unwrap_or_default();
            // Without `[withdrawal]` a withdrawal is paid at once and whole, with no effect.
            let mut withdrawal = json!({"member": name, "status": "paid", "amount": amount, "fee": "0.00"});
            for effect in engine.applied().effects {
                match *effect {
                    Effect::WithdrawalPaid { member: m, amount, fee } if m == member => {
                        withdrawal["amount"] = amount.to_string().into();
                        withdrawal["fee"] = fee.to_string().into();
                    }
                    Effect::WithdrawalHeld { member: m, amount } if m == member => {
                        let fee = engine.withdrawals_waiting().find(|w| w.member == member).map(|w| w.fee);
                        withdrawal["status"] = "waiting".into();
                        withdrawal["amount"] = amount.to_string().into();
                        withdrawal["fee"] = fee.unwrap_or(fanli_engine::Money::ZERO).to_string().into();
                    }
                    Effect::WithdrawalReturned { member: m, amount } if m == member => {
                        withdrawal["status"] = "returned".into();
                        withdrawal["amount"] = amount.to_string().into();
                    }
                    _ => {}
                }
            }
            Some(
                json!({"ok": true, "at": at, "withdrawal": withdrawal, "members": member_value(engine, member)}),
            )
        }
        "propose" | "vote" | "tally" => {
            let id = fields.get("proposal").and_then(Value::as_str)?;
            let proposal = engine.proposals().find(|p| p.id == id)?;
            Some(json!({"ok": true, "at": at, "proposal": fanli_format::proposal_json(&proposal)}))
        }
        _ => None,
    }
}

/// An order request as its retries are compared: every field but the time, keys sorted.
pub(crate) fn order_request(fields: &serde_json::Map<String, Value>) -> String {
    let sorted: std::collections::BTreeMap<&String, &Value> =
        fields.iter().filter(|(k, _)| *k != "at" && *k != "type").collect();
    serde_json::to_string(&sorted).unwrap_or_default()
}

/// A tenant as its store holds it: the engine, the chain and the days from its latest snapshot
/// (if it has one this version can read) and the log after it, or from the whole log. Returns
/// also the line of the snapshot used (0 for none).
pub(crate) fn load_tenant(
    store: &mut Store,
    id: &str,
    plan: &str,
) -> Result<(Engine, Chain, Days, u64), TenantError> {
    let fresh = || -> Result<_, TenantError> {
        let engine = Engine::new(parse_plan(plan).map_err(TenantError::Plan)?);
        Ok((engine, Chain::default(), Days::default(), 0))
    };
    let stored = store.snapshot(id).unwrap_or_else(|error| {
        tracing::warn!(tenant = id, %error, "the snapshot cannot be read: replaying the whole log");
        None
    });
    let (mut engine, mut chain, mut days, from) = match stored {
        Some(snapshot) => match Engine::restore(&snapshot.data) {
            Ok(engine) => (
                engine,
                Chain::resume(snapshot.head, snapshot.line),
                Days { closed_through: snapshot.closed_through, lag: None },
                snapshot.line,
            ),
            Err(error) => {
                tracing::warn!(tenant = id, %error, "the snapshot cannot be used: replaying the whole log");
                fresh()?
            }
        },
        None => fresh()?,
    };
    engine.record(false);
    if store.setting(&backfill_key(id)).ok().flatten().as_deref() == Some("1") {
        days.lag = Some(i64::MAX);
    }
    let offset = engine.plan().timezone;
    store
        .for_each_event(id, from, |line| {
            let mut read = EventLine::default();
            match fanli_format::apply_bytes(&mut engine, &mut read, line.as_bytes()) {
                LineOutcome::Accepted(event) => days.note(&event, offset, None),
                LineOutcome::Refused(refusal) => return Err(Reason(refusal.error)),
                LineOutcome::Blank => return Err(Reason("a blank line".to_owned())),
            }
            chain.advance(line);
            Ok(())
        })
        .map_err(|Reason(reason)| TenantError::Log { line: chain.len() + 1, reason })?;
    Ok((engine, chain, days, from))
}

/// Why a read of a log stopped, said in words: a refusal's message, or what the database said
/// (its own text, as [`StoreError::database_text`](store::StoreError::database_text) gives it).
pub(crate) struct Reason(pub(crate) String);

impl From<store::StoreError> for Reason {
    fn from(error: store::StoreError) -> Reason {
        Reason(error.database_text())
    }
}

/// The setting that says the tenant was sending history when last heard of ("1"; see
/// [`Days::backfilling`]).
pub(crate) fn backfill_key(tenant: &str) -> String {
    format!("backfill:{tenant}")
}

/// A snapshot to take: a clone of a tenant's engine at a line of its log.
pub(crate) struct SnapshotJob {
    pub(crate) tenant: String,
    pub(crate) engine: Engine,
    pub(crate) chain: Chain,
    pub(crate) closed_through: Option<i64>,
}

/// The snapshot thread: encodes and stores each snapshot handed over, on a connection of its
/// own, so that the writer only pays for the clone. When snapshots come faster than they are
/// written, only each tenant's latest is taken.
pub(crate) fn snapshot_loop(store: &mut Store, jobs: &std::sync::mpsc::Receiver<SnapshotJob>) {
    while let Ok(first) = jobs.recv() {
        let mut latest = vec![first];
        while let Ok(job) = jobs.try_recv() {
            latest.retain(|j| j.tenant != job.tenant);
            latest.push(job);
        }
        for job in latest {
            let started = std::time::Instant::now();
            let snapshot = store::Snapshot {
                line: job.chain.len(),
                head: job.chain.head().to_owned(),
                closed_through: job.closed_through,
                data: job.engine.snapshot(),
            };
            match store.put_snapshot(&job.tenant, &snapshot) {
                Ok(()) => tracing::info!(
                    tenant = %job.tenant, line = snapshot.line, bytes = snapshot.data.len(),
                    elapsed = ?started.elapsed(), "snapshot taken"
                ),
                Err(error) => {
                    tracing::error!(tenant = %job.tenant, %error, "the snapshot could not be stored")
                }
            }
        }
    }
}

/// The wall clock, in nanoseconds since 1970.
/// How far ahead of the server's wall clock an event's `at` may be: 5 minutes, the clock skew
/// Kerberos allows, ample for a till whose clock runs a little fast. An event stamped later is
/// refused (`future_time`, naming its line): applied, it would move the tenant's time ahead,
/// and every event sent after without `at` would be stamped at that future time ("now, never
/// before the last event"), days closed before they end. See docs/decisions.md.
pub const FUTURE_TOLERANCE: std::time::Duration = std::time::Duration::from_secs(300);

/// The stable code of an event refused for a time ahead of the server's clock.
pub(crate) const FUTURE_TIME: &str = "future_time";

/// [`fanli_format::apply`] for a read event, unless its `at` is after `latest` (Unix
/// nanoseconds; `None`: no limit).
fn apply_unless_future<'e>(
    engine: &mut Engine,
    read: Result<fanli_engine::Event<'e>, fanli_format::EventError>,
    latest: Option<i64>,
) -> LineOutcome<'e> {
    if let (Ok(event), Some(latest)) = (&read, latest)
        && event.at.unix_nanos() > latest
    {
        let now = fanli_engine::Timestamp::from_unix_nanos(latest - FUTURE_TOLERANCE.as_nanos() as i64);
        return LineOutcome::Refused(fanli_format::Refusal {
            kind: event.kind.type_name(),
            code: FUTURE_TIME,
            error: format!(
                "`at` {} is in the future: the server's clock reads {now}, and an event may be at most \
                 {} s ahead of it",
                event.at,
                FUTURE_TOLERANCE.as_secs()
            ),
        });
    }
    fanli_format::apply(engine, read)
}

/// [`fanli_format::apply_bytes`], refusing an event stamped after `latest`.
fn apply_bytes<'e, 'l: 'e>(
    engine: &mut Engine,
    slot: &'e mut fanli_format::EventLine<'l>,
    bytes: &'l [u8],
    latest: Option<i64>,
) -> LineOutcome<'e> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.trim_ascii().is_empty() {
        return LineOutcome::Blank;
    }
    match slot.read(bytes) {
        Ok(()) => apply_unless_future(engine, slot.event(), latest),
        Err(e) => LineOutcome::Refused(e.into()),
    }
}

/// [`fanli_format::apply_object`], refusing an event stamped after `latest`.
fn apply_object<'e, 'l: 'e>(
    engine: &mut Engine,
    slot: &'e mut fanli_format::EventLine<'l>,
    object: &'l serde_json::Map<String, Value>,
    kind: Option<&'l str>,
    at: Option<&'l str>,
    latest: Option<i64>,
) -> LineOutcome<'e> {
    match slot.read_object(object, kind, at) {
        Ok(()) => apply_unless_future(engine, slot.event(), latest),
        Err(e) => LineOutcome::Refused(e.into()),
    }
}

pub(crate) fn wall_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// Now, in RFC 3339, never before the engine's last event.
pub(crate) fn stamp(engine: &Engine) -> String {
    let last = engine.now().map_or(0, |t| t.unix_nanos());
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
    fanli_engine::Timestamp::from_unix_nanos(now.max(last)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_written_as_json_with_their_keys_in_order() {
        let refusal = fanli_format::Refusal {
            kind: "order",
            code: "unknown_member",
            error: "no member \"Z\"".to_owned(),
        };
        let results = [
            LineResult::Applied { at: "2026-01-01T01:00:00Z".to_owned(), answer: None },
            LineResult::Skipped,
            LineResult::Refused(refusal),
            LineResult::Applied {
                at: "2026-01-01T02:00:00Z".to_owned(),
                answer: Some(serde_json::json!({"order": "o1", "paid": "10.00"}).to_string()),
            },
        ];
        let body = String::from_utf8(results_body(&results)).unwrap();
        assert_eq!(
            body,
            r#"{"results":[{"line":1,"ok":true,"at":"2026-01-01T01:00:00Z"},{"line":2,"ok":true,"skipped":"a blank line"},{"line":3,"ok":false,"code":"unknown_member","error":"no member \"Z\""},{"line":4,"ok":true,"at":"2026-01-01T02:00:00Z","answer":{"order":"o1","paid":"10.00"}}]}"#
        );
        assert_eq!(String::from_utf8(results_body(&[])).unwrap(), r#"{"results":[]}"#);
    }
}
