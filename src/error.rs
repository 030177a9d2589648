//! The one error type of the domain and storage layers. It knows nothing of GraphQL or HTTP; the
//! web layers turn it into a GraphQL error (`graphql::errors`) or a REST envelope
//! (`http::envelope`), each with the stable `code` below.

use sea_orm::DbErr;

/// Stable, documented error codes (docs/reference/errors.md). Clients match on these.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const INVALID_TOKEN: &str = "INVALID_TOKEN";
    pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// Apollo's automatic persisted queries: the hash is not known (send the document with it).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// Trusted-documents mode: the document sent is not one of the server's trusted documents.
    pub const PERSISTED_QUERY_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
    /// Persisted queries are turned off on this server.
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// An `Idempotency-Key` sent again with another request (within 24 hours).
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    /// The first request with the key was applied but its answer was lost (the server stopped).
    pub const IDEMPOTENCY_KEY_APPLIED: &str = "IDEMPOTENCY_KEY_APPLIED";
    /// The first request with the key is still running.
    pub const IDEMPOTENCY_KEY_IN_USE: &str = "IDEMPOTENCY_KEY_IN_USE";
}

/// The numeric code of a stable code, for errors that carry no more detail (those raised by
/// async-graphql itself, or by a surface).
pub fn authing_code_of(code_str: &str) -> i64 {
    match code_str {
        code::UNAUTHENTICATED => 2020,
        code::INVALID_TOKEN => 2207,
        code::TOKEN_EXPIRED => 2206,
        // Authing's "user pool does not exist"; given whether the id or the secret is wrong.
        code::INVALID_CREDENTIALS => 2224,
        code::FORBIDDEN => 1001,
        code::SERVICE_UNAVAILABLE => 1000,
        other => i64::from(http_status_of(other)),
    }
}

