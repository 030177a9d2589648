//! Cryptography in one place: hashing of secrets and passwords, the key that decrypts passwords
//! the SDKs encrypt, and access tokens.

pub mod password_box;
pub mod secret_hash;
pub mod secret_seal;
pub mod throttle;
pub mod tokens;
