//! The watched tree: which folders are walked and watched, what each one held when last read,
//! and how an event changes that picture.
//!
//! Keeping every folder's entry names (read from the directory itself, no `stat` at start-up) is
//! what lets a folder moved out of the tree report every file it held, a new folder report every
//! file written before its watch existed, and a rescan after a lost event find the exact
//! difference.

use crate::backend::{Role, WatchFolders, Watched};
use crate::change::ChangeKind;
use crate::error::Error;
use crate::filter::Filter;
use crate::gitignore::{IgnoreStack, IGNORE_FILES};
use crate::options::Options;
use crate::entries::Entries;
use crate::lister::{Entry, ListRules, Lister, Listing, Request};
use crate::probe::{listed_inode, probe, probe_root, DirHandle, EntryKind, Probe};
use crate::folders::FolderMap;
use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What an event says happened to a path, as far as its backend can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Created; the kind is known when the OS said whether it is a folder.
    Created(Option<EntryKind>),
    /// Content or metadata written.
    Modified,
    /// Deleted, or moved away.
    Removed,
    /// Moved to this path (possibly over an existing entry).
    MovedIn,
    /// Something happened; look at the disk to know what.
    Unknown,
}

/// A problem met while walking or watching, with how much it matters.
#[derive(Debug)]
pub enum Problem {
    /// Skipped as the options allow (a permission-denied folder under
    /// `ignore_permission_denied`, a folder polled because of the watch limit).
    Warning(Error),
    /// Not skippable: fails the start, or is reported while watching goes on.
    Error(Error),
}

/// What one call into the tree produced: changes to batch and problems to report.
#[derive(Debug, Default)]
pub struct Effects {
    pub changes: Vec<(ChangeKind, PathBuf)>,
    pub problems: Vec<Problem>,
}

