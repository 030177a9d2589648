//! Argon2id hashing for pool secrets and user passwords. Hashing is CPU-heavy, so it runs on the
//! blocking thread pool, never on the async workers.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::{AppError, AppResult};

pub async fn hash(secret: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(secret.as_bytes()))
        .await
        .map_err(AppError::internal)?
}

/// True when `secret` matches the PHC string `hash`. A malformed or absent hash never matches;
/// an absent one is checked against a decoy so that it takes as long as a real check.
pub async fn verify(secret: String, hash: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(decoy_hash);
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .map_err(AppError::internal)
}

fn hash_blocking(secret: &[u8]) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret, &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("argon2 hash: {e}")))
}

/// A valid hash of a random value: checking a secret against it costs what a real check costs,
/// so an unknown pool id answers no faster than a wrong secret.
pub fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| hash_blocking(crate::ids::random_hex(16).as_bytes()).unwrap_or_default())
        .clone()
}
