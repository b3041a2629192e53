//! The transparency log (issue 16): the log is a Merkle tree whose head the server signs after
//! every commit; proofs are served to the tenant's keys and, for their own lines, to members;
//! `fanli audit verify --data` finds an altered newest line and a cut-off tail.

mod common;

use common::{Target, data_dir, execute, local, request, store};
use fanli_format::merkle::{Frontier, leaf_hash, to_hex};
use fanli_format::transparency::{ConsistencyProof, InclusionProof, SignedHead};
use serde_json::Value;

const PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.toml");
const EVENTS: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.jsonl");

fn get(addr: impl Target, path: &str, key: &str) -> (u16, Value) {
    let answer = request(addr, "GET", path, Some(key), "", "");
    let body = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer.status, body)
}

fn post(addr: impl Target, path: &str, key: &str, body: &str) -> Value {
    let answer = request(addr, "POST", path, Some(key), "", body);
    assert!(answer.status < 300, "{path}: {}", answer.body);
    serde_json::from_str(&answer.body).unwrap_or(Value::Null)
}

/// A tenant `acme` with seed_refer's plan and events (14 lines), a day closed (line 15), 600
/// joins (lines 16 to 615) and A's order of 100.00 (line 616), each a commit of its own. Returns
/// the owner key and the head after the first commit.
fn acme(addr: impl Target) -> (String, SignedHead) {
    let body = post(addr, "/v1/tenants", common::MASTER, r#"{"id":"acme"}"#);
    let key = body["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(request(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
    post(addr, "/v1/events", &key, EVENTS);
    let (status, first) = get(addr, "/v1/audit/head", &key);
    assert_eq!(status, 200, "{first}");
    let first = SignedHead::from_value(&first).unwrap();
    post(addr, "/v1/events", &key, r#"{"at":"2026-01-02T00:00:00+08:00","type":"close_day"}"#);
    let joins: Vec<String> = (0..600)
        .map(|i| format!(r#"{{"at":"2026-01-02T01:00:00+08:00","type":"join","member":"m{i}"}}"#))
        .collect();
    post(addr, "/v1/events", &key, &joins.join("\n"));
    let order =
        r#"{"at":"2026-01-02T02:00:00+08:00","type":"order","order":"last","member":"A","amount":"100.00"}"#;
    post(addr, "/v1/events", &key, order);
    (key, first)
}

#[test]
fn every_commit_signs_the_tree_head_and_every_line_has_a_proof() {
    let dir = data_dir("transparency-proofs");
    let addr = &local(&dir);
    let (key, first) = acme(addr);
    first.verify(None).unwrap();
    assert_eq!((first.head.tenant.as_str(), first.head.size), ("acme", 14));
    let (_, head) = get(addr, "/v1/audit/head", &key);
    let head = SignedHead::from_value(&head).unwrap();
    assert_eq!(head.head.size, 616);
    assert_eq!(head.public_key, first.public_key);
    // The key is the tenant's, kept in DATA/keys, readable by its owner only.
    let secret = std::fs::read_to_string(dir.join("keys/acme.ed25519")).unwrap();
    let seed: [u8; 32] = fanli_format::merkle::from_hex(secret.trim()).unwrap();
    let signer = fanli_format::transparency::SigningKey::from_bytes(&seed);
    head.verify(Some(&signer.verifying_key().to_bytes())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("keys/acme.ed25519")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The root is RFC 6962's over the lines `GET /v1/audit` serves.
    let log = request(addr, "GET", "/v1/audit", Some(&key), "", "").body;
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 616);
    let mut tree = Frontier::default();
    lines.iter().for_each(|l| tree.push(leaf_hash(l.as_bytes())));
    assert_eq!(to_hex(&tree.root()), to_hex(&head.head.root));

    // Inclusion proofs, from stored subtrees and hashed lines alike.
    for line in [1u64, 2, 14, 15, 255, 256, 257, 300, 512, 513, 615, 616] {
        let (status, proof) = get(addr, &format!("/v1/audit/proof?line={line}"), &key);
        assert_eq!(status, 200, "{proof}");
        assert_eq!(SignedHead::from_value(&proof["head"]).unwrap(), head);
        let proof = InclusionProof::from_value(&proof).unwrap();
        assert_eq!(proof.event, lines[line as usize - 1]);
        proof.check(&head).unwrap_or_else(|e| panic!("line {line}: {e}"));
    }
    // At an older size: the proof checks against the head signed then, and carries none.
    let (_, proof) = get(addr, "/v1/audit/proof?line=3&size=14", &key);
    assert!(proof.get("head").is_none());
    InclusionProof::from_value(&proof).unwrap().check(&first).unwrap();
    assert_eq!(get(addr, "/v1/audit/proof?line=617", &key).0, 400);
    assert_eq!(get(addr, "/v1/audit/proof?line=1&size=700", &key).0, 400);
    assert_eq!(get(addr, "/v1/audit/proof?line=x", &key).0, 400);
    // The tree of 616 lines extends the first head's, and the day's report's.
    let (status, proof) = get(addr, "/v1/audit/consistency?from=14", &key);
    assert_eq!(status, 200, "{proof}");
    ConsistencyProof::from_value(&proof).unwrap().check(&first, &head).unwrap();
    let reports = request(addr, "GET", "/v1/reports", Some(&key), "", "").body;
    let report: Value = serde_json::from_str(reports.lines().next().unwrap()).unwrap();
    let day = SignedHead::from_value(&report["signed_head"]).unwrap();
    day.verify(Some(&head.public_key)).unwrap();
    assert_eq!(day.head.size, 15, "the head of the tree the close_day ends");
    let (_, proof) = get(addr, "/v1/audit/consistency?from=15&to=616", &key);
    ConsistencyProof::from_value(&proof).unwrap().check(&day, &head).unwrap();
    assert_eq!(get(addr, "/v1/audit/consistency?from=20&to=10", &key).0, 400);
    // The subtrees of 256 lines and more are stored: (8, 0), (8, 1), (9, 0).
    let mut db = store(&dir);
    for (level, index) in [(8, 0), (8, 1), (9, 0)] {
        assert!(db.merkle_node("acme", level, index).unwrap().is_some(), "({level}, {index})");
    }
    assert!(db.merkle_node("acme", 10, 0).unwrap().is_none());
    assert_eq!(
        db.heads("acme", false).unwrap().iter().map(|h| h.size).collect::<Vec<_>>(),
        [14, 15, 615, 616]
    );

    // A member's token: the proofs of the member's own lines only, and the head.
    let token = post(addr, "/v1/members/A/token", &key, "")["token"].as_str().unwrap().to_owned();
    assert_eq!(get(addr, "/v1/audit/head", &token).0, 200);
    assert_eq!(get(addr, "/v1/audit/proof?line=2", &token).0, 200, "A's order");
    assert_eq!(get(addr, "/v1/audit/proof?line=4", &token).0, 200, "b0's order rewarded A");
    let (status, body) = get(addr, "/v1/audit/proof?line=16", &token);
    assert_eq!(status, 403, "m0's join: {body}");
    assert_eq!(get(addr, "/v1/audit/consistency?from=14", &token).0, 200);
    assert_eq!(get(addr, "/v1/audit/head", "nobody").0, 401);
}

#[test]
fn a_restart_reads_the_tree_back_and_signs_on() {
    let dir = data_dir("transparency-restart");
    let (key, head) = {
        let addr = &local(&dir);
        let (key, _) = acme(addr);
        let head = SignedHead::from_value(&get(addr, "/v1/audit/head", &key).1).unwrap();
        (key, head)
    };
    let next = {
        let addr = &local(&dir);
        let (_, again) = get(addr, "/v1/audit/head", &key);
        assert_eq!(SignedHead::from_value(&again).unwrap(), head, "the same head: nothing was added");
        post(addr, "/v1/events", &key, r#"{"at":"2026-01-03T00:00:00+08:00","type":"close_day"}"#);
        let (_, next) = get(addr, "/v1/audit/head", &key);
        let next = SignedHead::from_value(&next).unwrap();
        assert_eq!(next.head.size, 617);
        let (_, proof) = get(addr, "/v1/audit/consistency?from=616", &key);
        ConsistencyProof::from_value(&proof).unwrap().check(&head, &next).unwrap();
        let (_, proof) = get(addr, "/v1/audit/proof?line=617", &key);
        InclusionProof::from_value(&proof).unwrap().check(&next).unwrap();
        next
    };
    // A store from before the tree: its rows gone, the next start hashes the log again.
    execute(&dir, "DELETE FROM merkle; DELETE FROM heads;");
    let addr = &local(&dir);
    let (_, rebuilt) = get(addr, "/v1/audit/head", &key);
    let rebuilt = SignedHead::from_value(&rebuilt).unwrap();
    assert_eq!((rebuilt.head.size, rebuilt.head.root), (617, next.head.root));
    let (_, proof) = get(addr, "/v1/audit/proof?line=300", &key);
    InclusionProof::from_value(&proof).unwrap().check(&rebuilt).unwrap();
}

/// A node started with another keys folder than the one that signed a tenant's heads (a
/// cluster's node given its own `--keys`, a key file lost) must not sign with a new key: every
/// head a member saved would stop verifying. It signs nothing until the key is back.
#[test]
fn a_start_without_the_signing_key_signs_nothing_rather_than_with_a_new_key() {
    let dir = data_dir("transparency-key-kept");
    let (key, first) = {
        let addr = &local(&dir);
        let body = post(addr, "/v1/tenants", common::MASTER, r#"{"id":"acme"}"#);
        let key = body["owner_key"].as_str().unwrap().to_owned();
        assert_eq!(request(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
        post(addr, "/v1/events", &key, EVENTS);
        let first = SignedHead::from_value(&get(addr, "/v1/audit/head", &key).1).unwrap();
        assert_eq!(first.head.size, 14);
        (key, first)
    };
    let elsewhere = dir.join("elsewhere");
    {
        let addr = &common::local_app(common::open(&dir).signing_keys(&elsewhere));
        post(addr, "/v1/events", &key, r#"{"at":"2026-01-02T00:00:00+08:00","type":"close_day"}"#);
        let (_, head) = get(addr, "/v1/audit/head", &key);
        assert_eq!(SignedHead::from_value(&head).unwrap(), first, "no head signed past line 14");
    }
    assert!(!elsewhere.join("acme.ed25519").exists(), "no new key made");
    // The right folder again: the missing head is signed at start, by the same key.
    let addr = &local(&dir);
    let head = SignedHead::from_value(&get(addr, "/v1/audit/head", &key).1).unwrap();
    assert_eq!((head.head.size, head.public_key), (15, first.public_key));
    head.verify(Some(&first.public_key)).unwrap();
}

#[test]
fn audit_verify_finds_the_newest_line_altered_and_the_last_73_removed() {
    let dir = data_dir("transparency-verify");
    {
        let addr = &local(&dir);
        acme(addr);
    }
    let mut db = store(&dir);
    let verified = fanli_server::audit::verify_tenant(&mut db, "acme").unwrap().expect("a plan");
    assert_eq!(verified.lines, 616);
    let signed = verified.signed.expect("signed heads");
    assert_eq!((signed.heads, signed.size, signed.after), (5, 616, 0), "4 stored, 1 in the report");
    let key = verified.key.expect("a key");
    assert!(key.1, "the key file's");
    // One byte of the last event: its amount 100.00 becomes 100.01. The chain cannot see it
    // (no line follows), the replay accepts it, the signed heads do not.
    execute(
        &dir,
        "UPDATE events SET line = replace(line, '\"100.00\"', '\"100.01\"') WHERE tenant = 'acme' AND seq = 616",
    );
    let why = fanli_server::audit::verify_tenant(&mut db, "acme").unwrap_err();
    let text = why.to_string();
    assert!(
        text.starts_with("line 616 was altered: the first 616 lines do not hash to the root signed at "),
        "{text}"
    );
    assert!(text.ends_with(", the first 615 do"), "{text}");
    execute(
        &dir,
        "UPDATE events SET line = replace(line, '\"100.01\"', '\"100.00\"') WHERE tenant = 'acme' AND seq = 616",
    );
    assert!(fanli_server::audit::verify_tenant(&mut db, "acme").is_ok());
    // The last 73 events deleted.
    execute(&dir, "DELETE FROM events WHERE tenant = 'acme' AND seq > 543");
    let why = fanli_server::audit::verify_tenant(&mut db, "acme").unwrap_err();
    let text = why.to_string();
    assert!(text.starts_with("truncated: the log has 543 lines, the head signed at "), "{text}");
    assert!(text.ends_with(" has 616: lines 544 to 616 are missing (73 lines removed)"), "{text}");
}

#[test]
fn the_member_page_shows_the_signed_head_and_serves_the_proof_of_each_entry() {
    let dir = data_dir("transparency-member-page");
    let addr = &local(&dir);
    let (key, _) = acme(addr);
    let (_, head) = get(addr, "/v1/audit/head", &key);
    let head = SignedHead::from_value(&head).unwrap();
    let token = post(addr, "/v1/members/A/token", &key, "")["token"].as_str().unwrap().to_owned();
    let page = request(addr, "GET", &format!("/m?t={token}"), None, "", "");
    assert_eq!(page.status, 200);
    let root = to_hex(&head.head.root);
    assert!(page.body.contains(r#"<dd id="head-size" style="margin:0">616</dd>"#), "{}", page.body);
    assert!(page.body.contains(&format!("<code>{}…</code>", &root[..16])), "{}", page.body);
    // The entries of A's history (b5's and b0's orders, which rewarded A) link their proofs.
    for line in [14, 4] {
        let href = format!(r#"href="/m/proof?t={token}&amp;line={line}" download="proof-{line}.json""#);
        assert!(page.body.contains(&href), "{href}\n{}", page.body);
    }
    let download = request(addr, "GET", &format!("/m/proof?t={token}&line=616"), None, "", "");
    assert_eq!(download.status, 200, "{}", download.body);
    assert_eq!(download.header("content-disposition"), Some("attachment; filename=\"proof-616.json\""));
    let proof: Value = serde_json::from_str(&download.body).unwrap();
    assert_eq!(SignedHead::from_value(&proof["head"]).unwrap(), head);
    let proof = InclusionProof::from_value(&proof).unwrap();
    assert!(proof.event.contains(r#""order":"last","member":"A","amount":"100.00""#), "{}", proof.event);
    proof.check(&head).unwrap();
    // Another member's line is not A's to download; the key alone is no member's link.
    assert_eq!(request(addr, "GET", &format!("/m/proof?t={token}&line=16"), None, "", "").status, 403);
    assert_eq!(request(addr, "GET", &format!("/m/proof?t={key}&line=2"), None, "", "").status, 403);
}
