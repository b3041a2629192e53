//! `fanli check NEW.toml --against OLD.toml --log EVENTS.jsonl`: what an amendment would change
//! for the members a running plan already has.
//!
//! The comparison itself is `fanli_sim::against` (the server's `POST /v1/plan/check?against=current`
//! runs it too); here its JSON and its text for people.

use fanli_sim::against::NoComparison;
use serde_json::Value;

/// The comparison as a JSON document (`amendment` in `fanli check --json`), or why there is
/// none.
pub(crate) fn compare(
    old: fanli_engine::Plan,
    new_text: &str,
    log: &std::path::Path,
) -> Result<Value, NoComparison> {
    let name = log.display().to_string();
    let file =
        std::fs::File::open(log).map_err(|e| NoComparison::failed(format!("cannot read {name}: {e}")))?;
    fanli_sim::against::compare_log(old, new_text, file, &name).map(|c| c.json())
}

/// The comparison for people.
pub(crate) fn write(out: &mut impl std::io::Write, doc: &Value) -> std::io::Result<()> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    writeln!(out, "amendment, effective at {} ({}):", text(&doc["effective_at"]), text(&doc["scenario"]))?;
    let (old, new) = (&doc["total"]["old"], &doc["total"]["new"]);
    writeln!(out, "    {:<16} {:>16} {:>16}", "all members", "old plan", "new plan")?;
    for key in ["paid", "owed", "waiting"] {
        writeln!(out, "    {key:<16} {:>16} {:>16}", text(&old[key]), text(&new[key]))?;
    }
    let changed = doc["changed"].as_array().map_or(&[][..], Vec::as_slice);
    writeln!(out, "    {} of {} members of the log end with other figures", changed.len(), doc["members"])?;
    for m in changed.iter().take(20) {
        let figures = |which: &str| {
            let f = &m[which];
            format!("paid {} owed {} waiting {}", text(&f["paid"]), text(&f["owed"]), text(&f["waiting"]))
        };
        writeln!(out, "    {}: {} → {}", text(&m["member"]), figures("old"), figures("new"))?;
    }
    Ok(())
}
