//! Domain services: the rules of orgraph, free of GraphQL and HTTP. Every service method takes
//! the caller's [`PoolId`], and every query it runs is filtered by it: that is pool isolation.

pub mod acl;
pub mod company;
pub mod docs;
pub mod events;
pub mod org_tree;
pub mod pagination;
pub mod pools;
pub mod scim;
pub mod users;
pub mod validate;
pub mod webhooks;
pub mod write;

/// The user pool a request acts for, known only from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolId(String);

impl PoolId {
    /// Only the authentication layer makes these, from a verified token.
    pub(crate) fn trusted(id: impl Into<String>) -> Self {
        PoolId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PoolId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
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
