//! Standard output for every command: `print!` and `println!` panic ("failed printing to
//! stdout: Broken pipe", exit 101) when the reader has gone, as in `fanli check PLAN --json |
//! head`. Everything the commands print goes through [`outln!`] and [`out!`] instead (clippy's
//! `disallowed_macros` in `clippy.toml` keeps it so): a closed pipe is not an error, the rest of
//! the output is dropped quietly and the command ends with the status it would have had; any
//! other failure to write is reported on stderr and exits 1.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the reader of standard output has gone: nothing more is written.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to standard output (see the module's doc).
pub(crate) fn write(args: std::fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        handle(e);
    }
}

/// Writes `bytes` to standard output as they are (see the module's doc).
pub(crate) fn bytes(bytes: &[u8]) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        handle(e);
    }
}

/// What a failed write to standard output comes to: a closed pipe is remembered and ignored,
/// anything else ends the command with status 1.
pub(crate) fn handle(e: io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CLOSED.store(true, Ordering::Relaxed);
        return;
    }
    eprintln!("fanli: cannot write the output: {e}");
    std::process::exit(1);
}

/// `print!` to standard output, where a closed pipe is not an error.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*)) };
}

/// `println!` to standard output, where a closed pipe is not an error.
macro_rules! outln {
    () => { $crate::out::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::write(format_args!("{}\n", format_args!($($arg)*))) };
}
