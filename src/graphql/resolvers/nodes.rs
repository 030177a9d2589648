use async_graphql::{Context, Object, Result};

use crate::{
    domain::org_tree::{DepartmentPatch, NodePatch, fields::rules},
    graphql::{
        context::ContextExt,
        types::{
            common::CommonMessage,
            node_fields::GraphqlRule,
            org::{Node, Org, past_org},
        },
    },
};

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// A department of the pool by id; null with a `NOT_FOUND` error when the pool has none.
    // Read as of an instant, the whole org is read: it weighs as a listing in the complexity.
    #[graphql(complexity = "child_complexity + if as_of.is_some() { 1000 } else { 1 }")]
    async fn node_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department's id.")] id: String,
        #[graphql(desc = "Answer as it was at this instant (RFC 3339); everything selected below inherits it.")] as_of: Option<String>,
    ) -> Result<Option<Node>> {
        let pool = ctx.pool()?;
        if let Some(at) = instant(ctx, &pool, as_of).await? {
            let node = ctx.state().history.node_at(&pool, &id, &at).await?;
            return Ok(past_org(ctx, &pool, &node.org_id, &at).await?.1.node(&id));
        }
        Ok(Some(Node::single(ctx.state().orgs.node(&pool, &id).await?)))
    }

    /// A department by its code in an organization; null with a `NOT_FOUND` error when none has it.
    // Read as of an instant, the whole org is read: it weighs as a listing in the complexity.
    #[graphql(complexity = "child_complexity + if as_of.is_some() { 1000 } else { 1 }")]
    async fn node_by_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] org_id: String,
        #[graphql(desc = "The department's code (unique within the organization).")] code: String,
        #[graphql(desc = "Answer as it was at this instant (RFC 3339); everything selected below inherits it.")] as_of: Option<String>,
    ) -> Result<Option<Node>> {
        let pool = ctx.pool()?;
        if let Some(at) = instant(ctx, &pool, as_of).await? {
            let (_, index) = past_org(ctx, &pool, &org_id, &at).await?;
            return match index.node_by_code(&code) {
                Some(node) => Ok(Some(node)),
                None => Err(crate::error::AppError::not_found("node", &code).into()),
            };
        }
        Ok(Some(Node::single(ctx.state().orgs.node_by_code(&pool, &org_id, &code).await?)))
    }

    /// The root department of an organization.
    // Read as of an instant, the whole org is read: it weighs as a listing in the complexity.
    #[graphql(complexity = "child_complexity + if as_of.is_some() { 1000 } else { 1 }")]
    async fn root_node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] org_id: String,
        #[graphql(desc = "Answer as it was at this instant (RFC 3339); everything selected below inherits it.")] as_of: Option<String>,
    ) -> Result<Node> {
        let pool = ctx.pool()?;
        if let Some(at) = instant(ctx, &pool, as_of).await? {
            let (org, index) = past_org(ctx, &pool, &org_id, &at).await?;
            return index.node(&org.root_node_id).ok_or_else(|| crate::error::AppError::not_found("root node", &org.root_node_id).into());
        }
        Ok(Node::single(ctx.state().orgs.root_node(&pool, &org_id).await?))
    }

    /// Whether a department is the root of an organization.
    async fn is_root_node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department's id.")] node_id: String,
        #[graphql(desc = "The organization's id.")] org_id: String,
    ) -> Result<bool> {
        let pool = ctx.pool()?;
        Ok(ctx.state().orgs.is_root_node(&pool, &org_id, &node_id).await?)
    }

    /// The children of a node, in display order. `orgId` is accepted for compatibility.
    // Read as of an instant, the whole org is read: it weighs as a listing in the complexity.
    #[graphql(complexity = "child_complexity + if as_of.is_some() { 1000 } else { 1 }")]
    async fn children_nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The parent department's id.")] node_id: String,
        #[graphql(desc = "Accepted for compatibility; the department's id is enough.")] org_id: Option<String>,
        #[graphql(desc = "Answer as it was at this instant (RFC 3339); everything selected below inherits it.")] as_of: Option<String>,
    ) -> Result<Vec<Node>> {
        let _ = org_id;
        let pool = ctx.pool()?;
        if let Some(at) = instant(ctx, &pool, as_of).await? {
            let node = ctx.state().history.node_at(&pool, &node_id, &at).await?;
            return Ok(past_org(ctx, &pool, &node.org_id, &at).await?.1.child_nodes(&node_id));
        }
        Ok(ctx.state().orgs.children(&pool, &node_id).await?.into_iter().map(Node::listed).collect())
    }

    /// Nodes of the pool whose name or code contains `keyword` (case-insensitive), at most
    /// `--max-page-size` of them.
    async fn search_nodes(&self, ctx: &Context<'_>, #[graphql(desc = "The text to look for in names and codes.")] keyword: String) -> Result<Vec<Node>> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let found = state.orgs.search_nodes(&pool, &keyword, state.config.limits.max_page_size).await?;
        Ok(found.into_iter().map(Node::listed).collect())
    }
}

#[derive(Default)]
pub struct NodeMutation;

