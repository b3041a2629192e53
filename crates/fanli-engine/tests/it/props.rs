//! Properties over random plans and random streams: the books balance after every event, no
//! pool goes below zero, the appreciation price never falls while mint_ratio ≤ 1, no referral is
//! paid twice, replay is deterministic, bad lines change nothing, and an amendment reduces
//! nothing members hold or were promised.

use std::collections::BTreeSet;

use fanli_engine::{AppreciationStanding, AppreciationView, Effect, Engine, Price};
use fanli_format::{EventLine, parse_plan, run_stream};
use proptest::prelude::*;

use crate::state;

/// A mechanism's plan text, from random parameters.
fn mechanism() -> impl Strategy<Value = String> {
    prop::strategy::Union::new(kinds())
}

/// Each kind's plan text, from random parameters: one strategy for every kind fanli runs.
pub(crate) fn kinds() -> Vec<BoxedStrategy<String>> {
    let rate = |lo: u32, hi: u32| (lo..=hi).prop_map(|n| format!("0.{n:02}"));
    vec![
        (rate(1, 60), rate(10, 99), rate(0, 50), prop::option::of(1u32..4), any::<bool>()).prop_map(
            |(funding, mint, fee, exit, profit)| {
                let exit = exit.map_or(String::new(), |x| format!("exit_multiple = \"{x}.5\"\n"));
                let base = if profit { "funding_base = \"profit\"\n" } else { "" };
                format!(
                    "kind = \"appreciation\"\nfunding_rate = \"{funding}\"\n{base}mint_ratio = \"{mint}\"\n\
                     sell_fee = \"{fee}\"\n{exit}"
                )
            }
        ).boxed(),
        (rate(1, 60), 0u32..3, prop::collection::vec(0u32..=100, 1..4), any::<bool>(), any::<bool>(), 0u8..3)
            .prop_map(|(funding, qualify, steps, repeat, credit, trigger)| {
                let steps: Vec<String> = steps.iter().map(|s| format!("\"{s}%\"")).collect();
                let pay_to = if credit { "credit" } else { "wallet" };
                // A repurchase ladder of the first order's shares, or of each order's own.
                let trigger = match trigger {
                    1 => "trigger = \"repurchase\"\n",
                    2 => "trigger = \"repurchase\"\nstep_base = \"each\"\n",
                    _ => "referee_min = \"50\"\nindirect = \"5.00\"\n",
                };
                format!(
                    "kind = \"refer_refund\"\nfunding_rate = \"{funding}\"\nqualify_min = \"{}\"\n\
                     {trigger}steps = [{}]\nrepeat = {repeat}\npay_to = \"{pay_to}\"\n",
                    qualify * 300,
                    steps.join(", ")
                )
            }).boxed(),
        (rate(1, 60), prop::option::of(1u32..4), 0u32..3, rate(0, 50)).prop_map(
            |(funding, every, lock, acceleration)| {
                let release = match every {
                    Some(n) => format!("release = {{ every = {n}, ratio = \"0.7\" }}"),
                    None => "release = \"when_funded\"\ncredit_ratio = \"1.1\"".to_owned(),
                };
                format!(
                    "kind = \"queue\"\nfunding_rate = \"{funding}\"\nmin_order = \"100\"\nlock_days = {lock}\n\
                     {release}\nreferral_acceleration = \"{acceleration}\"\n"
                )
            }
        ).boxed(),
        (rate(0, 20), prop::collection::vec(rate(0, 9), 0..4), any::<bool>(), any::<bool>(), any::<bool>())
            .prop_map(|(funding, levels, ranks, regional, recruiter)| {
                let levels: Vec<String> = levels.iter().map(|l| format!("\"{l}\"")).collect();
                let mut text = format!(
                    "kind = \"distribution\"\nfunding_rate = \"{funding}\"\nlevels = [{}]\n",
                    if levels.is_empty() { "\"0.01\"".to_owned() } else { levels.join(", ") }
                );
                if ranks {
                    text += "ranks = [{ name = \"S1\", min_team_sales = \"1000\", rate = \"0.02\" }, \
                             { name = \"S2\", min_team_sales = \"3000\", rate = \"0.05\" }]\npeer_rate = \"0.01\"\n";
                }
                if regional {
                    text += "regional = { district = \"0.01\", city = \"0.02\", province = \"0.03\" }\n";
                }
                if recruiter {
                    text += "recruiter_rate = \"0.05\"\n";
                }
                text
            }).boxed(),
        (rate(1, 90), rate(1, 50), any::<bool>(), any::<bool>()).prop_map(|(funding, daily, share, team)| {
            let mut text = format!(
                "kind = \"green_points\"\nfunding_rate = \"{funding}\"\ndaily_release_rate = \"{daily}\"\n\
                 tiers = [{{ min = \"100\", multiple = \"2\" }}, {{ min = \"1000\", multiple = \"3\" }}]\n"
            );
            if share {
                text += "share = [\"0.50\", \"0.30\"]\n";
            }
            if team {
                text += "team_ranks = [{ name = \"T1\", min_team_sales = \"500\", rate = \"0.10\" }, \
                         { name = \"T2\", min_team_sales = \"3000\", rate = \"0.40\" }]\n";
            }
            text
        }).boxed(),
        (rate(0, 30), 1u32..4).prop_map(|(funding, views)| format!(
            "kind = \"ad_tasks\"\nfunding_rate = \"{funding}\"\npoints_per_yuan = \"0.5\"\nviews_per_day = {views}\n\
             rewards = [{{ from = \"0\", reward = \"2\" }}, {{ from = \"100\", reward = \"20.5\" }}]\n"
        )).boxed(),
        (rate(0, 20), 1u32..40, any::<bool>(), any::<bool>()).prop_map(|(funding, expiry, tiers, cashout)| {
            let mut text = format!(
                "kind = \"loyalty\"\nfunding_rate = \"{funding}\"\nearn = {{ per_yuan = \"0.5\", per_order = \"1\" }}\n\
                 bonus_days = [{{ weekday = \"wed\", multiplier = \"2\" }}]\nreferee_rate = \"0.25\"\n\
                 topup_bonus = {{ per = \"10.00\", points = \"1\" }}\nexpiry_days = {expiry}\nreminders = [3, 1]\n\
                 rewards = [{{ name = \"drink\", points = \"5\" }}, {{ name = \"set\", points = \"50\" }}]\n"
            );
            if tiers {
                text += "tiers = [{ name = \"S\", min_points = \"100\", multiplier = \"1.2\" }, \
                         { name = \"G\", min_points = \"1000\", multiplier = \"1.5\" }]\n";
            }
            if cashout {
                text += "cashout = { points = \"100\", amount = \"1.00\" }\n";
            }
            text
        }).boxed(),
        (rate(0, 20), rate(1, 50)).prop_map(|(funding, bonus)| format!(
            "kind = \"coalition\"\nfunding_rate = \"{funding}\"\npoint_cost = \"0.05\"\n\
             partners = [{{ id = \"p0\", earn_per_yuan = \"0.1\" }}, {{ id = \"p1\", earn_per_yuan = \"1\", bonus = \"{bonus}\" }}]\n"
        )).boxed(),
        (rate(1, 90), 0u32..4, any::<bool>()).prop_map(|(funding, quota, honor)| {
            let honor = if honor { "honor = { rate = \"0.05\", levels = [\"0.5\", \"2\"] }\n" } else { "" };
            format!(
                "kind = \"cycle\"\nfunding_rate = \"{funding}\"\nquota_multiple = \"{quota}\"\n\
                 share_unit = \"1000.00\"\nreferral_share_rate = \"0.3\"\n{honor}"
            )
        })
        .boxed(),
    ]
}

