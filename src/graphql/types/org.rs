//! `Org` and `Node` as authing-js-sdk v4 selects them, plus `childNodes` for nested trees.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject, dataloader::DataLoader};
use entity::{node, org};

use entity::acl_grant::TargetType;

use super::{
    acl::PaginatedAuthorizedResources,
    common::SortByEnum,
    connection::{Cursors, UserConnection},
    history::HistoryConnection,
    node_fields::NodeFields,
    org_nodes::{OrgNodes, PlainPlan, TreeIndex},
    user_list::PaginatedUsers,
};
use crate::{
    views::user::{User, columns_of},
    domain::{
        acl::parse_resource_type,
        docs::iso,
        org_tree::{MemberSort, MembersQuery, PageNode, PathStep},
        pagination::{Page, Slice},
        users::UserColumns,
    },
    graphql::{
        context::ContextExt,
        listing_cache::{ListingCache, ListingKey},
        raw_json::RawJson,
        loaders::{ChildIds, ChildNodes, Leaders, MembersPage, PastTree, PastTreeLoader, Path, TreeLoader},
    },
};

/// An organization.
pub struct Org {
    pub model: org::Model,
    tree: tokio::sync::OnceCell<Arc<TreeIndex>>,
}

impl Org {
    pub fn new(model: org::Model) -> Self {
        Org { model, tree: tokio::sync::OnceCell::new() }
    }

    /// The organization as it was at an instant, with its tree then (see [`past_org`]).
    pub fn at((model, index): (org::Model, Arc<TreeIndex>)) -> Self {
        Org { model, tree: tokio::sync::OnceCell::new_with(Some(index)) }
    }

    async fn tree(&self, ctx: &Context<'_>) -> Result<&Arc<TreeIndex>> {
        self.tree
            .get_or_try_init(|| async {
                let nodes = ctx.state().orgs.nodes_of(&self.model).await?;
                Ok::<_, async_graphql::Error>(Arc::new(TreeIndex::new(nodes)))
            })
            .await
    }
}

/// An organization: a tree of departments under one root.
#[Object]
impl Org {
    /// The organization's id (also the id of nothing else: its root node has its own).
    async fn id(&self) -> &str {
        &self.model.id
    }

    /// The tenant the organization belongs to, as given to `createOrg` (null when none).
    async fn tenant_id(&self) -> Option<&str> {
        self.model.tenant_id.as_deref()
    }

    /// When the organization was created (RFC 3339, UTC, milliseconds).
    async fn created_at(&self) -> String {
        iso(self.model.created_at)
    }

    /// When the organization last changed (RFC 3339, UTC, milliseconds).
    async fn updated_at(&self) -> String {
        iso(self.model.updated_at)
    }

    /// Whether, read as of a future instant, a pending scheduled change due by then changes the
    /// organization: adds, changes, moves or deletes one of its departments, or moves members.
    async fn planned(&self) -> bool {
        self.tree.get().is_some_and(|index| index.planned_org)
    }

    /// Read as of a future instant, the pool's pending scheduled changes applied to the answer
    /// (those due by then, in the order they apply); empty otherwise.
    async fn planned_changes(&self) -> Vec<super::schedule::ScheduledChanges> {
        self.tree.get().map(|index| index.planned.iter().cloned().map(Into::into).collect()).unwrap_or_default()
    }

    /// The root node; its name and code are the organization's.
    async fn root_node(&self, ctx: &Context<'_>) -> Result<Node> {
        let index = self.tree(ctx).await?;
        let root = index
            .by_id
            .get(&self.model.root_node_id)
            .map(|&i| index.nodes[i].clone())
            .ok_or_else(|| crate::error::AppError::not_found("root node", &self.model.root_node_id))?;
        Ok(Node { model: root, origin: Origin::Tree(index.clone()) })
    }

