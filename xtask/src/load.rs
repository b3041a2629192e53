//! `cargo xtask load`: the server's throughput with batches of events over HTTP.
//!
//! Starts `fanli-server` in this process on 127.0.0.1 with a fresh SQLite store under
//! `target/bench/load`, creates a tenant with `bench/plan.toml`, then posts the first N lines of
//! the generated benchmark stream in batches of B lines (`POST /v1/events`, one connection, each
//! batch committed before its answer) and reports durable events per second.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::bench::{ensure_stream, plan_path, stream_path, target_dir, workspace_root};

pub(crate) fn run(events: u64, batch: usize) -> Result<(), String> {
    let root = workspace_root();
    let dir = target_dir(&root).join("bench");
    let stream = stream_path(&dir, events, crate::DEFAULT_SEED, false);
    ensure_stream(&stream, events, crate::DEFAULT_SEED, false)?;
    let data = dir.join("load");
    let _ = std::fs::remove_dir_all(&data);
    let app = fanli_server::App::open(&data, "load-master").map_err(|e| e.to_string())?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    drop(listener);
    std::thread::spawn(move || fanli_server::serve_blocking(app, addr));
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

/// One HTTP/1.1 request on a fresh connection: the status and the body.
fn call(addr: SocketAddr, method: &str, path: &str, key: &str, body: &[u8]) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: load\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
    let status = response.get(9..12).and_then(|s| s.parse().ok()).ok_or("no HTTP status")?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}
