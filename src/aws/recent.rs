//! A map that keeps only its most recently used entries: the bound on the clients and
//! credentials a long-lived execution environment (a worker serving place after place) keeps.

use std::collections::HashMap;

/// A map keeping its `capacity` most recently used entries.
#[derive(Debug)]
pub struct Recent<K, V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<K, (V, u64)>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Recent<K, V> {
    pub fn new(capacity: usize) -> Self {
        Recent {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
        }
    }

    pub fn get(&mut self, key: &K) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(v, used)| {
            *used = tick;
            v.clone()
        })
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.tick += 1;
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.entries.insert(key, (value, self.tick));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_most_recently_used_are_kept() {
        let mut r: Recent<u32, u32> = Recent::new(3);
        for k in 0..3 {
            r.insert(k, k * 10);
        }
        assert_eq!(r.get(&0), Some(0));
        r.insert(3, 30);
        assert_eq!(r.len(), 3);
        assert_eq!(r.get(&1), None, "the least recently used goes first");
        assert_eq!(r.get(&0), Some(0));
        for k in 4..1000 {
            r.insert(k, k);
        }
        assert_eq!(r.len(), 3);
        r.insert(999, 1);
        assert_eq!((r.len(), r.get(&999)), (3, Some(1)));
    }
}
