//! [`ManualClock`]: a clock that moves only when told.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far a [`ManualClock`] can be moved: about 100 years. Further moves
/// stop there instead of overflowing `Instant` (and leave room for a
/// client to add a token lifetime to the time it reads).
const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A clock that moves only when told: token expiry without sleeping.
///
/// A client's clock trait is implemented on it in the client's tests (a
/// one-line adapter), so that this crate depends on no client.
///
/// ```
/// use std::time::Duration;
/// use aep_flow_testing::ManualClock;
///
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(3600));
/// assert_eq!(clock.now() - t0, Duration::from_secs(3600));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at the moment it was made.
    pub fn new() -> Self {
        ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward. The clock stops about 100 years after it
    /// was made: a longer move (`Duration::MAX`, say) goes that far and no
    /// further, without panicking.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = offset.saturating_add(by).min(MAX_OFFSET);
        // On a platform whose `Instant` cannot reach that far, go as far as
        // it can.
        while self.start.checked_add(next).is_none() {
            next /= 2;
        }
        *offset = next.max(*offset);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl ManualClock {
    /// The clock's time: when it was made, plus every move since.
    pub fn now(&self) -> Instant {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        self.start.checked_add(offset).unwrap_or(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_by_the_duration_given() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        clock.advance(Duration::from_secs(90));
        clock.advance(Duration::from_millis(500));
        assert_eq!(clock.now() - t0, Duration::from_millis(90_500));
    }

    #[test]
    fn a_huge_advance_saturates_instead_of_panicking() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        clock.advance(Duration::MAX);
        let far = clock.now();
        assert_eq!(far - t0, MAX_OFFSET);
        // Further moves stay put, and time never goes back.
        clock.advance(Duration::MAX);
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now(), far);
        // A client can still add a day-long token lifetime to it.
        assert!(far.checked_add(Duration::from_secs(86_400)).is_some());
    }
}