    /// Every node of the organization, breadth first (children by `order`, larger first).
    // Up to 100,000 nodes: each selection of it weighs 1,000 in the query's complexity, so the
    // default limit (5,000) lets a request list an org at most 4 times (aliases), not thousands.
    #[graphql(complexity = "1000 + child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>) -> Result<OrgNodes> {
        // A past tree's listing is kept under its instant once that is settled (it never
        // changes); a recent one is made from the versions each time.
        if let Some((index, at)) = self.tree.get().and_then(|index| Some((index, index.as_of.as_ref()?.at))) {
            if let (true, Some(raw), Some(cache), Some(plan)) =
                (crate::domain::history::settled(at), ctx.data_opt::<Arc<RawJson>>(), ctx.data_opt::<ListingCache>(), PlainPlan::of(ctx.item))
            {
                let key = ListingKey { org_id: self.model.id.clone(), revision: 0, selection: plan.selection.clone(), as_of: Some(at) };
                let json = match cache.get(&key) {
                    Some(json) => json,
                    None => {
                        let json = Arc::new(plan.to_json(index)?);
                        cache.put(key, json.clone());
                        json
                    }
                };
                return Ok(OrgNodes::placed(raw.place(json)));
            }
            return Ok(OrgNodes::new(index.clone(), ctx.item));
        }
        if let (Some(raw), Some(cache)) = (ctx.data_opt::<Arc<RawJson>>(), ctx.data_opt::<ListingCache>())
            && let Some(plan) = PlainPlan::of(ctx.item)
            && let Some(revision) = ctx.state().orgs.tree_revision(&self.model).await?
        {
            let key = ListingKey { org_id: self.model.id.clone(), revision, selection: plan.selection.clone(), as_of: None };
            let json = match cache.get(&key) {
                Some(json) => json,
                None => {
                    // Nodes read after the revision, so at least as new as it (`self.tree` may
                    // have been read before).
                    let index = TreeIndex::new(ctx.state().orgs.nodes_of(&self.model).await?);
                    let json = Arc::new(plan.to_json(&index)?);
                    cache.put(key, json.clone());
                    json
                }
            };
            return Ok(OrgNodes::placed(raw.place(json)));
        }
        let index = self.tree(ctx).await?;
        Ok(OrgNodes::new(index.clone(), ctx.item))
    }
}

/// One page of organizations.
#[derive(SimpleObject)]
pub struct PaginatedOrgs {
    /// How many organizations the pool has in all.
    pub total_count: i64,
    /// The organizations of the page.
    pub list: Vec<Org>,
}

/// How a node was reached: alone, in a list (its nested fields then load in batches), or as
/// part of a whole org (they come from the org's index).
#[derive(Clone)]
enum Origin {
    Single,
    List,
    Tree(Arc<TreeIndex>),
}

/// A department. `children` holds the child ids and `path` the ancestor ids (root first, the
/// node last), as in Authing's API; `childNodes` returns the children themselves.
pub struct Node {
    pub model: Arc<node::Model>,
    origin: Origin,
}

impl Node {
    pub fn single(model: node::Model) -> Self {
        Node { model: Arc::new(model), origin: Origin::Single }
    }

    pub fn listed(model: node::Model) -> Self {
        Node { model: Arc::new(model), origin: Origin::List }
    }

    pub(super) fn in_tree(model: Arc<node::Model>, index: Arc<TreeIndex>) -> Self {
        Node { model, origin: Origin::Tree(index) }
    }

    /// The instant the node is read as of (`asOf`), if it is.
    fn as_of(&self) -> Option<&crate::domain::history::AsOf> {
        match &self.origin {
            Origin::Tree(index) => index.as_of.as_ref(),
            _ => None,
        }
    }

    async fn path_steps(&self, ctx: &Context<'_>) -> Result<Vec<PathStep>> {
        if let Origin::Tree(index) = &self.origin
            && let Some(p) = index.path(&self.model.id)
        {
            return Ok(p);
        }
        let loader = ctx.data_unchecked::<DataLoader<TreeLoader>>();
        Ok(loader.load_one(Path(self.model.id.clone())).await?.unwrap_or_default())
    }
}

/// A department of an organization (Authing's name for it). `children` holds the child ids
/// and `path` the ancestor ids; `childNodes` returns the children themselves.
#[Object]
impl Node {
    /// The department's id.
    async fn id(&self) -> &str {
        &self.model.id
    }

    /// The id of the organization the department belongs to.
    async fn org_id(&self) -> Option<&str> {
        Some(&self.model.org_id)
    }

    /// The department's listed fields (`org_tree::fields`).
    #[graphql(flatten)]
    async fn fields(&self) -> NodeFields {
        NodeFields(self.model.clone())
    }

    /// Whether a pending scheduled change due by the `asOf` of this preview adds, changes or
    /// moves the department (its fields, place or first leader); false outside a preview.
    async fn planned(&self) -> bool {
        matches!(&self.origin, Origin::Tree(index) if index.planned_nodes.contains(&self.model.id))
    }

    /// Whether the department is its organization's root.
    async fn root(&self) -> Option<bool> {
        Some(self.model.parent_id.is_none())
    }

    /// Distance from the root node (the root is 0).
    async fn depth(&self) -> Option<i32> {
        Some(self.model.depth)
    }

    /// The first of `leaderUserIds`.
    async fn leader_user_id(&self) -> Option<&str> {
        self.model.leader_user_id.as_deref()
    }

