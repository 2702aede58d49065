//! Helpers for tests against the real filesystem: start a watcher on a temp folder and wait, with
//! a deadline, for exactly the changes expected.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};
use watchfiles_core::coalesce::Coalescer;
use watchfiles_core::{BackendKind, Change, ChangeKind, Options, WatchEvent, Watcher};

pub const DEADLINE: Duration = Duration::from_secs(10);

pub struct Harness {
    pub watcher: Watcher,
    pub events: Receiver<WatchEvent>,
    pub backend: BackendKind,
    _shared: Option<RwLockReadGuard<'static, ()>>,
}

/// Tests run in parallel threads of one process, and inotify watches are counted per process:
/// a test that counts them holds this exclusively, every other watcher holds it shared.
static WATCH_COUNT: RwLock<()> = RwLock::new(());

/// Held by a test that counts inotify watches.
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    WATCH_COUNT.write().unwrap_or_else(|e| e.into_inner())
}

pub fn fast_options() -> Options {
    Options { step: Duration::from_millis(20), ..Options::default() }
}

pub fn start(roots: &[&Path], options: Options) -> Harness {
    let shared = Some(WATCH_COUNT.read().unwrap_or_else(|e| e.into_inner()));
    start_inner(roots, options, shared)
}

/// Starts a watcher for a test that already holds [`exclusive`].
pub fn start_counted(roots: &[&Path], options: Options) -> Harness {
    start_inner(roots, options, None)
}

fn start_inner(roots: &[&Path], options: Options, shared: Option<RwLockReadGuard<'static, ()>>) -> Harness {
    let (tx, events) = channel();
    let watcher = Watcher::start(roots, options, move |event| {
        let _ = tx.send(event);
    })
    .expect("watcher starts");
    let backend = watcher.wait_ready().expect("watcher ready");
    // Drain the Ready event.
    match events.recv_timeout(DEADLINE) {
        Ok(WatchEvent::Ready { .. }) => {}
        other => panic!("expected Ready, got {other:?}"),
    }
    Harness { watcher, events, backend, _shared: shared }
}

impl Harness {
    /// A harness around a watcher a test started itself (its Ready already taken).
    pub fn from_parts(watcher: Watcher, events: Receiver<WatchEvent>) -> Harness {
        let backend = watcher.wait_ready().expect("ready");
        Harness { watcher, events, backend, _shared: None }
    }
}

pub fn change(kind: ChangeKind, path: impl Into<PathBuf>) -> Change {
    Change::new(kind, path)
}

impl Harness {
    /// Collects changes until `expected` have all been seen (then waits `settle` more for any
    /// extra), or the deadline passes. Returns the net effect of every batch seen, folded with the
    /// core's own rules: a file reported added in one batch and written again before the next is
    /// added + modified, which nets to added.
    pub fn collect_until(&self, expected: &BTreeSet<Change>, settle: Duration) -> BTreeSet<Change> {
        let deadline = Instant::now() + DEADLINE;
        let mut folded = Coalescer::new();
        let net = |folded: &Coalescer| folded.clone().take().into_iter().collect::<BTreeSet<_>>();
        let mut seen = BTreeSet::new();
        let mut done_at: Option<Instant> = None;
        loop {
            let until = done_at.unwrap_or(deadline).min(deadline);
            let timeout = until.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(timeout) {
                Ok(WatchEvent::Changes { changes, ack, .. }) => {
                    drop(ack);
                    for change in changes {
                        folded.observe(change.kind, change.path);
                    }
                    seen = net(&folded);
                    if done_at.is_none() && expected.is_subset(&seen) {
                        done_at = Some(Instant::now() + settle);
                    }
                }
                Ok(WatchEvent::Warning(w)) => eprintln!("warning: {w}"),
                Ok(other) => panic!("unexpected event {other:?}"),
                Err(RecvTimeoutError::Timeout) => return seen,
                Err(RecvTimeoutError::Disconnected) => return seen,
            }
        }
    }

    /// Asserts that exactly `expected` arrives (over any number of batches, each path once).
    pub fn expect(&self, expected: impl IntoIterator<Item = Change>) {
        let expected: BTreeSet<Change> = expected.into_iter().collect();
        let seen = self.collect_until(&expected, Duration::from_millis(150));
        let missing: Vec<_> = expected.difference(&seen).take(10).collect();
        let extra: Vec<_> = seen.difference(&expected).take(10).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{} missing (first: {missing:?}), {} extra (first: {extra:?})",
            expected.difference(&seen).count(),
            seen.difference(&expected).count()
        );
    }

    /// Waits for the next batch and returns it.
    pub fn next_batch(&self) -> Vec<Change> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(WatchEvent::Changes { changes, .. }) => return changes,
                Ok(WatchEvent::Warning(w)) => eprintln!("warning: {w}"),
                Ok(other) => panic!("unexpected event {other:?}"),
                Err(err) => panic!("no batch before the deadline: {err}"),
            }
        }
    }

    /// Asserts that nothing arrives within `quiet`.
    pub fn expect_nothing(&self, quiet: Duration) {
        match self.events.recv_timeout(quiet) {
            Err(_) => {}
            Ok(event) => panic!("expected nothing, got {event:?}"),
        }
    }
}

/// Number of inotify watches held by this process (the `inotify wd:` lines of its fdinfo).
pub fn inotify_watch_count() -> usize {
    let mut count = 0;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else { continue };
        if target.to_string_lossy() != "anon_inode:inotify" {
            continue;
        }
        let info = format!("/proc/self/fdinfo/{}", entry.file_name().to_string_lossy());
        if let Ok(text) = std::fs::read_to_string(info) {
            count += text.lines().filter(|l| l.starts_with("inotify wd:")).count();
        }
    }
    count
}

pub fn write(path: &Path, content: &str) {
    std::fs::write(path, content).unwrap();
}
