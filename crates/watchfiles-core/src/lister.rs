//! Reading folders, on a thread of its own.
//!
//! Watching a folder costs a round trip to notify's thread; listing it costs the directory reads.
//! Done one after the other for every folder, a big tree's start-up pays both in full. The walk
//! therefore watches on the engine's thread while this thread lists (and filters, and stats for
//! polling) the folders already watched: the two overlap.

use crate::entries::Entries;
use crate::filter::Filter;
use crate::gitignore::IgnoreStack;
use crate::probe::{probe, DirHandle, EntryKind, Listed as ListedKind};
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// One entry of a folder, as kept by the tree.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub kind: EntryKind,
    /// Change stamp, kept for polled folders only (0: not known).
    pub stamp: u64,
}

/// What a listing needs to know besides the folder.
#[derive(Debug, Clone)]
pub struct ListRules {
    pub filter: Filter,
    pub gitignore: bool,
    pub follow_symlinks: bool,
}

/// A folder to list.
pub struct Request {
    pub dir: PathBuf,
    /// The folder, opened before it was watched.
    pub handle: DirHandle,
    pub root: Arc<Path>,
    /// The ignore files of the parent folder (`None` for a root: read from above it).
    pub parent_ignores: Option<IgnoreStack>,
    /// Stamp every entry (the folder is polled).
    pub stamps: bool,
}

/// A folder's entries, not ignored.
#[derive(Debug)]
pub struct Listed {
    pub ignores: IgnoreStack,
    pub entries: Entries,
    /// Inode of each entry that is a folder (from the listing itself, or through a followed
    /// symlink).
    pub dir_inodes: HashMap<OsString, u64>,
    /// The folder's own stamp (when stamping).
    pub stamp: u64,
}

/// The answer to a [`Request`].
#[derive(Debug)]
pub struct Listing {
    pub dir: PathBuf,
    pub result: io::Result<Listed>,
}

/// Lists `request.dir`: reads it, drops ignored entries, tells files from folders.
pub fn list(rules: &ListRules, request: Request) -> Listing {
    let Request { dir, handle, root, parent_ignores, stamps } = request;
    let result = list_dir(rules, handle, &dir, &root, parent_ignores, stamps);
    Listing { dir, result }
}

fn list_dir(
    rules: &ListRules,
    handle: DirHandle,
    dir: &Path,
    root: &Path,
    parent_ignores: Option<IgnoreStack>,
    stamps: bool,
) -> io::Result<Listed> {
    let ignores = if rules.gitignore {
        parent_ignores.unwrap_or_else(|| IgnoreStack::above(dir)).child(dir)
    } else {
        IgnoreStack::default()
    };
    let mut entries = Entries::new();
    let mut dir_inodes = HashMap::new();
    handle.read_entries(dir, |name, listed, mut ino| {
        if rules.filter.is_ignored_entry(root, dir, name) {
            return;
        }
        if rules.gitignore && ignores.is_ignored(&dir.join(name), listed == ListedKind::Dir) {
            return;
        }
        let kind = match listed {
            ListedKind::Dir => EntryKind::Dir,
            ListedKind::File => EntryKind::File,
            ListedKind::Symlink => match rules.follow_symlinks.then(|| probe(&dir.join(name), true)).flatten() {
                Some(found) if found.kind == EntryKind::Dir => {
                    ino = found.identity.1;
                    EntryKind::Dir
                }
                _ => EntryKind::Symlink,
            },
        };
        let stamp = if stamps { probe(&dir.join(name), false).map_or(0, |p| p.stamp) } else { 0 };
        if kind == EntryKind::Dir {
            dir_inodes.insert(name.to_os_string(), ino);
        }
        entries.insert(name, Entry { kind, stamp });
    })?;
    entries.shrink_to_fit();
    let stamp = if stamps { probe(dir, true).map_or(0, |p| p.stamp) } else { 0 };
    Ok(Listed { ignores, entries, dir_inodes, stamp })
}

/// The listing thread (or, if no thread can be started, listing in place).
pub struct Lister {
    requests: Option<Sender<Request>>,
    listings: Receiver<Listing>,
    thread: Option<JoinHandle<()>>,
    in_place: Option<(ListRules, Sender<Listing>)>,
}

impl Lister {
    pub fn start(rules: ListRules) -> Lister {
        let (requests, incoming) = unbounded::<Request>();
        let (done, listings) = unbounded();
        let thread_rules = rules.clone();
        let thread_done = done.clone();
        let thread = std::thread::Builder::new()
            .name("watchfiles-lister".into())
            .spawn(move || {
                for request in incoming {
                    if thread_done.send(list(&thread_rules, request)).is_err() {
                        break;
                    }
                }
            })
            .ok();
        match thread {
            Some(thread) => Lister { requests: Some(requests), listings, thread: Some(thread), in_place: None },
            None => Lister { requests: None, listings, thread: None, in_place: Some((rules, done)) },
        }
    }

    /// Queues a folder; its listing comes back through `next`.
    pub fn submit(&self, request: Request) {
        match (&self.requests, &self.in_place) {
            (Some(requests), _) => {
                let _ = requests.send(request);
            }
            (None, Some((rules, done))) => {
                let _ = done.send(list(rules, request));
            }
            (None, None) => {}
        }
    }

    /// The next finished listing, waiting for it when `wait`.
    pub fn next(&self, wait: bool) -> Option<Listing> {
        if wait {
            self.listings.recv().ok()
        } else {
            self.listings.try_recv().ok()
        }
    }
}

impl Drop for Lister {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
