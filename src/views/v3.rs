//! Objects as the v3 (GenAuth) API shows them: `UserDto` of seed 002 (shared by the GraphQL query
//! `listDepartmentMembers` and the REST routes), `DepartmentDto`, `OrganizationDto` and
//! `UserDepartmentRespDto`.

use std::collections::HashMap;

use async_graphql::{Json, SimpleObject};
use entity::{node, user};
use sea_orm::ActiveEnum;
use serde::Serialize;
use serde_json::Value;

use super::user::ProfileV3;
use crate::domain::{
    docs::iso,
    org_tree::{
        DepartmentFacts, DepartmentMembersPage, Names, PathStep, UserDepartment,
        fields::{self as org_fields, rules::{CustomData, Rule}},
    },
    users::profile::Profile,
};

/// An external identity of a user as the v3 API shows it (`IdentityDto`).
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct IdentityDto {
    /// The identity's id: the user's id, `-` and the identity's position among the user's
    /// identities (from 0).
    pub identity_id: String,
    /// The id of the identity provider connection the identity came through (its `connectionId`).
    pub ext_idp_id: Option<String>,
    /// The identity provider, e.g. `wechat` or `github`.
    pub provider: Option<String>,
    /// The kind of identity: always `userIdInIdp`.
    #[graphql(name = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's id at the identity provider.
    pub user_id_in_idp: Option<String>,
    /// The identity's connection id as a list (empty when it has none).
    pub origin_conn_ids: Vec<String>,
}

/// A user as the v3 API shows it.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    /// The user's id.
    pub user_id: String,
    /// When the user was created, ISO 8601 in UTC with milliseconds.
    pub created_at: String,
    /// When the user was last changed, ISO 8601 in UTC with milliseconds.
    pub updated_at: String,
    /// The account status: `Activated`, `Suspended`, `Deactivated`, `Resigned` or `Archived`.
    pub status: String,
    /// `Closed` when the user's status is `Resigned`, otherwise `Active`.
    pub work_status: String,
    /// The user's id in another system, unique within the pool; null when not set.
    pub external_id: Option<String>,
    /// The e-mail address, stored in lower case and unique within the pool; null when the user has none.
    pub email: Option<String>,
    /// The phone number, unique within the pool; null when the user has none.
    pub phone: Option<String>,
    /// The username, unique within the pool; null when the user has none.
    pub username: Option<String>,
    #[graphql(flatten)]
    #[serde(flatten)]
    pub profile: ProfileV3,
    /// The number of logins as last set through the API or an import (orgraph has no login itself);
    /// 0 by default.
    pub logins_count: i32,
    /// The time of the last login as last set through the API or an import, ISO 8601 in UTC with
    /// milliseconds; null when never set.
    pub last_login: Option<String>,
    /// `M`, `F` or `U` (unknown, the default).
    pub gender: String,
    /// Whether the e-mail address is verified (false by default).
    pub email_verified: bool,
    /// Whether the phone number is verified (false by default).
    pub phone_verified: bool,
    /// Always `adminCreated`, for compatibility with the v3 API.
    pub user_source_type: String,
    /// How the user was registered, as given when it was created or imported (empty when not given).
    pub register_source: Vec<String>,
    /// With `withDepartmentIds`: the ids of the nodes the user is a member of, oldest membership
    /// first; null otherwise.
    pub department_ids: Option<Vec<String>>,
    /// With `withIdentities`: the user's external identities; null otherwise.
    pub identities: Option<Vec<IdentityDto>>,
    /// With `withCustomData`: the extended fields as one JSON object; null otherwise.
    pub custom_data: Option<Json<Value>>,
}

/// A page of users as the v3 API shows it (`UserPagingDto`).
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserPagingDto {
    /// How many users the whole list has, across all pages.
    pub total_count: i64,
    /// This page's users.
    pub list: Vec<UserDto>,
}

/// Which optional parts a v3 user list carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserDtoOptions {
    pub with_identities: bool,
    pub with_custom_data: bool,
}

