//! Management access tokens: HS256 JWTs scoped to one user pool.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

const ISSUER: &str = "orgraph";

/// Most tokens `TokenService` remembers as verified. Only tokens whose signature checked enter,
/// so callers cannot grow it with made-up ones; past the bound it starts over.
const VERIFIED_CAPACITY: usize = 4_096;

/// Claims of a management token. `scoped_userpool_id` is what Authing's v3 SDKs read;
/// `data` mirrors the v2 token payload (`{type: "userpool", id}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub scoped_userpool_id: String,
    pub data: TokenData,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenData {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// A token just issued, with its times as Unix seconds.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// Tokens verified before, with their claims: a client sends the same token with every
    /// request, and checking it again (base64, JSON, HMAC) was 5% of a small request's CPU.
    verified: Mutex<HashMap<String, Claims>>,
}

impl TokenService {
    pub const MIN_KEY_BYTES: usize = 32;

    pub fn new(key: &[u8], ttl: Duration) -> AppResult<Self> {
        if key.len() < Self::MIN_KEY_BYTES {
            return Err(AppError::invalid(
                "jwt-secret",
                format!("the JWT signing key must be at least {} bytes", Self::MIN_KEY_BYTES),
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub fn issue(&self, pool_id: &str) -> AppResult<IssuedToken> {
        let iat = chrono::Utc::now().timestamp();
        let exp = iat + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: pool_id.to_string(),
            scoped_userpool_id: pool_id.to_string(),
            data: TokenData { kind: "userpool".into(), id: pool_id.to_string() },
            iss: ISSUER.into(),
            iat,
            exp,
            jti: crate::ids::new_id(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok(IssuedToken { token, iat, exp })
    }

    /// The claims of a token this server signed and that has not expired.
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        // The same expiry rule as jsonwebtoken's with no leeway: valid until `exp` has passed.
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(claims) = verified.get(token) {
            if claims.exp < now {
                verified.remove(token);
                return Err(AppError::TokenExpired);
            }
            return Ok(claims.clone());
        }
        drop(verified);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AppError::TokenExpired,
                ErrorKind::InvalidSignature => AppError::InvalidToken("bad signature".into()),
                _ => AppError::InvalidToken("malformed token".into()),
            })?;
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(token.to_string(), claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(ttl: u64) -> TokenService {
        TokenService::new(&[7u8; 32], Duration::from_secs(ttl)).expect("key is long enough")
    }

    #[test]
    fn round_trip_keeps_the_pool() {
        let s = service(60);
        let t = s.issue("pool-1").expect("issue");
        let c = s.verify(&t.token).expect("verify");
        assert_eq!(c.scoped_userpool_id, "pool-1");
        assert_eq!(c.exp - c.iat, 60);
    }

    #[test]
    fn other_key_is_rejected() {
        let t = service(60).issue("p").expect("issue");
        let other = TokenService::new(&[8u8; 32], Duration::from_secs(60)).expect("key");
        assert!(matches!(other.verify(&t.token), Err(AppError::InvalidToken(_))));
    }

    #[test]
    fn expired_is_reported_as_such() {
        let t = service(0).issue("p").expect("issue");
        std::thread::sleep(Duration::from_millis(1100));
        assert!(matches!(service(0).verify(&t.token), Err(AppError::TokenExpired)));
    }

    #[test]
    fn remembered_tokens_still_expire_and_others_are_still_checked() {
        let s = service(1);
        let t = s.issue("p").expect("issue");
        assert!(s.verify(&t.token).is_ok());
        // One character changed in the signature: not the remembered token, so checked and refused.
        let mut forged = t.token.clone();
        let at = forged.len() - 5;
        let other = if &forged[at..at + 1] == "A" { "B" } else { "A" };
        forged.replace_range(at..at + 1, other);
        assert!(matches!(s.verify(&forged), Err(AppError::InvalidToken(_))));
        std::thread::sleep(Duration::from_millis(2100));
        assert!(matches!(s.verify(&t.token), Err(AppError::TokenExpired)));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(TokenService::new(b"short", Duration::from_secs(1)).is_err());
    }
}
