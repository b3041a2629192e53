//! `fanli`: the command line. Thin glue over `fanli-format` (text in and out) and
//! `fanli-engine` (the rules); it owns files, flags, exit codes and the human-readable output.

#[macro_use]
mod out;

mod against;
mod check;
mod export;
mod run;
mod serve;
mod simulate;
mod text;
mod transparency;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// fanli (返利): run consumer rebate schemes exactly, solvently and in the open.
#[derive(Parser)]
#[command(name = "fanli", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply a plan to an event stream and print the end state.
    ///
    /// Exit status: 0 when every line applied, 2 when any line was rejected (the others still
    /// apply), 1 when the plan or a file could not be read.
    Run(RunArgs),
    /// Check a plan against the legal red lines (errors) and what regulators look at (warnings).
    ///
    /// Then a small simulated year says who is made whole and what waits, with a risk grade
    /// (low, medium, high, severe: docs/risk.md) on the last line beside the verdict.
    ///
    /// Exit status: 1 when the plan has an error or cannot be read, 0 otherwise (warnings
    /// included, whatever the risk grade). A plan with an error is refused by `fanli run` too.
    Check(CheckArgs),
    /// Verify a running plan from its log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Simulate a plan over a scenario of member behaviour: who gets paid, who is left owed.
    ///
    /// Writes into DIR (--out): events.jsonl (the generated stream: `fanli run PLAN
    /// DIR/events.jsonl` gives the same end state), state.json (that end state, as `fanli run
    /// --json` prints it), timeseries.csv (each day's figures), outcomes.csv (each member's
    /// spend, received and owed), summary.json (the totals and the verdict), report.html (one
    /// page with the charts) and, with --sweep, sweep.csv. The CSV files are UTF-8 with a BOM
    /// (Excel and WPS read the Chinese right), quoted where a value needs it.
    Simulate(SimulateArgs),
    /// Export a spreadsheet (CSV) of the state a plan and its log come to: the members, the
    /// daily pool reports or the pools.
    ///
    /// The file is UTF-8 with a byte-order mark (Excel and WPS read the Chinese right), one
    /// header row, values quoted where they hold a comma, a quote or a line break; money in yuan
    /// with 2 decimals. Columns:
    ///
    /// members: member, referrer, wallet, credit, spent, refunded, received, owed, then
    /// ID_received and ID_owed for each mechanism (a row per member, in join order).
    ///
    /// reports: at, mechanism, pool, obligations, paid, price, chain (a row per close_day and
    /// mechanism: what `fanli run --report` publishes; `at` in the plan's timezone).
    ///
    /// pools: mechanism, kind, title_zh, pool, obligations, obligations_waiting, paid, price,
    /// retired (a row per mechanism, at the end of the log).
    ///
    /// Exit status as `fanli run`: 0, 2 when lines of the log were refused (named on stderr; the
    /// export is still written), 1 when a file cannot be read or written.
    Export(ExportArgs),
    /// Serve the HTTP API: tenants, plans and events, durable in SQLite under --data.
    ///
    /// The master key (which creates tenants) is FANLI_MASTER_KEY, else DIR/master.key, else a
    /// new one written there on first start.
    Serve(ServeArgs),
}

/// The `serve` command's flags.
#[derive(clap::Args)]
struct ServeArgs {
    /// Where the SQLite store (and the snapshots) live.
    #[arg(long, default_value = "fanli-data")]
    data: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// A `postgres://` URL: the store in PostgreSQL instead of SQLite (snapshots stay under
    /// --data).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// With --database: this node's address for the other nodes, which forward its tenants'
    /// requests there (default: http:// and --listen).
    #[arg(long, value_name = "URL", requires = "database")]
    advertise: Option<String>,
    /// Where the tenants' Ed25519 signing keys are kept (TENANT.ed25519, made on first use;
    /// default: DATA/keys). The nodes of a cluster must all read the same folder: a tenant's
    /// heads are only ever signed by the key that signed its first.
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// Writes in flight at most (posts, puts, deletes); past it a write is answered 503
    /// `overloaded` with `Retry-After: 1` at once.
    #[arg(long, value_name = "N", default_value_t = fanli_server::limits::DEFAULT_MAX_WRITES)]
    max_writes: usize,
    /// Heavy reads in flight at most (audit pages, state, reports, plan checks, simulations);
    /// past it, 503 `overloaded` at once. Default: the cores the server may run on, at most 8.
    #[arg(long, value_name = "N", default_value_t = fanli_server::limits::default_max_reads())]
    max_reads: usize,
    /// The scheme and host the members' referral links and QR codes start with
    /// (`https://shop.example.com`), for tenants that set none with `PUT /v1/settings`
    /// (default: the request's host).
    #[arg(long, value_name = "URL")]
    public_origin: Option<String>,
}

