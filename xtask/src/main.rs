//! Project automation, run as `cargo xtask COMMAND` (an alias in `.cargo/config.toml`).
//!
//! - `gen --events N --out FILE [--seed S] [--all]`: writes a deterministic JSON Lines event
//!   stream of exactly N lines for `bench/plan.toml` (with `--all`, for `bench/plan-all.toml`),
//!   and a `FILE.meta.json` sidecar with its counts. With `--amend-every K`, every Kth line is an
//!   `amend_plan` of that plan, in force at once.
//! - `bench [--events N] [--runs K] [--seed S]`: builds the release `fanli`, generates streams of
//!   N/10 and N events under `target/bench/`, times `fanli run` on each and prints a markdown
//!   table for BENCHMARKS.md. With `--all`, on `bench/plan-all.toml` (every kind at once) and
//!   streams that also have stores, agents, partners, ad views, redemptions and top-ups. With
//!   `--amend-every K`, on streams with an amendment every K lines. With `--base OLD_FANLI`, that binary runs too, interleaved, and the tables compare the two.
//! - `bench --matrix [--events-small N] [--events-large N] [--runs K] [--seed S] [--only NAMES]
//!   [--valgrind]`:
//!   `fanli run` on every workload of the benchmark matrix (issue 19: each kind alone, all
//!   together, refund windows, queues, clawback, refused lines, long ids, deep referral trees),
//!   200k and 2M events by default, one markdown table with the parse floor beside each; see
//!   matrix.rs.
//! - `phases [--events N] [--runs K] [--seed S]`: on the same streams, in memory, times parsing
//!   alone and parsing plus the engine, to see which of them grows faster than the events.
//! - `dayclose [--lots N] [--runs K]`: times one `close_day` over N active green-points lots.
//! - `load [--events N] [--batch B] [--single C] [--database URL [--node]]`: the server's durable events per
//!   second over HTTP, in batches; or single-order posts from C connections at once, with latencies;
//!   with `--node`, the server a node of a cluster (leases, the lease fence on every commit, the
//!   revocation count read before every request), alone in it.
//! - `load --overload C [--seconds S] [--every MS] [--readers R] [--max-writes N] [--max-reads N]
//!   [--server-cpus LIST]`:
//!   an open-loop overload (issue 17): C connections each posting an order every MS
//!   milliseconds and R reading audit pages, against the server in a child process (pinned to
//!   the cores LIST with `taskset -c LIST`, if given); the answered orders' latencies, the 503s,
//!   the server's peak memory.
//! - `restart [--events N] [--tail T]`: the server's start over a log of N lines whose latest
//!   snapshot is T lines before its end, and over the whole log without one.
//! - `difftest --base OLD --new NEW [--cases N] [--seed S] [--keep DIR] [--jobs J] [--only K]
//!   [--operate]`:
//!   two `fanli` binaries on N random plans and event streams (300 by default), every command's
//!   output compared byte for byte, so a refactor can show it changed nothing; the failing cases
//!   go to DIR (`target/difftest/`). See docs/difftest.md.

mod bench;
mod dayclose;
mod difftest;
mod generate;
mod load;
mod matrix;
mod overload;
mod phases;
mod restart;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask gen --events N --out FILE [--seed S] [--all] [--amend-every K]
       cargo xtask bench [--events N] [--runs K] [--seed S] [--all] [--amend-every K]
                         [--base OLD_FANLI]
       cargo xtask bench --matrix [--events-small N] [--events-large N] [--runs K] [--seed S]
                                  [--only NAME[,NAME…]] [--valgrind]
       cargo xtask phases [--events N] [--runs K] [--seed S] [--all]
       cargo xtask dayclose [--lots N] [--runs K]
       cargo xtask load [--events N] [--batch B] [--single CONNECTIONS] [--database URL [--node]]
       cargo xtask load --overload CONNECTIONS [--seconds S] [--every MS] [--readers R]
                        [--max-writes N] [--max-reads N] [--server-cpus LIST]
       cargo xtask restart [--events N] [--tail T]
       cargo xtask difftest --base OLD_FANLI --new NEW_FANLI [--cases N] [--seed S] [--keep DIR]
                            [--jobs J] [--only CASE] [--operate]";

