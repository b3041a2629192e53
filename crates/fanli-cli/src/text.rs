//! The end state and a member's view, for people.

use std::io::{self, Write};

use fanli_engine::{Account, Engine, MechanismDetail, MemberDetail, MemberId, Money};

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
        let detail = match m.detail {
            MechanismDetail::Appreciation { points, price, .. } => {
                format!("{points} points at {} a point", price.display())
            }
            MechanismDetail::ReferRefund { participants, referrals } => {
                format!("{participants} participants, {referrals} referrals")
            }
            MechanismDetail::Queue { queued, waiting, oldest_since } => {
                let since = oldest_since.map_or(String::new(), |t| format!(", the oldest since {t}"));
                format!("{waiting} entries waiting for {queued}{since}")
            }
            MechanismDetail::Distribution { returned } => format!("{returned} returned to the platform"),
            MechanismDetail::GreenPoints { points, lots, released } => {
                format!("{points} points unreleased in {lots} lots, {released} released")
            }
            MechanismDetail::AdTasks { points, views } => format!("{points} task points held, {views} views"),
            MechanismDetail::Coalition { points, partners } => {
                format!("{points} points held, {partners} partners (settlement report in --json)")
            }
            MechanismDetail::Loyalty { points, totals } => format!(
                "{points} points held; {} issued, {} redeemed, {} cashed out, {} expired",
                totals.issued, totals.redeemed, totals.cashed, totals.expired
            ),
            MechanismDetail::Cycle { holders, honor_fund } => {
                format!("{holders} members with quota left; {honor_fund} set aside for honor members")
            }
        };
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
    writeln!(out)?;
    for m in &view.mechanisms {
        let id = engine.mechanism_name(m.mechanism);
        let line = match m.detail {
            MemberDetail::Appreciation { points, value, basis, exit_price } => {
                let price = engine.price(m.mechanism).expect("an appreciation mechanism has a price");
                let mut line = format!("{points} points worth {value} at {} a point", price.display());
                if !basis.is_zero() {
                    line += &format!("; spent {basis} since the last exit");
                }
                if let Some(exit) = exit_price {
                    line += &format!("; sold out (出局) when the price reaches {}", exit.display());
                }
                line
            }
            MemberDetail::ReferRefund(p) => match p.base {
                None => {
                    "not a participant yet: an order of at least the plan's qualify_min makes one".to_owned()
                }
                Some(base) => {
                    let next = match p.next_reward {
                        Some(reward) => format!("the next referral pays {reward}"),
                        None => "the steps are complete".to_owned(),
                    };
                    format!(
                        "participant on {base}; {} referrals ({} of {} this round); {next}",
                        p.referrals, p.in_round, p.steps
                    )
                }
            },
            MemberDetail::Queue(place) if place.entries == 0 => "no entry waiting".to_owned(),
            MemberDetail::Queue(place) => format!(
                "{} entr{} waiting for {}; the oldest is number {} in line, with {} queued ahead of it",
                place.entries,
                if place.entries == 1 { "y" } else { "ies" },
                place.waiting,
                place.position,
                place.ahead
            ),
            MemberDetail::Distribution => "commissions".to_owned(),
            MemberDetail::GreenPoints { points, lots } => format!(
                "{points} points unreleased in {} lot{}, releasing {} a day",
                lots.lots,
                if lots.lots == 1 { "" } else { "s" },
                lots.daily
            ),
            MemberDetail::Coalition { points } => format!("{points} coalition points"),
            MemberDetail::Loyalty { points, standing } => {
                let mut line = format!("{points} points; {} spent in the last 365 days", standing.year_spend);
                if let Some((expiring, at)) = standing.next_expiry {
                    line += &format!("; {expiring} of them expire at {at}");
                }
                if let Some((soon, days)) = standing.expiring_soon.filter(|(p, _)| !p.is_zero()) {
                    line += &format!(" (reminder: {soon} expire within {days} days)");
                }
                line
            }
            MemberDetail::AdTasks { points, next_reward } => {
                format!("{points} task points; the next ad view releases {next_reward}")
            }
            MemberDetail::Cycle(c) => {
                let honor = if c.honor > 0 { format!(", honor V{}", c.honor) } else { String::new() };
                format!("quota left {}, {} shares{honor}", c.quota, c.shares)
            }
        };
        writeln!(out, "  {id}: {line}; received {}, owed {}", m.received, m.owed)?;
    }
    Ok(())
}
