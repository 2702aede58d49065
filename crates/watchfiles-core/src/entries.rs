//! A folder's entries, stored compactly: every name in one byte buffer, and a hash table of
//! 16-byte slots pointing into it. At 100,000 files this is about a third of a
//! `HashMap<OsString, _>`, which spends a heap allocation and 40 bytes of table per name.

use crate::lister::Entry;
use crate::probe::EntryKind;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::ffi::OsStr;
use std::hash::BuildHasher;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u32,
    len: u16,
    kind: EntryKind,
    stamp: u64,
}

/// Names to entries, with `HashMap`'s operations.
#[derive(Debug, Default, Clone)]
pub struct Entries {
    names: Vec<u8>,
    table: HashTable<Slot>,
    /// Bytes of `names` no slot points to any more (removed entries).
    garbage: usize,
}

/// One hasher for every folder: a per-table one would cost each folder its seed.
static HASHER: LazyLock<DefaultHashBuilder> = LazyLock::new(DefaultHashBuilder::default);

fn bytes(name: &OsStr) -> &[u8] {
    name.as_encoded_bytes()
}

impl Entries {
    pub fn new() -> Entries {
        Entries::default()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    fn name_of<'a>(names: &'a [u8], slot: &Slot) -> &'a [u8] {
        &names[slot.offset as usize..slot.offset as usize + slot.len as usize]
    }

    fn hash(&self, name: &[u8]) -> u64 {
        HASHER.hash_one(name)
    }

    pub fn get(&self, name: &OsStr) -> Option<Entry> {
        let key = bytes(name);
        let names = &self.names;
        self.table
            .find(self.hash(key), |slot| Self::name_of(names, slot) == key)
            .map(|slot| Entry { kind: slot.kind, stamp: slot.stamp })
    }

    pub fn contains_key(&self, name: &OsStr) -> bool {
        self.get(name).is_some()
    }

    /// Sets the entry of `name`, adding it if it is new.
    pub fn insert(&mut self, name: &OsStr, entry: Entry) {
        let key = bytes(name);
        let hash = self.hash(key);
        let Entries { names, table, .. } = self;
        let hasher = &*HASHER;
        if let Some(slot) = table.find_mut(hash, |slot| Self::name_of(names, slot) == key) {
            slot.kind = entry.kind;
            slot.stamp = entry.stamp;
            return;
        }
        // Names are at most 255 bytes on every platform we run on; a longer one is cut to fit the
        // slot and so simply never matches again (its events are then found on disk).
        let len = key.len().min(usize::from(u16::MAX));
        let offset = u32::try_from(names.len()).unwrap_or(u32::MAX);
        names.extend_from_slice(&key[..len]);
        let slot = Slot { offset, len: len as u16, kind: entry.kind, stamp: entry.stamp };
        table.insert_unique(hash, slot, |slot| hasher.hash_one(Self::name_of(names, slot)));
    }

    pub fn remove(&mut self, name: &OsStr) -> Option<Entry> {
        let key = bytes(name);
        let hash = self.hash(key);
        let names = &self.names;
        let found = self.table.find_entry(hash, |slot| Self::name_of(names, slot) == key).ok()?;
        let (slot, _) = found.remove();
        self.garbage += usize::from(slot.len);
        if self.garbage > 4096 && self.garbage * 2 > self.names.len() {
            self.compact();
        }
        Some(Entry { kind: slot.kind, stamp: slot.stamp })
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, Entry)> + '_ {
        self.table.iter().map(|slot| {
            let name = Self::name_of(&self.names, slot);
            // SAFETY: these bytes were taken whole from an `OsStr` by `insert`.
            (unsafe { OsStr::from_encoded_bytes_unchecked(name) }, Entry { kind: slot.kind, stamp: slot.stamp })
        })
    }

    /// Drops spare capacity once a listing is complete.
    pub fn shrink_to_fit(&mut self) {
        self.names.shrink_to_fit();
        let Entries { names, table, .. } = self;
        let hasher = &*HASHER;
        table.shrink_to_fit(|slot| hasher.hash_one(Self::name_of(names, slot)));
    }

    /// Copies the live names into a fresh buffer (their hashes do not change).
    fn compact(&mut self) {
        let mut names = Vec::with_capacity(self.names.len() - self.garbage);
        for slot in self.table.iter_mut() {
            let start = names.len();
            names.extend_from_slice(Self::name_of(&self.names, slot));
            slot.offset = start as u32;
        }
        self.names = names;
        self.garbage = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::ffi::OsString;

    fn entry(stamp: u64) -> Entry {
        Entry { kind: EntryKind::File, stamp }
    }

    #[test]
    fn behaves_like_a_map_through_inserts_removes_and_compaction() {
        let mut entries = Entries::new();
        let mut model: HashMap<OsString, u64> = HashMap::new();
        for round in 0..20_000u64 {
            let name = OsString::from(format!("file-{}", (round * 7919) % 3000));
            if round % 3 == 0 {
                assert_eq!(entries.remove(&name).map(|e| e.stamp), model.remove(&name));
            } else {
                entries.insert(&name, entry(round));
                model.insert(name, round);
            }
        }
        assert_eq!(entries.len(), model.len());
        let mut listed: Vec<(OsString, u64)> = entries.iter().map(|(n, e)| (n.to_os_string(), e.stamp)).collect();
        let mut expected: Vec<(OsString, u64)> = model.into_iter().collect();
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected);
        assert!(entries.garbage * 2 <= entries.names.len().max(8192), "compacted along the way");
    }

    #[test]
    fn replaces_the_entry_of_an_existing_name() {
        let mut entries = Entries::new();
        entries.insert(OsStr::new("a"), entry(1));
        entries.insert(OsStr::new("a"), Entry { kind: EntryKind::Dir, stamp: 2 });
        assert_eq!(entries.len(), 1);
        let got = entries.get(OsStr::new("a")).unwrap();
        assert_eq!((got.kind, got.stamp), (EntryKind::Dir, 2));
        assert!(entries.get(OsStr::new("b")).is_none());
    }
}
