//! What the server counts, in one registry per instance (prometheus-client, so that servers in
//! one process, as in the tests, keep apart), served as Prometheus text on `/metrics`: database
//! statements, HTTP requests by route and status with their durations, webhook attempts, live
//! subscriptions, and the delivery queue (read from the database at each scrape).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route (`/api/v2/users/{id}`), so the label set stays small.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

pub struct Metrics {
    registry: Registry,
    statements: Counter,
    statement_errors: Counter,
    statement_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    /// Read by tests that count the statements a query costs.
    statement_count: AtomicU64,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<RouteLabels, Histogram>,
    pub webhook_attempts: Family<OutcomeLabels, Counter>,
    pub subscriptions: Gauge,
    /// Deliveries by status, and those due now: set from the database at each scrape.
    pub deliveries: Family<StatusLabels, Gauge>,
    pub deliveries_due: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("orgraph");
        let statements = Counter::default();
        let statement_errors = Counter::default();
        let statement_seconds = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0])
        });
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        let subscriptions = Gauge::default();
        let deliveries = Family::<StatusLabels, Gauge>::default();
        let deliveries_due = Gauge::default();
        registry.register("db_statements", "Statements sent to the database", statements.clone());
        registry.register("db_statement_errors", "Statements the database refused", statement_errors.clone());
        registry.register("db_statement_seconds", "Time spent in database statements", statement_seconds.clone());
        registry.register("http_requests", "HTTP requests answered, by route and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route", request_seconds.clone());
        registry.register("webhook_attempts", "Webhook requests sent, by outcome", webhook_attempts.clone());
        registry.register("subscriptions_active", "Live event subscriptions (GraphQL and the event socket)", subscriptions.clone());
        registry.register("webhook_deliveries", "Webhook deliveries by status", deliveries.clone());
        registry.register("webhook_deliveries_due", "Deliveries waiting to be sent now", deliveries_due.clone());
        Metrics {
            registry,
            statements,
            statement_errors,
            statement_seconds,
            statement_count: AtomicU64::new(0),
            requests,
            request_seconds,
            webhook_attempts,
            subscriptions,
            deliveries,
            deliveries_due,
        }
    }
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Metrics::default())
    }

    /// A statement ran (sea-orm's metric callback).
    pub fn statement(&self, elapsed: Duration, failed: bool) {
        self.statements.inc();
        self.statement_count.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.statement_errors.inc();
        }
        self.statement_seconds.inc_by(elapsed.as_secs_f64());
    }

    /// Statements sent so far.
    pub fn statements(&self) -> u64 {
        self.statement_count.load(Ordering::Relaxed)
    }

    /// Prometheus text (OpenMetrics).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Counts a live subscription for as long as it is held.
pub struct SubscriptionGuard(Gauge);

impl SubscriptionGuard {
    pub fn new(metrics: &Metrics) -> Self {
        metrics.subscriptions.inc();
        SubscriptionGuard(metrics.subscriptions.clone())
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}
