//! A bounded map of introspection answers by token hash, each kept for a fixed time; the
//! token itself is never a key.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Most answers one cache keeps; past it, expired ones are dropped, then everything.
const CACHE_LIMIT: usize = 10_000;

pub(super) struct TtlCache<V> {
    ttl: Duration,
    limit: usize,
    entries: Mutex<HashMap<[u8; 32], (V, Instant)>>,
}

impl<V: Clone> TtlCache<V> {
    /// A cache keeping answers for `ttl` (zero: none).
    pub fn new(ttl: Duration) -> TtlCache<V> {
        TtlCache::with_limit(ttl, CACHE_LIMIT)
    }

    fn with_limit(ttl: Duration, limit: usize) -> TtlCache<V> {
        TtlCache {
            ttl,
            limit,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The answer kept for `key`, while it is fresh.
    pub fn get(&self, key: &[u8; 32]) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(value, _)| value.clone())
    }

    /// Keeps `value` for the cache's time; makes room when the cache is full.
    pub fn put(&self, key: [u8; 32], value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());

        if entries.len() >= self.limit && !entries.contains_key(&key) {
            let now = Instant::now();
            entries.retain(|_, (_, until)| now < *until);
            if entries.len() >= self.limit {
                entries.clear();
            }
        }

        entries.insert(key, (value, Instant::now() + self.ttl));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn answers_are_kept_for_the_ttl_only_and_never_past_the_limit() {
        let kept = TtlCache::with_limit(Duration::from_secs(60), 3);
        let none = TtlCache::new(Duration::ZERO);

        for n in 0..3 {
            kept.put(key(n), n);
        }
        none.put(key(0), 0);

        assert_eq!(kept.get(&key(1)), Some(1));
        assert_eq!(kept.get(&key(9)), None);
        assert_eq!(none.get(&key(0)), None);

        kept.put(key(1), 10);
        assert_eq!((kept.len(), kept.get(&key(1))), (3, Some(10)), "replaced");

        kept.put(key(3), 3);
        assert_eq!(kept.len(), 1, "a full cache of fresh answers is emptied");
        assert_eq!(kept.get(&key(3)), Some(3));
    }
}
