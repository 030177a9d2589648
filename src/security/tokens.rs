//! Management access tokens: HS256 JWTs scoped to one user pool.
//!
//! A token belongs to a session that began with a login (the pool's id and secret): refreshing
//! gives a new token of the same session, and no token of a session expires later than its
//! login (`auth_time`) plus the maximum lifetime. A token also carries its pool's token epoch at
//! login; every change of the pool's secret raises the epoch, and a token of an older epoch is
//! refused. The epochs are read from the database without a query per request: the service
//! keeps the pools' epochs it has read and reads them again, all in one query, once they are
//! older than `epoch_recheck`; a change made in this process applies at once.

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

/// Most pools whose epochs `TokenService` keeps (only pools of tokens it verified enter); past the
/// bound it starts over.
pub const EPOCHS_CAPACITY: usize = 4_096;

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

/// Where pools' current token epochs are read: the database, in the server.
#[async_trait::async_trait]
pub trait EpochSource: Send + Sync {
    /// The current token epoch of each of `pools` that exists, read at once.
    async fn epochs(&self, pools: &[String]) -> AppResult<HashMap<String, i64>>;
}

/// Whether a token expiring at `exp` has expired at `now`.
fn expired(exp: i64, now: i64) -> bool {
    exp < now.saturating_sub(EXPIRY_LEEWAY_SECS)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

/// The refusal of a token issued before its pool's secret last changed.
pub fn revoked() -> AppError {
    AppError::InvalidToken("the token was issued before the user pool's secret was changed: get a new one".into())
}

/// The refusal of a token whose pool is gone.
pub fn pool_gone() -> AppError {
    AppError::InvalidToken("the token's user pool no longer exists".into())
}

/// The refusal of a credential an open connection was authenticated with, once its pool's
/// secret changed.
pub fn revoked_while_open() -> AppError {
    AppError::InvalidToken("the user pool's secret was changed: connect again with a new credential".into())
}

/// What a long-lived connection (a subscription, the event socket) was authenticated with: a
/// pool, and the pool's token epoch its credential belongs to. A token carries its epoch; a
/// signature made with the secret belongs to the epoch of the secret it matched. Every secret
/// change raises the epoch, so one rule re-checks both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub pool: String,
    pub epoch: i64,
}

enum Standing {
    Current,
    Revoked,
    PoolGone,
}

impl From<&Claims> for Credential {
    fn from(claims: &Claims) -> Self {
        Credential { pool: claims.scoped_userpool_id.clone(), epoch: claims.token_epoch }
    }
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
    /// When the session began: the login with the pool's secret, kept by refreshes. Tokens
    /// issued before orgraph kept it have none: their `iat` stands for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The pool's token epoch at login (0 in tokens issued before orgraph kept one).
    #[serde(default)]
    pub token_epoch: i64,
}

impl Claims {
    /// When the session of this token began.
    pub fn session_start(&self) -> i64 {
        self.auth_time.unwrap_or(self.iat)
    }
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

/// How long tokens live, and how long the service trusts the epochs it read.
#[derive(Debug, Clone, Copy)]
pub struct TokenSettings {
    /// Lifetime of one token.
    pub ttl: Duration,
    /// Longest a session lasts from its login, refreshes included.
    pub max_lifetime: Duration,
    /// Longest the service goes on using the pools' epochs it read before reading them again:
    /// how long a token issued before a secret change made by another process (the command line,
    /// another instance) can still be accepted.
    pub epoch_recheck: Duration,
}

/// Pools' current epochs as this service knows them.
struct Epochs {
    known: HashMap<String, i64>,
    /// When `known` was last read whole, by the service's clock.
    read_at: i64,
}

impl Epochs {
    /// Epochs only grow: keep the larger of what was known and what is learned.
    fn learn(&mut self, pool: String, epoch: i64) {
        let entry = self.known.entry(pool).or_insert(epoch);
        *entry = (*entry).max(epoch);
    }
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    settings: TokenSettings,
    clock: Arc<dyn Clock>,
    /// Tokens verified before, with their claims: a client sends the same token with every
    /// request, and checking it again (base64, JSON, HMAC) was 5% of a small request's CPU.
    verified: Mutex<HashMap<String, Claims>>,
    source: Arc<dyn EpochSource>,
    epochs: Mutex<Epochs>,
    /// One read of the epochs at a time: requests that need one wait for it, then use it.
    reading: tokio::sync::Mutex<()>,
}

impl TokenService {
    pub const MIN_KEY_BYTES: usize = 32;

