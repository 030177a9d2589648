//! Whole-org listings (`org { nodes { <plain fields> } }`) kept serialized, keyed by org, tree
//! revision and selection. The revision changes with every write to the org's nodes (database
//! triggers), so an entry is never served after a change; entries of older revisions are
//! dropped when a newer one is stored, and the least recently used go when the memory budget
//! is spent. Every instance keeps its own; the revision lives in the shared database. A past
//! listing (`asOf` a settled instant) never changes: it is kept under its instant.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListingKey {
    pub org_id: String,
    pub revision: i64,
    /// The instant of a past listing (`asOf`), which never changes: `None` for the current one.
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// The selection, as response keys and fields (aliases change the bytes).
    pub selection: String,
}

pub struct ListingCache {
    budget: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<ListingKey, (Arc<Vec<u8>>, u64)>,
    bytes: usize,
    clock: u64,
}

/// At most this many entries, so that eviction's scan stays short whatever their sizes.
const MAX_ENTRIES: usize = 256;

impl ListingCache {
    /// A cache holding up to `budget` bytes of listings (0: nothing is cached).
    pub fn new(budget: usize) -> Self {
        ListingCache { budget, inner: Mutex::new(Entries::default()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &ListingKey) -> Option<Arc<Vec<u8>>> {
        let mut entries = self.entries();
        entries.clock += 1;
        let now = entries.clock;
        let (bytes, used) = entries.map.get_mut(key)?;
        *used = now;
        Some(bytes.clone())
    }

    /// Keep `bytes` for `key` unless they would take more than a quarter of the budget.
    pub fn put(&self, key: ListingKey, bytes: Arc<Vec<u8>>) {
        if bytes.len() > self.budget / 4 {
            return;
        }
        let mut entries = self.entries();
        let stale: Vec<ListingKey> =
            entries.map.keys().filter(|k| k.org_id == key.org_id && k.selection == key.selection && k.as_of.is_none() && key.as_of.is_none() && k.revision < key.revision).cloned().collect();
        for k in stale {
            entries.remove(&k);
        }
        while !entries.map.is_empty() && (entries.bytes + bytes.len() > self.budget || entries.map.len() >= MAX_ENTRIES) {
            let oldest = entries.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                entries.remove(&k);
            }
        }
        entries.clock += 1;
        let now = entries.clock;
        entries.bytes += bytes.len();
        if let Some((old, _)) = entries.map.insert(key, (bytes, now)) {
            entries.bytes -= old.len();
        }
    }
}

impl Entries {
    fn remove(&mut self, key: &ListingKey) {
        if let Some((bytes, _)) = self.map.remove(key) {
            self.bytes -= bytes.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(org: &str, revision: i64) -> ListingKey {
        ListingKey { org_id: org.into(), revision, selection: "id".into(), as_of: None }
    }

    #[test]
    fn newer_revisions_replace_older_and_the_budget_holds() {
        let cache = ListingCache::new(400);
        cache.put(key("a", 1), Arc::new(vec![0; 100]));
        cache.put(key("a", 2), Arc::new(vec![1; 100]));
        assert!(cache.get(&key("a", 1)).is_none());
        assert_eq!(cache.get(&key("a", 2)).map(|b| b[0]), Some(1));
        cache.put(key("b", 1), Arc::new(vec![2; 100]));
        cache.put(key("c", 1), Arc::new(vec![3; 100]));
        cache.get(&key("a", 2));
        cache.put(key("d", 1), Arc::new(vec![4; 100]));
        cache.put(key("e", 1), Arc::new(vec![5; 100]));
        // b was the least recently used: gone; the rest fit in 400 bytes.
        assert!(cache.get(&key("b", 1)).is_none());
        assert!(cache.get(&key("a", 2)).is_some() && cache.get(&key("e", 1)).is_some());
        assert_eq!(cache.entries().bytes, 400);
        // More than a quarter of the budget is never kept.
        cache.put(key("f", 1), Arc::new(vec![6; 101]));
        assert!(cache.get(&key("f", 1)).is_none());
    }
}
