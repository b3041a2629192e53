//! `cargo xtask load --overload C`: the server under an open-loop overload (issue 17).
//!
//! Starts the server in a child process (this program again, `xtask load-server`, so that its
//! peak memory is its own) on 127.0.0.1 with a fresh SQLite store under `target/bench/overload`,
//! makes a tenant with `bench/plan.toml` and 1,000 members, then for `--seconds S` (10) fires
//! `POST /v1/orders` from C kept-alive connections, each on a schedule of its own (one every
//! `--every MS` milliseconds, 50 by default: C × 20 a second offered, whatever the answers),
//! while `--readers R` (32) connections read the audit feed in pages of up to 100,000 lines.
//! Reports how many orders were answered 200 and 503, the latency of the answered ones (from
//! the moment each was sent), the server's peak resident memory (`VmHWM`) and, from its
//! `/metrics`, its own request and group-commit times. Then stops the server with SIGTERM,
//! which must exit cleanly.
//!
//! `--server-cpus LIST` runs the server under `taskset -c LIST`; run the client pinned to other
//! cores (`taskset -c 1 cargo xtask load --overload 1024 --server-cpus 0`) so that the figures
//! are the server's, not the two fighting for one core.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::bench::{plan_path, target_dir, workspace_root};
use crate::load::{call, response};

/// The options of an overload run.
pub(crate) struct Overload {
    pub(crate) connections: usize,
    pub(crate) seconds: u64,
    pub(crate) every_ms: u64,
    pub(crate) readers: usize,
    pub(crate) max_writes: Option<u64>,
    pub(crate) max_reads: Option<u64>,
    /// The cores the server runs on (`taskset -c LIST`): with the client run under `taskset`
    /// on others, neither waits for the other's core.
    pub(crate) server_cpus: Option<String>,
}

/// `xtask load-server DATA MAX_WRITES MAX_READS`: the server for [`run`], printing its port and
/// its heavy reads' limit (`MAX_READS` is `default` for the server's own default, which
/// depends on the cores it may run on).
pub(crate) fn server(args: &[String]) -> Result<(), String> {
    let [data, writes, reads] = args else { return Err("load-server DATA MAX_WRITES MAX_READS".to_owned()) };
    let number = |s: &str| s.parse::<usize>().map_err(|e| e.to_string());
    let reads = if reads == "default" { fanli_server::limits::default_max_reads() } else { number(reads)? };
    let limits = fanli_server::limits::Limits { writes: number(writes)?, reads };
    let app = fanli_server::App::open(std::path::Path::new(data), "load-master")
        .map_err(|e| e.to_string())?
        .limits(limits);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    println!("{} {reads}", listener.local_addr().map_err(|e| e.to_string())?.port());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    // Stopped by SIGTERM, cleanly.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(async {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            fanli_server::serve_until(app, listener, fanli_server::shutdown::signalled()).await
        })
        .map_err(|e| e.to_string())
}

/// What one connection saw: each order's status and latency, and the audit pages read.
#[derive(Default)]
struct Seen {
    answered: Vec<Duration>,
    shed: Vec<Duration>,
    other: u64,
    pages: u64,
    page_bytes: u64,
}

pub(crate) fn run(options: &Overload) -> Result<(), String> {
    let root = workspace_root();
    let data = target_dir(&root).join("bench").join("overload");
    let _ = std::fs::remove_dir_all(&data);
    let writes = options.max_writes.unwrap_or(fanli_server::limits::DEFAULT_MAX_WRITES as u64);
    let reads = options.max_reads.map_or_else(|| "default".to_owned(), |n| n.to_string());
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = match &options.server_cpus {
        Some(cpus) => {
            let mut taskset = std::process::Command::new("taskset");
            taskset.args(["-c", cpus]).arg(&exe);
            taskset
        }
        None => std::process::Command::new(&exe),
    };
    let mut child = command
        .args(["load-server", data.to_str().ok_or("a path in UTF-8")?, &writes.to_string(), &reads])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut port = String::new();
    std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?)
        .read_line(&mut port)
        .map_err(|e| e.to_string())?;
    let (port, reads) = port.trim().split_once(' ').ok_or("no port from the server")?;
    let reads: u64 = reads.parse().map_err(|_| "no limit from the server")?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().map_err(|_| "no port from the server")?;
    let result = drive(&root, addr, options);
    let peak = peak_rss_kib(child.id());
    let metrics = call(addr, "GET", "/metrics", "", b"").map(|(_, body)| body).unwrap_or_default();
    let stopped = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().map_err(|e| e.to_string())?;
    let seen = result?;
    stopped.map_err(|e| e.to_string())?;
    report(options, writes, reads, &seen, peak);
    for (name, what) in [
        ("fanli_http_request_duration_seconds", "requests, every route and status, routed to answered"),
        ("fanli_commit_duration_seconds", "group commits, applied and stored"),
    ] {
        if let Some((p50, p99)) = server_quantiles(&metrics, name) {
            println!("inside the server ({what}): p50 <= {p50} s, p99 <= {p99} s");
        }
    }
    println!("server stopped by SIGTERM: {status}");
    Ok(())
}

