//! A simulation's files: the stream, the time series, each member's outcome, a summary with the
//! verdict, and one self-contained HTML page with inline SVG charts.
//!
//! **The page's language.** The report is Chinese first, as the server's console is: it says
//! everything in one language, Simplified Chinese unless English is asked for ([`Lang`]).
//! `report.html`, which `fanli simulate` writes, is in Chinese; the console puts
//! [`report_fragment_in`] in its page in the page's language (its 中文/English switch). The
//! summary (`summary.json`) keeps both languages of its verdict and risk sentence, and the CSV
//! and JSON files have no words to translate: they are the same whatever the page's language.
//! The report's few dozen words are written here in both languages beside each other (the
//! simulator has no message catalogue; the server's pages have theirs, in Fluent).

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use fanli_engine::compliance::Finding;
use fanli_engine::{Engine, MemberView, Money};
use fanli_format::export::Csv;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Value, json};

use crate::chart::{self, Chart, Unit};
use crate::{Simulation, Tracked};

/// The report's language: Chinese by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// Simplified Chinese.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Of the two texts, this language's.
    fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// `zh` or `en`: the key of a summary's text in this language.
    fn key(self) -> &'static str {
        self.pick("zh", "en")
    }
}

/// Days per join cohort.
const COHORT_DAYS: u32 = 30;

/// One member's outcome at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Their id.
    pub member: String,
    /// The day they joined.
    pub joined: u32,
    /// Their settled spend.
    pub spent: Money,
    /// What every mechanism paid them.
    pub received: Money,
    /// What is owed to them and unpaid.
    pub owed: Money,
    /// What else is promised to them that only later members' money can pay (queued,
    /// unreleased, quota left, referral refunds to come: [`crate::risk::waiting`]).
    pub waiting: Money,
}

impl Outcome {
    /// Received ÷ spent in 1/10000 (0 without spend).
    pub fn ratio(&self) -> i64 {
        if self.spent.is_zero() {
            0
        } else {
            (self.received.fen() as i128 * 10_000 / self.spent.fen() as i128) as i64
        }
    }

    /// Paid back at least the lesser of their spend and what the plan promised them (what they
    /// received, owed and waiting): the risk grade's "made whole" ([`crate::risk`]).
    pub fn made_whole(&self) -> bool {
        self.received >= self.spent || (self.owed + self.waiting).is_zero()
    }
}

/// Every member's outcome, in join order.
pub fn outcomes(sim: &Simulation) -> Vec<Outcome> {
    sim.engine.member_views().map(|v| outcome(sim, &v)).collect()
}

/// A member's outcome, from their view.
fn outcome(sim: &Simulation, v: &MemberView<'_>) -> Outcome {
    Outcome {
        member: v.name.to_owned(),
        joined: sim.joined[v.id.index()],
        spent: v.spent,
        received: v.mechanisms.iter().map(|m| m.received).sum(),
        owed: v.mechanisms.iter().map(|m| m.owed).sum(),
        waiting: v.mechanisms.iter().map(|m| crate::risk::waiting(&sim.engine, m)).sum(),
    }
}

