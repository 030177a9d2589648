//! The v3 (GenAuth) member list: `UserDto` as seed 002 describes it, shared by the GraphQL
//! query `listDepartmentMembers` and the REST route `GET /api/v3/list-department-members`.

use async_graphql::{Enum, Json, SimpleObject};
use entity::user;
use serde::Serialize;
use serde_json::Value;

use super::common::iso;
use crate::{
    app::AppState,
    domain::{
        PoolId,
        org_tree::{DepartmentMembersQuery, MemberSort, MembersQuery},
        pagination::Page,
        users::UserSort,
    },
    error::{AppError, AppResult},
};

/// Largest `limit` of the v3 member list (seed 002: "maximum cannot exceed 50").
pub const MAX_V3_LIMIT: u64 = 50;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(rename_items = "PascalCase")]
pub enum DepartmentMemberSortBy {
    #[default]
    JoinDepartmentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(rename_items = "PascalCase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

impl DepartmentMemberSortBy {
    pub fn parse(s: &str) -> AppResult<Self> {
        match s {
            "JoinDepartmentAt" => Ok(Self::JoinDepartmentAt),
            "CreatedAt" => Ok(Self::CreatedAt),
            "UpdatedAt" => Ok(Self::UpdatedAt),
            _ => Err(AppError::invalid("sortBy", "sortBy must be JoinDepartmentAt, CreatedAt or UpdatedAt")),
        }
    }
}

impl SortOrder {
    pub fn parse(s: &str) -> AppResult<Self> {
        match s {
            "Asc" | "asc" | "ASC" => Ok(Self::Asc),
            "Desc" | "desc" | "DESC" => Ok(Self::Desc),
            _ => Err(AppError::invalid("orderBy", "orderBy must be Asc or Desc")),
        }
    }
}

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
    pub phone_country_code: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub photo: Option<String>,
    pub logins_count: i32,
    pub last_login: Option<String>,
    pub last_ip: Option<String>,
    pub gender: String,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub birthdate: Option<String>,
    pub country: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    pub company: Option<String>,
    pub browser: Option<String>,
    pub device: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub profile: Option<String>,
    pub preferred_username: Option<String>,
    pub website: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub formatted: Option<String>,
    pub region: Option<String>,
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

/// Arguments of the member list, as both APIs take them.
#[derive(Debug, Clone, Default)]
pub struct DepartmentMembersArgs {
    pub organization_code: String,
    pub department_id: String,
    pub department_id_type: Option<String>,
    pub sort_by: DepartmentMemberSortBy,
    pub order_by: SortOrder,
    pub include_children_departments: bool,
    pub page: Option<i64>,
    pub limit: Option<i64>,
    pub with_custom_data: bool,
    pub with_identities: bool,
    pub with_department_ids: bool,
}

pub async fn department_members(state: &AppState, pool: &PoolId, args: DepartmentMembersArgs) -> AppResult<UserPagingDto> {
    let by_code = match args.department_id_type.as_deref() {
        None | Some("") | Some("department_id") => false,
        Some("code") => true,
        Some(other) => return Err(AppError::invalid("departmentIdType", format!("departmentIdType {other:?} is not supported: use department_id or code"))),
    };
    let asc = args.order_by == SortOrder::Asc;
    let sort = match args.sort_by {
        DepartmentMemberSortBy::JoinDepartmentAt => if asc { MemberSort::JoinedAsc } else { MemberSort::JoinedDesc },
        DepartmentMemberSortBy::CreatedAt => MemberSort::User(if asc { UserSort::CreatedAtAsc } else { UserSort::CreatedAtDesc }),
        DepartmentMemberSortBy::UpdatedAt => MemberSort::User(if asc { UserSort::UpdatedAtAsc } else { UserSort::UpdatedAtDesc }),
    };
    let query = DepartmentMembersQuery {
        organization_code: args.organization_code,
        department_id: args.department_id,
        by_code,
        members: MembersQuery {
            page: Page::new(args.page, args.limit, MAX_V3_LIMIT)?,
            sort,
            include_children: args.include_children_departments,
        },
    };
    let page = state.orgs.department_members(pool, &query).await?;
    let ids: Vec<String> = page.list.iter().map(|u| u.id.clone()).collect();
    let mut departments = if args.with_department_ids { state.orgs.department_ids_of(&ids).await? } else { Default::default() };
    let list = page
        .list
        .into_iter()
        .map(|u| {
            let deps = args.with_department_ids.then(|| departments.remove(&u.id).unwrap_or_default());
            user_dto(u, deps, args.with_identities, args.with_custom_data)
        })
        .collect();
    Ok(UserPagingDto { total_count: page.total_count as i64, list })
}

fn user_dto(u: user::Model, department_ids: Option<Vec<String>>, with_identities: bool, with_custom_data: bool) -> UserDto {
    let identities = with_identities.then(|| {
        u.identities
            .as_array()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, v)| IdentityDto {
                        identity_id: format!("{}-{i}", u.id),
                        ext_idp_id: v.get("connectionId").and_then(Value::as_str).map(str::to_string),
                        provider: v.get("provider").and_then(Value::as_str).map(str::to_string),
                        kind: "userIdInIdp".into(),
                        user_id_in_idp: v.get("userIdInIdp").and_then(Value::as_str).map(str::to_string),
                        origin_conn_ids: v.get("connectionId").and_then(Value::as_str).map(|c| vec![c.to_string()]).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    UserDto {
        user_id: u.id,
        created_at: iso(u.created_at),
        updated_at: iso(u.updated_at),
        work_status: if u.status == "Resigned" { "Closed".into() } else { "Active".into() },
        status: u.status,
        external_id: u.external_id,
        email: u.email,
        phone: u.phone,
        phone_country_code: u.phone_country_code,
        username: u.username,
        name: u.name,
        nickname: u.nickname,
        photo: u.photo,
        logins_count: u.logins_count,
        last_login: u.last_login.map(iso),
        last_ip: u.last_ip,
        gender: u.gender,
        email_verified: u.email_verified,
        phone_verified: u.phone_verified,
        birthdate: u.birthdate,
        country: u.country,
        province: u.province,
        city: u.city,
        address: u.address,
        street_address: u.street_address,
        postal_code: u.postal_code,
        company: u.company,
        browser: u.browser,
        device: u.device,
        given_name: u.given_name,
        family_name: u.family_name,
        middle_name: u.middle_name,
        profile: u.profile,
        preferred_username: u.preferred_username,
        website: u.website,
        zoneinfo: u.zoneinfo,
        locale: u.locale,
        formatted: u.formatted,
        region: u.region,
        user_source_type: "adminCreated".into(),
        register_source: u.register_source.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default(),
        department_ids,
        identities,
        custom_data: with_custom_data.then_some(Json(u.custom_data)),
    }
}
