//! The stream reader: however the bytes arrive, and whatever the reader does ahead of the line it
//! applies (it reads each line one ahead, for `Engine::prefetch`), a stream ends in the state
//! that applying its lines one at a time gives.

use std::io::Read;

use fanli_engine::Engine;
use fanli_format::{EventLine, Refusal, Rejected, parse_plan, run_stream, state_json};

const PLAN: &str = include_str!("../../../../bench/plan.toml");

/// A stream of more than a megabyte (so it spans the reader's blocks) with everything a line can
/// be: joins with referrers, orders whose ids are escaped (owned strings, not borrowed ones),
/// CRLF endings, blank lines, malformed and refused lines, refunds of earlier orders, sells and
/// day closes; the last line has no newline.
fn stream() -> String {
    let mut out = String::new();
    let mut day = 1;
    for i in 0..16_000u32 {
        let minute = i % 1_000;
        if minute == 0 && i > 0 {
            out.push_str(&format!(r#"{{"at":"2026-01-{day:02}T23:59:00+08:00","type":"close_day"}}"#));
            out.push('\n');
            day += 1;
        }
        let at = format!("2026-01-{day:02}T{:02}:{:02}:00+08:00", 6 + minute / 60, minute % 60);
        let line = match i % 10 {
            0 | 5 => {
                let referrer =
                    if i >= 10 { format!(r#","referrer":"m{}""#, i / 2 - i / 2 % 5) } else { String::new() };
                format!(r#"{{"at":"{at}","type":"join","member":"m{i}"{referrer}}}"#)
            }
            1 => format!(
                r#"{{"at":"{at}","type":"order","order":"\u006f{i}","member":"m{}","amount":"1200.00"}}"#,
                i - 1
            ),
            2 | 3 | 6 => {
                format!(
                    r#"{{"at":"{at}","type":"order","order":"o{i}","member":"m{}","amount":"{}.{:02}"}}"#,
                    i - i % 5,
                    100 + i % 900,
                    i % 100
                )
            }
            4 => format!(r#"{{"at":"{at}","type":"refund","order":"o{}"}}"#, i - 1),
            7 => {
                format!(r#"{{"at":"{at}","type":"order","order":"o{i}","member":"nobody","amount":"5.00"}}"#)
            }
            8 => "{\"at\": not json".to_owned(),
            // A member of nine days before, whose orders have settled (or, early on, one whose
            // have not: refused).
            _ => format!(
                r#"{{"at":"{at}","type":"sell","member":"m{}","mechanism":"appr","points":"0.0100"}}"#,
                i.saturating_sub(9_000) / 10 * 10 + 5
            ),
        };
        out.push_str(&line);
        match i % 7 {
            0 => out.push_str("\r\n"),
            1 => out.push_str("\n\n"),
            _ => out.push('\n'),
        }
    }
    out.push_str(&format!(r#"{{"at":"2026-01-{day:02}T23:59:00+08:00","type":"close_day"}}"#));
    assert!(out.len() > 1 << 20, "the stream spans the reader's blocks");
    out
}

/// Gives at most `step` bytes a read.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn state(engine: &Engine, rejected: &[Rejected]) -> String {
    let mut bytes = Vec::new();
    state_json(engine, rejected, None, &mut bytes).expect("writing to memory");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

#[test]
fn a_stream_reads_as_its_lines_one_at_a_time() {
    let plan = parse_plan(PLAN).expect("the benchmark plan is valid");
    let text = stream();

    // The reference: each line parsed and applied on its own, in order.
    let mut engine = Engine::new(plan.clone());
    let mut rejected = Vec::new();
    for (number, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let refusal = match EventLine::parse(line.as_bytes()) {
            Err(e) => Some(Refusal::from(e)),
            Ok(raw) => match raw.event() {
                Err(e) => Some(Refusal::from(e)),
                Ok(event) => engine.apply(&event).err().map(|e| Refusal {
                    kind: event.kind.type_name(),
                    code: e.code(),
                    error: e.to_string(),
                }),
            },
        };
        if let Some(refusal) = refusal {
            rejected.push(Rejected { line: number + 1, refusal });
        }
    }
    let expected = state(&engine, &rejected);
    assert!(rejected.len() > 2_000, "bad lines were slipped in: {}", rejected.len());
    assert!(rejected.len() < 5_000, "most lines apply: {} refused", rejected.len());
    assert!(engine.find_order("o1").is_some(), "an escaped id reads as its text");

    for step in [usize::MAX, 4096, 7] {
        let mut engine = Engine::new(plan.clone());
        let outcome =
            run_stream(&mut engine, Trickle { bytes: text.as_bytes(), step }, false).expect("in memory");
        let first = outcome.rejected.iter().zip(&rejected).position(|(a, b)| a != b);
        assert_eq!(first, None, "reads of {step} bytes: the first rejection that differs");
        assert_eq!(outcome.rejected.len(), rejected.len(), "reads of {step} bytes");
        assert_eq!(outcome.lines, text.split('\n').count());
        assert!(state(&engine, &outcome.rejected) == expected, "reads of {step} bytes: the states differ");
    }
}

/// A UTF-8 byte-order mark at the start of a stream (some Windows tools write one) is skipped,
/// however the first bytes arrive; anywhere else it is a malformed line.
#[test]
fn a_byte_order_mark_at_the_start_is_skipped() {
    let plan = parse_plan(PLAN).expect("the benchmark plan is valid");
    let lines = "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}\n\
                 {\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"order\",\"order\":\"o1\",\"member\":\"A\",\"amount\":\"100.00\"}\n";
    let plain = {
        let mut engine = Engine::new(plan.clone());
        let outcome = run_stream(&mut engine, lines.as_bytes(), false).expect("in memory");
        assert!(outcome.rejected.is_empty());
        state(&engine, &outcome.rejected)
    };
    let marked = format!("\u{feff}{lines}");
    for step in [1, 2, usize::MAX] {
        let mut engine = Engine::new(plan.clone());
        let outcome =
            run_stream(&mut engine, Trickle { bytes: marked.as_bytes(), step }, false).expect("in memory");
        assert_eq!(outcome.rejected, [], "reads of {step} bytes");
        assert!(state(&engine, &outcome.rejected) == plain, "reads of {step} bytes");
    }
    let mut engine = Engine::new(plan);
    let inside = format!("{lines}\u{feff}{lines}");
    let outcome = run_stream(&mut engine, inside.as_bytes(), false).expect("in memory");
    // Line 3 is the marked join; line 4 repeats order o1 exactly, a no-op.
    assert_eq!(outcome.rejected.iter().map(|r| r.line).collect::<Vec<_>>(), [3]);
}
