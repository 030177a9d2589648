//! Inputs of `createUser` / `updateUser`, field for field as authing-js-sdk v4 sends them, plus
//! `status` and `customData` (seed 002's UserDto).

use async_graphql::{InputObject, Json, MaybeUndefined};
use serde_json::{Map, Value};

use crate::{
    domain::users::{
        Change, NewIdentity, UserPatch,
        profile::{ProfilePatch, with_profile_fields},
    },
    error::{AppError, AppResult},
    views::user::UserStatus,
};

macro_rules! profile_input {
    ($(#[doc = $doc:literal] $field:ident $json:literal $gql:literal $max:expr,)*) => {
        /// The descriptive fields of a user, flattened into `CreateUserInput` and
        /// `UpdateUserInput`: left out keeps a value, null clears it.
        #[derive(InputObject, Debug, Default)]
        #[graphql(name = "UserProfileInput")]
        pub struct ProfileInput {
            $( #[doc = $doc] #[graphql(name = $gql)] pub $field: MaybeUndefined<String>, )*
        }

        impl ProfileInput {
            pub fn into_patch(self) -> ProfilePatch {
                ProfilePatch { $( $field: change(self.$field), )* }
            }
        }
    };
}
with_profile_fields!(profile_input);

/// The fields `createUser` and `updateUser` both take: left out keeps a value, null clears it.
#[derive(InputObject, Debug, Default)]
#[graphql(name = "UserFieldsInput")]
pub struct UserFieldsInput {
    /// The username: at most 255 characters, trimmed, unique within the pool; empty or null clears it.
    pub username: MaybeUndefined<String>,
    /// The e-mail address: at most 254 characters, stored in lower case, unique within the pool;
    /// empty or null clears it.
    pub email: MaybeUndefined<String>,
    /// Whether the e-mail address is verified (false for a new user when left out).
    pub email_verified: Option<bool>,
    /// The phone number: at most 32 characters of digits, spaces and `+-()`, with 3 digits or
    /// more, unique within the pool; empty or null clears it.
    pub phone: MaybeUndefined<String>,
    /// Whether the phone number is verified (false for a new user when left out).
    pub phone_verified: Option<bool>,
    /// The user's id in another system: at most 255 characters, unique within the pool; empty or
    /// null clears it.
    pub external_id: MaybeUndefined<String>,
    #[graphql(flatten)]
    pub profile: ProfileInput,
    /// Plain text, or encrypted with the public key of `GET /api/v2/.well-known` (as the SDK does).
    /// 1 to 128 characters once decrypted; stored hashed (unless `createUser`'s `keepPassword`) and
    /// never returned.
    pub password: Option<String>,
    /// `M`, `F` or `U` (unknown, the default for a new user).
    pub gender: Option<String>,
    /// The account status (`Activated` for a new user when left out).
    pub status: Option<UserStatus>,
    /// The number of logins, 0 or more (orgraph has no login itself: it keeps the number given).
    pub logins_count: Option<i32>,
    /// The time of the last login, ISO 8601 (UTC when it has no offset); empty or null clears it.
    pub last_login: MaybeUndefined<String>,
    /// Whether the user is blocked (false for a new user when left out). Changing it publishes
    /// `user:blocked` or `user:unblocked`.
    pub blocked: Option<bool>,
    /// Extended fields as a JSON object; on update, a null value removes the key (the SDK's
    /// `params` argument also carries them).
    pub custom_data: Option<Json<Value>>,
}

/// A new user's fields. It needs at least one of `username`, `email`, `phone` or `externalId`;
/// fields left out take their defaults.
#[derive(InputObject, Debug, Default)]
pub struct CreateUserInput {
    #[graphql(flatten)]
    pub fields: UserFieldsInput,
    /// How the user was registered: the first 32 entries are kept, each at most 64 characters
    /// (blank entries are dropped).
    pub register_source: Option<Vec<String>>,
    /// When the user signed up, ISO 8601 (UTC when it has no offset); when left out, `signedUp`
    /// answers the creation time.
    pub signed_up: Option<String>,
    /// Accepted for compatibility; orgraph deletes users for real.
    pub is_deleted: Option<bool>,
}

/// The fields of a user to change. A field left out keeps its value; null clears the identifiers,
/// the profile fields and `lastLogin`, and leaves the other fields as they are.
#[derive(InputObject, Debug, Default)]
pub struct UpdateUserInput {
    #[graphql(flatten)]
    pub fields: UserFieldsInput,
    /// Accepted for compatibility; orgraph issues no user tokens.
    pub token_expired_at: Option<String>,
    /// Accepted for compatibility; set the main department with `setMainDepartment`.
    pub main_department_id: Option<String>,
    /// Accepted for compatibility; set the main department with `setMainDepartment`.
    pub main_department_code: Option<String>,
    /// Accepted for compatibility; accounts do not expire in orgraph.
    pub expired_at: Option<String>,
    /// Accepted for compatibility.
    pub direct_management: Option<String>,
}

/// An external identity to attach to a new user (`createUser`'s `identity`).
#[derive(InputObject, Debug)]
pub struct CreateUserIdentityInput {
    /// The identity provider, e.g. `wechat` or `github`: 1 to 64 characters.
    pub provider: String,
    /// The user's id at the identity provider: 1 to 255 characters.
    pub user_id_in_idp: String,
    /// The user's open id at the identity provider.
    pub openid: Option<String>,
    /// Whether the identity comes from a social login provider (false when left out).
    pub is_social: Option<bool>,
    /// The id of the identity provider connection the identity came through.
    pub connection_id: Option<String>,
    /// Accepted for compatibility with Authing's SDK; not stored.
    pub access_token: Option<String>,
    /// Accepted for compatibility with Authing's SDK; not stored.
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

fn change<T>(v: MaybeUndefined<T>) -> Change<T> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

impl UserFieldsInput {
    /// The domain patch; `password` must already be in clear.
    pub fn into_patch(self, password: Option<String>) -> AppResult<UserPatch> {
        let custom_data = self.custom_data.map(|j| custom_data_object("customData", j.0)).transpose()?;
        Ok(UserPatch {
            username: change(self.username),
            email: change(self.email),
            phone: change(self.phone),
            external_id: change(self.external_id),
            email_verified: self.email_verified,
            phone_verified: self.phone_verified,
            password,
            profile: self.profile.into_patch(),
            gender: self.gender,
            status: self.status.map(Into::into),
            register_source: None,
            logins_count: self.logins_count,
            last_login: change(self.last_login),
            signed_up: None,
            blocked: self.blocked,
            custom_data,
        })
    }
}

impl CreateUserInput {
    /// The domain patch; `password` must already be in clear.
    pub fn into_patch(self, password: Option<String>) -> AppResult<UserPatch> {
        Ok(UserPatch {
            register_source: self.register_source,
            signed_up: self.signed_up.map(Some),
            ..self.fields.into_patch(password)?
        })
    }
}
