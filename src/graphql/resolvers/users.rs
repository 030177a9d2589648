use async_graphql::{Context, Object, Result};

use crate::{
    views::user::User,
    domain::{pagination::{Page, Slice}, users::CreateOptions},
    error::AppError,
    graphql::{
        context::ContextExt,
        types::{
            common::{CommonMessage, SortByEnum},
            connection::{Cursors, UserConnection},
            user_input::{CreateUserIdentityInput, CreateUserInput, UpdateUserInput, custom_data_object},
            user_list::PaginatedUsers,
        },
    },
};

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// A user of the caller's pool.
    async fn user(&self, ctx: &Context<'_>, id: Option<String>) -> Result<Option<User>> {
        let pool = ctx.pool()?;
        let id = id.ok_or_else(|| AppError::invalid("id", "id is required"))?;
        Ok(Some(ctx.state().users.get(&pool, &id).await?.into()))
    }

    /// The users of the caller's pool, a page at a time. `excludeUsersInOrg` leaves out users
    /// who are members of an organization node.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(1)")] page: Option<i64>,
        #[graphql(default_with = "Some(10)")] limit: Option<i64>,
        #[graphql(default_with = "Some(SortByEnum::default())")] sort_by: Option<SortByEnum>,
        exclude_users_in_org: Option<bool>,
    ) -> Result<PaginatedUsers> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        // Null means "the default", as clients such as the SDK leave variables unset.
        let page = Page::new(page, limit, state.config.limits.max_page_size)?;
        let found = state
            .users
            .list(&pool, page, sort_by.unwrap_or_default().into(), exclude_users_in_org.unwrap_or(false))
            .await?;
        Ok(found.into())
    }

    /// The pool's users as a Relay connection (for apps that scroll): `first` users after the
    /// cursor `after`, or `last` before `before` (10 forward when no count is given, at most the
    /// largest page). With `excludeUsersInOrg`, only users in no organization.
    #[allow(clippy::too_many_arguments)] // Relay's four arguments and the list's own
    async fn users_connection(
        &self,
        ctx: &Context<'_>,
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
        #[graphql(default_with = "Some(SortByEnum::default())")] sort_by: Option<SortByEnum>,
        #[graphql(default_with = "Some(false)")] exclude_users_in_org: Option<bool>,
    ) -> Result<UserConnection> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let (sort, outside) = (sort_by.unwrap_or_default(), exclude_users_in_org.unwrap_or(false));
        let cursors = Cursors::users(sort, outside);
        let window = cursors.window(first, after, last, before, state.config.limits.max_page_size)?;
        let (slice, total) = state.users.window(&pool, sort.into(), outside, window).await?;
        let items = slice.items.into_iter().map(|u| (cursors.of_user(&u), u)).map(|(c, u)| (User::from(u), c)).collect();
        Ok(UserConnection::new(Slice { items, has_next: slice.has_next, has_previous: slice.has_previous }, total as i64))
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Create a user as an administrator (no verification codes). `keepPassword`: the password
    /// is a hash from another system, stored as it is. `params`: extended fields as a JSON object
    /// string. `resetPasswordOnFirstLogin` is accepted for compatibility (orgraph has no login).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        user_info: CreateUserInput,
        keep_password: Option<bool>,
        reset_password_on_first_login: Option<bool>,
        params: Option<String>,
        identity: Option<CreateUserIdentityInput>,
    ) -> Result<User> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let _ = reset_password_on_first_login;
        let password = match user_info.fields.password.as_deref() {
            Some(sent) => Some(state.open_password(sent).await?),
            None => None,
        };
        let mut patch = user_info.into_patch(password)?;
        if let Some(params) = params.filter(|p| !p.trim().is_empty()) {
            let value = serde_json::from_str(&params)
                .map_err(|e| AppError::invalid("params", format!("params is not JSON: {e}")))?;
            let mut merged = custom_data_object("params", value)?;
            merged.extend(patch.custom_data.take().unwrap_or_default());
            patch.custom_data = Some(merged);
        }
        let options = CreateOptions {
            keep_password: keep_password.unwrap_or(false),
            identity: identity.map(Into::into),
            ..Default::default()
        };
        Ok(state.users.create(&pool, patch, options).await?.into())
    }

    /// Change some fields of a user; fields left out keep their value, null clears them.
    /// `emailToken`/`phoneToken` are accepted for compatibility: administrators need no
    /// verification codes.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: Option<String>,
        input: UpdateUserInput,
        email_token: Option<String>,
        phone_token: Option<String>,
    ) -> Result<User> {
        let _ = (email_token, phone_token);
        let pool = ctx.pool()?;
        let state = ctx.state();
        let id = id.ok_or_else(|| AppError::invalid("id", "id is required"))?;
        let password = match input.fields.password.as_deref() {
            Some(sent) => Some(state.open_password(sent).await?),
            None => None,
        };
        let patch = input.fields.into_patch(password)?;
        Ok(state.users.update(&pool, &id, patch).await?.into())
    }

    /// Delete a user.
    async fn delete_user(&self, ctx: &Context<'_>, id: String) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().users.delete(&pool, &id).await?;
        Ok(CommonMessage::ok("user deleted"))
    }

    /// Delete several users: all of them, or none when one is not found.
    async fn delete_users(&self, ctx: &Context<'_>, ids: Vec<String>) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        let n = ctx.state().users.delete_many(&pool, &ids).await?;
        Ok(CommonMessage::ok(format!("{n} users deleted")))
    }
}
