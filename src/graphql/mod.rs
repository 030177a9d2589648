//! The GraphQL API: types, resolvers (thin: read arguments, authorise, call a service) and the
//! schema with its limits.

pub mod context;
pub mod errors;
pub mod field_order;
pub mod limits;
pub mod listing_cache;
pub mod loaders;
pub mod raw_json;
pub mod resolvers;
pub mod types;

use async_graphql::{MergedObject, Schema, SDLExportOptions, dataloader::DataLoader};

use crate::state::AppState;
use resolvers::{
    acl::{AclMutation, AclQuery},
    auth::{AuthMutation, AuthQuery},
    events::{EventMutation, EventQuery},
    members::{MemberMutation, MemberQuery},
    nodes::{NodeFieldMutation, NodeMutation, NodeQuery},
    orgs::{OrgMutation, OrgQuery},
    schedule::{ScheduleMutation, ScheduleQuery},
    scim::{ScimMutation, ScimQuery},
    users::{UserMutation, UserQuery},
    webhooks::{WebhookMutation, WebhookQuery},
};

/// Reads: the pool's users, organizations and departments, events, webhooks and grants.
#[derive(MergedObject, Default)]
pub struct Query(AuthQuery, UserQuery, OrgQuery, NodeQuery, MemberQuery, EventQuery, WebhookQuery, AclQuery, ScimQuery, ScheduleQuery, resolvers::entities::EntityQuery);

/// Changes: each mutation is one transaction, and each change it makes is one event.
#[derive(MergedObject, Default)]
pub struct Mutation(AuthMutation, UserMutation, OrgMutation, NodeMutation, NodeFieldMutation, MemberMutation, EventMutation, WebhookMutation, AclMutation, ScimMutation, ScheduleMutation);

pub type OrgraphSchema = Schema<Query, Mutation, resolvers::subscriptions::Subscription>;

/// The schema serving requests, with the application state and the loaders.
pub fn build_schema(state: AppState) -> OrgraphSchema {
    let limits = state.config.limits.clone();
    let tree_loader = DataLoader::new(loaders::TreeLoader(state.orgs.clone()), tokio::spawn)
        .delay(std::time::Duration::from_micros(200));
    let entity_loader = DataLoader::new(resolvers::entities::EntityLoader(state.db.clone()), tokio::spawn);
    let past_trees = DataLoader::with_cache(
        loaders::PastTreeLoader(state.history.clone()),
        tokio::spawn,
        async_graphql::dataloader::LruCache::new(loaders::PAST_TREES_KEPT),
    );
    let recent_trees = DataLoader::new(loaders::PastTreeLoader(state.history.clone()), tokio::spawn);
    let mut schema = builder(&limits).data(tree_loader).data(entity_loader).data(past_trees).data(recent_trees);
    // No cache, no revision read per listing: `Org.nodes` then answers as before.
    if state.config.listing_cache_mb > 0 {
        schema = schema.data(listing_cache::ListingCache::new(state.config.listing_cache_mb.saturating_mul(1 << 20)));
    }
    schema.data(state).finish()
}

/// The schema alone, for its SDL: no state, no database.
pub fn bare_schema() -> OrgraphSchema {
    use clap::Parser as _;
    builder(&crate::cli::Cli::parse_from(["orgraph"]).config.limits).finish()
}

fn builder(limits: &crate::config::Limits) -> async_graphql::SchemaBuilder<Query, Mutation, resolvers::subscriptions::Subscription> {
    Schema::build(Query::default(), Mutation::default(), resolvers::subscriptions::Subscription)
        .extension(limits::DocumentLimitsExtension::new(limits.into()))
        .extension(field_order::SelectionOrder::default())
        .enable_federation()
        .limit_depth(limits.max_query_depth)
        .limit_complexity(limits.max_query_complexity)
        .limit_recursive_depth(64)
}

/// The SDL as `schema.graphql` holds it. The options are pinned so the file is stable.
/// (async-graphql 7.2 prints an undescribed argument after a described one on the same line:
/// every argument has a description, which a test checks, so each stands on its own line.)
pub fn sdl(schema: &OrgraphSchema) -> String {
    schema.sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items()
            .use_space_ident()
            .indent_width(2)
            .include_specified_by(),
    )
}
