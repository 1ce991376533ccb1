//! Named locks: ensures of the same resource within one client run one
//! after the other, so that two threads never both find nothing and both
//! create.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};

#[derive(Debug, Default)]
pub(crate) struct KeyedLocks {
    held: Mutex<HashSet<String>>,
    released: Condvar,
}

/// Held while the key is locked; unlocks on drop (also on panic).
pub(crate) struct KeyGuard<'a> {
    locks: &'a KeyedLocks,
    key: String,
}

impl KeyedLocks {
    /// Waits until no one holds `key`, then holds it.
    pub(crate) fn lock(&self, key: String) -> KeyGuard<'_> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        while held.contains(&key) {
            held = self.released.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        held.insert(key.clone());
        KeyGuard { locks: self, key }
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut held = self.locks.held.lock().unwrap_or_else(|e| e.into_inner());
        held.remove(&self.key);
        drop(held);
        self.locks.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn one_holder_per_key_and_other_keys_are_free() {
        let locks = Arc::new(KeyedLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    let _g = locks.lock("a".into());
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Another key is not blocked by "a".
                    drop(locks.lock("b".into()));
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }
}
