//! A user as the v3 (GenAuth) API shows it: `UserDto` of seed 002, shared by the GraphQL query
//! `listDepartmentMembers` and the REST route `GET /api/v3/list-department-members`.

use async_graphql::{Json, SimpleObject};
use entity::user;
use sea_orm::ActiveEnum;
use serde::Serialize;
use serde_json::Value;

use super::user::ProfileV3;
use crate::domain::{
    docs::iso,
    org_tree::DepartmentMembersPage,
    users::profile::Profile,
};

#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct IdentityDto {
    pub identity_id: String,
    pub ext_idp_id: Option<String>,
    pub provider: Option<String>,
    #[graphql(name = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id_in_idp: Option<String>,
    pub origin_conn_ids: Vec<String>,
}

/// A user as the v3 API shows it.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub user_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub status: String,
    pub work_status: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub username: Option<String>,
    #[graphql(flatten)]
    #[serde(flatten)]
    pub profile: ProfileV3,
    pub logins_count: i32,
    pub last_login: Option<String>,
    pub gender: String,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub user_source_type: String,
    pub register_source: Vec<String>,
    /// With `withDepartmentIds`.
    pub department_ids: Option<Vec<String>>,
    /// With `withIdentities`.
    pub identities: Option<Vec<IdentityDto>>,
    /// With `withCustomData`: the extended fields as one JSON object.
    pub custom_data: Option<Json<Value>>,
}

#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserPagingDto {
    pub total_count: i64,
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