    pub fn new(key: &[u8], settings: TokenSettings, source: Arc<dyn EpochSource>) -> AppResult<Self> {
        Self::with_clock(key, settings, source, Arc::new(SystemClock))
    }

    /// A service that issues and checks tokens by `clock`.
    pub fn with_clock(key: &[u8], settings: TokenSettings, source: Arc<dyn EpochSource>, clock: Arc<dyn Clock>) -> AppResult<Self> {
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
            settings,
            clock,
            verified: Mutex::new(HashMap::new()),
            source,
            epochs: Mutex::new(Epochs { known: HashMap::new(), read_at: i64::MIN }),
            reading: tokio::sync::Mutex::new(()),
        })
    }

    /// The first token of a session: a login to `pool_id`, whose token epoch is `epoch`.
    pub fn issue(&self, pool_id: &str, epoch: i64) -> AppResult<IssuedToken> {
        self.sign(pool_id, epoch, self.clock.now())
    }

    /// A new token of the session of `claims` (verified): it expires after the TTL, but never
    /// later than the session's maximum lifetime; a session past it is refused as expired.
    pub fn refresh(&self, claims: &Claims) -> AppResult<IssuedToken> {
        self.sign(&claims.scoped_userpool_id, claims.token_epoch, claims.session_start())
    }

    fn sign(&self, pool_id: &str, epoch: i64, auth_time: i64) -> AppResult<IssuedToken> {
        let iat = self.clock.now();
        let end = auth_time.saturating_add(secs(self.settings.max_lifetime));
        let exp = iat.saturating_add(secs(self.settings.ttl)).min(end);
        if expired(exp, iat) {
            return Err(AppError::TokenExpired);
        }
        let claims = Claims {
            sub: pool_id.to_string(),
            scoped_userpool_id: pool_id.to_string(),
            data: TokenData { kind: "userpool".into(), id: pool_id.to_string() },
            iss: ISSUER.into(),
            iat,
            exp,
            jti: crate::ids::new_id(),
            auth_time: Some(auth_time),
            token_epoch: epoch,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok(IssuedToken { token, iat, exp })
    }

    /// The claims of a token this server signed, that has not expired and whose pool's secret
    /// has not changed since it was issued.
    pub async fn verify(&self, token: &str) -> AppResult<Claims> {
        let claims = self.signed(token)?;
        self.check_epoch(&claims).await?;
        Ok(claims)
    }

    /// A secret change of `pool` made its epoch `epoch`: its older tokens are refused from now on.
    pub fn note_epoch(&self, pool: &str, epoch: i64) {
        self.epochs.lock().unwrap_or_else(PoisonError::into_inner).learn(pool.to_string(), epoch);
    }

    /// The claims of a token this server signed and that has not expired.
    fn signed(&self, token: &str) -> AppResult<Claims> {
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

    async fn check_epoch(&self, claims: &Claims) -> AppResult<()> {
        match self.standing(&claims.scoped_userpool_id, claims.token_epoch).await? {
            Standing::Current => Ok(()),
            Standing::Revoked => Err(revoked()),
            Standing::PoolGone => Err(pool_gone()),
        }
    }

    /// Whether `credential` still stands: its pool exists and its secret has not changed since.
    /// Expiry is not this rule's: a connection authenticated once stays open past its token's
    /// `exp`; only a revocation ends it.
    pub async fn still_current(&self, credential: &Credential) -> AppResult<()> {
        match self.standing(&credential.pool, credential.epoch).await? {
            Standing::Current => Ok(()),
            Standing::Revoked => Err(revoked_while_open()),
            Standing::PoolGone => Err(pool_gone()),
        }
    }

    /// The one rule: a credential of `pool` at `epoch` stands while the pool's epoch is not newer.
    async fn standing(&self, pool: &str, epoch: i64) -> AppResult<Standing> {
        let current = match self.fresh_epoch(pool) {
            Some(epoch) => Some(epoch),
            None => self.read_epoch(pool).await?,
        };
        Ok(match current {
            None => Standing::PoolGone,
            Some(current) if epoch < current => Standing::Revoked,
            Some(current) => {
                // A token of a newer epoch (issued by another instance after a change this one
                // has not read yet) proves the change: older tokens are refused at once.
                if epoch > current {
                    self.note_epoch(pool, epoch);
                }
                Standing::Current
            }
        })
    }

    /// Resolves once `credential`, which an open connection was authenticated with, has been
    /// revoked: with why. It checks every `epoch_recheck` (one timer; no query while the epochs
    /// read are fresh); a failed read is logged and checked again at the next tick.
    pub async fn revocation(&self, credential: &Credential) -> AppError {
        let period = self.settings.epoch_recheck.max(Duration::from_secs(1));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.still_current(credential).await {
                Ok(()) => {}
                Err(why @ AppError::InvalidToken(_)) => return why,
                Err(other) => other.log_if_internal(),
            }
        }
    }

    /// The pool's epoch, when known and read less than `epoch_recheck` ago.
    fn fresh_epoch(&self, pool: &str) -> Option<i64> {
        let now = self.clock.now();
        let epochs = self.epochs.lock().unwrap_or_else(PoisonError::into_inner);
        (now.saturating_sub(epochs.read_at) < secs(self.settings.epoch_recheck)).then(|| epochs.known.get(pool).copied()).flatten()
    }

    /// Read the pool's epoch; when the known ones are stale, read them all again with it (one
    /// query). `None` when the pool does not exist.
    async fn read_epoch(&self, pool: &str) -> AppResult<Option<i64>> {
        let _turn = self.reading.lock().await;
        if let Some(epoch) = self.fresh_epoch(pool) {
            return Ok(Some(epoch));
        }
        let now = self.clock.now();
        let (whole, mut ids) = {
            let epochs = self.epochs.lock().unwrap_or_else(PoisonError::into_inner);
            let stale = now.saturating_sub(epochs.read_at) >= secs(self.settings.epoch_recheck);
            (stale, if stale { epochs.known.keys().cloned().collect() } else { Vec::new() })
        };
        if !ids.iter().any(|id| id == pool) {
            ids.push(pool.to_string());
        }
        let read = self.source.epochs(&ids).await?;
        let mut epochs = self.epochs.lock().unwrap_or_else(PoisonError::into_inner);
        if whole {
            let learned = std::mem::replace(&mut epochs.known, read);
            // A change noted while reading is kept (epochs only grow); a pool gone is forgotten.
            for (id, epoch) in learned {
                if let Some(read) = epochs.known.get_mut(&id) {
                    *read = (*read).max(epoch);
                }
            }
            epochs.read_at = now;
        } else {
            for (id, epoch) in read {
                epochs.learn(id, epoch);
            }
        }
        let current = epochs.known.get(pool).copied();
        if epochs.known.len() > EPOCHS_CAPACITY {
            epochs.known.retain(|id, _| id == pool);
        }
        Ok(current)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    use super::*;

    /// Pools' epochs as a database would hold them, counting the reads.
    #[derive(Default)]
    struct Stored {
        epochs: Mutex<HashMap<String, i64>>,
        reads: AtomicUsize,
    }

    impl Stored {
        fn with(pools: &[(&str, i64)]) -> Arc<Stored> {
            let s = Stored::default();
            s.epochs.lock().unwrap().extend(pools.iter().map(|(p, e)| (p.to_string(), *e)));
            Arc::new(s)
        }

        fn set(&self, pool: &str, epoch: i64) {
            self.epochs.lock().unwrap().insert(pool.to_string(), epoch);
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    #[async_trait::async_trait]
    impl EpochSource for Stored {
        async fn epochs(&self, pools: &[String]) -> AppResult<HashMap<String, i64>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let all = self.epochs.lock().unwrap();
            Ok(pools.iter().filter_map(|p| all.get(p).map(|e| (p.clone(), *e))).collect())
        }
    }

    fn settings(ttl: u64) -> TokenSettings {
        TokenSettings { ttl: Duration::from_secs(ttl), max_lifetime: Duration::from_secs(7 * 86_400), epoch_recheck: Duration::from_secs(5) }
    }

    fn pools() -> Arc<Stored> {
        Stored::with(&[("p", 0), ("pool-1", 0)])
    }

    fn service(ttl: u64) -> TokenService {
        TokenService::new(&[7u8; 32], settings(ttl), pools()).expect("key is long enough")
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
        service_with(settings(ttl), pools(), clock)
    }

    fn service_with(settings: TokenSettings, stored: Arc<Stored>, clock: &Arc<SetClock>) -> TokenService {
        TokenService::with_clock(&[7u8; 32], settings, stored, clock.clone()).expect("key is long enough")
    }

    /// 2023-11-14T22:13:20Z: any fixed time will do.
    const T0: i64 = 1_700_000_000;

    #[tokio::test]
    async fn round_trip_keeps_the_pool() {
        let s = service(60);
        let t = s.issue("pool-1", 0).expect("issue");
        let c = s.verify(&t.token).await.expect("verify");
        assert_eq!(c.scoped_userpool_id, "pool-1");
        assert_eq!(c.exp - c.iat, 60);
        assert_eq!(c.auth_time, Some(c.iat), "a login begins a session");
    }

    #[tokio::test]
    async fn other_key_is_rejected() {
        let t = service(60).issue("p", 0).expect("issue");
        let other = TokenService::new(&[8u8; 32], settings(60), pools()).expect("key");
        assert!(matches!(other.verify(&t.token).await, Err(AppError::InvalidToken(_))));
    }

    #[tokio::test]
    async fn a_token_is_valid_until_its_exp_has_passed_then_expired() {
        let clock = SetClock::at(T0);
        let t = service_at(60, &clock).issue("p", 0).expect("issue");
        assert_eq!((t.iat, t.exp), (T0, T0 + 60), "issued by the clock");
        clock.advance(60);
        // A service that has not seen the token yet: checked from the JWT itself.
        assert!(service_at(60, &clock).verify(&t.token).await.is_ok(), "still valid at exp");
        clock.advance(1);
        assert!(matches!(service_at(60, &clock).verify(&t.token).await, Err(AppError::TokenExpired)));
        // A fresh token at that time is valid.
        let fresh = service_at(60, &clock).issue("p", 0).expect("issue");
        assert!(service_at(60, &clock).verify(&fresh.token).await.is_ok());
    }

    #[tokio::test]
    async fn remembered_tokens_still_expire_and_others_are_still_checked() {
        let clock = SetClock::at(T0);
        let s = service_at(1, &clock);
        let t = s.issue("p", 0).expect("issue");
        assert!(s.verify(&t.token).await.is_ok());
        // One character changed in the signature: not the remembered token, so checked and refused.
        let mut forged = t.token.clone();
        let at = forged.len() - 5;
        let other = if &forged[at..at + 1] == "A" { "B" } else { "A" };
        forged.replace_range(at..at + 1, other);
        assert!(matches!(s.verify(&forged).await, Err(AppError::InvalidToken(_))));
        clock.advance(1);
        assert!(s.verify(&t.token).await.is_ok(), "remembered, and valid at exp");
        clock.advance(1);
        assert!(matches!(s.verify(&t.token).await, Err(AppError::TokenExpired)));
        assert!(matches!(s.verify(&t.token).await, Err(AppError::TokenExpired)), "forgotten once expired, and still expired");
    }

    #[tokio::test]
    async fn the_clock_alone_decides_expiry() {
        // Long expired by the system clock, valid by the service's: jsonwebtoken's own check
        // (by the system clock) must not be the one that decides.
        let clock = SetClock::at(T0);
        let t = service_at(60, &clock).issue("p", 0).expect("issue");
        assert!(t.exp < SystemClock.now());
        assert!(service_at(60, &clock).verify(&t.token).await.is_ok());
        // And a token valid by the system clock is expired by a clock past its exp.
        let now = service(60).issue("p", 0).expect("issue");
        let later = SetClock::at(now.exp + 1);
        assert!(matches!(service_at(60, &later).verify(&now.token).await, Err(AppError::TokenExpired)));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(TokenService::new(b"short", settings(1), pools()).is_err());
    }

    #[tokio::test]
    async fn a_refresh_chain_ends_at_the_maximum_lifetime_of_the_session() {
        let clock = SetClock::at(T0);
        let limits = TokenSettings { max_lifetime: Duration::from_secs(250), ..settings(100) };
        let s = service_with(limits, pools(), &clock);
        let first = s.issue("p", 0).expect("login");
        assert_eq!(first.exp, T0 + 100);
        let mut token = first.token;
        let mut exps = Vec::new();
        // Refreshing every 60 s: each token lives 100 s, until the session's end at T0 + 250.
        loop {
            clock.advance(60);
            let claims = match s.verify(&token).await {
                Ok(claims) => claims,
                Err(e) => {
                    assert!(matches!(e, AppError::TokenExpired), "{e:?}");
                    break;
                }
            };
            assert_eq!(claims.session_start(), T0, "refreshes keep the login time");
            match s.refresh(&claims) {
                Ok(next) => {
                    assert!(next.exp <= T0 + 250, "never past the maximum lifetime: {}", next.exp - T0);
                    exps.push(next.exp - T0);
                    token = next.token;
                }
                Err(e) => {
                    assert!(matches!(e, AppError::TokenExpired), "{e:?}");
                    break;
                }
            }
        }
        assert_eq!(exps, vec![160, 220, 250, 250], "the last tokens stop at the session's end");
        assert!(clock.now() > T0 + 250, "refused only once the session has ended");
        // Even a token still valid cannot be refreshed past the end: a session that began
        // long ago (the maximum lowered since) gets no new token.
        let old = TokenService::with_clock(&[7u8; 32], settings(10_000), pools(), SetClock::at(T0)).expect("key");
        let claims = s.signed(&old.issue("p", 0).expect("issue").token).expect("signed");
        assert!(matches!(s.refresh(&claims), Err(AppError::TokenExpired)));
    }

    #[tokio::test]
    async fn a_secret_change_refuses_older_tokens_without_a_read_per_request() {
        let clock = SetClock::at(T0);
        let stored = Stored::with(&[("p", 3), ("q", 0)]);
        let s = service_with(settings(3_600), stored.clone(), &clock);
        let old = s.issue("p", 3).expect("issue").token;
        let other_pool = s.issue("q", 0).expect("issue").token;
        for _ in 0..100 {
            s.verify(&old).await.expect("valid");
            s.verify(&other_pool).await.expect("valid");
        }
        assert_eq!(stored.reads(), 2, "one read per pool first seen, none per request");

        // Another process changes p's secret: refused once the epochs are read again.
        stored.set("p", 4);
        clock.advance(4);
        s.verify(&old).await.expect("still trusted: read less than epoch_recheck ago");
        clock.advance(1);
        assert!(matches!(s.verify(&old).await, Err(AppError::InvalidToken(m)) if m.contains("secret was changed")));
        assert_eq!(stored.reads(), 3, "both pools read again in one read");
        s.verify(&other_pool).await.expect("the other pool's token is unaffected");
        assert_eq!(stored.reads(), 3);
        let new = s.issue("p", 4).expect("issue").token;
        s.verify(&new).await.expect("a token of the new epoch");

        // A change in this process applies at once.
        s.note_epoch("p", 5);
        assert!(s.verify(&new).await.is_err());

        // A token of a newer epoch than known (issued by another instance) is accepted, and
        // refuses the older ones at once.
        stored.set("q", 1);
        let newer = s.issue("q", 1).expect("issue").token;
        s.verify(&newer).await.expect("newer than known");
        assert!(s.verify(&other_pool).await.is_err(), "older than a token seen");

        // A pool that no longer exists.
        let ghost = s.issue("ghost", 0).expect("issue").token;
        assert!(matches!(s.verify(&ghost).await, Err(AppError::InvalidToken(m)) if m.contains("no longer exists")));
    }

    #[tokio::test]
    async fn tokens_without_the_new_claims_are_read_as_a_login_at_epoch_zero() {
        let clock = SetClock::at(T0);
        let s = service_at(60, &clock);
        let legacy = serde_json::json!({ "sub": "p", "scoped_userpool_id": "p", "data": { "type": "userpool", "id": "p" },
            "iss": ISSUER, "iat": T0, "exp": T0 + 60, "jti": "x" });
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &legacy, &EncodingKey::from_secret(&[7u8; 32])).expect("encode");
        let claims = s.verify(&token).await.expect("valid at epoch 0");
        assert_eq!((claims.session_start(), claims.token_epoch), (T0, 0));
    }

    #[tokio::test]
    async fn an_open_connection_outlives_its_tokens_expiry_but_not_a_secret_change() {
        let clock = SetClock::at(T0);
        let recheck = TokenSettings { epoch_recheck: Duration::from_secs(1), ..settings(60) };
        let s = service_with(recheck, Stored::with(&[("p", 2)]), &clock);
        let token = s.issue("p", 2).expect("issue").token;
        let credential = Credential::from(&s.verify(&token).await.expect("valid"));
        clock.advance(120);
        assert!(matches!(s.verify(&token).await, Err(AppError::TokenExpired)));
        s.still_current(&credential).await.expect("expiry does not end an open connection");

        s.note_epoch("p", 3);
        assert!(matches!(s.still_current(&credential).await, Err(AppError::InvalidToken(m)) if m.contains("secret was changed")));
        let why = tokio::time::timeout(Duration::from_secs(10), s.revocation(&credential)).await.expect("within a check period");
        assert!(matches!(why, AppError::InvalidToken(_)));
        let gone = Credential { pool: "gone".into(), epoch: 0 };
        assert!(matches!(s.still_current(&gone).await, Err(AppError::InvalidToken(m)) if m.contains("no longer exists")));
    }
}
