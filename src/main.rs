//! The `threadstore` binary: `demo` runs several concurrent agent sessions against the embedded
//! store, pages through their turns, lists threads and prints what it did and how fast.

mod bench;
mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    cli::run(cli).await
}
