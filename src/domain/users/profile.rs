//! The user's descriptive text fields, listed once. Every view of a user is made from this list:
//! the stored row (`Profile::take`), changes (`ProfilePatch`), the event and export documents
//! (serde), GraphQL's `User` and its inputs and the v3 `UserDto` (see `graphql::types::user`).
//! Adding a field: add its column to `entity::user` (and a migration), then one line here.

use entity::user;
use sea_orm::ActiveValue::Set;
use serde::Serialize;

use super::Change;
use crate::{
    domain::validate,
    error::AppResult,
};

/// Calls `$then!` with every descriptive field:
/// `rust_field "jsonName" "graphqlName" longest_value_in_characters,`.
macro_rules! with_profile_fields {
    ($then:ident) => {
        $then! {
            phone_country_code "phoneCountryCode" "phoneCountryCode" 8,
            name "name" "name" crate::domain::validate::MAX_TEXT,
            nickname "nickname" "nickname" crate::domain::validate::MAX_TEXT,
            given_name "givenName" "givenName" crate::domain::validate::MAX_TEXT,
            family_name "familyName" "familyName" crate::domain::validate::MAX_TEXT,
            middle_name "middleName" "middleName" crate::domain::validate::MAX_TEXT,
            preferred_username "preferredUsername" "preferredUsername" crate::domain::validate::MAX_TEXT,
            profile "profile" "profile" crate::domain::validate::MAX_TEXT,
            website "website" "website" crate::domain::validate::MAX_TEXT,
            photo "photo" "photo" crate::domain::validate::MAX_LONG_TEXT,
            birthdate "birthdate" "birthdate" 32,
            zoneinfo "zoneinfo" "zoneinfo" 64,
            locale "locale" "locale" 32,
            address "address" "address" crate::domain::validate::MAX_TEXT,
            formatted "formatted" "formatted" crate::domain::validate::MAX_TEXT,
            street_address "streetAddress" "streetAddress" crate::domain::validate::MAX_TEXT,
            locality "locality" "locality" crate::domain::validate::MAX_TEXT,
            region "region" "region" crate::domain::validate::MAX_TEXT,
            postal_code "postalCode" "postalCode" 32,
            city "city" "city" crate::domain::validate::MAX_TEXT,
            province "province" "province" crate::domain::validate::MAX_TEXT,
            country "country" "country" crate::domain::validate::MAX_TEXT,
            company "company" "company" crate::domain::validate::MAX_TEXT,
            browser "browser" "browser" crate::domain::validate::MAX_LONG_TEXT,
            device "device" "device" crate::domain::validate::MAX_TEXT,
            unionid "unionid" "unionid" crate::domain::validate::MAX_TEXT,
            openid "openid" "openid" crate::domain::validate::MAX_TEXT,
            oauth "oauth" "oauth" crate::domain::validate::MAX_LONG_TEXT,
            last_ip "lastIp" "lastIP" 64,
        }
    };
}
pub(crate) use with_profile_fields;

macro_rules! define_profile {
    ($($field:ident $json:literal $gql:literal $max:expr,)*) => {
        /// The descriptive fields of a user, as every view shows them.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        pub struct Profile {
            $( #[serde(rename = $json)] pub $field: Option<String>, )*
        }

        impl Profile {
            /// Move the descriptive fields out of a row (leaving them empty there).
            pub fn take(u: &mut user::Model) -> Self {
                Profile { $( $field: u.$field.take(), )* }
            }
        }

        /// The JSON names of the descriptive fields, in their listed order (export columns).
        pub const PROFILE_FIELDS: &[&str] = &[$($json,)*];

        /// Changes to the descriptive fields: `None` keeps a field, `Some(None)` clears it.
        #[derive(Debug, Clone, Default)]
        pub struct ProfilePatch {
            $( pub $field: Change<String>, )*
        }

        impl ProfilePatch {
            /// Set every field `value` (given a JSON name) has a value for (an import's row).
            pub fn from_lookup(mut value: impl FnMut(&str) -> Option<String>) -> Self {
                ProfilePatch { $( $field: value($json).map(Some), )* }
            }

            /// Validate every change (trimmed, no control characters, at most its length) and set
            /// it on `row`; an empty value clears the field.
            pub fn apply(self, row: &mut user::ActiveModel) -> AppResult<()> {
                $(
                    if let Some(change) = self.$field {
                        row.$field = Set(match change {
                            Some(v) => validate::optional_text($json, &v, $max)?,
                            None => None,
                        });
                    }
                )*
                Ok(())
            }
        }
    };
}
with_profile_fields!(define_profile);
