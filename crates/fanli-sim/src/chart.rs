//! Line charts as inline SVG: calendar dates on the x axis, "nice" ticks (steps of 1, 2 or 5
//! times a power of ten) on both axes, counts labelled as integers and money in 元 with 2
//! decimals (万元 from 100,000 yuan up), and a dashed mark with a label on a chosen day (where
//! the scenario's arrivals stop). Margins come from the labels' widths, so no label is clipped.
//!
//! Floats are used here to draw, never to count: the figures come from the engine's integers.
//! Text widths are estimated (0.62 em a Latin character, 1 em a Chinese one), which errs on the
//! wide side for the sans-serif fonts the pages use.

use std::fmt::Write as _;

use fanli_engine::{Timestamp, UtcOffset, date};

/// What a chart's values are: how its y axis is labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A number of members or orders: integer ticks, labelled as integers (万 from 100,000).
    Count,
    /// Yuan: labelled with 2 decimals, or in 万元 from 100,000 yuan up.
    Yuan,
    /// Yuan a point (a price): labelled with 2 decimals, more for a step below 0.01.
    YuanPerPoint,
}

/// A line chart: one value per series per day.
pub struct Chart<'a> {
    /// The caption (escaped when drawn).
    pub title: &'a str,
    /// Each point's day, as days since 1970-01-01 (a local date in the plan's timezone),
    /// increasing.
    pub days: &'a [i64],
    /// Each series' name and its values, one per day.
    pub series: &'a [(String, Vec<f64>)],
    /// What the values are.
    pub unit: Unit,
    /// A day to mark with a dashed vertical line, and its label.
    pub mark: Option<(i64, &'a str)>,
    /// Whether the axis units are written in Chinese (元, 万元) or English.
    pub zh: bool,
}

/// The drawing's width and height (the `viewBox`; the page scales it).
pub const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 280.0;
/// The font size of every label.
const FONT: f64 = 11.0;
const COLORS: [&str; 9] =
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"];

/// The day number of a `YYYY-MM-DD` date (as the simulator stamps its days).
pub fn day_of(date: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(&format!("{date}T00:00:00Z")).map(|t| t.local_day(UtcOffset::UTC))
}

/// The local day a `close_day` stamped `at` closed, at `offset`: the date of the instant just
/// before it (a close at 00:00 on the 27th closes the 26th).
pub fn closed_day(at: Timestamp, offset: UtcOffset) -> i64 {
    Timestamp::from_unix_nanos(at.unix_nanos().saturating_sub(1)).local_day(offset)
}

/// The estimated width of `text` drawn at `size`.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(|c| if c.is_ascii() { 0.62 } else { 1.0 }).sum::<f64>() * size
}

/// `text` escaped for XML.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Ticks from at most `lo` to at least `hi` (with `lo <= 0 <= hi`), at a step of 1, 2 or 5
/// times a power of ten chosen for about `target` intervals (at least 1 for integers): the
/// step's power of ten and multiplier, and the ticks as multiples of the step.
fn nice_ticks(lo: f64, hi: f64, target: f64, integer: bool) -> (f64, i32, Vec<i64>) {
    // All zero (nothing owed): an axis from 0 to 1 rather than a flat line on no scale.
    let hi = if hi - lo > 0.0 { hi } else { lo + 1.0 };
    let span = hi - lo;
    let raw = span / target;
    let mut exp = raw.log10().floor() as i32;
    let base = raw / 10f64.powi(exp);
    let mult = if base <= 1.0 {
        1.0
    } else if base <= 2.0 {
        2.0
    } else if base <= 5.0 {
        5.0
    } else {
        exp += 1;
        1.0
    };
    let (mut mult, mut exp) = (mult, exp);
    if integer && exp < 0 {
        (mult, exp) = (1.0, 0);
    }
    let step = mult * 10f64.powi(exp);
    // A small tolerance so that 1000 with a step of 200 is 5 steps, not 6.
    let first = (lo / step + 1e-9).floor() as i64;
    let last = ((hi / step - 1e-9).ceil() as i64).max(first + 1);
    (step, exp, (first..=last).collect())
}

