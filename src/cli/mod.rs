//! Command-line interface (clap): one module per command.

mod demo;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// threadstore: a fast, event-sourced store for AI-agent conversation threads.
#[derive(Parser, Debug)]
#[command(name = "threadstore", version, about)]
pub struct Cli {
    /// Data directory of the store.
    #[arg(
        long,
        global = true,
        env = "THREADSTORE_DATA",
        default_value = "./threadstore-data"
    )]
    pub data: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Several concurrent agent sessions write realistic threads; then page turns and list threads.
    Demo(demo::DemoArgs),
    /// Measures the disk's floor and threadstore's appends; prints a Markdown table.
    Bench(crate::bench::BenchArgs),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(&cli.data, args).await,
        Command::Bench(args) => crate::bench::run(args).await,
    }
}
