#![warn(missing_docs)]
//! A file watcher core for development tools: it watches trees of folders through the OS
//! (inotify, FSEvents, ReadDirectoryChangesW, via [`notify`]) or by polling, never walks or
//! watches ignored folders, and delivers batches of net changes.
//!
//! ```
//! use std::sync::mpsc;
//! use std::time::Duration;
//! use watchfiles_core::{ChangeKind, Options, WatchEvent, Watcher};
//!
//! let dir = tempfile::tempdir()?;
//! let (tx, rx) = mpsc::channel();
//! let mut watcher = Watcher::start([dir.path()], Options::default(), move |event| {
//!     let _ = tx.send(event);
//! })?;
//! watcher.wait_ready()?; // every folder is watched from here on
//!
//! let file = dir.path().join("hello.txt");
//! std::fs::write(&file, "hi")?;
//! loop {
//!     if let WatchEvent::Changes { changes, .. } = rx.recv_timeout(Duration::from_secs(10))? {
//!         // Created then written within one batch: one `Added`.
//!         assert_eq!(changes.len(), 1);
//!         assert_eq!(changes[0].kind, ChangeKind::Added);
//!         assert_eq!(changes[0].path, file);
//!         break;
//!     }
//! }
//! watcher.close(); // once this returns, no OS watch is left
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `cargo run -p watchfiles-core --example watch -- <folder>` prints the batches for a folder.
//!
//! Each batch holds at most one [`Change`] per path: the net effect of everything that happened
//! to it while the batch was open (see [`coalesce`]). A batch closes after `step` quiet
//! milliseconds or `debounce` milliseconds after it opened (see [`batch`]). The next batch is
//! delivered only once the [`Ack`] of the previous one is dropped: a slow consumer gets bigger
//! batches, never a growing queue.

mod backend;
pub mod batch;
mod change;
pub mod coalesce;
mod engine;
mod entries;
mod error;
pub mod filter;
mod folders;
mod gitignore;
mod lister;
mod options;
mod probe;
mod tree;

pub use backend::BackendKind;
pub use change::{Change, ChangeKind};
pub use error::{Error, Result};
pub use options::{Options, WatchLimitPolicy, DEFAULT_DEBOUNCE, DEFAULT_POLL_INTERVAL, DEFAULT_STEP};

use crossbeam_channel::{unbounded, Sender};
use engine::Control;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::SystemTime;

/// What the watcher tells its sink, in this order: `Ready` or `Failed` once, then any number of
/// `Changes`, `Warning` and `Error`.
#[derive(Debug)]
pub enum WatchEvent {
    /// Every root is walked and watched.
    Ready {
        /// What delivers the changes.
        backend: BackendKind,
    },
    /// The start failed (a root unreadable, the watch limit under
    /// [`WatchLimitPolicy::Error`], ...); the watcher has stopped.
    Failed(Error),
    /// A batch of net changes. `first_change_at` is when its first change was seen (what a
    /// change-to-reaction time is measured from). Dropping `ack` allows the next batch.
    Changes {
        /// At most one change per path, in the order paths were first seen.
        changes: Vec<Change>,
        /// When the first of them was seen.
        first_change_at: SystemTime,
        /// Drop it to let the next batch come.
        ack: Ack,
    },
    /// Something was skipped as the options allow; watching goes on.
    Warning(Error),
    /// Something failed while watching; watching goes on for everything else.
    Error(Error),
}

/// Receives the watcher's events on the watcher's thread. Any `FnMut(WatchEvent) + Send` is one.
pub trait Sink: Send + 'static {
    /// Handles one event; it should not block for long (the watcher waits for it).
    fn send(&mut self, event: WatchEvent);
}

impl<F: FnMut(WatchEvent) + Send + 'static> Sink for F {
    fn send(&mut self, event: WatchEvent) {
        self(event)
    }
}

/// Held while a batch is being handled; dropping it lets the watcher deliver the next one.
#[derive(Debug)]
pub struct Ack(Option<Sender<Control>>);

impl Ack {
    fn new(control: Sender<Control>) -> Ack {
        Ack(Some(control))
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        if let Some(control) = self.0.take() {
            let _ = control.send(Control::Ack);
        }
    }
}

/// A running watcher. Dropping it closes it.
pub struct Watcher {
    control: Sender<Control>,
    closed: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    ready: Arc<ReadyCell>,
    roots: Vec<PathBuf>,
}