/// The summary: totals, cohorts and the verdict, as `summary.json` holds it.
pub fn summary(sim: &Simulation, outcomes: &[Outcome], findings: &[Finding]) -> Value {
    let spenders: Vec<&Outcome> = outcomes.iter().filter(|o| !o.spent.is_zero()).collect();
    let owed: Money = outcomes.iter().map(|o| o.owed).sum();
    let owed_members = outcomes.iter().filter(|o| !o.owed.is_zero()).count();
    let whole = spenders.iter().filter(|o| o.received >= o.spent).count();
    let revenue: Money = sim.days.iter().map(|d| d.revenue).sum();
    let paid: Money = outcomes.iter().map(|o| o.received).sum();
    let last = sim.days.last();
    let waiting: Money = last.map_or(Money::ZERO, |d| d.mechanisms.iter().map(|m| m.waiting).sum());
    let cohorts = cohorts(outcomes);
    let unpaid = |c: &Cohort| c.owed + c.waiting;
    let heaviest = cohorts.iter().max_by_key(|c| (unpaid(c), std::cmp::Reverse(c.first_day)));
    let stop = sim.arrivals_stop;
    let risk = crate::risk::Risk::of(&sim.engine, outcomes);
    let promised =
        Promised { owed, owed_members, waiting, unpaid: risk.unpaid, unpaid_members: risk.unpaid_members };
    let (zh, en) = verdict(&promised, stop, heaviest.filter(|c| !unpaid(c).is_zero()));
    json!({
        "days": sim.days.len(),
        "members": outcomes.len(),
        "orders": sim.days.iter().map(|d| d.orders).sum::<u64>(),
        "revenue": revenue.to_string(),
        "paid": paid.to_string(),
        "owed": owed.to_string(),
        "members_owed": owed_members,
        "still_waiting": waiting.to_string(),
        "members_with_spend": spenders.len(),
        "made_whole": whole,
        "made_whole_share": share(whole, spenders.len()),
        "received_over_spent": percentiles(&spenders),
        "arrivals_stop_day": stop,
        "cohorts": cohorts.iter().map(|c| json!({
            "days": if c.first_day == 0 { "before".to_owned() } else { format!("{}-{}", c.first_day, c.first_day + COHORT_DAYS - 1) },
            "members": c.members, "spent": c.spent.to_string(), "received": c.received.to_string(),
            "owed": c.owed.to_string(), "made_whole": c.whole, "made_whole_share": share(c.whole, c.spenders),
            "received_over_spent": percentiles(&c.outcomes.iter().collect::<Vec<_>>()),
        })).collect::<Vec<_>>(),
        "verdict": {"zh": zh, "en": en},
        "risk": risk.json(),
        "findings": findings.iter().map(|f| json!({"level": f.level.name(), "rule": f.rule, "key": f.key, "en": f.en, "zh": f.zh})).collect::<Vec<_>>(),
        "rejected_lines": sim.rejected.len(),
    })
}

/// A share as a string with 4 decimals ("0.2500").
fn share(part: usize, whole: usize) -> String {
    let units = if whole == 0 { 0 } else { part as u128 * 10_000 / whole as u128 };
    format!("{}.{:04}", units / 10_000, units % 10_000)
}

/// The 10th, 25th, 50th, 75th and 90th percentiles of received ÷ spent.
fn percentiles(spenders: &[&Outcome]) -> Value {
    let mut ratios: Vec<i64> = spenders.iter().map(|o| o.ratio()).collect();
    ratios.sort_unstable();
    let at = |p: usize| {
        if ratios.is_empty() {
            return "0.0000".to_owned();
        }
        let r = ratios[(ratios.len() - 1) * p / 100];
        format!("{}.{:04}", r / 10_000, r % 10_000)
    };
    json!({"p10": at(10), "p25": at(25), "p50": at(50), "p75": at(75), "p90": at(90)})
}

/// Members who joined within the same 30 days.
struct Cohort {
    first_day: u32,
    /// Its members with spend.
    outcomes: Vec<Outcome>,
    members: usize,
    spenders: usize,
    whole: usize,
    spent: Money,
    received: Money,
    owed: Money,
    /// What waits on later members' money for its members.
    waiting: Money,
}

fn cohorts(outcomes: &[Outcome]) -> Vec<Cohort> {
    let mut cohorts: Vec<Cohort> = Vec::new();
    for o in outcomes {
        // Members from a replayed log (joined "day 0") are a cohort of their own.
        let first_day = if o.joined == 0 { 0 } else { (o.joined - 1) / COHORT_DAYS * COHORT_DAYS + 1 };
        if cohorts.last().is_none_or(|c| c.first_day != first_day) {
            cohorts.push(Cohort {
                first_day,
                outcomes: Vec::new(),
                members: 0,
                spenders: 0,
                whole: 0,
                spent: Money::ZERO,
                received: Money::ZERO,
                owed: Money::ZERO,
                waiting: Money::ZERO,
            });
        }
        let c = cohorts.last_mut().expect("pushed");
        c.members += 1;
        c.spent += o.spent;
        c.received += o.received;
        c.owed += o.owed;
        c.waiting += o.waiting;
        if !o.spent.is_zero() {
            c.outcomes.push(o.clone());
            c.spenders += 1;
            c.whole += usize::from(o.received >= o.spent);
        }
    }
    cohorts
}

