//! A per-client token bucket for the public endpoints.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Token buckets by client address; `rate` requests per second, bursts of `2 * rate`.
/// A rate of 0 disables the limit.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<Option<IpAddr>, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate_per_second: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate_per_second),
            burst: f64::from(rate_per_second) * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a request from `client` may proceed now.
    pub fn allow(&self, client: Option<IpAddr>) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let now = Instant::now();
        if buckets.len() > 100_000 {
            buckets.clear();
        }
        let (tokens, last) = buckets.entry(client).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_then_refuses() {
        let limiter = RateLimiter::new(5);
        let allowed = (0..100).filter(|_| limiter.allow(None)).count();
        // Burst of 10, plus whatever refilled during the loop (well under one token).
        assert!((10..=11).contains(&allowed), "{allowed}");
        assert!(RateLimiter::new(0).allow(None));
    }
}
