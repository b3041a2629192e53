//! A stream applied line by line: parse, apply, and keep going past bad lines.

use std::io::{self, Read, Write};

use fanli_engine::{Engine, Timestamp};
use serde_json::Value;

use crate::chain::Chain;
use crate::line::{LineOutcome, Refusal};
use crate::{EventLine, trace_entry};

/// What a stream did besides the engine's state.
pub struct Outcome {
    /// Lines read (blank ones included).
    pub lines: usize,
    /// Events applied.
    pub applied: usize,
    /// Rejected lines, in order.
    pub rejected: Vec<Rejected>,
    /// With a trace: one entry per event line.
    pub trace: Vec<Value>,
    /// With a chain or a report: the audit chain over the accepted events.
    pub chain: Chain,
    /// With `until`: the line of the first event past it, where the run stopped.
    pub stopped_at: Option<usize>,
}

/// A rejected line: its number (from 1) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The line, from 1.
    pub line: usize,
    /// Why, with its code.
    pub refusal: Refusal,
}

/// What a run does beyond applying the events.
#[derive(Default)]
pub struct Extras<'w> {
    /// Keep a trace entry per line.
    pub trace: bool,
    /// Stop before the first event later than this (`fanli run --until`).
    pub until: Option<Timestamp>,
    /// Write every accepted event here, chained (`fanli run --chain`).
    pub chain: Option<&'w mut dyn Write>,
    /// Write the daily pool report here, a line after each `close_day` (`fanli run --report`).
    pub report: Option<&'w mut dyn Write>,
}

/// Applies every line of `input`; a bad line is recorded and the rest still apply. Blank lines
/// are skipped (they still count in the line numbers).
///
/// Reads in large blocks and parses each line where it lies: no copy per line.
pub fn run_stream(engine: &mut Engine, input: impl Read, trace: bool) -> io::Result<Outcome> {
    run_stream_with(engine, input, Extras { trace, ..Extras::default() })
}

/// [`run_stream`] with a chain, a report or a stop time.
pub fn run_stream_with(
    engine: &mut Engine,
    mut input: impl Read,
    mut extras: Extras<'_>,
) -> io::Result<Outcome> {
    const BLOCK: usize = 1 << 20;
    let mut outcome = Outcome {
        lines: 0,
        applied: 0,
        rejected: Vec::new(),
        trace: Vec::new(),
        chain: Chain::default(),
        stopped_at: None,
    };
    let mut buffer = vec![0u8; BLOCK];
    // `buffer[start..end]` is read and not yet applied.
    let (mut start, mut end) = (0, 0);
    let mut eof = false;
    // Whether the start of the stream has been looked at for a byte-order mark, which some
    // Windows tools write at the start of a UTF-8 file: it is skipped, not line 1's first byte.
    let mut bom_checked = false;
    loop {
        if !bom_checked && (end >= BOM.len() || eof) {
            if buffer[..end].starts_with(BOM) {
                start = BOM.len();
            }
            bom_checked = true;
        }
        // The complete lines in the buffer, each read one line ahead of its turn: the names the
        // next line will look up start loading while this one applies (`Engine::prefetch`), so
        // that its cache misses overlap this line's work instead of stalling in turn.
        let mut rest = &buffer[start..end];
        let mut ring = [Line::default(), Line::default()];
        // The slot of `ring` read and not yet applied.
        let mut ahead: Option<usize> = None;
        while let Some(newline) = memchr::memchr(b'\n', rest) {
            let next = ahead.map_or(0, |i| 1 - i);
            ring[next].read(&rest[..newline]);
            rest = &rest[newline + 1..];
            if let Some(Ok(())) = ring[next].read {
                ring[next].line.prefetch(engine);
            }
            if let Some(i) = ahead.replace(next)
                && apply_line(engine, &mut outcome, &mut extras, &ring[i])?
            {
                return Ok(outcome);
            }
        }
        if let Some(i) = ahead
            && apply_line(engine, &mut outcome, &mut extras, &ring[i])?
        {
            return Ok(outcome);
        }
        start = end - rest.len();
        if eof {
            if start < end {
                let mut last = Line::default();
                last.read(&buffer[start..end]);
                apply_line(engine, &mut outcome, &mut extras, &last)?;
            }
            return Ok(outcome);
        }
        // Keep the partial line at the front, with room for a block (or a longer line), and
        // read on.
        buffer.copy_within(start..end, 0);
        (start, end) = (0, end - start);
        if buffer.len() - end < BLOCK / 2 {
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = loop {
            match input.read(&mut buffer[end..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let read = read?;
        end += read;
        eof = read == 0;
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A line of the stream, read as JSON.
#[derive(Default)]
struct Line<'a> {
    line: EventLine<'a>,
    /// What reading `line` gave; `None` for a blank line.
    read: Option<Result<(), crate::EventError>>,
}

impl<'a> Line<'a> {
    fn read(&mut self, bytes: &'a [u8]) {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        self.read = (!bytes.trim_ascii().is_empty()).then(|| self.line.read(bytes));
    }
}

/// Applies one line (or records why not); true when the run stops here (`until`).
fn apply_line(
    engine: &mut Engine,
    outcome: &mut Outcome,
    extras: &mut Extras<'_>,
    line: &Line<'_>,
) -> io::Result<bool> {
    outcome.lines += 1;
    let number = outcome.lines;
    let trace = extras.trace;
    let Some(read) = &line.read else {
        if trace {
            outcome.trace.push(crate::blank_entry(number));
        }
        return Ok(false);
    };
    let event = read.clone().and_then(|()| line.line.event());
    if let Ok(event) = &event
        && extras.until.is_some_and(|until| event.at > until)
    {
        outcome.lines -= 1;
        outcome.stopped_at = Some(number);
        return Ok(true);
    }
    match crate::line::at_input_offset(crate::line::apply(engine, event), &line.line) {
        LineOutcome::Accepted(event) => {
            outcome.applied += 1;
            if trace {
                let entry = trace_entry(engine, number, event.kind.type_name(), Ok(engine.applied()));
                outcome.trace.push(entry);
            }
            if extras.chain.is_some() || extras.report.is_some() {
                let chained = outcome.chain.link(&event);
                if let Some(out) = extras.chain.as_mut() {
                    out.write_all(chained.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                if let (Some(out), Some(report)) =
                    (extras.report.as_mut(), outcome.chain.report(engine, &event))
                {
                    serde_json::to_writer(&mut **out, &report)?;
                    out.write_all(b"\n")?;
                }
            }
        }
        LineOutcome::Refused(refusal) => {
            if trace {
                outcome.trace.push(trace_entry(engine, number, refusal.kind, Err(&refusal)));
            }
            outcome.rejected.push(Rejected { line: number, refusal });
        }
        LineOutcome::Blank => unreachable!("a blank line has no event"),
    }
    Ok(false)
}