fn drive(root: &std::path::Path, addr: SocketAddr, options: &Overload) -> Result<Seen, String> {
    let (_, body) = call(addr, "POST", "/v1/tenants", "load-master", br#"{"id":"load"}"#)?;
    let key = body
        .split("\"owner_key\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no owner key")?
        .to_owned();
    let plan = std::fs::read(plan_path(root, false)).map_err(|e| e.to_string())?;
    call(addr, "PUT", "/v1/plan", &key, &plan)?;
    let joins: String = (0..1000)
        .map(|i| format!("{{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"join\",\"member\":\"m{i}\"}}\n"))
        .collect();
    let (status, answer) = call(addr, "POST", "/v1/events", &key, joins.as_bytes())?;
    if status != 200 || answer.contains("\"ok\":false") {
        return Err(format!("the joins were refused: {}", &answer[..answer.len().min(300)]));
    }
    let start = Instant::now() + Duration::from_millis(500);
    let end = start + Duration::from_secs(options.seconds);
    let every = Duration::from_millis(options.every_ms.max(1));
    let mut threads = Vec::new();
    for c in 0..options.connections {
        let key = key.clone();
        // Each connection starts at its own offset in the period, so the load is even.
        let first = start + every * c as u32 / options.connections as u32;
        let thread = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || orders(addr, &key, c, first, end, every))
            .map_err(|e| e.to_string())?;
        threads.push(thread);
    }
    for _ in 0..options.readers {
        let key = key.clone();
        let thread = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || audit_reader(addr, &key, start, end))
            .map_err(|e| e.to_string())?;
        threads.push(thread);
    }
    let mut seen = Seen::default();
    for thread in threads {
        let one = thread.join().map_err(|_| "a client thread panicked")?;
        seen.answered.extend(one.answered);
        seen.shed.extend(one.shed);
        seen.other += one.other;
        seen.pages += one.pages;
        seen.page_bytes += one.page_bytes;
    }
    Ok(seen)
}

/// One connection's orders, one per `every` from `first` until `end` (late ones sent at once).
fn orders(addr: SocketAddr, key: &str, c: usize, first: Instant, end: Instant, every: Duration) -> Seen {
    let mut seen = Seen::default();
    let mut stream: Option<TcpStream> = None;
    let mut buffer = vec![0u8; 16 * 1024];
    let mut next = first;
    let mut i = 0;
    while next < end {
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        next += every;
        i += 1;
        let body =
            format!("{{\"order\":\"o{c}-{i}\",\"member\":\"m{}\",\"amount\":\"100.00\"}}", (c + i) % 1000);
        let request = format!(
            "POST /v1/orders HTTP/1.1\r\nHost: load\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        if stream.is_none() {
            stream = TcpStream::connect(addr).ok();
            if let Some(s) = &stream {
                let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                let _ = s.set_nodelay(true);
            }
        }
        let Some(s) = stream.as_mut() else {
            seen.other += 1;
            continue;
        };
        let status = s
            .write_all(request.as_bytes())
            .ok()
            .and_then(|()| response(s, &mut buffer).ok().map(|(status, _)| status));
        match status {
            Some(200) => seen.answered.push(sent.elapsed()),
            Some(503) => seen.shed.push(sent.elapsed()),
            Some(_) => seen.other += 1,
            None => {
                seen.other += 1;
                stream = None;
            }
        }
    }
    seen
}

/// Reads the audit feed from the start, page after page, until `end`.
fn audit_reader(addr: SocketAddr, key: &str, start: Instant, end: Instant) -> Seen {
    let mut seen = Seen::default();
    if let Some(wait) = start.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    while Instant::now() < end {
        match call(addr, "GET", "/v1/audit?limit=100000", key, b"") {
            Ok((200, body)) => {
                seen.pages += 1;
                seen.page_bytes += body.len() as u64;
            }
            Ok((503, _)) => std::thread::sleep(Duration::from_millis(100)),
            _ => seen.other += 1,
        }
    }
    seen
}

/// The bucket bounds under which half and 99% of histogram `name`'s observations fell, as the
/// server timed them.
fn server_quantiles(metrics: &str, name: &str) -> Option<(String, String)> {
    let prefix = format!("{name}_bucket{{le=\"");
    let buckets: Vec<(String, u64)> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .filter_map(|l| {
            let (le, count) = l.split_once("\"} ")?;
            Some((le.to_owned(), count.trim().parse().ok()?))
        })
        .collect();
    let total = buckets.last()?.1;
    let under = |share: f64| {
        let wanted = (total as f64 * share).ceil() as u64;
        buckets.iter().find(|(_, count)| *count >= wanted).map(|(le, _)| le.clone())
    };
    Some((under(0.5)?, under(0.99)?))
}

/// The peak resident memory of process `pid`, in KiB (Linux's `VmHWM`).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim().parse().ok())
}

fn report(options: &Overload, writes: u64, reads: u64, seen: &Seen, peak: Option<u64>) {
    let mut answered = seen.answered.clone();
    answered.sort();
    let mut shed = seen.shed.clone();
    shed.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |v: &[Duration], p: usize| v.get((v.len().max(1) - 1) * p / 100).map_or(0.0, |d| ms(*d));
    let sent = answered.len() + shed.len() + seen.other as usize;
    println!(
        "| connections | offered/s | sent | answered 200 | 503 | other | p50 | p99 | max | 503 p99 | orders/s | audit pages (MiB) | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} (--max-writes {writes}, --max-reads {reads}) | {:.0} | {sent} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} | {} ({:.0}) | {} |",
        options.connections,
        options.connections as f64 * 1000.0 / options.every_ms.max(1) as f64,
        answered.len(),
        shed.len(),
        seen.other,
        at(&answered, 50),
        at(&answered, 99),
        answered.last().map_or(0.0, |d| ms(*d)),
        at(&shed, 99),
        answered.len() as f64 / options.seconds.max(1) as f64,
        seen.pages,
        seen.page_bytes as f64 / (1 << 20) as f64,
        peak.map_or_else(|| "?".to_owned(), |k| format!("{:.0} MiB", k as f64 / 1024.0)),
    );
}
