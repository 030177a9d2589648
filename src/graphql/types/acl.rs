//! Permission types, named and shaped as Authing's v2 schema has them (what authing-js-sdk's
//! `acl.*` documents select).

use async_graphql::{Enum, InputObject, SimpleObject};
use entity::acl_grant::TargetType;

use crate::{
    domain::acl::{AuthorizedResource as Granted, AuthorizedTarget},
    error::{AppError, AppResult},
};

/// The kind of a resource (Authing's resource types).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::acl_resource::ResourceType", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ResourceType {
    /// Data, such as records or files (the type of a resource created without one).
    Data,
    /// An API; its `apiIdentifier` names it.
    Api,
    /// A menu entry.
    Menu,
    /// A part of a user interface.
    Ui,
    /// A button.
    Button,
}

/// Who a grant is for. orgraph grants to users and org nodes (`ORG`, a node id); it has no roles,
/// groups or AK/SK pairs, so those are refused.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum PolicyAssignmentTargetType {
    /// A user, named by its user id.
    User,
    /// An Authing role. Refused: orgraph has no roles.
    Role,
    /// An Authing group. Refused: orgraph has no groups.
    Group,
    /// An org node, named by its node id; a grant to it applies to its members and to the
    /// members of every node below it.
    Org,
    /// An Authing AK/SK key pair. Refused: orgraph has none.
    AkSk,
}

impl PolicyAssignmentTargetType {
    pub fn supported(self) -> AppResult<TargetType> {
        match self {
            Self::User => Ok(TargetType::User),
            Self::Org => Ok(TargetType::Org),
            other => Err(AppError::invalid(
                "targetType",
                format!("targetType {other:?} is not supported: orgraph grants resources to USER and ORG (a node id) only"),
            )),
        }
    }
}

impl From<TargetType> for PolicyAssignmentTargetType {
    fn from(t: TargetType) -> Self {
        match t {
            TargetType::User => Self::User,
            TargetType::Org => Self::Org,
        }
    }
}

/// How the actions of an `authorizedTargets` filter combine.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    /// Targets that hold every action listed.
    And,
    /// Targets that hold at least one of the actions listed.
    Or,
}

/// One target of `authorizeResource` and the actions to grant it.
#[derive(InputObject, Debug)]
pub struct AuthorizeResourceOpt {
    /// `USER` or `ORG`; the other types are refused.
    pub target_type: PolicyAssignmentTargetType,
    /// A user id, or a node id for `ORG`.
    pub target_identifier: String,
    /// The actions to grant (e.g. `books:read`; `*` or `books:*` grant all), added to those the
    /// target already holds: 1 to 100, each at most 255 characters. Null or empty is refused.
    pub actions: Option<Vec<String>>,
}

/// Which actions the targets `authorizedTargets` returns must hold.
#[derive(InputObject, Debug)]
pub struct AuthorizedTargetsActionsInput {
    /// Whether a target must hold every action of `list` (`AND`) or at least one (`OR`).
    pub op: Operator,
    /// The actions, compared exactly with those granted; null entries are ignored.
    pub list: Vec<Option<String>>,
}

/// A resource a target may act on, with every action granted on it.
#[derive(SimpleObject, Debug, Clone)]
pub struct AuthorizedResource {
    /// The resource as granted: a resource code, `code:instance`, `code:*` or `*`.
    pub code: String,
    /// The type of the resource, when its code is defined in the namespace; null otherwise.
    #[graphql(name = "type")]
    pub resource_type: Option<ResourceType>,
    /// Every action granted on it, to the target itself or to a node it inherits from, each once.
    pub actions: Option<Vec<String>>,
    /// The API identifier of the resource, when its code is defined in the namespace and has
    /// one; null otherwise.
    pub api_identifier: Option<String>,
}

/// Never null, even when empty: the SDKs read `.list` of it.
#[derive(SimpleObject, Debug, Clone)]
pub struct PaginatedAuthorizedResources {
    /// The number of entries in `list` (the list is never paged).
    pub total_count: i32,
    /// One entry per granted resource, in order of `code`.
    pub list: Vec<AuthorizedResource>,
}

impl From<Vec<Granted>> for PaginatedAuthorizedResources {
    fn from(found: Vec<Granted>) -> Self {
        let list: Vec<AuthorizedResource> = found
            .into_iter()
            .map(|r| AuthorizedResource {
                code: r.code,
                resource_type: r.resource_type.map(Into::into),
                actions: Some(r.actions),
                api_identifier: r.api_identifier,
            })
            .collect();
        PaginatedAuthorizedResources { total_count: list.len() as i32, list }
    }
}

/// A user or node granted actions on a resource.
#[derive(SimpleObject, Debug, Clone)]
pub struct ResourcePermissionAssignment {
    /// `USER` or `ORG`.
    pub target_type: Option<PolicyAssignmentTargetType>,
    /// The user id, or the node id for `ORG`.
    pub target_identifier: Option<String>,
    /// The actions granted to it on the resource.
    pub actions: Option<Vec<String>>,
}

/// The users and nodes granted actions on a resource.
#[derive(SimpleObject, Debug, Clone)]
pub struct PaginatedAuthorizedTargets {
    /// The targets, in the order they were first granted actions on the resource.
    pub list: Option<Vec<Option<ResourcePermissionAssignment>>>,
    /// The number of entries in `list` (the list is never paged).
    pub total_count: Option<i32>,
}

impl From<Vec<AuthorizedTarget>> for PaginatedAuthorizedTargets {
    fn from(found: Vec<AuthorizedTarget>) -> Self {
        let list: Vec<Option<ResourcePermissionAssignment>> = found
            .into_iter()
            .map(|t| {
                Some(ResourcePermissionAssignment {
                    target_type: Some(t.target_type.into()),
                    target_identifier: Some(t.target_id),
                    actions: Some(t.actions),
                })
            })
            .collect();
        PaginatedAuthorizedTargets { total_count: Some(list.len() as i32), list: Some(list) }
    }
}
