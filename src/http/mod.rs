//! The HTTP surface: routes, and the layers every request passes (logging with duration and
//! client address, CORS, body size limit, timeout).

pub mod client_address;
pub mod cors;
pub mod envelope;
pub mod event_socket;
pub mod graphql;
pub mod graphql_over_http;
pub mod graphql_sse;
pub mod health;
pub mod idempotency;
pub mod listener;
pub mod persisted_queries;
pub mod php_variables;
pub mod playground;
pub mod rest_acl;
pub mod rest_auth;
pub mod rest_orgs;
pub mod rest_users;
pub mod scim;
pub mod subscriptions;
pub mod trusted_documents;
pub mod tree_import;
pub mod v2_caller;
pub mod v2_messages;
pub mod v3;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post, put},
};
use tower_http::{
    LatencyUnit,
    limit::RequestBodyLimitLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{graphql::OrgraphSchema, state::AppState};

/// State of the HTTP handlers: the application and the schema built on it. Behind one `Arc`:
/// axum clones the state for every handler and middleware of every request, and cloning
/// `AppState` itself touches a reference count per service (5% of a small request's CPU).
#[derive(Clone)]
pub struct HttpState(Arc<Handlers>);

pub struct Handlers {
    pub app: AppState,
    pub schema: OrgraphSchema,
    /// Apollo's automatic persisted queries of `/graphql`.
    pub persisted: persisted_queries::PersistedQueries,
    /// The only documents `/graphql` runs, when `--trusted-documents` names a manifest.
    pub trusted: Option<trusted_documents::TrustedDocuments>,
}

impl Handlers {
    fn new(app: AppState, schema: OrgraphSchema) -> anyhow::Result<Self> {
        let persisted = persisted_queries::PersistedQueries::new(app.config.persisted_queries_mb.saturating_mul(1 << 20));
        let trusted = match &app.config.trusted_documents {
            Some(path) => {
                let trusted = trusted_documents::TrustedDocuments::load(path, app.config.trusted_documents_playground)?;
                tracing::info!(documents = trusted.len(), path = %path.display(), "/graphql runs only the trusted documents");
                Some(trusted)
            }
            None => None,
        };
        Ok(Handlers { app, schema, persisted, trusted })
    }
}

impl std::ops::Deref for HttpState {
    type Target = Handlers;

    fn deref(&self) -> &Handlers {
        &self.0
    }
}

pub fn router(app: AppState, schema: OrgraphSchema) -> anyhow::Result<Router> {
    let limits = app.config.limits.clone();
    let cors = cors::layer(app.config.cors_allowed_origins.as_ref());
    let metrics_here = app.config.metrics.on_main_port();
    let state = HttpState(Arc::new(Handlers::new(app, schema)?));
    let timeout = Duration::from_secs(limits.request_timeout_secs);
    // Each dialect is its own router with its own error layer, outside its body limit and its
    // timeout so that their refusals are answered in the dialect too.
    let graphql = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::execute))
        .route("/graphql/ws", get(subscriptions::upgrade))
        .route("/graphql/v2", post(graphql::execute_v2))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(axum::middleware::from_fn(envelope::graphql_errors));
    let mut graphql_and_health = Router::new()
        .route("/graphql/assets/{name}", get(playground::asset))
        .route("/events/v1/management/sub", get(event_socket::subscribe))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if metrics_here {
        graphql_and_health = graphql_and_health.route("/metrics", get(health::metrics));
    }
    let graphql_and_health = graphql_and_health
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout));
    let v3 = v3::routes()
        .route("/api/v3/{*rest}", axum::routing::any(envelope::unknown_api_route))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(axum::middleware::from_fn(envelope::v3_errors))
        .layer(axum::middleware::from_fn(envelope::v3_status_for_node_sdk));
    let scim = Router::new()
        .nest("/scim/v2", scim::router())
        .route("/scim/{*rest}", axum::routing::any(scim::unknown_endpoint))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn(scim::error::scim_errors));
    let routes = Router::new()
        .merge(graphql)
        .merge(graphql_and_health)
        .merge(v2_rest(state.clone(), &limits, timeout))
        .merge(v3)
        .merge(scim)
        .route_layer(axum::middleware::from_fn_with_state(state, health::record));
    // CORS outside every dialect's layers: preflights are answered before routing, and refusals
    // carry the headers a page needs to read them.
    let routes = match cors {
        Some(cors) => routes.layer(cors),
        None => routes,
    };
    Ok(with_request_log(routes))
}

/// `/metrics` alone, for `--metrics-listen`.
pub fn metrics_router(app: AppState, schema: OrgraphSchema) -> anyhow::Result<Router> {
    let state = HttpState(Arc::new(Handlers::new(app, schema)?));
    Ok(with_request_log(Router::new().route("/metrics", get(health::metrics)).with_state(state)))
}

/// One log line per request, at its end, with its client address, status and duration.
fn with_request_log(routes: Router) -> Router {
    routes.layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &axum::http::Request<axum::body::Body>| match client_address::client_address(req.extensions()) {
                Some(client) => tracing::info_span!("request", method = %req.method(), uri = %req.uri(), version = ?req.version(), %client),
                None => tracing::info_span!("request", method = %req.method(), uri = %req.uri(), version = ?req.version()),
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros)),
    )
}

/// Authing's v2 REST routes, and any other route under `/api/`: callers found by `V2Caller`,
/// errors answered in the v2 envelope.
fn v2_rest(state: HttpState, limits: &crate::config::Limits, timeout: Duration) -> Router {
    // Imports carry whole trees: they get their own, larger body limit.
    let imports = Router::new()
        .route("/api/v2/orgs/import", post(rest_orgs::import))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(limits.max_import_bytes));
    Router::new()
        .route("/api/v2/.well-known", get(rest_auth::well_known))
        .route("/api/v2/users/{id}", get(rest_users::detail))
        .route("/api/v2/orgs", get(rest_orgs::list))
        .route("/api/v2/orgs/count", get(rest_orgs::count))
        .route("/api/v2/orgs/export", get(rest_orgs::export))
        .route("/api/v2/orgs/nodes/{node_id}/members", get(rest_orgs::node_members))
        .route("/api/v2/resource-namespace/{pool}", get(rest_acl::list_namespaces).post(rest_acl::create_namespace))
        .route("/api/v2/resource-namespace/{pool}/code/{code}", put(rest_acl::update_namespace_by_code).delete(rest_acl::delete_namespace_by_code))
        .route("/api/v2/resource-namespace/{pool}/{id}", put(rest_acl::update_namespace_by_id).delete(rest_acl::delete_namespace_by_id))
        .route("/api/v2/resources", get(rest_acl::list_resources).post(rest_acl::create_resource))
        .route("/api/v2/resources/detail", get(rest_acl::resource_detail))
        .route("/api/v2/resources/{code}", post(rest_acl::update_resource).delete(rest_acl::delete_resource))
        .route("/api/v2/acl/is-allowed", post(rest_acl::is_allowed))
        .route("/api/v2/acl/revoke-resource", post(rest_acl::revoke_resource))
        .route("/api/v2/acl/authorize-resources", post(rest_acl::authorize_resources))
        .route("/api/v2/acl/revoke-resources", post(rest_acl::revoke_resources))
        .route("/api/v2/acl/list-authorized-resources-batch", post(rest_acl::list_authorized_resources_batch))
        .route("/api/{*rest}", axum::routing::any(envelope::unknown_api_route))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .merge(imports)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn(envelope::v2_errors))
}
