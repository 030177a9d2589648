//! The matching rules of grants, free of storage: which granted resource strings cover a
//! requested one, and which granted actions cover an action.
//!
//! - A resource is named `code` or `code:instance`. A grant on `*` covers every resource; on
//!   `code` or `code:*`, every instance of that code; on `code:instance`, that one alone.
//! - An action is named `code:verb` (Authing's convention) or anything else. A granted `*`
//!   covers every action; `code:*`, every action of that code.

/// The resource code of a resource string (the part before the first `:`).
pub fn resource_code(resource: &str) -> &str {
    resource.split_once(':').map_or(resource, |(code, _)| code)
}

pub fn resource_covers(granted: &str, requested: &str) -> bool {
    if granted == "*" || granted == requested {
        return true;
    }
    let code = granted.strip_suffix(":*").unwrap_or(granted);
    !granted.contains(':') && resource_code(requested) == granted || granted.ends_with(":*") && resource_code(requested) == code
}

pub fn action_covers(granted: &str, requested: &str) -> bool {
    granted == "*" || granted == requested || granted.strip_suffix(":*").is_some_and(|code| resource_code(requested) == code && requested.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources() {
        assert!(resource_covers("*", "books:1"));
        assert!(resource_covers("books", "books:1"));
        assert!(resource_covers("books", "books"));
        assert!(resource_covers("books:*", "books:1"));
        assert!(resource_covers("books:1", "books:1"));
        assert!(!resource_covers("books:1", "books:2"));
        assert!(!resource_covers("books:*", "bookshelf:1"));
        assert!(!resource_covers("books", "bookshelf"));
    }

    #[test]
    fn actions() {
        assert!(action_covers("*", "books:read"));
        assert!(action_covers("books:*", "books:read"));
        assert!(action_covers("books:read", "books:read"));
        assert!(!action_covers("books:read", "books:write"));
        assert!(!action_covers("books:*", "pens:read"));
    }
}
