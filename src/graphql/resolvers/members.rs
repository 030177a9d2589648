use async_graphql::{Context, Object, Result};

use crate::{
    domain::org_tree::{DepartmentMembersArgs, DepartmentMembersQuery, NodeRef},
    views::{
        v3::{UserDtoOptions, UserPagingDto},
        v3_names,
    },
    graphql::{
        context::ContextExt,
        types::{
            common::CommonMessage,
            org::Node,
            common::{DepartmentMemberSortBy, SortOrder},
        },
    },
};

#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// v3 member list of a department: the org by `organizationCode`, the department by id
    /// (`root` for the root node) or, with `departmentIdType: "code"`, by code. `limit` at most
    /// 50. Joined-at order on a subtree is the time the user entered it.
    #[allow(clippy::too_many_arguments)]
    async fn list_department_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code of the organization (its root node's code).")] organization_code: String,
        #[graphql(desc = "The department, named as `departmentIdType` says; `root` names the organization's root node.")]
        department_id: String,
        #[graphql(default, desc = "What the members are ordered by (when they joined the department by default).")]
        sort_by: DepartmentMemberSortBy,
        #[graphql(default, desc = "Ascending or descending order (descending by default).")] order_by: SortOrder,
        #[graphql(
            desc = "What `departmentId` is: `department_id` (the default, also when null or empty), `open_department_id` or `code`."
        )]
        department_id_type: Option<String>,
        #[graphql(default, desc = "List the distinct members of the whole subtree, not only the department's direct members.")]
        include_children_departments: bool,
        #[graphql(default_with = "Some(1)", desc = "The page to answer, from 1; null means 1.")] page: Option<i64>,
        #[graphql(default_with = "Some(10)", desc = "Members per page, from 1 to 50; null means 10.")] limit: Option<i64>,
        #[graphql(default, desc = "Fill each user's `customData`.")] with_custom_data: bool,
        #[graphql(default, desc = "Fill each user's `identities`.")] with_identities: bool,
        #[graphql(default, desc = "Fill each user's `departmentIds`.")] with_department_ids: bool,
        #[graphql(desc = "Accepted for compatibility with the v3 API and ignored.")] tenant_id: Option<String>,
    ) -> Result<UserPagingDto> {
        let _ = tenant_id;
        let pool = ctx.pool()?;
        let query = DepartmentMembersQuery::new(DepartmentMembersArgs {
            organization_code,
            department_id,
            department_id_type: v3_names::department_id_type(department_id_type.as_deref())?,
            sort_by: sort_by.into(),
            order_by: order_by.into(),
            include_children_departments,
            page,
            limit,
            with_department_ids,
        })?;
        let found = ctx.state().orgs.department_members(&pool, &query).await?;
        Ok(UserPagingDto::new(found, UserDtoOptions { with_identities, with_custom_data }))
    }
}

#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Add users to a node, named by `nodeId` or by `orgId` + `nodeCode`. Users already members
    /// stay (their `isLeader` is updated when given). All users must exist, or none is added.
    async fn add_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the node to add the users to; when absent (or empty), give `orgId` and `nodeCode`.")]
        node_id: Option<String>,
        #[graphql(desc = "The organization of `nodeCode` (used when `nodeId` is absent).")] org_id: Option<String>,
        #[graphql(desc = "The code of the node within `orgId` (used when `nodeId` is absent).")] node_code: Option<String>,
        #[graphql(desc = "The users to add: 1 to 1,000 ids of users of the pool.")] user_ids: Vec<String>,
        #[graphql(
            desc = "Whether the users lead the node. When absent, new members are not leaders and existing members keep their role."
        )]
        is_leader: Option<bool>,
    ) -> Result<Node> {
        let pool = ctx.pool()?;
        let node = NodeRef::from_args(node_id, org_id, node_code)?;
        Ok(Node::single(ctx.state().orgs.add_members(&pool, &node, &user_ids, is_leader).await?))
    }

    /// Remove users from a node; each must be a member, or none is removed.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the node to remove the users from; when absent (or empty), give `orgId` and `nodeCode`.")]
        node_id: Option<String>,
        #[graphql(desc = "The organization of `nodeCode` (used when `nodeId` is absent).")] org_id: Option<String>,
        #[graphql(desc = "The code of the node within `orgId` (used when `nodeId` is absent).")] node_code: Option<String>,
        #[graphql(desc = "The users to remove: 1 to 1,000 ids, each of a member of the node.")] user_ids: Vec<String>,
    ) -> Result<Node> {
        let pool = ctx.pool()?;
        let node = NodeRef::from_args(node_id, org_id, node_code)?;
        Ok(Node::single(ctx.state().orgs.remove_members(&pool, &node, &user_ids).await?))
    }

    /// Move users from `sourceNodeId` to `targetNodeId`; each must be a member of the source.
    async fn move_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The users to move: 1 to 1,000 ids, each of a member of the source node.")] user_ids: Vec<String>,
        #[graphql(desc = "The id of the node the users leave.")] source_node_id: String,
        #[graphql(
            desc = "The id of the node the users join, in any organization of the pool but not the source. They join as non-leaders; those already in it just leave the source."
        )]
        target_node_id: String,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().orgs.move_members(&pool, &user_ids, &source_node_id, &target_node_id).await?;
        Ok(CommonMessage::ok("members moved"))
    }

    /// Make a node the user's main department (the user must be a member); null clears it.
    async fn set_main_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the user.")] user_id: String,
        #[graphql(desc = "The id of a node the user is a member of; null or empty clears the user's main department.")]
        department_id: Option<String>,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().orgs.set_main_department(&pool, &user_id, department_id.as_deref().filter(|d| !d.is_empty())).await?;
        Ok(CommonMessage::ok("main department set"))
    }
}
