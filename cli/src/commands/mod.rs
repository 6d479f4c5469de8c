//! Command-line interface (clap): one module per command.
//!
//! Inspection commands (`threads`, `search`, `show`, `turns`, `items`, `tail`, `stats`, `verify`) need an
//! existing store; `import` and `demo` create one; `export` writes a Codex home and `rebuild`
//! recomputes every projection from the logs. Every command takes the data directory's lock
//! for as long as it runs and releases it on exit, or (`--connect URL`, `THREADSTORE_CONNECT`)
//! acts through a running `threadstore serve` instead: `threads`, `search`, `show`, `turns`, `items`,
//! `tail`, `stats`, `import`, `export` and `demo` do (see [`common::Target`]); `verify`,
//! `rebuild` and `serve` need the directory itself. With `--postgres URL` (`THREADSTORE_POSTGRES`)
//! every command but `rebuild` works on the store in that PostgreSQL database instead, `serve`
//! and `verify` included, while other processes use it too; `migrate --to-postgres URL` copies
//! the data directory's store there. `--json` output shapes are documented in
//! [`common`]. Tables and report lines fit the display width (`--width`, `COLUMNS`, the
//! terminal; `--wide` cuts nothing): see [`layout`].

mod bench;
mod common;
mod demo;
mod export;
mod import;
mod items;
mod layout;
mod migrate;
mod rebuild;
mod search;
mod serve;
mod show;
mod stats;
mod tail;
mod threads;
mod turns;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Width of tables and report lines, in display columns (a CJK character takes two).
    /// Default: $COLUMNS, else the terminal's width when stdout is a terminal, else 100. Long
    /// texts (previews, messages, paths, names) are cut with "…"; ids, times and counts never are.
    #[arg(long, global = true, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(1..))]
    pub width: Option<u16>,
    /// Cut no text, whatever the width (wins over --width).
    #[arg(long, global = true)]
    pub wide: bool,
    /// Act through a running `threadstore serve` at this WebSocket URL instead of opening the
    /// data directory (`threads`, `show`, `turns`, `items`, `tail`, `stats`, `import`, `export`,
    /// `demo`).
    #[arg(long, global = true, env = "THREADSTORE_CONNECT", value_name = "URL")]
    pub connect: Option<String>,
    /// Use the store on this PostgreSQL database (a libpq connection string or URL) instead of
    /// the data directory: every command, `serve` included, works on it, and any number of
    /// processes on any number of machines can do so at once. `--connect` wins over it.
    #[arg(long, global = true, env = "THREADSTORE_POSTGRES", value_name = "URL")]
    pub postgres: Option<String>,
    /// The schema of the store in that database (created when missing).
    #[arg(
        long,
        global = true,
        env = "THREADSTORE_POSTGRES_SCHEMA",
        value_name = "NAME",
        default_value = "threadstore"
    )]
    pub postgres_schema: String,
    /// Bearer token: the one `serve` requires of its clients, the one `--connect` sends.
    #[arg(long, global = true, env = "THREADSTORE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
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
    Bench(bench::BenchArgs),
    /// Lists threads (filters, sort, paging); `--json` prints the `thread/list` result.
    Threads(threads::ThreadsArgs),
    /// Full-text search over every thread (words, "phrases", prefix*), or with `--thread` every
    /// occurrence inside one thread.
    Search(search::SearchArgs),
    /// Shows one thread's metadata.
    Show(show::ShowArgs),
    /// Pages a thread's turns; `--json` prints the `thread/turns/list` result.
    Turns(turns::TurnsArgs),
    /// Pages a thread's items (or one turn's).
    Items(items::ItemsArgs),
    /// Follows the event feed: replays from `--from`, then prints events as they are committed.
    Tail(tail::TailArgs),
    /// Counts threads, items and bytes on disk.
    Stats(stats::StatsArgs),
    /// Checks every projection against a rebuild from the log; exit code 1 on differences.
    Verify(verify::VerifyArgs),
    /// Imports Codex rollout files: a file, a folder, or a Codex home.
    Import(import::ImportArgs),
    /// Writes threads back in Codex's layout (sessions/, archived_sessions/, session_index.jsonl).
    Export(export::ExportArgs),
    /// Rebuilds every projection from the logs (into a fresh database, swapped in when verified).
    Rebuild(rebuild::RebuildArgs),
    /// Copies the data directory's store into PostgreSQL (`--to-postgres URL`, schema
    /// `--postgres-schema`) and verifies the copy.
    Migrate(migrate::MigrateArgs),
    /// Serves the store over JSON-RPC 2.0: WebSocket (`--listen`) or stdin/stdout (`--stdio`).
    Serve(serve::ServeArgs),
}

/// Runs a parsed command line; the exit code is 0 unless the command reports a failure
/// (`verify` found differences, `import` could not read a file).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let layout = layout::Layout::resolve(cli.width, cli.wide);
    let target = &match (
        cli.connect.filter(|url| !url.is_empty()),
        cli.postgres.clone().filter(|url| !url.is_empty()),
    ) {
        (Some(url), _) => common::Target::Remote {
            url,
            token: cli.token.clone(),
        },
        (None, Some(url)) => common::Target::Postgres {
            url,
            schema: cli.postgres_schema.clone(),
        },
        (None, None) => common::Target::Local(cli.data.clone()),
    };
    match cli.command {
        Command::Demo(args) => demo::run(target, args).await.map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => bench::run(args, cli.postgres.clone())
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Threads(args) => threads::run(target, args, layout).await,
        Command::Search(args) => search::run(target, args, layout).await,
        Command::Show(args) => show::run(target, args, layout).await,
        Command::Turns(args) => turns::run(target, args, layout).await,
        Command::Items(args) => items::run(target, args, layout).await,
        Command::Tail(args) => tail::run(target, args).await,
        Command::Stats(args) => stats::run(target, args, layout).await,
        Command::Verify(args) => verify::run(target, args).await,
        Command::Import(args) => import::run(target, args, layout).await,
        Command::Export(args) => export::run(target, args, layout).await,
        Command::Rebuild(args) => rebuild::run(target.local("rebuild")?, args).await,
        Command::Serve(args) => serve::run(target, args, cli.token).await,
        Command::Migrate(args) => migrate::run(&cli.data, &cli.postgres_schema, args).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    /// clap's own checks of the command line (duplicate flags: a global `--width` must not clash
    /// with a subcommand's option), which otherwise only run when a command is parsed.
    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
