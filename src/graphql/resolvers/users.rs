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
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id; required (null is refused).")] id: Option<String>,
    ) -> Result<Option<User>> {
        let pool = ctx.pool()?;
        let id = id.ok_or_else(|| AppError::invalid("id", "id is required"))?;
        Ok(Some(ctx.state().users.get(&pool, &id).await?.into()))
    }

    /// The users of the caller's pool, a page at a time. `excludeUsersInOrg` leaves out users
    /// who are members of an organization node.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(1)", desc = "The page to answer, from 1; null means 1.")] page: Option<i64>,
        #[graphql(
            default_with = "Some(10)",
            desc = "Users per page, from 1 to the server's largest page (200 by default); null means 10."
        )]
        limit: Option<i64>,
        #[graphql(
            default_with = "Some(SortByEnum::default())",
            desc = "The order of the users (newest first when null); users of equal time are ordered by id."
        )]
        sort_by: Option<SortByEnum>,
        #[graphql(desc = "List only the users who are members of no node (false when absent).")] exclude_users_in_org: Option<bool>,
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
        #[graphql(
            desc = "How many users to answer after `after` (forward paging): 0 to the server's largest page (200 by default); 10 when neither `first` nor `last` is given."
        )]
        first: Option<i64>,
        #[graphql(desc = "A cursor (`endCursor`) of a previous page: answer the users after it. Goes with `first`.")]
        after: Option<String>,
        #[graphql(
            desc = "How many users to answer before `before` (backward paging): 0 to the server's largest page (200 by default). Not with `first`."
        )]
        last: Option<i64>,
        #[graphql(desc = "A cursor (`startCursor`) of a previous page: answer the users before it. Goes with `last`.")]
        before: Option<String>,
        #[graphql(
            default_with = "Some(SortByEnum::default())",
            desc = "The order of the users (newest first when null); a cursor is valid only with the order it came from."
        )]
        sort_by: Option<SortByEnum>,
        #[graphql(
            default_with = "Some(false)",
            desc = "List only the users who are members of no node; a cursor is valid only with the filter it came from."
        )]
        exclude_users_in_org: Option<bool>,
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
        #[graphql(desc = "The new user's fields; at least one of `username`, `email`, `phone` or `externalId` is required.")]
        user_info: CreateUserInput,
        #[graphql(
            desc = "The password is a hash from another system: store it as it is instead of hashing it (false when absent)."
        )]
        keep_password: Option<bool>,
        #[graphql(desc = "Accepted for compatibility with Authing's SDK and ignored: orgraph has no login.")]
        reset_password_on_first_login: Option<bool>,
        #[graphql(
            desc = "Extended fields as a JSON object in a string, merged with `customData` (whose keys win); blank is ignored."
        )]
        params: Option<String>,
        #[graphql(desc = "An external identity to attach to the user (its tokens are not stored).")]
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

    /// Change some fields of a user; fields left out keep their value, null clears text fields
    /// (see `UpdateUserInput`).
    /// `emailToken`/`phoneToken` are accepted for compatibility: administrators need no
    /// verification codes.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the user to change; required (null is refused).")]
        id: Option<String>,
        #[graphql(desc = "The fields to change: a field left out keeps its value.")] input: UpdateUserInput,
        #[graphql(desc = "Accepted for compatibility with Authing's SDK and ignored: administrators need no verification code.")]
        email_token: Option<String>,
        #[graphql(desc = "Accepted for compatibility with Authing's SDK and ignored: administrators need no verification code.")]
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
    async fn delete_user(&self, ctx: &Context<'_>, #[graphql(desc = "The id of the user to delete.")] id: String) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().users.delete(&pool, &id).await?;
        Ok(CommonMessage::ok("user deleted"))
    }

    /// Delete several users: all of them, or none when one is not found.
    async fn delete_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ids of the users to delete: 1 to 1,000 ids (a repeated id is deleted once).")] ids: Vec<String>,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        let n = ctx.state().users.delete_many(&pool, &ids).await?;
        Ok(CommonMessage::ok(format!("{n} users deleted")))
    }
}
