//! v3 users, as far as the org flows need them: create (one or a batch), read (one, a batch, a
//! searched page), update, delete.

use axum::{Router, extract::State, response::Response, routing::{get, post}};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{FilterItem, SortItem, V3Call, ascending, params::Params, success};
use crate::{
    domain::{
        PoolId,
        pagination::Page,
        users::{
            CreateOptions, NewIdentity, UserIdType, UserPatch, find_by, find_one_by, parse_status,
            profile::{ProfilePatch, with_profile_fields},
            search::{Operator, UserField, UserFilter, UserSearch},
        },
    },
    error::{AppError, AppResult},
    http::{
        HttpState,
        envelope::{V3Error, v3_ok},
    },
    views::{
        v3::{UserDto, UserDtoOptions},
        v3_names::user_id_type,
    },
};

/// Largest page of user lists ("at most 50").
const MAX_LIMIT: u64 = 50;
/// Most users one `get-user-batch` or `delete-users-batch` names.
const MAX_IDS: usize = 100;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/v3/create-user", post(create))
        .route("/api/v3/create-users-batch", post(create_batch))
        .route("/api/v3/get-user", get(one))
        .route("/api/v3/get-user-batch", get(batch))
        .route("/api/v3/list-users", post(list).get(list_legacy))
        .route("/api/v3/update-user", post(update))
        .route("/api/v3/delete-users-batch", post(delete_batch))
}

