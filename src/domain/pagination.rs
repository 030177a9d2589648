//! Page-number pagination as Authing's API has it: `page` from 1, `limit` 10 by default.
//! Out-of-range values are refused with a clear error, never clamped.

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i64 = 10;

/// The order of a list by its rows' creation or update time, as Authing's v2 `sortBy` names
/// them (`CREATEDAT_DESC`, `CREATEDAT_ASC`, `UPDATEDAT_DESC`, `UPDATEDAT_ASC`): users, members
/// (by the user's times) and organizations are listed so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampOrder {
    #[default]
    CreatedAtDesc,
    CreatedAtAsc,
    UpdatedAtDesc,
    UpdatedAtAsc,
}

impl TimestampOrder {
    pub fn parse(field: &str, value: &str) -> AppResult<Self> {
        match value {
            "CREATEDAT_DESC" => Ok(TimestampOrder::CreatedAtDesc),
            "CREATEDAT_ASC" => Ok(TimestampOrder::CreatedAtAsc),
            "UPDATEDAT_DESC" => Ok(TimestampOrder::UpdatedAtDesc),
            "UPDATEDAT_ASC" => Ok(TimestampOrder::UpdatedAtAsc),
            _ => Err(AppError::invalid(field, format!("{field} must be CREATEDAT_DESC, CREATEDAT_ASC, UPDATEDAT_DESC or UPDATEDAT_ASC"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page {
    pub page: u64,
    pub limit: u64,
}

impl Page {
    /// Validate `page`/`limit` as sent (either may be absent) against `max_limit`.
    pub fn new(page: Option<i64>, limit: Option<i64>, max_limit: u64) -> AppResult<Self> {
        let page = page.unwrap_or(1);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if page < 1 {
            return Err(AppError::invalid("page", format!("page must be 1 or more, got {page}")));
        }
        if limit < 1 || limit as u64 > max_limit {
            return Err(AppError::invalid(
                "limit",
                format!("limit must be between 1 and {max_limit}, got {limit}"),
            ));
        }
        let (page, limit) = (page as u64, limit as u64);
        if (page - 1).checked_mul(limit).is_none_or(|offset| offset > i64::MAX as u64) {
            return Err(AppError::invalid("page", "page is too large"));
        }
        Ok(Page { page, limit })
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.limit
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone)]
pub struct Paginated<T> {
    pub total_count: u64,
    pub list: Vec<T>,
}

/// A keyset window of a list, as Relay's connections ask for it: the first `n` after a position,
/// or the last `n` before one (from the list's start or end when `None`). Costs the same
/// wherever the position is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window<P> {
    First { n: u64, after: Option<P> },
    Last { n: u64, before: Option<P> },
}

impl<P> Window<P> {
    /// From Relay's arguments: `first`/`after` or `last`/`before`, not both directions;
    /// `default` items forward when neither count is given; each count at most `max`.
    pub fn new(first: Option<i64>, after: Option<P>, last: Option<i64>, before: Option<P>, default: u64, max: u64) -> AppResult<Self> {
        let count = |name: &str, n: i64| {
            if n < 0 || n as u64 > max {
                return Err(AppError::invalid(name, format!("{name} must be between 0 and {max}, got {n}")));
            }
            Ok(n as u64)
        };
        match (first, last) {
            (Some(_), Some(_)) => Err(AppError::invalid("last", "give first (with after) or last (with before), not both")),
            (None, Some(n)) => {
                if after.is_some() {
                    return Err(AppError::invalid("after", "after goes with first; with last, give before"));
                }
                Ok(Window::Last { n: count("last", n)?, before })
            }
            (first, None) => {
                if before.is_some() {
                    return Err(AppError::invalid("before", "before goes with last; with first, give after"));
                }
                Ok(Window::First { n: first.map_or(Ok(default.min(max)), |n| count("first", n))?, after })
            }
        }
    }
}

impl<P: Clone> Window<P> {
    /// Read the window as one keyset page of `n + 1` rows (the extra one tells whether the list
    /// goes on): `read(after, ascending, limit)` reads rows after a position in either order;
    /// `ascending` is the list's own order, reversed to read a `last` window.
    pub async fn read<T>(self, ascending: bool, read: impl AsyncFnOnce(Option<P>, bool, u64) -> AppResult<Vec<T>>) -> AppResult<Slice<T>> {
        let (n, from, backward) = match self {
            Window::First { n, after } => (n, after, false),
            Window::Last { n, before } => (n, before, true),
        };
        if n == 0 {
            return Ok(Slice { items: Vec::new(), has_next: false, has_previous: false });
        }
        let given = from.is_some();
        let mut items = read(from, ascending ^ backward, n + 1).await?;
        let more = items.len() as u64 > n;
        items.truncate(n as usize);
        if backward {
            items.reverse();
            return Ok(Slice { items, has_next: given, has_previous: more });
        }
        Ok(Slice { items, has_next: more, has_previous: given })
    }
}

/// The items of a [`Window`], in the list's order, and whether the list goes on either side.
/// (Relay's rule: the side the window came from counts as going on when a position was given.)
#[derive(Debug, Clone)]
pub struct Slice<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    pub has_previous: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_page_1_of_10() {
        assert_eq!(Page::new(None, None, 100).unwrap(), Page { page: 1, limit: 10 });
    }

    #[test]
    fn bad_values_are_refused_not_clamped() {
        for (page, limit) in [(0, 10), (-1, 10), (1, 0), (1, -5), (1, 101)] {
            let err = Page::new(Some(page), Some(limit), 100).unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "page {page} limit {limit}");
        }
        assert!(Page::new(Some(i64::MAX), Some(100), 100).is_err());
    }

    #[test]
    fn a_window_goes_one_way() {
        assert_eq!(Window::<u8>::new(None, None, None, None, 10, 100).unwrap(), Window::First { n: 10, after: None });
        assert_eq!(Window::new(None, None, Some(5), Some(1u8), 10, 100).unwrap(), Window::Last { n: 5, before: Some(1) });
        for (first, after, last, before) in [(Some(1), None, Some(1), None), (None, Some(1u8), Some(1), None), (Some(1), None, None, Some(1)), (Some(101), None, None, None), (Some(-1), None, None, None)] {
            assert_eq!(Window::new(first, after, last, before, 10, 100).unwrap_err().code(), "INVALID_INPUT");
        }
    }

    #[test]
    fn offset_counts_from_page_one() {
        assert_eq!(Page::new(Some(3), Some(20), 100).unwrap().offset(), 40);
    }
}