/// The `simulate` command's flags.
#[derive(clap::Args)]
struct SimulateArgs {
    /// The plan (TOML).
    #[arg(required_unless_present = "example")]
    plan: Option<PathBuf>,
    /// The scenario (TOML); the built-in default when left out.
    scenario: Option<PathBuf>,
    /// The generator's seed (else the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Days to simulate (else the scenario's).
    #[arg(long)]
    days: Option<u32>,
    /// Where to write the files.
    #[arg(long, default_value = "fanli-sim")]
    out: PathBuf,
    /// Print the built-in scenario as a TOML file to start from, and stop.
    #[arg(long, conflicts_with_all = ["plan", "scenario"])]
    example: bool,
    /// Simulate a plan that `fanli check` refuses (to show what it would do).
    #[arg(long)]
    allow_noncompliant: bool,
    /// Run the plan once more for each value of a key (`appr.mint_ratio=0.5,0.6,0.7`, or a
    /// top-level key) and compare them in DIR/sweep.csv and the report. The runs use every
    /// core; their results are the same, in the order of the values, whatever the core count.
    #[arg(long, value_name = "KEY=V1,V2,...")]
    sweep: Option<String>,
    /// Replay this log first and simulate forward from its state: its members take part, and
    /// `fanli run PLAN` on the log followed by DIR/events.jsonl gives DIR/state.json.
    #[arg(long, value_name = "EVENTS.jsonl")]
    from: Option<PathBuf>,
    /// Print one JSON document instead of the verdict's lines: `{"out": DIR, "files":
    /// ["DIR/events.jsonl", ...], "summary": {...}}`, where `summary` is DIR/summary.json (its
    /// `verdict` has `en` and `zh`; `risk` the grade, docs/risk.md; `members`, `made_whole`, `paid`,
    /// `owed`, `still_waiting`, ...).
    #[arg(long, conflicts_with = "example")]
    json: bool,
    /// Read every line written back with `fanli run`'s reader and stop at the first that is not
    /// the event the simulator applied (a check of the simulator, for its tests and benchmarks;
    /// debug builds always make it).
    #[arg(long, hide = true)]
    check_lines: bool,
}

/// The `export` command's arguments.
#[derive(clap::Args)]
struct ExportArgs {
    /// What to export.
    #[arg(value_enum)]
    what: ExportWhat,
    /// The plan (TOML).
    plan: PathBuf,
    /// The log (JSON Lines).
    events: PathBuf,
    /// Write the CSV here instead of standard output.
    #[arg(long, short, value_name = "FILE.csv")]
    out: Option<PathBuf>,
    /// Export under a plan that `fanli check` refuses.
    #[arg(long)]
    allow_noncompliant: bool,
}

/// What `fanli export` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportWhat {
    /// A row per member.
    Members,
    /// A row per daily pool report and mechanism.
    Reports,
    /// A row per mechanism.
    Pools,
}

/// The `check` command's flags.
#[derive(clap::Args)]
struct CheckArgs {
    /// The plan (TOML).
    plan: PathBuf,
    /// Print the findings as one JSON document.
    #[arg(long)]
    json: bool,
    /// The plan running now: check PLAN as an amendment of it, and show what it changes for
    /// the members of --log.
    #[arg(long, value_name = "OLD.toml", requires = "log")]
    against: Option<PathBuf>,
    /// The running plan's log (JSON Lines), for --against.
    #[arg(long, value_name = "EVENTS.jsonl", requires = "against")]
    log: Option<PathBuf>,
}

