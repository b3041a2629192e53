//! `cargo xtask dayclose`: how long one `close_day` takes over N active green-points lots.
//!
//! Builds, in memory, N members in a referral tree (member i referred by member (i − 1) / 3, so
//! everyone but the root has uplines to 3 levels) each with one settled order that earns a lot,
//! under a green_points plan with share acceleration (50% / 30%) and three team ranks, then
//! times the first `close_day`: every lot releases, every member's release gives their two
//! uplines a share and their ranked uplines a team release, and the pool pays it all at once.
//! Best of K fresh engines; building them is not timed.

use std::time::{Duration, Instant};

use fanli_engine::{Engine, Event, EventKind, Money, Order, Timestamp};
use fanli_format::parse_plan;

const PLAN: &str = r#"
name = "day close benchmark: 绿色积分 with share and team ranks"
settle_after_days = 0
[[mechanism]]
id = "green"
kind = "green_points"
funding_rate = "0.80"
tiers = [{ min = "3000.00", multiple = "2.5" }, { min = "9000.00", multiple = "3" }]
daily_release_rate = "0.012"
share = ["0.50", "0.30"]
team_ranks = [
  { name = "青铜", min_team_sales = "30000.00", rate = "0.10" },
  { name = "星耀", min_team_sales = "100000.00", rate = "0.44" },
  { name = "王者", min_team_sales = "1000000.00", rate = "0.50" },
]
"#;

pub(crate) fn run(lots: u64, runs: usize) -> Result<(), String> {
    let plan = parse_plan(PLAN).map_err(|e| e.to_string())?;
    let at = Timestamp::parse_rfc3339("2026-01-01T10:00:00+08:00").ok_or("a timestamp")?;
    let close = Timestamp::parse_rfc3339("2026-01-02T00:00:00+08:00").ok_or("a timestamp")?;
    let mut best = Duration::MAX;
    let mut postings = 0;
    for _ in 0..runs {
        let mut engine = Engine::new(plan.clone());
        let names: Vec<String> = (0..lots).map(|i| format!("m{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            let referrer = (i > 0).then(|| names[(i - 1) / 3].as_str());
            let join = EventKind::Join { member: name, referrer, phone: None, device: None, ip: None };
            engine.apply(&Event { at, kind: join }).map_err(|e| e.to_string())?;
        }
        for (i, name) in names.iter().enumerate() {
            let id = format!("o{i}");
            // 3000.00 to 12000.00: both tiers, different daily releases.
            let amount = Money::from_fen(300_000 + (i as i64 * 7919) % 900_000);
            let order = Order {
                id: &id,
                member: name,
                amount,
                profit: None,
                store: None,
                partner: None,
                credit: Money::ZERO,
            };
            engine.apply(&Event { at, kind: EventKind::Order(order) }).map_err(|e| e.to_string())?;
        }
        let started = Instant::now();
        engine.apply(&Event { at: close, kind: EventKind::CloseDay }).map_err(|e| e.to_string())?;
        best = best.min(started.elapsed());
        postings = engine.applied().postings.len();
    }
    println!("| active lots | postings | best close_day |");
    println!("|---:|---:|---:|");
    println!("| {lots} | {postings} | {:.3} s |", best.as_secs_f64());
    Ok(())
}