impl Effects {
    fn change(&mut self, kind: ChangeKind, path: PathBuf) {
        self.changes.push((kind, path));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootState {
    Dir { ino: u64 },
    File { stamp: u64 },
    Missing,
}

#[derive(Debug)]
struct Root {
    path: PathBuf,
    state: RootState,
    /// The watched ancestor that reports the root's deletion, rename or return.
    sentinel: Option<PathBuf>,
}

/// A folder watched and waiting for its listing.
struct Pending {
    ino: u64,
    watched: Watched,
    role: Role,
    identity: Option<(u64, u64)>,
}

#[derive(Debug)]
struct Dir {
    entries: Entries,
    /// The ignore files that apply to its entries (empty unless `gitignore` is on).
    ignores: IgnoreStack,
    ino: u64,
    /// When and at which stamp of its own it was last listed (polled folders only).
    relisted: Option<Box<Relisted>>,
    /// Device and inode, recorded only when following symlinks (loop detection).
    identity: Option<Box<(u64, u64)>>,
    root: u32,
    watched: Watched,
}

/// A polled folder's last listing.
#[derive(Debug)]
struct Relisted {
    /// The folder's own stamp then.
    stamp: u64,
    /// Whether the folder had changed shortly before it was listed: a change within the same
    /// timestamp tick leaves its stamp as it was, so such a listing is not to be trusted.
    racy: bool,
}

/// How `resync` decides that a file which is still there was modified.
#[derive(Debug, Clone, Copy)]
pub enum Since {
    /// Its stamp differs from the one kept (polling).
    Stamp,
    /// It changed at or after this time (rescan after lost events).
    Time(SystemTime),
}

/// A folder listed less than this after it last changed may have changed again within the same
/// timestamp tick (coarse on some filesystems): list it again on the next poll. Also the slack
/// of a rescan after a folder was left unwatched for a moment.
const RACY_LISTING: Duration = Duration::from_secs(1);

pub struct Tree {
    filter: Filter,
    recursive: bool,
    follow_symlinks: bool,
    ignore_permission_denied: bool,
    gitignore: bool,
    roots: Vec<Root>,
    dirs: FolderMap<Dir>,
    walked_identities: HashSet<(u64, u64)>,
    /// How many walked folders have each inode (one, but for reused numbers across mounts).
    /// inotify keeps one watch per inode, so a folder seen at a new path while still recorded at
    /// an old one (renamed faster than events arrive) must be forgotten at the old path before
    /// it is watched at the new one: dropping the old watch later would drop the new one with
    /// it. Counts, not paths: the rare collision is resolved by a search, and paths cost memory
    /// in every folder.
    dir_inos: HashMap<u64, u32>,
    polled_dirs: usize,
    lister: Lister,
}

impl Tree {
    pub fn new(filter: Filter, roots: Vec<PathBuf>, options: &Options) -> Tree {
        let roots = roots
            .into_iter()
            .map(|path| Root { path, state: RootState::Missing, sentinel: None })
            .collect();
        let lister = Lister::start(ListRules {
            filter: filter.clone(),
            gitignore: options.gitignore,
            follow_symlinks: options.follow_symlinks,
        });
        Tree {
            lister,
            filter,
            recursive: options.recursive,
            follow_symlinks: options.follow_symlinks,
            ignore_permission_denied: options.ignore_permission_denied,
            gitignore: options.gitignore,
            roots,
            dirs: FolderMap::default(),
            walked_identities: HashSet::new(),
            dir_inos: HashMap::new(),
            polled_dirs: 0,
        }
    }

    /// Walks and watches every root. `Err` on the first problem that is not skippable; warnings
    /// are left in `out`. Returns early when `stop` says to give up.
    pub fn start(
        &mut self,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
        stop: &dyn Fn() -> bool,
    ) -> Result<(), Error> {
        for idx in 0..self.roots.len() {
            let path = self.roots[idx].path.clone();
            let probe = probe_root(&path).map_err(|err| Error::from_io(&path, err))?;
            self.activate(idx, probe, false, ops, out, stop);
            self.update_sentinel(idx, ops, out);
            if let Some(at) = out.problems.iter().position(|p| matches!(p, Problem::Error(_))) {
                if let Problem::Error(err) = out.problems.swap_remove(at) {
                    return Err(err);
                }
            }
            if stop() {
                break;
            }
        }
        Ok(())
    }

    /// Whether the engine must poll: folders polled (all of them in polling mode, some after the
    /// watch limit), or roots that no OS watch can report on.
    pub fn has_polled(&self) -> bool {
        self.polled_dirs > 0 || self.roots.iter().any(|root| self.root_is_polled(root))
    }

    fn root_is_polled(&self, root: &Root) -> bool {
        let unwatched = root.sentinel.is_none() && root.path.parent().is_some();
        let polled_dir = self.dirs.get(&root.path).is_some_and(|dir| dir.watched == Watched::Polled);
        unwatched || polled_dir
    }

    /// Applies one event. `path` is absolute, as the backend reported it.
    pub fn on_event(&mut self, path: &Path, hint: Hint, ops: &mut dyn WatchFolders, out: &mut Effects) {
        for idx in 0..self.roots.len() {
            if self.roots[idx].path.starts_with(path) {
                self.check_root(idx, hint, ops, out);
            }
        }
        if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
            if self.dirs.contains_key(parent) && !self.is_root(path) {
                self.reconcile(parent, name, hint, ops, out);
                if self.gitignore && IGNORE_FILES.iter().any(|file| name == *file) {
                    self.reload_ignores(parent, ops, out);
                }
            }
        }
        // notify drops the watches of a folder (and of every folder below it) as soon as it sees
        // the folder deleted or moved away, whatever the disk says by the time we look. If the
        // folder is back under the same name (renamed away and back, say), watch it again.
        if hint == Hint::Removed && self.dirs.contains_key(path) {
            self.rewatch(path, ops, out);
        }
    }

    /// Watches every walked folder at or below `path` again and lists each anew, reporting what
    /// changed while it was not watched (entries added or removed, files changed since shortly
    /// before now).
    fn rewatch(&mut self, path: &Path, ops: &mut dyn WatchFolders, out: &mut Effects) {
        let since = SystemTime::now().checked_sub(RACY_LISTING).unwrap_or(SystemTime::UNIX_EPOCH);
        let below = self.folders_at_or_below(path);
        for dir in below {
            if !self.dirs.contains_key(&dir) {
                continue; // forgotten meanwhile, with a folder above it
            }
            let role = if self.is_root(&dir) { Role::Root } else { Role::Folder };
            self.release_watch(&dir, role, ops);
            let watched = match ops.watch(&dir, role) {
                Ok(watched) => watched,
                Err(err) => {
                    self.report(err, false, out);
                    continue;
                }
            };
            if let Some(node) = self.dirs.get_mut(&dir) {
                match (node.watched == Watched::Polled, watched == Watched::Polled) {
                    (false, true) => self.polled_dirs += 1,
                    (true, false) => self.polled_dirs -= 1,
                    _ => {}
                }
                node.watched = watched;
            }
            self.resync(&dir, Since::Time(since), true, ops, out);
        }
    }

    /// Compares every polled folder with the disk (polling mode, or folders over the watch
    /// limit), and checks roots that have no sentinel.
    pub fn poll(&mut self, ops: &mut dyn WatchFolders, out: &mut Effects) {
        for idx in 0..self.roots.len() {
            if self.root_is_polled(&self.roots[idx]) {
                self.check_root(idx, Hint::Unknown, ops, out);
            }
        }
        let polled: Vec<PathBuf> = self
            .dirs
            .iter()
            .filter(|(_, dir)| dir.watched == Watched::Polled)
            .map(|(path, _)| path.to_path_buf())
            .collect();
        for dir in polled {
            self.resync(&dir, Since::Stamp, false, ops, out);
        }
    }

    /// Compares the whole tree with the disk after events were lost: entries added or removed
    /// since, and files changed at or after `since`.
    pub fn rescan(&mut self, since: SystemTime, ops: &mut dyn WatchFolders, out: &mut Effects) {
        for idx in 0..self.roots.len() {
            self.check_root(idx, Hint::Unknown, ops, out);
        }
        let dirs: Vec<PathBuf> = self.dirs.keys().map(Path::to_path_buf).collect();
        for dir in dirs {
            self.resync(&dir, Since::Time(since), true, ops, out);
        }
    }

    /// The root `path` belongs to (the deepest one, for nested roots).
    pub fn root_of(&self, path: &Path) -> Option<&Path> {
        self.roots
            .iter()
            .filter(|root| path.starts_with(&root.path))
            .max_by_key(|root| root.path.as_os_str().len())
            .map(|root| root.path.as_path())
    }

    /// The walked folders at or below `path`, each before those below it.
    fn folders_at_or_below(&self, path: &Path) -> Vec<PathBuf> {
        self.dirs.at_or_below(path)
    }

    fn is_root(&self, path: &Path) -> bool {
        self.roots.iter().any(|root| root.path == path)
    }

    /// Brings one entry of a walked folder in line with what the event (or the disk) says.
    fn reconcile(
        &mut self,
        parent: &Path,
        name: &OsStr,
        hint: Hint,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
    ) {
        let Some(dir) = self.dirs.get(parent) else { return };
        let root = dir.root as usize;
        if self.filter.is_ignored_entry(&self.roots[root].path, parent, name) {
            return;
        }
        let known = dir.entries.get(name);
        let path = parent.join(name);
        match (hint, known) {
            // A write of a known entry: the event says it all. (Every other event is checked on
            // disk: notify names events by the path a folder was watched under, so for a moment
            // after a folder is renamed, events inside it can carry its old name. Only the disk
            // tells a real entry from such a name.)
            (Hint::Modified, Some(_)) => out.change(ChangeKind::Modified, path),
            _ => {
                let now = probe(&path, self.follow_symlinks);
                match (known, now) {
                    (None, None) => {}
                    (None, Some(found)) => {
                        if !self.ignored_by_files(parent, &path, found.kind == EntryKind::Dir) {
                            self.add_entry(parent, name, found.kind, Some(found), ops, out)
                        }
                    }
                    (Some(entry), None) => self.forget_entry(parent, name, entry, ops, out),
                    (Some(entry), Some(found)) => {
                        self.update_entry(parent, name, entry, found, hint, ops, out)
                    }
                }
            }
        }
    }

    /// Whether the ignore files of `parent` exclude `path`.
    fn ignored_by_files(&self, parent: &Path, path: &Path, is_dir: bool) -> bool {
        self.gitignore && self.dirs.get(parent).is_some_and(|dir| dir.ignores.is_ignored(path, is_dir))
    }

    /// The ignore files that apply to the entries of `dir`.
    fn ignore_stack(&self, dir: &Path) -> IgnoreStack {
        if !self.gitignore {
            return IgnoreStack::default();
        }
        match dir.parent().and_then(|parent| self.dirs.get(parent)) {
            Some(parent) if !self.is_root(dir) => parent.ignores.child(dir),
            _ => IgnoreStack::above(dir).child(dir),
        }
    }

    /// An ignore file of `dir` changed: recompute what applies at and below it, forget what is
    /// ignored now and start watching what no longer is. Nothing is reported for either: the
    /// files themselves did not change.
    fn reload_ignores(&mut self, dir: &Path, ops: &mut dyn WatchFolders, out: &mut Effects) {
        let below = self.folders_at_or_below(dir);
        let mut silent = Effects::default();
        for folder in below {
            if !self.dirs.contains_key(&folder) {
                continue;
            }
            let stack = self.ignore_stack(&folder);
            let Some(node) = self.dirs.get_mut(&folder) else { continue };
            node.ignores = stack.clone();
            let root = node.root as usize;
            let now_ignored: Vec<(OsString, Entry)> = node
                .entries
                .iter()
                .filter(|(name, entry)| stack.is_ignored(&folder.join(name), entry.kind == EntryKind::Dir))
                .map(|(name, entry)| (name.to_os_string(), entry))
                .collect();
            for (name, entry) in now_ignored {
                self.forget_entry(&folder, &name, entry, ops, &mut silent);
            }
            let Ok(listing) = fs::read_dir(&folder) else { continue };
            let root_path = self.roots[root].path.clone();
            for item in listing.flatten() {
                let name = item.file_name();
                let known = self.dirs.get(&folder).is_some_and(|d| d.entries.contains_key(&name));
                let Ok(file_type) = item.file_type() else { continue };
                let path = folder.join(&name);
                if known
                    || self.filter.is_ignored_entry(&root_path, &folder, &name)
                    || stack.is_ignored(&path, file_type.is_dir())
                {
                    continue;
                }
                let kind = if file_type.is_dir() { EntryKind::Dir } else { EntryKind::File };
                if let Some(node) = self.dirs.get_mut(&folder) {
                    node.entries.insert(&name, Entry { kind, stamp: 0 });
                }
                if kind == EntryKind::Dir && self.recursive {
                    self.walk(path, root, listed_inode(&item), false, ops, &mut silent, &|| false);
                }
            }
        }
        out.problems.append(&mut silent.problems);
    }

    fn add_entry(
        &mut self,
        parent: &Path,
        name: &OsStr,
        kind: EntryKind,
        found: Option<Probe>,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
    ) {
        let Some(dir) = self.dirs.get_mut(parent) else { return };
        let stamp = if dir.watched == Watched::Polled { found.map_or(0, |p| p.stamp) } else { 0 };
        dir.entries.insert(name, Entry { kind, stamp });
        let root = dir.root as usize;
        let path = parent.join(name);
        out.change(ChangeKind::Added, path.clone());
        if kind == EntryKind::Dir && self.recursive {
            let ino = found.map_or_else(|| probe(&path, self.follow_symlinks).map_or(0, |p| p.identity.1), |p| p.identity.1);
            self.walk(path, root, ino, true, ops, out, &|| false);
        }
    }

    fn forget_entry(
        &mut self,
        parent: &Path,
        name: &OsStr,
        entry: Entry,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
    ) {
        if let Some(dir) = self.dirs.get_mut(parent) {
            dir.entries.remove(name);
        }
        let path = parent.join(name);
        if entry.kind == EntryKind::Dir {
            self.remove_subtree(&path, ops, out);
        }
        out.change(ChangeKind::Deleted, path);
    }

    #[allow(clippy::too_many_arguments)]
    fn update_entry(
        &mut self,
        parent: &Path,
        name: &OsStr,
        entry: Entry,
        found: Probe,
        hint: Hint,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
    ) {
        let path = parent.join(name);
        let walked_ino = self.dirs.get(&path).map(|dir| dir.ino);
        let replaced = entry.kind != found.kind
            || (found.kind == EntryKind::Dir
                && walked_ino.is_some_and(|ino| ino != 0 && ino != found.identity.1));
        if let Some(dir) = self.dirs.get_mut(parent) {
            let polled = dir.watched == Watched::Polled;
            let stamp = if polled { found.stamp } else { 0 };
            dir.entries.insert(name, Entry { kind: found.kind, stamp });
        }
        if replaced {
            // Delete-then-create of the same name: the old contents go, the new ones come, and
            // the name itself is modified.
            if entry.kind == EntryKind::Dir {
                self.remove_subtree(&path, ops, out);
            }
            out.change(ChangeKind::Modified, path.clone());
            if found.kind == EntryKind::Dir && self.recursive {
                let root = self.dirs.get(parent).map_or(0, |dir| dir.root as usize);
                self.walk(path, root, found.identity.1, true, ops, out, &|| false);
            }
            return;
        }
        if found.kind == EntryKind::Dir && self.recursive && !self.dirs.contains_key(&path) {
            // Known by name only: its walk found it gone (renamed away and back meanwhile).
            // What it holds has not been reported yet.
            if !matches!(hint, Hint::Created(_)) {
                out.change(ChangeKind::Modified, path.clone());
            }
            let root = self.dirs.get(parent).map_or(0, |dir| dir.root as usize);
            self.walk(path, root, found.identity.1, true, ops, out, &|| false);
            return;
        }
        let modified = match hint {
            // A folder whose contents changed is not itself reported.
            Hint::Unknown => found.kind != EntryKind::Dir && (entry.stamp == 0 || entry.stamp != found.stamp),
            Hint::Created(_) => false,
            Hint::Modified | Hint::MovedIn | Hint::Removed => true,
        };
        if modified {
            out.change(ChangeKind::Modified, path);
        }
    }

    /// Forgets every walked folder at or below `path`, reporting each entry they held as deleted
    /// (the caller reports `path` itself).
    fn remove_subtree(&mut self, path: &Path, ops: &mut dyn WatchFolders, out: &mut Effects) {
        let below = self.folders_at_or_below(path);
        for key in below {
            let Some(dir) = self.dirs.remove(&key) else { continue };
            for (name, _) in dir.entries.iter() {
                out.change(ChangeKind::Deleted, key.join(name));
            }
            self.release(&key, &dir, ops);
        }
    }

    fn release(&mut self, path: &Path, dir: &Dir, ops: &mut dyn WatchFolders) {
        if dir.watched == Watched::Polled {
            self.polled_dirs -= 1;
        }
        if let Some(identity) = &dir.identity {
            self.walked_identities.remove(identity);
        }
        if let Some(count) = self.dir_inos.get_mut(&dir.ino) {
            *count -= 1;
            if *count == 0 {
                self.dir_inos.remove(&dir.ino);
            }
        }
        let role = if self.is_root(path) { Role::Root } else { Role::Folder };
        self.release_watch(path, role, ops);
    }

    /// Drops the OS watch of `path` unless something else still needs it: a walked folder that
    /// is also a root's sentinel (the parent of another root), or a sentinel of several roots.
    fn release_watch(&self, path: &Path, role: Role, ops: &mut dyn WatchFolders) {
        let sentinel = self.roots.iter().any(|root| root.sentinel.as_deref() == Some(path));
        let walked = role == Role::Sentinel && self.dirs.contains_key(path);
        if !sentinel && !walked {
            ops.unwatch(path, role);
        }
    }

    /// Forgets `path`, a walked folder whose inode has turned up elsewhere, unless it is still
    /// there (another filesystem can reuse an inode number).
    fn evict_moved(&mut self, path: &Path, ino: u64, ops: &mut dyn WatchFolders, out: &mut Effects) {
        if probe(path, self.follow_symlinks).is_some_and(|p| p.identity.1 == ino) {
            return;
        }
        let entry = path.parent().zip(path.file_name()).and_then(|(parent, name)| {
            self.dirs.get(parent).and_then(|dir| dir.entries.get(name)).map(|e| (parent, name, e))
        });
        match entry {
            Some((parent, name, entry)) if !self.is_root(path) => {
                let (parent, name) = (parent.to_path_buf(), name.to_os_string());
                self.forget_entry(&parent, &name, entry, ops, out);
            }
            _ => {
                // Not a walk: this runs while a walk is under way. Its sentinel reports the
                // root's return.
                if let Some(idx) = self.roots.iter().position(|r| r.path == path) {
                    self.deactivate(idx, ops, out);
                } else {
                    self.remove_subtree(path, ops, out);
                }
            }
        }
    }

    /// Watches then lists `start` and every folder below it (watch first, so nothing created
    /// between the two is missed). With `announce`, every entry found is reported as added.
    /// Watching happens here while the lister thread lists the folders already watched.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        start: PathBuf,
        root: usize,
        start_ino: u64,
        announce: bool,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
        stop: &dyn Fn() -> bool,
    ) {
        let root_path: Arc<Path> = Arc::from(self.roots[root].path.as_path());
        let mut queue = vec![(start, start_ino)];
        // The lister answers in the order it is asked: what is pending is a queue.
        let mut pending: VecDeque<(PathBuf, Pending)> = VecDeque::new();
        loop {
            while let Some((dir, ino)) = queue.pop() {
                if stop() {
                    return self.abandon(pending, ops);
                }
                if let Some((started, handle)) = self.start_folder(&dir, ino, &root_path, ops, out) {
                    let parent_ignores = dir.parent().and_then(|p| self.dirs.get(p)).map(|d| d.ignores.clone());
                    self.lister.submit(Request {
                        dir: dir.clone(),
                        handle,
                        root: root_path.clone(),
                        parent_ignores: if *root_path == *dir { None } else { parent_ignores },
                        stamps: started.watched == Watched::Polled,
                    });
                    pending.push_back((dir, started));
                }
                // Take what is already listed, so new folders keep both threads busy.
                while let Some(listing) = self.lister.next(false) {
                    self.finish_folder(listing, &mut pending, root, announce, &mut queue, ops, out);
                }
            }
            if pending.is_empty() {
                return;
            }
            match self.lister.next(true) {
                Some(listing) => self.finish_folder(listing, &mut pending, root, announce, &mut queue, ops, out),
                None => return self.abandon(pending, ops),
            }
        }
    }

