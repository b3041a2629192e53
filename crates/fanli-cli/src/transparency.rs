//! The transparency log on the command line: signed heads read and checked (`audit verify
//! --head`), `audit prove` (an inclusion or consistency proof from log files), `audit
//! check-proof` (a proof against signed heads, with nothing but the public key) and `audit sign`
//! (a head over log files, for a log kept without the server). docs/transparency.md.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fanli_format::merkle::{self, Hash, Leaves};
use fanli_format::transparency::{
    ConsistencyProof, InclusionProof, SignedHead, TreeHead, head_time, public_key,
};

use crate::{CheckProofArgs, ProveArgs, SignArgs};

fn failed(message: String) -> ExitCode {
    eprintln!("fanli: {message}");
    ExitCode::from(1)
}

/// A public key given on the command line: 64 hex digits, or a file holding them.
pub(crate) fn trusted_key(given: Option<&str>) -> Result<Option<[u8; 32]>, String> {
    let Some(given) = given else { return Ok(None) };
    let text = match std::fs::read_to_string(given) {
        Ok(text) => text,
        Err(_) => given.to_owned(),
    };
    public_key(&text).map(Some).map_err(|e| format!("--key: {e}"))
}

/// A signed head read from its file (the JSON `GET /v1/audit/head` answered) and its signature
/// checked.
pub(crate) fn read_head(path: &Path, trusted: Option<&[u8; 32]>) -> Result<SignedHead, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    // A proof the server answered carries its head: the file serves as both.
    let value = value.get("head").filter(|h| h.is_object()).unwrap_or(&value);
    let head = SignedHead::from_value(value).map_err(|e| format!("{}: {e}", path.display()))?;
    head.verify(trusted).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(head)
}

/// Every line of the files, in order, as one log (without line breaks).
fn read_lines(paths: &[PathBuf], mut each: impl FnMut(String)) -> Result<(), String> {
    for path in paths {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (n, line) in std::io::BufReader::with_capacity(1 << 20, file).lines().enumerate() {
            let line = line.map_err(|e| format!("{}:{}: cannot be read: {e}", path.display(), n + 1))?;
            each(line.strip_suffix('\r').map(str::to_owned).unwrap_or(line));
        }
    }
    Ok(())
}

/// `fanli audit prove LOG... --line N | --from-size M [--size S | --head HEAD.json]`.
pub(crate) fn prove(args: ProveArgs) -> ExitCode {
    let trusted = match trusted_key(args.key.as_deref()) {
        Ok(key) => key,
        Err(e) => return failed(e),
    };
    let head = match args.head.as_deref().map(|p| read_head(p, trusted.as_ref())).transpose() {
        Ok(head) => head,
        Err(e) => return failed(e),
    };
    let mut leaves: Vec<Hash> = Vec::new();
    let mut event = None;
    let read = read_lines(&args.logs, |line| {
        leaves.push(merkle::leaf_hash(line.as_bytes()));
        if Some(leaves.len() as u64) == args.line {
            event = Some(line);
        }
    });
    if let Err(e) = read {
        return failed(e);
    }
    let lines = leaves.len() as u64;
    let size = args.size.or(head.as_ref().map(|h| h.head.size)).unwrap_or(lines);
    if size > lines {
        return failed(format!("the log has {lines} lines, fewer than the tree of {size} asked for"));
    }
    let mut source = Leaves(&leaves[..size as usize]);
    if let Some(head) = &head {
        let root = merkle::root(&mut source, size).unwrap_or_else(|never| match never {});
        if root != head.head.root {
            return failed(format!(
                "the first {size} lines do not hash to the head's root: this log is not the one signed"
            ));
        }
    }
    let tenant = args.tenant.or(head.map(|h| h.head.tenant)).unwrap_or_default();
    let proof = match (args.line, args.from_size) {
        (Some(line), _) => {
            if line == 0 || line > size {
                return failed(format!("line {line} is not in a tree of {size} lines"));
            }
            let path =
                merkle::inclusion_proof(&mut source, line - 1, size).unwrap_or_else(|never| match never {});
            let event = event.expect("the line was read");
            InclusionProof { tenant, line, size, event, path }.to_json()
        }
        (None, Some(from)) => {
            if from > size {
                return failed(format!("--from-size {from} is past the tree's {size} lines"));
            }
            let path =
                merkle::consistency_proof(&mut source, from, size).unwrap_or_else(|never| match never {});
            ConsistencyProof { tenant, from, to: size, path }.to_json()
        }
        (None, None) => unreachable!("clap requires one"),
    };
    outln!("{proof:#}");
    ExitCode::SUCCESS
}

