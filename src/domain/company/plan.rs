//! Every row of an import checked before anything is written: fields by the domain's rules, and
//! the rules across rows (ids unique, parents present and no cycle, depth, codes unique within an
//! org and among org roots, identifiers unique, references to rows of the file, one main
//! department per user). A file with any bad row is refused whole, each bad row named by where
//! it is (`nodes.csv:14`, `/users/3`).
//!
//! The rows are read from a [`Source`] as a stream: what the checks keep is the users' keys
//! (and a hash of each identifier), the nodes, and two numbers per membership; the other
//! tables are small and read whole.

use std::{
    collections::{HashMap, HashSet, hash_map::Entry},
    hash::{BuildHasher, RandomState},
};

use entity::user;
use indexmap::IndexSet;
use sea_orm::ActiveValue;
use serde_json::{Map, Value};

use super::{
    MEMBERSHIP_COLUMNS, Row, Rows, Source, TABLES,
    event_types::{self, AppPlan, TypePlan},
    node_columns,
    permissions::{self, GrantPlan, NamespacePlan, ResourcePlan},
    user_columns,
    scheduled::{self, ScheduledPlan},
    webhooks::{self, WebhookPlan},
};
use crate::{
    domain::{
        PoolId,
        org_tree::{DepartmentPatch, MAX_DEPTH, MAX_LEADERS, Names, NodeInput},
        users::{UserPatch, imported_row, parse_status, profile::ProfilePatch},
        validate,
    },
    error::AppResult,
};

/// A bad row: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at: String,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A node to import; `parent` and `leaders` index the plan's nodes and users. A root carries
/// its organization.
#[derive(Debug, Clone)]
pub struct NodePlan {
    pub at: String,
    pub key: String,
    pub parent: Option<usize>,
    pub input: NodeInput,
    pub leaders: Vec<Leader>,
    pub org: Option<OrgPlan>,
    /// The SCIM `externalId` of the department as a group.
    pub scim_external_id: Option<String>,
}

/// A leader of a node: a user of the file, or (a leader who is in no file's user list, as
/// one organization's v2 export leaves out leaders who are not its members) a user of the
/// pool by id, checked when written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Leader {
    File(usize),
    Pool(String),
}

/// The organization of a root row: the file's `orgId` (absent in files written by hand) and
/// `tenantId`.
#[derive(Debug, Clone, Default)]
pub struct OrgPlan {
    pub key: Option<String>,
    pub tenant_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct UserPlan {
    pub key: String,
    pub row: user::ActiveModel,
}

#[derive(Debug, Clone)]
pub struct MemberPlan {
    pub at: String,
    pub node: usize,
    pub user: usize,
    pub leader: bool,
    pub main: bool,
    pub joined_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A checked company: nodes parents first (breadth first); the users and memberships stay in
/// the source, read again when written.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub nodes: Vec<NodePlan>,
    /// The users' keys in file order: a user's index in the plan is its row's.
    pub users: IndexSet<Box<str>>,
    /// How many memberships the source has.
    pub memberships: usize,
    pub event_apps: Vec<AppPlan>,
    pub event_types: Vec<TypePlan>,
    pub namespaces: Vec<NamespacePlan>,
    pub resources: Vec<ResourcePlan>,
    pub grants: Vec<GrantPlan>,
    pub webhooks: Vec<WebhookPlan>,
    pub scheduled: Vec<ScheduledPlan>,
}

impl Plan {
    pub fn rows(&self) -> usize {
        self.nodes.len() + self.users.len() + self.memberships + self.event_apps.len() + self.event_types.len()
            + self.namespaces.len() + self.resources.len() + self.grants.len() + self.webhooks.len() + self.scheduled.len()
    }

    /// The closure rows the nodes make: each node with each of its ancestors and itself (what
    /// bounds how long a one-transaction import holds the write turn).
    pub fn closure_rows(&self) -> usize {
        let mut depth: Vec<usize> = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            // Parents come first in a plan.
            let d = n.parent.and_then(|p| depth.get(p)).map_or(0, |d| d + 1);
            depth.push(d);
        }
        depth.iter().map(|d| d + 1).sum()
    }

