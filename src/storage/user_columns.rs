//! Reading only some of a user's columns. A member page that shows `id` and `username` need not
//! fetch and decode the ~50 columns of each row: sea-orm builds an error string for every NULL
//! one, and JSON and timestamps are parsed. The columns left out hold blank values that no view
//! shows: the GraphQL layer asks for the columns of the fields it will resolve
//! (`views::user::columns_of`), and every other caller reads whole rows (`UserColumns::ALL`).

use entity::user::{self, Column};
use sea_orm::{DbErr, FromQueryResult, IdenStatic, Iterable, QueryResult};

/// A set of `users` columns (bit `i` = the `i`-th `user::Column`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserColumns(u64);

impl UserColumns {
    /// Whole rows.
    pub const ALL: UserColumns = UserColumns(u64::MAX);

    /// The keys every view of a user needs (`id`, `user_pool_id`).
    pub fn keys() -> Self {
        UserColumns(0).with(Column::Id).with(Column::UserPoolId)
    }

    pub fn with(self, c: Column) -> Self {
        UserColumns(self.0 | bit(c))
    }

    pub fn has(self, c: Column) -> bool {
        self.0 & bit(c) != 0
    }

    fn is_all(self) -> bool {
        self == Self::ALL
    }

    /// The select list: these columns of the table aliased `table`.
    pub fn select(self, table: &str) -> String {
        if self.is_all() {
            return format!("{table}.*");
        }
        Column::iter().filter(|c| self.has(*c)).map(|c| format!("{table}.{}", c.as_str())).collect::<Vec<_>>().join(", ")
    }

    /// A row selected with `select`, the unread columns blank.
    pub fn decode(self, row: &QueryResult, pre: &str) -> Result<user::Model, DbErr> {
        if self.is_all() {
            return user::Model::from_query_result(row, pre);
        }
        macro_rules! blank {
            () => { Default::default() };
            ($e:expr) => { $e };
        }
        // A struct literal: a column added to `user::Model` fails to compile until listed here.
        macro_rules! partial {
            ($($field:ident $col:ident $(= $blank:expr)?,)*) => {
                user::Model { $( $field: if self.has(Column::$col) { row.try_get(pre, stringify!($field))? } else { blank!($($blank)?) }, )* }
            };
        }
        Ok(partial! {
            id Id, user_pool_id UserPoolId, username Username, email Email, phone Phone,
            phone_country_code PhoneCountryCode, email_verified EmailVerified, phone_verified PhoneVerified,
            password_hash PasswordHash, name Name, nickname Nickname, given_name GivenName, family_name FamilyName,
            middle_name MiddleName, preferred_username PreferredUsername, profile Profile, website Website,
            photo Photo, gender Gender = user::Gender::U, birthdate Birthdate, zoneinfo Zoneinfo, locale Locale,
            address Address, formatted Formatted, street_address StreetAddress, locality Locality, region Region,
            postal_code PostalCode, city City, province Province, country Country, company Company,
            browser Browser, device Device, unionid Unionid, openid Openid, oauth Oauth,
            register_source RegisterSource, logins_count LoginsCount, last_login LastLogin, last_ip LastIp,
            signed_up SignedUp, blocked Blocked, status Status = user::UserStatus::Activated,
            external_id ExternalId, custom_data CustomData, identities Identities, created_at CreatedAt,
            updated_at UpdatedAt,
        })
    }

    /// The column named `name` (as in SQL), if there is one.
    pub fn column(name: &str) -> Option<Column> {
        Column::iter().find(|c| c.as_str() == name)
    }
}

fn bit(c: Column) -> u64 {
    1u64 << (c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_bit() {
        assert!(Column::iter().count() <= 64, "UserColumns holds at most 64 columns");
        assert!(matches!(UserColumns::column("user_pool_id"), Some(Column::UserPoolId)));
        assert!(UserColumns::column("nope").is_none());
        for c in Column::iter() {
            assert!(UserColumns::keys().with(c).has(c));
            assert_eq!(UserColumns::keys().has(c), matches!(c, Column::Id | Column::UserPoolId));
        }
    }

    #[test]
    fn select_lists_the_asked_columns_in_table_order() {
        assert_eq!(UserColumns::ALL.select("u"), "u.*");
        assert_eq!(UserColumns::keys().with(Column::Email).select("u"), "u.id, u.user_pool_id, u.email");
    }
}