/// `fanli audit check-proof PROOF.json --head HEAD.json [--old OLDER.json] [--key HEX]`.
pub(crate) fn check_proof(args: CheckProofArgs) -> ExitCode {
    let checked = (|| -> Result<(String, serde_json::Value), String> {
        let trusted = trusted_key(args.key.as_deref())?;
        let text = std::fs::read_to_string(&args.proof)
            .map_err(|e| format!("cannot read {}: {e}", args.proof.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", args.proof.display()))?;
        let head = read_head(&args.head, trusted.as_ref())?;
        let key = merkle::to_hex(&head.public_key);
        match value.get("proof").and_then(serde_json::Value::as_str) {
            Some("inclusion") => {
                let proof = InclusionProof::from_value(&value)
                    .map_err(|e| format!("{}: {e}", args.proof.display()))?;
                proof.check(&head)?;
                let text = format!(
                    "proven: line {} is in the tree of {} lines signed at {} by {key}\n{}",
                    proof.line, head.head.size, head.head.time, proof.event
                );
                let doc = serde_json::json!({
                    "proven": true, "proof": "inclusion", "line": proof.line, "size": head.head.size,
                    "time": head.head.time, "key": key, "event": proof.event,
                });
                Ok((text, doc))
            }
            Some("consistency") => {
                let old = args
                    .old
                    .as_deref()
                    .ok_or("a consistency proof is checked between two heads: give the older with --old")?;
                let old = read_head(old, trusted.as_ref())?;
                if old.public_key != head.public_key {
                    return Err("the two heads are signed by different keys".to_owned());
                }
                let proof = ConsistencyProof::from_value(&value)
                    .map_err(|e| format!("{}: {e}", args.proof.display()))?;
                proof.check(&old, &head)?;
                let text = format!(
                    "proven: the tree of {} lines signed at {} extends the tree of {} lines signed at {} (key {key})",
                    head.head.size, head.head.time, old.head.size, old.head.time
                );
                let doc = serde_json::json!({
                    "proven": true, "proof": "consistency", "from": old.head.size, "to": head.head.size,
                    "from_time": old.head.time, "time": head.head.time, "key": key,
                });
                Ok((text, doc))
            }
            _ => Err(format!(
                "{}: not a proof (`\"proof\"` is \"inclusion\" or \"consistency\")",
                args.proof.display()
            )),
        }
    })();
    match checked {
        Ok((_, doc)) if args.json => {
            outln!("{doc:#}");
            ExitCode::SUCCESS
        }
        Ok((text, _)) => {
            outln!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            if args.json {
                outln!("{:#}", serde_json::json!({"proven": false, "error": e}));
            }
            failed(e)
        }
    }
}

/// `fanli audit sign LOG... --secret FILE --tenant T`: a head over the files' lines.
pub(crate) fn sign(args: SignArgs) -> ExitCode {
    let key = match fanli_server::transparency::load_or_create_key(&args.secret) {
        Ok(key) => key,
        Err(e) => return failed(format!("{}: {e}", args.secret.display())),
    };
    let mut frontier = merkle::Frontier::default();
    if let Err(e) = read_lines(&args.logs, |line| frontier.push(merkle::leaf_hash(line.as_bytes()))) {
        return failed(e);
    }
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let head = TreeHead {
        tenant: args.tenant,
        size: frontier.size(),
        root: frontier.root(),
        time: head_time(millis),
    };
    outln!("{}", head.sign(&key).to_json());
    ExitCode::SUCCESS
}