/// A plan of one to three mechanisms of random kinds.
pub(crate) fn plan() -> impl Strategy<Value = String> {
    plan_of(prop::collection::vec(mechanism(), 1..4))
}

/// A plan with one mechanism of every kind, in random order (so that any kind may be among the
/// first three, which the streams of [`op`] address).
pub(crate) fn every_kind_plan() -> impl Strategy<Value = String> {
    plan_of(kinds().prop_shuffle())
}

/// A plan of `mechanisms` (ids `m0`, `m1`, ... in order), with random global settings.
fn plan_of(mechanisms: impl Strategy<Value = Vec<String>>) -> impl Strategy<Value = String> {
    (0u32..3, mechanisms, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(settle, mechanisms, margin, pause, clawback, antifraud, withdrawal)| {
            let margin = if margin { "margin_rate = \"0.40\"\n" } else { "" };
            let mut text = format!(
                "name = \"random\"\nsettle_after_days = {settle}\n{margin}pause_when_underfunded = {pause}\n\
                 clawback = {clawback}\n"
            );
            if antifraud {
                // Rules that fire on the random streams: referrals get held, then reviewed.
                text += "[antifraud]\nburst = { referees = 1, hours = 48 }\n\
                         quiet = { days = 2, max_amount = \"2000.00\" }\n";
            }
            if withdrawal {
                // A fee back to the first pool, a minimum, a cap and reviews the streams reach.
                text += "[withdrawal]\nfee_rate = \"0.05\"\nfee_to = \"m0\"\nmin = \"1.00\"\n\
                         max_per_day = \"150.00\"\nreview_above = \"50.00\"\n";
            }
            for (i, m) in mechanisms.iter().enumerate() {
                text += &format!("[[mechanism]]\nid = \"m{i}\"\n{m}");
            }
            text
        },
    )
}

