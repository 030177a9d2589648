//! Permissions over GraphQL, as authing-js-sdk's `acl.*` sends them (`isAllowed` and the
//! resource and namespace management are REST: see `http/rest_acl.rs`).

use async_graphql::{Context, Object, Result};
use entity::acl_grant::TargetType;

use crate::{
    domain::acl::{ActionFilter, GrantTarget, parse_resource_type},
    error::AppError,
    graphql::{
        context::ContextExt,
        types::{
            acl::{
                AuthorizeResourceOpt, AuthorizedTargetsActionsInput, Operator, PaginatedAuthorizedResources,
                PaginatedAuthorizedTargets, PolicyAssignmentTargetType, ResourceType,
            },
            common::CommonMessage,
        },
    },
};

#[derive(Default)]
pub struct AclQuery;

#[Object]
impl AclQuery {
    /// What a user (directly and through its departments and their ancestors) or a node (`ORG`:
    /// itself and its ancestors) may do in `namespace` (`default` when absent), one entry per
    /// granted resource; `resourceType` filters (DATA, API, MENU, UI, BUTTON).
    async fn authorized_resources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "`USER` or `ORG`. Required; the other types are refused.")] target_type: Option<PolicyAssignmentTargetType>,
        #[graphql(desc = "The user id, or the node id for `ORG`. Required.")] target_identifier: Option<String>,
        #[graphql(desc = "The namespace (permission group) code; `default` when null or empty.")] namespace: Option<String>,
        #[graphql(desc = "Only resources of this type: `DATA`, `API`, `MENU`, `UI` or `BUTTON` (grants on codes not defined in the namespace are then left out); null or empty for all.")]
        resource_type: Option<String>,
    ) -> Result<PaginatedAuthorizedResources> {
        let pool = ctx.pool()?;
        let target_type = target_type.ok_or_else(|| AppError::invalid("targetType", "targetType is required"))?.supported()?;
        let id = target_identifier.filter(|s| !s.is_empty()).ok_or_else(|| AppError::invalid("targetIdentifier", "targetIdentifier is required"))?;
        let resource_type = parse_resource_type("resourceType", resource_type.as_deref())?;
        let found = ctx.state().acl.authorized_resources(&pool, target_type, &id, namespace.as_deref(), resource_type).await?;
        Ok(found.into())
    }

    /// The users and nodes granted actions on exactly `resource`.
    async fn authorized_targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The namespace (permission group) code; `default` when empty. A namespace that does not exist gives an empty list.")]
        namespace: String,
        #[graphql(desc = "Accepted for compatibility; ignored.")] resource_type: ResourceType,
        #[graphql(desc = "The resource as granted, matched exactly: `books` does not match a grant on `books:1` or `*`.")]
        resource: String,
        #[graphql(desc = "Only targets of this type, `USER` or `ORG` (the other types are refused); null for both.")]
        target_type: Option<PolicyAssignmentTargetType>,
        #[graphql(desc = "Only targets holding all or any of these actions; null for every target.")]
        actions: Option<AuthorizedTargetsActionsInput>,
    ) -> Result<Option<PaginatedAuthorizedTargets>> {
        let _ = resource_type;
        let pool = ctx.pool()?;
        let target_type = target_type.map(PolicyAssignmentTargetType::supported).transpose()?;
        let filter = actions.map(|a| ActionFilter { all: a.op == Operator::And, actions: a.list.into_iter().flatten().collect() });
        let found = ctx.state().acl.authorized_targets(&pool, Some(&namespace), &resource, target_type, filter).await?;
        Ok(Some(found.into()))
    }

    /// Whether the user may do `action` on `resource`: a grant to the user, or to a node it is a
    /// member of, or to an ancestor of one.
    async fn is_action_allowed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resource asked about: a resource code or `code:instance`.")] resource: String,
        #[graphql(desc = "The action asked about, e.g. `books:read`; a granted `*` or `books:*` covers it.")] action: String,
        #[graphql(desc = "The user's id; a user that does not exist is an error.")] user_id: String,
        #[graphql(desc = "The namespace (permission group) code; `default` when null or empty.")] namespace: Option<String>,
    ) -> Result<bool> {
        let pool = ctx.pool()?;
        Ok(ctx.state().acl.is_allowed(&pool, namespace.as_deref(), &user_id, &resource, &action).await?)
    }

    /// The opposite of `isActionAllowed` (orgraph has no explicit denials).
    async fn is_action_denied(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resource asked about: a resource code or `code:instance`.")] resource: String,
        #[graphql(desc = "The action asked about, e.g. `books:read`; a granted `*` or `books:*` covers it.")] action: String,
        #[graphql(desc = "The user's id; a user that does not exist is an error.")] user_id: String,
        #[graphql(desc = "The namespace (permission group) code; `default` when null or empty.")] namespace: Option<String>,
    ) -> Result<bool> {
        let pool = ctx.pool()?;
        Ok(!ctx.state().acl.is_allowed(&pool, namespace.as_deref(), &user_id, &resource, &action).await?)
    }
}

