//! Relay-style cursor connections, beside Authing's `page`/`limit` lists: `edges { cursor node }`,
//! `nodes`, `pageInfo` and `totalCount`. A cursor is opaque to clients: it holds the position of
//! an item in its list's order (keyset), so pages stay right while items are added or removed
//! and a page deep in a list costs what the first costs. A cursor names the order it was made
//! for; given to another order it is refused.

use async_graphql::SimpleObject;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use super::{common::SortByEnum, user_list::UserList};
use crate::{
    domain::{org_tree::Position, pagination::Slice},
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
    pub cursor: String,
    pub node: User,
}

/// A window of users: give `first` (and `after`) to go forward, `last` (and `before`) to go back.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserConnection {
    pub edges: Vec<UserEdge>,
    /// The users of `edges`, without their cursors.
    pub nodes: UserList,
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

/// The cursors of one member list: its order and whether it holds the subtree.
#[derive(Debug, Clone, Copy)]
pub struct MemberCursors {
    pub sort: SortByEnum,
    pub subtree: bool,
}

/// Longest cursor read: a position is a timestamp and an id.
const MAX_CURSOR: usize = 256;

impl MemberCursors {
    fn tag(self) -> String {
        format!("m1|{:?}|{}", self.sort, u8::from(self.subtree))
    }

    pub fn encode(self, p: &Position) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", self.tag(), p.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true), p.user))
    }

    /// The position `cursor` (the argument `name`) holds, if it is one of this list's.
    pub fn decode(self, name: &str, cursor: &str) -> AppResult<Position> {
        let refuse = || AppError::invalid(name, format!("{name} is not a cursor of this list (its order or includeChildrenNodes differ, or it was altered)"));
        if cursor.len() > MAX_CURSOR {
            return Err(refuse());
        }
        let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(refuse)?;
        let rest = text.strip_prefix(&self.tag()).and_then(|r| r.strip_prefix('|')).ok_or_else(refuse)?;
        let (at, user) = rest.split_once('|').ok_or_else(refuse)?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| refuse())?.with_timezone(&Utc);
        if user.is_empty() {
            return Err(refuse());
        }
        Ok(Position { at, user: user.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_belongs_to_its_order() {
        let c = MemberCursors { sort: SortByEnum::CreatedAtDesc, subtree: true };
        let p = Position { at: Utc::now(), user: "0194abc".into() };
        assert_eq!(c.decode("after", &c.encode(&p)).unwrap(), p);
        let other = MemberCursors { sort: SortByEnum::UpdatedAtDesc, subtree: true };
        assert!(other.decode("after", &c.encode(&p)).is_err());
        let direct = MemberCursors { subtree: false, ..c };
        assert!(direct.decode("after", &c.encode(&p)).is_err());
        for bad in ["", "not base64!", &"A".repeat(300), &URL_SAFE_NO_PAD.encode("m1|CreatedAtDesc|1|yesterday|u")] {
            assert_eq!(c.decode("after", bad).unwrap_err().code(), "INVALID_INPUT", "{bad}");
        }
    }
}
