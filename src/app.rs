//! Running the application: the background tasks (started apart from the state, owned,
//! stopped on shutdown) and the HTTP server.

use std::time::Duration;

use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{graphql, http, state::AppState};

/// The tasks a serving instance runs beside requests: the webhook delivery worker, on
/// PostgreSQL the relay of other instances' events, on SQLite the WAL checkpointer. Owned here
/// and stopped with [`stop`].
///
/// [`stop`]: Background::stop
pub struct Background {
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

impl Background {
    pub fn start(state: &AppState) -> Self {
        Self::start_with(state, true)
    }

    /// Everything but the delivery worker: the events benchmark runs its own, so that it can
    /// build a backlog first and measure how fast the worker drains it.
    pub fn start_without_delivery(state: &AppState) -> Self {
        Self::start_with(state, false)
    }

    fn start_with(state: &AppState, deliver: bool) -> Self {
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        if deliver {
            tasks.spawn(crate::delivery::worker::run(
                state.writer.clone(),
                state.sender.clone(),
                state.config.webhooks.clone(),
                state.metrics.clone(),
                cancel.clone(),
            ));
        }
        if !state.config.is_sqlite() {
            let relay = crate::domain::events::run_cross_instance_relay(
                state.config.database_url.clone(),
                state.db.clone(),
                state.writer.bus().clone(),
            );
            let stop = cancel.clone();
            tasks.spawn(async move {
                tokio::select! { () = relay => {}, () = stop.cancelled() => {} }
            });
        }
        if crate::storage::checkpoints_in_background(&state.config.database_url) {
            let (db, stop) = (state.db.clone(), cancel.clone());
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            if let Err(e) = crate::storage::checkpoint(&db).await {
                                tracing::warn!(error = %e, "WAL checkpoint failed");
                            }
                        }
                        () = stop.cancelled() => break,
                    }
                }
            });
        }
        Background { cancel, tasks }
    }

    /// Ask every task to stop and wait for them (the worker finishes the deliveries it holds).
    pub async fn stop(mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Serve until `shutdown` resolves, then finish the requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits = http::listener::ListenLimits {
        header_read_timeout: Duration::from_secs(state.config.limits.header_read_timeout_secs.max(1)),
        max_connections: state.config.limits.max_connections,
    };
    let schema = graphql::build_schema(state.clone());
    let router = http::router(state, schema);
    http::listener::serve(router, listener, limits, shutdown).await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received, finishing requests in flight");
}
