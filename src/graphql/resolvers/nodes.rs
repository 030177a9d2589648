use async_graphql::{Json, Context, Object, Result};

use crate::{
    domain::{
        org_tree::{NodeInput, NodePatch},
        users::Change,
    },
    graphql::{
        context::ContextExt,
        types::{
            common::CommonMessage,
            org::{Node, Org},
        },
    },
};

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    async fn node_by_id(&self, ctx: &Context<'_>, id: String) -> Result<Option<Node>> {
        let pool = ctx.pool()?;
        Ok(Some(Node::single(ctx.state().orgs.node(&pool, &id).await?)))
    }

    async fn node_by_code(&self, ctx: &Context<'_>, org_id: String, code: String) -> Result<Option<Node>> {
        let pool = ctx.pool()?;
        Ok(Some(Node::single(ctx.state().orgs.node_by_code(&pool, &org_id, &code).await?)))
    }

    async fn root_node(&self, ctx: &Context<'_>, org_id: String) -> Result<Node> {
        let pool = ctx.pool()?;
        Ok(Node::single(ctx.state().orgs.root_node(&pool, &org_id).await?))
    }

    async fn is_root_node(&self, ctx: &Context<'_>, node_id: String, org_id: String) -> Result<bool> {
        let pool = ctx.pool()?;
        Ok(ctx.state().orgs.is_root_node(&pool, &org_id, &node_id).await?)
    }

    /// The children of a node, in display order. `orgId` is accepted for compatibility.
    async fn children_nodes(&self, ctx: &Context<'_>, node_id: String, org_id: Option<String>) -> Result<Vec<Node>> {
        let _ = org_id;
        let pool = ctx.pool()?;
        Ok(ctx.state().orgs.children(&pool, &node_id).await?.into_iter().map(Node::listed).collect())
    }

    /// Nodes of the pool whose name or code contains `keyword` (case-insensitive), at most
    /// `--max-page-size` of them.
    async fn search_nodes(&self, ctx: &Context<'_>, keyword: String) -> Result<Vec<Node>> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        let found = state.orgs.search_nodes(&pool, &keyword, state.config.limits.max_page_size).await?;
        Ok(found.into_iter().map(Node::listed).collect())
    }
}

#[derive(Default)]
pub struct NodeMutation;

async fn add(ctx: &Context<'_>, org_id: &str, parent: Option<String>, input: NodeInput) -> Result<entity::node::Model> {
    let pool = ctx.pool()?;
    Ok(ctx.state().orgs.add_node(&pool, org_id, parent.as_deref(), input).await?)
}

/// Absent or null keeps; "" clears.
fn text_change(v: Option<String>) -> Change<String> {
    v.map(|s| if s.trim().is_empty() { None } else { Some(s) })
}

#[Object]
impl NodeMutation {
    /// Add a node under `parentNodeId` (the root when absent). `code` must be unique in the org;
    /// `order` sorts siblings (larger first); the i18n fields are JSON objects as text.
    #[allow(clippy::too_many_arguments)]
    async fn add_node_v2(
        &self,
        ctx: &Context<'_>,
        org_id: String,
        parent_node_id: Option<String>,
        name: String,
        #[graphql(name = "nameI18n")] name_i18n: Option<String>,
        description: Option<String>,
        #[graphql(name = "descriptionI18n")] description_i18n: Option<String>,
        order: Option<i64>,
        code: Option<String>,
    ) -> Result<Node> {
        let input = NodeInput::new(&name, code.as_deref(), description.as_deref(), order, name_i18n.as_deref(), description_i18n.as_deref())?;
        Ok(Node::single(add(ctx, &org_id, parent_node_id, input).await?))
    }

    /// The older form of `addNodeV2`: the same, answering with the whole organization.
    #[allow(clippy::too_many_arguments)]
    async fn add_node(
        &self,
        ctx: &Context<'_>,
        org_id: String,
        parent_node_id: Option<String>,
        name: String,
        #[graphql(name = "nameI18n")] name_i18n: Option<String>,
        description: Option<String>,
        #[graphql(name = "descriptionI18n")] description_i18n: Option<String>,
        order: Option<i64>,
        code: Option<String>,
    ) -> Result<Org> {
        let input = NodeInput::new(&name, code.as_deref(), description.as_deref(), order, name_i18n.as_deref(), description_i18n.as_deref())?;
        add(ctx, &org_id, parent_node_id, input).await?;
        Ok(Org::new(ctx.state().orgs.org(&ctx.pool()?, &org_id).await?))
    }

    /// Change a node's fields. A field left out or null keeps its value (authing-js-sdk sends
    /// every variable its document declares, set or not); an empty string clears a text field.
    #[allow(clippy::too_many_arguments)]
    async fn update_node(
        &self,
        ctx: &Context<'_>,
        id: String,
        name: Option<String>,
        code: Option<String>,
        description: Option<String>,
        order: Option<i64>,
        #[graphql(name = "nameI18n")] name_i18n: Option<String>,
        #[graphql(name = "descriptionI18n")] description_i18n: Option<String>,
        leader_user_id: Option<String>,
        #[graphql(desc = "The leaders in order (replaces them; [] clears); the first is also `leaderUserId`.")]
        leader_user_ids: Option<Vec<String>>,
        open_department_id: Option<String>,
        enabled: Option<bool>,
        #[graphql(desc = "The node's extended fields as a JSON object (replaces them; {} clears).")]
        custom_data: Option<Json<serde_json::Value>>,
    ) -> Result<Node> {
        let pool = ctx.pool()?;
        let patch = NodePatch {
            name,
            code: text_change(code),
            description: text_change(description),
            order: order.map(Some),
            name_i18n: text_change(name_i18n),
            description_i18n: text_change(description_i18n),
            leader_user_id: text_change(leader_user_id),
            leader_user_ids,
            open_department_id: text_change(open_department_id),
            enabled,
            custom_data: custom_data.map(|j| Some(j.0)),
            ..Default::default()
        };
        Ok(Node::single(ctx.state().orgs.update_node(&pool, &id, patch).await?))
    }

    /// Delete a node and its whole subtree with their memberships (users stay).
    async fn delete_node(&self, ctx: &Context<'_>, org_id: String, node_id: String) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().orgs.delete_node(&pool, &org_id, &node_id).await?;
        Ok(CommonMessage::ok("node deleted"))
    }

    /// Move a node with its subtree under `targetParentId` (same org; not under itself or a
    /// descendant). Answers with the organization.
    async fn move_node(&self, ctx: &Context<'_>, org_id: String, node_id: String, target_parent_id: String) -> Result<Org> {
        let pool = ctx.pool()?;
        let state = ctx.state();
        state.orgs.move_node(&pool, &org_id, &node_id, &target_parent_id).await?;
        Ok(Org::new(state.orgs.org(&pool, &org_id).await?))
    }
}
