//! Namespaces, resources and permission changes as the v2 REST API and the events show them.

use entity::{acl_grant::TargetType, acl_resource, resource_namespace};
use serde::Serialize;
use serde_json::Value;

use crate::domain::docs::Iso;

/// A namespace (`id` numeric; `status` 1; no application).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceDoc {
    pub id: i64,
    pub user_pool_id: String,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub status: i32,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub created_at: Iso,
    pub updated_at: Iso,
}

impl From<&resource_namespace::Model> for NamespaceDoc {
    fn from(n: &resource_namespace::Model) -> Self {
        NamespaceDoc {
            id: n.id,
            user_pool_id: n.user_pool_id.clone(),
            code: n.code.clone(),
            name: n.name.clone(),
            description: n.description.clone(),
            status: 1,
            app_id: None,
            app_name: None,
            created_at: Iso(n.created_at),
            updated_at: Iso(n.updated_at),
        }
    }
}

/// A resource, with its namespace's id and code.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDoc {
    pub id: String,
    pub user_pool_id: String,
    pub code: String,
    #[serde(rename = "type")]
    pub resource_type: acl_resource::ResourceType,
    pub description: Option<String>,
    pub actions: Value,
    pub api_identifier: Option<String>,
    pub namespace_id: i64,
    pub namespace: String,
    pub created_at: Iso,
    pub updated_at: Iso,
}

impl ResourceDoc {
    pub fn new(r: &acl_resource::Model, namespace: &str) -> Self {
        ResourceDoc {
            id: r.id.clone(),
            user_pool_id: r.user_pool_id.clone(),
            code: r.code.clone(),
            resource_type: r.resource_type,
            description: r.description.clone(),
            actions: r.actions.clone(),
            api_identifier: r.api_identifier.clone(),
            namespace_id: r.namespace_id,
            namespace: namespace.to_string(),
            created_at: Iso(r.created_at),
            updated_at: Iso(r.updated_at),
        }
    }
}

/// `permission:add` / `permission:revoke` (seed 000). The seed's table names the grant ids
/// `policyCodes`, its sample `policies`: both are sent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionDoc {
    pub user_pool_id: String,
    pub policies: Vec<String>,
    pub policy_codes: Vec<String>,
    pub target_type: TargetType,
    pub target_identifiers: Vec<String>,
    pub namespace: String,
}