    /// The node's leaders, in order (batched).
    async fn leader_user_ids(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        if let Some(at) = self.as_of() {
            return Ok(ctx.state().history.leaders_at(&self.model.id, at).await?);
        }
        let loader = ctx.data_unchecked::<DataLoader<TreeLoader>>();
        Ok(loader.load_one(Leaders(self.model.id.clone())).await?.unwrap_or_default())
    }

    /// The id of the parent node (null at the root).
    async fn parent_id(&self) -> Option<&str> {
        self.model.parent_id.as_deref()
    }

    /// When the department was created (RFC 3339, UTC, milliseconds).
    async fn created_at(&self) -> Option<String> {
        Some(iso(self.model.created_at))
    }

    /// When the department's fields, place or leaders last changed (RFC 3339, UTC, milliseconds).
    async fn updated_at(&self) -> Option<String> {
        Some(iso(self.model.updated_at))
    }

    /// Ids from the root down to this node (included).
    async fn path(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self.path_steps(ctx).await?.into_iter().map(|s| s.id).collect())
    }

    /// Codes from the root down to this node (null where a node has none).
    async fn code_path(&self, ctx: &Context<'_>) -> Result<Vec<Option<String>>> {
        Ok(self.path_steps(ctx).await?.into_iter().map(|s| s.code).collect())
    }

    /// Names from the root down to this node.
    async fn name_path(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self.path_steps(ctx).await?.into_iter().map(|s| s.name).collect())
    }

    /// Ids of the child nodes, in display order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        if let Origin::Tree(index) = &self.origin {
            return Ok(Some(index.child_ids(&self.model.id)));
        }
        let loader = ctx.data_unchecked::<DataLoader<TreeLoader>>();
        Ok(Some(loader.load_one(ChildIds(self.model.id.clone())).await?.unwrap_or_default()))
    }

    /// The child nodes themselves, in display order (batched: one query per level).
    async fn child_nodes(&self, ctx: &Context<'_>) -> Result<Vec<Node>> {
        if let Origin::Tree(index) = &self.origin {
            return Ok(index.child_nodes(&self.model.id));
        }
        let loader = ctx.data_unchecked::<DataLoader<TreeLoader>>();
        let children = loader.load_one(ChildNodes(self.model.id.clone())).await?.unwrap_or_default();
        Ok(children.into_iter().map(Node::listed).collect())
    }

    /// The resources granted to this node or to one of its ancestors (grants to a node apply to
    /// every node below it), in `namespace` (`default` when absent).
    async fn authorized_resources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resources' namespace (`default` when absent).")] namespace: Option<String>,
        #[graphql(desc = "Only resources of this type: DATA, API, MENU, UI or BUTTON (all when absent).")] resource_type: Option<String>,
    ) -> Result<PaginatedAuthorizedResources> {
        let pool = ctx.pool()?;
        let resource_type = parse_resource_type("resourceType", resource_type.as_deref())?;
        let found = ctx.state().acl.authorized_resources(&pool, TargetType::Org, &self.model.id, namespace.as_deref(), resource_type).await?;
        Ok(found.into())
    }

    /// Members of the node; with `includeChildrenNodes` (default false), the distinct users of
    /// the whole subtree, each once. `totalCount` is kept up to date on every change, so it
    /// costs no query.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(1)", desc = "The page to answer, from 1.")] page: Option<i64>,
        #[graphql(default_with = "Some(10)", desc = "Members per page, from 1 to the server's largest page (200 by default).")] limit: Option<i64>,
        #[graphql(default_with = "Some(SortByEnum::default())", desc = "The order of the members.")] sort_by: Option<SortByEnum>,
        #[graphql(default_with = "Some(false)", desc = "List the distinct members of the whole subtree, not only of this department.")]
        include_children_nodes: Option<bool>,
    ) -> Result<PaginatedUsers> {
        let state = ctx.state();
        if let Some(at) = self.as_of() {
            let page = Page::new(page, limit, state.config.limits.max_page_size)?;
            let subtree = include_children_nodes.unwrap_or(false);
            let order = sort_by.unwrap_or_default().into();
            let found = match &self.origin {
                // A kept (settled) tree counts every department's members once.
                Origin::Tree(index) if crate::domain::history::settled(at.at) => {
                    let count = index.member_counts(&state.history).await?.of(&self.model.id, subtree);
                    if ctx.look_ahead().field("list").exists() {
                        state.history.members_at(&self.model, at, subtree, order, page, Some(count)).await?
                    } else {
                        // Only the count: no query (a past listing of every department's count).
                        crate::domain::pagination::Paginated { total_count: count, list: Vec::new() }
                    }
                }
                _ => state.history.members_at(&self.model, at, subtree, order, page, None).await?,
            };
            let mut users = PaginatedUsers::from(found);
            users.list.0.iter_mut().for_each(|u| u.as_of = Some(at.clone()));
            return Ok(users);
        }
        let query = MembersQuery {
            page: Page::new(page, limit, state.config.limits.max_page_size)?,
            sort: MemberSort::User(sort_by.unwrap_or_default().into()),
            include_children: include_children_nodes.unwrap_or(false),
            columns: user_columns(ctx),
        };
        let page = match self.origin {
            Origin::Single => state.orgs.members_page(&self.model, query).await?,
            _ => {
                let total_count = if query.include_children { self.model.subtree_member_count } else { self.model.member_count };
                let loader = ctx.data_unchecked::<DataLoader<TreeLoader>>();
                let list = loader.load_one(MembersPage(PageNode::from(self.model.as_ref()), query)).await?.unwrap_or_default();
                crate::domain::pagination::Paginated { total_count: total_count.max(0) as u64, list }
            }
        };
        Ok(page.into())
    }

    /// What changed in the department, newest first: its fields, its place, its leaders and its
    /// memberships, each change with its time and actor (a deleted department keeps its history).
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many changes to answer (10 when absent, at most the largest page).")] first: Option<i64>,
        #[graphql(desc = "A cursor (`endCursor`) of a previous page: answer the older changes after it.")] after: Option<String>,
    ) -> Result<HistoryConnection> {
        let state = ctx.state();
        let cursors = Cursors::history("node");
        let window = cursors.window(first, after, None, None, state.config.limits.max_page_size)?;
        let slice = state.history.of_node(&ctx.pool()?, &self.model.id, window).await?;
        Ok(HistoryConnection::new(slice, &cursors))
    }

    /// Members of the node as a Relay connection (for apps that scroll): `first` members after
    /// the cursor `after`, or `last` before `before` (10 forward when no count is given, at most
    /// the largest page). With `includeChildrenNodes`, the distinct users of the whole subtree.
    /// Cursors are positions in the order, so paging stays right while members come and go, and
    /// a page deep in a large subtree costs what the first costs.
    #[allow(clippy::too_many_arguments)] // Relay's four arguments and the list's own
    async fn users_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many members to answer after `after` (forward paging).")] first: Option<i64>,
        #[graphql(desc = "A cursor (`endCursor`) of a previous page: answer the members after it.")] after: Option<String>,
        #[graphql(desc = "How many members to answer before `before` (backward paging).")] last: Option<i64>,
        #[graphql(desc = "A cursor (`startCursor`) of a previous page: answer the members before it.")] before: Option<String>,
        #[graphql(default_with = "Some(false)", desc = "List the distinct members of the whole subtree, not only of this department.")]
        include_children_nodes: Option<bool>,
        #[graphql(default_with = "Some(SortByEnum::default())", desc = "The order of the members; a cursor is valid only with the order it came from.")]
        sort_by: Option<SortByEnum>,
    ) -> Result<UserConnection> {
        let state = ctx.state();
        if self.as_of().is_some() {
            return Err(crate::error::AppError::invalid("asOf", "usersConnection lists current members only: use users(page, limit) under asOf").into());
        }
        let (sort, subtree) = (sort_by.unwrap_or_default(), include_children_nodes.unwrap_or(false));
        let cursors = Cursors::members(sort, subtree);
        let window = cursors.window(first, after, last, before, state.config.limits.max_page_size)?;
        let query = MembersQuery {
            page: Page::new(None, None, state.config.limits.max_page_size)?,
            sort: MemberSort::User(sort.into()),
            include_children: subtree,
            columns: UserColumns::ALL,
        };
        let slice = state.orgs.members_window(&self.model, query, window).await?;
        let total = if subtree { self.model.subtree_member_count } else { self.model.member_count };
        let items = slice.items.into_iter().map(|m| (User::from(m.user), cursors.encode(&m.position))).collect();
        Ok(UserConnection::new(Slice { items, has_next: slice.has_next, has_previous: slice.has_previous }, total.max(0)))
    }
}