    /// Watches `dir` before it is listed; `None` when it is not to be (or cannot be) walked.
    fn start_folder(
        &mut self,
        dir: &Path,
        ino: u64,
        root_path: &Path,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
    ) -> Option<(Pending, DirHandle)> {
        if self.dirs.contains_key(dir) {
            return None;
        }
        let identity = if self.follow_symlinks {
            let found = probe(dir, true)?;
            if !self.walked_identities.insert(found.identity) {
                return None; // reached again through a symlink: already watched
            }
            Some(found.identity)
        } else {
            None
        };
        if ino != 0 {
            if self.dir_inos.contains_key(&ino) {
                let others: Vec<PathBuf> = self
                    .dirs
                    .iter()
                    .filter(|(path, node)| node.ino == ino && *path != dir)
                    .map(|(path, _)| path.to_path_buf())
                    .collect();
                for other in others {
                    self.evict_moved(&other, ino, ops, out);
                }
            }
        }
        let role = if dir == root_path { Role::Root } else { Role::Folder };
        // Opened before it is watched: the opening then does not come back as an event of its
        // own new watch.
        let opened = DirHandle::open(dir).map_err(|err| Error::from_io(dir, err));
        match opened.and_then(|handle| ops.watch(dir, role).map(|watched| (watched, handle))) {
            Ok((watched, handle)) => Some((Pending { ino, watched, role, identity }, handle)),
            Err(err) => {
                self.report(err, dir == root_path, out);
                if let Some(identity) = identity {
                    self.walked_identities.remove(&identity);
                }
                None
            }
        }
    }