    /// Check every row of `source`; all the refusals (at most `max_refusals`) when any is bad.
    pub fn new(pool: &PoolId, source: &dyn Source, max_refusals: usize) -> AppResult<Result<Plan, Refused>> {
        let [node_table, _, _, apps, types, namespaces, resources, grants, hooks, batches] = &TABLES;
        let mut bad = Refusals { list: Vec::new(), max: max_refusals.max(1) };
        let users = users(pool, source, &mut bad)?;
        let nodes = nodes(source.rows(node_table)?, &users, &mut bad)?;
        let node_index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.key.as_str(), i)).collect();
        let memberships = memberships(source, &node_index, &users, &mut bad)?;
        let all = |table| -> AppResult<Vec<Row>> { source.rows(table)?.collect() };
        let (apps, types, namespaces, resources, grants, hooks, batches) =
            (all(apps)?, all(types)?, all(namespaces)?, all(resources)?, all(grants)?, all(hooks)?, all(batches)?);
        let rows = users.len() + nodes.len() + memberships + apps.len() + types.len() + namespaces.len() + resources.len() + grants.len() + hooks.len()
            + batches.len();
        let event_apps = event_types::plan_apps(apps, &mut bad);
        let event_types = event_types::plan_types(types, &mut bad);
        let namespaces = permissions::plan_namespaces(namespaces, &mut bad);
        let resources = permissions::plan_resources(resources, &mut bad);
        let grants = permissions::plan_grants(grants, &users, &node_index, &mut bad);
        let webhooks = webhooks::plan(hooks, &mut bad);
        let scheduled = scheduled::plan(batches, &mut bad);
        if !bad.list.is_empty() {
            return Ok(Err(Refused { refusals: bad.list, rows }));
        }
        Ok(Ok(Plan { nodes, users, memberships, event_apps, event_types, namespaces, resources, grants, webhooks, scheduled }))
    }
}

/// A file refused: its bad rows (the first ones), and how many rows it has.
#[derive(Debug, Clone)]
pub struct Refused {
    pub refusals: Vec<Refusal>,
    pub rows: usize,
}

/// Where the rows of `table` numbered `wanted` (0 first) are: read again for the messages that
/// name an earlier row, which the checks do not keep.
pub(super) fn places(source: &dyn Source, table: &super::Table, wanted: &HashSet<usize>) -> AppResult<HashMap<usize, Row>> {
    let mut found = HashMap::new();
    if wanted.is_empty() {
        return Ok(found);
    }
    for (n, row) in source.rows(table)?.enumerate() {
        if wanted.contains(&n) {
            found.insert(n, row?);
        }
    }
    Ok(found)
}

pub(super) struct Refusals {
    pub(super) list: Vec<Refusal>,
    max: usize,
}

impl Refusals {
    pub(super) fn add(&mut self, at: &str, message: impl Into<String>) {
        if self.list.len() < self.max {
            self.list.push(Refusal { at: at.to_string(), message: message.into() });
        }
    }
}

/// Typed reads of a row's fields. A file gives strings (CSV) or JSON values; both are accepted.
impl Row {
    pub(super) fn unknown(&self, columns: &[&str]) -> Option<String> {
        let unknown: Vec<&str> = self.fields.keys().map(String::as_str).filter(|k| !columns.contains(k)).collect();
        (!unknown.is_empty()).then(|| format!("unknown column(s) {} (expected some of: {})", unknown.join(", "), columns.join(", ")))
    }