/// The user columns the `list` of a `PaginatedUsers` being resolved shows (fragments included;
/// fields under `@skip` count too, which reads a column more, never less).
fn user_columns(ctx: &Context<'_>) -> UserColumns {
    let lists = ctx.look_ahead().field("list").selection_fields();
    columns_of(lists.iter().flat_map(|list| list.selection_set()).map(|field| field.name()))
}

/// A department of a user.
#[derive(SimpleObject)]
pub struct UserDepartment {
    /// The department.
    pub department: Node,
    /// Whether it is the user's main department (at most one per user).
    pub is_main_department: bool,
    /// Whether the user leads the department.
    pub is_leader: bool,
    /// When the user joined the department (RFC 3339, UTC, milliseconds).
    pub joined_at: Option<String>,
}

/// The departments of a user.
#[derive(SimpleObject)]
pub struct PaginatedDepartments {
    /// The departments, the main one first.
    pub list: Vec<UserDepartment>,
    /// How many departments are listed.
    pub total_count: i64,
}

/// Departments of a user, on `User`.
#[ComplexObject]
impl User {
    /// The resources granted to the user, directly or through its departments and their
    /// ancestors, in `namespace` (`default` when absent).
    async fn authorized_resources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resources' namespace (`default` when absent).")] namespace: Option<String>,
        #[graphql(desc = "Only resources of this type: DATA, API, MENU, UI or BUTTON (all when absent).")] resource_type: Option<String>,
    ) -> Result<PaginatedAuthorizedResources> {
        let pool = ctx.pool()?;
        let resource_type = parse_resource_type("resourceType", resource_type.as_deref())?;
        let found = ctx.state().acl.authorized_resources(&pool, TargetType::User, &self.id, namespace.as_deref(), resource_type).await?;
        Ok(found.into())
    }

    /// What changed in the user's memberships, newest first: each department joined or left,
    /// each leader flag and main department set, with its time and actor.
    async fn department_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many changes to answer (10 when absent, at most the largest page).")] first: Option<i64>,
        #[graphql(desc = "A cursor (`endCursor`) of a previous page: answer the older changes after it.")] after: Option<String>,
    ) -> Result<HistoryConnection> {
        let state = ctx.state();
        let cursors = Cursors::history("user");
        let window = cursors.window(first, after, None, None, state.config.limits.max_page_size)?;
        let slice = state.history.of_user(&ctx.pool()?, &self.id, window).await?;
        Ok(HistoryConnection::new(slice, &cursors))
    }

    /// The nodes the user is a member of (of one org when `orgId` is given), main first.
    async fn departments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the departments of this organization (all when absent).")] org_id: Option<String>,
    ) -> Result<PaginatedDepartments> {
        let pool = ctx.pool()?;
        if let Some(at) = &self.as_of {
            return departments_at(ctx, &pool, &self.id, org_id.as_deref(), at).await;
        }
        let deps = ctx.state().orgs.user_departments(&pool, &self.id, org_id.as_deref()).await?;
        let list: Vec<UserDepartment> = deps
            .into_iter()
            .map(|d| UserDepartment {
                department: Node::listed(d.node),
                is_main_department: d.is_main,
                is_leader: d.is_leader,
                joined_at: Some(iso(d.joined_at)),
            })
            .collect();
        Ok(PaginatedDepartments { total_count: list.len() as i64, list })
    }
}

