//! The OS side: which notify watcher runs, which paths it watches, and the fall-back to polling.
//!
//! Linux has no cheap recursive watch, so every folder the tree walks gets a non-recursive inotify
//! watch of its own (ignored folders get none). macOS, Windows and the BSDs watch each root
//! recursively and the tree filters what they report. Polling needs no OS watch at all: the engine
//! re-stats what the tree holds.

use crate::error::{Error, Result};
use crate::options::WatchLimitPolicy;
use notify::{RecursiveMode, Watcher as _};
use std::path::Path;

/// The mechanism that delivers changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Linux inotify: one watch per folder.
    Inotify,
    /// macOS FSEvents: one recursive stream per root.
    FsEvents,
    /// Windows ReadDirectoryChangesW: one recursive watch per root.
    Windows,
    /// BSD kqueue.
    Kqueue,
    /// No OS events: the tree is compared with the disk every poll interval.
    Polling,
}

impl BackendKind {
    /// Its lower-case name (`inotify`, `fsevents`, `windows`, `kqueue`, `polling`).
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Inotify => "inotify",
            BackendKind::FsEvents => "fsevents",
            BackendKind::Windows => "windows",
            BackendKind::Kqueue => "kqueue",
            BackendKind::Polling => "polling",
        }
    }
}

/// Why the tree asks for a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A root folder.
    Root,
    /// A folder below a root.
    Folder,
    /// The nearest existing ancestor of a root: tells when the root is deleted, renamed or
    /// comes back.
    Sentinel,
}

/// How a folder ended up being watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// An OS watch of its own.
    Native,
    /// The engine polls it.
    Polled,
    /// A recursive watch on its root covers it.
    Covered,
}

/// Something the tree can ask to watch folders. One watch per path: the tree, which knows who
/// needs a path (a folder it walked, a root's sentinel), releases it only when none does.
pub trait WatchFolders {
    fn watch(&mut self, path: &Path, role: Role) -> Result<Watched>;
    fn unwatch(&mut self, path: &Path, role: Role);
}

/// Receives raw notify events on notify's own thread.
pub type EventHandler = Box<dyn FnMut(notify::Result<notify::Event>) + Send + 'static>;

pub struct Backend {
    native: Option<Box<dyn notify::Watcher + Send>>,
    kind: BackendKind,
    policy: WatchLimitPolicy,
    /// Set when the OS watch limit first pushed a folder to polling; taken by the engine.
    limit_warning: Option<Error>,
    limit_warned: bool,
}

impl Backend {
    /// Starts the native watcher, or none when polling. Falls back to polling when the native
    /// one cannot start (no inotify instance left, for one).
    pub fn new(
        force_polling: bool,
        policy: WatchLimitPolicy,
        handler: EventHandler,
    ) -> (Backend, Option<Error>) {
        let mut backend = Backend {
            native: None,
            kind: BackendKind::Polling,
            policy,
            limit_warning: None,
            limit_warned: false,
        };
        if force_polling {
            return (backend, None);
        }
        match notify::RecommendedWatcher::new(handler, notify::Config::default()) {
            Ok(watcher) => {
                backend.kind = match notify::RecommendedWatcher::kind() {
                    notify::WatcherKind::Inotify => BackendKind::Inotify,
                    notify::WatcherKind::Fsevent => BackendKind::FsEvents,
                    notify::WatcherKind::ReadDirectoryChangesWatcher => BackendKind::Windows,
                    notify::WatcherKind::Kqueue => BackendKind::Kqueue,
                    _ => BackendKind::Polling,
                };
                if backend.kind != BackendKind::Polling {
                    backend.native = Some(Box::new(watcher));
                }
                (backend, None)
            }
            Err(err) => {
                let warning = Error::Backend(format!(
                    "native file events are unavailable ({err}); polling instead"
                ));
                (backend, Some(warning))
            }
        }
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// The warning to report the first time the watch limit sent a folder to polling.
    pub fn take_limit_warning(&mut self) -> Option<Error> {
        self.limit_warning.take()
    }

    fn per_folder(&self) -> bool {
        self.kind == BackendKind::Inotify
    }
}

impl WatchFolders for Backend {
    fn watch(&mut self, path: &Path, role: Role) -> Result<Watched> {
        let per_folder = self.per_folder();
        let Some(native) = self.native.as_mut() else { return Ok(Watched::Polled) };
        let mode = match (per_folder, role) {
            (true, _) => RecursiveMode::NonRecursive,
            (false, Role::Root) => RecursiveMode::Recursive,
            (false, _) => return Ok(Watched::Covered),
        };
        // Re-adding a watch that exists is harmless (the tree re-watches folders notify dropped).
        match native.watch(path, mode) {
            Ok(()) => Ok(Watched::Native),
            Err(err) => match Error::from_notify(path, err) {
                Error::WatchLimit { path } if self.policy == WatchLimitPolicy::Poll => {
                    if !self.limit_warned {
                        self.limit_warned = true;
                        self.limit_warning = Some(Error::WatchLimit { path });
                    }
                    Ok(Watched::Polled)
                }
                other => Err(other),
            },
        }
    }

    fn unwatch(&mut self, path: &Path, role: Role) {
        if !self.per_folder() && role != Role::Root {
            return; // covered by its root's recursive watch
        }
        if let Some(native) = self.native.as_mut() {
            // Not found means notify already dropped it (the folder went away).
            let _ = native.unwatch(path);
        }
    }
}