macro_rules! profile_from_params {
    ($(#[doc = $doc:literal] $field:ident $json:literal $gql:literal $max:expr,)*) => {
        /// The descriptive fields a v3 body sets; a field left out keeps its value.
        fn profile_patch(p: &Params) -> AppResult<ProfilePatch> {
            Ok(ProfilePatch { $( $field: p.text($json)?.map(Some), )* })
        }
    };
}
with_profile_fields!(profile_from_params);

/// What a v3 create or update body sets; `password` already opened.
fn user_patch(p: &Params, password: Option<String>) -> AppResult<UserPatch> {
    let custom_data = match p.value("customData") {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(AppError::invalid("customData", "customData must be a JSON object")),
    };
    Ok(UserPatch {
        username: p.text("username")?.map(Some),
        email: p.text("email")?.map(Some),
        phone: p.text("phone")?.map(Some),
        external_id: p.text("externalId")?.map(Some),
        email_verified: p.bool("emailVerified")?,
        phone_verified: p.bool("phoneVerified")?,
        password,
        profile: profile_patch(p)?,
        gender: p.optional("gender")?,
        status: p.optional("status")?.map(|s| parse_status("status", &s)).transpose()?,
        custom_data,
        ..Default::default()
    })
}

/// The options object of a body, as parameters.
fn options_of(p: &Params) -> AppResult<Params> {
    match p.value("options") {
        None => Ok(Params::default()),
        Some(Value::Object(m)) => Ok(Params::from_json(m.clone())),
        Some(_) => Err(AppError::invalid("options", "options must be a JSON object")),
    }
}

/// The password in clear: `passwordEncryptType: "rsa"` means encrypted with the public key of
/// `GET /api/v2/.well-known`.
async fn password(http: &HttpState, p: &Params, options: &Params) -> AppResult<Option<String>> {
    let Some(sent) = p.text("password")? else { return Ok(None) };
    match options.optional("passwordEncryptType")?.as_deref() {
        None | Some("none") => Ok(Some(sent)),
        Some("rsa") => Ok(Some(http.app.open_password(&sent).await?)),
        Some(other) => Err(AppError::invalid("options.passwordEncryptType", format!("passwordEncryptType {other:?} is not supported: use none or rsa"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    ext_idp_id: Option<String>,
    provider: String,
    user_id_in_idp: String,
}

/// A create body (a `create-user` body or an item of `create-users-batch`) as the domain takes it.
async fn new_user(http: &HttpState, p: &Params, options: &Params) -> AppResult<(UserPatch, CreateOptions)> {
    let patch = user_patch(p, password(http, p, options).await?)?;
    if options.optional("departmentIdType")?.is_some_and(|t| t != "department_id") {
        return Err(AppError::invalid("options.departmentIdType", "departmentIds are department ids (departmentIdType department_id)"));
    }
    let identity = match p.parse::<Vec<Identity>>("identities")?.unwrap_or_default().as_slice() {
        [] => None,
        [i] => Some(NewIdentity {
            provider: i.provider.clone(),
            user_id_in_idp: i.user_id_in_idp.clone(),
            openid: None,
            is_social: None,
            connection_id: i.ext_idp_id.clone(),
        }),
        _ => return Err(AppError::invalid("identities", "orgraph keeps one external identity per user")),
    };
    let options = CreateOptions {
        keep_password: options.flag("keepPassword")?,
        identity,
        department_ids: p.list("departmentIds")?.unwrap_or_default(),
    };
    Ok((patch, options))
}

/// `withCustomData`, `withIdentities`, `withDepartmentIds`, `flatCustomData`.
#[derive(Clone, Copy)]
struct Shape {
    dto: UserDtoOptions,
    with_department_ids: bool,
    flat_custom_data: bool,
}

fn shape(p: &Params) -> AppResult<Shape> {
    Ok(Shape {
        dto: UserDtoOptions { with_custom_data: p.flag("withCustomData")?, with_identities: p.flag("withIdentities")? },
        with_department_ids: p.flag("withDepartmentIds")?,
        flat_custom_data: p.flag("flatCustomData")?,
    })
}

/// Users as v3 shows them, with their department ids when asked (one query for all).
async fn dtos(http: &HttpState, users: Vec<entity::user::Model>, shape: Shape) -> AppResult<Vec<Value>> {
    let mut departments = if shape.with_department_ids {
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        Some(http.app.orgs.department_ids_of(&ids).await?)
    } else {
        None
    };
    Ok(users
        .into_iter()
        .map(|u| {
            let custom = u.custom_data.clone();
            let deps = departments.as_mut().map(|d| d.remove(&u.id).unwrap_or_default());
            let mut v = serde_json::to_value(UserDto::new(u, deps, shape.dto)).unwrap_or(Value::Null);
            // Flattened keys never hide the user's own fields.
            if let (true, Value::Object(extra), Value::Object(own)) = (shape.flat_custom_data, custom, &mut v) {
                for (k, val) in extra {
                    own.entry(k).or_insert(val);
                }
            }
            v
        })
        .collect())
}

async fn answer_one(http: &HttpState, user: entity::user::Model, shape: Shape) -> Result<Response, V3Error> {
    Ok(v3_ok(dtos(http, vec![user], shape).await?.pop().unwrap_or(Value::Null)))
}

/// `POST /api/v3/create-user`: with `departmentIds`, the user joins them in the same transaction.
async fn create(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let (patch, options) = new_user(&http, p, &options_of(p)?).await?;
    let user = http.app.users.create(&call.pool, patch, options).await?;
    answer_one(&http, user, Shape { dto: UserDtoOptions { with_custom_data: true, with_identities: true }, with_department_ids: true, flat_custom_data: false }).await
}

/// `POST /api/v3/create-users-batch {list, options}`: all or none, one transaction; an error
/// names the item (`list[2].email`).
async fn create_batch(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let options = options_of(p)?;
    let items = match p.value("list") {
        Some(Value::Array(items)) => items.clone(),
        _ => return Err(AppError::invalid("list", "list (the users to create) is required").into()),
    };
    let mut prepared = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(AppError::invalid(format!("list[{i}]"), format!("list[{i}] must be an object")).into());
        };
        let item = Params::from_json(item);
        prepared.push(new_user(&http, &item, &options).await.map_err(|e| match e {
            AppError::InvalidInput { field, message } => AppError::InvalidInput {
                field: Some(format!("list[{i}].{}", field.unwrap_or_default())),
                message: format!("list[{i}]: {message}"),
            },
            other => other,
        })?);
    }
    let users = http.app.users.create_many(&call.pool, prepared).await?;
    Ok(v3_ok(dtos(&http, users, shape(&options)?).await?))
}

fn id_type(p: &Params) -> AppResult<UserIdType> {
    user_id_type(p.optional("userIdType")?.as_deref())
}

async fn one(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let user = find_one_by(&http.app.db, &call.pool, id_type(p)?, &p.required("userId")?).await?;
    answer_one(&http, user, shape(p)?).await
}

/// `GET /api/v3/get-user-batch`: the users found, in the order asked.
async fn batch(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let ids = bounded_ids(p.required_list("userIds")?)?;
    let users = find_by(&http.app.db, &call.pool, id_type(p)?, &ids).await?;
    Ok(v3_ok(dtos(&http, users, shape(p)?).await?))
}

fn bounded_ids(ids: Vec<String>) -> AppResult<Vec<String>> {
    if ids.len() > MAX_IDS {
        return Err(AppError::invalid("userIds", format!("at most {MAX_IDS} users per call")));
    }
    Ok(ids)
}

#[derive(Deserialize, Default)]
struct Pagination {
    page: Option<Value>,
    limit: Option<Value>,
}

/// `POST /api/v3/list-users {keywords, advancedFilter, options: {pagination, sort,
/// fuzzySearchOn, with...}}`.
async fn list(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let options = options_of(p)?;
    let pagination = options.parse::<Pagination>("pagination")?.unwrap_or_default();
    let mut pager = Map::new();
    pager.extend(pagination.page.map(|v| ("page".to_string(), v)));
    pager.extend(pagination.limit.map(|v| ("limit".to_string(), v)));
    let pager = Params::from_json(pager);
    let page = Page::new(pager.int("page")?, pager.int("limit")?, MAX_LIMIT)?;
    let filters = p
        .parse::<Vec<FilterItem>>("advancedFilter")?
        .unwrap_or_default()
        .into_iter()
        .map(|f| Ok(UserFilter { field: UserField::parse("advancedFilter.field", &f.field)?, operator: Operator::parse(&f.operator)?, value: f.value }))
        .collect::<AppResult<Vec<_>>>()?;
    let sort = options
        .parse::<Vec<SortItem>>("sort")?
        .unwrap_or_default()
        .into_iter()
        .map(|s| Ok((UserField::parse("options.sort.field", &s.field)?, ascending("options.sort.order", &s.order)?)))
        .collect::<AppResult<Vec<_>>>()?;
    let fuzzy_on = options
        .list("fuzzySearchOn")?
        .unwrap_or_default()
        .iter()
        .map(|f| UserField::parse("options.fuzzySearchOn", f))
        .collect::<AppResult<Vec<_>>>()?;
    let search = UserSearch { keywords: p.optional("keywords")?, fuzzy_on, filters, sort, page };
    answer_page(&http, &call.pool, &search, shape(&options)?).await
}


/// `GET /api/v3/list-users` (the SDKs' `listUsersLegacy`): page, limit, status, updatedAt range.
async fn list_legacy(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let page = Page::new(p.int("page")?, p.int("limit")?, MAX_LIMIT)?;
    let mut filters = Vec::new();
    if let Some(status) = p.optional("status")? {
        filters.push(UserFilter { field: UserField::Status, operator: Operator::Equal, value: Some(Value::String(status)) });
    }
    if let Some(start) = p.int("updatedAtStart")? {
        filters.push(UserFilter { field: UserField::UpdatedAt, operator: Operator::Greater, value: Some(json!(start)) });
    }
    if let Some(end) = p.int("updatedAtEnd")? {
        filters.push(UserFilter { field: UserField::UpdatedAt, operator: Operator::Lesser, value: Some(json!(end)) });
    }
    let search = UserSearch { keywords: None, fuzzy_on: Vec::new(), filters, sort: Vec::new(), page };
    answer_page(&http, &call.pool, &search, shape(p)?).await
}

async fn answer_page(http: &HttpState, pool: &PoolId, search: &UserSearch, shape: Shape) -> Result<Response, V3Error> {
    let found = http.app.users.search(pool, search).await?;
    Ok(v3_ok(json!({ "totalCount": found.total_count, "list": dtos(http, found.list, shape).await? })))
}

/// `POST /api/v3/update-user {userId, ...fields, options: {userIdType, passwordEncryptType}}`.
async fn update(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let options = options_of(p)?;
    let user = find_one_by(&http.app.db, &call.pool, user_id_type(options.optional("userIdType")?.as_deref())?, &p.required("userId")?).await?;
    let patch = user_patch(p, password(&http, p, &options).await?)?;
    let user = http.app.users.update(&call.pool, &user.id, patch).await?;
    answer_one(&http, user, Shape { dto: UserDtoOptions { with_custom_data: true, with_identities: false }, with_department_ids: false, flat_custom_data: false }).await
}

/// `POST /api/v3/delete-users-batch {userIds, options: {userIdType}}`: every one must exist, or
/// none is deleted.
async fn delete_batch(State(http): State<HttpState>, call: V3Call) -> Result<Response, V3Error> {
    let p = &call.params;
    let options = options_of(p)?;
    let wanted = bounded_ids(p.required_list("userIds")?)?;
    let users = find_by(&http.app.db, &call.pool, user_id_type(options.optional("userIdType")?.as_deref())?, &wanted).await?;
    if users.len() < wanted.len() {
        let message = format!("{} of the {} userIds name no user of this pool; nothing was deleted", wanted.len() - users.len(), wanted.len());
        return Err(AppError::InvalidInput { field: Some("userIds".into()), message }.into());
    }
    let ids: Vec<String> = users.into_iter().map(|u| u.id).collect();
    http.app.users.delete_many(&call.pool, &ids).await?;
    Ok(v3_ok(success()))
}
