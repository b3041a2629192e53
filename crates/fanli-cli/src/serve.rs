//! `fanli serve`: the HTTP API on SQLite under a local folder.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::ServeArgs;

pub(crate) fn serve(args: ServeArgs) -> ExitCode {
    // Logs go to stderr; `RUST_LOG` picks what (`RUST_LOG=fanli_server=debug` shows each request).
    // Coloured only on a terminal: a log file or a journal gets no ANSI escape codes.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let fail = |message: String| {
        eprintln!("fanli: {message}");
        ExitCode::from(1)
    };
    // The folder is its owner's alone (0700; its files 0600), tightened if it was not.
    if let Err(e) = fanli_server::perms::private_dir(&args.data) {
        return fail(format!("cannot create {}: {e}", args.data.display()));
    }
    let key_file = args.data.join("master.key");
    let master = match std::env::var("FANLI_MASTER_KEY") {
        Ok(key) if !key.is_empty() => key,
        _ => match std::fs::read_to_string(&key_file) {
            Ok(key) => key.trim().to_owned(),
            Err(_) => {
                let key = match fanli_server::generate_master_key() {
                    Ok(key) => key,
                    Err(e) => return fail(format!("cannot make a master key: {e}")),
                };
                if let Err(e) = write_private(&key_file, &key) {
                    return fail(format!("cannot write {}: {e}", key_file.display()));
                }
                eprintln!("a new master key is in {} (it creates tenants)", key_file.display());
                key
            }
        },
    };
    if let Some(url) = &args.database
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        return fail(format!("--database takes a postgres:// URL, not {url:?}"));
    }
    // On PostgreSQL the server is a node of a cluster: it serves the tenants no other node does.
    let opened = match &args.database {
        Some(url) => {
            let address = args.advertise.clone().unwrap_or_else(|| format!("http://{}", args.listen));
            fanli_server::App::open_node(&args.data, url, &master, &address)
        }
        None => fanli_server::App::open(&args.data, &master),
    };
    let app = match opened {
        Ok(app) => {
            app.limits(fanli_server::limits::Limits { writes: args.max_writes, reads: args.max_reads })
        }
        Err(e) => return fail(e.to_string()),
    };
    let app = match &args.keys {
        Some(keys) => app.signing_keys(keys),
        None => app,
    };
    // Tests only (issue 17): commits that fail at seeded random points.
    let app = match std::env::var("FANLI_INJECT_FAULTS").ok().filter(|v| !v.is_empty()) {
        Some(text) => match fanli_server::faults::Faults::parse(&text) {
            Some(faults) => app.inject_faults(faults),
            None => return fail(format!("FANLI_INJECT_FAULTS is SEED/ONE_IN, not {text:?}")),
        },
        None => app,
    };
    let store = args
        .database
        .as_ref()
        .map_or_else(|| format!("data in {}", args.data.display()), |_| "PostgreSQL".to_owned());
    eprintln!("fanli serving on http://{} ({store})", args.listen);
    match fanli_server::serve_blocking(app, args.listen) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot serve on {}: {e}", args.listen)),
    }
}

/// Writes `text` to a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
