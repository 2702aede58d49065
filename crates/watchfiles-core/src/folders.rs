//! A map from folder paths to values, ordered by the paths' bytes so that a folder and
//! everything below it form one range.
//!
//! `BTreeMap<PathBuf, _>` compares paths component by component, which profiling showed to be a
//! quarter of the watcher's own start-up time. Bytes compare with `memcmp`; the price is that a
//! subtree is not one contiguous range of plain byte order (`a/b-x` sorts between `a/b` and
//! `a/b/c`), so a subtree is taken as the folder itself plus the range of keys that start with
//! `folder/`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::ops::Bound;
use std::path::{Path, PathBuf, MAIN_SEPARATOR};

#[derive(Debug)]
pub struct FolderMap<V> {
    map: BTreeMap<OsString, V>,
}

impl<V> Default for FolderMap<V> {
    fn default() -> Self {
        FolderMap { map: BTreeMap::new() }
    }
}

impl<V> FolderMap<V> {
    pub fn get(&self, path: &Path) -> Option<&V> {
        self.map.get(path.as_os_str())
    }

    pub fn get_mut(&mut self, path: &Path) -> Option<&mut V> {
        self.map.get_mut(path.as_os_str())
    }

    pub fn contains_key(&self, path: &Path) -> bool {
        self.map.contains_key(path.as_os_str())
    }

    pub fn insert(&mut self, path: PathBuf, value: V) {
        self.map.insert(path.into_os_string(), value);
    }

    pub fn remove(&mut self, path: &Path) -> Option<V> {
        self.map.remove(path.as_os_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Path, &V)> {
        self.map.iter().map(|(key, value)| (Path::new(key), value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Path> {
        self.map.keys().map(Path::new)
    }

    /// `path` (if present) and every key below it, each folder before those inside it.
    pub fn at_or_below(&self, path: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        if self.map.contains_key(path.as_os_str()) {
            found.push(path.to_path_buf());
        }
        let mut prefix = path.as_os_str().to_os_string();
        if !prefix.as_encoded_bytes().ends_with(&[MAIN_SEPARATOR as u8]) {
            prefix.push(OsStr::new(std::str::from_utf8(&[MAIN_SEPARATOR as u8]).unwrap_or("/")));
        }
        let below = self
            .map
            .range::<OsStr, _>((Bound::Included(prefix.as_os_str()), Bound::Unbounded))
            .take_while(|(key, _)| key.as_encoded_bytes().starts_with(prefix.as_encoded_bytes()));
        // Byte order already puts `a/b` before `a/b/c`: a folder's key is a prefix of its
        // children's.
        found.extend(below.map(|(key, _)| PathBuf::from(key)));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtree_is_the_folder_and_what_starts_with_it_and_a_separator() {
        let mut map = FolderMap::default();
        for path in ["/a", "/a/b", "/a/b-x", "/a/b/c", "/a/b/c/d", "/a/bc", "/a/b0", "/b"] {
            map.insert(PathBuf::from(path), ());
        }
        let below: Vec<_> = map.at_or_below(Path::new("/a/b"));
        assert_eq!(below, ["/a/b", "/a/b/c", "/a/b/c/d"].map(PathBuf::from));
        assert_eq!(map.at_or_below(Path::new("/a/zz")), Vec::<PathBuf>::new());
        assert_eq!(map.at_or_below(Path::new("/")).len(), 8);
    }
}
