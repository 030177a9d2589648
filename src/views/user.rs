//! A user as Authing's v2 API shows it (GraphQL `User`, and the v2 REST routes that answer
//! users): the stored row, its descriptive fields flattened in from `Profile`.

use async_graphql::{Enum, Object, SimpleObject};
use sea_orm::ActiveEnum;
use entity::user;
use serde::Serialize;
use serde_json::Value;

use crate::domain::{
    docs::iso,
    users::{
        UserColumns,
        profile::{Profile, with_profile_fields},
    },
};

macro_rules! profile_object {
    ($(#[doc = $doc:literal] $field:ident $json:literal $gql:literal $max:expr,)*) => {
        /// The descriptive fields, flattened into `User` (names of Authing's v2 schema).
        #[Object(name = "UserProfileFields")]
        impl Profile {
            $(
                #[doc = $doc]
                #[graphql(name = $gql)]
                async fn $field(&self) -> Option<&str> {
                    self.$field.as_deref()
                }
            )*
        }

        /// The descriptive fields, flattened into the v3 `UserDto` (named as in its JSON).
        #[derive(Debug, Clone, Default, Serialize)]
        #[serde(transparent)]
        pub struct ProfileV3(pub Profile);

        #[Object(name = "UserDtoProfileFields")]
        impl ProfileV3 {
            $(
                #[doc = $doc]
                #[graphql(name = $json)]
                async fn $field(&self) -> Option<&str> {
                    self.0.$field.as_deref()
                }
            )*
        }
    };
}
with_profile_fields!(profile_object);

/// Account status, as Authing's `UserStatus` (and the v3 UserDto) name them. orgraph records
/// the status; it has no login that the status would allow or refuse.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[graphql(remote = "entity::user::UserStatus", rename_items = "PascalCase")]
pub enum UserStatus {
    /// Suspended (what SCIM's `active: false` sets on an active user).
    Suspended,
    /// The user has left the company; the v3 `workStatus` of such a user is `Closed`.
    Resigned,
    /// Active: the status of a new user unless one is given.
    Activated,
    /// Archived; entering or leaving this status also publishes `user:archived` or `user:unarchived`.
    Archived,
    /// Deactivated (disabled) account.
    Deactivated,
}

/// The type of an extended field's value, as read from the JSON value stored.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[graphql(name = "UDFDataType", rename_items = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UdfDataType {
    /// A string (also the type of a null value).
    String,
    /// A number; `value` is its JSON text.
    Number,
    /// A date and time. Kept for Authing's schema: orgraph never answers it (times stored as
    /// strings are `STRING`).
    Datetime,
    /// A boolean; `value` is `true` or `false`.
    Boolean,
    /// A JSON object or array; `value` is its JSON text.
    Object,
}

/// One extended field of a user. `value` is the JSON text of non-string values.
#[derive(SimpleObject, Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCustomData {
    /// The field's key in the user's custom data object.
    pub key: String,
    /// The value: a string as it is, other values as JSON text; null when the stored value is null.
    pub value: Option<String>,
    /// Always null: orgraph keeps no labels for extended fields.
    pub label: Option<String>,
    /// The type of the stored JSON value.
    pub data_type: UdfDataType,
}

/// An external identity of the user (tokens are never returned).
#[derive(SimpleObject, Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The user's open id at the identity provider.
    pub openid: Option<String>,
    /// The user's id at the identity provider.
    pub user_id_in_idp: Option<String>,
    /// The id of the user this identity belongs to.
    pub user_id: Option<String>,
    /// The id of the identity provider connection the identity came through.
    pub connection_id: Option<String>,
    /// Always null: orgraph keeps no external identity provider ids.
    pub ext_idp_id: Option<String>,
    /// Whether the identity comes from a social login provider.
    pub is_social: Option<bool>,
    /// The identity provider, e.g. `wechat` or `github`.
    pub provider: Option<String>,
    /// The kind of identity: always `userIdInIdp`.
    #[graphql(name = "type")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The id of the user pool.
    pub user_pool_id: Option<String>,
    /// Always null: identity tokens are not stored.
    pub refresh_token: Option<String>,
    /// Always null: identity tokens are not stored.
    pub access_token: Option<String>,
}