/// The HTTP status that goes with a stable code.
pub fn http_status_of(code_str: &str) -> u16 {
    match code_str {
        code::UNAUTHENTICATED | code::INVALID_TOKEN | code::TOKEN_EXPIRED | code::INVALID_CREDENTIALS => 401,
        code::FORBIDDEN => 403,
        code::NOT_FOUND => 404,
        code::CONFLICT | code::IDEMPOTENCY_KEY_APPLIED | code::IDEMPOTENCY_KEY_IN_USE => 409,
        code::IDEMPOTENCY_KEY_REUSED => 422,
        code::INVALID_INPUT
        | code::GRAPHQL_VALIDATION_FAILED
        | code::QUERY_TOO_COMPLEX
        | code::PERSISTED_QUERY_NOT_FOUND
        | code::PERSISTED_QUERY_NOT_IN_LIST
        | code::PERSISTED_QUERY_NOT_SUPPORTED => 400,
        code::RATE_LIMITED => 429,
        code::SERVICE_UNAVAILABLE => 503,
        _ => 500,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No access token was sent to an operation that needs one.
    #[error("authentication required: send `Authorization: Bearer <access token>`")]
    Unauthenticated,
    #[error("invalid access token: {0}")]
    InvalidToken(String),
    #[error("access token expired")]
    TokenExpired,
    #[error("wrong user pool id or secret")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{entity} not found: {id}")]
    NotFound { entity: &'static str, id: String },
    #[error("{message}")]
    Conflict { field: Option<&'static str>, message: String },
    #[error("{message}")]
    InvalidInput { field: Option<String>, message: String },
    /// Too many attempts (failed credential checks); retry after the given seconds.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The database is busy (a write waited too long for its turn or a lock); retrying later
    /// succeeds. Nothing was changed.
    #[error("{message}; nothing was changed, retry in {retry_after_secs} s")]
    Unavailable { message: String, retry_after_secs: u64 },
    /// An `Idempotency-Key` that cannot be honoured (`code::IDEMPOTENCY_KEY_*`).
    #[error("{message}")]
    Idempotency { code: &'static str, message: String },
    /// Anything unexpected. Its details are logged, never sent to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => code::UNAUTHENTICATED,
            AppError::InvalidToken(_) => code::INVALID_TOKEN,
            AppError::TokenExpired => code::TOKEN_EXPIRED,
            AppError::InvalidCredentials => code::INVALID_CREDENTIALS,
            AppError::Forbidden(_) => code::FORBIDDEN,
            AppError::NotFound { .. } => code::NOT_FOUND,
            AppError::Conflict { .. } => code::CONFLICT,
            AppError::InvalidInput { .. } => code::INVALID_INPUT,
            AppError::RateLimited { .. } => code::RATE_LIMITED,
            AppError::Unavailable { .. } => code::SERVICE_UNAVAILABLE,
            AppError::Idempotency { code, .. } => code,
            AppError::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }

    /// The numeric code Authing's SDKs read (`errors[].message.code` on `/graphql/v2`, `code` in
    /// the v2 REST envelope, `apiCode` in v3): Authing's own number where it published one, else
    /// the HTTP status of the error (see docs/reference/errors.md).
    pub fn authing_code(&self) -> i64 {
        match self {
            AppError::NotFound { entity: "user", .. } => 2004,
            AppError::Conflict { field: Some("username"), .. } => 2034,
            AppError::Conflict { field: Some("phone"), .. } => 2035,
            AppError::Conflict { field: Some("email"), .. } => 2200,
            AppError::Conflict { field: Some("externalId"), .. } => 2026,
            AppError::Unavailable { .. } => 1000,
            other => authing_code_of(other.code()),
        }
    }

    /// Seconds after which a retry may succeed, for errors that are worth retrying.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs } | AppError::Unavailable { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    pub fn busy(message: impl Into<String>) -> Self {
        AppError::Unavailable { message: message.into(), retry_after_secs: 1 }
    }

    /// The input field the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Conflict { field, .. } => *field,
            AppError::InvalidInput { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        AppError::NotFound { entity, id: id.into() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::InvalidInput { field: Some(field.into()), message: message.into() }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    /// Log internal errors once, where they leave the domain.
    pub fn log_if_internal(&self) {
        if let AppError::Internal(err) = self {
            tracing::error!(error = ?err, "internal error");
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if let Some(busy) = busy_reason(&err) {
            return AppError::busy(busy);
        }
        // A unique index fired although the service checked first: a concurrent writer won.
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => {
                return AppError::Conflict { field: None, message: format!("already exists ({detail})") };
            }
            // A row this change refers to was deleted by a concurrent one.
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                return AppError::Conflict {
                    field: None,
                    message: "an object this change refers to was changed or deleted meanwhile; retry".into(),
                };
            }
            _ => {}
        }
        AppError::Internal(err.into())
    }
}

/// Why the database refused for now, when it did: the pool had no free connection, SQLite was
/// locked, or PostgreSQL gave up waiting for a lock (or broke a deadlock). These are retryable.
fn busy_reason(err: &DbErr) -> Option<&'static str> {
    if let DbErr::ConnectionAcquire(_) = err {
        return Some("the database has no free connection");
    }
    let runtime = match err {
        DbErr::Exec(e) | DbErr::Query(e) | DbErr::Conn(e) => e,
        _ => return None,
    };
    let sea_orm::RuntimeErr::SqlxError(sqlx_err) = runtime else { return None };
    if let sea_orm::sqlx::Error::PoolTimedOut = sqlx_err.as_ref() {
        return Some("the database has no free connection");
    }
    let sea_orm::sqlx::Error::Database(db) = sqlx_err.as_ref() else { return None };
    match db.code().as_deref() {
        // SQLITE_BUSY and its extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT).
        Some("5" | "261" | "517" | "773") => Some("the database is busy with another write"),
        // lock_not_available, deadlock_detected, serialization_failure, query_canceled (timeouts)
        Some("55P03" | "40P01" | "40001" | "57014") => Some("the database is busy with another write"),
        _ => None,
    }
}
