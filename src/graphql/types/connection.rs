//! Relay-style cursor connections, beside Authing's `page`/`limit` lists: `edges { cursor node }`,
//! `nodes`, `pageInfo` and `totalCount`. A cursor is opaque to clients: it holds the position of
//! an item in its list's order (keyset), so pages stay right while items are added or removed
//! and a page deep in a list costs what the first costs. A cursor names the order it was made
//! for; given to another order it is refused.

use async_graphql::SimpleObject;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use entity::{org, user};

use super::{common::SortByEnum, org::Org, user_list::UserList};
use crate::{
    domain::{
        org_tree::Position,
        pagination::{DEFAULT_LIMIT, Slice, Window},
    },
    error::{AppError, AppResult},
    views::user::User,
};

/// Where a page is, as Relay's clients read it.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// More items follow the last of this page.
    pub has_next_page: bool,
    /// Items come before the first of this page.
    pub has_previous_page: bool,
    /// The cursor of the first item of this page (null when the page is empty).
    pub start_cursor: Option<String>,
    /// The cursor of the last item of this page (null when the page is empty); pass it as
    /// `after` for the next page.
    pub end_cursor: Option<String>,
}

/// A user and its cursor.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserEdge {
    /// The user's position in the list: pass it as `after` or `before`.
    pub cursor: String,
    /// The user.
    pub node: User,
}

/// A window of users: give `first` (and `after`) to go forward, `last` (and `before`) to go back.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserConnection {
    /// The users of the page with their cursors, in the list's order.
    pub edges: Vec<UserEdge>,
    /// The users of `edges`, without their cursors.
    pub nodes: UserList,
    /// Where the page is in the list.
    pub page_info: PageInfo,
    /// The size of the whole list.
    pub total_count: i64,
}

impl UserConnection {
    pub fn new(slice: Slice<(User, String)>, total_count: i64) -> Self {
        let page_info = PageInfo {
            has_next_page: slice.has_next,
            has_previous_page: slice.has_previous,
            start_cursor: slice.items.first().map(|(_, c)| c.clone()),
            end_cursor: slice.items.last().map(|(_, c)| c.clone()),
        };
        let nodes = UserList(slice.items.iter().map(|(u, _)| u.clone()).collect());
        let edges = slice.items.into_iter().map(|(node, cursor)| UserEdge { cursor, node }).collect();
        UserConnection { edges, nodes, page_info, total_count }
    }
}

/// An organization and its cursor.
#[derive(SimpleObject)]
pub struct OrgEdge {
    /// The organization's position in the list: pass it as `after` or `before`.
    pub cursor: String,
    /// The organization.
    pub node: Org,
}

/// A window of organizations: give `first` (and `after`) to go forward, `last` (and `before`)
/// to go back.
#[derive(SimpleObject)]
pub struct OrgConnection {
    /// The organizations of the page with their cursors, in the list's order.
    pub edges: Vec<OrgEdge>,
    /// The organizations of `edges`, without their cursors.
    pub nodes: Vec<Org>,
    /// Where the page is in the list.
    pub page_info: PageInfo,
    /// How many organizations the pool has.
    pub total_count: i64,
}

impl OrgConnection {
    pub fn new(slice: Slice<org::Model>, total_count: i64, cursors: &Cursors) -> Self {
        let cursor = |o: &org::Model| cursors.encode(&Position { at: cursor_time(o.created_at, o.updated_at, cursors), id: o.id.clone() });
        let page_info = PageInfo {
            has_next_page: slice.has_next,
            has_previous_page: slice.has_previous,
            start_cursor: slice.items.first().map(cursor),
            end_cursor: slice.items.last().map(cursor),
        };
        let nodes = slice.items.iter().cloned().map(Org::new).collect();
        let edges = slice.items.into_iter().map(|o| OrgEdge { cursor: cursor(&o), node: Org::new(o) }).collect();
        OrgConnection { edges, nodes, page_info, total_count }
    }
}

/// The sort key of a row listed by `cursors`' order: its creation or update time.
fn cursor_time(created: DateTime<Utc>, updated: DateTime<Utc>, cursors: &Cursors) -> DateTime<Utc> {
    if cursors.by_update { updated } else { created }
}

