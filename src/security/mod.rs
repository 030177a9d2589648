//! Cryptography in one place: hashing of secrets and passwords, the key that decrypts passwords
//! the SDKs encrypt, access tokens, and comparing a configured secret in constant time.

pub mod compare;
pub mod password_box;
pub mod secret_hash;
pub mod secret_seal;
pub mod throttle;
pub mod tokens;
