//! A page of users as GraphQL answers it (`PaginatedUsers`), with its list rendered without a
//! resolver per field when the selection is plain.

use std::borrow::Cow;

use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerResult, SimpleObject, Value,
    parser::types::Field,
    registry::Registry,
    resolver_utils::resolve_list,
};
use entity::user;

use super::plain::plain_fields;
use crate::{domain::users::profile::with_profile_fields, views::user::User};

/// One page of a list of users, with the size of the whole list.
#[derive(SimpleObject, Debug, Clone)]
pub struct PaginatedUsers {
    /// How many users the whole list has, across all pages.
    pub total_count: i64,
    /// This page's users, in the list's order.
    pub list: UserList,
}

impl From<crate::domain::pagination::Paginated<user::Model>> for PaginatedUsers {
    fn from(page: crate::domain::pagination::Paginated<user::Model>) -> Self {
        PaginatedUsers { total_count: page.total_count as i64, list: UserList(page.list.into_iter().map(User::from).collect()) }
    }
}

/// `[User!]!` of a page. A plain selection (see `plain`) is rendered straight into values, as
/// `org_nodes` renders listings: a resolver per field was a quarter of a small member page's
/// CPU. Any other selection resolves each `User` as usual.
#[derive(Debug, Clone)]
pub struct UserList(pub Vec<User>);

impl OutputType for UserList {
    fn type_name() -> Cow<'static, str> {
        <Vec<User> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<User> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<User> as OutputType>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let Some(first) = self.0.first() else { return Ok(Value::List(Vec::new())) };
        match plain_selection(&field.node, first) {
            Some(plan) => Ok(Value::List(self.0.iter().map(|u| {
                Value::Object(plan.iter().map(|(key, name)| (key.clone(), plain_value(u, name.as_str()).unwrap_or(Value::Null))).collect())
            }).collect())),
            None => resolve_list(ctx, field, &self.0, Some(self.0.len())).await,
        }
    }
}

/// The response keys and field names of `field`'s selection when it is plain and every field
/// is one `plain_value` renders (`sample` tells which are).
fn plain_selection(field: &Field, sample: &User) -> Option<Vec<(Name, Name)>> {
    plain_fields(field)?.into_iter().map(|(key, name)| plain_value(sample, name.as_str()).map(|_| (key, name))).collect()
}

/// The value of `User`'s scalar field `name` (as its resolver gives it); `None` for the others.
fn plain_value(u: &User, name: &str) -> Option<Value> {
    macro_rules! profile_value {
        ($(#[doc = $doc:literal] $field:ident $json:literal $gql:literal $max:expr,)*) => {
            match name {
                $( $gql => return Some(u.profile.$field.as_deref().into()), )*
                _ => {}
            }
        };
    }
    with_profile_fields!(profile_value);
    Some(match name {
        "__typename" => <User as OutputType>::type_name().into(),
        "id" => u.id.as_str().into(),
        "arn" => u.arn.as_str().into(),
        "userPoolId" => u.user_pool_id.as_str().into(),
        "status" => u.status.and_then(|s| async_graphql::to_value(s).ok()).into(),
        "username" => u.username.as_deref().into(),
        "email" => u.email.as_deref().into(),
        "emailVerified" => u.email_verified.into(),
        "phone" => u.phone.as_deref().into(),
        "phoneVerified" => u.phone_verified.into(),
        "registerSource" => u.register_source.clone().into(),
        "password" => u.password.as_deref().into(),
        "token" => u.token.as_deref().into(),
        "tokenExpiredAt" => u.token_expired_at.as_deref().into(),
        "loginsCount" => u.logins_count.into(),
        "lastLogin" => u.last_login.as_deref().into(),
        "signedUp" => u.signed_up.as_deref().into(),
        "blocked" => u.blocked.into(),
        "isDeleted" => u.is_deleted.into(),
        "gender" => u.gender.as_deref().into(),
        "createdAt" => u.created_at.as_deref().into(),
        "updatedAt" => u.updated_at.as_deref().into(),
        "externalId" => u.external_id.as_deref().into(),
        "expiredAt" => u.expired_at.as_deref().into(),
        "directManagement" => u.direct_management.as_deref().into(),
        _ => return None,
    })
}
