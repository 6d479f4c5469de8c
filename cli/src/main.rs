//! The `threadstore` binary: `demo` runs several concurrent agent sessions against the embedded
//! store, `bench` measures it, `import` reads Codex rollout files into it, and `threads`, `show`,
//! `turns`, `items`, `tail`, `stats` and `verify` inspect it, `export` and `rebuild` rewrite it,
//! and `serve` shares it over JSON-RPC (see [`commands`], one module per command). What they
//! print goes through [`output`], which ends a command quietly when its stdout pipe is closed.

// `println!`/`eprintln!` panic on a closed pipe: print with `output::outln!`/`errln!` instead.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod output;

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// mimalloc for the binary: sled allocates and frees a node copy on every insert, and glibc's
/// malloc cost about a quarter of the CPU of an append (measured with the append probe: 117 vs
/// 91 µs of CPU per buffered append at 64 writers). Embedders pick their own allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long the exit waits for work still on the runtime's blocking pool once the command has
/// returned (the store is closed by then; this only bounds a stray blocking call).
const RUNTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    // `RUST_LOG=threadstore=debug` traces every store operation and actor message: one line per
    // span as it closes, with its fields (thread, positions, counts) and how long it took.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let cli = commands::Cli::parse();
    // Built by hand rather than with `#[tokio::main]`, whose runtime waits without limit for every
    // blocking-pool task when `main` returns: a blocking read or write on a pipe nobody serves
    // would keep the process alive after the command has finished and closed the store.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            output::errln!("error: starting the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        // The reader of stdout is gone (`| head`): nothing more to say, and nobody to say it to.
        Err(e) if output::is_stdout_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            output::errln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN_TIMEOUT);
    code
}
