//! When and how long to wait before trying again.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Default bound on the total time spent on one call including retries.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(30);
/// Default first backoff when the service gives no `Retry-After`; it
/// doubles with each retry and is jittered down by up to half.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub budget: Duration,
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            budget: DEFAULT_RETRY_BUDGET,
            backoff: DEFAULT_RETRY_BACKOFF,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) when the service gave
    /// no `Retry-After`: `backoff * 2^retry`, minus up to half at random so
    /// that many clients do not come back in step.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let full = self.backoff.saturating_mul(1 << retry.min(16));
        let random = RandomState::new().hash_one(retry);
        let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
        full.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_jitters_down_by_at_most_half() {
        let policy = RetryPolicy {
            max_retries: 3,
            budget: Duration::from_secs(30),
            backoff: Duration::from_millis(400),
        };
        let mut seen = std::collections::HashSet::new();
        for retry in 0..4u32 {
            let full = Duration::from_millis(400) * 2u32.pow(retry);
            for _ in 0..50 {
                let wait = policy.backoff(retry);
                assert!(wait >= full / 2 && wait <= full, "retry {retry}: {wait:?}");
                seen.insert(wait);
            }
        }
        assert!(seen.len() > 20, "no jitter: {} distinct waits", seen.len());
        // Extremes saturate instead of overflowing.
        let huge = RetryPolicy {
            backoff: Duration::MAX,
            ..policy
        };
        assert!(huge.backoff(u32::MAX) >= Duration::from_secs(u64::MAX / 4));
    }
}
