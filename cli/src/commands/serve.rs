//! `threadstore serve`: the store as a JSON-RPC 2.0 server for other processes (issue 7).
//!
//! Over WebSocket (`--listen host:port`, loopback by default; port 0 picks a free one) it prints
//! `threadstore serve: listening on ws://<addr>` on stdout once bound. Over stdio (`--stdio`) it
//! reads one JSON-RPC message per line on stdin and writes answers and `feed/event`
//! notifications, one per line, on stdout. Logs go to stderr either way. The protocol is
//! documented in `threadstore_rpc`.
//!
//! A non-loopback address is refused unless a bearer token is set (`--token` or
//! `THREADSTORE_TOKEN`); clients then send `Authorization: Bearer <token>`. On SIGINT or SIGTERM
//! (or the end of stdin) the server stops accepting, closes its connections, makes every append
//! durable, stops every thread actor and closes the store, releasing the directory lock.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;
use threadstore::{SledThreadStore, ThreadStore};
use threadstore_rpc::server::{stdio, ws};

use super::common::{self, Open};
use crate::output::{errln, outln};

/// `serve` options.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// WebSocket address to listen on (`host:port`; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: String,
    /// Serve newline-delimited JSON-RPC on stdin/stdout instead of a WebSocket.
    #[arg(long)]
    pub stdio: bool,
    /// Largest request message accepted, in bytes (larger ones get error -32007).
    #[arg(long, default_value_t = ws::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: u32,
    /// Most concurrent WebSocket connections (one more is refused with HTTP 429).
    #[arg(long, default_value_t = ws::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: u32,
}

/// Resolves on SIGINT or SIGTERM.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    // The handlers are installed here, when the future is made, not when it is first polled: a
    // signal that comes before the first poll (the stdio loop may answer a request that was
    // already waiting on stdin first) must not kill the process with the default action.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                (Some(mut term), None) => {
                    term.recv().await;
                }
                (None, Some(mut int)) => {
                    int.recv().await;
                }
                (None, None) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs the server until a signal (or the end of stdin), then closes the store cleanly.
/// `token` is the bearer token clients must send (the global `--token`, required for a
/// non-loopback `--listen` address; stdio takes none).
pub async fn run(
    target: &common::Target,
    args: ServeArgs,
    token: Option<String>,
) -> anyhow::Result<ExitCode> {
    // Refuse a bad or unprotected address before touching the store.
    if args.stdio {
        if token.is_some() {
            bail!("--stdio serves the process that started it: it takes no --token (unset THREADSTORE_TOKEN)");
        }
    } else {
        ws::check_listen(&args.listen, token.as_deref())?;
    }
    let store = match target.open("serve", Open::Create).await? {
        common::OpenStore::Sled(s) => Serving::Sled(Arc::new(s)),
        common::OpenStore::Postgres(s) => Serving::Postgres(Arc::new(s)),
    };
    let shared: Arc<dyn ThreadStore> = match &store {
        Serving::Sled(s) => s.clone(),
        Serving::Postgres(s) => s.clone(),
    };
    let module = threadstore_rpc::rpc_module(shared, u64::from(args.max_message_bytes))?;
    let served = if args.stdio {
        tracing::info!(store = %target, "serving JSON-RPC on stdio");
        // Not tokio::io::stdin(): its blocking-pool read would keep the process alive after a
        // signal until the client closes stdin (see `stdio::stdin`).
        match stdio::stdin() {
            Ok(input) => stdio::serve(
                module,
                input,
                tokio::io::stdout(),
                args.max_message_bytes as usize,
                shutdown_signal(),
            )
            .await
            .context("serving on stdio"),
            Err(e) => Err(anyhow::Error::new(e).context("starting the stdin reader thread")),
        }
    } else {
        serve_ws(target, module, &args, token).await
    };
    let closed = close(store).await;
    served?;
    closed.with_context(|| format!("closing the store on {target}"))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve_ws(
    target: &common::Target,
    module: threadstore_rpc::server::Module,
    args: &ServeArgs,
    token: Option<String>,
) -> anyhow::Result<()> {
    let options = ws::WsOptions {
        listen: args.listen.clone(),
        token,
        max_message_bytes: args.max_message_bytes,
        max_connections: args.max_connections,
    };
    // Handlers first: a client may signal as soon as it reads the line below.
    let stop = shutdown_signal();
    let (addr, handle) = ws::start(module, &options).await?;
    // Written and flushed for whoever started the server; a closed stdout does not stop serving
    // (`serve --listen … | head -1` reads the address and leaves the server running).
    let _ = outln!("threadstore serve: listening on ws://{addr} (store {target})");
    // While it serves, a data directory says where: a command locked out of it names the URL.
    let url_file = match target {
        common::Target::Local(data) => Some(data.join(common::SERVE_URL_FILE)),
        _ => None,
    };
    if let Some(url_file) = &url_file {
        if let Err(e) = std::fs::write(url_file, format!("ws://{addr}\n")) {
            tracing::warn!(file = %url_file.display(), error = %e, "cannot record the served URL");
        }
    }
    stop.await;
    if let Some(url_file) = &url_file {
        let _ = std::fs::remove_file(url_file);
    }
    errln!("threadstore serve: shutting down (closing connections, flushing threads)");
    let _ = handle.stop();
    if tokio::time::timeout(Duration::from_secs(10), handle.stopped())
        .await
        .is_err()
    {
        tracing::warn!("connections still open 10 s after the stop; closing the store anyway");
    }
    Ok(())
}

/// The store being served.
enum Serving {
    Sled(Arc<SledThreadStore>),
    Postgres(Arc<threadstore::PostgresThreadStore>),
}

/// Makes every append durable, stops every actor (ending feed subscriptions) and drops the
/// store, which releases the directory lock (on PostgreSQL: this node's writer leases).
async fn close(store: Serving) -> anyhow::Result<()> {
    let (flushed, closed) = match &store {
        Serving::Sled(s) => (
            s.actor_store().flush_all().await,
            s.actor_store().close().await,
        ),
        Serving::Postgres(s) => (s.actor_store().flush_all().await, s.close().await),
    };
    drop(store);
    flushed.context("flushing live threads")?;
    closed.context("stopping the thread actors")?;
    Ok(())
}
