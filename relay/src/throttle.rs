//! How often one visitor, one address or one account may do a costly thing (send a
//! file, open a chat, try a password): a token bucket per key, kept in memory.
//! Buckets that have refilled are forgotten, so the map holds only recent keys.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `burst` at once, then `burst` per `window`, per key (`burst` 0: no limit).
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

    /// Whether `key` has one now, without taking it.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.burst == 0.0 {
            return Ok(());
        }
        let buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tokens = buckets.get(key).map_or(self.burst, |bucket| {
            refilled(*bucket, now, self.per_second).min(self.burst)
        });
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }

    /// Takes one for `key` if there is one; else says how long until there is.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.burst == 0.0 {
            return Ok(());
        }
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

/// How many of the costly things one visitor or address may do per 10 minutes (the
/// config's `[limits]`; 0: no limit, e.g. for a load test from one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// New chats one address opens.
    pub chats_per_address: u32,
    /// Files one visitor sends.
    pub files_per_visitor: u32,
    /// Files from one address (an office behind one NAT shares it).
    pub files_per_address: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            chats_per_address: 60,
            files_per_visitor: 20,
            files_per_address: 60,
        }
    }
}

/// The relay's limits on what callers may do, one throttle each.
/// How many REST API requests one key may make a minute.
pub const API_REQUESTS_PER_MINUTE: u32 = 600;

#[derive(Debug)]
pub struct Throttles {
    /// Wrong passwords per account: 5 free, then waits that double, up to 15 minutes.
    pub logins_per_account: Backoff<String>,
    /// Wrong passwords per address: 20 free, then the same.
    pub logins_per_ip: Backoff<IpAddr>,
    pub chats_per_ip: Throttle<IpAddr>,
    pub uploads_per_visitor: Throttle<i64>,
    pub uploads_per_ip: Throttle<IpAddr>,
    /// Emails to an address a visitor typed (acknowledgements, transcripts): a
    /// stranger's inbox gets at most 3 a day from the site.
    pub emails_per_visitor_address: Throttle<String>,
    /// "Email me the transcript" requests per network address: 5 an hour, whatever
    /// the addresses asked for.
    pub transcripts_per_ip: Throttle<IpAddr>,
    /// REST API requests per key: 600 a minute.
    pub api_per_key: Throttle<i64>,
}

impl Throttles {
    pub fn new(limits: Limits) -> Self {
        let ten_minutes = Duration::from_secs(600);
        let quarter_hour = Duration::from_secs(900);
        Self {
            logins_per_account: Backoff::new(5, quarter_hour),
            logins_per_ip: Backoff::new(20, quarter_hour),
            chats_per_ip: Throttle::new(limits.chats_per_address, ten_minutes),
            emails_per_visitor_address: Throttle::new(3, Duration::from_secs(86_400)),
            transcripts_per_ip: Throttle::new(5, Duration::from_secs(3600)),
            api_per_key: Throttle::new(API_REQUESTS_PER_MINUTE, Duration::from_secs(60)),
            uploads_per_visitor: Throttle::new(limits.files_per_visitor, ten_minutes),
            uploads_per_ip: Throttle::new(limits.files_per_address, ten_minutes),
        }
    }
}

/// Failures per key (a password guessed wrong): the first `free` cost nothing, each
/// one after doubles the wait before the next try (1 s, 2 s, 4 s … at most `most`).
/// A success clears the key; failures older than `most` are forgotten.
#[derive(Debug)]
pub struct Backoff<K> {
    free: u32,
    most: Duration,
    failures: Mutex<HashMap<K, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    until: Instant,
}

impl<K: Hash + Eq + Clone> Backoff<K> {
    pub fn new(free: u32, most: Duration) -> Self {
        Self {
            free,
            most,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(wait)` while `key` must wait before trying again.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.lock().get(key) {
            Some(failures) if failures.until > now => Err(failures.until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns how many in a row, and the wait it earned.
    pub fn failed(&self, key: &K, now: Instant) -> (u32, Duration) {
        let mut failures = self.lock();
        if failures.len() >= SWEEP_AT {
            let most = self.most;
            failures.retain(|_, entry| now.saturating_duration_since(entry.last) < most);
        }
        let entry = failures.entry(key.clone()).or_insert(Failures {
            count: 0,
            last: now,
            until: now,
        });
        if now.saturating_duration_since(entry.last) >= self.most {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        let over = entry.count.saturating_sub(self.free);
        let wait = if over == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1u64 << (over - 1).min(20)).min(self.most)
        };
        entry.until = now + wait;
        (entry.count, wait)
    }

    pub fn succeeded(&self, key: &K) {
        self.lock().remove(key);
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
    fn a_limit_of_zero_is_no_limit() {
        let throttle = Throttle::new(0, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(throttle.take(&"a", now), Ok(()));
        }
        assert_eq!(throttle.keys(), 0);
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
    fn failures_past_the_free_ones_double_the_wait_and_a_success_clears_them() {
        let backoff = Backoff::new(2, Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(backoff.failed(&"ana", start), (1, Duration::ZERO));
        assert_eq!(backoff.failed(&"ana", start), (2, Duration::ZERO));
        assert_eq!(backoff.check(&"ana", start), Ok(()));
        assert_eq!(backoff.failed(&"ana", start), (3, Duration::from_secs(1)));
        assert_eq!(backoff.check(&"ana", start), Err(Duration::from_secs(1)));
        let later = start + Duration::from_secs(1);
        assert_eq!(backoff.check(&"ana", later), Ok(()));
        assert_eq!(backoff.failed(&"ana", later), (4, Duration::from_secs(2)));
        for _ in 0..20 {
            backoff.failed(&"ana", later);
        }
        assert_eq!(
            backoff.check(&"ana", later),
            Err(Duration::from_secs(60)),
            "capped"
        );
        assert_eq!(backoff.check(&"bo", later), Ok(()), "each key its own");
        backoff.succeeded(&"ana");
        assert_eq!(backoff.check(&"ana", later), Ok(()));
        // Failures long ago are forgotten.
        backoff.failed(&"cy", start);
        backoff.failed(&"cy", start);
        let much_later = start + Duration::from_secs(61);
        assert_eq!(backoff.failed(&"cy", much_later), (1, Duration::ZERO));
    }

    #[test]
    fn waits_read_as_words() {
        assert_eq!(retry_in(Duration::from_millis(200)), "in a second");
        assert_eq!(retry_in(Duration::from_secs(45)), "in 45 seconds");
        assert_eq!(retry_in(Duration::from_secs(150)), "in 3 minutes");
    }
}
