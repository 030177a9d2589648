//! `Org.nodes`: every node of an org, from one query. An org holds up to 100,000 nodes, and
//! async-graphql resolves each field of each object as its own boxed future: listing 10,000
//! nodes with six fields spent most of its time there. So a selection of plain fields (no
//! arguments, sub-selections, fragments or directives: what the SDKs send) is answered straight
//! from the org's index in one pass; any other selection goes through `Node`'s resolvers, with
//! the same answer.

use std::{borrow::Cow, collections::HashMap, sync::Arc};

use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
    parser::types::Field,
    registry::Registry,
    resolver_utils::resolve_list,
};
use entity::node;

use super::{org::Node, plain::plain_fields};
use crate::domain::{
    docs::iso,
    org_tree::{PathStep, fields::FIELDS},
};

/// The nodes of one org with their parent links, loaded once, so that listing all nodes costs
/// one query whatever is selected. Links are positions in `nodes`.
pub struct TreeIndex {
    pub(super) nodes: Vec<Arc<node::Model>>,
    pub(super) by_id: HashMap<String, usize>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    /// The instant this tree is of (`asOf`), or `None` for the current tree.
    pub as_of: Option<crate::domain::history::AsOf>,
    /// In a preview of the planned tree: the batches applied, and the departments they added,
    /// changed or moved.
    pub planned: Vec<entity::scheduled_change::Model>,
    pub planned_nodes: std::collections::HashSet<String>,
    pub planned_org: bool,
    /// A past tree's member counts, read once for every department (a kept tree's pages count
    /// nothing).
    member_counts: tokio::sync::OnceCell<crate::domain::history::MemberCounts>,
}

impl TreeIndex {
    /// `nodes` in display order (by depth, then `order`), as `OrgService::nodes_of` returns them;
    /// children lists keep that order.
    pub fn new(nodes: Vec<node::Model>) -> Self {
        let nodes: Vec<Arc<node::Model>> = nodes.into_iter().map(Arc::new).collect();
        let by_id: HashMap<String, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i)).collect();
        let parent: Vec<Option<usize>> = nodes.iter().map(|n| n.parent_id.as_ref().and_then(|p| by_id.get(p).copied())).collect();
        let mut children = vec![Vec::new(); nodes.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        TreeIndex { nodes, by_id, parent, children, as_of: None, planned: Vec::new(), planned_nodes: Default::default(), planned_org: false, member_counts: Default::default() }
    }

    /// The tree of an organization as it was at an instant.
    pub fn at(tree: crate::domain::history::TreeAt) -> Self {
        TreeIndex { as_of: Some(tree.as_of), planned: tree.planned, planned_nodes: tree.planned_nodes, planned_org: tree.planned_org, ..Self::new(tree.nodes) }
    }

    /// The member counts of every department of this past tree (read at the first call).
    pub async fn member_counts(&self, history: &crate::domain::history::HistoryService) -> crate::error::AppResult<&crate::domain::history::MemberCounts> {
        self.member_counts
            .get_or_try_init(|| async {
                let (Some(as_of), Some(first)) = (&self.as_of, self.nodes.first()) else { return Ok(Default::default()) };
                let parents: Vec<(&str, Option<&str>)> = self.nodes.iter().map(|n| (n.id.as_str(), n.parent_id.as_deref())).collect();
                history.member_counts_at(&first.org_id, as_of, &parents).await
            })
            .await
    }

    /// The node `id` of the tree, as a `Node` of it.
    pub fn node(self: &Arc<Self>, id: &str) -> Option<Node> {
        self.by_id.get(id).map(|&i| Node::in_tree(self.nodes[i].clone(), self.clone()))
    }

    /// The node whose code is `code`, as a `Node` of the tree.
    pub fn node_by_code(self: &Arc<Self>, code: &str) -> Option<Node> {
        self.nodes.iter().find(|n| n.code.as_deref() == Some(code)).map(|n| Node::in_tree(n.clone(), self.clone()))
    }

    /// The children of node `id`, in display order.
    pub fn child_nodes(self: &Arc<Self>, id: &str) -> Vec<Node> {
        let Some(&i) = self.by_id.get(id) else { return Vec::new() };
        self.children[i].iter().map(|&c| Node::in_tree(self.nodes[c].clone(), self.clone())).collect()
    }

    /// Positions from the root down to `i` (included).
    fn path_of(&self, i: usize) -> Vec<usize> {
        let mut steps = vec![i];
        let mut cur = i;
        // A parent link always points to a node found earlier; the bound only guards a cycle.
        while let Some(p) = self.parent[cur]
            && steps.len() <= self.nodes.len()
        {
            steps.push(p);
            cur = p;
        }
        steps.reverse();
        steps
    }

    pub(super) fn path(&self, id: &str) -> Option<Vec<PathStep>> {
        let i = *self.by_id.get(id)?;
        Some(
            self.path_of(i)
                .into_iter()
                .map(|s| {
                    let n = &self.nodes[s];
                    PathStep { id: n.id.clone(), code: n.code.clone(), name: n.name.clone() }
                })
                .collect(),
        )
    }

    pub(super) fn child_ids(&self, id: &str) -> Vec<String> {
        self.by_id.get(id).map(|&i| self.children[i].iter().map(|&c| self.nodes[c].id.clone()).collect()).unwrap_or_default()
    }
}

