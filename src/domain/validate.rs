//! Input rules shared by the services. Each returns the normalised value or an INVALID_INPUT
//! error naming the field.

use crate::error::{AppError, AppResult};

/// Longest value of an ordinary text field, in characters.
pub const MAX_TEXT: usize = 255;
/// Longest value of a long text field (photo URL, user agent, OAuth blob), in characters.
pub const MAX_LONG_TEXT: usize = 8_192;

/// An id chosen by an operator: 1..=64 of `[A-Za-z0-9_-]`.
pub fn identifier(field: &str, value: &str) -> AppResult<()> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(AppError::invalid(field, format!("{field} must be 1 to 64 letters, digits, '-' or '_'"))) }
}

/// A pool secret chosen by an operator must be hard to guess.
pub fn pool_secret(secret: &str) -> AppResult<()> {
    if secret.chars().count() < 16 || secret.len() > 256 {
        return Err(AppError::invalid("secret", "a user pool secret must have 16 to 256 characters"));
    }
    Ok(())
}

/// Trimmed, non-empty, at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    match optional_text(field, value, max)? {
        Some(v) => Ok(v),
        None => Err(AppError::invalid(field, format!("{field} must not be empty"))),
    }
}

/// Trimmed; an empty value means "no value".
pub fn optional_text(field: &str, value: &str, max: usize) -> AppResult<Option<String>> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(AppError::invalid(field, format!("{field} is longer than {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::invalid(field, format!("{field} contains control characters")));
    }
    Ok((!v.is_empty()).then(|| v.to_string()))
}

/// An e-mail address, lower-cased (addresses compare case-insensitively).
pub fn email(value: &str) -> AppResult<Option<String>> {
    let Some(v) = optional_text("email", value, 254)? else { return Ok(None) };
    let mut parts = v.split('@');
    let valid = matches!((parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None) if !local.is_empty() && domain.contains('.')
            && !domain.starts_with('.') && !domain.ends_with('.'))
        && !v.chars().any(char::is_whitespace);
    if !valid {
        return Err(AppError::invalid("email", format!("{v:?} is not an e-mail address")));
    }
    Ok(Some(v.to_lowercase()))
}

/// A phone number: digits with optional `+`, spaces, dashes and parentheses.
pub fn phone(value: &str) -> AppResult<Option<String>> {
    let Some(v) = optional_text("phone", value, 32)? else { return Ok(None) };
    let digits = v.chars().filter(char::is_ascii_digit).count();
    if digits < 3 || !v.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c)) {
        return Err(AppError::invalid("phone", format!("{v:?} is not a phone number")));
    }
    Ok(Some(v))
}

/// An ISO 8601 time; without an offset it is taken as UTC.
pub fn timestamp(field: &str, value: &str) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| Some(t.and_utc()))
        .map_err(|_| AppError::invalid(field, format!("{field} must be an ISO 8601 time, got {v:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email(" Bob@Example.COM ").unwrap().as_deref(), Some("bob@example.com"));
        assert_eq!(email("").unwrap(), None);
        for bad in ["bob", "bob@", "@x.io", "a@b", "a b@c.io", "a@@c.io", "a@c.io."] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+86 188-0000-0000").unwrap().as_deref(), Some("+86 188-0000-0000"));
        assert!(phone("call me").is_err());
        assert!(phone("12").is_err());
    }

    #[test]
    fn text_limits() {
        assert!(optional_text("f", &"x".repeat(MAX_TEXT + 1), MAX_TEXT).is_err());
        assert!(optional_text("f", "a\u{0}b", MAX_TEXT).is_err());
        assert_eq!(optional_text("f", "  ", MAX_TEXT).unwrap(), None);
    }

    #[test]
    fn timestamps() {
        assert!(timestamp("t", "2017-06-07T14:34:08.700Z").unwrap().is_some());
        assert!(timestamp("t", "2017-06-07T14:34:08+04:00").unwrap().is_some());
        assert!(timestamp("t", "2017-06-07T14:34:08.700").unwrap().is_some());
        assert!(timestamp("t", "yesterday").is_err());
    }
}