/// The y axis's labels for ticks at multiples of `step` (10^`exp` × 1, 2 or 5), and the
/// axis's unit.
fn y_labels(unit: Unit, step: f64, exp: i32, ticks: &[i64], zh: bool) -> (Vec<String>, String) {
    let top = ticks.iter().map(|&k| (k as f64 * step).abs()).fold(0.0, f64::max);
    let wan = unit != Unit::YuanPerPoint && top >= 100_000.0;
    let (scale, decimals) = match unit {
        _ if wan => (10_000.0, (4 - exp).max(0) as usize),
        Unit::Count => (1.0, 0),
        Unit::Yuan => (1.0, 2),
        Unit::YuanPerPoint => (1.0, (-exp).max(2) as usize),
    };
    let labels = ticks.iter().map(|&k| format!("{:.*}", decimals, k as f64 * step / scale)).collect();
    let name = match (unit, wan, zh) {
        (Unit::Count, false, _) => "",
        (Unit::Count, true, true) => "万",
        (Unit::Count, true, false) => "×10,000",
        (Unit::Yuan, false, true) => "元",
        (Unit::Yuan, false, false) => "yuan",
        (Unit::Yuan, true, true) => "万元",
        (Unit::Yuan, true, false) => "×10,000 yuan",
        (Unit::YuanPerPoint, _, true) => "元/积分",
        (Unit::YuanPerPoint, _, false) => "yuan a point",
    };
    (labels, name.to_owned())
}

/// The x axis's ticks: the days from the first at a step of 1, 2 or 5 times a power of ten
/// days, the smallest whose labels do not overlap in `width`; each labelled `MM-DD`, with the
/// year (`YYYY-MM-DD`) on the first and where the year changes.
fn x_ticks(first: i64, last: i64, width: f64) -> Vec<(i64, String)> {
    let span = (last - first).max(0);
    let mut step = 1;
    for (i, mult) in [1, 2, 5].iter().cycle().enumerate() {
        step = mult * 10i64.pow(i as u32 / 3);
        let ticks = labelled(first, last, step);
        let fits = ticks.windows(2).all(|pair| {
            let gap = width * (pair[1].0 - pair[0].0) as f64 / span.max(1) as f64;
            gap >= (text_width(&pair[0].1, FONT) + text_width(&pair[1].1, FONT)) / 2.0 + 10.0
        });
        if fits || step > span {
            break;
        }
    }
    labelled(first, last, step)
}

fn labelled(first: i64, last: i64, step: i64) -> Vec<(i64, String)> {
    let mut ticks: Vec<(i64, String)> = Vec::new();
    let mut day = first;
    while day <= last {
        let full = date(day);
        let year_changed = ticks.last().is_none_or(|(prev, _)| date(*prev)[..4] != full[..4]);
        ticks.push((day, if year_changed { full } else { full[5..].to_owned() }));
        day += step;
    }
    ticks
}

