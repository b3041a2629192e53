//! What the server's test files share: a fresh place per test, on SQLite, or on PostgreSQL when
//! `FANLI_TEST_DATABASE_URL` is set (`.ci/run` sets it), each test in a schema of its own.
#![allow(dead_code)] // Each test file uses some of these.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use fanli_server::App;
use fanli_server::store::Store;

/// The master key every test server has.
pub const MASTER: &str = "master-secret";

/// A fresh data folder for the test `name` and, on PostgreSQL, a fresh schema.
pub fn data_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(url) = std::env::var("FANLI_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("FANLI_TEST_DATABASE_URL={url}: {e}"));
        let schema = schema(&dir);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            .unwrap();
    }
    dir
}

fn schema(dir: &Path) -> String {
    let name = dir.file_name().unwrap().to_string_lossy();
    format!("fanli_test_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
}

/// The database of the test whose folder is `dir`: `None` for SQLite in the folder.
pub fn database(dir: &Path) -> Option<String> {
    let url = std::env::var("FANLI_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-csearch_path%3D{}", schema(dir)))
}

/// The app on the test's store, with `master` as its master key.
pub fn open_with(dir: &Path, master: &str) -> Result<App, String> {
    App::open_with(dir, database(dir).as_deref(), master)
}

/// The app on the test's store.
pub fn open(dir: &Path) -> App {
    open_with(dir, MASTER).unwrap()
}

/// A connection to the test's store.
pub fn store(dir: &Path) -> Store {
    Store::open(dir, database(dir).as_deref()).unwrap()
}

/// Starts a server on the test's store on a free local port, on a thread of its own.
pub fn start(dir: &Path) -> SocketAddr {
    start_app(open(dir))
}

/// Starts `app` on a free local port, on a thread of its own. The listener is bound here, on
/// port 0, and handed to the server as it is: no other process can take the port between
/// choosing it and listening on it, and a connection made before the server accepts waits in
/// the listener's backlog.
pub fn start_app(app: App) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || fanli_server::serve_blocking_on(app, listener));
    addr
}

/// An answer: status, headers (names in lower case) and body (de-chunked).
pub struct Answer {
    pub status: u16,
    pub head: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request on a connection of its own, with `Host: test`, the key as a bearer
/// token and any `extra` header lines (each ending in `\r\n`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    extra: &str,
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: test\r\n{auth}{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, rest) = response.split_once("\r\n\r\n").unwrap();
    let head: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    // Bodies may come chunked.
    let chunked = head.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
        out
    } else {
        rest.to_owned()
    };
    Answer { status, head, body }
}
