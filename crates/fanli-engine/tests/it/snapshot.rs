//! Snapshots (feature `snapshot`, on for these tests through the crate's dev-dependency on
//! itself): an engine restored mid-stream answers every later event as the uninterrupted run
//! does and ends in the same state document, byte for byte, for random plans of every kind;
//! bytes that are not a snapshot of this format and crate version are refused.

use fanli_engine::{Engine, Rejection, SNAPSHOT_FORMAT, SNAPSHOT_MAGIC, SnapshotError};
use fanli_format::{EventLine, parse_plan, run_stream, state_json};
use proptest::prelude::*;

use crate::props::{Op, amended, every_kind_plan, lines, op_over, plan};
use crate::timed;

/// The state document (`fanli run --json`), as bytes.
fn state_bytes(engine: &Engine) -> Vec<u8> {
    let mut out = Vec::new();
    state_json(engine, &[], None, &mut out).expect("writing to memory");
    out
}

/// Applies one line; `None` when it does not parse into an event.
fn apply(engine: &mut Engine, line: &str) -> Option<Result<(), Rejection>> {
    let raw = EventLine::parse(line.as_bytes()).ok()?;
    let event = raw.event().ok()?;
    Some(engine.apply(&event))
}

/// With `contacts`: joins with a device and an IP shared by several members, and a plan's
/// anti-fraud rules extended to the contact rules, so that the anti-fraud state has interned
/// contacts too. (Without, fewer referrals are held at join and the quiet rule fires more.)
fn with_contacts(contacts: bool, plan: &str, lines: Vec<String>) -> (String, Vec<String>) {
    if !contacts {
        return (plan.to_owned(), lines);
    }
    let plan = plan.replace(
        "[antifraud]\n",
        "[antifraud]\nmax_per_device = 3\nmax_per_ip = 4\nshared_device = true\nrings = true\n",
    );
    let lines = lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let contacts = format!("\"type\":\"join\",\"device\":\"d{}\",\"ip\":\"10.0.0.{}\"", i % 3, i % 5);
            line.replacen("\"type\":\"join\"", &contacts, 1)
        })
        .collect();
    (plan, lines)
}

/// With `chain`: `ops` after the eight members join first, each referred by the one before, so
/// that the stream's orders count (few of them do while members join at random) and every
/// referral rule, the quiet referee's among them, gets to fire.
fn founders(chain: bool, ops: Vec<Op>) -> Vec<Op> {
    if !chain {
        return ops;
    }
    let joins = (0..8).map(|member| Op::Join { member, referrer: member.checked_sub(1) });
    joins.chain(ops).collect()
}

