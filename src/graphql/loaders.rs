//! DataLoaders: nested fields of many nodes (children, paths, child nodes, member pages) load in
//! one query per level, not one per node. Keys are node ids the caller could already see, so a
//! schema-wide loader (async-graphql's default: no cache across loads) is safe.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{ErrorExtensions as _, dataloader::Loader};
use entity::{node, user};

use crate::{
    domain::org_tree::{MembersQuery, OrgService, PageNode, PathStep},
    error::AppError,
};

/// Loader errors must be cloneable: the domain error is shared, and reaches the client with
/// its own code (as every other error does, through `ErrorExtensions`).
#[derive(Clone, Debug)]
pub struct LoadError(Arc<AppError>);

impl From<AppError> for LoadError {
    fn from(e: AppError) -> Self {
        e.log_if_internal();
        LoadError(Arc::new(e))
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(e: LoadError) -> Self {
        e.0.extend()
    }
}

pub struct TreeLoader(pub OrgService);

/// Ids of a node's children.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChildIds(pub String);
/// A node's children.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChildNodes(pub String);
/// A node's ancestors, root first, itself last.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Path(pub String);
/// A node's leaders, in order.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Leaders(pub String);
/// A page of a node's members.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MembersPage(pub PageNode, pub MembersQuery);

impl Loader<ChildIds> for TreeLoader {
    type Value = Vec<String>;
    type Error = LoadError;
    async fn load(&self, keys: &[ChildIds]) -> Result<HashMap<ChildIds, Self::Value>, Self::Error> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut found = self.0.child_ids_of(&ids).await?;
        Ok(keys.iter().map(|k| (k.clone(), found.remove(&k.0).unwrap_or_default())).collect())
    }
}

impl Loader<ChildNodes> for TreeLoader {
    type Value = Vec<node::Model>;
    type Error = LoadError;
    async fn load(&self, keys: &[ChildNodes]) -> Result<HashMap<ChildNodes, Self::Value>, Self::Error> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut found = self.0.children_of(&ids).await?;
        Ok(keys.iter().map(|k| (k.clone(), found.remove(&k.0).unwrap_or_default())).collect())
    }
}

impl Loader<Leaders> for TreeLoader {
    type Value = Vec<String>;
    type Error = LoadError;
    async fn load(&self, keys: &[Leaders]) -> Result<HashMap<Leaders, Self::Value>, Self::Error> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut found = self.0.leaders_of(&ids).await?;
        Ok(keys.iter().map(|k| (k.clone(), found.remove(&k.0).unwrap_or_default())).collect())
    }
}

impl Loader<Path> for TreeLoader {
    type Value = Vec<PathStep>;
    type Error = LoadError;
    async fn load(&self, keys: &[Path]) -> Result<HashMap<Path, Self::Value>, Self::Error> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut found = self.0.paths_of(&ids).await?;
        Ok(keys.iter().map(|k| (k.clone(), found.remove(&k.0).unwrap_or_default())).collect())
    }
}

impl Loader<MembersPage> for TreeLoader {
    type Value = Vec<user::Model>;
    type Error = LoadError;
    async fn load(&self, keys: &[MembersPage]) -> Result<HashMap<MembersPage, Self::Value>, Self::Error> {
        // One statement per distinct page shape (usually one).
        let mut by_query: HashMap<MembersQuery, Vec<PageNode>> = HashMap::new();
        for k in keys {
            by_query.entry(k.1).or_default().push(k.0.clone());
        }
        let mut out = HashMap::new();
        for (q, nodes) in by_query {
            let mut pages = self.0.members_pages(&nodes, q).await?;
            for n in nodes {
                let list = pages.remove(&n.id).unwrap_or_default();
                out.insert(MembersPage(n, q), list);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loader_error_keeps_its_code() {
        for (err, code) in [
            (AppError::not_found("node", "n1"), "NOT_FOUND"),
            (AppError::busy("the database is busy"), "SERVICE_UNAVAILABLE"),
            (AppError::invalid("limit", "bad"), "INVALID_INPUT"),
        ] {
            let gql: async_graphql::Error = LoadError::from(err).into();
            let ext = gql.extensions.expect("extensions");
            assert_eq!(ext.get("code"), Some(&async_graphql::Value::from(code)));
        }
    }
}

/// Organizations as they were at an instant: each read once however many fields ask for it at
/// the same time. The schema has two: one keeps nothing, the other keeps the last few trees of
/// settled instants (see `history::settled`), which never change.
pub struct PastTreeLoader(pub crate::domain::history::HistoryService);

/// How many past trees are kept, whatever their size.
pub const PAST_TREES_KEPT: usize = 4;

/// An organization of a pool at an instant.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PastTree(pub crate::domain::PoolId, pub String, pub crate::domain::history::AsOf);

impl Loader<PastTree> for PastTreeLoader {
    type Value = (entity::org::Model, Arc<crate::graphql::types::org_nodes::TreeIndex>);
    type Error = LoadError;
    // A key hashes its instant and compares its preview by address: neither ever changes.
    #[allow(clippy::mutable_key_type)]
    async fn load(&self, keys: &[PastTree]) -> Result<HashMap<PastTree, Self::Value>, Self::Error> {
        let mut found = HashMap::new();
        for key in keys {
            // Keys of several requests (and pools) load together: an organization missing at
            // one key's instant is that key's answer alone (NOT_FOUND), not an error for all.
            let tree = match self.0.org_at(&key.0, &key.1, &key.2).await {
                Ok(tree) => tree,
                Err(crate::error::AppError::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let org = tree.org.clone();
            found.insert(key.clone(), (org, Arc::new(crate::graphql::types::org_nodes::TreeIndex::at(tree))));
        }
        Ok(found)
    }
}
