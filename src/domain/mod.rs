//! Domain services: the rules of orgraph, free of GraphQL and HTTP. Every service method takes
//! the caller's [`PoolId`], and every query it runs is filtered by it: that is pool isolation.

pub mod acl;
pub mod company;
pub mod docs;
pub mod events;
pub mod history;
pub mod idempotency;
pub mod org_tree;
pub mod pagination;
pub mod pools;
pub mod schedule;
pub mod scim;
pub mod users;
pub mod validate;
pub mod webhooks;
pub mod write;

/// The user pool a request acts for, known only from a verified access token, and who acts: the
/// actor its changes are recorded under (history). Two `PoolId`s are equal when their pools are.
#[derive(Debug, Clone)]
pub struct PoolId {
    id: String,
    actor: std::sync::Arc<str>,
}

impl PoolId {
    /// Only the authentication layer makes these, from a verified token. The actor is `system`
    /// until the caller is named (`acting_as`).
    pub(crate) fn trusted(id: impl Into<String>) -> Self {
        PoolId { id: id.into(), actor: std::sync::Arc::from(Actor::SYSTEM) }
    }

    /// The same pool, its changes recorded as made by `actor`.
    pub fn acting_as(mut self, actor: impl AsRef<str>) -> Self {
        self.actor = std::sync::Arc::from(actor.as_ref());
        self
    }

    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// Who acts: a token's subject, `scim:<token name>`, `import`, `cli` or `system`.
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// The names of actors that are not a token's subject.
pub struct Actor;

impl Actor {
    pub const SYSTEM: &str = "system";
    pub const IMPORT: &str = "import";
    pub const CLI: &str = "cli";

    pub fn scim(token_name: &str) -> String {
        format!("scim:{token_name}")
    }
}

impl PartialEq for PoolId {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for PoolId {}

impl std::hash::Hash for PoolId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state)
    }
}

impl std::fmt::Display for PoolId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
}

/// The id and times of a row as an import keeps them; `None`s give a new id and the current
/// time, as any other change does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    pub id: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Kept {
    /// (created, updated): the kept ones, else now; a row never updated was updated when made.
    pub fn times(&self) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
        let created = self.created_at.unwrap_or_else(chrono::Utc::now);
        (created, self.updated_at.unwrap_or(created))
    }

    /// The kept id, or a new one.
    pub fn id(&self) -> String {
        self.id.clone().unwrap_or_else(crate::ids::new_id)
    }
}