/// The cursors of one list: a tag naming the list and its order, checked when a cursor comes
/// back, and the key the order sorts on.
#[derive(Debug, Clone)]
pub struct Cursors {
    tag: String,
    by_update: bool,
}

/// Longest cursor read: a position is a timestamp and an id.
const MAX_CURSOR: usize = 256;

impl Cursors {
    /// A department's members (`subtree`: the distinct users of its subtree).
    pub fn members(sort: SortByEnum, subtree: bool) -> Self {
        Cursors { tag: format!("m1|{sort:?}|{}", u8::from(subtree)), by_update: Self::updated(sort) }
    }

    /// The pool's users (`outside_orgs`: those in no organization).
    pub fn users(sort: SortByEnum, outside_orgs: bool) -> Self {
        Cursors { tag: format!("u1|{sort:?}|{}", u8::from(outside_orgs)), by_update: Self::updated(sort) }
    }

    /// A department's history (`node`) or a user's memberships' (`user`), newest first.
    pub fn history(of: &str) -> Self {
        Cursors { tag: format!("h1|{of}"), by_update: false }
    }

    /// The pool's organizations.
    pub fn orgs(sort: SortByEnum) -> Self {
        Cursors { tag: format!("o1|{sort:?}"), by_update: Self::updated(sort) }
    }

    fn updated(sort: SortByEnum) -> bool {
        matches!(sort, SortByEnum::UpdatedAtAsc | SortByEnum::UpdatedAtDesc)
    }

    pub fn encode(&self, p: &Position) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", self.tag, p.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true), p.id))
    }

    /// The cursor of a user of a list sorted by user times.
    pub fn of_user(&self, u: &user::Model) -> String {
        self.encode(&Position { at: cursor_time(u.created_at, u.updated_at, self), id: u.id.clone() })
    }

    /// The position `cursor` (the argument `name`) holds, if it is one of this list's.
    pub fn decode(&self, name: &str, cursor: &str) -> AppResult<Position> {
        let refuse = || AppError::invalid(name, format!("{name} is not a cursor of this list (its order or filter differ, or it was altered)"));
        if cursor.len() > MAX_CURSOR {
            return Err(refuse());
        }
        let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(refuse)?;
        let rest = text.strip_prefix(self.tag.as_str()).and_then(|r| r.strip_prefix('|')).ok_or_else(refuse)?;
        let (at, id) = rest.split_once('|').ok_or_else(refuse)?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| refuse())?.with_timezone(&Utc);
        if id.is_empty() {
            return Err(refuse());
        }
        Ok(Position { at, id: id.to_string() })
    }

    /// `after` and `before` as positions of this list, and the window they ask for with
    /// `first` and `last` (10 forward by default, at most `max` rows).
    pub fn window(&self, first: Option<i64>, after: Option<String>, last: Option<i64>, before: Option<String>, max: u64) -> AppResult<Window<Position>> {
        let after = after.map(|c| self.decode("after", &c)).transpose()?;
        let before = before.map(|c| self.decode("before", &c)).transpose()?;
        Window::new(first, after, last, before, DEFAULT_LIMIT as u64, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_belongs_to_its_order() {
        let c = Cursors::members(SortByEnum::CreatedAtDesc, true);
        let p = Position { at: Utc::now(), id: "0194abc".into() };
        assert_eq!(c.decode("after", &c.encode(&p)).unwrap(), p);
        for other in [Cursors::members(SortByEnum::UpdatedAtDesc, true), Cursors::members(SortByEnum::CreatedAtDesc, false), Cursors::users(SortByEnum::CreatedAtDesc, true), Cursors::orgs(SortByEnum::CreatedAtDesc)] {
            assert!(other.decode("after", &c.encode(&p)).is_err(), "{other:?}");
        }
        for bad in ["", "not base64!", &"A".repeat(300), &URL_SAFE_NO_PAD.encode("m1|CreatedAtDesc|1|yesterday|u")] {
            assert_eq!(c.decode("after", bad).unwrap_err().code(), "INVALID_INPUT", "{bad}");
        }
    }
}
