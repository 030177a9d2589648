//! Inputs of `createUser` / `updateUser`, field for field as authing-js-sdk v4 sends them, plus
//! `status` and `customData` (seed 002's UserDto).

use async_graphql::{InputObject, Json, MaybeUndefined};
use serde_json::{Map, Value};

use super::user::UserStatus;
use crate::{
    domain::users::{Change, NewIdentity, UserPatch},
    error::{AppError, AppResult},
};

#[derive(InputObject, Debug, Default)]
pub struct CreateUserInput {
    pub username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub phone: Option<String>,
    pub phone_verified: Option<bool>,
    pub phone_country_code: Option<String>,
    pub unionid: Option<String>,
    pub openid: Option<String>,
    pub nickname: Option<String>,
    pub photo: Option<String>,
    /// Plain text, or encrypted with the public key of `GET /api/v2/.well-known` (as the SDK does).
    pub password: Option<String>,
    pub register_source: Option<Vec<String>>,
    pub browser: Option<String>,
    pub oauth: Option<String>,
    pub logins_count: Option<i32>,
    pub last_login: Option<String>,
    pub company: Option<String>,
    #[graphql(name = "lastIP")]
    pub last_ip: Option<String>,
    pub signed_up: Option<String>,
    pub blocked: Option<bool>,
    /// Accepted for compatibility; orgraph deletes users for real.
    pub is_deleted: Option<bool>,
    pub device: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub profile: Option<String>,
    pub preferred_username: Option<String>,
    pub website: Option<String>,
    /// M, F or U.
    pub gender: Option<String>,
    pub birthdate: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub address: Option<String>,
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub external_id: Option<String>,
    pub status: Option<UserStatus>,
    /// Extended fields as a JSON object (the SDK's `params` argument also carries them).
    pub custom_data: Option<Json<Value>>,
}

#[derive(InputObject, Debug, Default)]
pub struct UpdateUserInput {
    pub email: MaybeUndefined<String>,
    pub unionid: MaybeUndefined<String>,
    pub openid: MaybeUndefined<String>,
    pub email_verified: Option<bool>,
    pub phone: MaybeUndefined<String>,
    pub phone_verified: Option<bool>,
    pub phone_country_code: MaybeUndefined<String>,
    pub username: MaybeUndefined<String>,
    pub nickname: MaybeUndefined<String>,
    /// Plain text, or encrypted with the public key of `GET /api/v2/.well-known`.
    pub password: Option<String>,
    pub photo: MaybeUndefined<String>,
    pub company: MaybeUndefined<String>,
    pub browser: MaybeUndefined<String>,
    pub device: MaybeUndefined<String>,
    pub oauth: MaybeUndefined<String>,
    /// Accepted for compatibility; orgraph issues no user tokens.
    pub token_expired_at: Option<String>,
    pub logins_count: Option<i32>,
    pub last_login: MaybeUndefined<String>,
    #[graphql(name = "lastIP")]
    pub last_ip: MaybeUndefined<String>,
    pub blocked: Option<bool>,
    pub name: MaybeUndefined<String>,
    pub given_name: MaybeUndefined<String>,
    pub family_name: MaybeUndefined<String>,
    pub middle_name: MaybeUndefined<String>,
    pub profile: MaybeUndefined<String>,
    pub preferred_username: MaybeUndefined<String>,
    pub website: MaybeUndefined<String>,
    pub gender: Option<String>,
    pub birthdate: MaybeUndefined<String>,
    pub zoneinfo: MaybeUndefined<String>,
    pub locale: MaybeUndefined<String>,
    pub address: MaybeUndefined<String>,
    pub formatted: MaybeUndefined<String>,
    pub street_address: MaybeUndefined<String>,
    pub locality: MaybeUndefined<String>,
    pub region: MaybeUndefined<String>,
    pub postal_code: MaybeUndefined<String>,
    pub city: MaybeUndefined<String>,
    pub province: MaybeUndefined<String>,
    pub country: MaybeUndefined<String>,
    pub external_id: MaybeUndefined<String>,
    /// Accepted for compatibility; set the main department with `setMainDepartment`.
    pub main_department_id: Option<String>,
    /// Accepted for compatibility; set the main department with `setMainDepartment`.
    pub main_department_code: Option<String>,
    /// Accepted for compatibility; accounts do not expire in orgraph.
    pub expired_at: Option<String>,
    /// Accepted for compatibility.
    pub direct_management: Option<String>,
    pub status: Option<UserStatus>,
    /// Keys to set in the extended fields; a null value removes the key.
    pub custom_data: Option<Json<Value>>,
}