/// Runs `lines` under `plan`, snapshots after the first `cut`, restores, and applies the rest
/// to both the original and the restored engine: every answer, posting and effect agrees, and
/// the end state is the uninterrupted run's, byte for byte. `quiet` runs with recording off.
fn resume(plan: &str, lines: &[String], cut: usize, quiet: bool) -> Result<(), TestCaseError> {
    let plan = parse_plan(plan).expect("generated plans are valid");
    let mut engine = Engine::new(plan.clone());
    engine.record(!quiet);
    for line in &lines[..cut] {
        apply(&mut engine, line);
    }
    let bytes = engine.snapshot();
    prop_assert_eq!(&bytes[..8], b"FANLISNP");
    let mut restored = Engine::restore(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(state_bytes(&restored), state_bytes(&engine));
    prop_assert_eq!(restored.now(), engine.now());
    prop_assert_eq!(restored.applied().postings, engine.applied().postings);
    prop_assert_eq!(restored.applied().effects, engine.applied().effects);
    // The bytes are a function of the state: a restored engine, or a clone, snapshots the same.
    prop_assert!(restored.snapshot() == bytes, "a restored engine snapshots to other bytes");
    prop_assert!(engine.clone().snapshot() == bytes, "a clone snapshots to other bytes");

    for line in &lines[cut..] {
        let answer = apply(&mut engine, line);
        prop_assert_eq!(apply(&mut restored, line), answer, "on {}", line);
        let (ours, theirs) = (restored.applied(), engine.applied());
        prop_assert_eq!(ours.postings, theirs.postings, "postings of {}", line);
        prop_assert_eq!(ours.effects, theirs.effects, "effects of {}", line);
        if quiet {
            // record(false) survived the snapshot.
            prop_assert!(ours.postings.is_empty() && ours.effects.is_empty());
        }
    }

    // The reference: a fresh engine over the whole stream at once, never snapshotted.
    let mut uninterrupted = Engine::new(plan);
    run_stream(&mut uninterrupted, lines.join("\n").as_bytes(), false).expect("reading from memory");
    let expected = String::from_utf8(state_bytes(&uninterrupted)).expect("UTF-8");
    prop_assert_eq!(String::from_utf8(state_bytes(&restored)).expect("UTF-8"), expected);
    prop_assert!(engine.snapshot() == restored.snapshot(), "the two runs end in different states");
    Ok(())
}

/// A stream for `bench/plan-all.toml`: the random ops, with the mechanism and partner ids
/// renamed to the plan's (`m0` … `m8` in its order, `p0`/`p1` to `bank`/`air`).
fn for_bench_plan(ops: &[Op]) -> Vec<String> {
    const IDS: [&str; 9] = ["appr", "r3", "union", "dist", "green", "cycle", "ads", "cafe", "miles"];
    lines(ops)
        .into_iter()
        .map(|mut line| {
            for (i, id) in IDS.iter().enumerate() {
                line = line.replace(&format!("\"m{i}\""), &format!("\"{id}\""));
            }
            line.replace("\"p0\"", "\"bank\"").replace("\"p1\"", "\"air\"")
        })
        .collect()
}

/// bench/plan-all.toml, every kind at once, with the refund window and the queue's lock cut to
/// fit a stream of days rather than months, and clawback on.
fn bench_plan() -> String {
    let text = include_str!("../../../../bench/plan-all.toml");
    let text = text
        .replace("settle_after_days = 7", "settle_after_days = 1")
        .replace("lock_days = 15", "lock_days = 1");
    assert!(
        text.contains("settle_after_days = 1") && text.contains("lock_days = 1"),
        "the bench plan changed"
    );
    text.replacen("timezone = ", "clawback = true\ntimezone = ", 1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_restored_engine_keeps_the_amendments_waiting_and_the_mechanisms_retired(
        plan in plan(),
        ops in prop::collection::vec(op_over(3), 2..80),
        cut in 1usize..80,
        rates in prop::collection::vec(1u32..60, 3),
        retire in any::<bool>(),
    ) {
        // An amendment recorded after the first line and taking effect at the last: a cut
        // anywhere between snapshots it waiting, a cut after, in force.
        let old = format!("notice_days = 0\n{plan}");
        let mut lines = lines(&ops);
        let last: serde_json::Value = serde_json::from_str(lines.last().expect("two or more")).unwrap();
        let amend = serde_json::json!({
            "at": "2026-01-01T00:30:00+08:00", "type": "amend_plan",
            "effective_at": last["at"], "plan": amended(&old, &rates, retire, None),
        });
        lines.insert(1, amend.to_string());
        let cut = cut.min(lines.len());
        resume(&old, &lines, cut, false)?;
    }

    #[test]
    fn a_restored_engine_continues_as_the_uninterrupted_run(
        plan in plan(),
        ops in prop::collection::vec(op_over(3), 1..120),
        cut in any::<prop::sample::Index>(),
        quiet in any::<bool>(),
        contacts in any::<bool>(),
        chain in any::<bool>(),
    ) {
        let (plan, lines) = with_contacts(contacts, &plan, lines(&founders(chain, ops)));
        resume(&plan, &lines, cut.index(lines.len() + 1), quiet)?;
    }

    #[test]
    fn every_kind_at_once_resumes_the_same(
        plan in every_kind_plan(),
        ops in prop::collection::vec(op_over(9), 1..200),
        cut in any::<prop::sample::Index>(),
        quiet in any::<bool>(),
        contacts in any::<bool>(),
        chain in any::<bool>(),
    ) {
        let (plan, lines) = with_contacts(contacts, &plan, lines(&founders(chain, ops)));
        resume(&plan, &lines, cut.index(lines.len() + 1), quiet)?;
    }

    #[test]
    fn the_bench_plan_of_every_kind_resumes_the_same(
        ops in prop::collection::vec(op_over(9), 1..200),
        cut in any::<prop::sample::Index>(),
        chain in any::<bool>(),
    ) {
        let lines = for_bench_plan(&founders(chain, ops));
        resume(&bench_plan(), &lines, cut.index(lines.len() + 1), false)?;
    }
}

/// A fixed scenario on the bench plan, with anti-fraud, touching every kind and every event type.
fn scenario() -> Engine {
    let plan = bench_plan().replacen(
        "[[mechanism]]",
        "[antifraud]\nmax_per_device = 1\nshared_device = true\nburst = { referees = 5, hours = 1 }\n\
         quiet = { days = 1, max_amount = \"100.00\" }\nrings = true\n\n[[mechanism]]",
        1,
    );
    let events = r#"{"type":"join","member":"A","device":"d1","phone":"p1","ip":"1.1.1.1"}
        {"type":"join","member":"B","referrer":"A"}
        {"type":"join","member":"C","referrer":"B","device":"d1"}
        {"type":"join","member":"D","referrer":"C","ip":"2.2.2.2"}
        {"type":"store","store":"s1","region":["广东","东莞","松山湖"],"recruiter":"A"}
        {"type":"agent","member":"B","level":"city","region":["广东","东莞"]}
        {"type":"topup","member":"A","amount":"500.00"}
        {"type":"order","order":"o1","member":"A","amount":"3000.00","store":"s1","partner":"bank"}
        {"type":"order","order":"o2","member":"B","amount":"1200.00","credit":"0","store":"s1"}
        {"type":"order","order":"o3","member":"C","amount":"5000.00","partner":"air"}
        {"type":"order","order":"o4","member":"D","amount":"99.00"}
        {"type":"order","order":"o5","member":"A","amount":"250.00","credit":"200.00"}
        {"type":"inject","mechanism":"appr","amount":"1000.00"}
        {"type":"advertiser_fund","mechanism":"ads","amount":"300.00"}
        @2026-01-03T09:00:00+08:00
        {"type":"close_day"}
        {"type":"review","member":"C","decision":"approve"}
        {"type":"ad_view","member":"A","mechanism":"ads"}
        {"type":"redeem","member":"A","mechanism":"cafe","reward":"drink"}
        {"type":"redeem","member":"C","mechanism":"miles","partner":"bank","points":"10"}
        {"type":"sell","member":"A","mechanism":"appr","points":"all"}
        {"type":"refund","order":"o3"}
        {"type":"refund","order":"o4"}
        {"type":"withdraw","member":"A","amount":"1.00"}
        @2026-01-05T09:00:00+08:00
        {"type":"close_day"}
        {"type":"order","order":"o6","member":"B","amount":"4000.00","store":"s1"}"#;
    let mut engine = Engine::new(parse_plan(&plan).expect("the scenario's plan is valid"));
    let outcome = run_stream(&mut engine, timed(events).as_bytes(), false).expect("reading from memory");
    assert_eq!(outcome.rejected, []);
    engine
}

/// FNV-1a, 64 bits: a fingerprint that needs no dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// The snapshot's header: magic, format version, crate version.
fn header_len() -> usize {
    8 + 4 + 2 + env!("CARGO_PKG_VERSION").len()
}

/// postcard is not self-describing: a snapshot of another shape can decode into nonsense
/// instead of failing, so the format version must change with the shape. This fingerprint of
/// a fixed scenario's snapshot changes when the shape does (and when the scenario's outcome
/// does); then bump `SNAPSHOT_FORMAT` if any type an engine holds changed shape, and set the
/// fingerprint and format here to the new values.
#[test]
fn the_format_version_changes_with_the_snapshot_shape() {
    // (Format 2: anti-fraud reviews hold their downline's orders too. Format 4: plan
    // amendments waiting, retired mechanisms, `notice_days`. Format 5: `[withdrawal]` and the
    // withdrawals waiting for review. Format 6: proposals put to the members' vote. Format 7:
    // refer_refund's `step_base`. Format 8: a mechanism's `name`. Format 9: orders' rare fields in a
    // side table, smaller loyalty lots and queue entries. Format 10: `Engine.largest`, the largest
    // order so far, for refer_refund's overflow bound. Format 11: what orders earned (`clawback`)
    // as varint rows, order ids' tagged table, pools' per-member `owed` no longer kept, loyalty's
    // rolling year pointing at its lots, cycle's `active` flags as bits, pools' `received` in
    // 4 bytes with a side map. Format 13: the ledger's points held in 4 bytes with a side map.)
    const FINGERPRINT: (u32, u64) = (13, 0x0730_0bbe_f14a_72e2);
    let bytes = scenario().snapshot();
    let found = (SNAPSHOT_FORMAT, fnv1a(&bytes[header_len()..]));
    assert_eq!(
        found, FINGERPRINT,
        "the snapshot of the fixed scenario changed: if the shape of anything an Engine holds changed, \
         bump SNAPSHOT_FORMAT (src/snapshot.rs); either way set FINGERPRINT to (SNAPSHOT_FORMAT, {:#x})",
        found.1
    );
}

#[test]
fn a_snapshot_starts_with_its_header() {
    let bytes = scenario().snapshot();
    assert_eq!(&bytes[..8], &SNAPSHOT_MAGIC);
    assert_eq!(bytes[8..12], SNAPSHOT_FORMAT.to_le_bytes());
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(bytes[12..14], (version.len() as u16).to_le_bytes());
    assert_eq!(&bytes[14..14 + version.len()], version.as_bytes());
}

#[test]
fn the_scenario_restores_whole() {
    let engine = scenario();
    let restored = Engine::restore(&engine.snapshot()).expect("restores");
    assert_eq!(state_bytes(&restored), state_bytes(&engine));
    assert_eq!(restored.plan().name, "benchmark: every kind at once");
    assert_eq!(restored.plan().mechanisms.len(), 9);
    assert_eq!((restored.member_count(), restored.order_count()), (4, 6));
    let c = restored.find_member("C").expect("C joined");
    assert_eq!(restored.member_name(c), "C");
    assert_eq!(restored.spent(c), fanli_engine::Money::from_yuan(5000));
    assert_eq!(restored.agent(&["广东", "东莞"]), restored.find_member("B"));
    let (region, recruiter) = restored.store("s1").expect("s1 registered");
    assert_eq!(
        (region, recruiter),
        (&["广东".to_owned(), "东莞".to_owned(), "松山湖".to_owned()][..], restored.find_member("A"))
    );
    // The review's rule names are `&'static str`: restored from the known rules.
    let reviews = restored.reviews().expect("the plan has anti-fraud rules");
    assert_eq!(reviews, engine.reviews().expect("anti-fraud"));
    let rules: Vec<&str> = reviews.iter().flat_map(|r| r.hits.iter().map(|h| h.0)).collect();
    assert_eq!(rules, ["device", "ring", "quiet"]);
    assert!(restored.accounts_balance());
}

#[test]
fn restore_rejects_another_magic() {
    let mut bytes = scenario().snapshot();
    bytes[0] = b'X';
    assert_eq!(Engine::restore(&bytes).unwrap_err(), SnapshotError::BadMagic);
    assert_eq!(Engine::restore(b"{\"plan\":\"not a snapshot\"}").unwrap_err(), SnapshotError::BadMagic);
    assert_eq!(Engine::restore(b"FANLI").unwrap_err(), SnapshotError::Truncated, "a cut magic");
    assert_eq!(Engine::restore(b"FAN").unwrap_err(), SnapshotError::Truncated);
    assert_eq!(Engine::restore(b"FUN").unwrap_err(), SnapshotError::BadMagic);
    assert_eq!(
        SnapshotError::BadMagic.to_string(),
        "not a fanli engine snapshot: it does not start with `FANLISNP`"
    );
}

#[test]
fn restore_rejects_another_format_version() {
    let bytes = scenario().snapshot();
    for other in [0, SNAPSHOT_FORMAT + 1, u32::MAX] {
        let mut changed = bytes.clone();
        changed[8..12].copy_from_slice(&other.to_le_bytes());
        let error = Engine::restore(&changed).unwrap_err();
        assert_eq!(error, SnapshotError::FormatVersion { found: other, expected: SNAPSHOT_FORMAT });
        assert_eq!(
            error.to_string(),
            format!("the snapshot is in format version {other}, this engine reads version {SNAPSHOT_FORMAT}")
        );
    }
}

#[test]
fn restore_rejects_another_crate_version() {
    let version = env!("CARGO_PKG_VERSION");
    let bytes = scenario().snapshot();
    // Same length, another version.
    let other: String = version.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    assert_ne!(other, version);
    let mut changed = bytes.clone();
    changed[14..14 + version.len()].copy_from_slice(other.as_bytes());
    let error = Engine::restore(&changed).unwrap_err();
    assert_eq!(error, SnapshotError::CrateVersion { found: other.clone(), expected: version });
    assert_eq!(
        error.to_string(),
        format!("the snapshot was written by fanli-engine {other}, this is fanli-engine {version}")
    );
    // Another length: a longer version string before the same state.
    let mut longer = bytes[..12].to_vec();
    let long = format!("{version}-rc.1");
    longer.extend_from_slice(&(long.len() as u16).to_le_bytes());
    longer.extend_from_slice(long.as_bytes());
    longer.extend_from_slice(&bytes[header_len()..]);
    assert_eq!(
        Engine::restore(&longer).unwrap_err(),
        SnapshotError::CrateVersion { found: long, expected: version }
    );
}

#[test]
fn restore_rejects_truncated_bytes_at_every_length() {
    let bytes = scenario().snapshot();
    assert!(bytes.len() > 1_000, "a scenario of some size: {} bytes", bytes.len());
    for len in 0..bytes.len() {
        assert_eq!(
            Engine::restore(&bytes[..len]).err(),
            Some(SnapshotError::Truncated),
            "cut at {len} of {}",
            bytes.len()
        );
    }
    assert_eq!(
        SnapshotError::Truncated.to_string(),
        "the snapshot is truncated: the bytes end before the engine's state does"
    );
}

#[test]
fn restore_rejects_bytes_that_do_not_decode() {
    let bytes = scenario().snapshot();
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Engine::restore(&longer).unwrap_err(),
        SnapshotError::Corrupt("1 bytes follow the engine's state".to_owned())
    );
    let mut garbage = bytes[..header_len()].to_vec();
    garbage.extend_from_slice(&[0xFF; 32]);
    let error = Engine::restore(&garbage).unwrap_err();
    assert!(matches!(error, SnapshotError::Corrupt(_)), "{error:?}");
    assert!(error.to_string().starts_with("the snapshot is corrupt: "), "{error}");
}

/// `Engine::record` is part of the state: an engine snapshotted while not recording restores
/// not recording, and one recording restores recording, with the last event's postings.
#[test]
fn recording_survives_a_snapshot() {
    let next =
        r#"{"at":"2026-01-06T09:00:00+08:00","type":"order","order":"o9","member":"A","amount":"300.00"}"#;
    let mut recording = scenario();
    let mut restored = Engine::restore(&recording.snapshot()).expect("restores");
    assert!(!restored.applied().effects.is_empty(), "the last event's effects are kept");
    assert_eq!(restored.applied().effects, recording.applied().effects);
    assert_eq!(apply(&mut restored, next), Some(Ok(())));
    assert_eq!(apply(&mut recording, next), Some(Ok(())));
    assert!(!restored.applied().postings.is_empty());
    assert_eq!(restored.applied().postings, recording.applied().postings);

    let mut quiet = scenario();
    quiet.record(false);
    let mut restored = Engine::restore(&quiet.snapshot()).expect("restores");
    assert_eq!(apply(&mut restored, next), Some(Ok(())));
    assert!(restored.applied().postings.is_empty() && restored.applied().effects.is_empty());
    // And it can be turned back on, as on the original.
    restored.record(true);
    let after = r#"{"at":"2026-01-06T10:00:00+08:00","type":"withdraw","member":"A","amount":"0.01"}"#;
    assert_eq!(apply(&mut restored, after), Some(Ok(())));
    assert_eq!(restored.applied().postings.len(), 1);
}
