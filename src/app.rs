//! Running the application: the background tasks (started apart from the state, owned,
//! stopped on shutdown) and the HTTP server.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{config::Config, graphql, http, http::client_address::TrustedProxies, state::AppState};

/// The tasks a serving instance runs beside requests: the webhook delivery worker, on
/// PostgreSQL the relay of other instances' events, on SQLite the WAL checkpointer, the applier
/// of scheduled reorganizations, and with `--history-retention-days` the hourly pruning of older
/// history. Owned here
/// and stopped with [`stop`].
///
/// [`stop`]: Background::stop
pub struct Background {
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

impl Background {
    /// Start them. On PostgreSQL this returns once the relay listens, so a subscriber of this
    /// instance gets every event committed by another one after the start.
    pub async fn start(state: &AppState) -> anyhow::Result<Self> {
        Self::start_with(state, true).await
    }

    /// Everything but the delivery worker: the events benchmark runs its own, so that it can
    /// build a backlog first and measure how fast the worker drains it.
    pub async fn start_without_delivery(state: &AppState) -> anyhow::Result<Self> {
        Self::start_with(state, false).await
    }

    async fn start_with(state: &AppState, deliver: bool) -> anyhow::Result<Self> {
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
            let listener = crate::domain::events::listen_to_other_instances(&state.config.database_url)
                .await
                .context("listening for the events of other instances (PostgreSQL LISTEN)")?;
            let relay = crate::domain::events::run_cross_instance_relay(
                state.config.database_url.clone(),
                listener,
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
        {
            // Scheduled reorganizations: every second, the batches due are applied (at once
            // after a restart past their time); several instances apply each exactly once.
            let (schedule, stop) = (state.schedule.clone(), cancel.clone());
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => if let Err(e) = schedule.apply_due().await {
                            tracing::warn!(error = %e, "applying the scheduled changes due failed; retrying");
                        },
                        () = stop.cancelled() => break,
                    }
                }
            });
        }
        if let Some(days) = state.config.history_retention_days {
            let (history, stop) = (state.history.clone(), cancel.clone());
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    tokio::select! {
                        _ = tick.tick() => match history.prune(days).await {
                            Ok(0) => {}
                            Ok(gone) => tracing::info!(versions = gone, days, "deleted history older than the retention"),
                            Err(e) => tracing::warn!(error = %e, "pruning the history failed"),
                        },
                        () = stop.cancelled() => break,
                    }
                }
            });
        }
        {
            // Idempotency keys live 24 hours: their table holds at most a day of keyed requests.
            let (keys, stop) = (state.idempotency.clone(), cancel.clone());
            tasks.spawn(async move {
                // Not at start: a fresh server writes nothing until asked to.
                let every = Duration::from_secs(600);
                let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    tokio::select! {
                        _ = tick.tick() => if let Err(e) = keys.prune().await {
                            tracing::warn!(error = %e, "forgetting the idempotency keys older than 24 hours failed");
                        },
                        () = stop.cancelled() => break,
                    }
                }
            });
        }
        Ok(Background { cancel, tasks })
    }

    /// Ask every task to stop and wait for them (the worker finishes the deliveries it holds).
    pub async fn stop(mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The sockets a server listens on: the main one, and `--metrics-listen`'s.
pub struct Listeners {
    pub main: TcpListener,
    pub metrics: Option<TcpListener>,
}

impl Listeners {
    /// Bind `--listen` and, if given, `--metrics-listen`.
    pub async fn bind(config: &Config) -> anyhow::Result<Listeners> {
        let main = TcpListener::bind(config.listen).await.with_context(|| format!("listening on {}", config.listen))?;
        let metrics = match config.metrics.listen {
            Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| format!("listening on {addr} (--metrics-listen)"))?),
            None => None,
        };
        Ok(Listeners { main, metrics })
    }
}

impl From<TcpListener> for Listeners {
    fn from(main: TcpListener) -> Self {
        Listeners { main, metrics: None }
    }
}

/// Serve until `shutdown` resolves: both listeners close at once, then the requests in flight
/// finish (see `http::listener::DRAIN`).
pub async fn serve(
    state: AppState,
    listeners: impl Into<Listeners>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listeners = listeners.into();
    let options = http::listener::ListenOptions {
        header_read_timeout: Duration::from_secs(state.config.limits.header_read_timeout_secs.max(1)),
        max_connections: state.config.limits.max_connections,
        proxies: Arc::new(TrustedProxies::new(state.config.trusted_proxies.clone(), state.config.forwarded_header)),
    };
    let schema = graphql::build_schema(state.clone());
    let stop = CancellationToken::new();
    let router = http::router(state.clone(), schema.clone())?;
    let metrics = match listeners.metrics {
        Some(listener) => {
            let router = http::metrics_router(state, schema)?;
            Some(http::listener::serve(router, listener, options.clone(), stop.clone().cancelled_owned()))
        }
        None => None,
    };
    let main = http::listener::serve(router, listeners.main, options, stop.clone().cancelled_owned());
    let signal = async {
        shutdown.await;
        stop.cancel();
    };
    tokio::join!(signal, main, async {
        if let Some(metrics) = metrics {
            metrics.await;
        }
    });
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