/// What the plan still has to pay at the end of a run.
struct Promised {
    /// Owed by the pools, and to how many members.
    owed: Money,
    owed_members: usize,
    /// What the mechanisms' views say waits (queued, unreleased): `still_waiting`.
    waiting: Money,
    /// Owed plus what waits on later members' money, member by member ([`Outcome::waiting`]),
    /// and to how many members.
    unpaid: Money,
    unpaid_members: usize,
}

fn verdict(p: &Promised, stop: Option<u32>, heaviest: Option<&Cohort>) -> (String, String) {
    let when_zh =
        stop.map_or("模拟结束时".to_owned(), |d| format!("第 {d} 天起不再有新会员；模拟结束时"));
    let when_en = stop.map_or("At the end of the run".to_owned(), |d| {
        format!("Arrivals stop on day {d}; at the end of the run")
    });
    if p.unpaid.is_zero() && p.waiting.is_zero() {
        return (
            format!("{when_zh}，所有承诺都已兑付：没有人被拖欠。"),
            format!("{when_en}, every promise has been paid: nobody is left owed."),
        );
    }
    let waits = p.unpaid - p.owed;
    let (mut zh, mut en) = if waits.is_zero() {
        // Only formal obligations: said as before.
        let mut zh = format!("{when_zh}，仍拖欠 {} 名会员共 {} 元", p.owed_members, p.owed);
        let mut en = format!("{when_en}, {} is still owed to {} members", p.owed, p.owed_members);
        if !p.waiting.is_zero() {
            zh += &format!("，另有 {} 元承诺尚在排队或未释放", p.waiting);
            en += &format!(", and {} more is promised and still waiting (queued or unreleased)", p.waiting);
        }
        (zh, en)
    } else {
        // What waits on later members counts as much as what the pools owe: nobody reads
        // "0 members owed" while money waits (issue 18).
        let (n, unpaid) = (p.unpaid_members, p.unpaid);
        let what_zh = "排队、未释放的积分、剩余额度、推荐返还或增值至出局";
        let what_en = "queued, unreleased, quota left, referral refunds or appreciation up to its exit";
        if p.owed.is_zero() {
            (
                format!(
                    "{when_zh}，仍有 {n} 名会员共 {unpaid} 元的承诺未兑付，全部要靠以后新会员的钱才能兑付（{what_zh}）"
                ),
                format!(
                    "{when_en}, {unpaid} promised to {n} members is unpaid, all of it waiting on future members' money ({what_en})"
                ),
            )
        } else {
            (
                format!(
                    "{when_zh}，仍有 {n} 名会员共 {unpaid} 元的承诺未兑付：其中资金池拖欠 {} 元，另有 {waits} 元要靠以后新会员的钱才能兑付（{what_zh}）",
                    p.owed
                ),
                format!(
                    "{when_en}, {unpaid} promised to {n} members is unpaid: {} owed by the pools, and {waits} more waiting on future members' money ({what_en})",
                    p.owed
                ),
            )
        }
    };
    if let Some(c) = heaviest {
        let (zh_what, en_what) = if waits.is_zero() {
            (format!("被拖欠 {} 元", c.owed), format!("{} owed", c.owed))
        } else {
            (format!("未兑付 {} 元", c.owed + c.waiting), format!("{} unpaid", c.owed + c.waiting))
        };
        if c.first_day == 0 {
            zh += &format!("；损失主要落在模拟开始前已有的会员身上（{zh_what}）");
            en += &format!("; the members there before the simulation carry most of it ({en_what})");
        } else {
            let days = format!("{}–{}", c.first_day, c.first_day + COHORT_DAYS - 1);
            zh += &format!("；损失主要落在第 {days} 天加入的会员身上（{zh_what}）");
            en += &format!("; the members who joined on days {days} carry most of it ({en_what})");
        }
    }
    (zh + "。", en + ".")
}

