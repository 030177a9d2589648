//! Permission types, named and shaped as Authing's v2 schema has them (what authing-js-sdk's
//! `acl.*` documents select).

use async_graphql::{Enum, InputObject, SimpleObject};
use entity::acl_grant::TargetType;

use crate::{
    domain::acl::{AuthorizedResource as Granted, AuthorizedTarget},
    error::{AppError, AppResult},
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::acl_resource::ResourceType", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ResourceType {
    Data,
    Api,
    Menu,
    Ui,
    Button,
}

/// Who a grant is for. orgraph grants to users and org nodes (`ORG`, a node id); it has no roles,
/// groups or AK/SK pairs, so those are refused.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum PolicyAssignmentTargetType {
    User,
    Role,
    Group,
    Org,
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

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    And,
    Or,
}

#[derive(InputObject, Debug)]
pub struct AuthorizeResourceOpt {
    pub target_type: PolicyAssignmentTargetType,
    /// A user id, or a node id for `ORG`.
    pub target_identifier: String,
    pub actions: Option<Vec<String>>,
}

#[derive(InputObject, Debug)]
pub struct AuthorizedTargetsActionsInput {
    pub op: Operator,
    pub list: Vec<Option<String>>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AuthorizedResource {
    pub code: String,
    #[graphql(name = "type")]
    pub resource_type: Option<ResourceType>,
    pub actions: Option<Vec<String>>,
    pub api_identifier: Option<String>,
}

/// Never null, even when empty: the SDKs read `.list` of it.
#[derive(SimpleObject, Debug, Clone)]
pub struct PaginatedAuthorizedResources {
    pub total_count: i32,
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

#[derive(SimpleObject, Debug, Clone)]
pub struct ResourcePermissionAssignment {
    pub target_type: Option<PolicyAssignmentTargetType>,
    pub target_identifier: Option<String>,
    pub actions: Option<Vec<String>>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct PaginatedAuthorizedTargets {
    pub list: Option<Vec<Option<ResourcePermissionAssignment>>>,
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