/// A user, with every field authing-js-sdk v4 selects. Fields orgraph has no value for are null;
/// `password` and `token` are always null.
#[derive(SimpleObject, Debug, Clone, Serialize)]
#[graphql(complex)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's id.
    pub id: String,
    /// The user's resource name: `arn:cn:authing:<userPoolId>:user:<id>`.
    pub arn: String,
    /// The account status (`Activated` for a new user unless one was given).
    pub status: Option<UserStatus>,
    /// The id of the user pool the user belongs to.
    pub user_pool_id: String,
    /// The username, unique within the pool; null when the user has none.
    pub username: Option<String>,
    /// The e-mail address, stored in lower case and unique within the pool; null when the user has none.
    pub email: Option<String>,
    /// Whether the e-mail address is verified (false by default).
    pub email_verified: Option<bool>,
    /// The phone number, unique within the pool; null when the user has none.
    pub phone: Option<String>,
    /// Whether the phone number is verified (false by default).
    pub phone_verified: Option<bool>,
    #[graphql(flatten)]
    #[serde(flatten)]
    pub profile: Profile,
    /// The v2 REST answers carry the last IP as `lastIP` too (the profile has `lastIp`).
    #[graphql(skip)]
    #[serde(rename = "lastIP")]
    pub last_ip_v2: Option<String>,
    /// The user's external identities (empty when none).
    pub identities: Option<Vec<Option<Identity>>>,
    /// How the user was registered, as given when it was created or imported (empty when not given).
    pub register_source: Option<Vec<String>>,
    /// Always null, for compatibility with Authing's SDK: passwords are stored hashed and never returned.
    pub password: Option<String>,
    /// Always null, for compatibility with Authing's SDK: orgraph issues no user tokens.
    pub token: Option<String>,
    /// Always null, for compatibility with Authing's SDK: orgraph issues no user tokens.
    pub token_expired_at: Option<String>,
    /// The number of logins as last set through the API or an import (orgraph has no login itself);
    /// 0 by default.
    pub logins_count: Option<i32>,
    /// The time of the last login as last set through the API or an import, ISO 8601 in UTC with
    /// milliseconds; null when never set.
    pub last_login: Option<String>,
    /// When the user signed up, ISO 8601 in UTC with milliseconds: the time given when it was
    /// created or imported, else the creation time.
    pub signed_up: Option<String>,
    /// Whether the user is blocked (false by default).
    pub blocked: Option<bool>,
    /// Always false, for compatibility with Authing's SDK: deleted users are removed, not marked.
    pub is_deleted: Option<bool>,
    /// `M`, `F` or `U` (unknown, the default).
    pub gender: Option<String>,
    /// When the user was created, ISO 8601 in UTC with milliseconds.
    pub created_at: Option<String>,
    /// When the user was last changed, ISO 8601 in UTC with milliseconds.
    pub updated_at: Option<String>,
    /// The user's id in another system, unique within the pool; null when not set.
    pub external_id: Option<String>,
    /// The user's extended fields, one entry per key of its custom data object (empty when none).
    pub custom_data: Option<Vec<Option<UserCustomData>>>,
    /// Accounts do not expire in orgraph: always null.
    pub expired_at: Option<String>,
    /// Always null (no direct-management relation in orgraph).
    pub direct_management: Option<String>,
    /// The instant the user was read as of (a member of a department read with `asOf`): its
    /// `departments` are then those of that instant.
    #[graphql(skip)]
    #[serde(skip)]
    pub as_of: Option<crate::domain::history::AsOf>,
}

impl From<user::Model> for User {
    fn from(mut u: user::Model) -> Self {
        let arn = format!("arn:cn:authing:{}:user:{}", u.user_pool_id, u.id);
        let profile = Profile::take(&mut u);
        User {
            arn,
            status: Some(u.status.into()),
            username: u.username,
            email: u.email,
            email_verified: Some(u.email_verified),
            phone: u.phone,
            phone_verified: Some(u.phone_verified),
            last_ip_v2: profile.last_ip.clone(),
            profile,
            identities: Some(identities(&u.identities, &u.id, &u.user_pool_id)),
            register_source: Some(strings(&u.register_source)),
            password: None,
            token: None,
            token_expired_at: None,
            logins_count: Some(u.logins_count),
            last_login: u.last_login.map(iso),
            signed_up: Some(iso(u.signed_up.unwrap_or(u.created_at))),
            blocked: Some(u.blocked),
            is_deleted: Some(false),
            gender: Some(u.gender.to_value()),
            created_at: Some(iso(u.created_at)),
            updated_at: Some(iso(u.updated_at)),
            external_id: u.external_id,
            custom_data: Some(custom_data(&u.custom_data)),
            expired_at: None,
            direct_management: None,
            as_of: None,
            id: u.id,
            user_pool_id: u.user_pool_id,
        }
    }
}