/// Writes `state.json` (what `fanli run PLAN events.jsonl --json` prints), `timeseries.csv`,
/// `outcomes.csv`, `summary.json` and `report.html` (the stream, `events.jsonl`, was written
/// as the simulation ran).
pub fn write_all(dir: &Path, sim: &Simulation, findings: &[Finding]) -> io::Result<Value> {
    write_all_with_sweep(dir, sim, findings, None)
}

/// The report of a finished simulation as a fragment to put in a page (what `report.html`
/// holds in its body but the title), in Chinese, and its summary: for showing a run without
/// writing files.
pub fn report_fragment(sim: &Simulation, findings: &[Finding]) -> (Markup, Value) {
    report_fragment_in(sim, findings, Lang::Zh)
}

/// [`report_fragment`] in `lang` (the server's console runs one from a page and puts this under
/// its own summary, in the page's language).
pub fn report_fragment_in(sim: &Simulation, findings: &[Finding], lang: Lang) -> (Markup, Value) {
    let outcomes = outcomes(sim);
    let summary = summary(sim, &outcomes, findings);
    (report_body(sim, &summary, lang), summary)
}

/// A sweep: the key, and each value with the summary of the run that used it.
pub struct Sweep {
    /// `ID.KEY` or a top-level key.
    pub key: String,
    /// (value, summary) for each value.
    pub runs: Vec<(String, Value)>,
}

/// [`write_all`], with a sweep's comparison (`sweep.csv`, and a table and a chart in the page).
pub fn write_all_with_sweep(
    dir: &Path,
    sim: &Simulation,
    findings: &[Finding],
    sweep: Option<&Sweep>,
) -> io::Result<Value> {
    std::fs::create_dir_all(dir)?;
    // Written on a second thread while the other files are made ([`crate::background`]).
    let mut state = crate::background::Background::new(std::fs::File::create(dir.join("state.json"))?)?;
    // The outcomes are taken from the members' views as the state writes them: one walk of a
    // million members, not two.
    let mut outcomes = Vec::with_capacity(sim.engine.member_count());
    fanli_format::state_json_each(&sim.engine, &sim.rejected, None, &mut state, |v| {
        outcomes.push(outcome(sim, v));
    })?;
    std::io::Write::write_all(&mut state, b"\n")?;
    std::fs::write(dir.join("timeseries.csv"), timeseries_csv(sim))?;
    std::fs::write(dir.join("outcomes.csv"), outcomes_csv(&outcomes))?;
    let summary = summary(sim, &outcomes, findings);
    std::fs::write(dir.join("summary.json"), format!("{summary:#}\n"))?;
    if let Some(sweep) = sweep {
        let mut csv = Csv::new([
            "value",
            "paid",
            "owed",
            "members_owed",
            "still_waiting",
            "made_whole_share",
            "median_received_over_spent",
        ]);
        for (value, s) in &sweep.runs {
            csv.row([
                value.as_str(),
                s["paid"].as_str().unwrap_or(""),
                s["owed"].as_str().unwrap_or(""),
                &s["members_owed"].to_string(),
                s["still_waiting"].as_str().unwrap_or(""),
                s["made_whole_share"].as_str().unwrap_or(""),
                s["received_over_spent"]["p50"].as_str().unwrap_or(""),
            ]);
        }
        std::fs::write(dir.join("sweep.csv"), csv.finish())?;
    }
    std::fs::write(dir.join("report.html"), html(sim, &summary, sweep))?;
    state.finish()?;
    Ok(summary)
}

/// The files [`write_all_with_sweep`] writes into its folder (with `events.jsonl`, which the
/// simulation itself wrote), in the order `fanli simulate` names them.
pub fn files(sweep: bool) -> Vec<&'static str> {
    let mut files =
        vec!["events.jsonl", "state.json", "timeseries.csv", "outcomes.csv", "summary.json", "report.html"];
    if sweep {
        files.push("sweep.csv");
    }
    files
}