    /// A text; empty and null are absent.
    pub(super) fn text(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    pub(super) fn flag(&self, name: &str) -> Result<Option<bool>, String> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "yes" => Ok(Some(true)),
                "false" | "0" | "no" => Ok(Some(false)),
                _ => Err(format!("{name} must be true or false, got {s:?}")),
            },
            Some(other) => Err(format!("{name} must be true or false, got {other}")),
        }
    }

    pub(super) fn integer(&self, name: &str) -> Result<Option<i64>, String> {
        match self.text(name) {
            None => Ok(None),
            Some(s) => s.trim().parse().map(Some).map_err(|_| format!("{name} must be an integer, got {s:?}")),
        }
    }

    /// A JSON value given as such, or as JSON text (CSV).
    pub(super) fn json(&self, name: &str) -> Result<Option<Value>, String> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|e| format!("{name} is not valid JSON: {e}")),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// A list of ids: a JSON array, or (CSV) ids separated by spaces.
    pub(super) fn ids(&self, name: &str) -> Result<Vec<String>, String> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_string).collect()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| format!("{name} must be a list of ids")))
                .collect(),
            Some(_) => Err(format!("{name} must be a list of ids")),
        }
    }

    /// An ISO 8601 time; empty is absent.
    pub(super) fn time(&self, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        self.text(name).map(|v| validate::timestamp(name, &v)).transpose().map(Option::flatten).map_err(|e| e.to_string())
    }

    /// The file's own id of the row, which other rows refer to.
    pub(super) fn key(&self, name: &str) -> Result<String, String> {
        let key = self.text(name).ok_or_else(|| format!("{name} is missing"))?;
        validate::required_text(name, &key, validate::MAX_TEXT).map_err(|e| e.to_string())
    }
}