/// One step of a random stream, over members `u0`..`u7`.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Join {
        member: u8,
        referrer: Option<u8>,
    },
    Order {
        member: u8,
        fen: u32,
        credit: bool,
    },
    Refund {
        back: u8,
    },
    Sell {
        member: u8,
        mechanism: u8,
        all: bool,
    },
    Withdraw {
        member: u8,
        fen: u32,
    },
    Topup {
        member: u8,
        fen: u32,
    },
    Inject {
        mechanism: u8,
        fen: u32,
    },
    CloseDay,
    /// Store `s{store}` in region depth `depth` (1 to 3) of one tree, recruited by `u{recruiter}`.
    Store {
        store: u8,
        depth: u8,
        recruiter: u8,
    },
    /// `u{member}` becomes the agent of the region of depth `depth` (1 to 3).
    Agent {
        member: u8,
        depth: u8,
    },
    AdView {
        member: u8,
        mechanism: u8,
    },
    Redeem {
        member: u8,
        mechanism: u8,
        set: bool,
    },
    Review {
        member: u8,
        approve: bool,
    },
    /// A decision on `u{member}`'s withdrawal waiting for review (`[withdrawal]`).
    WithdrawalReview {
        member: u8,
        approve: bool,
    },
    RedeemAt {
        member: u8,
        mechanism: u8,
        partner: u8,
        points: u32,
    },
    AdvertiserFund {
        mechanism: u8,
        fen: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    op_over(3)
}

/// A step that names mechanisms `m0` to `m{mechanisms - 1}` (and events at missing ones).
pub(crate) fn op_over(mechanisms: u8) -> impl Strategy<Value = Op> {
    let member = 0u8..8;
    prop_oneof![
        2 => (member.clone(), prop::option::of(0u8..8)).prop_map(|(member, referrer)| Op::Join { member, referrer }),
        6 => (member.clone(), 1u32..500_000, any::<bool>()).prop_map(|(member, fen, credit)| Op::Order { member, fen, credit }),
        1 => (0u8..3, 0u8..4, member.clone()).prop_map(|(store, depth, recruiter)| Op::Store { store, depth, recruiter }),
        1 => (member.clone(), 1u8..4).prop_map(|(member, depth)| Op::Agent { member, depth }),
        2 => (member.clone(), 0u8..mechanisms).prop_map(|(member, mechanism)| Op::AdView { member, mechanism }),
        2 => (member.clone(), 0u8..mechanisms, any::<bool>()).prop_map(|(member, mechanism, set)| Op::Redeem { member, mechanism, set }),
        2 => (member.clone(), any::<bool>()).prop_map(|(member, approve)| Op::Review { member, approve }),
        1 => (member.clone(), any::<bool>()).prop_map(|(member, approve)| Op::WithdrawalReview { member, approve }),
        1 => (member.clone(), 0u8..mechanisms, 0u8..2, 1u32..500).prop_map(|(member, mechanism, partner, points)| Op::RedeemAt { member, mechanism, partner, points }),
        1 => (0u8..mechanisms, 1u32..100_000).prop_map(|(mechanism, fen)| Op::AdvertiserFund { mechanism, fen }),
        1 => (0u8..4).prop_map(|back| Op::Refund { back }),
        2 => (member.clone(), 0u8..mechanisms, any::<bool>()).prop_map(|(member, mechanism, all)| Op::Sell { member, mechanism, all }),
        1 => (member.clone(), 1u32..20_000).prop_map(|(member, fen)| Op::Withdraw { member, fen }),
        1 => (member.clone(), 1u32..20_000).prop_map(|(member, fen)| Op::Topup { member, fen }),
        1 => (0u8..mechanisms, 1u32..1_000_000).prop_map(|(mechanism, fen)| Op::Inject { mechanism, fen }),
        2 => Just(Op::CloseDay),
    ]
}

/// The ops as event lines, an hour apart, after a first close so that a line from the past is
/// always "backwards".
pub(crate) fn lines(ops: &[Op]) -> Vec<String> {
    lines_scaled(ops, 1)
}