    /// Records a listed folder, reports its entries when announcing, and queues its folders.
    #[allow(clippy::too_many_arguments)]
    fn finish_folder(
        &mut self,
        listing: Listing,
        pending: &mut VecDeque<(PathBuf, Pending)>,
        root: usize,
        announce: bool,
        queue: &mut Vec<(PathBuf, u64)>,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
    ) {
        let Listing { dir, result } = listing;
        let Some(at) = pending.iter().position(|(waiting, _)| *waiting == dir) else { return };
        let Some((_, started)) = pending.remove(at) else { return };
        let listed = match result {
            Ok(listed) => listed,
            Err(err) => {
                self.release_watch(&dir, started.role, ops);
                if let Some(identity) = started.identity {
                    self.walked_identities.remove(&identity);
                }
                self.report(Error::from_io(&dir, err), started.role == Role::Root, out);
                return;
            }
        };
        for (name, entry) in listed.entries.iter() {
            let is_folder = entry.kind == EntryKind::Dir && self.recursive;
            if announce || is_folder {
                let path = dir.join(name);
                if announce {
                    out.change(ChangeKind::Added, path.clone());
                }
                if is_folder {
                    queue.push((path, listed.dir_inodes.get(name).copied().unwrap_or(0)));
                }
            }
        }
        if started.watched == Watched::Polled {
            self.polled_dirs += 1;
        }
        if started.ino != 0 {
            *self.dir_inos.entry(started.ino).or_default() += 1;
        }
        // A fresh listing counts as racy: its folder's times were not read with it.
        let relisted = (started.watched == Watched::Polled)
            .then(|| Box::new(Relisted { stamp: listed.stamp, racy: true }));
        let node = Dir {
            entries: listed.entries,
            ignores: listed.ignores,
            ino: started.ino,
            relisted,
            identity: started.identity.map(Box::new),
            root: root as u32,
            watched: started.watched,
        };
        self.dirs.insert(dir, node);
    }

