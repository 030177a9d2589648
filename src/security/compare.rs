//! Comparing a secret a client sent with the configured one without telling, by the time taken,
//! how much of it was right: both are hashed first (so their lengths do not show either) and the
//! digests compared in constant time.

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Whether `given` is `expected`.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    let (given, expected): ([u8; 32], [u8; 32]) = (Sha256::digest(given.as_bytes()).into(), Sha256::digest(expected.as_bytes()).into());
    given[..].ct_eq(&expected[..]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_secret_matches() {
        assert!(secrets_match("s3cret-token", "s3cret-token"));
        assert!(!secrets_match("s3cret-toke", "s3cret-token"));
        assert!(!secrets_match("", "s3cret-token"));
    }
}