/// Draws `chart` as a `<figure>` holding an SVG element.
pub fn line_chart(chart: &Chart<'_>) -> String {
    let (first, last) = (chart.days.first().copied().unwrap_or(0), chart.days.last().copied().unwrap_or(0));
    let span = (last - first).max(1) as f64;
    let values = chart.series.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (step, exp, ticks) = nice_ticks(lo, hi, 5.0, chart.unit == Unit::Count);
    let (labels, unit) = y_labels(chart.unit, step, exp, &ticks, chart.zh);
    let (y_lo, y_hi) = (ticks[0] as f64 * step, ticks[ticks.len() - 1] as f64 * step);

    // The legend: rows of swatches and names across the width.
    let mut legend = Vec::new();
    let (mut x, mut row) = (8.0, 0);
    for (i, (name, _)) in chart.series.iter().enumerate() {
        let w = 16.0 + text_width(name, FONT);
        if x + w > WIDTH - 8.0 && x > 8.0 {
            (x, row) = (8.0, row + 1);
        }
        legend.push((x, row, COLORS[i % COLORS.len()], name));
        x += w + 14.0;
    }
    let rows = if chart.series.is_empty() { 0 } else { row + 1 };
    // Margins from the labels: the unit's line above the axis, the widest y label on the left,
    // half the x labels on either side, one line of dates below.
    let top = 6.0 + 16.0 * rows as f64 + 22.0;
    let widest = labels.iter().map(|l| text_width(l, FONT)).fold(text_width(&unit, FONT), f64::max);
    let plot_guess = WIDTH - widest - 60.0;
    let xt = x_ticks(first, last, plot_guess);
    let first_half = xt.first().map_or(0.0, |(_, l)| text_width(l, FONT) / 2.0);
    let last_half = xt.last().map_or(0.0, |(_, l)| text_width(l, FONT) / 2.0);
    let left = (widest + 10.0).max(first_half + 4.0).ceil();
    let right = (last_half + 4.0).max(12.0).ceil();
    let bottom = FONT + 14.0;
    let (pw, ph) = (WIDTH - left - right, HEIGHT - top - bottom);
    let px = |day: i64| left + pw * (day - first) as f64 / span;
    let py = |v: f64| top + ph - ph * (v - y_lo) / (y_hi - y_lo);

    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-size=\"{FONT}\" font-family=\"sans-serif\">",
        esc(chart.title)
    );
    for (x, row, color, name) in &legend {
        let y = 6.0 + 16.0 * *row as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            y + 5.0,
            x + 16.0,
            y + FONT,
            esc(name)
        );
    }
    if !unit.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            top - 8.0,
            esc(&unit)
        );
    }
    for (k, label) in ticks.iter().zip(&labels) {
        let y = py(*k as f64 * step);
        let _ = write!(
            svg,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{}\"/>\
             <text class=\"y\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            left + pw,
            if *k == 0 { "#999" } else { "#eee" },
            left - 6.0,
            y + FONT * 0.35,
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{left:.1}\" y1=\"{top:.1}\" x2=\"{left:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>",
        top + ph
    );
    for (day, label) in &xt {
        let x = px(*day);
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>\
             <text class=\"x\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
            top + ph,
            top + ph + 4.0,
            top + ph + 6.0 + FONT,
        );
    }
    if let Some((day, label)) = chart.mark.filter(|(day, _)| (first..=last).contains(day)) {
        let x = px(day);
        let w = text_width(label, FONT);
        let (tx, anchor) = if x + 4.0 + w <= WIDTH - 2.0 { (x + 4.0, "start") } else { (x - 4.0, "end") };
        let _ = write!(
            svg,
            "<g class=\"mark\"><line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#c0392b\" \
             stroke-dasharray=\"4 3\"/><text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"#c0392b\">{}</text></g>",
            top + ph,
            top + FONT,
            esc(label)
        );
    }
    for (i, (_, values)) in chart.series.iter().enumerate() {
        let points: Vec<String> = chart
            .days
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(&day, &v)| format!("{:.1},{:.1}", px(day), py(v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>",
            COLORS[i % COLORS.len()],
            points.join(" ")
        );
    }
    svg + "</svg></figure>"
}