    /// Gives up folders watched but not yet listed (the watcher is closing).
    fn abandon(&mut self, pending: VecDeque<(PathBuf, Pending)>, ops: &mut dyn WatchFolders) {
        for (dir, started) in pending {
            self.release_watch(&dir, started.role, ops);
        }
    }

    /// Sorts a problem by the options: skip, warn, or fail.
    fn report(&self, err: Error, is_root: bool, out: &mut Effects) {
        match err {
            // Gone between listing and reading: its deletion event says the rest.
            Error::NotFound { .. } if !is_root => {}
            Error::PermissionDenied { .. } if self.ignore_permission_denied && !is_root => {
                out.problems.push(Problem::Warning(err))
            }
            Error::PermissionDenied { .. } | Error::WatchLimit { .. } | Error::NotFound { .. } => {
                out.problems.push(Problem::Error(err))
            }
            other if is_root => out.problems.push(Problem::Error(other)),
            other => out.problems.push(Problem::Warning(other)),
        }
    }

    /// Lists `dir` again and compares it with what is kept: entries added or removed, and files
    /// modified by `since`. With `full`, every folder is relisted; otherwise only those whose own
    /// stamp moved (or was read too recently to trust).
    fn resync(&mut self, dir: &Path, since: Since, full: bool, ops: &mut dyn WatchFolders, out: &mut Effects) {
        if !self.dirs.contains_key(dir) {
            return;
        }
        // Gone: its parent or root check reports it.
        let Ok(handle) = DirHandle::open(dir) else { return };
        let Some((_, own_stamp, changed_at)) = handle.stat(std::ffi::OsStr::new("."), false) else { return };
        let Some(node) = self.dirs.get(dir) else { return };
        let stale = match &node.relisted {
            Some(last) => last.racy || own_stamp != last.stamp,
            None => true,
        };
        if full || stale {
            self.relist(dir, own_stamp, changed_at, ops, out);
        }
        // Look at every file without taking a copy of the names (polling does this for every
        // file of the tree every interval): collect only what changed.
        let Some(node) = self.dirs.get(dir) else { return };
        let mut changed: Vec<(OsString, Option<(EntryKind, u64)>)> = Vec::new();
        for (name, entry) in node.entries.iter() {
            if entry.kind == EntryKind::Dir {
                continue;
            }
            let found = handle.stat(name, self.follow_symlinks);
            let differs = match found {
                None => true,
                Some((kind, _, _)) if kind != entry.kind => true,
                Some((_, stamp, changed_at)) => match since {
                    Since::Stamp => entry.stamp != stamp,
                    Since::Time(time) => changed_at >= time,
                },
            };
            if differs {
                changed.push((name.to_os_string(), found.map(|(kind, stamp, _)| (kind, stamp))));
            }
        }
        for (name, found) in changed {
            let kept = self.dirs.get(dir).and_then(|node| node.entries.get(&name));
            match (kept, found) {
                (Some(entry), Some((kind, stamp))) if kind == entry.kind => {
                    if let Some(node) = self.dirs.get_mut(dir) {
                        if node.watched == Watched::Polled {
                            node.entries.insert(&name, Entry { kind, stamp });
                        }
                    }
                    out.change(ChangeKind::Modified, dir.join(&name));
                }
                _ => self.reconcile(dir, &name, Hint::Unknown, ops, out),
            }
        }
    }

