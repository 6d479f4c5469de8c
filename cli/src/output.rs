//! Everything the commands print goes through here, so a closed pipe is handled in one place.
//!
//! When the reader of stdout goes away (`threadstore items … --json | head -c 100`), the next
//! write fails with `BrokenPipe` (Rust ignores `SIGPIPE`). [`outln!`] turns that failure into the
//! error [`StdoutClosed`], which the command returns with `?` like any other error: it unwinds
//! through `common::with_store`, so the store is closed (appends fsynced, actors stopped, the
//! directory lock released), and `main` then exits with status 0 without a word. This is chosen
//! over restoring the default `SIGPIPE` disposition, which would kill the process at whatever
//! write it was doing — in the middle of an import, with the store open — and needs `unsafe`.
//!
//! Diagnostics go to stderr through [`errln!`], which drops what cannot be written: with stderr
//! closed as well (`2>&1 | head`) there is nobody left to tell. `clippy::print_stdout` and
//! `clippy::print_stderr` are denied in the crate, so `println!` and `eprintln!` (which panic on
//! a closed pipe) cannot come back unnoticed.

use std::fmt;
use std::io::{self, Write as _};

/// Stdout was closed by its reader: the command stops, and the process exits quietly with 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout was closed by its reader")
    }
}

impl std::error::Error for StdoutClosed {}

/// Whether `e` (or any error in its chain) is [`StdoutClosed`].
pub fn is_stdout_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| cause.is::<StdoutClosed>())
}

/// Writes `text` to stdout and flushes it; a closed pipe is [`StdoutClosed`].
pub fn write_stdout(text: fmt::Arguments<'_>, newline: bool) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    let written = out
        .write_fmt(text)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
    }
}

/// Writes `text` and a newline to stderr, dropping it if stderr cannot be written.
pub fn write_stderr(text: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(text).and_then(|()| err.write_all(b"\n"));
}

/// `println!` that returns `anyhow::Result<()>`: `Err(StdoutClosed)` when the reader is gone.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*), true)
    };
}

/// `print!` that returns `anyhow::Result<()>` (see [`outln!`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*), false)
    };
}

/// `eprintln!` that never panics: what cannot be written to stderr is dropped.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::write_stderr(format_args!($($arg)*))
    };
}

pub(crate) use {errln, out, outln};
