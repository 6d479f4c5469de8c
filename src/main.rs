//! The `threadstore` binary: `demo` runs several concurrent agent sessions against the embedded
//! store, `bench` measures it, `import` reads Codex rollout files into it, and `threads`, `show`,
//! `turns`, `items`, `tail`, `stats` and `verify` inspect it (see `cli`).

mod bench;
mod cli;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc for the binary: sled allocates and frees a node copy on every insert, and glibc's
/// malloc cost about a quarter of the CPU of an append (measured with the append probe: 117 vs
/// 91 µs of CPU per buffered append at 64 writers). Embedders pick their own allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