/// `outcomes.csv`: one row per member, in join order: `member, joined_day, spent, received,
/// received_over_spent, owed` (UTF-8 with a BOM, quoted where needed: [`Csv`]).
pub fn outcomes_csv(outcomes: &[Outcome]) -> Vec<u8> {
    let mut csv = Csv::new(["member", "joined_day", "spent", "received", "received_over_spent", "owed"]);
    // A row's fields are written into one kept buffer, not a `String` each: a row per member.
    let mut text = String::new();
    for o in outcomes {
        let r = o.ratio();
        text.clear();
        let mut ends = [0; 5];
        let fields: [&dyn std::fmt::Display; 5] =
            [&o.joined, &o.spent, &o.received, &format_args!("{}.{:04}", r / 10_000, r % 10_000), &o.owed];
        for (end, field) in ends.iter_mut().zip(fields) {
            write!(text, "{field}").expect("a String takes it");
            *end = text.len();
        }
        let [joined, spent, received, ratio, owed] = ends;
        csv.row([
            o.member.as_str(),
            &text[..joined],
            &text[joined..spent],
            &text[spent..received],
            &text[received..ratio],
            &text[ratio..owed],
        ]);
    }
    csv.finish()
}

/// `timeseries.csv`: a row per day, with each mechanism's pool, obligations and paid and what
/// its kind tracks (UTF-8 with a BOM: [`Csv`]).
pub fn timeseries_csv(sim: &Simulation) -> Vec<u8> {
    let names = mechanism_names(&sim.engine);
    let tracked: Vec<Tracked> = sim.engine.plan().mechanisms.iter().map(|m| Tracked::of(&m.kind)).collect();
    let mut header: Vec<String> =
        ["day", "date", "members", "joined", "orders", "revenue"].map(str::to_owned).to_vec();
    for (name, tracked) in names.iter().zip(&tracked) {
        header.extend([format!("{name}_pool"), format!("{name}_obligations"), format!("{name}_paid")]);
        match tracked {
            Tracked::PriceAndExits => header.extend([format!("{name}_price"), format!("{name}_exits")]),
            Tracked::WaitingAndOldest => {
                header.extend([format!("{name}_waiting"), format!("{name}_oldest_wait_days")]);
            }
            Tracked::Waiting => header.push(format!("{name}_waiting")),
            Tracked::Pool => {}
        }
    }
    let mut csv = Csv::new(&header);
    for d in &sim.days {
        let mut row = vec![
            d.day.to_string(),
            d.date.to_string(),
            d.members.to_string(),
            d.joined.to_string(),
            d.orders.to_string(),
            d.revenue.to_string(),
        ];
        for (m, tracked) in d.mechanisms.iter().zip(&tracked) {
            row.extend([m.pool.to_string(), m.obligations.to_string(), m.paid.to_string()]);
            match tracked {
                Tracked::PriceAndExits => {
                    row.extend([
                        format!("{}.{:04}", m.price / 10_000, m.price % 10_000),
                        m.exits.to_string(),
                    ]);
                }
                Tracked::WaitingAndOldest => row.extend([m.waiting.to_string(), m.exits.to_string()]),
                Tracked::Waiting => row.push(m.waiting.to_string()),
                Tracked::Pool => {}
            }
        }
        csv.row(&row);
    }
    csv.finish()
}

fn mechanism_names(engine: &Engine) -> Vec<String> {
    engine.mechanism_ids().map(|m| engine.mechanism_name(m).to_owned()).collect()
}

/// The page's style (one document, nothing from elsewhere).
const STYLE: &str = "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}\
svg{width:100%;height:auto}.verdict{font-size:1.2rem;padding:1rem;background:#fff4e5;border-left:4px solid #e67e22}";

/// `report.html`: one self-contained page, the plan's name over [`report_body`] (and the
/// sweep's comparison, with one).
fn html(sim: &Simulation, summary: &Value, sweep: Option<&Sweep>) -> String {
    let plan = &sim.engine.plan().name;
    let page = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { "fanli 模拟：" (plan) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (plan) }
                (report_body(sim, summary, Lang::Zh))
                @if let Some(sweep) = sweep { (sweep_html(sweep, Lang::Zh)) }
            }
        }
    };
    page.into_string() + "\n"
}