/// The mutations that set a department's listed fields take one argument per field, made from
/// the field list (`entity::with_department_fields!`).
macro_rules! node_field_mutations {
    ($(#[doc = $doc:literal] $field:ident : $ty:ty = $name:literal $v3:literal $rule:ident,)*) => {
        #[derive(Default)]
        pub struct NodeFieldMutation;

        #[Object]
        impl NodeFieldMutation {
            /// Create an organization with one node, its root, with the given fields (`code`
            /// must be unique among the pool's organizations).
            #[allow(clippy::too_many_arguments)]
            async fn create_org(
                &self,
                ctx: &Context<'_>,
                $( #[graphql(name = $name, desc = $doc)] $field: <rules::$rule as GraphqlRule>::NewInput, )*
                #[graphql(desc = "The tenant the organization belongs to (none when absent).")] tenant_id: Option<String>,
            ) -> Result<Org> {
                let pool = ctx.pool()?;
                let root = DepartmentPatch { $( $field: <rules::$rule as GraphqlRule>::new_input($field), )* };
                Ok(Org::new(ctx.state().orgs.create_org(&pool, root, tenant_id.as_deref()).await?))
            }

            /// Add a node under `parentNodeId` (the root when absent). `code` must be unique in
            /// the org; `order` sorts siblings (larger first); the i18n texts are JSON objects
            /// as text.
            #[allow(clippy::too_many_arguments)]
            async fn add_node_v2(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The organization's id.")] org_id: String,
                #[graphql(desc = "The parent department's id (the root when absent).")] parent_node_id: Option<String>,
                $( #[graphql(name = $name, desc = $doc)] $field: <rules::$rule as GraphqlRule>::NewInput, )*
            ) -> Result<Node> {
                let input = DepartmentPatch { $( $field: <rules::$rule as GraphqlRule>::new_input($field), )* };
                Ok(Node::single(add(ctx, &org_id, parent_node_id, input).await?))
            }

            /// The older form of `addNodeV2`: the same, answering with the whole organization.
            #[allow(clippy::too_many_arguments)]
            async fn add_node(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The organization's id.")] org_id: String,
                #[graphql(desc = "The parent department's id (the root when absent).")] parent_node_id: Option<String>,
                $( #[graphql(name = $name, desc = $doc)] $field: <rules::$rule as GraphqlRule>::NewInput, )*
            ) -> Result<Org> {
                let input = DepartmentPatch { $( $field: <rules::$rule as GraphqlRule>::new_input($field), )* };
                add(ctx, &org_id, parent_node_id, input).await?;
                Ok(Org::new(ctx.state().orgs.org(&ctx.pool()?, &org_id).await?))
            }

            /// Change a node's fields. A field left out or null keeps its value (authing-js-sdk
            /// sends every variable its document declares, set or not); an empty string clears
            /// a text field and `{}` a JSON one. `leaderUserIds` replaces the leaders in order
            /// (`[]` clears them); the first is also `leaderUserId`.
            #[allow(clippy::too_many_arguments)]
            async fn update_node(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The department's id.")] id: String,
                $( #[graphql(name = $name, desc = $doc)] $field: Option<<rules::$rule as GraphqlRule>::Input>, )*
                #[graphql(desc = "The one leader (an empty string clears the leaders); `leaderUserIds` wins when both are given.")]
                leader_user_id: Option<String>,
                #[graphql(desc = "The leaders in order (users of the pool, at most 50); `[]` clears them.")] leader_user_ids: Option<Vec<String>>,
            ) -> Result<Node> {
                let pool = ctx.pool()?;
                let patch = NodePatch {
                    fields: DepartmentPatch { $( $field: $field.map(<rules::$rule as GraphqlRule>::input), )* },
                    leader_user_id: leader_user_id.map(|s| if s.trim().is_empty() { None } else { Some(s) }),
                    leader_user_ids,
                    updated_at: None,
                };
                Ok(Node::single(ctx.state().orgs.update_node(&pool, &id, patch).await?))
            }
        }
    };
}
entity::with_department_fields!(node_field_mutations);

async fn add(ctx: &Context<'_>, org_id: &str, parent: Option<String>, fields: DepartmentPatch) -> Result<entity::node::Model> {
    let pool = ctx.pool()?;
    Ok(ctx.state().orgs.add_node(&pool, org_id, parent.as_deref(), fields.into()).await?)
}

#[Object]
impl NodeMutation {
    /// Delete a node and its whole subtree with their memberships (users stay).
    async fn delete_node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] org_id: String,
        #[graphql(desc = "The department's id; the root cannot be deleted (delete the organization).")] node_id: String,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().orgs.delete_node(&pool, &org_id, &node_id).await?;
        Ok(CommonMessage::ok("node deleted"))
    }

    /// Move a node with its subtree under `targetParentId` (same org; not under itself or a
    /// descendant). Answers with the organization.
    async fn move_node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] org_id: String,
        #[graphql(desc = "The department to move.")] node_id: String,
        #[graphql(desc = "Its new parent, in the same organization.")] target_parent_id: String,
    ) -> Result<Org> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        state.orgs.move_node(&pool, &org_id, &node_id, &target_parent_id).await?;
        Ok(Org::new(state.orgs.org(&pool, &org_id).await?))
    }
}

/// The instant of an `asOf` argument, if given (with the preview of the planned tree for a
/// future one).
pub(super) async fn instant(ctx: &Context<'_>, pool: &crate::domain::PoolId, as_of: Option<String>) -> Result<Option<crate::domain::history::AsOf>> {
    let Some(text) = as_of else { return Ok(None) };
    let history = &ctx.state().history;
    let at = history.instant("asOf", &text)?;
    Ok(Some(history.as_of(pool, at).await?))
}