impl UserPagingDto {
    pub fn new(found: DepartmentMembersPage, options: UserDtoOptions) -> Self {
        let DepartmentMembersPage { page, mut department_ids } = found;
        let list = page
            .list
            .into_iter()
            .map(|u| {
                let deps = department_ids.as_mut().map(|d| d.remove(&u.id).unwrap_or_default());
                UserDto::new(u, deps, options)
            })
            .collect();
        UserPagingDto { total_count: page.total_count as i64, list }
    }
}

impl UserDto {
    pub fn new(mut u: user::Model, department_ids: Option<Vec<String>>, options: UserDtoOptions) -> Self {
        let identities = options.with_identities.then(|| identities(&u));
        UserDto {
            profile: ProfileV3(Profile::take(&mut u)),
            created_at: iso(u.created_at),
            updated_at: iso(u.updated_at),
            work_status: if u.status == user::UserStatus::Resigned { "Closed".into() } else { "Active".into() },
            status: u.status.to_value(),
            external_id: u.external_id,
            email: u.email,
            phone: u.phone,
            username: u.username,
            logins_count: u.logins_count,
            last_login: u.last_login.map(iso),
            gender: u.gender.to_value(),
            email_verified: u.email_verified,
            phone_verified: u.phone_verified,
            user_source_type: "adminCreated".into(),
            register_source: super::user::strings(&u.register_source),
            department_ids,
            identities,
            custom_data: options.with_custom_data.then_some(Json(u.custom_data)),
            user_id: u.id,
        }
    }
}

