//! Federation 2: orgraph as a subgraph. Users, departments (`Node`) and organizations are
//! entities keyed by `id`; a gateway resolves them through `_entities`, in batches (one query
//! per type and request, through [`EntityLoader`]) and only within the caller's pool: another
//! pool's id resolves to null, as it is not found by `nodeById`.

use std::collections::HashMap;

use async_graphql::{Context, Object, Result, dataloader::{DataLoader, Loader}};
use entity::{node, org, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    graphql::{
        context::ContextExt,
        loaders::LoadError,
        types::org::{Node, Org},
    },
    views::user::User,
};

/// Loads users, departments and organizations by (pool, id).
pub struct EntityLoader(pub DatabaseConnection);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserKey(pub String, pub String);
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeKey(pub String, pub String);
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgKey(pub String, pub String);

/// The ids of `keys` by pool.
fn by_pool<'k>(keys: impl Iterator<Item = (&'k String, &'k String)>) -> HashMap<&'k str, Vec<String>> {
    let mut pools: HashMap<&str, Vec<String>> = HashMap::new();
    for (pool, id) in keys {
        pools.entry(pool.as_str()).or_default().push(id.clone());
    }
    pools
}

impl Loader<UserKey> for EntityLoader {
    type Value = user::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[UserKey]) -> Result<HashMap<UserKey, user::Model>, LoadError> {
        let mut out = HashMap::new();
        for (pool, ids) in by_pool(keys.iter().map(|k| (&k.0, &k.1))) {
            let found = user::Entity::find().filter(user::Column::UserPoolId.eq(pool)).filter(user::Column::Id.is_in(ids)).all(&self.0).await.map_err(crate::error::AppError::from)?;
            out.extend(found.into_iter().map(|u| (UserKey(pool.to_string(), u.id.clone()), u)));
        }
        Ok(out)
    }
}

impl Loader<NodeKey> for EntityLoader {
    type Value = node::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[NodeKey]) -> Result<HashMap<NodeKey, node::Model>, LoadError> {
        let mut out = HashMap::new();
        for (pool, ids) in by_pool(keys.iter().map(|k| (&k.0, &k.1))) {
            let found = node::Entity::find().filter(node::Column::UserPoolId.eq(pool)).filter(node::Column::Id.is_in(ids)).all(&self.0).await.map_err(crate::error::AppError::from)?;
            out.extend(found.into_iter().map(|n| (NodeKey(pool.to_string(), n.id.clone()), n)));
        }
        Ok(out)
    }
}

impl Loader<OrgKey> for EntityLoader {
    type Value = org::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[OrgKey]) -> Result<HashMap<OrgKey, org::Model>, LoadError> {
        let mut out = HashMap::new();
        for (pool, ids) in by_pool(keys.iter().map(|k| (&k.0, &k.1))) {
            let found = org::Entity::find().filter(org::Column::UserPoolId.eq(pool)).filter(org::Column::Id.is_in(ids)).all(&self.0).await.map_err(crate::error::AppError::from)?;
            out.extend(found.into_iter().map(|o| (OrgKey(pool.to_string(), o.id.clone()), o)));
        }
        Ok(out)
    }
}

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: String) -> Result<Option<User>> {
        let pool = ctx.pool()?;
        let loader = ctx.data_unchecked::<DataLoader<EntityLoader>>();
        Ok(loader.load_one(UserKey(pool.as_str().to_string(), id)).await?.map(User::from))
    }

    #[graphql(entity)]
    async fn find_node_by_id(&self, ctx: &Context<'_>, id: String) -> Result<Option<Node>> {
        let pool = ctx.pool()?;
        let loader = ctx.data_unchecked::<DataLoader<EntityLoader>>();
        Ok(loader.load_one(NodeKey(pool.as_str().to_string(), id)).await?.map(Node::single))
    }

    #[graphql(entity)]
    async fn find_org_by_id(&self, ctx: &Context<'_>, id: String) -> Result<Option<Org>> {
        let pool = ctx.pool()?;
        let loader = ctx.data_unchecked::<DataLoader<EntityLoader>>();
        Ok(loader.load_one(OrgKey(pool.as_str().to_string(), id)).await?.map(Org::new))
    }
}
