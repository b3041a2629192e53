//! Plan versions on the pages (issue 15): the console's list of versions (who, when recorded,
//! when effective, where each stands), its effective-at field and the comparison of a new plan
//! with the tenant's state; the member page's notice of a coming change.

use maud::{Markup, html};

use super::i18n::tr_html;
use super::{Lang, local_time, tr, when_text};
use crate::App;
use crate::plans::Standing;
use crate::store::PlanRow;
use fanli_engine::{Engine, Plan, Timestamp, UtcOffset};
use fanli_sim::against::{Comparison, NoComparison, Standing as Figures};

/// What the console's plan page shows of the tenant's plan.
pub(crate) struct PlanContext {
    /// The plan in force, as put or sent.
    pub(crate) text: Option<String>,
    /// Its version (0: none).
    pub(crate) version: i64,
    /// Every version, oldest first, with where it stands.
    pub(crate) versions: Vec<(PlanRow, Standing)>,
    /// The plan's timezone (China's without a plan).
    pub(crate) offset: UtcOffset,
    /// Whether the log has begun: a new plan is then an amendment.
    pub(crate) live: bool,
}

impl PlanContext {
    /// The tenant's, read under the lock.
    pub(crate) fn of(app: &mut App, tenant: &str) -> PlanContext {
        let versions = crate::plans::versions(app, tenant);
        let t = &app.tenants[tenant];
        let in_force = versions.iter().find(|(_, s)| *s == Standing::InForce).map(|(r, _)| r);
        PlanContext {
            text: in_force.map(|r| r.text.clone()).or_else(|| t.plan.clone()),
            version: in_force.map_or(0, |r| r.version),
            offset: t.engine.as_ref().map_or(UtcOffset::CHINA, |e| e.plan().timezone),
            live: !t.chain.is_empty(),
            versions,
        }
    }
}

/// The name of where a version stands, for people.
fn standing_name(standing: Standing, lang: Lang) -> String {
    let id = match standing {
        Standing::Base => "base",
        Standing::InForce => "in-force",
        Standing::Superseded => "superseded",
        Standing::Waiting => "waiting",
        Standing::Proposed => "proposed",
    };
    lang.name("standing", id)
}

/// An RFC 3339 time as the console shows times ([`super::when`]; as stored when it does not
/// parse).
fn shown(at: Option<&str>, offset: UtcOffset) -> String {
    at.map_or_else(|| "–".to_owned(), |at| when_text(at, offset))
}

/// The versions table, the amendments waiting first in a notice of their own.
pub(crate) fn versions_section(ctx: &PlanContext, lang: Lang) -> Markup {
    let waiting: Vec<&PlanRow> =
        ctx.versions.iter().filter(|(_, s)| *s == Standing::Waiting).map(|(r, _)| r).collect();
    html! {
        section #versions {
            h2 { (tr!(lang, "versions-title")) }
            @if !waiting.is_empty() {
                div #waiting.warn {
                    @for r in &waiting {
                        p { (tr!(lang, "versions-waiting", version = r.version, at = shown(r.effective_at.as_deref(), ctx.offset))) }
                    }
                }
            }
            @if ctx.versions.is_empty() { p.note { (tr!(lang, "versions-none")) } }
            @else {
                table {
                    tr { th { (tr!(lang, "audit-version")) } th { (tr!(lang, "versions-state")) } th { (tr!(lang, "audit-key")) } th { (tr!(lang, "versions-recorded")) }
                         th { (tr!(lang, "versions-effective")) } th { (tr!(lang, "versions-line")) } }
                    @for (r, s) in &ctx.versions {
                        tr class=(if *s == Standing::Waiting { "waiting warn" } else { "" }) {
                            td { "v" (r.version) }
                            td.state { (standing_name(*s, lang)) @if let Some(p) = &r.proposal { " · " (p) } }
                            td { code { (r.key_id.as_deref().unwrap_or("–")) } }
                            td { (shown(r.recorded_at.as_deref(), ctx.offset)) }
                            td { (shown(r.effective_at.as_deref(), ctx.offset)) }
                            td { (r.line.map_or_else(|| "–".to_owned(), |l| l.to_string())) }
                        }
                    }
                }
            }
            @if ctx.live { p.note { (tr!(lang, "versions-live")) } }
        }
    }
}

/// The form's effective-at field (the plan's local time), shown once the log has begun.
pub(crate) fn effective_at_field(ctx: &PlanContext, lang: Lang) -> Markup {
    html! {
        @if ctx.live {
            p {
                label { (tr!(lang, "versions-effective-at", offset = ctx.offset.to_string())) " "
                    input #effective-at type="datetime-local" name="effective_at"; }
                " " span.note { (tr!(lang, "versions-empty-now")) }
            }
        }
    }
}

/// The form's effective-at (`YYYY-MM-DDTHH:MM`, the plan's local time) as RFC 3339; `None`
/// when empty.
pub(crate) fn effective_at(
    value: Option<&str>,
    offset: UtcOffset,
    lang: Lang,
) -> Result<Option<String>, String> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    let full = if value.len() == 16 { format!("{value}:00{offset}") } else { format!("{value}{offset}") };
    match Timestamp::parse_rfc3339(&full) {
        Some(at) => Ok(Some(at.to_string())),
        None => Err(tr!(lang, "versions-bad-time", value = value)),
    }
}

