//! The store's public API, driven directly: the same cases, with expected values worked out by
//! hand, run against whichever database `tests/common` opens (SQLite in the test's folder, or
//! PostgreSQL in a schema of its own when `FANLI_TEST_DATABASE_URL` is set), so that `.ci/run`
//! holds both sides of `Store` to one behaviour. `docs/store.md` describes the tables.

use std::path::{Path, PathBuf};

mod common;

use fanli_server::store::{Append, MemberRow, SetBy, Snapshot, Store, StoreError, StoredKey, Write};

/// A fresh store for the test `name`: its data folder and a connection.
fn fresh(name: &str) -> (PathBuf, Store) {
    let dir = common::data_dir(name);
    let store = common::store(&dir);
    (dir, store)
}

/// An append for `tenant` after line `after` of its log that adds nothing; the cases fill in
/// what they add (`Append { lines: ..., ..nothing("t", 0) }`).
fn nothing(tenant: &str, after: u64) -> Append<'_> {
    Append {
        tenant,
        after,
        lines: &[],
        by: &[],
        notifications: &[],
        reports: &[],
        members: &[],
        history: &[],
        days: &[],
        answers: &[],
        plans: &[],
        backfilling: None,
        tree: None,
        lease: None,
    }
}

/// A key of `tenant` whose hash is `hash`, with the id `id-HASH`, made at 1,000 ms by the key
/// `by`, live.
fn key(hash: &str, tenant: &str, role: &str, scope: Option<&str>, by: &str) -> StoredKey {
    StoredKey {
        id: format!("id-{hash}"),
        hash: hash.to_owned(),
        tenant: tenant.to_owned(),
        role: role.to_owned(),
        scope: scope.map(str::to_owned),
        created_at: Some(1_000),
        created_by: Some(by.to_owned()),
        revoked_at: None,
        revoked_by: None,
    }
}

