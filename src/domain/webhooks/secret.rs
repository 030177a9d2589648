//! A webhook's secret and the HMAC key it stands for, as Standard Webhooks' libraries decode it:
//! `whsec_` + base64 is the key's bytes; any other secret (Authing's style) is its own bytes. The
//! rules a secret must follow are the domain's; signing with the key is `delivery::sign`'s.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use rand::RngCore;

/// The prefix of a secret in the spec's serialization.
pub const PREFIX: &str = "whsec_";
/// Key sizes the spec allows: at least 24 bytes (192 bits), at most 512 bits.
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// The size of generated keys: as long as the SHA-256 output.
const GENERATED_BYTES: usize = 32;

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; GENERATED_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The key of a `whsec_` secret, or why it is not one every official library reads alike:
/// standard base64 with its padding (the Rust crate refuses it unpadded, the Python one skips
/// characters outside the alphabet) of 24 to 64 bytes. `None` for a secret without the prefix.
pub fn whsec_key(secret: &str) -> Option<Result<Vec<u8>, String>> {
    let encoded = secret.strip_prefix(PREFIX)?;
    Some(match STANDARD.decode(encoded) {
        Err(e) => Err(format!("a {PREFIX} secret is {PREFIX} + standard base64 (with padding) of the key: {e}")),
        Ok(key) if !KEY_BYTES.contains(&key.len()) => Err(format!(
            "a {PREFIX} secret's key is {} to {} bytes, this one decodes to {}",
            KEY_BYTES.start(),
            KEY_BYTES.end(),
            key.len()
        )),
        Ok(key) => Ok(key),
    })
}

/// The HMAC key of a stored secret. Stored `whsec_` secrets were checked by `whsec_key`; one that
/// does not decode predates that check and keeps being used as its own bytes, as it was then.
pub fn signing_key(secret: &str) -> Vec<u8> {
    match whsec_key(secret) {
        Some(Ok(key)) => key,
        _ => secret.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_secret_is_its_own_bytes() {
        assert_eq!(signing_key("s3cret"), b"s3cret");
        assert!(whsec_key("s3cret").is_none());
        // What a receiver hands the libraries for a plain secret: whsec_ + base64 of its bytes.
        let reencoded = format!("{PREFIX}{}", STANDARD.encode("a-plain-secret-of-24-bytes"));
        assert_eq!(signing_key(&reencoded), b"a-plain-secret-of-24-bytes");
    }

    #[test]
    fn generated_secrets_are_whsec_of_32_random_bytes() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a, b);
        for s in [&a, &b] {
            assert_eq!(whsec_key(s).expect("prefixed").expect("valid").len(), 32);
        }
    }

    #[test]
    fn whsec_secrets_must_decode_to_24_to_64_bytes() {
        let of = |n: usize| format!("{PREFIX}{}", STANDARD.encode(vec![7u8; n]));
        for bad in [of(23), of(65), PREFIX.to_string(), format!("{PREFIX}not base64!"), format!("{PREFIX}MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS")] {
            assert!(whsec_key(&bad).expect("prefixed").is_err(), "{bad}");
            // Such a row can only predate the check: it keeps signing as its own bytes.
            assert_eq!(signing_key(&bad), bad.as_bytes());
        }
        for good in [of(24), of(32), of(64)] {
            assert!(whsec_key(&good).expect("prefixed").is_ok(), "{good}");
        }
        // Unpadded base64 is refused: the Rust crate would not read it.
        let unpadded = of(32).trim_end_matches('=').to_string();
        assert!(whsec_key(&unpadded).expect("prefixed").is_err());
    }
}