    /// Lists `dir` again and reconciles the names that appeared or disappeared.
    fn relist(&mut self, dir: &Path, stamp: u64, changed_at: SystemTime, ops: &mut dyn WatchFolders, out: &mut Effects) {
        let listed_at = SystemTime::now();
        let mut names: HashSet<OsString> = HashSet::new();
        let Ok(handle) = DirHandle::open(dir) else { return };
        if handle
            .read_entries(dir, |name, _, _| {
                names.insert(name.to_os_string());
            })
            .is_err()
        {
            return;
        }
        let Some(node) = self.dirs.get(dir) else { return };
        let gone: Vec<OsString> = node
            .entries
            .iter()
            .filter(|(name, _)| !names.contains(*name))
            .map(|(name, _)| name.to_os_string())
            .collect();
        let new: Vec<OsString> = names.into_iter().filter(|name| !node.entries.contains_key(name)).collect();
        for name in gone.iter().chain(&new) {
            self.reconcile(dir, name, Hint::Unknown, ops, out);
        }
        if let Some(node) = self.dirs.get_mut(dir) {
            if node.watched == Watched::Polled {
                let racy = changed_at + RACY_LISTING > listed_at;
                node.relisted = Some(Box::new(Relisted { stamp, racy }));
            }
        }
    }