impl Watcher {
    /// Starts watching `roots` (folders or files; relative paths are taken from the current
    /// directory). Returns at once: the tree is walked on the watcher's thread, which then sends
    /// [`WatchEvent::Ready`] (or [`WatchEvent::Failed`]) to `sink`. A root that does not exist or
    /// an invalid option is an error here.
    pub fn start<I, P, S>(roots: I, options: Options, sink: S) -> Result<Watcher>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
        S: Sink,
    {
        options.validate()?;
        let filter = filter::Filter::new(&options)?;
        let roots = normalize_roots(roots, &options, &filter)?;
        let (control_tx, control_rx) = unbounded();
        let closed = Arc::new(AtomicBool::new(false));
        let ready = Arc::new(ReadyCell::default());
        let setup = engine::Setup {
            roots: roots.clone(),
            options,
            filter,
            control_tx: control_tx.clone(),
            control_rx,
            closed: closed.clone(),
            ready: ready.clone(),
        };
        let thread_ready = ready.clone();
        let thread = std::thread::Builder::new()
            .name("watchfiles".into())
            .spawn(move || {
                let mut sink = sink;
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    engine::run(setup, &mut sink)
                }));
                if let Err(panic) = outcome {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    let err = Error::Backend(format!("the watcher thread stopped: {what}"));
                    if !thread_ready.is_settled() {
                        thread_ready.set(Err(err.clone()));
                        sink.send(WatchEvent::Failed(err));
                    } else {
                        sink.send(WatchEvent::Error(err));
                    }
                }
            })
            .map_err(|err| Error::Backend(format!("cannot start the watcher thread: {err}")))?;
        Ok(Watcher { control: control_tx, closed, thread: Some(thread), ready, roots })
    }

    /// Blocks until every root is watched; returns the backend in use, or why the start failed.
    pub fn wait_ready(&self) -> Result<BackendKind> {
        self.ready.wait()
    }

    /// The absolute roots being watched (nested duplicates removed).
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Stops watching: once this returns, the sink is not called again and every OS watch is
    /// gone. Calling it again does nothing.
    pub fn close(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
        let _ = self.control.send(Control::Close);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.ready.set(Err(Error::Backend("the watcher was closed before it was ready".into())));
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.close();
    }
}

/// Absolute roots that exist, without those already covered by another recursive root.
fn normalize_roots<I, P>(roots: I, options: &Options, filter: &filter::Filter) -> Result<Vec<PathBuf>>
where
    I: IntoIterator<Item = P>,
    P: AsRef<Path>,
{
    let cwd = std::env::current_dir().map_err(|err| Error::Backend(format!("no current directory: {err}")))?;
    let mut absolute: Vec<PathBuf> = Vec::new();
    for root in roots {
        let root = root.as_ref();
        if root.as_os_str().is_empty() {
            return Err(Error::InvalidOption { name: "paths", reason: "a path is empty".into() });
        }
        let path: PathBuf = cwd.join(root).components().collect();
        if let Err(err) = probe::probe_root(&path) {
            return Err(Error::from_io(&path, err));
        }
        if !absolute.contains(&path) {
            absolute.push(path);
        }
    }
    if absolute.is_empty() {
        return Err(Error::InvalidOption { name: "paths", reason: "no path to watch".into() });
    }
    let covered = |inner: &Path, outer: &Path| {
        options.recursive
            && inner != outer
            && inner.starts_with(outer)
            && inner
                .ancestors()
                .take_while(|a| *a != outer)
                .all(|a| !filter.is_ignored(outer, a))
    };
    let kept = absolute
        .iter()
        .filter(|inner| !absolute.iter().any(|outer| covered(inner, outer)))
        .cloned()
        .collect();
    Ok(kept)
}

/// The outcome of the start, for [`Watcher::wait_ready`].
#[derive(Default)]
pub(crate) struct ReadyCell {
    state: Mutex<Option<Result<BackendKind>>>,
    settled: Condvar,
}

impl ReadyCell {
    pub(crate) fn set(&self, outcome: Result<BackendKind>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.is_none() {
            *state = Some(outcome);
            self.settled.notify_all();
        }
    }

    fn is_settled(&self) -> bool {
        self.state.lock().map(|s| s.is_some()).unwrap_or(true)
    }

    fn wait(&self) -> Result<BackendKind> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.is_none() {
            state = self.settled.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.as_ref().cloned().unwrap_or_else(|| Err(Error::Backend("closed".into())))
    }
}
