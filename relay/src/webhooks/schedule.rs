//! When a failed delivery is tried again, when it is given up, and when its endpoint is
//! turned off: plain rules over times, so they are tested without a clock.

use crate::store::webhooks::Outcome;

const SECOND: i64 = 1000;
const HOUR: i64 = 3600 * SECOND;
/// An endpoint whose every try has failed for a day is turned off...
pub const DISABLE_AFTER: i64 = 24 * HOUR;
/// ...and a delivery is tried for somewhat longer, so that one failing alone also
/// turns its endpoint off before it is given up (given up only when the endpoint
/// answered something else meanwhile).
pub const GIVE_UP_AFTER: i64 = 30 * HOUR;
/// The first retry's wait; each next one is four times longer...
const FIRST_WAIT: i64 = 10 * SECOND;
/// ...up to this.
const LONGEST_WAIT: i64 = 6 * HOUR;

/// The wait after the `failures`-th failed try, before jitter: 10 s, 40 s, 160 s, …,
/// at most 6 h (ten tries span about 28 hours).
pub fn wait_after(failures: u32) -> i64 {
    let mut wait = FIRST_WAIT;
    for _ in 1..failures {
        wait = (wait * 4).min(LONGEST_WAIT);
    }
    wait
}

/// `wait` spread by ±20 % (`unit` in 0..1), so endpoints that failed together are not
/// all tried again at the same moment.
pub fn jittered(wait: i64, unit: f64) -> i64 {
    let spread = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    (wait as f64 * spread) as i64
}

/// What one try's answer means.
pub struct Answered<'a> {
    /// The HTTP status, when there was a response.
    pub code: Option<u16>,
    /// Why it failed, in words.
    pub error: &'a str,
    /// Tries so far, this one included.
    pub attempts: u32,
    pub created_at: i64,
    pub failing_since: Option<i64>,
    pub now: i64,
    /// A random number in 0..1 for the jitter.
    pub unit: f64,
}

pub fn decide(answered: &Answered<'_>) -> Outcome {
    let now = answered.now;
    if answered.code.is_some_and(|code| (200..300).contains(&code)) {
        return Outcome::Delivered;
    }
    if answered.code == Some(410) {
        return Outcome::Disable {
            reason: format!("The endpoint answered 410 Gone on {}.", when(now)),
            retry_at: now,
        };
    }
    let retry_at = now + jittered(wait_after(answered.attempts), answered.unit);
    let since = answered.failing_since.unwrap_or(now);
    if now - since >= DISABLE_AFTER {
        return Outcome::Disable {
            reason: format!(
                "Every try has failed since {} (the last: {}).",
                when(since),
                answered.error
            ),
            retry_at,
        };
    }
    // A wait that would pass the give-up point ends at it: that last try is made, so a
    // delivery failing alone still turns its endpoint off (jitter could otherwise put
    // the try after 24 hours of failure beyond the 30).
    let give_up_at = answered.created_at + GIVE_UP_AFTER;
    if now >= give_up_at {
        Outcome::RetryAt(None)
    } else {
        Outcome::RetryAt(Some(retry_at.min(give_up_at)))
    }
}

fn when(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(code: Option<u16>, attempts: u32, now: i64, failing_since: Option<i64>) -> Outcome {
        decide(&Answered {
            code,
            error: "HTTP 500",
            attempts,
            created_at: 0,
            failing_since,
            now,
            unit: 0.5,
        })
    }

    #[test]
    fn waits_grow_fourfold_to_six_hours_and_jitter_stays_within_a_fifth() {
        let waits: Vec<i64> = (1..=8).map(wait_after).collect();
        assert_eq!(
            waits,
            [10, 40, 160, 640, 2560, 10_240, 21_600, 21_600].map(|s| s * SECOND)
        );
        assert_eq!(jittered(1000, 0.0), 800);
        assert_eq!(jittered(1000, 1.0), 1200);
    }

    #[test]
    fn success_410_retry_and_giving_up() {
        assert_eq!(answered(Some(204), 1, 5, None), Outcome::Delivered);
        assert!(matches!(
            answered(Some(410), 1, 5, None),
            Outcome::Disable { retry_at: 5, ref reason } if reason.contains("410 Gone")
        ));
        assert_eq!(
            answered(Some(500), 1, 0, None),
            Outcome::RetryAt(Some(10 * SECOND))
        );
        assert_eq!(
            answered(None, 2, 0, None),
            Outcome::RetryAt(Some(40 * SECOND))
        );
        // A wait past the give-up point ends at it; failing there, the delivery is
        // given up (the endpoint itself has not failed for a day: something else
        // succeeded meanwhile).
        assert_eq!(
            answered(Some(500), 10, 25 * HOUR, Some(20 * HOUR)),
            Outcome::RetryAt(Some(GIVE_UP_AFTER))
        );
        assert_eq!(
            answered(Some(500), 11, GIVE_UP_AFTER, Some(20 * HOUR)),
            Outcome::RetryAt(None)
        );
        assert!(matches!(
            answered(Some(500), 9, 20 * HOUR, Some(19 * HOUR)),
            Outcome::RetryAt(Some(_))
        ));
    }

    #[test]
    fn a_delivery_failing_alone_turns_its_endpoint_off_whatever_the_jitter() {
        // Every try fails, each wait spread by its own draw of the jitter (a thousand
        // sequences): the endpoint is turned off before the delivery is given up.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for sequence in 0..1000 {
            let (mut now, mut attempts) = (0, 1);
            let outcome = loop {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let outcome = decide(&Answered {
                    code: Some(500),
                    error: "HTTP 500",
                    attempts,
                    created_at: 0,
                    failing_since: Some(0),
                    now,
                    unit: (seed % 1001) as f64 / 1000.0,
                });
                match outcome {
                    Outcome::RetryAt(Some(at)) => (now, attempts) = (at, attempts + 1),
                    other => break other,
                }
            };
            assert!(
                matches!(outcome, Outcome::Disable { .. }),
                "sequence {sequence}: {outcome:?}"
            );
        }
    }

    #[test]
    fn an_endpoint_failing_for_a_day_is_turned_off_with_the_reason() {
        let outcome = answered(Some(503), 9, 25 * HOUR, Some(HOUR));
        let Outcome::Disable { reason, .. } = outcome else {
            panic!("not turned off: {outcome:?}");
        };
        assert!(reason.contains("since 1970-01-01 01:00 UTC") && reason.contains("HTTP 500"));
    }
}
