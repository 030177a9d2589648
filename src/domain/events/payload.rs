//! The events orgraph causes, each with its typed payload. A payload serialises to seed 000's
//! `data` shape; its name and organization come from its variant, so neither can be mistyped.

use serde::Serialize;
use serde_json::Value;

use super::catalog::EventName;
use crate::domain::{
    acl::docs::{NamespaceDoc, PermissionDoc, ResourceDoc},
    docs::{NodeDoc, OrgDoc, UserDoc},
};

#[derive(Debug, Clone, Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum DomainEvent {
    UserCreated { user: UserDoc },
    /// Seed 000: `register` also fires when an administrator creates a user.
    Register { user: UserDoc },
    UserUpdated { user: UserDoc, updates: Value },
    UserPasswordChanged { user: UserDoc },
    UserUdvChanged { user: UserDoc, udv: Value },
    UserBlocked { user: UserDoc },
    UserUnblocked { user: UserDoc },
    UserArchived { user: UserDoc },
    UserUnarchived { user: UserDoc },
    UserDeleted { users: Vec<UserDoc> },
    OrganizationCreated { organization: OrgDoc, root_node: NodeDoc },
    OrganizationDeleted { organization: OrgDoc },
    NodeAdded { organization: OrgDoc, node: NodeDoc, parent_node: NodeDoc },
    NodeUpdated { node: NodeDoc, updates: Value },
    NodeMoved { organization: OrgDoc, node: NodeDoc, parent_node: NodeDoc, old_parent: Option<NodeDoc> },
    /// The deleted subtree, top first.
    NodeDeleted { nodes: Vec<NodeDoc> },
    MemberAdded { node: NodeDoc, user: UserDoc },
    MemberRemoved { node: NodeDoc, user: UserDoc },
    OrganizationImported { organization: OrgDoc, root_node: NodeDoc, nodes_count: usize, source: &'static str },
    /// A scheduled batch that failed as a whole at its time: its id, time and why.
    ScheduledChangesFailed { id: String, at: crate::domain::docs::Iso, error: String },
    /// Users who came into the watched subtree of `subtree_root_id` through `department_id`
    /// (one they now belong to inside it), a page of at most `subtree::PAGE`.
    SubtreeMemberEntered {
        subtree_root_id: String,
        department_id: String,
        users: Vec<UserDoc>,
        #[serde(skip)]
        org_id: String,
    },
    /// Users who left it; `department_id` is one they belonged to inside it.
    SubtreeMemberLeft {
        subtree_root_id: String,
        department_id: String,
        users: Vec<UserDoc>,
        #[serde(skip)]
        org_id: String,
    },
    WebhookDisabled { webhook: WebhookRef, consecutive_failures: i32 },
    PermissionAdd(PermissionDoc),
    PermissionRevoke(PermissionDoc),
    NamespaceCreated { namespace: NamespaceDoc },
    NamespaceUpdated { namespace: NamespaceDoc, updates: Value },
    NamespaceDeleted { namespaces: Vec<NamespaceDoc> },
    ResourceCreated { resource: ResourceDoc, namespace: String },
    ResourceUpdated { resource: ResourceDoc, updates: Value },
    /// Seed 000 names it `resource:delete`.
    ResourceDelete { codes: Vec<String>, namespace: String },
}

/// The webhook an event is about.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookRef {
    pub id: String,
    pub name: String,
    pub url: String,
}

impl DomainEvent {
    pub fn name(&self) -> EventName {
        use DomainEvent::*;
        match self {
            UserCreated { .. } => EventName::UserCreated,
            Register { .. } => EventName::Register,
            UserUpdated { .. } => EventName::UserUpdated,
            UserPasswordChanged { .. } => EventName::UserPasswordChanged,
            UserUdvChanged { .. } => EventName::UserUdvChanged,
            UserBlocked { .. } => EventName::UserBlocked,
            UserUnblocked { .. } => EventName::UserUnblocked,
            UserArchived { .. } => EventName::UserArchived,
            UserUnarchived { .. } => EventName::UserUnarchived,
            UserDeleted { .. } => EventName::UserDeleted,
            OrganizationCreated { .. } => EventName::OrganizationCreated,
            OrganizationDeleted { .. } => EventName::OrganizationDeleted,
            NodeAdded { .. } => EventName::OrganizationNodeAdded,
            NodeUpdated { .. } => EventName::OrganizationNodeUpdated,
            NodeMoved { .. } => EventName::OrganizationNodeMoved,
            NodeDeleted { .. } => EventName::OrganizationNodeDeleted,
            MemberAdded { .. } => EventName::OrganizationMemberAdded,
            MemberRemoved { .. } => EventName::OrganizationMemberRemoved,
            OrganizationImported { .. } => EventName::OrganizationImported,
            ScheduledChangesFailed { .. } => EventName::OrganizationScheduledChangesFailed,
            SubtreeMemberEntered { .. } => EventName::OrganizationSubtreeMemberEntered,
            SubtreeMemberLeft { .. } => EventName::OrganizationSubtreeMemberLeft,
            WebhookDisabled { .. } => EventName::WebhookDisabled,
            PermissionAdd(_) => EventName::PermissionAdd,
            PermissionRevoke(_) => EventName::PermissionRevoke,
            NamespaceCreated { .. } => EventName::PrivilegeNamespaceCreated,
            NamespaceUpdated { .. } => EventName::PrivilegeNamespaceUpdated,
            NamespaceDeleted { .. } => EventName::PrivilegeNamespaceDeleted,
            ResourceCreated { .. } => EventName::ResourceCreated,
            ResourceUpdated { .. } => EventName::ResourceUpdated,
            ResourceDelete { .. } => EventName::ResourceDelete,
        }
    }

