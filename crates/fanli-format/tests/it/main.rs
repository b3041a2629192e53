//! The boundary formats: plan files (every mistake with its key and line) and event lines.

mod chain;
mod events;
mod plans;
mod stream;
