//! `cargo xtask load`: the server's throughput with batches of events over HTTP.
//!
//! Starts `fanli-server` in this process on 127.0.0.1 with a fresh SQLite store under
//! `target/bench/load`, creates a tenant with `bench/plan.toml`, then posts the first N lines of
//! the generated benchmark stream in batches of B lines (`POST /v1/events`, one connection, each
//! batch committed before its answer) and reports durable events per second. With
//! `--database URL`, on PostgreSQL (in a schema `fanli_bench`, made afresh) instead of SQLite;
//! with `--node` too, as a node of a cluster (`App::open_node`: the tenant under a lease, every
//! commit fenced by it, every request reading the store's count of key revocations first), the
//! only node.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::bench::{ensure_stream, plan_path, stream_path, target_dir, workspace_root};

pub(crate) fn run(
    events: u64,
    batch: usize,
    single: Option<usize>,
    database: Option<&str>,
    node: bool,
) -> Result<(), String> {
    let root = workspace_root();
    let dir = target_dir(&root).join("bench");
    let stream = stream_path(&dir, events, crate::DEFAULT_SEED, false, 0);
    ensure_stream(&stream, events, crate::DEFAULT_SEED, false, 0)?;
    let data = dir.join("load");
    let _ = std::fs::remove_dir_all(&data);
    let database = database.map(fresh_schema).transpose()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = match (&database, node) {
        (Some(url), true) => {
            fanli_server::App::open_node(&data, url, "load-master", &format!("http://{addr}"))
        }
        _ => fanli_server::App::open_with(&data, database.as_deref(), "load-master"),
    }
    .map_err(|e| e.to_string())?
    // The generated stream is a year from 2026-01-01, history replayed: some of it may be
    // ahead of today's clock, which a live server refuses (`future_time`).
    .future_tolerance(None);
    std::thread::spawn(move || fanli_server::serve_blocking_on(app, listener));
    std::thread::sleep(Duration::from_millis(200));
    let (_, body) = call(addr, "POST", "/v1/tenants", "load-master", br#"{"id":"load"}"#)?;
    let key = body
        .split("\"owner_key\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no owner key")?
        .to_owned();
    let plan = std::fs::read(plan_path(&root, false)).map_err(|e| e.to_string())?;
    call(addr, "PUT", "/v1/plan", &key, &plan)?;
    if let Some(connections) = single {
        return single_orders(addr, &key, events, connections);
    }
    let text = std::fs::read_to_string(&stream).map_err(|e| e.to_string())?;
    let lines: Vec<&str> = text.lines().collect();
    let started = Instant::now();
    let mut refused = 0;
    for chunk in lines.chunks(batch) {
        let body = chunk.join("\n") + "\n";
        let (status, answer) = call(addr, "POST", "/v1/events", &key, body.as_bytes())?;
        if status != 200 {
            return Err(format!("POST /v1/events answered {status}: {answer}"));
        }
        refused += answer.matches("\"ok\":false").count();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("| events | batch | wall time | durable events/s | refused |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {batch} | {elapsed:.2} s | {:.0} | {refused} |",
        lines.len(),
        lines.len() as f64 / elapsed
    );
    Ok(())
}

/// A fresh schema `fanli_bench` in the database at `url`; the URL that works in it.
fn fresh_schema(url: &str) -> Result<String, String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
    client
        .batch_execute("DROP SCHEMA IF EXISTS fanli_bench CASCADE; CREATE SCHEMA fanli_bench")
        .map_err(|e| e.to_string())?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-csearch_path%3Dfanli_bench"))
}

/// `events` single-order `POST /v1/orders` from `connections` threads at once (a connection
/// each, reused), after 1,000 members joined: orders per second and the latency percentiles.
fn single_orders(addr: SocketAddr, key: &str, events: u64, connections: usize) -> Result<(), String> {
    let joins: String = (0..1000)
        .map(|i| format!("{{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"join\",\"member\":\"m{i}\"}}\n"))
        .collect();
    call(addr, "POST", "/v1/events", key, joins.as_bytes())?;
    let per = events as usize / connections;
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|t| {
            let key = key.to_owned();
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
                stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
                let mut latencies = Vec::with_capacity(per);
                let mut buffer = vec![0u8; 64 * 1024];
                for i in 0..per {
                    let body = format!("{{\"order\":\"o{t}-{i}\",\"member\":\"m{}\",\"amount\":\"100.00\"}}", (t * per + i) % 1000);
                    let request = format!(
                        "POST /v1/orders HTTP/1.1\r\nHost: load\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let sent = Instant::now();
                    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
                    let (status, filled) = response(&mut stream, &mut buffer)?;
                    if status != 200 {
                        let text = String::from_utf8_lossy(&buffer[..filled.min(300)]);
                        return Err(format!("an order was refused: {text}"));
                    }
                    latencies.push(sent.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for thread in threads {
        latencies.extend(thread.join().map_err(|_| "a client thread panicked")??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |p: usize| latencies[(latencies.len() - 1) * p / 100].as_secs_f64() * 1000.0;
    println!("| orders | connections | wall time | orders/s | p50 | p99 |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {connections} | {elapsed:.2} s | {:.0} | {:.2} ms | {:.2} ms |",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        at(50),
        at(99)
    );
    Ok(())
}

/// Reads one HTTP/1.1 response with a Content-Length body off a kept-alive connection into
/// `buffer`: its status and its length in bytes. Also `xtask load --overload`'s reader.
pub(crate) fn response(stream: &mut TcpStream, buffer: &mut [u8]) -> Result<(u16, usize), String> {
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            return Err("the response does not fit the buffer".to_owned());
        }
        let n = stream.read(&mut buffer[filled..]).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".to_owned());
        }
        filled += n;
        let text = String::from_utf8_lossy(&buffer[..filled]);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            if filled >= end + 4 + length {
                let status = text.get(9..12).and_then(|s| s.parse().ok()).ok_or("no HTTP status")?;
                return Ok((status, filled));
            }
        }
    }
}

/// One HTTP/1.1 request on a fresh connection: the status and the body (also
/// `xtask load --overload`'s).
pub(crate) fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    body: &[u8],
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: load\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let response = String::from_utf8_lossy(&response);
    let status = response.get(9..12).and_then(|s| s.parse().ok()).ok_or("no HTTP status")?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}