    /// Looks at a root after an event about it or one of its ancestors: gone, replaced, back.
    fn check_root(&mut self, idx: usize, hint: Hint, ops: &mut dyn WatchFolders, out: &mut Effects) {
        let path = self.roots[idx].path.clone();
        let found = probe_root(&path).ok();
        let state = self.roots[idx].state;
        match (state, found) {
            (RootState::Missing, None) => {}
            (RootState::Missing, Some(found)) => self.activate(idx, found, true, ops, out, &|| false),
            (RootState::Dir { ino }, Some(found)) if found.kind == EntryKind::Dir && found.identity.1 == ino => {
                if hint == Hint::Modified {
                    out.change(ChangeKind::Modified, path);
                }
            }
            (RootState::File { stamp }, Some(found)) if found.kind == EntryKind::File => {
                let modified = match hint {
                    Hint::Created(_) => false,
                    Hint::Unknown => stamp != found.stamp,
                    Hint::Modified | Hint::Removed | Hint::MovedIn => true,
                };
                if modified {
                    out.change(ChangeKind::Modified, path);
                }
                self.roots[idx].state = RootState::File { stamp: found.stamp };
            }
            (_, found) => {
                // Gone, or replaced by something else under the same name.
                self.deactivate(idx, ops, out);
                if let Some(found) = found {
                    self.activate(idx, found, true, ops, out, &|| false);
                }
            }
        }
        self.update_sentinel(idx, ops, out);
    }