/// The seed both commands use unless told otherwise.
const DEFAULT_SEED: u64 = 42;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(format!("no command\n{USAGE}"));
    };
    if command == "load-server" {
        // The server of `load --overload`, in a process of its own.
        return overload::server(rest);
    }
    let flags = Flags::parse(rest)?;
    match command.as_str() {
        "gen" => {
            flags.only(&["--events", "--out", "--seed", "--all", "--amend-every"])?;
            let events = flags.number("--events")?.ok_or("gen needs --events N")?;
            let out = PathBuf::from(flags.get("--out").ok_or("gen needs --out FILE")?);
            let seed = flags.number("--seed")?.unwrap_or(DEFAULT_SEED);
            let started = std::time::Instant::now();
            let amend_every = flags.number("--amend-every")?.unwrap_or(0);
            let stats = generate::write_stream(
                &out,
                events,
                seed,
                &generate::Shape::of(flags.get("--all").is_some()),
                amend_every,
            )
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            eprintln!(
                "wrote {} events ({} members, {} orders) to {} in {:.2} s",
                stats.events,
                stats.members,
                stats.orders,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        "bench" if flags.get("--matrix").is_some() => {
            flags.only(&[
                "--matrix",
                "--events-small",
                "--events-large",
                "--runs",
                "--seed",
                "--only",
                "--valgrind",
            ])?;
            matrix::run(&matrix::Options {
                small: flags.number("--events-small")?.unwrap_or(200_000),
                large: flags.number("--events-large")?.unwrap_or(2_000_000),
                runs: flags.number("--runs")?.unwrap_or(3) as usize,
                seed: flags.number("--seed")?.unwrap_or(DEFAULT_SEED),
                only: flags.get("--only").map(str::to_owned),
                valgrind: flags.get("--valgrind").is_some(),
            })
        }
        "parse-floor" => {
            // The matrix's parse floor, in a process of its own (see matrix.rs).
            flags.only(&["--stream"])?;
            let stream = flags.get("--stream").ok_or("parse-floor needs --stream FILE")?;
            matrix::parse_floor(std::path::Path::new(stream))
        }
        "bench" => {
            let (events, runs, seed) = flags.run_sizes("bench", &["--all", "--base", "--amend-every"])?;
            let base = flags.get("--base").map(PathBuf::from);
            let amend_every = flags.number("--amend-every")?.unwrap_or(0);
            bench::run(events, runs, seed, flags.get("--all").is_some(), amend_every, base)
        }
        "phases" => {
            let (events, runs, seed) = flags.run_sizes("phases", &["--all"])?;
            phases::run(events, runs, seed, flags.get("--all").is_some())
        }
        "dayclose" => {
            flags.only(&["--lots", "--runs"])?;
            let lots = flags.number("--lots")?.unwrap_or(1_000_000);
            let runs = flags.number("--runs")?.unwrap_or(3).max(1);
            dayclose::run(lots, runs as usize)
        }
        "load" => {
            if let Some(connections) = flags.number("--overload")? {
                flags.only(&[
                    "--overload",
                    "--seconds",
                    "--every",
                    "--readers",
                    "--max-writes",
                    "--max-reads",
                    "--server-cpus",
                ])?;
                return overload::run(&overload::Overload {
                    connections: connections.max(1) as usize,
                    seconds: flags.number("--seconds")?.unwrap_or(10).max(1),
                    every_ms: flags.number("--every")?.unwrap_or(50).max(1),
                    readers: flags.number("--readers")?.unwrap_or(32) as usize,
                    max_writes: flags.number("--max-writes")?,
                    max_reads: flags.number("--max-reads")?,
                    server_cpus: flags.get("--server-cpus").map(str::to_owned),
                });
            }
            flags.only(&["--events", "--batch", "--single", "--database", "--node"])?;
            let events = flags.number("--events")?.unwrap_or(200_000);
            let batch = flags.number("--batch")?.unwrap_or(1_000).max(1);
            let single = flags.number("--single")?.map(|n| n.max(1) as usize);
            let node = flags.get("--node").is_some();
            if node && flags.get("--database").is_none() {
                return Err("--node needs --database: a cluster is on PostgreSQL".to_owned());
            }
            load::run(events, batch as usize, single, flags.get("--database"), node)
        }
        "restart" => {
            flags.only(&["--events", "--tail"])?;
            let events = flags.number("--events")?.unwrap_or(10_000_000);
            let tail = flags.number("--tail")?.unwrap_or(500_000);
            restart::run(events, tail)
        }
        "difftest" => {
            flags.only(&[
                "--base",
                "--new",
                "--cases",
                "--seed",
                "--keep",
                "--jobs",
                "--only",
                "--operate",
            ])?;
            let base = flags.get("--base").ok_or("difftest needs --base OLD_FANLI")?;
            let new = flags.get("--new").ok_or("difftest needs --new NEW_FANLI")?;
            let keep = match flags.get("--keep") {
                Some(dir) => PathBuf::from(dir),
                None => bench::target_dir(&bench::workspace_root()).join("difftest"),
            };
            let options = difftest::Options {
                base: PathBuf::from(base),
                new: PathBuf::from(new),
                cases: flags.number("--cases")?.unwrap_or(300) as usize,
                seed: flags.number("--seed")?.unwrap_or(DEFAULT_SEED),
                keep,
                jobs: flags.number("--jobs")?.unwrap_or(2).max(1) as usize,
                only: flags.number("--only")?.map(|n| n as usize),
                operate: flags.get("--operate").is_some(),
            };
            difftest::run(&options)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    }
}

/// `--name value` pairs, by hand: an xtask needs no more.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(args: &[String]) -> Result<Flags, String> {
        let mut pairs = Vec::new();
        let mut iter = args.iter();
        while let Some(name) = iter.next() {
            if !name.starts_with("--") {
                return Err(format!("unexpected argument `{name}`\n{USAGE}"));
            }
            // The flags without a value.
            if matches!(name.as_str(), "--all" | "--node" | "--operate" | "--matrix" | "--valgrind") {
                pairs.push((name.clone(), String::new()));
                continue;
            }
            let (name, value) = match name.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = iter.next().ok_or_else(|| format!("{name} needs a value"))?;
                    (name.clone(), value.clone())
                }
            };
            pairs.push((name, value));
        }
        Ok(Flags(pairs))
    }

    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        match self.0.iter().find(|(name, _)| !allowed.contains(&name.as_str())) {
            Some((name, _)) => Err(format!("unknown flag `{name}`\n{USAGE}")),
            None => Ok(()),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// `--events N --runs K --seed S` of `bench` and `phases`, with their defaults.
    fn run_sizes(&self, command: &str, more: &[&str]) -> Result<(u64, usize, u64), String> {
        let allowed: Vec<&str> = ["--events", "--runs", "--seed"].iter().chain(more).copied().collect();
        self.only(&allowed)?;
        let events = self.number("--events")?.unwrap_or(2_000_000);
        let runs = self.number("--runs")?.unwrap_or(3);
        let seed = self.number("--seed")?.unwrap_or(DEFAULT_SEED);
        if events < 10 || runs == 0 {
            return Err(format!("{command} needs --events of at least 10 and --runs of at least 1"));
        }
        Ok((events, runs as usize, seed))
    }

    /// A whole number; `_` may group digits (`2_000_000`).
    fn number(&self, name: &str) -> Result<Option<u64>, String> {
        self.get(name)
            .map(|v| {
                v.replace('_', "").parse().map_err(|_| format!("{name} wants a whole number, not `{v}`"))
            })
            .transpose()
    }
}