/// The departments of user `user_id` as they were at `at`, each in its organization's tree then.
async fn departments_at(ctx: &Context<'_>, pool: &crate::domain::PoolId, user_id: &str, org_id: Option<&str>, at: &crate::domain::history::AsOf) -> Result<PaginatedDepartments> {
    let memberships = ctx.state().history.user_memberships_at(pool, user_id, org_id, at).await?;
    let mut list = Vec::with_capacity(memberships.len());
    for m in memberships {
        let (_, index) = past_org(ctx, pool, &m.org_id, at).await?;
        if let Some(department) = index.node(&m.node_id) {
            list.push(UserDepartment { department, is_main_department: m.is_main_department, is_leader: m.is_leader, joined_at: Some(iso(m.joined_at)) });
        }
    }
    Ok(PaginatedDepartments { total_count: list.len() as i64, list })
}

/// Organization `org_id` of `pool` as it was at `at`, with its tree then, through the schema's
/// past-tree loaders: fields asking at the same time share one read (the departments of every
/// member of a past page), and a settled instant's tree is kept for later requests too.
pub async fn past_org(ctx: &Context<'_>, pool: &crate::domain::PoolId, org_id: &str, at: &crate::domain::history::AsOf) -> Result<(org::Model, Arc<TreeIndex>)> {
    let key = PastTree(pool.clone(), org_id.to_string(), at.clone());
    let found = if crate::domain::history::settled(at.at) {
        ctx.data_unchecked::<DataLoader<PastTreeLoader, async_graphql::dataloader::LruCache>>().load_one(key).await?
    } else {
        ctx.data_unchecked::<DataLoader<PastTreeLoader>>().load_one(key).await?
    };
    found.ok_or_else(|| crate::error::AppError::not_found("org", org_id).into())
}
