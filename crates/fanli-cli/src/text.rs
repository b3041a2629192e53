//! The end state and a member's view, for people.

use std::io::{self, Write};

use fanli_engine::{Account, Engine, Figures, MemberId, Money};

use fanli_format::Outcome;

/// Members listed in full before the summary points to `--member` and `--json` instead.
const MEMBERS_LISTED: usize = 20;

pub(crate) fn summary(out: &mut impl Write, engine: &Engine, outcome: &Outcome) -> io::Result<()> {
    writeln!(
        out,
        "plan {:?}: {} events applied, {} rejected; {} members, {} orders",
        engine.plan().name,
        outcome.applied,
        outcome.rejected.len(),
        engine.member_count(),
        engine.order_count()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<12} {:<13} {:>14} {:>14} {:>14}  detail",
        "mechanism", "kind", "pool", "obligations", "paid"
    )?;
    for m in engine.mechanism_views() {
        let retired = if m.retired { "retired by an amendment; " } else { "" };
        let detail = format!("{retired}{}", m.detail.text());
        writeln!(
            out,
            "{:<12} {:<13} {:>14} {:>14} {:>14}  {detail}",
            m.id,
            m.kind,
            m.pool.to_string(),
            format!("{} ({})", m.obligations, m.obligations_waiting),
            m.paid.to_string()
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{:<16} {:>14} {:>14} {:>14}  points", "member", "wallet", "credit", "spent")?;
    let listed = engine.member_count().min(MEMBERS_LISTED);
    for member in (0..listed).map(|i| engine.member_id(i)) {
        let points: Vec<String> = engine
            .mechanism_ids()
            .filter(|&m| engine.has_points(m))
            .map(|m| format!("{} {}", engine.mechanism_name(m), engine.points(m, member)))
            .collect();
        writeln!(
            out,
            "{:<16} {:>14} {:>14} {:>14}  {}",
            engine.member_name(member),
            Money::from_fen(engine.balance(Account::Wallet(member))).to_string(),
            Money::from_fen(engine.balance(Account::Credit(member))).to_string(),
            engine.spent(member).to_string(),
            points.join(", ")
        )?;
    }
    if engine.member_count() > MEMBERS_LISTED {
        writeln!(
            out,
            "… and {} more: see one with --member ID, all with --json",
            engine.member_count() - MEMBERS_LISTED
        )?;
    }
    writeln!(out)?;
    let balanced = if engine.accounts_balance() { "yes" } else { "NO (a bug: please report it)" };
    writeln!(out, "every asset's accounts sum to zero: {balanced}")
}

pub(crate) fn member(out: &mut impl Write, engine: &Engine, member: MemberId) -> io::Result<()> {
    let view = engine.member_view_of(member);
    match view.referrer {
        Some(r) => writeln!(out, "member {} (referred by {r})", view.name)?,
        None => writeln!(out, "member {}", view.name)?,
    }
    write!(out, "  wallet {}, store credit {}, spent {}", view.wallet, view.credit, view.spent)?;
    if !view.refunded.is_zero() {
        write!(out, ", refunded after settlement {}", view.refunded)?;
    }
    if let Some(team_sales) = view.team_sales {
        write!(out, ", team sales {team_sales}")?;
    }
    if let Some(withdrawing) = view.withdrawing.filter(|w| !w.is_zero()) {
        write!(out, ", {withdrawing} asked to withdraw, waiting for review")?;
    }
    writeln!(out)?;
    for m in &view.mechanisms {
        let id = engine.mechanism_name(m.mechanism);
        let line = m.detail.text();
        writeln!(out, "  {id}: {line}; received {}, owed {}", m.received, m.owed)?;
    }
    Ok(())
}