/// The users' keys, in file order. Identifiers are unique within a pool: each is kept as a
/// hash, to the row that has it, and a row whose identifier's hash was seen is compared with
/// that row, read again (a clash of hashes alone is no refusal).
fn users(pool: &PoolId, source: &dyn Source, bad: &mut Refusals) -> AppResult<IndexSet<Box<str>>> {
    let table = &TABLES[1];
    let columns = user_columns();
    let now = chrono::Utc::now();
    let mut keys: IndexSet<Box<str>> = IndexSet::new();
    let hasher = RandomState::new();
    let mut taken: HashMap<u64, usize> = HashMap::new();
    // (where, the earlier row, field, value)
    let mut suspects: Vec<(String, usize, &'static str, String)> = Vec::new();
    for (n, row) in source.rows(table)?.enumerate() {
        let row = row?;
        match user(pool, &row, &columns, now) {
            Err(why) => bad.add(&row.at, why),
            Ok(plan) => {
                if !keys.insert(plan.key.clone().into_boxed_str()) {
                    bad.add(&row.at, format!("id {:?} appears twice", plan.key));
                    continue;
                }
                for (field, value) in identifiers(&plan.row) {
                    match taken.entry(hasher.hash_one((field, &value))) {
                        Entry::Occupied(first) => {
                            if suspects.len() < bad.max {
                                suspects.push((row.at.clone(), *first.get(), field, value));
                            }
                            break;
                        }
                        Entry::Vacant(slot) => {
                            slot.insert(n);
                        }
                    }
                }
            }
        }
    }
    let firsts = places(source, table, &suspects.iter().map(|s| s.1).collect())?;
    for (at, first, field, value) in suspects {
        let Some(first) = firsts.get(&first) else { continue };
        let same = user(pool, first, &columns, now).is_ok_and(|u| identifiers(&u.row).contains(&(field, value.clone())));
        if same {
            bad.add(&at, format!("{field} {value:?} is also the {field} of the user at {}", first.at));
        }
    }
    Ok(keys)
}

/// The identifiers of a checked row, by field name.
pub(super) fn identifiers(row: &user::ActiveModel) -> Vec<(&'static str, String)> {
    let value = |v: &ActiveValue<Option<String>>| match v {
        ActiveValue::Set(Some(s)) | ActiveValue::Unchanged(Some(s)) => Some(s.clone()),
        _ => None,
    };
    [("username", &row.username), ("email", &row.email), ("phone", &row.phone), ("externalId", &row.external_id)]
        .into_iter()
        .filter_map(|(f, v)| value(v).map(|v| (f, v)))
        .collect()
}

/// A user row checked: the row to insert.
pub(super) fn user(pool: &PoolId, row: &Row, columns: &[&str], now: chrono::DateTime<chrono::Utc>) -> Result<UserPlan, String> {
    if let Some(why) = row.unknown(columns) {
        return Err(why);
    }
    let key = row.key("id")?;
    let text = |name: &str| row.text(name).map(Some);
    let custom_data = match row.json("customData")? {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err("customData must be a JSON object".into()),
    };
    let register_source = match row.json("registerSource")? {
        None => None,
        Some(Value::Array(items)) => Some(items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect()),
        Some(_) => return Err("registerSource must be a JSON array of strings".into()),
    };
    let logins_count = row.integer("loginsCount")?.map(|n| i32::try_from(n).map_err(|_| "loginsCount is too large".to_string())).transpose()?;
    let patch = UserPatch {
        username: text("username"),
        email: text("email"),
        phone: text("phone"),
        external_id: text("externalId"),
        email_verified: row.flag("emailVerified")?,
        phone_verified: row.flag("phoneVerified")?,
        password: None,
        profile: ProfilePatch::from_lookup(|name| row.text(name)),
        gender: row.text("gender"),
        status: row.text("status").map(|s| parse_status("status", &s)).transpose().map_err(|e| e.to_string())?,
        register_source,
        logins_count,
        last_login: text("lastLogin"),
        signed_up: text("signedUp"),
        blocked: row.flag("blocked")?,
        custom_data,
    };
    let mut user = imported_row(pool, patch, row.text("passwordHash"), now).map_err(|e| e.to_string())?;
    let created = row.time("createdAt")?;
    if let Some(t) = created {
        user.created_at = ActiveValue::Set(t);
    }
    if let Some(t) = row.time("updatedAt")?.or(created) {
        user.updated_at = ActiveValue::Set(t);
    }
    Ok(UserPlan { key, row: user })
}

fn nodes(rows: Rows<'_>, users: &IndexSet<Box<str>>, bad: &mut Refusals) -> AppResult<Vec<NodePlan>> {
    struct Read {
        at: String,
        key: String,
        parent: Option<String>,
        input: NodeInput,
        leaders: Vec<Leader>,
        org: OrgPlan,
        scim_external_id: Option<String>,
    }
    let columns = node_columns();
    let mut read: Vec<Read> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let row = row?;
        let parsed = (|| -> Result<Read, String> {
            if let Some(why) = row.unknown(&columns) {
                return Err(why);
            }
            let key = row.key("id")?;
            let fields = DepartmentPatch::read(Names::Standard, |name| row.fields.get(name))
                .and_then(DepartmentPatch::check)
                .map_err(|e| e.to_string())?;
            if fields.name.is_none() {
                return Err("name is missing".into());
            }
            let created_at = row.time("createdAt")?;
            let input = NodeInput { fields, id: None, created_at, updated_at: row.time("updatedAt")?.or(created_at) };
            // Duplicates first, then the cap, as the API counts (a set: the list is as long as
            // the file allows).
            let mut seen = HashSet::new();
            let mut leaders = Vec::new();
            for k in &row.ids("leaderUserIds")? {
                let leader = match users.get_index_of(k.as_str()) {
                    Some(u) => Leader::File(u),
                    None => Leader::Pool(k.clone()),
                };
                if seen.insert(leader.clone()) {
                    leaders.push(leader);
                }
            }
            if leaders.len() > MAX_LEADERS {
                return Err(format!("a department has at most {MAX_LEADERS} leaders"));
            }
            let tenant_id = row.text("tenantId").map(|t| validate::optional_text("tenantId", &t, 64)).transpose().map_err(|e| e.to_string())?.flatten();
            let org = OrgPlan { key: row.text("orgId"), tenant_id };
            let scim_external_id = row
                .text("scimExternalId")
                .map(|t| validate::optional_text("scimExternalId", &t, validate::MAX_TEXT))
                .transpose()
                .map_err(|e| e.to_string())?
                .flatten();
            Ok(Read { at: row.at.clone(), key, parent: row.text("parentId"), input, leaders, org, scim_external_id })
        })();
        match parsed {
            Err(why) => bad.add(&row.at, why),
            Ok(r) if index.contains_key(&r.key) => bad.add(&r.at, format!("id {:?} appears twice", r.key)),
            Ok(r) => {
                index.insert(r.key.clone(), read.len());
                read.push(r);
            }
        }
    }
    // Parents first: walk down from the roots; what is not reached hangs on a missing parent or
    // is on a cycle.
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut level: Vec<usize> = Vec::new();
    for (i, r) in read.iter().enumerate() {
        match &r.parent {
            None => level.push(i),
            Some(p) => match index.get(p) {
                Some(&pi) => children.entry(pi).or_default().push(i),
                None => bad.add(&r.at, format!("parentId {p:?} is not a node of the file")),
            },
        }
    }
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(read.len()); // (row, root)
    let mut root_of: Vec<usize> = vec![usize::MAX; read.len()];
    let mut root_codes: HashMap<String, String> = HashMap::new();
    for &r in &level {
        root_of[r] = r;
        if let Some(Some(code)) = &read[r].input.fields.code
            && let Some(first) = root_codes.insert(code.clone(), read[r].at.clone())
        {
            bad.add(&read[r].at, format!("code {code:?} is also the code of the organization at {first}"));
        }
    }
    let mut depth = 0;
    while !level.is_empty() {
        let mut next = Vec::new();
        for &i in &level {
            if depth > MAX_DEPTH {
                bad.add(&read[i].at, format!("the tree is deeper than {MAX_DEPTH} levels"));
                continue;
            }
            order.push((i, root_of[i]));
            for &c in children.get(&i).map(Vec::as_slice).unwrap_or_default() {
                root_of[c] = root_of[i];
                next.push(c);
            }
        }
        level = next;
        depth += 1;
    }
    let reached: HashSet<usize> = order.iter().map(|(i, _)| *i).collect();
    for (i, r) in read.iter().enumerate() {
        if !reached.contains(&i) && r.parent.as_ref().is_some_and(|p| index.contains_key(p)) {
            bad.add(&r.at, "the node never reaches a root: its parentId chain is a cycle, or passes a refused node");
        }
    }
    // Codes are unique within an org.
    let mut codes: HashMap<(usize, String), String> = HashMap::new();
    for &(i, root) in &order {
        if let (Some(own), Some(root_org)) = (&read[i].org.key, &read[root].org.key)
            && own != root_org
        {
            bad.add(&read[i].at, format!("orgId {own:?} is not the orgId of its root ({root_org:?})"));
        }
        if let Some(Some(code)) = &read[i].input.fields.code
            && let Some(first) = codes.insert((root, code.clone()), read[i].at.clone())
        {
            bad.add(&read[i].at, format!("code {code:?} is also the code of the node at {first} in the same organization"));
        }
    }
    let position: HashMap<usize, usize> = order.iter().enumerate().map(|(pos, (i, _))| (*i, pos)).collect();
    let mut slots: Vec<Option<Read>> = read.into_iter().map(Some).collect();
    Ok(order
        .iter()
        .filter_map(|&(i, _)| {
            let r = slots[i].take()?;
            let parent = r.parent.as_ref().and_then(|p| index.get(p)).and_then(|pi| position.get(pi)).copied();
            let org = r.parent.is_none().then_some(r.org);
            Some(NodePlan { at: r.at, key: r.key, parent, input: r.input, leaders: r.leaders, org, scim_external_id: r.scim_external_id })
        })
        .collect())
}

