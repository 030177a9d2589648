//! The one error type of the domain and storage layers. It knows nothing of GraphQL or HTTP; the
//! web layers turn it into a GraphQL error (`graphql::errors`) or a REST envelope
//! (`http::envelope`), each with the stable `code` below.

use sea_orm::DbErr;

/// Stable, documented error codes (README "Error codes"). Clients match on these.
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
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
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
            AppError::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }

    /// The input field the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Conflict { field, .. } => *field,
            AppError::InvalidInput { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Rebuild an error from its code and message (errors that came back through GraphQL).
    pub fn from_code(code_str: &str, message: &str) -> Self {
        let message = message.to_string();
        match code_str {
            code::UNAUTHENTICATED => AppError::Unauthenticated,
            code::INVALID_TOKEN => AppError::InvalidToken(message),
            code::TOKEN_EXPIRED => AppError::TokenExpired,
            code::INVALID_CREDENTIALS => AppError::InvalidCredentials,
            code::FORBIDDEN => AppError::Forbidden(message),
            code::CONFLICT => AppError::Conflict { field: None, message },
            code::INTERNAL_SERVER_ERROR => AppError::Internal(anyhow::anyhow!(message)),
            _ => AppError::InvalidInput { field: None, message },
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
