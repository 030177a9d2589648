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
        organization_code: String,
        department_id: String,
        #[graphql(default)] sort_by: DepartmentMemberSortBy,
        #[graphql(default)] order_by: SortOrder,
        department_id_type: Option<String>,
        #[graphql(default)] include_children_departments: bool,
        #[graphql(default_with = "Some(1)")] page: Option<i64>,
        #[graphql(default_with = "Some(10)")] limit: Option<i64>,
        #[graphql(default)] with_custom_data: bool,
        #[graphql(default)] with_identities: bool,
        #[graphql(default)] with_department_ids: bool,
        tenant_id: Option<String>,
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
        node_id: Option<String>,
        org_id: Option<String>,
        node_code: Option<String>,
        user_ids: Vec<String>,
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
        node_id: Option<String>,
        org_id: Option<String>,
        node_code: Option<String>,
        user_ids: Vec<String>,
    ) -> Result<Node> {
        let pool = ctx.pool()?;
        let node = NodeRef::from_args(node_id, org_id, node_code)?;
        Ok(Node::single(ctx.state().orgs.remove_members(&pool, &node, &user_ids).await?))
    }

    /// Move users from `sourceNodeId` to `targetNodeId`; each must be a member of the source.
    async fn move_members(
        &self,
        ctx: &Context<'_>,
        user_ids: Vec<String>,
        source_node_id: String,
        target_node_id: String,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().orgs.move_members(&pool, &user_ids, &source_node_id, &target_node_id).await?;
        Ok(CommonMessage::ok("members moved"))
    }

    /// Make a node the user's main department (the user must be a member); null clears it.
    async fn set_main_department(&self, ctx: &Context<'_>, user_id: String, department_id: Option<String>) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().orgs.set_main_department(&pool, &user_id, department_id.as_deref().filter(|d| !d.is_empty())).await?;
        Ok(CommonMessage::ok("main department set"))
    }
}