/// A field of `Node` whose value is in the index: answered without a resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    Typename,
    Id,
    OrgId,
    /// A listed field (`org_tree::fields`), by its position in `FIELDS`.
    Field(usize),
    Root,
    Depth,
    LeaderUserId,
    ParentId,
    CreatedAt,
    UpdatedAt,
    Path,
    CodePath,
    NamePath,
    Children,
}

impl Plain {
    fn of(name: &str) -> Option<Plain> {
        Some(match name {
            "__typename" => Plain::Typename,
            "id" => Plain::Id,
            "orgId" => Plain::OrgId,
            "root" => Plain::Root,
            "depth" => Plain::Depth,
            "leaderUserId" => Plain::LeaderUserId,
            "parentId" => Plain::ParentId,
            "createdAt" => Plain::CreatedAt,
            "updatedAt" => Plain::UpdatedAt,
            "path" => Plain::Path,
            "codePath" => Plain::CodePath,
            "namePath" => Plain::NamePath,
            "children" => Plain::Children,
            other => Plain::Field(FIELDS.iter().position(|f| f.name == other)?),
        })
    }
}

/// The response keys and fields of a plain selection (see `plain`), in order; `None` when the
/// selection has anything else (then `Node`'s resolvers answer).
fn plain_selection(field: &Field) -> Option<Vec<(Name, Plain)>> {
    plain_fields(field)?.into_iter().map(|(key, name)| Plain::of(name.as_str()).map(|p| (key, p))).collect()
}

/// A plain selection: what to render, and its text (a cache key: aliases change the bytes).
pub struct PlainPlan {
    plan: Vec<(Name, Plain)>,
    pub selection: String,
}

impl PlainPlan {
    /// The plan of the selection `field` (the `nodes` field itself) when it is plain.
    pub fn of(field: &Positioned<Field>) -> Option<Self> {
        let plan = plain_selection(&field.node)?;
        let selection = plan.iter().map(|(key, f)| format!("{key}={f:?}")).collect::<Vec<_>>().join(",");
        Some(PlainPlan { plan, selection })
    }

    /// The listing of `index`, serialized as the answer's JSON.
    pub fn to_json(&self, index: &TreeIndex) -> crate::error::AppResult<Vec<u8>> {
        serde_json::to_vec(&render(index, &self.plan)).map_err(crate::error::AppError::internal)
    }
}

/// `[Node!]!` as the schema has it, answered one way or the other.
pub struct OrgNodes(Answer);

enum Answer {
    /// A placeholder for JSON already serialized (see `graphql::raw_json`).
    Placed(Value),
    Tree { index: Arc<TreeIndex>, plan: Option<Vec<(Name, Plain)>> },
}

impl OrgNodes {
    /// The nodes of `index` for the selection `field` (the `nodes` field itself).
    pub fn new(index: Arc<TreeIndex>, field: &Positioned<Field>) -> Self {
        OrgNodes(Answer::Tree { plan: plain_selection(&field.node), index })
    }

    /// A placeholder value standing for the serialized listing.
    pub fn placed(placeholder: Value) -> Self {
        OrgNodes(Answer::Placed(placeholder))
    }
}

fn render(index: &TreeIndex, plan: &[(Name, Plain)]) -> Value {
    let text = |s: &str| Value::String(s.to_string());
    let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
    let list = |i: usize, step: &dyn Fn(&node::Model) -> Value| Value::List(index.path_of(i).into_iter().map(|s| step(&index.nodes[s])).collect());
    let typename = Value::String(<Node as OutputType>::type_name().into_owned());
    let values = index.nodes.iter().enumerate().map(|(i, n)| {
        let object = plan.iter().map(|(key, field)| {
            let value = match field {
                Plain::Typename => typename.clone(),
                Plain::Id => text(&n.id),
                Plain::OrgId => text(&n.org_id),
                // The JSON every surface shows is the GraphQL value too (see `node_fields`).
                Plain::Field(f) => Value::from_json(FIELDS[*f].show(n)).unwrap_or(Value::Null),
                Plain::Root => Value::Boolean(n.parent_id.is_none()),
                Plain::Depth => Value::from(n.depth),
                Plain::LeaderUserId => opt(&n.leader_user_id),
                Plain::ParentId => opt(&n.parent_id),
                Plain::CreatedAt => Value::String(iso(n.created_at)),
                Plain::UpdatedAt => Value::String(iso(n.updated_at)),
                Plain::Path => list(i, &|s| text(&s.id)),
                Plain::CodePath => list(i, &|s| opt(&s.code)),
                Plain::NamePath => list(i, &|s| text(&s.name)),
                Plain::Children => Value::List(index.children[i].iter().map(|&c| text(&index.nodes[c].id)).collect()),
            };
            (key.clone(), value)
        });
        Value::Object(object.collect())
    });
    Value::List(values.collect())
}

impl OutputType for OrgNodes {
    fn type_name() -> Cow<'static, str> {
        <Vec<Node> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<Node> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<Node> as OutputType>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match &self.0 {
            Answer::Placed(value) => Ok(value.clone()),
            Answer::Tree { index, plan: Some(plan) } => Ok(render(index, plan)),
            Answer::Tree { index, plan: None } => {
                let nodes: Vec<Node> = index.nodes.iter().map(|n| Node::in_tree(n.clone(), index.clone())).collect();
                resolve_list(ctx, field, &nodes, Some(nodes.len())).await
            }
        }
    }
}