    /// The one user, department or organization the event is about (`user:<id>`, `node:<id>`,
    /// `org:<id>`): a webhook's deliveries about one entity are sent in commit order. None for
    /// an event about several users or about none of them.
    pub fn entity(&self) -> Option<String> {
        use DomainEvent::*;
        if let Some(user) = self.user_id() {
            return Some(format!("user:{user}"));
        }
        match self {
            MemberAdded { user, .. } | MemberRemoved { user, .. } => Some(format!("user:{}", user.id)),
            UserDeleted { users } if users.len() == 1 => Some(format!("user:{}", users[0].id)),
            NodeAdded { node, .. } | NodeUpdated { node, .. } | NodeMoved { node, .. } => Some(format!("node:{}", node.id)),
            NodeDeleted { nodes } => nodes.first().map(|n| format!("node:{}", n.id)),
            OrganizationCreated { organization, .. } | OrganizationDeleted { organization } | OrganizationImported { organization, .. } => {
                Some(format!("org:{}", organization.id))
            }
            // A watcher's member list is kept from these in order.
            SubtreeMemberEntered { subtree_root_id, .. } | SubtreeMemberLeft { subtree_root_id, .. } => Some(format!("subtree:{subtree_root_id}")),
            _ => None,
        }
    }

    /// The departments whose place in the tree puts the event inside a subtree: it is inside the
    /// subtree of each of them and of their ancestors at commit time (see `subtree::ScopeOf`). A
    /// moved department counts at its new place and under its old parent; a deleted one (gone
    /// from the tree) by itself and its parent.
    pub fn departments(&self) -> Vec<&str> {
        use DomainEvent::*;
        match self {
            NodeAdded { node, .. } | NodeUpdated { node, .. } | MemberAdded { node, .. } | MemberRemoved { node, .. } => vec![&node.id],
            NodeMoved { node, old_parent, .. } => std::iter::once(node.id.as_str()).chain(old_parent.iter().map(|p| p.id.as_str())).collect(),
            NodeDeleted { nodes } => nodes.first().and_then(|top| top.parent_id.as_deref()).into_iter().chain(nodes.iter().map(|n| n.id.as_str())).collect(),
            OrganizationCreated { root_node, .. } | OrganizationImported { root_node, .. } => vec![&root_node.id],
            OrganizationDeleted { organization } => vec![&organization.root_node_id],
            _ => Vec::new(),
        }
    }

    /// The one user an event about a user (not a membership) is about; its departments put it
    /// inside subtrees.
    pub fn user_id(&self) -> Option<&str> {
        use DomainEvent::*;
        match self {
            UserCreated { user }
            | Register { user }
            | UserUpdated { user, .. }
            | UserPasswordChanged { user }
            | UserUdvChanged { user, .. }
            | UserBlocked { user }
            | UserUnblocked { user }
            | UserArchived { user }
            | UserUnarchived { user } => Some(&user.id),
            _ => None,
        }
    }

    /// The organization the event is about (subscriptions filter on it).
    pub fn org_id(&self) -> Option<&str> {
        use DomainEvent::*;
        match self {
            OrganizationCreated { organization, .. }
            | OrganizationDeleted { organization }
            | NodeAdded { organization, .. }
            | NodeMoved { organization, .. }
            | OrganizationImported { organization, .. } => Some(&organization.id),
            NodeUpdated { node, .. } | MemberAdded { node, .. } | MemberRemoved { node, .. } => Some(&node.org_id),
            NodeDeleted { nodes } => nodes.first().map(|n| n.org_id.as_str()),
            SubtreeMemberEntered { org_id, .. } | SubtreeMemberLeft { org_id, .. } => Some(org_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_serialise_to_seed_000_shapes() {
        let e = DomainEvent::WebhookDisabled {
            webhook: WebhookRef { id: "w".into(), name: "n".into(), url: "u".into() },
            consecutive_failures: 3,
        };
        assert_eq!(serde_json::to_value(&e).unwrap(), serde_json::json!({
            "webhook": { "id": "w", "name": "n", "url": "u" }, "consecutiveFailures": 3,
        }));
        assert_eq!(e.name().as_str(), "webhook:disabled");
    }
}
