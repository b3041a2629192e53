//! What the server's test files share: a fresh place per test, on SQLite, or on PostgreSQL when
//! `FANLI_TEST_DATABASE_URL` is set (`.ci/run` sets it), each test in a schema of its own; and a
//! server to send requests to, on a socket ([`start`]) or in-process ([`local`]), answering alike.
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
pub fn open_with(dir: &Path, master: &str) -> Result<App, fanli_server::OpenError> {
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

/// Drops a table of the test's store from a connection of its own (under a running server's
/// feet, say, to make the store fail).
pub fn drop_table(dir: &Path, table: &str) {
    execute(dir, &format!("DROP TABLE {table}"));
}

/// Runs `sql` (statements without parameters; `{int}` for the 64-bit integer type, which the
/// two databases spell differently) on the test's store, on a connection of its own.
pub fn execute(dir: &Path, sql: &str) {
    match database(dir) {
        Some(url) => postgres::Client::connect(&url, postgres::NoTls)
            .unwrap()
            .batch_execute(&sql.replace("{int}", "BIGINT"))
            .unwrap(),
        None => rusqlite::Connection::open(dir.join("fanli.sqlite3"))
            .unwrap()
            .execute_batch(&sql.replace("{int}", "INTEGER"))
            .unwrap(),
    }
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
    std::thread::spawn(move || {
        // A server that cannot start drops the listener: the test's requests are refused, and
        // this says why.
        if let Err(error) = fanli_server::serve_blocking_on(app, listener) {
            eprintln!("the server on {addr} stopped: {error}");
        }
    });
    addr
}

/// Starts a node of a cluster on the PostgreSQL `database`, with its snapshot files in `data`,
/// on a free local port (bound here, on port 0, and advertised to the other nodes), on a thread
/// of its own.
pub fn start_node(data: &Path, database: &str) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let app = App::open_node(data, database, MASTER, &format!("http://{addr}")).unwrap();
    std::thread::spawn(move || {
        if let Err(error) = fanli_server::serve_blocking_on(app, listener) {
            eprintln!("the node on {addr} stopped: {error}");
        }
    });
    addr
}

/// The server on the test's store, in-process: see [`local_app`].
pub fn local(dir: &Path) -> Local {
    local_app(open(dir))
}

/// `app` answering in-process: its router (the same routes and middleware a socket gets),
/// over the same writer and snapshot threads, driven on a runtime of its own without a socket.
/// What only `serve` starts is not there: the webhook deliverer and the scheduler's thread.
pub fn local_app(app: App) -> Local {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let router = fanli_server::router(fanli_server::Server::start(app));
    Local { runtime, router }
}

/// A server answering in-process ([`local`]); `&Local` is a [`Target`] as a socket's address is.
pub struct Local {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

/// Where a test's requests go: a server on a socket ([`start`]'s address) or in-process
/// (`&`[`local`]`(dir)`), with the same answer either way, so that a test moves from one to the
/// other by the line that makes its server.
pub trait Target: Copy {
    /// One request, as [`request`] describes it.
    fn send(self, method: &str, path: &str, key: Option<&str>, extra: &str, body: &str) -> Answer;
}

impl Target for SocketAddr {
    fn send(self, method: &str, path: &str, key: Option<&str>, extra: &str, body: &str) -> Answer {
        over_socket(self, method, path, key, extra, body)
    }
}

impl Target for &Local {
    fn send(self, method: &str, path: &str, key: Option<&str>, extra: &str, body: &str) -> Answer {
        let mut builder = axum::http::Request::builder().method(method).uri(path).header("host", "test");
        if let Some(key) = key {
            builder = builder.header("authorization", format!("Bearer {key}"));
        }
        for line in extra.split("\r\n").filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("not a header line: {line:?}"));
            builder = builder.header(name.trim(), value.trim());
        }
        let request = builder
            .header("content-length", body.len())
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap();
        // On one of the runtime's workers, as a connection's task would be (the handlers step
        // out of the runtime for the store with `block_in_place`); at most 10 s, as over a socket.
        let (sender, answer) = std::sync::mpsc::channel();
        let router = self.router.clone();
        self.runtime.spawn(async move {
            use tower::ServiceExt;
            let response = router.oneshot(request).await.unwrap_or_else(|never| match never {});
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await;
            let _ = sender.send((parts, body));
        });
        let (parts, body) = answer.recv_timeout(Duration::from_secs(10)).expect("an answer within 10 s");
        let head = parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let bytes = body.expect("the whole body").to_vec();
        // Text is UTF-8; an image is read as its bytes.
        let image = parts.headers.get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"image/"));
        let body = match image {
            true => String::from_utf8_lossy(&bytes).into_owned(),
            false => String::from_utf8(bytes.clone()).expect("a UTF-8 body"),
        };
        Answer { status: parts.status.as_u16(), head, body, bytes }
    }
}

/// An answer: status, headers (names in lower case) and body (de-chunked).
pub struct Answer {
    pub status: u16,
    pub head: Vec<(String, String)>,
    pub body: String,
    /// The body's bytes (in-process answers; over a socket, the text's).
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One request to `to` with `Host: test`, the key as a bearer token and any `extra` header
/// lines (each ending in `\r\n`): over a socket, HTTP/1.1 on a connection of its own; to a
/// [`Local`] server, through its router.
pub fn request(
    to: impl Target,
    method: &str,
    path: &str,
    key: Option<&str>,
    extra: &str,
    body: &str,
) -> Answer {
    to.send(method, path, key, extra, body)
}

fn over_socket(
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
    let bytes = body.clone().into_bytes();
    Answer { status, head, body, bytes }
}