/// The report in `lang`: the verdict, the risk grade, the compliance findings, the outcomes and
/// the charts (inline SVG).
fn report_body(sim: &Simulation, summary: &Value, lang: Lang) -> Markup {
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let names = mechanism_names(&sim.engine);
    let series = |f: &dyn Fn(&crate::MechanismDay) -> f64| -> Vec<(String, Vec<f64>)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), sim.days.iter().map(|d| f(&d.mechanisms[i])).collect()))
            .collect()
    };
    let days: Vec<i64> = sim.days.iter().map(|d| chart::day_of(&d.date).unwrap_or_default()).collect();
    // Where arrivals stop: the first day without new members (none after it either).
    let stop_label = sim.arrivals_stop.and_then(|d| sim.days.get(d as usize - 1)).map(|d| match lang {
        Lang::Zh => format!("{} 起无新会员", d.date),
        Lang::En => format!("no new members from {}", d.date),
    });
    let mark = sim.arrivals_stop.zip(stop_label.as_deref()).map(|(d, label)| (days[d as usize - 1], label));
    let zh = lang == Lang::Zh;
    let draw = |title: &str, series: &[(String, Vec<f64>)], unit: Unit| {
        PreEscaped(chart::line_chart(&Chart { title, days: &days, series, unit, mark, zh }))
    };
    let yuan = |m: Money| m.fen() as f64 / 100.0;
    let prices: Vec<(String, Vec<f64>)> = series(&|m| m.price as f64 / 10_000.0)
        .into_iter()
        .filter(|(_, v)| v.iter().any(|&p| p > 0.0))
        .collect();
    let members = [
        (t("会员", "members").to_owned(), sim.days.iter().map(|d| d.members as f64).collect()),
        (t("订单", "orders").to_owned(), sim.days.iter().map(|d| d.orders as f64).collect()),
    ];
    let findings = summary["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
    let ratios = &summary["received_over_spent"];
    let risk = &summary["risk"];
    // A grade's name: 低/中/高/极高 in Chinese, its code in English.
    let grade = |key: &str| {
        let code = text(&risk[key]);
        match (lang, crate::risk::Grade::from_code(&code)) {
            (Lang::Zh, Some(grade)) => grade.zh().to_owned(),
            _ => code,
        }
    };
    let level = |level: &str| match (lang, level) {
        (Lang::Zh, "error") => "错误".to_owned(),
        (Lang::Zh, "warning") => "警告".to_owned(),
        _ => level.to_owned(),
    };
    let (all_members, spenders, made_whole, share) = (
        &summary["members"],
        &summary["members_with_spend"],
        &summary["made_whole"],
        text(&summary["made_whole_share"]),
    );
    let (p10, p50, p90) = (text(&ratios["p10"]), text(&ratios["p50"]), text(&ratios["p90"]));
    let (paid, owed, members_owed) =
        (text(&summary["paid"]), text(&summary["owed"]), &summary["members_owed"]);
    let (unpaid, unpaid_members) = (text(&risk["unpaid"]), &risk["unpaid_members"]);
    let outcome = match lang {
        Lang::Zh => format!(
            "共 {all_members} 名会员，其中 {spenders} 名有消费；回本 {made_whole} 名（{share}）；所得 ÷ 消费：p10 {p10}，中位数 {p50}，p90 {p90}；\
             已付 {paid} 元，拖欠 {members_owed} 名会员共 {owed} 元；未兑付的承诺共 {unpaid} 元，涉及 {unpaid_members} 名会员（拖欠的，或要靠以后新会员的钱）。"
        ),
        Lang::En => format!(
            "{all_members} members, {spenders} with spend; made whole: {made_whole} ({share}); received ÷ spent p10 {p10}, median {p50}, p90 {p90}; \
             paid {paid}, owed {owed} to {members_owed} members; unpaid in all (owed, or waiting on future members) {unpaid} to {unpaid_members} members."
        ),
    };
    html! {
        section #verdict .verdict {
            p { (text(&summary["verdict"][lang.key()])) }
        }
        section #risk data-grade=(text(&risk["grade"])) {
            h2 { (t("风险等级：", "Risk grade: ")) (grade("grade")) }
            p { (text(&risk["sentence"][lang.key()])) }
            p {
                (t("回本 ", "made whole ")) (text(&risk["made_whole_share"])) " (" (grade("made_whole_grade"))
                "); " (t("未兑付 ", "unpaid ")) (text(&risk["unpaid_share"])) " (" (grade("unpaid_grade"))
                "); " (t("资金池沉淀 ", "pool build-up ")) (text(&risk["pool_excess_share"])) " ("
                (grade("pool_excess_grade")) ") " small { "(docs/risk.md)" }
            }
        }
        h2 { (t("合规", "Compliance")) }
        @if findings.is_empty() {
            p { (t("没有问题。", "No finding.")) }
        } @else {
            ul {
                @for f in findings {
                    li {
                        b { (level(&text(&f["level"]))) } " [" (text(&f["rule"])) "] " code { (text(&f["key"])) } ": "
                        (text(&f[lang.key()]))
                    }
                }
            }
        }
        h2 { (t("结果", "Outcomes")) }
        p { (outcome) }
        (bars(t("各批次回本比例（按加入时间，每 30 天一批）", "Share made whole by join cohort"), &summary["cohorts"]))
        h2 { (t("时间序列", "Over time")) }
        (draw(t("会员与每日订单", "Members and daily orders"), &members, Unit::Count))
        (draw(t("资金池", "Pools"), &series(&|m| yuan(m.pool)), Unit::Yuan))
        @if !prices.is_empty() { (draw(t("增值价格", "Appreciation price"), &prices, Unit::YuanPerPoint)) }
        (draw(t("拖欠", "Owed and unpaid"), &series(&|m| yuan(m.obligations)), Unit::Yuan))
        (draw(t("排队/未释放", "Queued or unreleased"), &series(&|m| yuan(m.waiting)), Unit::Yuan))
        (draw(t("已兑付（累计）", "Paid out, cumulative"), &series(&|m| yuan(m.paid)), Unit::Yuan))
    }
}