/// Check the memberships; how many there are. Each pair and each main department is kept as
/// numbers, to the row that has it (read again to name it in a refusal).
fn memberships(source: &dyn Source, nodes: &HashMap<&str, usize>, users: &IndexSet<Box<str>>, bad: &mut Refusals) -> AppResult<usize> {
    let table = &TABLES[2];
    let mut pairs: HashMap<(u32, u32), usize> = HashMap::new();
    let mut mains: HashMap<u32, usize> = HashMap::new();
    // (where, the earlier row, whether it is the same main department rather than the same pair)
    let mut repeats: Vec<(String, usize, bool)> = Vec::new();
    let mut count = 0;
    for (n, row) in source.rows(table)?.enumerate() {
        let row = row?;
        count += 1;
        match member(&row, nodes, users) {
            Err(why) => bad.add(&row.at, why),
            Ok(m) => {
                let (node, user) = (m.node as u32, m.user as u32);
                let repeat = match pairs.entry((node, user)) {
                    Entry::Occupied(first) => Some((*first.get(), false)),
                    Entry::Vacant(slot) => {
                        slot.insert(n);
                        match mains.entry(user) {
                            Entry::Occupied(first) if m.main => Some((*first.get(), true)),
                            Entry::Vacant(slot) if m.main => {
                                slot.insert(n);
                                None
                            }
                            _ => None,
                        }
                    }
                };
                if let Some((first, main)) = repeat
                    && repeats.len() < bad.max
                {
                    repeats.push((m.at, first, main));
                }
            }
        }
    }
    let firsts = places(source, table, &repeats.iter().map(|r| r.1).collect())?;
    for (at, first, main) in repeats {
        let first = firsts.get(&first).map_or("?", |r| r.at.as_str());
        if main {
            bad.add(&at, format!("the user's main department is already given at {first}"));
        } else {
            bad.add(&at, format!("the same membership as at {first}"));
        }
    }
    Ok(count)
}

