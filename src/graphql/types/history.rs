//! History in GraphQL: `Node.history` and `User.departmentHistory`, newest first, by cursor.

use async_graphql::{Json, SimpleObject};
use serde_json::Value;

use super::connection::{Cursors, PageInfo};
use crate::domain::{history, pagination::Slice};

/// One field's change: its value before and after (JSON; null when it had none).
#[derive(SimpleObject, Debug, Clone)]
pub struct FieldChange {
    /// The field's name, as `Node` or `UserDepartment` names it (`parentId` for a move,
    /// `leaderUserIds`, `userId` or `departmentId` for a membership).
    pub field: String,
    /// Its value before the change.
    pub before: Json<Value>,
    /// Its value after the change.
    pub after: Json<Value>,
}

/// One committed change.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryEntry {
    /// When the change committed (RFC 3339, UTC, microseconds).
    pub at: String,
    /// Who made it: the access token's subject, `scim:<token name>`, `import`, `cli`, `system`,
    /// or `migration` for the state found when history began to be kept.
    pub actor: Option<String>,
    /// What it was, named as the event it sent (`organization:node-updated`,
    /// `organization:member-added`, ...); `organization:member-updated` for a leader flag or
    /// main department change, `history:started` for the state found when history began.
    pub event_name: String,
    /// The fields it changed.
    pub changes: Vec<FieldChange>,
}

/// A page of history, newest first: pass `pageInfo.endCursor` as `after` for older changes.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryConnection {
    /// The changes of the page, newest first.
    pub nodes: Vec<HistoryEntry>,
    /// Where the page is in the history.
    pub page_info: PageInfo,
}

impl HistoryConnection {
    pub fn new(slice: Slice<history::Entry>, cursors: &Cursors) -> Self {
        let page_info = PageInfo {
            has_next_page: slice.has_next,
            has_previous_page: slice.has_previous,
            start_cursor: slice.items.first().map(|e| cursors.encode(&e.position)),
            end_cursor: slice.items.last().map(|e| cursors.encode(&e.position)),
        };
        let nodes = slice
            .items
            .into_iter()
            .map(|e| HistoryEntry {
                at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                actor: e.actor,
                event_name: e.event_name,
                changes: e.changes.into_iter().map(|c| FieldChange { field: c.field, before: Json(c.before), after: Json(c.after) }).collect(),
            })
            .collect();
        HistoryConnection { nodes, page_info }
    }
}