/// The `users` columns the GraphQL `User` fields named in `fields` are made of (see
/// `From<user::Model>` above): a page showing only these reads only these. A name this list does
/// not know (a field added later) reads whole rows, so a new field is never shown blank.
pub fn columns_of<'a>(fields: impl IntoIterator<Item = &'a str>) -> UserColumns {
    use entity::user::Column as C;
    macro_rules! profile_column {
        ($(#[doc = $doc:literal] $field:ident $json:literal $gql:literal $max:expr,)*) => {
            |gql: &str| match gql { $( $gql => UserColumns::column(stringify!($field)), )* _ => None }
        };
    }
    let profile = with_profile_fields!(profile_column);
    let mut columns = UserColumns::keys();
    for field in fields {
        let needs: &[C] = match field {
            // Made of the keys, constant, or resolved from the id alone.
            "__typename" | "id" | "arn" | "userPoolId" | "password" | "token" | "tokenExpiredAt" | "isDeleted"
            | "expiredAt" | "directManagement" | "authorizedResources" | "departments" => &[],
            "status" => &[C::Status],
            "username" => &[C::Username],
            "email" => &[C::Email],
            "emailVerified" => &[C::EmailVerified],
            "phone" => &[C::Phone],
            "phoneVerified" => &[C::PhoneVerified],
            "identities" => &[C::Identities],
            "registerSource" => &[C::RegisterSource],
            "loginsCount" => &[C::LoginsCount],
            "lastLogin" => &[C::LastLogin],
            "signedUp" => &[C::SignedUp, C::CreatedAt],
            "blocked" => &[C::Blocked],
            "gender" => &[C::Gender],
            "createdAt" => &[C::CreatedAt],
            "updatedAt" => &[C::UpdatedAt],
            "externalId" => &[C::ExternalId],
            "customData" => &[C::CustomData],
            other => match profile(other) {
                Some(c) => {
                    columns = columns.with(c);
                    &[]
                }
                None => return UserColumns::ALL,
            },
        };
        columns = needs.iter().fold(columns, |cols, c| cols.with(*c));
    }
    columns
}

/// Fields of Authing's v2 user documents that orgraph has no value for (null) or reads from the
/// user's main department: export members (seeds 001, 004) and node members (seed 003) carry them.
pub fn document_extras(main_department: Option<&entity::node::Model>) -> Value {
    serde_json::json!({
        "token": null, "tokenExpiredAt": null, "sendSmsCount": null, "sendSmsLimitCount": null,
        "lastMfaTime": null, "passwordSecurityLevel": null,
        "mainDepartmentId": main_department.map(|n| n.id.as_str()),
        "mainDepartmentCode": main_department.and_then(|n| n.code.as_deref()),
    })
}

/// Add the keys of the object `extra` to the object `target` (replacing same-named ones).
pub fn merge(target: &mut Value, extra: Value) {
    if let (Some(t), Value::Object(e)) = (target.as_object_mut(), extra) {
        t.extend(e);
    }
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn identities(v: &Value, user_id: &str, pool_id: &str) -> Vec<Option<Identity>> {
    let text = |o: &serde_json::Map<String, Value>, k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_object)
                .map(|o| {
                    Some(Identity {
                        openid: text(o, "openid"),
                        user_id_in_idp: text(o, "userIdInIdp"),
                        user_id: Some(user_id.to_string()),
                        connection_id: text(o, "connectionId"),
                        is_social: o.get("isSocial").and_then(Value::as_bool),
                        provider: text(o, "provider"),
                        kind: Some("userIdInIdp".into()),
                        user_pool_id: Some(pool_id.to_string()),
                        ..Default::default()
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn custom_data(v: &Value) -> Vec<Option<UserCustomData>> {
    let Some(map) = v.as_object() else { return Vec::new() };
    map.iter()
        .map(|(key, value)| {
            let (data_type, value) = match value {
                Value::String(s) => (UdfDataType::String, Some(s.clone())),
                Value::Number(n) => (UdfDataType::Number, Some(n.to_string())),
                Value::Bool(b) => (UdfDataType::Boolean, Some(b.to_string())),
                Value::Null => (UdfDataType::String, None),
                other => (UdfDataType::Object, Some(other.to_string())),
            };
            Some(UserCustomData { key: key.clone(), value, label: None, data_type })
        })
        .collect()
}
