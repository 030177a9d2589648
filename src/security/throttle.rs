//! Rate limits on credential checks (`accessToken`, `get-management-token`), per client address
//! and per user pool id, with `governor`'s GCRA. Every check takes one unit before its Argon2
//! work and a failed one [`FAILURE_COST`] − 1 more after, so a budget of N failures a minute also
//! allows 10·N successful checks: failures are what is limited, and a spent budget refuses
//! before any hashing is done.

use std::{
    net::IpAddr,
    num::NonZeroU32,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::{Clock, DefaultClock}};

use crate::error::{AppError, AppResult};

/// Units a failed check costs in all; a successful one costs 1.
pub const FAILURE_COST: u32 = 10;
/// Keys kept before idle ones are dropped.
const MAX_KEYS: usize = 100_000;

pub struct CredentialThrottle {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_pool: DefaultKeyedRateLimiter<String>,
}

impl CredentialThrottle {
    pub fn new(failures_per_minute_per_address: u32, failures_per_minute_per_pool: u32) -> Self {
        let quota = |failures: u32| {
            let units = NonZeroU32::new(failures.max(1).saturating_mul(FAILURE_COST)).unwrap_or(NonZeroU32::MIN);
            Quota::per_minute(units).allow_burst(units)
        };
        CredentialThrottle {
            by_address: RateLimiter::keyed(quota(failures_per_minute_per_address)),
            by_pool: RateLimiter::keyed(quota(failures_per_minute_per_pool)),
        }
    }

    /// Take one unit for a check about to run; refused when the address or the pool has spent
    /// its budget. `pool` is given only for pools that exist, so made-up ids grow no state.
    pub fn before_check(&self, address: Option<IpAddr>, pool: Option<&str>) -> AppResult<()> {
        self.tidy();
        if let Some(addr) = address.map(network) {
            self.by_address.check_key(&addr).map_err(refused)?;
        }
        if let Some(pool) = pool {
            self.by_pool.check_key(&pool.to_string()).map_err(refused)?;
        }
        Ok(())
    }

    /// A check failed: take the rest of its cost (refusals show at the next check).
    pub fn after_failure(&self, address: Option<IpAddr>, pool: Option<&str>) {
        let rest = NonZeroU32::new(FAILURE_COST - 1).unwrap_or(NonZeroU32::MIN);
        if let Some(addr) = address.map(network) {
            let _ = self.by_address.check_key_n(&addr, rest);
        }
        if let Some(pool) = pool {
            let _ = self.by_pool.check_key_n(&pool.to_string(), rest);
        }
    }

    fn tidy(&self) {
        if self.by_address.len() > MAX_KEYS {
            self.by_address.retain_recent();
        }
        if self.by_pool.len() > MAX_KEYS {
            self.by_pool.retain_recent();
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

fn refused(not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> AppError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    AppError::RateLimited { retry_after_secs: wait.as_secs().max(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_spend_the_budget_successes_barely() {
        let t = CredentialThrottle::new(2, 100);
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        // 2 failures a minute = 20 units: 2 failed checks spend it all.
        for _ in 0..2 {
            t.before_check(Some(ip), Some("p")).unwrap();
            t.after_failure(Some(ip), Some("p"));
        }
        let err = t.before_check(Some(ip), Some("p")).unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED");
        assert!(err.retry_after().unwrap() >= 1);
        // Another address is not affected.
        t.before_check(Some("198.51.100.8".parse().unwrap()), Some("p")).unwrap();
        // Successful checks cost one unit each: 19 fit in the same budget.
        let t = CredentialThrottle::new(2, 100);
        for _ in 0..19 {
            t.before_check(Some(ip), Some("p")).unwrap();
        }
    }

    #[test]
    fn an_ipv6_network_counts_once() {
        assert_eq!(network("2001:db8::1".parse().unwrap()), network("2001:db8::2".parse().unwrap()));
        assert_ne!(network("2001:db8:0:1::1".parse().unwrap()), network("2001:db8::1".parse().unwrap()));
    }
}