/// The comparison of a new plan with the tenant's state: the totals, then the members whose
/// figures change (the first 50).
pub(crate) fn comparison_section(
    result: &Result<Comparison, NoComparison>,
    offset: UtcOffset,
    lang: Lang,
) -> Markup {
    let row = |f: &Figures| html! { td { (f.paid) } td { (f.owed) } td { (f.waiting) } };
    let heads = html! { th { (tr!(lang, "compare-paid")) } th { (tr!(lang, "compare-owed")) } th { (tr!(lang, "compare-waiting")) } };
    html! {
        section #comparison {
            h2 { (tr!(lang, "compare-title")) }
            @match result {
                Err(no) => p.bad { (no.to_string()) },
                Ok(c) => {
                    p.note.wrap {
                        (tr!(lang, "compare-note", at = super::when(c.effective_at, offset))) " "
                        span lang="en" { (fanli_sim::against::SCENARIO) }
                    }
                    table #totals {
                        tr { th {} (heads) }
                        tr { th { (tr!(lang, "compare-old-plan")) } (row(&c.total_old)) }
                        tr { th { (tr!(lang, "compare-new-plan")) } (row(&c.total_new)) }
                    }
                    p { (tr!(lang, "compare-changed", changed = c.changed.len(), members = c.members)) }
                    @if !c.changed.is_empty() {
                        table #changed {
                            tr { th { (tr!(lang, "members-member")) } th { (tr!(lang, "nav-plan")) } (heads) }
                            @for m in c.changed.iter().take(50) {
                                tr { td rowspan="2" { (m.member) } td { (tr!(lang, "compare-old")) } (row(&m.old)) }
                                tr { td { (tr!(lang, "compare-new")) } (row(&m.new)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A coming change of the plan, as a member sees it.
pub(crate) struct Coming {
    /// When it takes effect.
    pub(crate) effective_at: Timestamp,
    /// Mechanisms it adds, retires, and whose settings it changes (their ids).
    pub(crate) added: Vec<String>,
    pub(crate) retired: Vec<String>,
    pub(crate) changed: Vec<String>,
}

/// The amendments waiting in `engine`, each compared with the plan before it: which mechanisms
/// it adds, retires or changes the settings of (a mechanism's whole settings compared), each by
/// its name for members (its `name` in that plan, else its kind's in `lang`), and the
/// withdrawal terms (提现规则) when they change.
pub(crate) fn coming(engine: &Engine, lang: Lang) -> Vec<Coming> {
    let mut before: &Plan = engine.plan();
    let mut coming = Vec::new();
    let named = |m: &fanli_engine::MechanismConfig| {
        m.name.clone().unwrap_or_else(|| lang.name("kind", m.kind.name()))
    };
    for (effective_at, plan) in engine.amendments_waiting() {
        let added = plan
            .mechanisms
            .iter()
            .filter(|m| !before.mechanisms.iter().any(|o| o.id == m.id))
            .map(named)
            .collect();
        let retired = before
            .mechanisms
            .iter()
            .filter(|o| !plan.mechanisms.iter().any(|m| m.id == o.id))
            .map(named)
            .collect();
        let mut changed: Vec<String> = plan
            .mechanisms
            .iter()
            .filter(|m| before.mechanisms.iter().any(|o| o.id == m.id && o != *m))
            .map(named)
            .collect();
        if before.withdrawal != plan.withdrawal {
            changed.push(tr!(lang, "my-coming-withdrawal"));
        }
        coming.push(Coming { effective_at, added, retired, changed });
        before = plan;
    }
    coming
}

/// The member page's notice of the plan's coming changes (`规则变更预告`): when each takes effect
/// and which mechanisms it adds, retires or changes; nothing when none waits.
pub(crate) fn coming_notice(lang: Lang, coming: &[Coming], offset: UtcOffset) -> Markup {
    let list = |ids: &[String]| ids.join(", ");
    html! {
        @if !coming.is_empty() {
            section #coming.card style="border-color:#b45309" {
                h2 { (tr!(lang, "my-coming")) }
                @for c in coming {
                    p { (tr_html!(lang, "my-coming-from", at = html! { b { (local_time(c.effective_at, offset)) } })) }
                    ul {
                        @if !c.added.is_empty() { li { (tr!(lang, "my-coming-added", list = list(&c.added))) } }
                        @if !c.retired.is_empty() {
                            li { (tr!(lang, "my-coming-retired", list = list(&c.retired)))
                                span.note { " " (tr!(lang, "my-coming-still-paid")) } }
                        }
                        @if !c.changed.is_empty() { li { (tr!(lang, "my-coming-changed", list = list(&c.changed))) } }
                    }
                    p.note { (tr!(lang, "my-coming-until")) }
                }
            }
        }
    }
}