/// [`lines`] with every amount `scale` times larger, up to the most an event may carry.
fn lines_scaled(ops: &[Op], scale: u64) -> Vec<String> {
    let mut out = vec!["{\"at\":\"2026-01-01T00:30:00+08:00\",\"type\":\"close_day\"}".to_owned()];
    let mut orders = 0;
    for (i, op) in ops.iter().enumerate() {
        let (day, hour) = (1 + i / 20, i % 20);
        let at = format!("2026-01-{day:02}T{:02}:00:00+08:00", hour + 1);
        let money = |fen: u32| {
            let fen = (u64::from(fen) * scale).min(fanli_engine::MONEY_MAX.fen() as u64);
            format!("{}.{:02}", fen / 100, fen % 100)
        };
        let body = match op {
            Op::Join { member, referrer: Some(r) } => {
                format!("\"type\":\"join\",\"member\":\"u{member}\",\"referrer\":\"u{r}\"")
            }
            Op::Join { member, referrer: None } => format!("\"type\":\"join\",\"member\":\"u{member}\""),
            Op::Order { member, fen, credit } => {
                orders += 1;
                let credit = if *credit { ",\"credit\":\"0.50\"" } else { "" };
                let partner = ["", ",\"partner\":\"p0\"", ",\"partner\":\"p1\""][*fen as usize % 3];
                format!(
                    "\"type\":\"order\",\"order\":\"o{orders}\",\"member\":\"u{member}\",\"amount\":\"{}\"{credit}{partner},\
                     \"store\":\"s{}\"",
                    money(*fen),
                    fen % 4
                )
            }
            Op::Refund { back } => format!(
                "\"type\":\"refund\",\"order\":\"o{}\"",
                orders.max(1) - (*back as usize).min(orders.max(1) - 1)
            ),
            Op::Sell { member, mechanism, all } => {
                let points = if *all { "all" } else { "1.5" };
                format!(
                    "\"type\":\"sell\",\"member\":\"u{member}\",\"mechanism\":\"m{mechanism}\",\"points\":\"{points}\""
                )
            }
            Op::Withdraw { member, fen } => {
                format!("\"type\":\"withdraw\",\"member\":\"u{member}\",\"amount\":\"{}\"", money(*fen))
            }
            Op::Topup { member, fen } => {
                format!("\"type\":\"topup\",\"member\":\"u{member}\",\"amount\":\"{}\"", money(*fen))
            }
            Op::Inject { mechanism, fen } => {
                format!("\"type\":\"inject\",\"mechanism\":\"m{mechanism}\",\"amount\":\"{}\"", money(*fen))
            }
            Op::CloseDay => "\"type\":\"close_day\"".to_owned(),
            Op::Store { store, depth, recruiter } => format!(
                "\"type\":\"store\",\"store\":\"s{store}\",\"region\":{},\"recruiter\":\"u{recruiter}\"",
                region(*depth)
            ),
            Op::AdView { member, mechanism } => {
                format!("\"type\":\"ad_view\",\"member\":\"u{member}\",\"mechanism\":\"m{mechanism}\"")
            }
            Op::Redeem { member, mechanism, set } => format!(
                "\"type\":\"redeem\",\"member\":\"u{member}\",\"mechanism\":\"m{mechanism}\",\"reward\":\"{}\"",
                if *set { "set" } else { "drink" }
            ),
            Op::Review { member, approve } => format!(
                "\"type\":\"review\",\"member\":\"u{member}\",\"decision\":\"{}\"",
                if *approve { "approve" } else { "reject" }
            ),
            Op::WithdrawalReview { member, approve } => format!(
                "\"type\":\"withdrawal_review\",\"member\":\"u{member}\",\"decision\":\"{}\"",
                if *approve { "approve" } else { "reject" }
            ),
            Op::RedeemAt { member, mechanism, partner, points } => format!(
                "\"type\":\"redeem\",\"member\":\"u{member}\",\"mechanism\":\"m{mechanism}\",\
                 \"partner\":\"p{partner}\",\"points\":\"{points}\""
            ),
            Op::AdvertiserFund { mechanism, fen } => format!(
                "\"type\":\"advertiser_fund\",\"mechanism\":\"m{mechanism}\",\"amount\":\"{}\"",
                money(*fen)
            ),
            Op::Agent { member, depth } => {
                let level = ["province", "city", "district"][*depth as usize - 1];
                format!(
                    "\"type\":\"agent\",\"member\":\"u{member}\",\"level\":\"{level}\",\"region\":{}",
                    region(*depth)
                )
            }
        };
        out.push(format!("{{\"at\":\"{at}\",{body}}}"));
    }
    out
}

/// The first `depth` parts of one region path, as JSON.
fn region(depth: u8) -> String {
    let parts: Vec<String> =
        ["广东", "东莞", "松山湖"][..depth as usize].iter().map(|p| format!("\"{p}\"")).collect();
    format!("[{}]", parts.join(","))
}

/// Lines that must be refused whatever the state.
fn bad_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"order\"".to_owned()),
        Just("not json at all".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"teleport\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"join\",\"member\":\"ghost\",\"referrer\":\"nobody\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"order\",\"order\":\"x\",\"member\":\"nobody\",\"amount\":\"1.00\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"order\",\"order\":\"x\",\"member\":\"u0\",\"amount\":\"-1.00\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"order\",\"order\":\"x\",\"member\":\"u0\",\"amount\":\"1.001\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"order\",\"order\":\"x\",\"member\":\"u0\",\"amount\":\"0\"}".to_owned()),
        Just("{\"at\":\"2000-01-01T00:00:00+08:00\",\"type\":\"close_day\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"withdraw\",\"member\":\"u1\",\"amount\":\"10000000000.00\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"sell\",\"member\":\"u2\",\"mechanism\":\"m0\",\"points\":\"99999999\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"refund\",\"order\":\"never\"}".to_owned()),
        Just("{\"at\":\"2026-01-01T01:00:00+08:00\",\"type\":\"inject\",\"mechanism\":\"m9\",\"amount\":\"1\"}".to_owned()),
    ]
}