/// One membership row checked, its node and user as indexes of the plan.
pub(super) fn member(row: &Row, nodes: &HashMap<&str, usize>, users: &IndexSet<Box<str>>) -> Result<MemberPlan, String> {
    if let Some(why) = row.unknown(MEMBERSHIP_COLUMNS) {
        return Err(why);
    }
    let node_key = row.key("nodeId")?;
    let user_key = row.key("userId")?;
    let node = *nodes.get(node_key.as_str()).ok_or_else(|| format!("nodeId {node_key:?} is not a node of the file"))?;
    let user = users.get_index_of(user_key.as_str()).ok_or_else(|| format!("userId {user_key:?} is not a user of the file"))?;
    Ok(MemberPlan {
        at: row.at.clone(),
        node,
        user,
        leader: row.flag("isLeader")?.unwrap_or(false),
        main: row.flag("isMainDepartment")?.unwrap_or(false),
        joined_at: row.time("joinedAt")?,
    })
}

/// A row's fields as a JSON object (export).
pub(super) fn object(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn row(at: &str, fields: Value) -> Row {
        Row { at: at.into(), fields: fields.as_object().cloned().unwrap_or_default() }
    }

    /// A department listing `leaders` (user keys) among 51 users of the file.
    fn company(leaders: &[String]) -> super::super::Company {
        let users = (0..51).map(|i| row(&format!("/users/{i}"), json!({ "id": format!("u{i}"), "username": format!("user{i}") }))).collect();
        let nodes = vec![row("/nodes/0", json!({ "id": "root", "name": "Root", "leaderUserIds": leaders }))];
        super::super::Company { nodes, users, ..Default::default() }
    }

    #[test]
    fn leaders_are_counted_after_duplicates_are_removed_as_the_api_counts() {
        let pool = PoolId::trusted("pool");
        // 51 ids naming 50 distinct users: accepted, each leader once.
        let mut ids: Vec<String> = (0..50).map(|i| format!("u{i}")).collect();
        ids.push("u0".into());
        let plan = Plan::new(&pool, &company(&ids), 10).unwrap().map_err(|e| format!("{e:?}"));
        assert_eq!(plan.map(|p| p.nodes[0].leaders.len()), Ok(50));
        // 51 distinct: refused, naming the row.
        let ids: Vec<String> = (0..51).map(|i| format!("u{i}")).collect();
        let refused = Plan::new(&pool, &company(&ids), 10).unwrap().err().map(|r| r.refusals).unwrap_or_default();
        assert!(refused.iter().any(|r| r.to_string().contains("at most 50 leaders")), "{refused:?}");
    }
}