/// The `run` command's flags.
#[derive(clap::Args)]
struct RunArgs {
    /// The plan (TOML).
    #[arg(required_unless_present = "example")]
    plan: Option<PathBuf>,
    /// The events (JSON Lines, one event a line; `-` reads standard input).
    #[arg(required_unless_present = "example")]
    events: Option<PathBuf>,
    /// Run the bundled example plan and stream instead of files.
    #[arg(long, conflicts_with_all = ["plan", "events"])]
    example: bool,
    /// Print the end state as one JSON document.
    #[arg(long)]
    json: bool,
    /// Add one entry per input line with its postings and effects. The trace is part of the
    /// JSON document, so this implies --json.
    #[arg(long, conflicts_with = "member")]
    trace: bool,
    /// Print one member's view: balances, points value, progress, queue position (with --json,
    /// their object as in the state's `members`).
    #[arg(long, value_name = "ID")]
    member: Option<String>,
    /// Run a plan that `fanli check` refuses, for analysis (its findings still go to stderr).
    #[arg(long)]
    allow_noncompliant: bool,
    /// Write every accepted event here, hash-chained, for `fanli audit verify`.
    #[arg(long, value_name = "OUT.jsonl")]
    chain: Option<PathBuf>,
    /// Write the daily pool report here: a line per close_day with each pool, its obligations,
    /// what it paid and the chain's head.
    #[arg(long, value_name = "REPORT.jsonl")]
    report: Option<PathBuf>,
    /// Stop before the first event later than this time (RFC 3339): the state as it stood then.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
}

/// The `audit` commands.
#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute a chained log's hashes and replay it from scratch; with --report, compare the
    /// published daily pool report; with --data, do so for every tenant of a server's store,
    /// comparing its published reports and its latest snapshot too. Exit status 0 when
    /// everything holds, 1 at the first line that does not (named).
    Verify(VerifyArgs),
    /// Print an inclusion proof (--line N: that line is in the tree) or a consistency proof
    /// (--from-size M: the tree extends its first M lines) from a chained log, as JSON: what
    /// the server's `GET /v1/audit/proof` and `/v1/audit/consistency` answer.
    Prove(ProveArgs),
    /// Check a proof against a signed head (and, for a consistency proof, an older head), with
    /// nothing but the public key. Exit status 0 when it holds, 1 otherwise.
    CheckProof(CheckProofArgs),
    /// Sign the tree head of a chained log kept without the server (`fanli run --chain`) with a
    /// key file (made when missing), and print it: what `audit verify --head` checks.
    Sign(SignArgs),
}

/// The `audit prove` flags.
#[derive(clap::Args)]
struct ProveArgs {
    /// The chained log; several files are one log, in the order given.
    #[arg(required = true)]
    logs: Vec<PathBuf>,
    /// The line (from 1) to prove.
    #[arg(long, required_unless_present = "from_size", conflicts_with = "from_size")]
    line: Option<u64>,
    /// The older tree's size, for a consistency proof to the tree of --size lines.
    #[arg(long, value_name = "M")]
    from_size: Option<u64>,
    /// The tree's size (default: the head's, else every line of the log).
    #[arg(long, conflicts_with = "head")]
    size: Option<u64>,
    /// A signed head (JSON): the proof is for its tree, whose root the log must give.
    #[arg(long, value_name = "HEAD.json")]
    head: Option<PathBuf>,
    /// The tenant's public key (64 hex digits, or a file with them) the head must be signed by.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// The tenant named in the proof (default: the head's).
    #[arg(long)]
    tenant: Option<String>,
    /// Accepted for symmetry with the other commands: the proof is printed as JSON anyway.
    #[arg(long)]
    json: bool,
}