/// Applies `lines` one by one, checking the invariants after each event. Returns the engine.
fn apply_checked(plan: &str, lines: &[String]) -> Result<Engine, TestCaseError> {
    let plan = parse_plan(plan).expect("generated plans are valid");
    let no_inflation = plan.mechanisms.iter().all(|m| match &m.kind {
        fanli_engine::KindConfig::Appreciation(a) => a.mint_ratio <= fanli_engine::Rate::ONE,
        _ => true,
    });
    let mut engine = Engine::new(plan);
    let mut counted = BTreeSet::new();
    for line in lines {
        let Ok(raw) = EventLine::parse(line.as_bytes()) else { continue };
        let Ok(event) = raw.event() else { continue };
        let before = prices(&engine);
        let state_before = state(&engine, &[]);
        if engine.apply(&event).is_err() {
            prop_assert_eq!(
                state(&engine, &[]),
                state_before,
                "a rejected event changed the state: {}",
                line
            );
            continue;
        }
        prop_assert!(engine.accounts_balance(), "the books do not balance after {}", line);
        for m in engine.mechanism_views() {
            prop_assert!(m.pool >= fanli_engine::Money::ZERO, "pool {} below zero", m.id);
            prop_assert!(m.obligations >= fanli_engine::Money::ZERO);
        }
        if no_inflation {
            for (b, a) in before.iter().zip(prices(&engine)) {
                if let (Some(b), Some(a)) = (b, a) {
                    prop_assert!(
                        a >= *b,
                        "the price fell from {} to {} on {}",
                        b.display(),
                        a.display(),
                        line
                    );
                }
            }
        }
        // Forced exits ran to completion: nobody holds points at or past their exit price.
        for view in engine.member_views() {
            for m in &view.mechanisms {
                if let fanli_engine::MemberDetail::Appreciation(AppreciationStanding {
                    exit_price: Some(exit),
                    ..
                }) = m.detail
                {
                    let price = engine.price(m.mechanism).expect("an appreciation mechanism");
                    prop_assert!(
                        exit > price,
                        "{} is due at {} but the price is {}",
                        view.name,
                        exit.display(),
                        price.display()
                    );
                }
            }
        }
        for effect in engine.applied().effects {
            if let Effect::Referral { mechanism, referee, .. } = *effect {
                prop_assert!(counted.insert((mechanism, referee)), "a referee counted twice: {}", line);
            }
        }
    }
    Ok(engine)
}

/// Each appreciation mechanism's price while points are outstanding.
fn prices(engine: &Engine) -> Vec<Option<Price>> {
    engine
        .mechanism_views()
        .map(|m| m.detail.get::<AppreciationView>().filter(|a| !a.points.is_zero()).map(|a| a.price))
        .collect()
}

fn run_text(plan: &str, lines: &[String], trace: bool) -> (serde_json::Value, fanli_format::Outcome) {
    let mut engine = Engine::new(parse_plan(plan).unwrap());
    let text = lines.join("\n");
    let outcome = run_stream(&mut engine, text.as_bytes(), trace).unwrap();
    (state(&engine, &[]), outcome)
}

