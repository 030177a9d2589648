//! The RSA key the SDKs encrypt passwords with. authing-js-sdk fetches the public key from
//! `GET /api/v2/.well-known` and sends `base64(RSA-PKCS#1 v1.5(password))` (JSEncrypt); the
//! playground may send the password in plain text. Both are accepted.

use base64::Engine as _;
use rsa::{
    Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding},
};

use crate::error::{AppError, AppResult};

pub struct PasswordBox {
    private: RsaPrivateKey,
    public_pem: String,
}

impl PasswordBox {
    pub const KEY_BITS: usize = 2048;

    pub fn generate_pem() -> AppResult<String> {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, Self::KEY_BITS).map_err(AppError::internal)?;
        Ok(key.to_pkcs8_pem(LineEnding::LF).map_err(AppError::internal)?.to_string())
    }

    pub fn from_pem(pem: &str) -> AppResult<Self> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem).map_err(AppError::internal)?;
        let public_pem = RsaPublicKey::from(&private)
            .to_public_key_pem(LineEnding::LF)
            .map_err(AppError::internal)?;
        Ok(Self { private, public_pem })
    }

    /// SPKI PEM of the public key, as JSEncrypt reads it.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The password in clear: decrypted when it is a ciphertext of our key, else taken as sent.
    /// Whether decryption failed is never reported, so this offers no padding oracle.
    pub fn open(&self, sent: &str) -> String {
        let ciphertext_len = Self::KEY_BITS / 8;
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(sent.trim())
            && bytes.len() == ciphertext_len
            && let Ok(clear) = self.private.decrypt(Pkcs1v15Encrypt, &bytes)
            && let Ok(text) = String::from_utf8(clear)
        {
            return text;
        }
        sent.to_string()
    }
}
