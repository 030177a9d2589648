//! Identifiers and generated secrets.

use rand::RngCore;

/// UUIDv7 in 32 hex digits: ids sort by creation time, so they also serve as tie-breakers.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// `bytes` random bytes from the OS generator, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A pool secret: 128 random bits, 32 hex digits (the shape of Authing pool secrets).
pub fn new_secret() -> String {
    random_hex(16)
}