/// Every kind with its rates, multiples and fixed amounts at the most the plan reader allows.
fn extreme_kinds() -> Vec<&'static str> {
    vec![
        "kind = \"appreciation\"\nfunding_rate = \"1\"\nmint_ratio = \"10\"\ninitial_price = \"0.0001\"\nexit_multiple = \"1000\"\n",
        "kind = \"refer_refund\"\nfunding_rate = \"1\"\nqualify_min = \"0.01\"\nreferee_min = \"0.01\"\n\
         steps = [\"10000000000.00\", \"100%\"]\nrepeat = true\nindirect = \"10000000000.00\"\n",
        "kind = \"refer_refund\"\nfunding_rate = \"1\"\ntrigger = \"repurchase\"\nstep_base = \"each\"\n\
         qualify_min = \"0.01\"\nsteps = [\"100%\", \"10000000000.00\"]\nrepeat = true\n",
        // Shares only: bounded by the largest order so far, not by the most an event carries.
        "kind = \"refer_refund\"\nfunding_rate = \"1\"\nqualify_min = \"0.01\"\nreferee_min = \"0.01\"\n\
         steps = [\"100%\"]\nrepeat = true\nindirect = \"100%\"\n",
        "kind = \"queue\"\nfunding_rate = \"1\"\nrelease = { every = 1, ratio = \"10\" }\nreferral_acceleration = \"1\"\n",
        "kind = \"distribution\"\nfunding_rate = \"1\"\nlevels = [\"1\", \"1\", \"1\"]\n\
         ranks = [{ name = \"S\", min_team_sales = \"0.01\", rate = \"1\" }]\npeer_rate = \"1\"\n\
         regional = { district = \"1\", city = \"1\", province = \"1\" }\nrecruiter_rate = \"1\"\n",
        "kind = \"green_points\"\nfunding_rate = \"1\"\ndaily_release_rate = \"1\"\n\
         tiers = [{ min = \"0.01\", multiple = \"100\" }]\nshare = [\"1\", \"1\", \"1\"]\n\
         team_ranks = [{ name = \"T\", min_team_sales = \"0.01\", rate = \"1\" }]\n",
        "kind = \"cycle\"\nfunding_rate = \"1\"\nquota_multiple = \"100\"\nshare_unit = \"0.01\"\n\
         referral_share_rate = \"10\"\nhonor = { rate = \"1\", levels = [\"0.0001\"] }\n",
        "kind = \"ad_tasks\"\nfunding_rate = \"1\"\npoints_per_yuan = \"1000\"\nviews_per_day = 10000\n\
         rewards = [{ from = \"0\", reward = \"1000000000000\" }]\n",
        "kind = \"loyalty\"\nfunding_rate = \"1\"\nearn = { per_yuan = \"100\", per_order = \"1000000000000\" }\n\
         tiers = [{ name = \"G\", min_points = \"0.0001\", multiplier = \"100\" }]\n\
         bonus_days = [{ weekday = \"mon\", multiplier = \"100\" }, { weekday = \"thu\", multiplier = \"100\" }]\n\
         topup_bonus = { per = \"0.01\", points = \"1000000000000\" }\nreferee_rate = \"100\"\nexpiry_days = 1\n\
         rewards = [{ name = \"drink\", points = \"0.0001\" }, { name = \"set\", points = \"1000000000000\" }]\n\
         cashout = { points = \"0.0001\", amount = \"10000000000.00\" }\n",
        "kind = \"coalition\"\nfunding_rate = \"1\"\npoint_cost = \"10000000000.00\"\n\
         partners = [{ id = \"p0\", earn_per_yuan = \"100\", bonus = \"10\" }, { id = \"p1\", earn_per_yuan = \"100\" }]\n",
    ]
}

/// The same random repurchase ladder (percent steps, and sometimes a fixed one) in the same
/// random plan, with `step_base = "first"` and with `"each"`.
fn ladder_plans() -> impl Strategy<Value = (String, String)> {
    let steps = prop::collection::vec(
        prop_oneof![
            3 => (0u32..=100).prop_map(|s| format!("\"{s}%\"")),
            1 => (0u32..5000).prop_map(|fen| format!("\"{}.{:02}\"", fen / 100, fen % 100)),
        ],
        1..4,
    );
    let ladder = (1u32..=60, 0u32..3, steps, any::<bool>()).prop_map(|(funding, qualify, steps, repeat)| {
        vec![format!(
            "kind = \"refer_refund\"\nfunding_rate = \"0.{funding:02}\"\ntrigger = \"repurchase\"\n\
             step_base = \"first\"\nqualify_min = \"{}\"\nsteps = [{}]\nrepeat = {repeat}\n",
            qualify * 300,
            steps.join(", ")
        )]
    });
    plan_of(ladder).prop_map(|first| {
        let each = first.replace("step_base = \"first\"", "step_base = \"each\"");
        (first, each)
    })
}

/// The state document without what only a ladder's base decides: each member's `base`,
/// `next_reward` and `next_share`.
fn without_bases(mut state: serde_json::Value) -> serde_json::Value {
    for member in state["members"].as_object_mut().expect("members").values_mut() {
        for standing in member["mechanisms"].as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
            for key in ["base", "next_reward", "next_share"] {
                standing.as_object_mut().expect("a standing").remove(key);
            }
        }
    }
    state
}

/// A plan of one to three extreme mechanisms (see [`extreme_kinds`]).
fn extreme_plan() -> impl Strategy<Value = String> {
    let mechanism = prop::sample::select(extreme_kinds()).prop_map(str::to_owned);
    plan_of(prop::collection::vec(mechanism, 1..4))
}

/// `old` amended: each mechanism's `funding_rate` set to the next of `rates` (up or down), the
/// last mechanism retired when `retire` (and there are two or more), and `add` added as `m9`.
pub(crate) fn amended(old: &str, rates: &[u32], retire: bool, add: Option<&str>) -> String {
    let mut rates = rates.iter().cycle();
    let mut new: String = old
        .lines()
        .map(|line| match line.starts_with("funding_rate = ") {
            true => format!("funding_rate = \"0.{:02}\"\n", rates.next().expect("cycled")),
            false => format!("{line}\n"),
        })
        .collect();
    if retire && new.matches("[[mechanism]]").count() > 1 {
        new.truncate(new.rfind("[[mechanism]]").expect("counted"));
    }
    if let Some(add) = add {
        new += &format!("[[mechanism]]\nid = \"m9\"\n{add}");
    }
    new
}

