//! Rate limits on credential checks, per client address and per user pool id: what is limited is
//! failures. Each key has a budget of `FAILURE_COST` units per allowed failure a minute, refilled
//! continuously (a GCRA: one time per key).
//!
//! - A secret check (`accessToken`, `get-management-token`: Argon2, some milliseconds of CPU)
//!   takes one unit before its hashing and a failed one `FAILURE_COST` − 1 more after, so a
//!   budget of N failures a minute also allows 10·N successful checks, and a spent budget
//!   refuses before any hashing is done.
//! - A signature check (a v3 request signed with the secret: an HMAC, microseconds) takes
//!   nothing when it succeeds, so a client may sign as many requests as it likes; a failed one
//!   takes `FAILURE_COST` units, and once the budget cannot pay for another failure every signed
//!   attempt of that address or pool is refused before it is checked, right or wrong (else a
//!   guess that happens to be right would show through the refusals).

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use crate::error::{AppError, AppResult};

/// Units a failed check costs in all; a successful secret check costs 1.
pub const FAILURE_COST: u32 = 10;
/// Keys kept before idle ones are dropped.
const MAX_KEYS: usize = 100_000;

/// Budgets of one kind of key: for each key, the time at which its budget is whole again.
struct Budgets<K> {
    /// Time one unit takes to come back.
    unit: Duration,
    /// The whole budget, as time: `unit` × units.
    whole: Duration,
    full_at: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Budgets<K> {
    fn per_minute(failures: u32) -> Self {
        let units = failures.max(1).saturating_mul(FAILURE_COST);
        let unit = Duration::from_secs(60) / units;
        Budgets { unit, whole: unit * units, full_at: Mutex::new(HashMap::new()) }
    }

    /// Spend `n` units when the key has them; else refused, with how long until it would.
    fn take(&self, key: &K, n: u32, now: Instant) -> AppResult<()> {
        let mut full_at = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let then = self.after(full_at.get(key), n, now);
        let debt = then.saturating_duration_since(now);
        if debt > self.whole {
            return Err(refused(debt - self.whole));
        }
        Self::tidy(&mut full_at, now);
        full_at.insert(key.clone(), then);
        Ok(())
    }

    /// Refused when the key has not `n` units left; nothing is spent.
    fn peek(&self, key: &K, n: u32, now: Instant) -> AppResult<()> {
        let full_at = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let debt = self.after(full_at.get(key), n, now).saturating_duration_since(now);
        if debt > self.whole { Err(refused(debt - self.whole)) } else { Ok(()) }
    }

    /// Spend `n` units whether or not they are left (a failure has happened); at most the whole
    /// budget is owed, so a key is refused for at most a minute after its last failure.
    fn spend(&self, key: &K, n: u32, now: Instant) {
        let mut full_at = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let then = self.after(full_at.get(key), n, now).min(now + self.whole);
        Self::tidy(&mut full_at, now);
        full_at.insert(key.clone(), then);
    }

    /// When the budget would be whole again after spending `n` more units at `now`.
    fn after(&self, full_at: Option<&Instant>, n: u32, now: Instant) -> Instant {
        full_at.copied().unwrap_or(now).max(now) + self.unit * n
    }

    /// Past the bound, forget the keys whose budget is whole again (as good as unknown); if
    /// most are still owing (a flood of addresses), forget them all: memory stays bounded, and
    /// each pass over the keys frees at least half of them.
    fn tidy(full_at: &mut HashMap<K, Instant>, now: Instant) {
        if full_at.len() >= MAX_KEYS {
            full_at.retain(|_, at| *at > now);
            if full_at.len() > MAX_KEYS / 2 {
                full_at.clear();
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.full_at.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

pub struct CredentialThrottle {
    by_address: Budgets<IpAddr>,
    by_pool: Budgets<String>,
}

impl CredentialThrottle {
    pub fn new(failures_per_minute_per_address: u32, failures_per_minute_per_pool: u32) -> Self {
        CredentialThrottle {
            by_address: Budgets::per_minute(failures_per_minute_per_address),
            by_pool: Budgets::per_minute(failures_per_minute_per_pool),
        }
    }

    /// Take one unit for a secret check about to run; refused when the address or the pool has
    /// spent its budget. `pool` is given only for pools that exist, so made-up ids grow no state.
    pub fn before_check(&self, address: Option<IpAddr>, pool: Option<&str>) -> AppResult<()> {
        let now = Instant::now();
        let address = address.map(network);
        if let Some(addr) = &address {
            self.by_address.peek(addr, 1, now)?;
        }
        if let Some(pool) = pool {
            self.by_pool.peek(&pool.to_string(), 1, now)?;
        }
        // Both have a unit: take them (a race may overdraw by one, which is harmless).
        if let Some(addr) = &address {
            self.by_address.take(addr, 1, now)?;
        }
        if let Some(pool) = pool {
            self.by_pool.take(&pool.to_string(), 1, now)?;
        }
        Ok(())
    }

    /// A secret check failed: take the rest of its cost (refusals show at the next check).
    pub fn after_failure(&self, address: Option<IpAddr>, pool: Option<&str>) {
        self.spend(address, pool, FAILURE_COST - 1);
    }

    /// Before a signature check: refused when the address or the pool could not afford one more
    /// failure (so N failures a minute, exactly). Nothing is taken: a signature check is cheap,
    /// only its failures count.
    pub fn before_signature_check(&self, address: Option<IpAddr>, pool: Option<&str>) -> AppResult<()> {
        let now = Instant::now();
        if let Some(addr) = address.map(network) {
            self.by_address.peek(&addr, FAILURE_COST, now)?;
        }
        if let Some(pool) = pool {
            self.by_pool.peek(&pool.to_string(), FAILURE_COST, now)?;
        }
        Ok(())
    }

    /// A signature check failed: it costs what a failed secret check costs.
    pub fn after_signature_failure(&self, address: Option<IpAddr>, pool: Option<&str>) {
        self.spend(address, pool, FAILURE_COST);
    }

    fn spend(&self, address: Option<IpAddr>, pool: Option<&str>, units: u32) {
        let now = Instant::now();
        if let Some(addr) = address.map(network) {
            self.by_address.spend(&addr, units, now);
        }
        if let Some(pool) = pool {
            self.by_pool.spend(&pool.to_string(), units, now);
        }
    }
}

/// IPv6 clients usually hold a whole /64: count them as one.
fn network(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
        v4 => v4,
    }
}

fn refused(wait: Duration) -> AppError {
    AppError::RateLimited { retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("an address"))
    }

    #[test]
    fn failures_spend_the_budget_successes_barely() {
        let t = CredentialThrottle::new(2, 100);
        let a = ip("198.51.100.7");
        // 2 failures a minute = 20 units: 2 failed checks spend it all.
        for _ in 0..2 {
            t.before_check(a, Some("p")).unwrap();
            t.after_failure(a, Some("p"));
        }
        let err = t.before_check(a, Some("p")).unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED");
        assert!(err.retry_after().unwrap() >= 1);
        // Another address is not affected.
        t.before_check(ip("198.51.100.8"), Some("p")).unwrap();
        // Successful checks cost one unit each: 20 fit in the same budget, not 21.
        let t = CredentialThrottle::new(2, 100);
        for _ in 0..20 {
            t.before_check(a, Some("p")).unwrap();
        }
        assert!(t.before_check(a, Some("p")).is_err());
    }

    #[test]
    fn signatures_spend_nothing_until_they_fail() {
        let t = CredentialThrottle::new(2, 100);
        let a = ip("198.51.100.7");
        for _ in 0..10_000 {
            t.before_signature_check(a, Some("p")).unwrap();
        }
        // Two failures spend the budget: every signed attempt is refused then, and so is a
        // secret check of the same address.
        for _ in 0..2 {
            t.before_signature_check(a, Some("p")).unwrap();
            t.after_signature_failure(a, Some("p"));
        }
        assert_eq!(t.before_signature_check(a, Some("p")).unwrap_err().code(), "RATE_LIMITED");
        assert_eq!(t.before_check(a, Some("p")).unwrap_err().code(), "RATE_LIMITED");
        t.before_signature_check(ip("198.51.100.8"), Some("p")).unwrap();
        // Failed secret checks refuse signatures alike.
        let t = CredentialThrottle::new(2, 100);
        for _ in 0..2 {
            t.before_check(a, None).unwrap();
            t.after_failure(a, None);
        }
        assert!(t.before_signature_check(a, None).is_err());
    }

    #[test]
    fn a_pool_budget_counts_failures_from_every_address() {
        let t = CredentialThrottle::new(100, 3);
        for i in 0..3 {
            let a = ip(&format!("198.51.100.{i}"));
            t.before_signature_check(a, Some("p")).unwrap();
            t.after_signature_failure(a, Some("p"));
        }
        let err = t.before_signature_check(ip("198.51.100.9"), Some("p")).unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED");
        t.before_signature_check(ip("198.51.100.9"), Some("q")).unwrap();
    }

    #[test]
    fn a_key_owes_at_most_a_minute_and_comes_back() {
        let b: Budgets<u8> = Budgets::per_minute(1);
        let now = Instant::now();
        for _ in 0..100 {
            b.spend(&1, FAILURE_COST, now);
        }
        let Err(AppError::RateLimited { retry_after_secs }) = b.peek(&1, 1, now) else { panic!("refused") };
        assert!(retry_after_secs <= 60, "{retry_after_secs}");
        assert!(b.peek(&1, 1, now + Duration::from_secs(6)).is_ok(), "one unit back after a tenth of the minute");
        assert!(b.peek(&1, 1, now + Duration::from_secs(5)).is_err());
    }

    #[test]
    fn keys_are_bounded() {
        let b: Budgets<u32> = Budgets::per_minute(1);
        let now = Instant::now();
        for k in 0..(MAX_KEYS as u32 - 1) {
            b.take(&k, 1, now).unwrap();
        }
        // A minute later those are whole again: dropped when the bound is reached.
        let later = now + Duration::from_secs(61);
        b.take(&u32::MAX, 1, later).unwrap();
        b.take(&(u32::MAX - 1), 1, later).unwrap();
        assert_eq!(b.len(), 2);
        // Keys that all still owe: the bound holds too.
        for k in 0..(2 * MAX_KEYS as u32) {
            b.spend(&k, 1, later);
            assert!(b.len() <= MAX_KEYS);
        }
    }

    #[test]
    fn an_ipv6_network_counts_once() {
        assert_eq!(network("2001:db8::1".parse().unwrap()), network("2001:db8::2".parse().unwrap()));
        assert_ne!(network("2001:db8:0:1::1".parse().unwrap()), network("2001:db8::1".parse().unwrap()));
    }
}