/// The first owner key of `tenant`, made by the master key.
fn owner(tenant: &str, hash: &str) -> StoredKey {
    key(hash, tenant, "owner", None, "master")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn member(id: &str, referrer: Option<&str>, phone: Option<&str>) -> MemberRow {
    (id.to_owned(), referrer.map(str::to_owned), phone.map(str::to_owned))
}

/// Members as (id, referrer, phone), borrowed, for comparing with literals.
fn rows(found: &[MemberRow]) -> Vec<(&str, Option<&str>, Option<&str>)> {
    found.iter().map(|(m, r, p)| (m.as_str(), r.as_deref(), p.as_deref())).collect()
}

/// The tenant's whole log.
fn log(store: &mut Store, tenant: &str) -> Vec<String> {
    store.events(tenant, 0).unwrap()
}

/// The names of the files in the data folder's `snapshots/`, sorted.
fn snapshot_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("snapshots"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn settings_are_read_back_overwritten_and_kept_across_connections() {
    let (dir, mut store) = fresh("store-settings");
    assert_eq!(store.is_postgres(), common::database(&dir).is_some());
    assert_eq!(store.setting("master_key_hash").unwrap(), None);
    store.set_setting("master_key_hash", "h1").unwrap();
    store.set_setting("backfill:acme", "1").unwrap();
    store.set_setting("master_key_hash", "h2").unwrap();
    assert_eq!(store.setting("master_key_hash").unwrap().as_deref(), Some("h2"));
    assert_eq!(store.setting("backfill:acme").unwrap().as_deref(), Some("1"));
    // Another connection (the writer's, the snapshot thread's, a restart's) reads what was
    // committed; opening again creates no table twice and keeps every row.
    drop(store);
    let mut again = common::store(&dir);
    assert_eq!(again.setting("master_key_hash").unwrap().as_deref(), Some("h2"));
    assert_eq!(again.setting("backfill:beta").unwrap(), None);
}

#[test]
fn tenants_own_one_key_each_and_other_keys_have_a_role_and_scope() {
    let (_dir, mut store) = fresh("store-keys");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(!store.create_tenant(&owner("acme", "h-other")).unwrap(), "the id is taken");
    assert!(store.find_key("h-other").unwrap().is_none(), "a refused tenant stores no key");
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    assert_eq!(store.tenant_ids().unwrap(), ["acme", "beta"]);
    store.add_key(&key("h-read", "acme", "read_only", None, "id-h-acme")).unwrap();
    store.add_key(&key("h-s1", "acme", "store_operator", Some("s1"), "id-h-acme")).unwrap();
    store.add_key(&key("h-token", "beta", "member", Some("A"), "id-h-beta")).unwrap();
    assert!(
        store.add_key(&key("h-read", "beta", "owner", None, "x")).is_err(),
        "a key's hash is stored once"
    );
    let twin = StoredKey { hash: "h-twin".to_owned(), ..key("h-read", "beta", "owner", None, "x") };
    assert!(store.add_key(&twin).is_err(), "and its id");
    // Every live key, the owners' among them, in no set order.
    let mut keys: Vec<(String, String, String, Option<String>)> =
        store.keys().unwrap().into_iter().map(|k| (k.hash, k.tenant, k.role, k.scope)).collect();
    keys.sort();
    let keys: Vec<(&str, &str, &str, Option<&str>)> =
        keys.iter().map(|(h, t, r, s)| (h.as_str(), t.as_str(), r.as_str(), s.as_deref())).collect();
    assert_eq!(
        keys,
        [
            ("h-acme", "acme", "owner", None),
            ("h-beta", "beta", "owner", None),
            ("h-read", "acme", "read_only", None),
            ("h-s1", "acme", "store_operator", Some("s1")),
            ("h-token", "beta", "member", Some("A")),
        ]
    );
    // A key by its hash, whole.
    assert_eq!(store.find_key("h-acme").unwrap(), Some(owner("acme", "h-acme")));
    assert_eq!(
        store.find_key("h-s1").unwrap(),
        Some(key("h-s1", "acme", "store_operator", Some("s1"), "id-h-acme"))
    );
    assert_eq!(
        store.find_key("h-token").unwrap().map(|k| (k.tenant, k.scope)),
        Some(("beta".to_owned(), Some("A".to_owned())))
    );
    assert_eq!(store.find_key("h-nobody").unwrap(), None);
    // By its id, only in its tenant.
    assert_eq!(store.key("acme", "id-h-read").unwrap().map(|k| k.hash), Some("h-read".to_owned()));
    assert_eq!(store.key("beta", "id-h-read").unwrap(), None);
}

#[test]
fn a_revoked_key_is_found_no_more_and_the_revocations_are_counted() {
    let (dir, mut store) = fresh("store-revoke");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    let later = |hash: &str, at: i64| StoredKey {
        created_at: Some(at),
        ..key(hash, "acme", "read_only", None, "id-h-acme")
    };
    store.add_key(&later("h-r1", 2_000)).unwrap();
    store.add_key(&later("h-r2", 3_000)).unwrap();
    store
        .add_key(&StoredKey { created_at: Some(4_000), ..key("h-o2", "acme", "owner", None, "id-h-acme") })
        .unwrap();
    assert_eq!(store.revocations().unwrap(), 0);
    assert_eq!(store.owner_keys("acme").unwrap(), 2);
    // Revoked: kept, with when and by whom, and counted; no longer found by its hash.
    let revoked = store.revoke_key("acme", "id-h-r1", 5_000, "id-h-o2").unwrap().expect("acme's key");
    assert_eq!(
        revoked,
        StoredKey { revoked_at: Some(5_000), revoked_by: Some("id-h-o2".to_owned()), ..later("h-r1", 2_000) }
    );
    assert!(revoked.revoked());
    assert_eq!(store.find_key("h-r1").unwrap(), None);
    assert_eq!(store.revocations().unwrap(), 1);
    // Revoked again: its first revocation holds, and nothing more is counted.
    let again = store.revoke_key("acme", "id-h-r1", 9_000, "id-h-acme").unwrap().unwrap();
    assert_eq!((again.revoked_at, again.revoked_by.as_deref()), (Some(5_000), Some("id-h-o2")));
    assert_eq!(store.revocations().unwrap(), 1);
    // Another tenant's key, or none: nothing happens.
    assert_eq!(store.revoke_key("beta", "id-h-r2", 9_000, "id-h-beta").unwrap(), None);
    assert_eq!(store.revoke_key("acme", "nope", 9_000, "id-h-acme").unwrap(), None);
    assert!(store.find_key("h-r2").unwrap().is_some());
    // Rotated: the new key in, the old one revoked by the same key at the same time, counted.
    let new = StoredKey { created_at: Some(6_000), ..key("h-r3", "acme", "read_only", None, "id-h-acme") };
    let old = store.rotate_key("id-h-r2", &new).unwrap().expect("a live key");
    assert_eq!(
        (old.id.as_str(), old.revoked_at, old.revoked_by.as_deref()),
        ("id-h-r2", Some(6_000), Some("id-h-acme"))
    );
    assert_eq!(store.find_key("h-r3").unwrap(), Some(new.clone()));
    assert_eq!(store.find_key("h-r2").unwrap(), None);
    assert_eq!(store.revocations().unwrap(), 2);
    // A revoked key, or another tenant's, is not rotated, and nothing is stored.
    let refused =
        StoredKey { created_at: Some(7_000), ..key("h-r4", "acme", "read_only", None, "id-h-acme") };
    assert_eq!(store.rotate_key("id-h-r2", &refused).unwrap(), None);
    let other = StoredKey { tenant: "beta".to_owned(), ..refused.clone() };
    assert_eq!(store.rotate_key("id-h-r3", &other).unwrap(), None);
    assert_eq!(store.find_key("h-r4").unwrap(), None);
    assert_eq!(store.revocations().unwrap(), 2);
    // A tenant's keys, revoked ones too, in the order they were made; a page of them.
    let (total, listed) = store.tenant_keys("acme", 0, 100).unwrap();
    let ids: Vec<(&str, bool)> = listed.iter().map(|k| (k.id.as_str(), k.revoked())).collect();
    assert_eq!(total, 5);
    assert_eq!(
        ids,
        [("id-h-acme", false), ("id-h-r1", true), ("id-h-r2", true), ("id-h-o2", false), ("id-h-r3", false)]
    );
    let (total, page) = store.tenant_keys("acme", 1, 2).unwrap();
    assert_eq!(
        (total, page.iter().map(|k| k.id.as_str()).collect::<Vec<_>>()),
        (5, vec!["id-h-r1", "id-h-r2"])
    );
    assert_eq!(store.tenant_keys("beta", 0, 100).unwrap().0, 1);
    assert_eq!(store.owner_keys("acme").unwrap(), 2);
    let mut revoked = store.revoked_keys().unwrap();
    revoked.sort();
    let as_str = |(h, t, i): &(String, String, String)| (h.clone(), t.clone(), i.clone());
    assert_eq!(
        revoked.iter().map(as_str).collect::<Vec<_>>(),
        [("h-r1", "acme", "id-h-r1"), ("h-r2", "acme", "id-h-r2")].map(|(h, t, i)| (
            h.to_owned(),
            t.to_owned(),
            i.to_owned()
        ))
    );
    // What one connection revoked, another finds revoked (a node does not see another's memory).
    let mut other = common::store(&dir);
    assert_eq!(other.revocations().unwrap(), 2);
    assert_eq!(other.find_key("h-r1").unwrap(), None);
    assert_eq!(other.keys().unwrap().len(), 4, "the live keys of both tenants");
}

#[test]
fn each_log_line_and_plan_version_names_the_key_that_wrote_it() {
    let (_dir, mut store) = fresh("store-writes");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    store.add_key(&key("h-s1", "acme", "store_operator", Some("s1"), "id-h-acme")).unwrap();
    let lines = strings(&["l1", "l2", "l3", "l4"]);
    // l3 is the server's own (a scheduled day close); l4 was sent with a key since revoked.
    let by = [Some("id-h-acme".to_owned()), Some("id-h-s1".to_owned()), None, Some("id-h-s1".to_owned())];
    let beta_lines = strings(&["m1", "m2"]);
    // Fewer names than lines: the rest are unnamed.
    let beta_by = [Some("id-h-beta".to_owned())];
    store
        .append(&[
            Append { lines: &lines, by: &by, ..nothing("acme", 0) },
            Append { lines: &beta_lines, by: &beta_by, ..nothing("beta", 0) },
        ])
        .unwrap();
    store.revoke_key("acme", "id-h-s1", 2_000, "id-h-acme").unwrap();
    let write = |line: u64, event: &str, key: Option<&str>, role: Option<(&str, Option<&str>)>| Write {
        line,
        event: event.to_owned(),
        key: key.map(str::to_owned),
        role: role.map(|(r, s)| (r.to_owned(), s.map(str::to_owned))),
    };
    let operator = Some(("store_operator", Some("s1")));
    assert_eq!(
        store.writes("acme", None, 10).unwrap(),
        [
            write(4, "l4", Some("id-h-s1"), operator),
            write(3, "l3", None, None),
            write(2, "l2", Some("id-h-s1"), operator),
            write(1, "l1", Some("id-h-acme"), Some(("owner", None))),
        ]
    );
    assert_eq!(store.writes("acme", Some(3), 1).unwrap(), [write(2, "l2", Some("id-h-s1"), operator)]);
    assert_eq!(
        store.writes("beta", None, 10).unwrap(),
        [write(2, "m2", None, None), write(1, "m1", Some("id-h-beta"), Some(("owner", None)))]
    );
    // The log itself is what it was: the key is beside it, not in it.
    assert_eq!(log(&mut store, "acme"), ["l1", "l2", "l3", "l4"]);
    // Plan versions name theirs.
    assert_eq!(store.add_plan("acme", "name = \"one\"", Some("id-h-acme")).unwrap(), 1);
    assert_eq!(store.add_plan("acme", "name = \"two\"", None).unwrap(), 2);
    assert_eq!(store.plan_versions("acme").unwrap(), [(1, Some("id-h-acme".to_owned())), (2, None)]);
    assert!(store.plan_versions("beta").unwrap().is_empty());
    // So do brands, stores' brands (the last key to put a store there) and the webhook.
    assert!(store.add_brand("acme", "b1", Some("id-h-acme")).unwrap());
    assert!(store.add_brand("acme", "b0", None).unwrap());
    store.set_store_brand("acme", "s1", "b0", Some("id-h-acme")).unwrap();
    store.set_store_brand("acme", "s1", "b1", Some("id-h-s1")).unwrap();
    store.set_webhook("acme", Some(("https://acme.example/hook", "secret")), Some("id-h-acme")).unwrap();
    let by = |key: &str| Some(key.to_owned());
    assert_eq!(
        store.settings_by("acme").unwrap(),
        SetBy {
            brands: vec![("b0".to_owned(), None), ("b1".to_owned(), by("id-h-acme"))],
            stores: vec![("s1".to_owned(), "b1".to_owned(), by("id-h-s1"))],
            webhook: Some(("https://acme.example/hook".to_owned(), by("id-h-acme"))),
        }
    );
    assert_eq!(store.settings_by("beta").unwrap(), SetBy::default());
}

/// A store the first version made (its tables as they were, with a tenant, a key, a plan and a
/// log) is brought to this version when it is opened: every key, the owner's too, in `keys`
/// with an id and no times; the log's lines naming no key; nothing else changed. Opening it
/// again changes nothing more.
#[test]
fn a_store_of_the_first_version_is_migrated_when_opened() {
    let dir = common::data_dir("store-migrate");
    common::execute(
        &dir,
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE tenants (id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE);
         CREATE TABLE plans (tenant TEXT NOT NULL, version {int} NOT NULL, text TEXT NOT NULL,
             PRIMARY KEY (tenant, version));
         CREATE TABLE events (tenant TEXT NOT NULL, seq {int} NOT NULL, line TEXT NOT NULL,
             PRIMARY KEY (tenant, seq));
         CREATE TABLE keys (hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, role TEXT NOT NULL, scope TEXT);
         INSERT INTO settings VALUES ('master_key_hash', 'm');
         INSERT INTO tenants VALUES ('acme', 'h-acme'), ('beta', 'h-beta');
         INSERT INTO keys VALUES ('h-s1', 'acme', 'store_operator', 's1'), ('h-o2', 'beta', 'owner', NULL);
         INSERT INTO plans VALUES ('acme', 1, 'name = \"p\"');
         INSERT INTO events VALUES ('acme', 1, 'l1'), ('acme', 2, 'l2');",
    );
    let mut store = common::store(&dir);
    let latest = fanli_server::store::SCHEMA_VERSION.to_string();
    assert_eq!(store.setting("schema_version").unwrap(), Some(latest.clone()));
    assert_eq!(store.setting("master_key_hash").unwrap().as_deref(), Some("m"));
    let (total, acme) = store.tenant_keys("acme", 0, 10).unwrap();
    assert_eq!(total, 2);
    let mut seen: Vec<(&str, &str, Option<&str>)> =
        acme.iter().map(|k| (k.hash.as_str(), k.role.as_str(), k.scope.as_deref())).collect();
    seen.sort();
    assert_eq!(seen, [("h-acme", "owner", None), ("h-s1", "store_operator", Some("s1"))]);
    for k in &acme {
        assert!(k.id.len() == 16 && k.id.bytes().all(|b| b.is_ascii_hexdigit()), "{k:?}");
        assert_eq!((k.created_at, k.created_by.as_deref(), k.revoked_at), (None, None, None), "{k:?}");
    }
    assert_ne!(acme[0].id, acme[1].id);
    // Both of beta's owner keys: the tenant's own and the one made with POST /v1/keys.
    assert_eq!(store.owner_keys("beta").unwrap(), 2);
    assert_eq!(store.find_key("h-acme").unwrap().map(|k| k.role), Some("owner".to_owned()));
    assert_eq!(store.revocations().unwrap(), 0);
    // The log and the plan as they were, naming no key.
    assert_eq!(log(&mut store, "acme"), ["l1", "l2"]);
    let lines: Vec<(u64, Option<String>)> =
        store.writes("acme", None, 10).unwrap().into_iter().map(|w| (w.line, w.key)).collect();
    assert_eq!(lines, [(2, None), (1, None)]);
    assert_eq!(store.plan_versions("acme").unwrap(), [(1, None)]);
    assert_eq!(store.load_one("acme").unwrap().and_then(|s| s.plan).as_deref(), Some("name = \"p\""));
    // The plan stored before amendments were kept is a base plan, recorded at no known time.
    let rows = store.plan_rows("acme").unwrap();
    assert_eq!((rows.len(), rows[0].is_base(), &rows[0].recorded_at), (1, true, &None));
    // The new columns take new rows.
    let l3 = strings(&["l3"]);
    let by = [Some(acme[0].id.clone())];
    store.append(&[Append { lines: &l3, by: &by, ..nothing("acme", 2) }]).unwrap();
    assert_eq!(store.writes("acme", None, 1).unwrap()[0].key, by[0]);
    // Version 6: the tenants' settings for their public pages, the defaults until set.
    use fanli_server::store::TenantSettings;
    assert_eq!(
        store.tenant_settings("acme").unwrap(),
        TenantSettings { public_origin: None, public_join: true }
    );
    let set = TenantSettings { public_origin: Some("https://shop.example".to_owned()), public_join: false };
    store.set_tenant_settings("acme", &set, Some(&acme[0].id)).unwrap();
    assert_eq!(store.tenant_settings("acme").unwrap(), set);
    assert_eq!(store.tenant_settings("beta").unwrap(), TenantSettings::default());
    // Opened again: nothing changes (the ids stay).
    drop(store);
    let mut again = common::store(&dir);
    assert_eq!(again.tenant_keys("acme", 0, 10).unwrap().1, acme);
    assert_eq!(again.setting("schema_version").unwrap(), Some(latest));
}

/// Amendments, proposals and passed votes are stored with the events that record them, in the
/// same commit; `load` reads the latest base plan, the one a replay of the log starts from.
#[test]
fn amendments_are_stored_with_their_events_and_load_reads_the_base_plan() {
    use fanli_server::store::PlanChange;
    let (_dir, mut store) = fresh("store-amend");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert_eq!(store.add_plan("acme", "base one", Some("id-h-acme")).unwrap(), 1);
    assert_eq!(store.add_plan("acme", "base two", None).unwrap(), 2);
    let lines = strings(&["l1", "l2", "l3"]);
    let changes = [
        PlanChange::Amendment {
            line: 1,
            text: "amended".to_owned(),
            effective_at: "2026-01-09T00:00:00Z".to_owned(),
            recorded_at: "2026-01-01T00:00:00Z".to_owned(),
            by: Some("id-h-acme".to_owned()),
        },
        PlanChange::Proposed {
            proposal: "p1".to_owned(),
            text: "proposed".to_owned(),
            recorded_at: "2026-01-02T00:00:00Z".to_owned(),
            by: None,
        },
        PlanChange::Proposed {
            proposal: "p2".to_owned(),
            text: "not passed".to_owned(),
            recorded_at: "2026-01-02T00:00:00Z".to_owned(),
            by: None,
        },
    ];
    store.append(&[Append { lines: &lines[..2], plans: &changes, ..nothing("acme", 0) }]).unwrap();
    let passed = [PlanChange::Passed {
        proposal: "p1".to_owned(),
        line: 3,
        effective_at: "2026-01-10T00:00:00Z".to_owned(),
        recorded_at: "2026-01-05T00:00:00Z".to_owned(),
    }];
    store.append(&[Append { lines: &lines[2..], plans: &passed, ..nothing("acme", 2) }]).unwrap();
    let rows = store.plan_rows("acme").unwrap();
    /// (version, text, line, effective_at, proposal, key).
    type Seen<'a> = (i64, &'a str, Option<u64>, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let seen: Vec<Seen<'_>> = rows
        .iter()
        .map(|r| {
            let (at, by) = (r.effective_at.as_deref(), r.key_id.as_deref());
            (r.version, r.text.as_str(), r.line, at, r.proposal.as_deref(), by)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "base one", None, None, None, Some("id-h-acme")),
            (2, "base two", None, None, None, None),
            (3, "amended", Some(1), Some("2026-01-09T00:00:00Z"), None, Some("id-h-acme")),
            (4, "proposed", Some(3), Some("2026-01-10T00:00:00Z"), Some("p1"), None),
            (5, "not passed", None, None, Some("p2"), None),
        ]
    );
    assert_eq!(rows[3].recorded_at.as_deref(), Some("2026-01-05T00:00:00Z"), "the tally's time");
    assert!(rows[1].recorded_at.as_deref().is_some_and(|t| t.ends_with('Z')), "{:?}", rows[1]);
    assert_eq!(store.load_one("acme").unwrap().and_then(|s| s.plan).as_deref(), Some("base two"));
    // A failed commit stores neither the events nor their versions.
    let again = strings(&["l4"]);
    let amendment = [changes[0].clone()];
    assert!(store.append(&[Append { lines: &again, plans: &amendment, ..nothing("acme", 0) }]).is_err());
    assert_eq!(store.plan_rows("acme").unwrap().len(), 5);
}

#[test]
fn plan_versions_count_up_per_tenant_and_load_reads_each_tenants_latest() {
    let (_dir, mut store) = fresh("store-plans");
    for (id, hash) in [("acme", "h-acme"), ("beta", "h-beta"), ("gamma", "h-gamma")] {
        assert!(store.create_tenant(&owner(id, hash)).unwrap());
    }
    assert_eq!(store.plan_version("acme").unwrap(), 0);
    assert_eq!(store.add_plan("acme", "name = \"one\"", None).unwrap(), 1);
    assert_eq!(store.add_plan("acme", "name = \"two\"", None).unwrap(), 2);
    assert_eq!(store.add_plan("beta", "name = \"b\"", None).unwrap(), 1);
    assert_eq!(store.plan_version("acme").unwrap(), 2);
    assert_eq!(store.plan_version("beta").unwrap(), 1);
    assert_eq!(store.plan_version("gamma").unwrap(), 0);
    let loaded: Vec<(String, String, Option<String>)> =
        store.load().unwrap().into_iter().map(|s| (s.id, s.key_hash, s.plan)).collect();
    let loaded: Vec<(&str, &str, Option<&str>)> =
        loaded.iter().map(|(i, h, p)| (i.as_str(), h.as_str(), p.as_deref())).collect();
    assert_eq!(
        loaded,
        [
            ("acme", "h-acme", Some("name = \"two\"")),
            ("beta", "h-beta", Some("name = \"b\"")),
            ("gamma", "h-gamma", None)
        ]
    );
    let one = store.load_one("beta").unwrap().expect("beta");
    assert_eq!((one.id.as_str(), one.plan.as_deref()), ("beta", Some("name = \"b\"")));
    assert_eq!(store.load_one("gamma").unwrap().map(|s| s.plan), Some(None));
    assert!(store.load_one("nobody").unwrap().is_none());
}

#[test]
fn brands_and_stores_brands_are_per_tenant_and_a_store_moves_between_brands() {
    let (_dir, mut store) = fresh("store-brands");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    assert!(store.add_brand("acme", "b1", None).unwrap());
    assert!(!store.add_brand("acme", "b1", None).unwrap(), "registered already");
    assert!(store.add_brand("acme", "b2", None).unwrap());
    assert!(store.add_brand("beta", "b1", None).unwrap(), "another tenant's b1");
    store.set_store_brand("acme", "s1", "b1", None).unwrap();
    store.set_store_brand("acme", "s2", "b1", None).unwrap();
    store.set_store_brand("acme", "s1", "b2", None).unwrap();
    // Every tenant's, in no set order.
    let (mut brands, mut stores) = store.brands().unwrap();
    brands.sort();
    stores.sort();
    assert_eq!(
        brands,
        [("acme", "b1"), ("acme", "b2"), ("beta", "b1")].map(|(t, b)| (t.to_owned(), b.to_owned()))
    );
    assert_eq!(
        stores,
        [("acme", "s1", "b2"), ("acme", "s2", "b1")].map(|(t, s, b)| (
            t.to_owned(),
            s.to_owned(),
            b.to_owned()
        ))
    );
    // One tenant's, with its webhook's URL (what a node taking the tenant over reads).
    let (mut brands, mut stores, hook) = store.tenant_extras("acme").unwrap();
    brands.sort();
    stores.sort();
    assert_eq!(brands, ["b1", "b2"]);
    assert_eq!(stores, [("s1", "b2"), ("s2", "b1")].map(|(s, b)| (s.to_owned(), b.to_owned())));
    assert_eq!(hook, None);
    store.set_webhook("acme", Some(("https://acme.example/hook", "secret")), None).unwrap();
    assert_eq!(store.tenant_extras("acme").unwrap().2.as_deref(), Some("https://acme.example/hook"));
    let (brands, stores, hook) = store.tenant_extras("beta").unwrap();
    assert_eq!((brands, stores.len(), hook), (strings(&["b1"]), 0, None));
}

#[test]
fn a_group_commit_writes_every_kind_of_row_of_every_tenant_in_it() {
    let (dir, mut store) = fresh("store-append");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    let acme_lines = strings(&["l1", "l2", "l3"]);
    let notifications = strings(&[r#"{"n":1}"#, r#"{"n":2}"#]);
    let reports = [(3, r#"{"report":3}"#.to_owned())];
    let members = [member("A", None, Some("13800000001")), member("B", Some("A"), None)];
    let history = [
        ("A".to_owned(), 1, "[\"a1\"]".to_owned()),
        ("B".to_owned(), 2, "[\"b2\"]".to_owned()),
        ("A".to_owned(), 3, "[\"a3\"]".to_owned()),
    ];
    let days = [(3, "2026-01-02T00:00:00Z".to_owned(), 2, 1)];
    let answers = [("o1".to_owned(), r#"{"amount":"10.00"}"#.to_owned(), r#"{"ok":true}"#.to_owned())];
    let beta_lines = strings(&["m1"]);
    let beta_members = [member("A", None, None)];
    let acme = Append {
        lines: &acme_lines,
        notifications: &notifications,
        reports: &reports,
        members: &members,
        history: &history,
        days: &days,
        answers: &answers,
        backfilling: Some(("backfill:acme".to_owned(), true)),
        ..nothing("acme", 0)
    };
    let beta = Append { lines: &beta_lines, members: &beta_members, ..nothing("beta", 0) };
    store.append(&[acme, beta]).unwrap();

    // The log, whole, after a line, and in pages.
    assert_eq!(log(&mut store, "acme"), ["l1", "l2", "l3"]);
    assert_eq!(log(&mut store, "beta"), ["m1"]);
    assert_eq!(store.events("acme", 2).unwrap(), ["l3"]);
    assert!(store.events("acme", 3).unwrap().is_empty());
    assert!(store.events("acme", 99).unwrap().is_empty());
    assert_eq!(store.events_page("acme", 0, 2).unwrap(), ["l1", "l2"]);
    assert_eq!(store.events_page("acme", 2, 2).unwrap(), ["l3"]);
    assert!(store.events_page("acme", 3, 2).unwrap().is_empty());
    assert!(log(&mut store, "nobody").is_empty());
    // The reports after a line: the one at line 3 is after lines 0 and 2, not after 3.
    assert_eq!(store.reports("acme", 0).unwrap(), [r#"{"report":3}"#]);
    assert_eq!(store.reports("acme", 2).unwrap(), [r#"{"report":3}"#]);
    assert!(store.reports("acme", 3).unwrap().is_empty());
    assert!(store.reports("beta", 0).unwrap().is_empty());
    // The kept answer, by order id, per tenant.
    let answer = store.answer("acme", "o1").unwrap();
    assert_eq!(answer, Some((r#"{"amount":"10.00"}"#.to_owned(), r#"{"ok":true}"#.to_owned())));
    assert_eq!(store.answer("beta", "o1").unwrap(), None);
    assert_eq!(store.answer("acme", "o2").unwrap(), None);
    // The daily counts, the notifications, the backfill setting.
    assert_eq!(store.days("acme").unwrap(), [(3, "2026-01-02T00:00:00Z".to_owned(), 2, 1)]);
    assert!(store.days("beta").unwrap().is_empty());
    let pending: Vec<String> = store.pending("acme", 10).unwrap().into_iter().map(|p| p.body).collect();
    assert_eq!(pending, notifications);
    assert!(store.pending("beta", 10).unwrap().is_empty());
    assert_eq!(store.setting("backfill:acme").unwrap().as_deref(), Some("1"));
    assert_eq!(store.setting("backfill:beta").unwrap(), None);
    // A member's history, newest first, each with its event's line.
    let history = store.history("acme", "A", 10).unwrap();
    assert_eq!(
        history,
        [(3, "l3".to_owned(), "[\"a3\"]".to_owned()), (1, "l1".to_owned(), "[\"a1\"]".to_owned())]
    );
    assert_eq!(store.history("acme", "A", 1).unwrap().len(), 1);
    assert_eq!(store.history("acme", "B", 10).unwrap(), [(2, "l2".to_owned(), "[\"b2\"]".to_owned())]);
    assert!(store.history("beta", "A", 10).unwrap().is_empty(), "beta's A did nothing");
    assert_eq!(rows(&store.find_members("beta", "A").unwrap()), [("A", None, None)]);

    // What one connection committed, another reads at once.
    assert_eq!(log(&mut common::store(&dir), "acme"), ["l1", "l2", "l3"]);
    // The next commit goes on after line 3, and says the tenant stopped sending history.
    let more = strings(&["l4"]);
    let days = [(4, "2026-01-03T00:00:00Z".to_owned(), 2, 1)];
    let next = Append {
        lines: &more,
        days: &days,
        backfilling: Some(("backfill:acme".to_owned(), false)),
        ..nothing("acme", 3)
    };
    store.append(&[next]).unwrap();
    assert_eq!(log(&mut store, "acme"), ["l1", "l2", "l3", "l4"]);
    assert_eq!(store.setting("backfill:acme").unwrap().as_deref(), Some("0"));
    let lines: Vec<u64> = store.days("acme").unwrap().into_iter().map(|d| d.0).collect();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn a_commit_that_fails_keeps_nothing_of_any_tenant_in_it() {
    let (_dir, mut store) = fresh("store-atomic");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    let first = strings(&["l1", "l2"]);
    let notified = strings(&[r#"{"n":0}"#]);
    store.append(&[Append { lines: &first, notifications: &notified, ..nothing("acme", 0) }]).unwrap();
    let before = store.pending("acme", 10).unwrap()[0].id;
    // beta's rows come first in the batch; acme's line goes after line 1, where line 2 is
    // already: the whole commit fails, and none of its requests may be acknowledged.
    let lines = strings(&["m1"]);
    let notifications = strings(&[r#"{"n":1}"#, r#"{"n":2}"#]);
    let reports = [(1, "{}".to_owned())];
    let members = [member("A", None, Some("13800000001"))];
    let history = [("A".to_owned(), 1, "[]".to_owned())];
    let days = [(1, "2026-01-02T00:00:00Z".to_owned(), 1, 0)];
    let answers = [("o1".to_owned(), "{}".to_owned(), "{}".to_owned())];
    let beta = || Append {
        lines: &lines,
        notifications: &notifications,
        reports: &reports,
        members: &members,
        history: &history,
        days: &days,
        answers: &answers,
        backfilling: Some(("backfill:beta".to_owned(), true)),
        ..nothing("beta", 0)
    };
    let again = strings(&["l2 again"]);
    let error = store.append(&[beta(), Append { lines: &again, ..nothing("acme", 1) }]).unwrap_err();
    // The error says what failed (the log's key) and quotes no row: it goes to every request of
    // the batch, whichever tenant's.
    let error = error.to_string();
    assert!(error.contains("events") && !error.contains("acme") && !error.contains("l2"), "{error}");
    assert_eq!(log(&mut store, "acme"), ["l1", "l2"]);
    assert!(log(&mut store, "beta").is_empty());
    assert!(store.pending("beta", 10).unwrap().is_empty());
    assert!(store.reports("beta", 0).unwrap().is_empty());
    assert!(store.find_members("beta", "A").unwrap().is_empty());
    assert!(store.history("beta", "A", 10).unwrap().is_empty());
    assert!(store.days("beta").unwrap().is_empty());
    assert_eq!(store.answer("beta", "o1").unwrap(), None);
    assert_eq!(store.setting("backfill:beta").unwrap(), None);
    let status = store.outbox_status("beta").unwrap();
    assert_eq!((status.pending, status.delivered, status.head), (0, 0, None));
    // The connection goes on: the same rows commit once nothing conflicts. Their outbox ids come
    // after every id before (on PostgreSQL the failed commit used some up: ids may skip).
    store.append(&[beta()]).unwrap();
    assert_eq!(log(&mut store, "beta"), ["m1"]);
    let ids: Vec<i64> = store.pending("beta", 10).unwrap().into_iter().map(|p| p.id).collect();
    assert!(ids.len() == 2 && before < ids[0] && ids[0] < ids[1], "{before} then {ids:?}");
}

/// Why a test's read of a log stopped: its own reason, or the store's error.
#[derive(Debug)]
enum Stop {
    At(String),
    Store(fanli_server::store::StoreError),
}

impl From<fanli_server::store::StoreError> for Stop {
    fn from(error: fanli_server::store::StoreError) -> Stop {
        Stop::Store(error)
    }
}

#[test]
fn for_each_event_reads_a_long_log_in_order_and_stops_at_the_first_error() {
    let (dir, mut store) = fresh("store-stream");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    // Past two of the 10,000-line pages PostgreSQL's portal reads at a time.
    const LINES: u64 = 20_001;
    let lines: Vec<String> = (1..=LINES).map(|n| n.to_string()).collect();
    store.append(&[Append { lines: &lines, ..nothing("acme", 0) }]).unwrap();
    let mut seen = 0u64;
    store
        .for_each_event("acme", 0, |line| {
            seen += 1;
            if line == seen.to_string() { Ok(()) } else { Err(Stop::At(format!("line {seen} reads {line}"))) }
        })
        .unwrap();
    assert_eq!(seen, LINES);
    let mut tail = Vec::new();
    store
        .for_each_event("acme", 19_999, |line| {
            tail.push(line.to_owned());
            Ok::<_, Stop>(())
        })
        .unwrap();
    assert_eq!(tail, ["20000", "20001"]);
    // The first error stops the reading and is returned as it was.
    let mut read = 0;
    let stopped = store.for_each_event("acme", 0, |line| {
        if line == "10001" {
            return Err(Stop::At("stopped at 10001".to_owned()));
        }
        read += 1;
        Ok(())
    });
    assert!(matches!(&stopped, Err(Stop::At(at)) if at == "stopped at 10001"), "{stopped:?}");
    assert_eq!(read, 10_000);
    // And the connection goes on.
    assert_eq!(store.events_page("acme", 9_999, 3).unwrap(), ["10000", "10001", "10002"]);
    let mut none = 0;
    store
        .for_each_event("nobody", 0, |_| {
            none += 1;
            Ok::<_, Stop>(())
        })
        .unwrap();
    assert_eq!(none, 0);
    // The store's own failure reaches the caller as its error type has it.
    common::drop_table(&dir, "events");
    let failed = store.for_each_event("acme", 0, |_| Ok::<_, Stop>(()));
    let Err(Stop::Store(error)) = failed else { panic!("{failed:?}") };
    assert!(
        error.to_string().starts_with(if store.is_postgres() { "PostgreSQL: " } else { "SQLite: " }),
        "{error}"
    );
}

#[test]
fn the_outbox_hands_out_a_tenants_notifications_in_order_until_each_is_delivered() {
    let (_dir, mut store) = fresh("store-outbox");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    let acme_notes = strings(&["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"]);
    let beta_notes = strings(&["{\"n\":4}"]);
    let (one, two) = (strings(&["l1"]), strings(&["m1"]));
    store
        .append(&[
            Append { lines: &one, notifications: &acme_notes, ..nothing("acme", 0) },
            Append { lines: &two, notifications: &beta_notes, ..nothing("beta", 0) },
        ])
        .unwrap();
    // Ids in the order of the commit: acme's three, then beta's.
    let pending = store.pending("acme", 100).unwrap();
    let seen: Vec<(i64, &str, i64, i64)> =
        pending.iter().map(|p| (p.id, p.body.as_str(), p.attempts, p.next_at)).collect();
    assert_eq!(seen, [(1, "{\"n\":1}", 0, 0), (2, "{\"n\":2}", 0, 0), (3, "{\"n\":3}", 0, 0)]);
    let ids = |store: &mut Store, tenant: &str, limit: u32| -> Vec<i64> {
        store.pending(tenant, limit).unwrap().into_iter().map(|p| p.id).collect()
    };
    assert_eq!(ids(&mut store, "acme", 2), [1, 2]);
    assert_eq!(ids(&mut store, "beta", 100), [4]);
    let status = |store: &mut Store, tenant: &str| {
        let s = store.outbox_status(tenant).unwrap();
        (s.pending, s.delivered, s.head)
    };
    assert_eq!(status(&mut store, "acme"), (3, 0, Some((0, None))));
    // Two failed attempts at the head: counted, with the later time and the last error.
    store.failed(1, 5_000, "the receiver answered 500").unwrap();
    store.failed(1, 9_000, "timed out").unwrap();
    let head = &store.pending("acme", 1).unwrap()[0];
    assert_eq!((head.id, head.attempts, head.next_at), (1, 2, 9_000));
    assert_eq!(status(&mut store, "acme"), (3, 0, Some((2, Some("timed out".to_owned())))));
    // Delivered: out of the pending list; the next head has no failure yet.
    store.delivered(1, 10_000).unwrap();
    assert_eq!(ids(&mut store, "acme", 100), [2, 3]);
    assert_eq!(status(&mut store, "acme"), (2, 1, Some((0, None))));
    store.delivered(2, 10_001).unwrap();
    store.delivered(3, 10_002).unwrap();
    assert!(ids(&mut store, "acme", 100).is_empty());
    assert_eq!(status(&mut store, "acme"), (0, 3, None));
    assert_eq!(status(&mut store, "beta"), (1, 0, Some((0, None))), "another tenant's outbox");
    assert_eq!(status(&mut store, "nobody"), (0, 0, None));
    // A later commit's notifications come after every earlier one.
    let later = strings(&["{\"n\":5}"]);
    let l2 = strings(&["l2"]);
    store.append(&[Append { lines: &l2, notifications: &later, ..nothing("acme", 1) }]).unwrap();
    assert_eq!(ids(&mut store, "acme", 100), [5]);
}

#[test]
fn webhooks_are_set_replaced_and_removed_and_each_node_lists_its_tenants() {
    let (_dir, mut store) = fresh("store-webhooks");
    for (id, hash) in [("acme", "h-acme"), ("beta", "h-beta"), ("gamma", "h-gamma")] {
        assert!(store.create_tenant(&owner(id, hash)).unwrap());
    }
    assert!(store.webhooks().unwrap().is_empty());
    store.set_webhook("acme", Some(("http://127.0.0.1:1/one", "s1")), None).unwrap();
    store.set_webhook("acme", Some(("http://127.0.0.1:1/two", "s2")), None).unwrap();
    store.set_webhook("beta", Some(("http://127.0.0.1:2/hook", "sb")), None).unwrap();
    store.set_webhook("gamma", Some(("http://127.0.0.1:3/hook", "sg")), None).unwrap();
    store.set_webhook("gamma", None, None).unwrap();
    store.set_webhook("gamma", None, None).unwrap();
    let hook = |t: &str, u: &str, s: &str| (t.to_owned(), u.to_owned(), s.to_owned());
    assert_eq!(
        store.webhooks().unwrap(),
        [hook("acme", "http://127.0.0.1:1/two", "s2"), hook("beta", "http://127.0.0.1:2/hook", "sb")]
    );
    // In a cluster each node delivers for the tenants whose lease it holds.
    assert!(store.webhooks_of("n1").unwrap().is_empty());
    store.take_lease("acme", "n1", "http://n1").unwrap();
    store.take_lease("beta", "n2", "http://n2").unwrap();
    store.take_lease("gamma", "n1", "http://n1").unwrap();
    assert_eq!(store.webhooks_of("n1").unwrap(), [hook("acme", "http://127.0.0.1:1/two", "s2")]);
    assert_eq!(store.webhooks_of("n2").unwrap(), [hook("beta", "http://127.0.0.1:2/hook", "sb")]);
    store.take_lease("beta", "n1", "http://n1").unwrap();
    assert_eq!(store.webhooks_of("n1").unwrap().len(), 2);
    assert!(store.webhooks_of("n2").unwrap().is_empty());
}

#[test]
fn a_lease_counts_its_epochs_and_only_its_holder_at_the_latest_one_appends() {
    let (_dir, mut store) = fresh("store-leases");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    assert_eq!(store.lease("acme").unwrap(), None);
    assert_eq!(store.take_lease("acme", "n1", "http://n1").unwrap(), 1);
    assert_eq!(store.lease("acme").unwrap(), Some(("n1".to_owned(), "http://n1".to_owned())));
    let (one, two) = (strings(&["l1"]), strings(&["l2"]));
    store.append(&[Append { lines: &one, lease: Some(("n1", 1)), ..nothing("acme", 0) }]).unwrap();
    assert_eq!(store.take_lease("acme", "n2", "http://n2").unwrap(), 2);
    assert_eq!(store.lease("acme").unwrap(), Some(("n2".to_owned(), "http://n2".to_owned())));
    // The node that lost it, and the new holder at an epoch gone by, are refused.
    let lost = |store: &mut Store, lease: (&str, i64)| match store.append(&[Append {
        lines: &two,
        lease: Some(lease),
        ..nothing("acme", 1)
    }]) {
        Err(StoreError::LeaseLost(tenant)) => tenant,
        other => panic!("{lease:?}: {:?}", other.map_err(|e| e.to_string())),
    };
    assert_eq!(lost(&mut store, ("n1", 1)), "acme");
    assert_eq!(lost(&mut store, ("n2", 1)), "acme");
    assert_eq!(store.take_lease("acme", "n2", "http://n2").unwrap(), 3, "taken again: a new epoch");
    assert_eq!(lost(&mut store, ("n2", 2)), "acme");
    store.append(&[Append { lines: &two, lease: Some(("n2", 3)), ..nothing("acme", 1) }]).unwrap();
    assert_eq!(log(&mut store, "acme"), ["l1", "l2"]);
    // A tenant nobody leased: an append under a lease is refused; one without (one node) is not.
    let m1 = strings(&["m1"]);
    let refused = store.append(&[Append { lines: &m1, lease: Some(("n1", 1)), ..nothing("beta", 0) }]);
    assert!(matches!(&refused, Err(StoreError::LeaseLost(t)) if t == "beta"));
    store.append(&[Append { lines: &m1, ..nothing("beta", 0) }]).unwrap();
    // A refused tenant fails its whole batch: the other tenant's lines in it are not kept.
    let m2 = strings(&["m2"]);
    let batch = [
        Append { lines: &m2, ..nothing("beta", 1) },
        Append { lines: &one, lease: Some(("n1", 1)), ..nothing("acme", 2) },
    ];
    assert!(matches!(store.append(&batch), Err(StoreError::LeaseLost(t)) if t == "acme"));
    assert_eq!(log(&mut store, "beta"), ["m1"]);
}

#[test]
fn a_snapshot_is_a_file_named_by_its_row_and_replaces_the_one_before() {
    let (dir, mut store) = fresh("store-snapshots");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    assert!(store.snapshot("acme").unwrap().is_none());
    let got = |store: &mut Store, tenant: &str| {
        let s = store.snapshot(tenant).unwrap().expect("a snapshot");
        (s.line, s.head, s.closed_through, s.data)
    };
    let first =
        Snapshot { line: 5, head: "h5".to_owned(), closed_through: Some(20_454), data: vec![1, 2, 3] };
    store.put_snapshot("acme", &first).unwrap();
    assert_eq!(got(&mut store, "acme"), (5, "h5".to_owned(), Some(20_454), vec![1, 2, 3]));
    assert_eq!(snapshot_files(&dir), ["acme-5.snap"]);
    // A later one: its own file, and the older file goes (no temporary file is left).
    let later = Snapshot { line: 9, head: "h9".to_owned(), closed_through: None, data: vec![9; 1000] };
    store.put_snapshot("acme", &later).unwrap();
    assert_eq!(got(&mut store, "acme"), (9, "h9".to_owned(), None, vec![9; 1000]));
    assert_eq!(snapshot_files(&dir), ["acme-9.snap"]);
    // The same line again: the file is rewritten, not removed.
    let again = Snapshot { line: 9, head: "h9".to_owned(), closed_through: Some(1), data: vec![7] };
    store.put_snapshot("acme", &again).unwrap();
    assert_eq!(got(&mut store, "acme"), (9, "h9".to_owned(), Some(1), vec![7]));
    let other = Snapshot { line: 2, head: "b2".to_owned(), closed_through: None, data: Vec::new() };
    store.put_snapshot("beta", &other).unwrap();
    assert_eq!(snapshot_files(&dir), ["acme-9.snap", "beta-2.snap"]);
    assert_eq!(got(&mut store, "beta"), (2, "b2".to_owned(), None, Vec::new()));
    // Another connection finds the row and reads the file it names.
    assert_eq!(got(&mut common::store(&dir), "acme").3, vec![7]);
    // A row whose file is gone is an error (a start then replays the whole log).
    std::fs::remove_file(dir.join("snapshots").join("acme-9.snap")).unwrap();
    assert!(matches!(store.snapshot("acme"), Err(StoreError::Io(_))));
}

#[test]
fn members_are_found_by_id_or_phone_and_listed_under_their_referrer() {
    let (_dir, mut store) = fresh("store-members");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    let phone = Some("13800000001");
    let mut members = vec![
        member("A", None, phone),
        member("B", Some("A"), phone),
        member("C", Some("A"), None),
        member("D", Some("B"), Some("13900000002")),
        member("E", Some("A"), None),
    ];
    // 60 members on one phone: a search shows at most 50.
    members.extend((0..60).map(|i| member(&format!("m{i:02}"), Some("D"), Some("13700000000"))));
    let lines = strings(&["l1"]);
    let beta_members = [member("A", None, phone)];
    store
        .append(&[
            Append { lines: &lines, members: &members, ..nothing("acme", 0) },
            Append { lines: &lines, members: &beta_members, ..nothing("beta", 0) },
        ])
        .unwrap();
    assert_eq!(rows(&store.find_members("acme", "A").unwrap()), [("A", None, phone)]);
    assert_eq!(
        rows(&store.find_members("acme", "13800000001").unwrap()),
        [("A", None, phone), ("B", Some("A"), phone)]
    );
    assert_eq!(
        rows(&store.find_members("acme", "13900000002").unwrap()),
        [("D", Some("B"), Some("13900000002"))]
    );
    assert!(store.find_members("acme", "Z").unwrap().is_empty());
    assert!(store.find_members("acme", "").unwrap().is_empty(), "no phone is not an empty phone");
    assert!(store.find_members("acme", "a").unwrap().is_empty(), "ids are matched exactly");
    let many = store.find_members("acme", "13700000000").unwrap();
    let ids: Vec<&str> = many.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(ids, (0..50).map(|i| format!("m{i:02}")).collect::<Vec<_>>());
    assert_eq!(rows(&store.find_members("beta", "13800000001").unwrap()), [("A", None, phone)]);
    assert_eq!(store.referees("acme", "A", 50).unwrap(), ["B", "C", "E"]);
    assert_eq!(store.referees("acme", "A", 2).unwrap(), ["B", "C"]);
    assert_eq!(store.referees("acme", "B", 50).unwrap(), ["D"]);
    assert_eq!(store.referees("acme", "D", 50).unwrap().len(), 50);
    assert!(store.referees("acme", "E", 50).unwrap().is_empty());
    assert!(store.referees("beta", "A", 50).unwrap().is_empty());
}

/// SQLite compares text byte by byte; PostgreSQL by the database's collation. They agree on a
/// database created with the C collation (`C` or `C.UTF-8`, as the test database is); on one
/// created with a language's collation (`en_US.UTF-8`, ICU), PostgreSQL puts `a` before `B`,
/// and this fails: the console's search and referral tree list in another order there.
#[test]
fn ids_are_listed_in_byte_order() {
    let (_dir, mut store) = fresh("store-order");
    assert!(store.create_tenant(&owner("t-b", "h-b")).unwrap());
    assert!(store.create_tenant(&owner("T-a", "h-a")).unwrap());
    assert!(store.create_tenant(&owner("t_a", "h-c")).unwrap());
    let members: Vec<MemberRow> =
        ["a", "B", "Z", "a-1", "a_2", "a1", "张三"].iter().map(|m| member(m, Some("R"), Some("1"))).collect();
    let lines = strings(&["l1"]);
    store.append(&[Append { lines: &lines, members: &members, ..nothing("t-b", 0) }]).unwrap();
    let sorted = ["B", "Z", "a", "a-1", "a1", "a_2", "张三"];
    assert_eq!(store.referees("t-b", "R", 50).unwrap(), sorted);
    let found: Vec<String> = store.find_members("t-b", "1").unwrap().into_iter().map(|m| m.0).collect();
    assert_eq!(found, sorted);
    assert_eq!(store.tenant_ids().unwrap(), ["T-a", "t-b", "t_a"]);
}

/// The two sides disagree here, and the fix is not the store's: PostgreSQL's `TEXT` cannot hold
/// the NUL character, SQLite's can. The event reader accepts `"member": "a\u0000b"`, so on
/// PostgreSQL such a join fails its whole group commit (every request in the batch, of every
/// tenant, gets a 500) where SQLite stores it; a brand id or webhook URL with a NUL is a 500
/// there too. The ids should be refused before they reach the engine (`fanli-format`'s event
/// reader, and the API's fields), on both.
#[test]
#[ignore = "PostgreSQL's TEXT refuses the NUL character that SQLite stores: ids with one must be refused upstream"]
fn an_id_with_a_nul_character_is_kept_alike_on_both() {
    let (_dir, mut store) = fresh("store-nul");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    let lines = strings(&["l1"]);
    let members = [member("a\0b", None, None)];
    store.append(&[Append { lines: &lines, members: &members, ..nothing("acme", 0) }]).unwrap();
    assert_eq!(rows(&store.find_members("acme", "a\0b").unwrap()), [("a\0b", None, None)]);
    assert!(store.add_brand("acme", "b\0", None).unwrap());
}

/// Issue 18: a notification due later is passed over (the later ones are due), one given up is
/// a dead letter (out of the due list, listed, counted), and a replay puts it back due at once,
/// its attempts and error cleared; a replay of a notification that is not dead changes nothing.
#[test]
fn the_outbox_passes_over_a_waiting_notification_and_keeps_dead_letters_until_replayed() {
    let (_dir, mut store) = fresh("store-dead-letters");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    let notes = strings(&["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"]);
    let beta_notes = strings(&["{\"n\":4}"]);
    let (one, two) = (strings(&["l1"]), strings(&["m1"]));
    store
        .append(&[
            Append { lines: &one, notifications: &notes, ..nothing("acme", 0) },
            Append { lines: &two, notifications: &beta_notes, ..nothing("beta", 0) },
        ])
        .unwrap();
    let due = |store: &mut Store, now: i64| -> Vec<i64> {
        store.due("acme", now, 100).unwrap().into_iter().map(|p| p.id).collect()
    };
    assert_eq!(due(&mut store, 0), [1, 2, 3]);
    // 1 failed, next at 5,000: passed over until then, the later ones due.
    store.failed(1, 5_000, "the receiver answered 500").unwrap();
    assert_eq!(due(&mut store, 4_999), [2, 3]);
    assert_eq!(due(&mut store, 5_000), [1, 2, 3]);
    assert_eq!(store.pending("acme", 100).unwrap().len(), 3, "pending: due or not");
    // Its last attempt fails: a dead letter at 6,000.
    store.dead(1, 6_000, "timed out").unwrap();
    store.delivered(2, 6_001).unwrap();
    assert_eq!(due(&mut store, i64::MAX), [3]);
    let status = store.outbox_status("acme").unwrap();
    assert_eq!((status.pending, status.delivered, status.dead), (1, 1, 1));
    assert_eq!(status.head, Some((0, None)), "the oldest pending one is 3");
    let dead = store.dead_letters("acme", 0, 10).unwrap();
    assert_eq!(
        dead,
        [fanli_server::store::DeadLetter {
            id: 1,
            body: "{\"n\":1}".to_owned(),
            attempts: 2,
            last_error: Some("timed out".to_owned()),
            dead_at: 6_000,
        }]
    );
    assert!(store.dead_letters("acme", 1, 10).unwrap().is_empty(), "after its id");
    assert!(store.dead_letters("beta", 0, 10).unwrap().is_empty(), "another tenant's");
    // Not replayed for another tenant, nor when delivered or pending.
    assert_eq!(store.replay("beta", Some(1)).unwrap(), 0);
    assert_eq!(store.replay("acme", Some(2)).unwrap(), 0);
    assert_eq!(store.replay("acme", Some(3)).unwrap(), 0);
    assert_eq!(store.replay("acme", Some(1)).unwrap(), 1);
    let back = &store.due("acme", 0, 1).unwrap()[0];
    assert_eq!((back.id, back.attempts, back.next_at), (1, 0, 0));
    let status = store.outbox_status("acme").unwrap();
    assert_eq!((status.pending, status.dead, status.head), (2, 0, Some((0, None))));
    // All of a tenant's at once.
    store.dead(1, 7_000, "e1").unwrap();
    store.dead(3, 7_000, "e3").unwrap();
    assert_eq!(store.replay("acme", None).unwrap(), 2);
    assert_eq!(store.replay("acme", None).unwrap(), 0);
    assert_eq!(due(&mut store, 0), [1, 3]);
}

/// A store of version 4 (an outbox without `dead_at`) is brought to version 5: its pending
/// notifications stay pending, its delivered ones delivered, none dead.
#[test]
fn a_store_of_version_4_gets_dead_letters_and_keeps_its_outbox() {
    let (dir, mut store) = fresh("store-migrate-5");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    let notes = strings(&["{\"n\":1}", "{\"n\":2}"]);
    let one = strings(&["l1"]);
    store.append(&[Append { lines: &one, notifications: &notes, ..nothing("acme", 0) }]).unwrap();
    store.delivered(1, 1_000).unwrap();
    drop(store);
    common::execute(
        &dir,
        "DROP INDEX outbox_due; DROP INDEX outbox_dead; ALTER TABLE outbox DROP COLUMN dead_at;
         DROP TABLE tenant_settings; UPDATE settings SET value = '4' WHERE key = 'schema_version';",
    );
    let mut store = common::store(&dir);
    let version = fanli_server::store::SCHEMA_VERSION.to_string();
    assert_eq!(store.setting("schema_version").unwrap(), Some(version));
    let status = store.outbox_status("acme").unwrap();
    assert_eq!((status.pending, status.delivered, status.dead), (1, 1, 0));
    assert_eq!(store.due("acme", 0, 10).unwrap().iter().map(|p| p.id).collect::<Vec<_>>(), [2]);
    store.dead(2, 2_000, "gone").unwrap();
    assert_eq!(store.dead_letters("acme", 0, 10).unwrap().len(), 1);
}

/// A group of 150 lines and history rows, then a small one: every row stored at its place, with
/// its key and body (the test that multi-row `INSERT`s, tried in BENCHMARKS.md, were checked
/// with).
#[test]
fn a_large_group_stores_every_line_and_history_row_in_order() {
    let (_dir, mut store) = fresh("store-large-group");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    let lines: Vec<String> = (1..=150).map(|i| format!("line {i}")).collect();
    // Every third line by the owner's key, the others the server's own.
    let by: Vec<Option<String>> = (1..=150).map(|i| (i % 3 == 0).then(|| "id-h-acme".to_owned())).collect();
    let history: Vec<(String, u64, String)> =
        (1..=150).map(|i| (if i % 2 == 0 { "A" } else { "B" }.to_owned(), i, format!("[{i}]"))).collect();
    store.append(&[Append { lines: &lines, by: &by, history: &history, ..nothing("acme", 0) }]).unwrap();
    // And a second group after it.
    let more = strings(&["line 151", "line 152"]);
    store.append(&[Append { lines: &more, ..nothing("acme", 150) }]).unwrap();
    let mut expected = lines.clone();
    expected.extend(more);
    assert_eq!(log(&mut store, "acme"), expected);
    let writes = store.writes("acme", None, 200).unwrap();
    assert_eq!(writes.len(), 152);
    for write in &writes {
        let keyed = write.line <= 150 && write.line % 3 == 0;
        assert_eq!(write.key.as_deref(), keyed.then_some("id-h-acme"), "line {}", write.line);
        assert_eq!(write.event, format!("line {}", write.line));
    }
    let a = store.history("acme", "A", 1000).unwrap();
    assert_eq!(a.len(), 75);
    assert_eq!(a[0], (150, "line 150".to_owned(), "[150]".to_owned()));
    assert_eq!(a[74], (2, "line 2".to_owned(), "[2]".to_owned()));
    let b = store.history("acme", "B", 1000).unwrap();
    assert_eq!(b.len(), 75);
    assert_eq!(b[0], (149, "line 149".to_owned(), "[149]".to_owned()));
}

/// A member's history across the parts of the member-history index (version 7: keyed by
/// `line / 16384` first): newest first, a limit met inside a part or across parts, each part's
/// first and last lines; and a store of version 6 (the index by member, `(tenant, member,
/// line)`) gets the index by part when opened and reads the same.
#[test]
fn a_members_history_is_read_across_the_parts_of_its_index_and_a_version_6_store_gets_them() {
    use fanli_server::store::HISTORY_PART;
    let (dir, mut store) = fresh("store-history-parts");
    assert!(store.create_tenant(&owner("acme", "h-acme")).unwrap());
    let part = HISTORY_PART;
    let end = 2 * part + 100;
    let lines: Vec<String> = (1..=end).map(|i| format!("l{i}")).collect();
    let a = [5, part - 1, part, part + 6, 2 * part, end];
    let mut history: Vec<(String, u64, String)> = Vec::new();
    for line in 1..=end {
        if a.contains(&line) {
            history.push(("A".to_owned(), line, format!("[\"a{line}\"]")));
        }
        if line == 100 || line == part + 10 {
            history.push(("B".to_owned(), line, format!("[\"b{line}\"]")));
        }
    }
    store.append(&[Append { lines: &lines, history: &history, ..nothing("acme", 0) }]).unwrap();
    // Another tenant's A, in the same parts: not acme's.
    assert!(store.create_tenant(&owner("beta", "h-beta")).unwrap());
    let beta = strings(&["m1"]);
    let beta_a = [("A".to_owned(), 1, "[\"beta\"]".to_owned())];
    store.append(&[Append { lines: &beta, history: &beta_a, ..nothing("beta", 0) }]).unwrap();
    let entry = |member: &str, line: u64| (line, format!("l{line}"), format!("[\"{member}{line}\"]"));
    let newest_first: Vec<_> = a.iter().rev().map(|&l| entry("a", l)).collect();
    let check = |store: &mut Store| {
        assert_eq!(store.history("acme", "A", 100).unwrap(), newest_first);
        for limit in 0..=a.len() as u32 + 1 {
            let want = &newest_first[..(limit as usize).min(a.len())];
            assert_eq!(store.history("acme", "A", limit).unwrap(), want, "limit {limit}");
        }
        assert_eq!(store.history("acme", "B", 10).unwrap(), [entry("b", part + 10), entry("b", 100)]);
        assert!(store.history("acme", "C", 10).unwrap().is_empty());
        assert_eq!(store.history("beta", "A", 10).unwrap(), [(1, "m1".to_owned(), "[\"beta\"]".to_owned())]);
        assert!(store.history("nobody", "A", 10).unwrap().is_empty());
        assert!(store.in_history("acme", "A", part).unwrap());
        assert!(!store.in_history("acme", "A", part + 10).unwrap());
        assert!(store.in_history("acme", "B", part + 10).unwrap());
    };
    check(&mut store);
    drop(store);
    // Version 6, as it was: the index by member.
    common::execute(
        &dir,
        "DROP INDEX history_member; CREATE INDEX history_member ON history (tenant, member, line);
         UPDATE settings SET value = '6' WHERE key = 'schema_version';",
    );
    let mut store = common::store(&dir);
    let version = fanli_server::store::SCHEMA_VERSION.to_string();
    assert_eq!(store.setting("schema_version").unwrap(), Some(version));
    check(&mut store);
    if common::database(&dir).is_none() {
        let db = rusqlite::Connection::open(dir.join("fanli.sqlite3")).unwrap();
        let sql: String = db
            .query_row("SELECT sql FROM sqlite_master WHERE name = 'history_member'", [], |r| r.get(0))
            .unwrap();
        assert!(sql.contains("(line / 16384)"), "{sql}");
    }
    // Opened again: the index stays (the first version's `IF NOT EXISTS` leaves it alone).
    drop(store);
    let mut store = common::store(&dir);
    check(&mut store);
}
