//! The clock the relay stamps and compares stored times with. On one node that is the
//! machine's own. Several nodes on PostgreSQL follow the database's clock instead, so
//! a timer set by one node falls due at the same moment on every other, whatever the
//! drift between their machines: the PostgreSQL store measures how far the database
//! is from this machine when it connects and again each minute, and every time read
//! here is moved by that much.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds the store's clock is ahead of this machine's.
static AHEAD_MS: AtomicI64 = AtomicI64::new(0);

/// Milliseconds since the Unix epoch, by the store's clock.
pub fn now_ms() -> i64 {
    machine_ms().saturating_add(AHEAD_MS.load(Ordering::Relaxed))
}

/// Milliseconds since the Unix epoch, by this machine's clock.
pub(crate) fn machine_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Follows a store whose clock read `store_ms` while this machine's went from `asked`
/// to `answered`.
pub(crate) fn follow(store_ms: i64, asked: i64, answered: i64) {
    AHEAD_MS.store(ahead(store_ms, asked, answered), Ordering::Relaxed);
}

/// How far ahead the store's clock is: its reading against the middle of the round
/// trip, when it was most likely taken.
fn ahead(store_ms: i64, asked: i64, answered: i64) -> i64 {
    store_ms - (asked + (answered - asked) / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_clock_is_read_at_the_middle_of_the_round_trip() {
        assert_eq!(ahead(1_000, 1_000, 1_000), 0);
        assert_eq!(ahead(301_010, 1_000, 1_020), 300_000, "five minutes ahead");
        assert_eq!(ahead(1_005, 5_000, 5_010), -4_000, "four seconds behind");
    }
}