/// The `audit check-proof` flags.
#[derive(clap::Args)]
struct CheckProofArgs {
    /// The proof (JSON), from `fanli audit prove` or the server.
    proof: PathBuf,
    /// The signed head the proof is for (the newer, for a consistency proof).
    #[arg(long, value_name = "HEAD.json")]
    head: PathBuf,
    /// For a consistency proof: the older signed head.
    #[arg(long, alias = "consistency", value_name = "OLDER.json")]
    old: Option<PathBuf>,
    /// The tenant's public key (64 hex digits, or a file with them) the heads must be signed by.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// Print the verdict as one JSON document: `{"proven": true, "proof": "inclusion", "line",
    /// "size", "time", "key", "event"}` or `{"proven": true, "proof": "consistency", "from",
    /// "to", "from_time", "time", "key"}`; a proof that fails gives `{"proven": false, "error"}`
    /// (exit 1).
    #[arg(long)]
    json: bool,
}

/// The `audit sign` flags.
#[derive(clap::Args)]
struct SignArgs {
    /// The chained log; several files are one log, in the order given.
    #[arg(required = true)]
    logs: Vec<PathBuf>,
    /// The Ed25519 secret key's file (64 hex digits), made (mode 0600) when missing.
    #[arg(long, value_name = "FILE")]
    secret: PathBuf,
    /// The tenant the head names.
    #[arg(long)]
    tenant: String,
    /// Accepted for symmetry with the other commands: the signed head is printed as JSON anyway.
    #[arg(long)]
    json: bool,
}

/// The `audit verify` flags: chained log files and their plan, or a server's store.
#[derive(clap::Args)]
struct VerifyArgs {
    /// The chained log (`fanli run --chain`, or the server's `GET /v1/audit` pages); several
    /// files are one log, in the order given.
    #[arg(required_unless_present = "data", conflicts_with = "data")]
    logs: Vec<PathBuf>,
    /// The plan the log ran under, to replay it. Without it only the hash chain and each line's
    /// canonical form are checked.
    #[arg(long, conflicts_with = "data")]
    plan: Option<PathBuf>,
    /// A published daily pool report (`fanli run --report`) to check against the log.
    #[arg(long, conflicts_with = "data", requires = "plan")]
    report: Option<PathBuf>,
    /// A server's data folder (`fanli serve --data`): every tenant's stored log is checked
    /// against its plan, its daily reports and its latest snapshot.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// With --data: the server's `postgres://` URL, when its store is PostgreSQL.
    #[arg(long, value_name = "URL", requires = "data")]
    database: Option<String>,
    /// With --data: only this tenant.
    #[arg(long, requires = "data")]
    tenant: Option<String>,
    /// A signed tree head (the JSON `GET /v1/audit/head` answered, saved): the log's first
    /// `size` lines must hash to its root, so an edited, inserted, removed or truncated line is
    /// found, the newest included. May be given several times (older heads narrow down which
    /// line changed). With --data, heads of other tenants are ignored.
    #[arg(long, value_name = "HEAD.json")]
    head: Vec<PathBuf>,
    /// The public key (64 hex digits, or a file with them) the heads must be signed by; without
    /// it, each head's own key, which the output names.
    #[arg(long, value_name = "HEX")]
    key: Option<String>,
    /// Print the verdict as one JSON document: `{"verified": true, "lines": 12, "head": HASH,
    /// "replayed": true, "reports": 5 or null, "signed": {"size", "time", "keys", "heads",
    /// "after"} or null, "accounts_balance": true or null}`; a log that does not hold gives
    /// `{"verified": false, "error": "FILE:LINE: ..."}` (exit 1). With --data: `{"verified",
    /// "tenants": [{"tenant", "verified", "lines", "reports", "snapshot", "head", "signed",
    /// "accounts_balance"} or {"tenant", "verified": false, "error"}]}`.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage mistakes exit 1: status 2 means "some lines were rejected".
            return if e.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Run(mut args) => {
            args.json |= args.trace;
            run::run(args)
        }
        Command::Check(args) => check::check(args),
        Command::Audit(AuditCommand::Verify(args)) => check::verify(args),
        Command::Audit(AuditCommand::Prove(args)) => transparency::prove(args),
        Command::Audit(AuditCommand::CheckProof(args)) => transparency::check_proof(args),
        Command::Audit(AuditCommand::Sign(args)) => transparency::sign(args),
        Command::Simulate(args) => simulate::simulate(args),
        Command::Export(args) => export::export(args),
        Command::Serve(args) => serve::serve(args),
    }
}
