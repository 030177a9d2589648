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
/// `#[doc = "description"] rust_field "jsonName" "graphqlName" longest_value_in_characters,`.
macro_rules! with_profile_fields {
    ($then:ident) => {
        $then! {
            #[doc = "The country calling code of `phone`, e.g. `+86`."] phone_country_code "phoneCountryCode" "phoneCountryCode" 8,
            #[doc = "The full name."] name "name" "name" crate::domain::validate::MAX_TEXT,
            #[doc = "A casual name."] nickname "nickname" "nickname" crate::domain::validate::MAX_TEXT,
            #[doc = "The given (first) name."] given_name "givenName" "givenName" crate::domain::validate::MAX_TEXT,
            #[doc = "The family (last) name."] family_name "familyName" "familyName" crate::domain::validate::MAX_TEXT,
            #[doc = "The middle name."] middle_name "middleName" "middleName" crate::domain::validate::MAX_TEXT,
            #[doc = "The name the user prefers to be called by."] preferred_username "preferredUsername" "preferredUsername" crate::domain::validate::MAX_TEXT,
            #[doc = "The URL of the user's profile page."] profile "profile" "profile" crate::domain::validate::MAX_TEXT,
            #[doc = "The URL of the user's web page or blog."] website "website" "website" crate::domain::validate::MAX_TEXT,
            #[doc = "The URL of the user's picture."] photo "photo" "photo" crate::domain::validate::MAX_LONG_TEXT,
            #[doc = "The birthday, as `YYYY-MM-DD` (OpenID Connect `birthdate`)."] birthdate "birthdate" "birthdate" 32,
            #[doc = "The time zone, an IANA name such as `Asia/Shanghai`."] zoneinfo "zoneinfo" "zoneinfo" 64,
            #[doc = "The language and country, such as `zh-CN`."] locale "locale" "locale" 32,
            #[doc = "The postal address, as one text."] address "address" "address" crate::domain::validate::MAX_TEXT,
            #[doc = "The full mailing address, formatted for display."] formatted "formatted" "formatted" crate::domain::validate::MAX_TEXT,
            #[doc = "The street address."] street_address "streetAddress" "streetAddress" crate::domain::validate::MAX_TEXT,
            #[doc = "The city or locality of the address."] locality "locality" "locality" crate::domain::validate::MAX_TEXT,
            #[doc = "The state, province or region of the address."] region "region" "region" crate::domain::validate::MAX_TEXT,
            #[doc = "The postal code."] postal_code "postalCode" "postalCode" 32,
            #[doc = "The city."] city "city" "city" crate::domain::validate::MAX_TEXT,
            #[doc = "The province."] province "province" "province" crate::domain::validate::MAX_TEXT,
            #[doc = "The country."] country "country" "country" crate::domain::validate::MAX_TEXT,
            #[doc = "The company the user works for."] company "company" "company" crate::domain::validate::MAX_TEXT,
            #[doc = "The browser (user agent) of the last login, as the identity platform recorded it."] browser "browser" "browser" crate::domain::validate::MAX_LONG_TEXT,
            #[doc = "The device of the last login."] device "device" "device" crate::domain::validate::MAX_TEXT,
            #[doc = "The user's union id at a social identity provider (e.g. WeChat)."] unionid "unionid" "unionid" crate::domain::validate::MAX_TEXT,
            #[doc = "The user's open id at a social identity provider."] openid "openid" "openid" crate::domain::validate::MAX_TEXT,
            #[doc = "The raw profile the user's OAuth provider returned, as text."] oauth "oauth" "oauth" crate::domain::validate::MAX_LONG_TEXT,
            #[doc = "The IP address of the last login."] last_ip "lastIp" "lastIP" 64,
        }
    };
}
pub(crate) use with_profile_fields;

macro_rules! define_profile {
    ($(#[doc = $doc:literal] $field:ident $json:literal $gql:literal $max:expr,)*) => {
        /// The descriptive fields of a user, as every view shows them.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        pub struct Profile {
            $( #[doc = $doc] #[serde(rename = $json)] pub $field: Option<String>, )*
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
