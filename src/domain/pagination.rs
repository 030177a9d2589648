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
    fn offset_counts_from_page_one() {
        assert_eq!(Page::new(Some(3), Some(20), 100).unwrap().offset(), 40);
    }
}
