//! The boundary formats: plan files (every mistake with its key and line) and event lines.

mod chain;
mod events;
mod plans;
mod stream;

/// Compares `actual` with the file `tests/snapshots/NAME`, byte for byte. `UPDATE_EXPECT=1`
/// rewrites the file instead (never under CI, where a changed output must fail): read its diff
/// before committing it.
fn assert_snapshot(name: &str, actual: &str) {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!(update && ci), "UPDATE_EXPECT is set under CI: snapshots are re-blessed by hand, never in CI");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    expect_test::expect_file![dir.join(name)].assert_eq(actual);
}