#[derive(Default)]
pub struct AclMutation;

#[Object]
impl AclMutation {
    /// Grant `action` on `resource` to users (`userId`, `userIds`). orgraph has no roles, so
    /// `roleCode(s)` are refused.
    #[allow(clippy::too_many_arguments)]
    async fn allow(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resource to grant: a resource code, `code:instance`, `code:*` or `*` (at most 255 characters, no spaces).")]
        resource: String,
        #[graphql(desc = "The action to grant, e.g. `books:read`, or `*` for all (at most 255 characters).")]
        action: String,
        #[graphql(desc = "A user to grant it to.")] user_id: Option<String>,
        #[graphql(desc = "Users to grant it to, besides `userId`. At least one user in all, at most 1,000, and every one must exist.")]
        user_ids: Option<Vec<String>>,
        #[graphql(desc = "Accepted for compatibility; orgraph has no roles, so a value is refused.")] role_code: Option<String>,
        #[graphql(desc = "Accepted for compatibility; orgraph has no roles, so a non-empty list is refused.")]
        role_codes: Option<Vec<String>>,
        #[graphql(desc = "The namespace (permission group) code; `default` (made on first use) when null or empty. Any other namespace must exist.")]
        namespace: Option<String>,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        if role_code.is_some() || role_codes.as_ref().is_some_and(|r| !r.is_empty()) {
            return Err(AppError::invalid("roleCode", "orgraph has no roles: grant to users (userId, userIds) or nodes (authorizeResource)").into());
        }
        let users: Vec<String> = user_id.into_iter().chain(user_ids.unwrap_or_default()).filter(|u| !u.is_empty()).collect();
        if users.is_empty() {
            return Err(AppError::invalid("userId", "give userId or userIds").into());
        }
        let targets = users.into_iter().map(|u| GrantTarget { target_type: TargetType::User, target_id: u, actions: vec![action.clone()] }).collect();
        ctx.state().acl.authorize(&pool, namespace.as_deref(), &resource, targets).await?;
        Ok(CommonMessage::ok("allowed"))
    }

    /// Grant actions of `resource` to users and nodes (`ORG`, a node id: its members and the
    /// members of every node below it). All targets must exist, or nothing is granted.
    async fn authorize_resource(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The namespace (permission group) code; `default` (made on first use) when null or empty. Any other namespace must exist.")]
        namespace: Option<String>,
        #[graphql(desc = "The resource to grant: a resource code, `code:instance`, `code:*` or `*` (at most 255 characters, no spaces). Required.")]
        resource: Option<String>,
        #[graphql(desc = "Accepted for compatibility; ignored.")] resource_type: Option<ResourceType>,
        #[graphql(desc = "The targets and the actions to grant each: 1 to 1,000 (null entries are skipped).")]
        opts: Option<Vec<Option<AuthorizeResourceOpt>>>,
    ) -> Result<CommonMessage> {
        let _ = resource_type;
        let pool = ctx.pool()?;
        let resource = resource.ok_or_else(|| AppError::invalid("resource", "resource is required"))?;
        let targets = opts
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .map(|o| Ok(GrantTarget { target_type: o.target_type.supported()?, target_id: o.target_identifier, actions: o.actions.unwrap_or_default() }))
            .collect::<Result<Vec<_>, AppError>>()?;
        ctx.state().acl.authorize(&pool, namespace.as_deref(), &resource, targets).await?;
        Ok(CommonMessage::ok("authorized"))
    }
}
