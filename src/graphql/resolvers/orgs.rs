use async_graphql::{Context, Object, Result};

use crate::graphql::{
    context::ContextExt,
    types::{
        common::{CommonMessage, SortByEnum},
        connection::{Cursors, OrgConnection},
        org::{Org, PaginatedOrgs},
    },
};
use crate::{domain::pagination::Page, error::AppError};

#[derive(Default)]
pub struct OrgQuery;

#[Object]
impl OrgQuery {
    /// An organization with its root node and all its nodes.
    // Read as of an instant, the whole org is read: it weighs as a listing in the complexity.
    #[graphql(complexity = "child_complexity + if as_of.is_some() { 1000 } else { 1 }")]
    async fn org(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] id: String,
        #[graphql(desc = "Answer as it was at this instant (RFC 3339); everything selected below inherits it.")] as_of: Option<String>,
    ) -> Result<Org> {
        let pool = ctx.pool()?;
        if let Some(at) = super::nodes::instant(ctx, &pool, as_of).await? {
            return Ok(Org::at(crate::graphql::types::org::past_org(ctx, &pool, &id, &at).await?));
        }
        Ok(Org::new(ctx.state().orgs.org(&pool, &id).await?))
    }

    /// The organizations of the pool, a page at a time.
    async fn orgs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(1)", desc = "The page to answer, from 1.")] page: Option<i64>,
        #[graphql(default_with = "Some(10)", desc = "Organizations per page, from 1 to the server's largest page (200 by default).")]
        limit: Option<i64>,
        #[graphql(default_with = "Some(SortByEnum::default())", desc = "The order of the organizations.")] sort_by: Option<SortByEnum>,
    ) -> Result<PaginatedOrgs> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let page = Page::new(page, limit, state.config.limits.max_page_size)?;
        let found = state.orgs.orgs(&pool, page, sort_by.unwrap_or_default().into()).await?;
        // `nodes` weighs the same in the query's complexity whatever the page size: bound what
        // one page lists here (SDKs ask for `nodes` on every org of a page).
        if ctx.look_ahead().field("list").field("nodes").exists() {
            let ids: Vec<String> = found.list.iter().map(|o| o.id.clone()).collect();
            let listed = state.orgs.node_total(&ids).await?;
            let most = state.config.limits.max_listed_nodes;
            if listed > most {
                return Err(AppError::invalid(
                    "limit",
                    format!("this page's orgs have {listed} nodes in all, more than one request may list ({most}): ask for fewer orgs per page"),
                )
                .into());
            }
        }
        Ok(PaginatedOrgs { total_count: found.total_count as i64, list: found.list.into_iter().map(Org::new).collect() })
    }

    /// The pool's organizations as a Relay connection: `first` after the cursor `after`, or
    /// `last` before `before` (10 forward when no count is given, at most the largest page).
    async fn orgs_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many organizations to answer after `after` (forward paging).")] first: Option<i64>,
        #[graphql(desc = "A cursor (`endCursor`) of a previous page: answer the organizations after it.")] after: Option<String>,
        #[graphql(desc = "How many organizations to answer before `before` (backward paging).")] last: Option<i64>,
        #[graphql(desc = "A cursor (`startCursor`) of a previous page: answer the organizations before it.")] before: Option<String>,
        #[graphql(default_with = "Some(SortByEnum::default())", desc = "The order of the organizations; a cursor is valid only with the order it came from.")]
        sort_by: Option<SortByEnum>,
    ) -> Result<OrgConnection> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let sort = sort_by.unwrap_or_default();
        let cursors = Cursors::orgs(sort);
        let window = cursors.window(first, after, last, before, state.config.limits.max_page_size)?;
        let (slice, total) = state.orgs.orgs_window(&pool, sort.into(), window).await?;
        Ok(OrgConnection::new(slice, total as i64, &cursors))
    }
}

#[derive(Default)]
pub struct OrgMutation;

#[Object]
impl OrgMutation {
    /// Delete an organization with all its nodes and memberships (users stay).
    async fn delete_org(&self, ctx: &Context<'_>, #[graphql(desc = "The organization's id.")] id: String) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().orgs.delete_org(&pool, &id).await?;
        Ok(CommonMessage::ok("delete org succeed"))
    }
}