fn identities(u: &user::Model) -> Vec<IdentityDto> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    u.identities
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, v)| IdentityDto {
                    identity_id: format!("{}-{i}", u.id),
                    ext_idp_id: text(v, "connectionId"),
                    provider: text(v, "provider"),
                    kind: "userIdInIdp".into(),
                    user_id_in_idp: text(v, "userIdInIdp"),
                    origin_conn_ids: text(v, "connectionId").into_iter().collect(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Which optional parts a v3 department or organization carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct DepartmentOptions {
    pub with_custom_data: bool,
    /// `customData`'s keys also at the top level (`flatCustomData`).
    pub flat_custom_data: bool,
}

/// A department as the v3 API shows it (`DepartmentDto`): where it is and its facts, plus every
/// listed field (`org_tree::fields`) under its v3 name (`customData` only when asked).
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentDto {
    pub organization_code: Option<String>,
    pub department_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub leader_user_ids: Vec<String>,
    pub parent_department_id: Option<String>,
    pub parent_department_code: Option<String>,
    /// Direct members.
    pub members_count: i64,
    pub has_children: bool,
    pub posts: Vec<String>,
    pub post_id_list: Vec<String>,
    pub tenant_id: Option<String>,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, Value>,
}

impl DepartmentDto {
    pub fn new(n: &node::Model, facts: Option<&DepartmentFacts>, options: DepartmentOptions) -> Self {
        let facts = facts.cloned().unwrap_or_default();
        let mut dto = DepartmentDto {
            organization_code: facts.organization_code,
            department_id: n.id.clone(),
            created_at: iso(n.created_at),
            updated_at: iso(n.updated_at),
            leader_user_ids: facts.leader_user_ids,
            parent_department_id: n.parent_id.clone(),
            parent_department_code: facts.parent_code,
            members_count: n.member_count,
            has_children: facts.has_children,
            posts: Vec::new(),
            post_id_list: Vec::new(),
            tenant_id: facts.tenant_id,
            fields: v3_fields(n, options.with_custom_data),
        };
        if let (true, Value::Object(custom)) = (options.flat_custom_data, CustomData::show(&n.custom_data)) {
            // Flattened keys never hide the department's own fields.
            let own = match serde_json::to_value(&dto) {
                Ok(Value::Object(own)) => own,
                _ => serde_json::Map::new(),
            };
            dto.fields.extend(custom.into_iter().filter(|(k, _)| !own.contains_key(k)));
        }
        dto
    }
}

/// The listed fields of `n` under their v3 names; `customData` is null unless asked for.
fn v3_fields(n: &node::Model, with_custom_data: bool) -> serde_json::Map<String, Value> {
    let mut fields = org_fields::to_json(n, Names::V3);
    if !with_custom_data && let Some(custom) = org_fields::field("customData") {
        fields.insert(custom.v3_name.to_string(), Value::Null);
    }
    fields
}

/// Departments with their facts, in order.
pub fn departments(nodes: &[node::Model], facts: &HashMap<String, DepartmentFacts>, options: DepartmentOptions) -> Vec<DepartmentDto> {
    nodes.iter().map(|n| DepartmentDto::new(n, facts.get(&n.id), options)).collect()
}

/// An organization as the v3 API shows it (`OrganizationDto`): its root department, whose
/// listed fields it carries under their v3 names, but for the name, code, status and i18n it
/// names its own way.
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDto {
    pub organization_code: Option<String>,
    pub organization_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub department_id: String,
    pub has_children: bool,
    pub leader_user_ids: Vec<String>,
    /// Everyone in the organization.
    pub members_count: i64,
    pub tenant_id: Option<String>,
    pub post_id_list: Vec<String>,
    /// `Active` or `Inactive` (see `update-organization-status`).
    pub status: &'static str,
    pub i18n: Option<Value>,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, Value>,
}

impl OrganizationDto {
    pub fn new(root: &node::Model, facts: Option<&DepartmentFacts>, with_custom_data: bool) -> Self {
        let facts = facts.cloned().unwrap_or_default();
        let mut fields = v3_fields(root, with_custom_data);
        for renamed in ["name", "code", "status", "i18n"] {
            fields.remove(renamed);
        }
        OrganizationDto {
            organization_code: root.code.clone(),
            organization_name: root.name.clone(),
            created_at: iso(root.created_at),
            updated_at: iso(root.updated_at),
            department_id: root.id.clone(),
            has_children: facts.has_children,
            leader_user_ids: facts.leader_user_ids,
            members_count: root.subtree_member_count,
            tenant_id: facts.tenant_id,
            post_id_list: Vec::new(),
            status: if root.enabled { "Active" } else { "Inactive" },
            i18n: root.i18n.as_ref().map(organization_i18n),
            fields,
        }
    }
}

pub fn organizations(roots: &[node::Model], facts: &HashMap<String, DepartmentFacts>, with_custom_data: bool) -> Vec<OrganizationDto> {
    roots.iter().map(|r| OrganizationDto::new(r, facts.get(&r.id), with_custom_data)).collect()
}

/// A node keeps v3 i18n under `name`; organizations call the same texts `organizationName`.
fn organization_i18n(stored: &Value) -> Value {
    match stored.get("name") {
        Some(texts) => serde_json::json!({ "organizationName": texts }),
        None => stored.clone(),
    }
}

/// An organization's i18n as sent (`{organizationName: ...}`) in the form nodes keep it.
pub fn organization_i18n_input(sent: Value) -> Value {
    match sent {
        Value::Object(mut m) => match m.remove("organizationName") {
            Some(texts) => serde_json::json!({ "name": texts }),
            None => Value::Object(m),
        },
        other => other,
    }
}

/// A department of a user (`UserDepartmentRespDto`), with every listed field under its v3 name.
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserDepartmentDto {
    pub organization_code: Option<String>,
    pub department_id: String,
    pub is_root: bool,
    pub created_at: String,
    pub is_leader: bool,
    pub is_main_department: bool,
    pub joined_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id_path: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_code_path: Option<Vec<Option<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_name_path: Option<Vec<String>>,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, Value>,
}

impl UserDepartmentDto {
    pub fn new(d: &UserDepartment, facts: Option<&DepartmentFacts>, path: Option<&[PathStep]>, with_custom_data: bool) -> Self {
        let n = &d.node;
        UserDepartmentDto {
            organization_code: facts.and_then(|f| f.organization_code.clone()),
            department_id: n.id.clone(),
            is_root: n.parent_id.is_none(),
            created_at: iso(n.created_at),
            is_leader: d.is_leader,
            is_main_department: d.is_main,
            joined_at: iso(d.joined_at),
            department_id_path: path.map(|p| p.iter().map(|s| s.id.clone()).collect()),
            department_code_path: path.map(|p| p.iter().map(|s| s.code.clone()).collect()),
            department_name_path: path.map(|p| p.iter().map(|s| s.name.clone()).collect()),
            fields: v3_fields(n, with_custom_data),
        }
    }
}
