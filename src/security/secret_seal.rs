//! Pool secrets sealed at rest. The v3 SDKs prove they know a pool's secret with an HMAC-SHA1 of
//! the request (or of `"websocket\n"`), which only the secret itself can check; the Argon2 hash
//! stays the check for plain secrets (`accessToken`, `get-management-token`). The secret is sealed
//! with AES-256-GCM under a server key kept in the database (`server_key`), so a copy of the
//! `user_pool` table alone does not reveal it.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::error::{AppError, AppResult};

/// Version prefix of a sealed value, so the scheme can change later.
const PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct SecretSeal {
    cipher: Aes256Gcm,
}

impl SecretSeal {
    /// A new random key, as stored (base64 of 32 bytes).
    pub fn generate_key() -> String {
        STANDARD.encode(Aes256Gcm::generate_key(OsRng))
    }

    pub fn from_stored_key(stored: &str) -> AppResult<Self> {
        let bytes = STANDARD.decode(stored.trim()).map_err(AppError::internal)?;
        if bytes.len() != 32 {
            return Err(AppError::internal(anyhow::anyhow!("the secret seal key must be 32 bytes")));
        }
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| AppError::internal(anyhow::anyhow!("the secret seal key must be 32 bytes")))?;
        Ok(Self { cipher })
    }

    pub fn seal(&self, secret: &str) -> AppResult<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, secret.as_bytes()).map_err(|_| AppError::internal(anyhow::anyhow!("sealing failed")))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> AppResult<String> {
        let broken = || AppError::internal(anyhow::anyhow!("a sealed pool secret does not open with this server's key"));
        let bytes = sealed.strip_prefix(PREFIX).and_then(|b| STANDARD.decode(b).ok()).ok_or_else(broken)?;
        if bytes.len() < 12 {
            return Err(broken());
        }
        let (nonce, data) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| broken())?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), data).map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }
}

/// Whether `signature` (base64) is the HMAC-SHA1 of `message` under `secret`; compared in
/// constant time.
pub fn hmac_sha1_matches(secret: &str, message: &str, signature: &str) -> bool {
    let Ok(expected) = STANDARD.decode(signature.trim()) else { return false };
    // HMAC takes keys of any length.
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(message.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let seal = SecretSeal::from_stored_key(&SecretSeal::generate_key()).expect("key");
        let sealed = seal.seal("s3cret").expect("seal");
        assert_ne!(sealed, seal.seal("s3cret").expect("seal"), "a fresh nonce each time");
        assert_eq!(seal.open(&sealed).expect("open"), "s3cret");
        let other = SecretSeal::from_stored_key(&SecretSeal::generate_key()).expect("key");
        assert!(other.open(&sealed).is_err());
        assert!(seal.open("v1:AAAA").is_err());
    }

    #[test]
    fn checks_the_sdks_websocket_header() {
        // The Python and Node SDKs send this for AK "AK", SK "SK" (captured on the wire).
        assert!(hmac_sha1_matches("SK", "websocket\n", "zZwj0JJ1+QXFdfL4VWfx1nlSm2M="));
        assert!(!hmac_sha1_matches("SK2", "websocket\n", "zZwj0JJ1+QXFdfL4VWfx1nlSm2M="));
        assert!(!hmac_sha1_matches("SK", "websocket\n", "not base64!"));
    }
}