    fn activate(
        &mut self,
        idx: usize,
        found: Probe,
        announce: bool,
        ops: &mut dyn WatchFolders,
        out: &mut Effects,
        stop: &dyn Fn() -> bool,
    ) {
        let path = self.roots[idx].path.clone();
        if announce {
            out.change(ChangeKind::Added, path.clone());
        }
        if found.kind == EntryKind::Dir {
            self.roots[idx].state = RootState::Dir { ino: found.identity.1 };
            self.walk(path, idx, found.identity.1, announce, ops, out, stop);
        } else {
            self.roots[idx].state = RootState::File { stamp: found.stamp };
        }
    }

    fn deactivate(&mut self, idx: usize, ops: &mut dyn WatchFolders, out: &mut Effects) {
        let path = self.roots[idx].path.clone();
        if matches!(self.roots[idx].state, RootState::Dir { .. }) {
            self.remove_subtree(&path, ops, out);
        }
        if self.roots[idx].state != RootState::Missing {
            out.change(ChangeKind::Deleted, path);
        }
        self.roots[idx].state = RootState::Missing;
    }

    /// Keeps a watch on the root's parent while the root exists, or on its nearest existing
    /// ancestor while it is missing, so its return is seen.
    fn update_sentinel(&mut self, idx: usize, ops: &mut dyn WatchFolders, out: &mut Effects) {
        loop {
            let path = self.roots[idx].path.clone();
            let wanted = if self.roots[idx].state == RootState::Missing {
                path.ancestors().skip(1).find(|a| a.is_dir()).map(Path::to_path_buf)
            } else {
                path.parent().map(Path::to_path_buf)
            };
            if wanted == self.roots[idx].sentinel {
                return;
            }
            let placed = match &wanted {
                Some(dir) => match ops.watch(dir, Role::Sentinel) {
                    Ok(Watched::Polled) => None,
                    Ok(_) => Some(dir.clone()),
                    Err(Error::NotFound { .. }) => continue, // vanished meanwhile: look again
                    Err(err) => {
                        out.problems.push(Problem::Warning(err));
                        None
                    }
                },
                None => None,
            };
            if let Some(old) = self.roots[idx].sentinel.take() {
                self.release_watch(&old, Role::Sentinel, ops);
            }
            self.roots[idx].sentinel = placed.clone();
            if placed.is_none() {
                return; // polled instead
            }
            // The root may have come or gone while the sentinel moved: look once more.
            let exists = probe_root(&path).is_ok();
            let missing = self.roots[idx].state == RootState::Missing;
            if exists == missing {
                match probe_root(&path) {
                    Ok(found) if missing => self.activate(idx, found, true, ops, out, &|| false),
                    Err(_) if !missing => self.deactivate(idx, ops, out),
                    _ => {}
                }
                continue;
            }
            return;
        }
    }
}
