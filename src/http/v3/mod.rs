//! GenAuth's v3 REST API (`/api/v3/*`) as authing-node-sdk 4 and PyPI `authing` 5 call it. Each
//! handler reads a [`V3Call`] (caller + parameters), calls a domain service and answers the v3
//! envelope through `views::v3`.

pub mod call;
mod departments;
mod events;
mod members;
mod orgs;
pub mod params;
pub mod signature;
mod users;
mod webhooks;

use axum::{Router, routing::post};
use serde::Deserialize;

pub use call::V3Call;
use params::Params;

use super::HttpState;
use crate::{
    domain::org_tree::DepartmentRef,
    error::AppResult,
    views::v3_names::department_id_type,
};

/// `organizationCode` + `departmentId` (+ `departmentIdType`), all as the SDKs name them.
fn department_ref(p: &Params, id_field: &str) -> AppResult<DepartmentRef> {
    Ok(DepartmentRef {
        organization_code: p.required("organizationCode")?,
        department_id: p.required(id_field)?,
        id_type: department_id_type(p.optional("departmentIdType")?.as_deref())?,
    })
}

/// An item of `advancedFilter` (search-departments-list, list-users).
#[derive(Deserialize)]
struct FilterItem {
    field: String,
    operator: String,
    value: Option<serde_json::Value>,
}

/// An item of `sort` / `options.sort`.
#[derive(Deserialize)]
struct SortItem {
    field: String,
    order: String,
}

/// A sort direction as the SDKs send it (`asc`/`desc`, any case): true for ascending.
fn ascending(field: &str, order: &str) -> AppResult<bool> {
    match order.to_ascii_lowercase().as_str() {
        "asc" => Ok(true),
        "desc" => Ok(false),
        _ => Err(crate::error::AppError::invalid(field, format!("{field} must be asc or desc"))),
    }
}

/// `{success: true}`, the answer of v3 changes that return nothing else.
fn success() -> serde_json::Value {
    serde_json::json!({ "success": true })
}

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v3/get-management-token", post(super::rest_auth::management_token))
        .merge(orgs::routes())
        .merge(departments::routes())
        .merge(members::routes())
        .merge(users::routes())
        .merge(webhooks::routes())
        .merge(events::routes())
}