/// A bar chart of shares (0 to 1) on a 0–100% axis, each bar labelled below (every second,
/// fifth… label where they would crowd) and with its percentage above (where it fits).
pub fn bar_chart(title: &str, bars: &[(String, f64)]) -> String {
    let height = 220.0;
    let left = (text_width("100%", FONT) + 10.0).ceil();
    let (top, bottom) = (FONT + 8.0, FONT + 14.0);
    let (pw, ph) = (WIDTH - left - 8.0, height - top - bottom);
    let slot = pw / bars.len().max(1) as f64;
    let widest = bars.iter().map(|(l, _)| text_width(l, FONT)).fold(0.0, f64::max);
    let every = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
        .into_iter()
        .find(|&k| slot * k as f64 >= widest + 8.0)
        .unwrap_or(1000);
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg viewBox=\"0 0 {WIDTH} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-size=\"{FONT}\" font-family=\"sans-serif\">",
        esc(title)
    );
    for k in 0..=5 {
        let y = top + ph - ph * k as f64 / 5.0;
        let _ = write!(
            svg,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{}\"/>\
             <text class=\"y\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}%</text>",
            left + pw,
            if k == 0 { "#999" } else { "#eee" },
            left - 6.0,
            y + FONT * 0.35,
            k * 20
        );
    }
    for (i, (label, share)) in bars.iter().enumerate() {
        let share = share.clamp(0.0, 1.0);
        let (x, bar) = (left + slot * i as f64, ph * share);
        let mid = x + slot / 2.0;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bar:.1}\" fill=\"#2ca02c\"/>",
            x + slot * 0.1,
            top + ph - bar,
            slot * 0.8
        );
        let value = format!("{:.1}%", share * 100.0);
        if text_width(&value, FONT) <= slot {
            let _ = write!(
                svg,
                "<text class=\"v\" x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{value}</text>",
                (top + ph - bar - 3.0).max(FONT)
            );
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text class=\"x\" x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                top + ph + 6.0 + FONT,
                esc(label)
            );
        }
    }
    svg + "</svg></figure>"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `<text>` element: its x, y, anchor and content.
    fn texts(svg: &str) -> Vec<(f64, f64, String, String)> {
        let attr = |tag: &str, name: &str| -> Option<String> {
            let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[start..][..tag[start..].find('"')?].to_owned())
        };
        svg.split("<text")
            .skip(1)
            .map(|rest| {
                let (tag, rest) = rest.split_once('>').expect("a tag");
                let content = rest.split_once("</text>").expect("closed").0;
                (
                    attr(tag, "x").expect("x").parse().expect("a number"),
                    attr(tag, "y").expect("y").parse().expect("a number"),
                    attr(tag, "text-anchor").unwrap_or_else(|| "start".to_owned()),
                    content.replace("&amp;", "&").replace("&lt;", "<"),
                )
            })
            .collect()
    }

    /// The labels of one class (`x` or `y`), in order.
    fn labels(svg: &str, class: &str) -> Vec<String> {
        let marker = format!("<text class=\"{class}\"");
        svg.split(&marker)
            .skip(1)
            .map(|rest| rest.split_once('>').expect("tag").1.split_once('<').expect("end").0.to_owned())
            .collect()
    }

    fn inside(svg: &str) {
        for (x, y, anchor, text) in texts(svg) {
            let w = text_width(&text, FONT);
            let (x0, x1) = match anchor.as_str() {
                "end" => (x - w, x),
                "middle" => (x - w / 2.0, x + w / 2.0),
                _ => (x, x + w),
            };
            assert!(x0 >= 0.0 && x1 <= WIDTH, "{text:?} spans {x0}..{x1}");
            assert!(y - FONT >= 0.0 && y <= HEIGHT, "{text:?} at y {y}");
            let height: f64 = svg
                .split("viewBox=\"0 0 800 ")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .and_then(|s| s.parse().ok())
                .expect("a viewBox");
            assert!(y <= height, "{text:?} at y {y}");
        }
    }

    fn days(first: &str, n: i64) -> Vec<i64> {
        let d = day_of(first).expect("a date");
        (d..d + n).collect()
    }

    #[test]
    fn ticks_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_ticks(0.0, 1000.0, 5.0, false).0, 200.0);
        assert_eq!(nice_ticks(0.0, 1000.0, 5.0, false).2, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(nice_ticks(0.0, 37.0, 5.0, true).0, 10.0);
        assert_eq!(nice_ticks(0.0, 37.0, 5.0, true).2, vec![0, 1, 2, 3, 4]);
        // Counts never step below 1.
        assert_eq!(nice_ticks(0.0, 3.0, 5.0, true).0, 1.0);
        assert_eq!(nice_ticks(0.0, 0.0, 5.0, true).2, vec![0, 1]);
        assert_eq!(nice_ticks(-30.0, 70.0, 5.0, false).2, vec![-2, -1, 0, 1, 2, 3, 4]);
        assert_eq!(nice_ticks(0.0, 1.2345, 5.0, false).0, 0.5);
    }

    #[test]
    fn counts_are_integers_and_dates_label_the_x_axis() {
        let days = days("2026-03-01", 10);
        let series = [("members".to_owned(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0])];
        let svg = line_chart(&Chart {
            title: "会员",
            days: &days,
            series: &series,
            unit: Unit::Count,
            mark: None,
            zh: true,
        });
        assert_eq!(labels(&svg, "y"), ["0", "1", "2", "3", "4", "5"]);
        // 10 days fit a label a day; the year only on the first.
        let x = labels(&svg, "x");
        assert_eq!(x.len(), 10, "{x:?}");
        assert_eq!(x[0], "2026-03-01");
        assert_eq!(x[9], "03-10");
        assert!(!svg.contains("5.00"));
        inside(&svg);
    }

    #[test]
    fn money_has_two_decimals_or_wan_yuan() {
        let days = days("2026-03-01", 3);
        let small = [("pool".to_owned(), vec![0.0, 12.5, 80.0])];
        let svg = line_chart(&Chart {
            title: "池",
            days: &days,
            series: &small,
            unit: Unit::Yuan,
            mark: None,
            zh: true,
        });
        assert_eq!(labels(&svg, "y"), ["0.00", "20.00", "40.00", "60.00", "80.00"]);
        assert!(svg.contains(">元</text>"));
        let big = [("pool".to_owned(), vec![0.0, 35_000_000.0, 66_000_000.0])];
        let svg = line_chart(&Chart {
            title: "池",
            days: &days,
            series: &big,
            unit: Unit::Yuan,
            mark: None,
            zh: true,
        });
        assert_eq!(labels(&svg, "y"), ["0", "2000", "4000", "6000", "8000"]);
        assert!(svg.contains(">万元</text>"));
        let half = [("pool".to_owned(), vec![0.0, 120_000.0])];
        let svg = line_chart(&Chart {
            title: "池",
            days: &days[..2],
            series: &half,
            unit: Unit::Yuan,
            mark: None,
            zh: false,
        });
        assert_eq!(labels(&svg, "y"), ["0", "5", "10", "15"]);
        assert!(svg.contains(">×10,000 yuan</text>"));
        inside(&svg);
    }

    #[test]
    fn a_long_run_steps_its_dates_and_marks_the_stop_of_arrivals() {
        let days = days("2026-11-01", 365);
        let series: Vec<(String, Vec<f64>)> = (0..9)
            .map(|i| {
                (
                    format!("机制{i} mechanism_with_a_long_name"),
                    (0..365).map(|d| (d * i) as f64 * 1234.56).collect(),
                )
            })
            .collect();
        let stop = days[0] + 180;
        let chart = Chart {
            title: "资金池",
            days: &days,
            series: &series,
            unit: Unit::Yuan,
            mark: Some((stop, "2027-04-30 起无新会员")),
            zh: true,
        };
        let svg = line_chart(&chart);
        let x = labels(&svg, "x");
        // 365 days at 50 days a tick (20 would crowd 800 px): 2026-11-01, 12-21, 2027-02-09, …
        assert_eq!(x[..3], ["2026-11-01", "12-21", "2027-02-09"], "{x:?}");
        assert_eq!(x.len(), 8);
        // The mark is a dashed line at its day's x, between the x of the ticks around it.
        let mark = svg.split("<g class=\"mark\">").nth(1).expect("a mark");
        let mark_x: f64 = mark
            .split("x1=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .expect("x1");
        let tick_x =
            |label: &str| texts(&svg).into_iter().find(|t| t.3 == label).map(|t| t.0).expect("the tick");
        let (t150, t200) = (tick_x("03-31"), tick_x("05-20"));
        // 180 days is 3/5 of the way from day 150 to day 200.
        assert!((mark_x - (t150 + (t200 - t150) * 0.6)).abs() < 0.2, "{mark_x} {t150} {t200}");
        assert!(mark.contains("2027-04-30 起无新会员"));
        inside(&svg);
    }

    #[test]
    fn a_mark_near_the_right_edge_writes_its_label_leftwards() {
        let days = days("2026-03-01", 30);
        let series = [("x".to_owned(), vec![1.0; 30])];
        let svg = line_chart(&Chart {
            title: "t",
            days: &days,
            series: &series,
            unit: Unit::Count,
            mark: Some((days[29], "arrivals stop · 停止新增")),
            zh: false,
        });
        assert!(svg.contains("text-anchor=\"end\" fill=\"#c0392b\""));
        inside(&svg);
    }

    #[test]
    fn a_single_day_and_a_tiny_price_draw() {
        let days = days("2026-03-01", 1);
        let series = [("appr".to_owned(), vec![0.0012])];
        let svg = line_chart(&Chart {
            title: "价",
            days: &days,
            series: &series,
            unit: Unit::YuanPerPoint,
            mark: None,
            zh: true,
        });
        assert_eq!(labels(&svg, "y"), ["0.0000", "0.0005", "0.0010", "0.0015"]);
        assert_eq!(labels(&svg, "x"), ["2026-03-01"]);
        inside(&svg);
        let series = [("appr".to_owned(), vec![1.0, 34.2])];
        let svg = line_chart(&Chart {
            title: "价",
            days: &days,
            series: &series,
            unit: Unit::YuanPerPoint,
            mark: None,
            zh: true,
        });
        assert_eq!(labels(&svg, "y"), ["0.00", "10.00", "20.00", "30.00", "40.00"]);
        assert_eq!(labels(&svg, "x"), ["2026-03-01"]);
        inside(&svg);
    }

    #[test]
    fn nothing_owed_draws_on_a_scale_from_0_to_1() {
        let days = days("2026-03-01", 3);
        let series = [("q".to_owned(), vec![0.0; 3])];
        let svg = line_chart(&Chart {
            title: "拖欠",
            days: &days,
            series: &series,
            unit: Unit::Yuan,
            mark: None,
            zh: true,
        });
        assert_eq!(labels(&svg, "y"), ["0.00", "0.20", "0.40", "0.60", "0.80", "1.00"]);
    }

    #[test]
    fn bars_show_their_share_and_thin_out_crowded_labels() {
        let bars: Vec<(String, f64)> =
            (0..12).map(|i| (format!("{}-{}", 30 * i + 1, 30 * i + 30), 0.25)).collect();
        let svg = bar_chart("回本", &bars);
        assert_eq!(labels(&svg, "y"), ["0%", "20%", "40%", "60%", "80%", "100%"]);
        assert_eq!(labels(&svg, "x").len(), 12);
        assert_eq!(labels(&svg, "v")[0], "25.0%");
        inside(&svg);
        // 100 bars of 7.3 px: every fifth label ("331-360" is about 48 px wide).
        let bars: Vec<(String, f64)> =
            (0..100).map(|i| (format!("{}-{}", 30 * i + 1, 30 * i + 30), 1.0)).collect();
        let svg = bar_chart("回本", &bars);
        assert_eq!(labels(&svg, "x")[..2], ["1-30", "301-330"]);
        assert!(labels(&svg, "v").is_empty(), "no room for percentages");
        inside(&svg);
    }

    #[test]
    fn a_close_at_midnight_closes_the_day_before() {
        let at = Timestamp::parse_rfc3339("2026-03-26T16:00:00Z").expect("a time");
        let offset = UtcOffset::parse("+08:00").expect("an offset");
        assert_eq!(date(closed_day(at, offset)), "2026-03-26");
        let at = Timestamp::parse_rfc3339("2026-03-26T16:00:01Z").expect("a time");
        assert_eq!(date(closed_day(at, offset)), "2026-03-27");
    }
}