/// The sweep's table and its chart of the share made whole per value, in `lang`.
fn sweep_html(sweep: &Sweep, lang: Lang) -> Markup {
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let bars_data: Vec<Value> = sweep
        .runs
        .iter()
        .map(|(value, s)| json!({"days": format!("{}={value}", sweep.key), "made_whole_share": s["made_whole_share"]}))
        .collect();
    let title = match lang {
        Lang::Zh => format!("{} 各取值的回本比例", sweep.key),
        Lang::En => format!("Share made whole by {}", sweep.key),
    };
    html! {
        h2 #sweep { (t("参数对比：", "Sweep of ")) (sweep.key) }
        table border="1" cellpadding="4" {
            tr {
                th { (sweep.key) } th { (t("已付", "paid")) } th { (t("拖欠", "owed")) }
                th { (t("被拖欠的会员", "members owed")) } th { (t("仍在等待", "still waiting")) }
                th { (t("回本比例", "made whole")) }
            }
            @for (value, s) in &sweep.runs {
                tr {
                    td { (value) } td { (text(&s["paid"])) } td { (text(&s["owed"])) } td { (s["members_owed"]) }
                    td { (text(&s["still_waiting"])) } td { (text(&s["made_whole_share"])) }
                }
            }
        }
        (bars(&title, &Value::from(bars_data)))
    }
}

/// A bar chart of each cohort's (or sweep value's) share made whole.
fn bars(title: &str, cohorts: &Value) -> Markup {
    let rows = cohorts.as_array().map(Vec::as_slice).unwrap_or_default();
    let bars: Vec<(String, f64)> = rows
        .iter()
        .map(|c| {
            let share = c["made_whole_share"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0.0);
            (c["days"].as_str().unwrap_or_default().to_owned(), share)
        })
        .collect();
    PreEscaped(chart::bar_chart(title, &bars))
}
