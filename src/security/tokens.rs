//! Management access tokens: HS256 JWTs scoped to one user pool.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

const ISSUER: &str = "orgraph";

/// Most tokens `TokenService` remembers as verified. Only tokens whose signature checked enter,
/// so callers cannot grow it with made-up ones; past the bound it starts over.
const VERIFIED_CAPACITY: usize = 4_096;

/// Seconds a token stays valid past its `exp`: none, it is valid until `exp` has passed.
const EXPIRY_LEEWAY_SECS: i64 = 0;

/// What time it is, in Unix seconds, for issuing and checking tokens: the system clock in the
/// server; tests set their own, to see tokens expire without waiting.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp()
    }
}

/// Whether a token expiring at `exp` has expired at `now`.
fn expired(exp: i64, now: i64) -> bool {
    exp < now.saturating_sub(EXPIRY_LEEWAY_SECS)
}

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
    clock: Arc<dyn Clock>,
    /// Tokens verified before, with their claims: a client sends the same token with every
    /// request, and checking it again (base64, JSON, HMAC) was 5% of a small request's CPU.
    verified: Mutex<HashMap<String, Claims>>,
}

impl TokenService {
    pub const MIN_KEY_BYTES: usize = 32;

    pub fn new(key: &[u8], ttl: Duration) -> AppResult<Self> {
        Self::with_clock(key, ttl, Arc::new(SystemClock))
    }

    /// A service that issues and checks tokens by `clock`.
    pub fn with_clock(key: &[u8], ttl: Duration, clock: Arc<dyn Clock>) -> AppResult<Self> {
        if key.len() < Self::MIN_KEY_BYTES {
            return Err(AppError::invalid(
                "jwt-secret",
                format!("the JWT signing key must be at least {} bytes", Self::MIN_KEY_BYTES),
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // jsonwebtoken would check `exp` against the system clock: `verify` checks it by `clock`.
        validation.validate_exp = false;
        Ok(Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl,
            clock,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub fn issue(&self, pool_id: &str) -> AppResult<IssuedToken> {
        let iat = self.clock.now();
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
        let now = self.clock.now();
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(claims) = verified.get(token) {
            if expired(claims.exp, now) {
                verified.remove(token);
                return Err(AppError::TokenExpired);
            }
            return Ok(claims.clone());
        }
        drop(verified);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => AppError::InvalidToken("bad signature".into()),
                _ => AppError::InvalidToken("malformed token".into()),
            })?;
        if expired(claims.exp, now) {
            return Err(AppError::TokenExpired);
        }
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
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    fn service(ttl: u64) -> TokenService {
        TokenService::new(&[7u8; 32], Duration::from_secs(ttl)).expect("key is long enough")
    }

    /// A clock that shows what the test set, so expiry is tested without waiting.
    struct SetClock(AtomicI64);

    impl SetClock {
        fn at(now: i64) -> Arc<SetClock> {
            Arc::new(SetClock(AtomicI64::new(now)))
        }

        fn advance(&self, secs: i64) {
            self.0.fetch_add(secs, Ordering::SeqCst);
        }
    }

    impl Clock for SetClock {
        fn now(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// A service whose time is `clock`'s; the same key as `service`.
    fn service_at(ttl: u64, clock: &Arc<SetClock>) -> TokenService {
        TokenService::with_clock(&[7u8; 32], Duration::from_secs(ttl), clock.clone()).expect("key is long enough")
    }

    /// 2023-11-14T22:13:20Z: any fixed time will do.
    const T0: i64 = 1_700_000_000;

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
    fn a_token_is_valid_until_its_exp_has_passed_then_expired() {
        let clock = SetClock::at(T0);
        let t = service_at(60, &clock).issue("p").expect("issue");
        assert_eq!((t.iat, t.exp), (T0, T0 + 60), "issued by the clock");
        clock.advance(60);
        // A service that has not seen the token yet: checked from the JWT itself.
        assert!(service_at(60, &clock).verify(&t.token).is_ok(), "still valid at exp");
        clock.advance(1);
        assert!(matches!(service_at(60, &clock).verify(&t.token), Err(AppError::TokenExpired)));
        // A fresh token at that time is valid.
        let fresh = service_at(60, &clock).issue("p").expect("issue");
        assert!(service_at(60, &clock).verify(&fresh.token).is_ok());
    }

    #[test]
    fn remembered_tokens_still_expire_and_others_are_still_checked() {
        let clock = SetClock::at(T0);
        let s = service_at(1, &clock);
        let t = s.issue("p").expect("issue");
        assert!(s.verify(&t.token).is_ok());
        // One character changed in the signature: not the remembered token, so checked and refused.
        let mut forged = t.token.clone();
        let at = forged.len() - 5;
        let other = if &forged[at..at + 1] == "A" { "B" } else { "A" };
        forged.replace_range(at..at + 1, other);
        assert!(matches!(s.verify(&forged), Err(AppError::InvalidToken(_))));
        clock.advance(1);
        assert!(s.verify(&t.token).is_ok(), "remembered, and valid at exp");
        clock.advance(1);
        assert!(matches!(s.verify(&t.token), Err(AppError::TokenExpired)));
        assert!(matches!(s.verify(&t.token), Err(AppError::TokenExpired)), "forgotten once expired, and still expired");
    }

    #[test]
    fn the_clock_alone_decides_expiry() {
        // Long expired by the system clock, valid by the service's: jsonwebtoken's own check
        // (by the system clock) must not be the one that decides.
        let clock = SetClock::at(T0);
        let t = service_at(60, &clock).issue("p").expect("issue");
        assert!(t.exp < SystemClock.now());
        assert!(service_at(60, &clock).verify(&t.token).is_ok());
        // And a token valid by the system clock is expired by a clock past its exp.
        let now = service(60).issue("p").expect("issue");
        let later = SetClock::at(now.exp + 1);
        assert!(matches!(service_at(60, &later).verify(&now.token), Err(AppError::TokenExpired)));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(TokenService::new(b"short", Duration::from_secs(1)).is_err());
    }
}