/// A member's id, their money (wallet, store credit, what pools owe them, what their queue
/// entries wait for) and the points they hold of each mechanism, all in 1/10000.
type Holding = (String, i64, Vec<(String, i64)>);

/// Every member's [`Holding`], from the state document.
fn holdings(state: &serde_json::Value) -> Vec<Holding> {
    let units = |v: &serde_json::Value| -> i64 {
        let text = v.as_str().unwrap_or("0");
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let frac = format!("{frac:0<4}");
        whole.parse::<i64>().unwrap() * 10_000 + frac[..4].parse::<i64>().unwrap()
    };
    let members = state["members"].as_object().expect("members");
    members
        .iter()
        .map(|(id, m)| {
            let mut money = units(&m["wallet"]) + units(&m["credit"]);
            for standing in m["mechanisms"].as_object().into_iter().flatten().map(|(_, s)| s) {
                money += units(&standing["owed"]) + units(&standing["waiting"]);
            }
            let points =
                m["points"].as_object().into_iter().flatten().map(|(k, v)| (k.clone(), units(v))).collect();
            (id.clone(), money, points)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Plans whose figures outgrow 64 bits within a few events, with amounts up to the most an
    /// event carries: what would not fit is refused (`overflow`) and changes nothing, and
    /// nothing panics or wraps.
    #[test]
    fn figures_past_64_bits_are_refused_never_wrapped(
        plan in extreme_plan(),
        ops in prop::collection::vec(op(), 1..80),
        scale in prop::sample::select(vec![1u64, 1_000, 1_000_000, 10_000_000]),
    ) {
        apply_checked(&plan, &lines_scaled(&ops, scale))?;
    }

    /// When every order is of the same amount, each order's share is the first order's share:
    /// `step_base = "each"` pays exactly what `"first"` pays (the same trace, byte for byte,
    /// and the same state but for the standings' base and next step), whatever else happens
    /// (pauses, refunds under clawback, held referrals, credit).
    #[test]
    fn a_ladder_of_each_orders_share_pays_as_one_of_the_first_when_every_order_is_alike(
        (first, each) in ladder_plans(),
        ops in prop::collection::vec(op_over(1), 1..120),
        fen in 1u32..200_000,
    ) {
        let ops: Vec<Op> = ops
            .into_iter()
            .map(|op| match op {
                Op::Order { member, credit, .. } => Op::Order { member, fen, credit },
                op => op,
            })
            .collect();
        let lines = lines(&ops);
        apply_checked(&each, &lines)?;
        let (first_state, first_outcome) = run_text(&first, &lines, true);
        let (each_state, each_outcome) = run_text(&each, &lines, true);
        prop_assert_eq!(first_outcome.trace, each_outcome.trace);
        prop_assert_eq!(without_bases(first_state), without_bases(each_state));
    }

    #[test]
    fn invariants_hold_after_every_event(plan in plan(), ops in prop::collection::vec(op(), 1..120)) {
        apply_checked(&plan, &lines(&ops))?;
    }

    #[test]
    fn one_members_view_agrees_with_the_view_of_all(plan in plan(), ops in prop::collection::vec(op(), 1..120)) {
        let engine = apply_checked(&plan, &lines(&ops))?;
        for all in engine.member_views() {
            let one = engine.member_view_of(all.id);
            prop_assert_eq!(format!("{one:?}"), format!("{all:?}"));
        }
    }

    #[test]
    fn the_place_index_gives_the_places_the_pass_over_the_queue_gives(
        plan in plan(),
        ops in prop::collection::vec(op(), 1..120),
        split in 0usize..120,
    ) {
        // The index kept from some line on (built from the queue as it stands then), and built
        // at the end: each member's view agrees with the view of all, which passes over the queue.
        let lines = lines(&ops);
        let split = split.min(lines.len());
        let mut kept = Engine::new(parse_plan(&plan).unwrap());
        run_stream(&mut kept, lines[..split].join("\n").as_bytes(), false).unwrap();
        kept.index_places();
        run_stream(&mut kept, format!("\n{}", lines[split..].join("\n")).as_bytes(), false).unwrap();
        let mut late = apply_checked(&plan, &lines)?;
        late.index_places();
        for engine in [&kept, &late] {
            for all in engine.member_views() {
                let one = engine.member_view_of(all.id);
                prop_assert_eq!(format!("{one:?}"), format!("{all:?}"));
            }
        }
    }

    #[test]
    fn replay_gives_the_same_bytes(plan in plan(), ops in prop::collection::vec(op(), 1..80)) {
        let lines = lines(&ops);
        let (first, first_outcome) = run_text(&plan, &lines, true);
        let (second, second_outcome) = run_text(&plan, &lines, true);
        prop_assert_eq!(first, second);
        prop_assert_eq!(first_outcome.trace, second_outcome.trace);
        prop_assert_eq!(first_outcome.rejected, second_outcome.rejected);
    }

    #[test]
    fn not_recording_postings_and_effects_changes_no_balance(plan in plan(), ops in prop::collection::vec(op(), 1..80)) {
        let text = lines(&ops).join("\n");
        let mut quiet = Engine::new(parse_plan(&plan).unwrap());
        quiet.record(false);
        let quiet_outcome = run_stream(&mut quiet, text.as_bytes(), false).unwrap();
        prop_assert!(quiet.applied().postings.is_empty() && quiet.applied().effects.is_empty());
        let (recorded, outcome) = run_text(&plan, &lines(&ops), false);
        prop_assert_eq!(state(&quiet, &[]), recorded);
        prop_assert_eq!(quiet_outcome.rejected, outcome.rejected);
    }

    #[test]
    fn antifraud_rules_that_never_fire_change_nothing(plan in plan(), ops in prop::collection::vec(op(), 1..80)) {
        let rules = "\n[antifraud]\nmax_per_device = 1000000\nmax_per_phone = 1000000\nmax_per_ip = 1000000\n\
                     shared_device = true\nrings = true\nburst = { referees = 1000000, hours = 1 }\n\
                     quiet = { days = 3650, max_amount = \"1000000.00\" }\n";
        prop_assume!(!plan.contains("[antifraud]"));
        let (without, outcome) = run_text(&plan, &lines(&ops), false);
        let (mut with, guarded) = run_text(&format!("{plan}{rules}"), &lines(&ops), false);
        prop_assert_eq!(with["reviews"].as_array().map(Vec::len), Some(0));
        with.as_object_mut().unwrap().remove("reviews");
        prop_assert_eq!(with, without);
        // The same lines are refused (a review is, with or without rules, for different reasons).
        let lines_of = |o: &fanli_format::Outcome| o.rejected.iter().map(|r| r.line).collect::<Vec<_>>();
        prop_assert_eq!(lines_of(&guarded), lines_of(&outcome));
    }

    #[test]
    fn bad_lines_slipped_in_change_nothing(
        plan in plan(),
        ops in prop::collection::vec(op(), 1..80),
        bad in prop::collection::vec((any::<prop::sample::Index>(), bad_line()), 1..10),
    ) {
        let clean = lines(&ops);
        let mut dirty = clean.clone();
        for (at, line) in &bad {
            // Never first: a line from the past is only "backwards" once something came before it.
            dirty.insert(1 + at.index(dirty.len()), line.clone());
        }
        let (clean_state, clean_outcome) = run_text(&plan, &clean, false);
        let (dirty_state, dirty_outcome) = run_text(&plan, &dirty, false);
        prop_assert_eq!(clean_state, dirty_state);
        prop_assert_eq!(dirty_outcome.rejected.len(), clean_outcome.rejected.len() + bad.len());
    }

    #[test]
    fn an_amendment_reduces_nothing_members_hold_or_were_promised(
        old in plan(),
        ops in prop::collection::vec(op(), 1..100),
        split in 0usize..100,
        rates in prop::collection::vec(1u32..60, 3),
        retire in any::<bool>(),
        add in prop::option::of(mechanism()),
    ) {
        // Lowering is allowed at once (`notice_days = 0`): the amendment takes effect at its
        // line. Against the same stream amended to the plan it had, what members hold or were
        // promised right after it is no less, and every later event keeps the invariants.
        let old = format!("notice_days = 0\n{old}");
        let new = amended(&old, &rates, retire, add.as_deref());
        let lines = lines(&ops);
        let split = split.clamp(1, lines.len());
        let at: serde_json::Value = serde_json::from_str(&lines[split - 1]).unwrap();
        let at = at["at"].as_str().unwrap();
        let amend = |plan: &str| {
            serde_json::json!({"at": at, "type": "amend_plan", "effective_at": at, "plan": plan}).to_string()
        };
        let with = |line: String| {
            let mut lines = lines.clone();
            lines.insert(split, line);
            lines
        };
        let amended_lines = with(amend(&new));
        let (amended_state, _) = run_text(&old, &amended_lines[..=split], false);
        let (control, _) = run_text(&old, &with(amend(&old))[..=split], false);
        let after: std::collections::BTreeMap<_, _> =
            holdings(&amended_state).into_iter().map(|(id, money, points)| (id, (money, points))).collect();
        for (id, money, points) in holdings(&control) {
            let (amended_money, amended_points) = &after[&id];
            prop_assert!(*amended_money >= money, "{id} holds {amended_money} units of money, not {money}");
            for (mechanism, units) in points {
                let kept = amended_points.iter().find(|(m, _)| *m == mechanism).map_or(0, |(_, u)| *u);
                prop_assert!(kept >= units, "{id} holds {kept} units of {mechanism}, not {units}");
            }
        }
        apply_checked(&old, &amended_lines)?;
        let (first, _) = run_text(&old, &amended_lines, true);
        let (second, _) = run_text(&old, &amended_lines, true);
        prop_assert_eq!(first, second);
    }
}
