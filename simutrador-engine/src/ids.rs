//! [`IdSet`]: every order id used in a session, for the duplicate check. The ids live end to
//! end in one string arena and a hash table holds their spans, so remembering an id costs no
//! allocation of its own and growing the table moves 16-byte entries.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// A set of strings, only ever added to and looked up (never iterated, so the hash cannot
/// affect any output order).
#[derive(Debug, Clone, Default)]
pub(crate) struct IdSet {
    text: String,
    /// (start, end) of each id in `text`.
    spans: HashTable<(usize, usize)>,
}

impl IdSet {
    fn get<'a>(text: &'a str, &(start, end): &(usize, usize)) -> &'a str {
        text.get(start..end).unwrap_or_default()
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: &str) -> bool {
        self.spans
            .find(Self::hash(id), |span| Self::get(&self.text, span) == id)
            .is_some()
    }

    /// The hash of `id`, for [`IdSet::insert_hashed`] and [`IdSet::remove_last`].
    #[inline]
    pub fn hash(id: &str) -> u64 {
        FxBuildHasher.hash_one(id)
    }

    /// [`IdSet::insert`] with the hash already computed by [`IdSet::hash`].
    #[inline]
    pub fn insert_hashed(&mut self, hash: u64, id: &str) -> bool {
        let text = &self.text;
        match self.spans.entry(
            hash,
            |span| Self::get(text, span) == id,
            |span| FxBuildHasher.hash_one(Self::get(text, span)),
        ) {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let start = self.text.len();
                self.text.push_str(id);
                slot.insert((start, self.text.len()));
                true
            }
        }
    }

    /// Takes back `id`, the id added last, with its `hash` (an order rejected after its id
    /// was reserved). Its span is the last one in the arena, which no other span equals.
    pub fn remove_last(&mut self, hash: u64, id: &str) {
        let end = self.text.len();
        let start = end.saturating_sub(id.len());
        if let Ok(entry) = self.spans.find_entry(hash, |&span| span == (start, end)) {
            entry.remove();
            self.text.truncate(start);
        }
    }

    /// Adds `id`; false (and no change) when it was already there.
    pub fn insert(&mut self, id: &str) -> bool {
        self.insert_hashed(Self::hash(id), id)
    }
}

#[cfg(test)]
mod tests {
    use super::IdSet;

    #[test]
    fn remembers_exact_ids_only() {
        let mut ids = IdSet::default();
        assert!(ids.insert("o1"));
        assert!(ids.insert("o1:sl"));
        assert!(ids.insert(""));
        assert!(!ids.insert("o1"));
        for n in 2..5_000 {
            assert!(ids.insert(&format!("o{n}")));
        }
        assert!(ids.contains("o1") && ids.contains("o4999") && ids.contains(""));
        assert!(!ids.contains("o5000") && !ids.contains("o") && !ids.contains("o1:tp"));
        let h = IdSet::hash("o5000");
        assert!(ids.insert_hashed(h, "o5000") && !ids.insert_hashed(h, "o5000"));
        assert!(ids.contains("o5000"));
        ids.remove_last(h, "o5000");
        assert!(!ids.contains("o5000") && ids.contains("o4999"));
        // An empty id ends where the id before it ends; only the empty one is taken back.
        let e = IdSet::hash("");
        let mut few = IdSet::default();
        assert!(few.insert("abc") && few.insert_hashed(e, ""));
        few.remove_last(e, "");
        assert!(few.contains("abc") && !few.contains(""));
        assert!(ids.insert("o5000") && ids.insert("o5001") && !ids.insert("o5000"));
    }
}
