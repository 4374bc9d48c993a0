//! How often one visitor, one address or one account may do a costly thing (send a
//! file, open a chat, try a password): a token bucket per key, kept in memory.
//! Buckets that have refilled are forgotten, so the map holds only recent keys.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `burst` at once, then `burst` per `window`, per key.
#[derive(Debug)]
pub struct Throttle<K> {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Keys kept before the full buckets are swept out.
const SWEEP_AT: usize = 4096;

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(burst: u32, window: Duration) -> Self {
        Self {
            burst: f64::from(burst),
            per_second: f64::from(burst) / window.as_secs_f64().max(f64::EPSILON),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one for `key` if there is one; else says how long until there is.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= SWEEP_AT {
            let (burst, per_second) = (self.burst, self.per_second);
            buckets.retain(|_, bucket| refilled(*bucket, now, per_second) < burst);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        bucket.tokens = refilled(*bucket, now, self.per_second).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }

    /// Keys held now (for tests of the sweep).
    pub fn keys(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

fn refilled(bucket: Bucket, now: Instant, per_second: f64) -> f64 {
    bucket.tokens + now.saturating_duration_since(bucket.last).as_secs_f64() * per_second
}

/// The relay's limits on what anonymous visitors may do, one throttle each.
#[derive(Debug)]
pub struct Throttles {
    /// Files one visitor sends: 20 at once, then 20 per 10 minutes.
    pub uploads_per_visitor: Throttle<i64>,
    /// Files from one address (an office behind one NAT shares it): 60 per 10 minutes.
    pub uploads_per_ip: Throttle<IpAddr>,
}

impl Default for Throttles {
    fn default() -> Self {
        let ten_minutes = Duration::from_secs(600);
        Self {
            uploads_per_visitor: Throttle::new(20, ten_minutes),
            uploads_per_ip: Throttle::new(60, ten_minutes),
        }
    }
}

/// "in 3 minutes", "in 20 seconds": when a refused thing may be tried again.
pub fn retry_in(wait: Duration) -> String {
    let seconds = wait.as_secs_f64().ceil() as u64;
    match seconds {
        0 | 1 => "in a second".to_owned(),
        2..90 => format!("in {seconds} seconds"),
        _ => format!("in {} minutes", seconds.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_window_refills_per_key() {
        let throttle = Throttle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.take(&"a", start), Ok(()));
        }
        let wait = throttle.take(&"a", start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(20));
        assert_eq!(
            throttle.take(&"b", start),
            Ok(()),
            "another key has its own"
        );
        assert_eq!(throttle.take(&"a", start + Duration::from_secs(20)), Ok(()));
        assert!(
            throttle
                .take(&"a", start + Duration::from_secs(21))
                .is_err()
        );
    }

    #[test]
    fn refilled_keys_are_forgotten_when_the_map_grows() {
        let throttle = Throttle::new(1, Duration::from_secs(1));
        let start = Instant::now();
        for key in 0..SWEEP_AT {
            let _ = throttle.take(&key, start);
        }
        assert_eq!(throttle.keys(), SWEEP_AT);
        let _ = throttle.take(&usize::MAX, start + Duration::from_secs(2));
        assert_eq!(throttle.keys(), 1, "only the new key is left");
    }

    #[test]
    fn waits_read_as_words() {
        assert_eq!(retry_in(Duration::from_millis(200)), "in a second");
        assert_eq!(retry_in(Duration::from_secs(45)), "in 45 seconds");
        assert_eq!(retry_in(Duration::from_secs(150)), "in 3 minutes");
    }
}