#[derive(InputObject, Debug)]
pub struct CreateUserIdentityInput {
    pub provider: String,
    pub user_id_in_idp: String,
    pub openid: Option<String>,
    pub is_social: Option<bool>,
    pub connection_id: Option<String>,
    /// Not stored.
    pub access_token: Option<String>,
    /// Not stored.
    pub refresh_token: Option<String>,
}

impl From<CreateUserIdentityInput> for NewIdentity {
    fn from(i: CreateUserIdentityInput) -> Self {
        NewIdentity {
            provider: i.provider,
            user_id_in_idp: i.user_id_in_idp,
            openid: i.openid,
            is_social: i.is_social,
            connection_id: i.connection_id,
        }
    }
}

/// A JSON object of extended fields, from the `customData` input or the `params` JSON string.
pub fn custom_data_object(field: &str, value: Value) -> AppResult<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(AppError::invalid(field, format!("{field} must be a JSON object"))),
    }
}

fn set<T>(v: Option<T>) -> Change<T> {
    v.map(Some)
}

fn change<T>(v: MaybeUndefined<T>) -> Change<T> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

impl CreateUserInput {
    /// The domain patch; `password` must already be in clear.
    pub fn into_patch(self, password: Option<String>) -> AppResult<UserPatch> {
        let custom_data = self.custom_data.map(|j| custom_data_object("customData", j.0)).transpose()?;
        Ok(UserPatch {
            username: set(self.username),
            email: set(self.email),
            phone: set(self.phone),
            phone_country_code: set(self.phone_country_code),
            email_verified: self.email_verified,
            phone_verified: self.phone_verified,
            password,
            name: set(self.name),
            nickname: set(self.nickname),
            given_name: set(self.given_name),
            family_name: set(self.family_name),
            middle_name: set(self.middle_name),
            preferred_username: set(self.preferred_username),
            profile: set(self.profile),
            website: set(self.website),
            photo: set(self.photo),
            gender: self.gender,
            birthdate: set(self.birthdate),
            zoneinfo: set(self.zoneinfo),
            locale: set(self.locale),
            address: set(self.address),
            formatted: set(self.formatted),
            street_address: set(self.street_address),
            locality: set(self.locality),
            region: set(self.region),
            postal_code: set(self.postal_code),
            city: set(self.city),
            province: set(self.province),
            country: set(self.country),
            company: set(self.company),
            browser: set(self.browser),
            device: set(self.device),
            unionid: set(self.unionid),
            openid: set(self.openid),
            oauth: set(self.oauth),
            register_source: self.register_source,
            logins_count: self.logins_count,
            last_login: set(self.last_login),
            last_ip: set(self.last_ip),
            signed_up: set(self.signed_up),
            blocked: self.blocked,
            status: self.status.map(|s| s.as_str().to_string()),
            external_id: set(self.external_id),
            custom_data,
        })
    }
}

impl UpdateUserInput {
    /// The domain patch; `password` must already be in clear.
    pub fn into_patch(self, password: Option<String>) -> AppResult<UserPatch> {
        let custom_data = self.custom_data.map(|j| custom_data_object("customData", j.0)).transpose()?;
        Ok(UserPatch {
            username: change(self.username),
            email: change(self.email),
            phone: change(self.phone),
            phone_country_code: change(self.phone_country_code),
            email_verified: self.email_verified,
            phone_verified: self.phone_verified,
            password,
            name: change(self.name),
            nickname: change(self.nickname),
            given_name: change(self.given_name),
            family_name: change(self.family_name),
            middle_name: change(self.middle_name),
            preferred_username: change(self.preferred_username),
            profile: change(self.profile),
            website: change(self.website),
            photo: change(self.photo),
            gender: self.gender,
            birthdate: change(self.birthdate),
            zoneinfo: change(self.zoneinfo),
            locale: change(self.locale),
            address: change(self.address),
            formatted: change(self.formatted),
            street_address: change(self.street_address),
            locality: change(self.locality),
            region: change(self.region),
            postal_code: change(self.postal_code),
            city: change(self.city),
            province: change(self.province),
            country: change(self.country),
            company: change(self.company),
            browser: change(self.browser),
            device: change(self.device),
            unionid: change(self.unionid),
            openid: change(self.openid),
            oauth: change(self.oauth),
            register_source: None,
            logins_count: self.logins_count,
            last_login: change(self.last_login),
            last_ip: change(self.last_ip),
            signed_up: None,
            blocked: self.blocked,
            status: self.status.map(|s| s.as_str().to_string()),
            external_id: change(self.external_id),
            custom_data,
        })
    }
}
