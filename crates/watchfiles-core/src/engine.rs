//! The watcher's own thread: reads what the backend reports, lets the tree turn it into changes,
//! batches them and hands finished batches to the sink. It blocks on its channels with the
//! batch's deadline as timeout, so while nothing happens it does not wake at all (polling mode
//! aside).

use crate::backend::{Backend, BackendKind, EventHandler};
use crate::batch::Batcher;
use crate::error::Error;
use crate::filter::Filter;
use crate::options::Options;
use crate::probe::EntryKind;
use crate::tree::{Effects, Hint, Problem, Tree};
use crate::{Ack, ReadyCell, Sink, WatchEvent};
use crossbeam_channel::{select, unbounded, Receiver, Sender};
use notify::event::{CreateKind, EventKind, ModifyKind, RenameMode};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Raw events waiting for the engine, at most. Past that, events are dropped and the tree is
/// rescanned instead, exactly as after a kernel queue overflow: memory stays bounded and no
/// change is lost. (Counted by hand over an unbounded channel: a bounded one allocates every
/// slot up front, megabytes that a quiet watcher never needs.)
const EVENT_QUEUE: usize = 65_536;

/// How far before the last caught-up moment a rescan looks for modified files: covers
/// timestamp granularity and notify's thread lagging behind the kernel queue.
const RESCAN_SLACK: Duration = Duration::from_secs(2);

pub(crate) enum Control {
    /// The consumer is done with the batch in flight.
    Ack,
    Close,
}

pub(crate) struct Setup {
    pub roots: Vec<PathBuf>,
    pub options: Options,
    pub filter: Filter,
    pub control_tx: Sender<Control>,
    pub control_rx: Receiver<Control>,
    pub closed: Arc<AtomicBool>,
    pub ready: Arc<ReadyCell>,
}

/// How long closing waits for notify's thread to release the OS watches.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) fn run(setup: Setup, sink: &mut dyn Sink) {
    let (events_tx, events_rx) = unbounded();
    let overflowed = Arc::new(AtomicBool::new(false));
    let queued = Arc::new(AtomicUsize::new(0));
    let siblings = SiblingFilter::new(&setup.roots, setup.options.recursive);
    let handler = event_handler(events_tx, queued.clone(), overflowed.clone(), siblings);
    let force_polling = setup.options.resolved_force_polling(&setup.roots);
    let (mut backend, startup_warning) =
        Backend::new(force_polling, setup.options.on_watch_limit, handler);
    if let Some(warning) = startup_warning {
        sink.send(WatchEvent::Warning(warning));
    }
    let events = Events { rx: events_rx, queued };
    watch(setup, &mut backend, &events, &overflowed, sink);
    // notify's thread removes its watches and closes the inotify descriptor after the watcher
    // is dropped, then drops our handler and with it the last sender: wait for that, so that
    // once closing returns no OS watch is left behind.
    drop(backend);
    let deadline = Instant::now() + RELEASE_TIMEOUT;
    while let Ok(_) | Err(crossbeam_channel::RecvTimeoutError::Timeout) =
        events.rx.recv_deadline(deadline)
    {
        if Instant::now() >= deadline {
            break;
        }
    }
}

/// The engine's end of the raw-event queue.
/// A raw event and when notify's thread handed it over: a batch's quiet period counts from the
/// change, not from when the engine got round to it.
type Arrived = (Instant, notify::Result<notify::Event>);

struct Events {
    rx: Receiver<Arrived>,
    queued: Arc<AtomicUsize>,
}

impl Events {
    fn taken(&self, event: Option<Arrived>) -> Option<Arrived> {
        if event.is_some() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        event
    }
}

fn watch(
    setup: Setup,
    backend: &mut Backend,
    events: &Events,
    overflowed: &AtomicBool,
    sink: &mut dyn Sink,
) {
    let Setup { roots, options, filter, control_tx, control_rx, closed, ready } = setup;

    let reported = filter.clone();
    let mut tree = Tree::new(filter, roots, &options);
    let mut effects = Effects::default();
    let stop = || closed.load(Ordering::Relaxed);
    if let Err(err) = tree.start(backend, &mut effects, &stop) {
        ready.set(Err(err.clone()));
        sink.send(WatchEvent::Failed(err));
        return;
    }
    if stop() {
        return;
    }
    report_problems(&mut effects, backend, sink);
    ready.set(Ok(backend.kind()));
    sink.send(WatchEvent::Ready { backend: backend.kind() });
    // After ready, not before: the trim walks every malloc arena of the process (Node.js's too).
    release_startup_memory();

    let precise = backend.kind() == BackendKind::Inotify;
    let poll_interval = options.resolved_poll_interval();
    let mut batcher = Batcher::new(options.step, options.debounce);
    let mut in_flight = false;
    let mut next_poll = tree.has_polled().then(|| Instant::now() + poll_interval);
    let mut caught_up = SystemTime::now();
    let mut last_event: Option<(PathBuf, Hint)> = None;

    // Polling has no notify watcher: nothing will ever send events. A disconnected channel is
    // always ready, so selecting on it would spin; select on one that never is instead.
    let mut raw = events.rx.clone();
    loop {
        let batch_deadline = if in_flight { None } else { batcher.deadline() };
        let deadline = match (batch_deadline, next_poll) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let timeout = deadline.map_or_else(crossbeam_channel::never, crossbeam_channel::at);
        let mut first = None;
        select! {
            recv(control_rx) -> msg => match msg {
                Ok(Control::Ack) => in_flight = false,
                Ok(Control::Close) | Err(_) => return,
            },
            recv(raw) -> msg => match msg {
                Ok(event) => first = events.taken(Some(event)),
                Err(_) => raw = crossbeam_channel::never(),
            },
            recv(timeout) -> _ => {}
        }
        if stop() {
            return;
        }
        // Take everything already queued before deciding anything: with `step: 0` this is what
        // "deliver what the OS has queued as soon as it has been read" means.
        let mut next = first;
        let mut arrived: Option<Instant> = None;
        loop {
            let Some((at, result)) = next.take().or_else(|| events.taken(events.rx.try_recv().ok())) else {
                break;
            };
            arrived = Some(at);
            match result {
                Ok(event) => {
                    if event.need_rescan() {
                        overflowed.store(true, Ordering::Relaxed);
                    }
                    for (path, hint) in hints(&event, precise) {
                        let repeat = last_event.as_ref().is_some_and(|(p, h)| *h == hint && p.as_path() == path);
                        if !repeat {
                            tree.on_event(path, hint, backend, &mut effects);
                            last_event = Some((path.to_path_buf(), hint));
                        }
                    }
                }
                Err(err) => {
                    let path = err.paths.first().cloned().unwrap_or_default();
                    effects.problems.push(Problem::Error(Error::from_notify(&path, err)));
                }
            }
        }
        last_event = None;
        while let Ok(msg) = control_rx.try_recv() {
            match msg {
                Control::Ack => in_flight = false,
                Control::Close => return,
            }
        }
        if overflowed.swap(false, Ordering::Relaxed) {
            let since = caught_up.checked_sub(RESCAN_SLACK).unwrap_or(SystemTime::UNIX_EPOCH);
            tree.rescan(since, backend, &mut effects);
        } else {
            caught_up = SystemTime::now();
        }
        if next_poll.is_some_and(|at| Instant::now() >= at) {
            tree.poll(backend, &mut effects);
            next_poll = None;
        }
        if next_poll.is_none() && tree.has_polled() {
            next_poll = Some(Instant::now() + poll_interval);
        }

        let changed_at = arrived.unwrap_or_else(Instant::now);
        for (kind, path) in effects.changes.drain(..) {
            if tree.root_of(&path).is_some_and(|root| reported.is_reported(root, &path)) {
                batcher.push(kind, path, changed_at);
            }
        }
        report_problems(&mut effects, backend, sink);
        if !in_flight {
            let opened_at = batcher.opened_at();
            let now = Instant::now();
            if let Some(changes) = batcher.take_due(now) {
                if !changes.is_empty() {
                    in_flight = true;
                    let age = opened_at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
                    let first_change_at = SystemTime::now().checked_sub(age).unwrap_or_else(SystemTime::now);
                    let ack = Ack::new(control_tx.clone());
                    sink.send(WatchEvent::Changes { changes, first_change_at, ack });
                }
            }
        }
    }
}

/// A root's parent is watched to see the root go and come back, and so reports everything
/// else that happens in it too. This drops those events on notify's thread, before they cost a
/// queue slot and the engine's time: a busy parent (`/tmp`, a home folder) stays cheap.
struct SiblingFilter {
    /// The roots' parents, but those inside another recursive root: their entries are watched
    /// for their own sake.
    parents: Vec<PathBuf>,
    roots: Vec<PathBuf>,
}

impl SiblingFilter {
    fn new(roots: &[PathBuf], recursive: bool) -> SiblingFilter {
        let mut parents: Vec<PathBuf> = Vec::new();
        for root in roots {
            let Some(parent) = root.parent() else { continue };
            let inside_another = roots.iter().any(|other| {
                other.as_path() != root && parent.starts_with(other) && (recursive || parent == other)
            });
            if !inside_another && !parents.iter().any(|p| p == parent) {
                parents.push(parent.to_path_buf());
            }
        }
        SiblingFilter { parents, roots: roots.to_vec() }
    }

    /// Whether `path` is an entry of a watched parent that is neither a root nor on the way to
    /// one (a missing root's sentinel may sit higher up).
    fn is_sibling(&self, path: &Path) -> bool {
        let Some(parent) = path.parent() else { return false };
        self.parents.iter().any(|p| p == parent) && !self.roots.iter().any(|root| root.starts_with(path))
    }
}

/// Runs on notify's thread: forwards events without ever blocking it (a blocked notify thread
/// would stall our own watch requests). Reads of watched files, and events of the roots'
/// siblings, are dropped right here.
fn event_handler(
    events: Sender<Arrived>,
    queued: Arc<AtomicUsize>,
    overflowed: Arc<AtomicBool>,
    siblings: SiblingFilter,
) -> EventHandler {
    Box::new(move |result: notify::Result<notify::Event>| {
        if let Ok(event) = &result {
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            if !event.need_rescan() && !event.paths.is_empty() && event.paths.iter().all(|p| siblings.is_sibling(p)) {
                return;
            }
        }
        if queued.fetch_add(1, Ordering::Relaxed) >= EVENT_QUEUE {
            queued.fetch_sub(1, Ordering::Relaxed);
            overflowed.store(true, Ordering::Relaxed);
        } else if events.send((Instant::now(), result)).is_err() {
            queued.fetch_sub(1, Ordering::Relaxed);
        }
    })
}

/// What each path of a notify event means to the tree. With `precise` (inotify) the event kind
/// is trusted; other backends coalesce and reorder, so the disk is asked instead.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_of_roots_are_dropped_and_roots_and_their_contents_kept() {
        let roots = [PathBuf::from("/tmp/a"), PathBuf::from("/tmp/b"), PathBuf::from("/home/me/p"), PathBuf::from("/tmp/a/x/inner")];
        let filter = SiblingFilter::new(&roots, true);
        assert!(filter.is_sibling(Path::new("/tmp/other.log")));
        assert!(filter.is_sibling(Path::new("/home/me/.bash_history")));
        assert!(!filter.is_sibling(Path::new("/tmp/a")));
        assert!(!filter.is_sibling(Path::new("/tmp/b")));
        assert!(!filter.is_sibling(Path::new("/tmp/a/file")), "inside a root");
        assert!(!filter.is_sibling(Path::new("/tmp")), "the parent itself (moved or deleted)");
        assert!(!filter.is_sibling(Path::new("/tmp/a/x/other")), "a parent inside a root is a watched folder");
        let missing = SiblingFilter::new(&[PathBuf::from("/tmp/x"), PathBuf::from("/tmp/m/n/root")], true);
        assert!(!missing.is_sibling(Path::new("/tmp/m")), "on the way to a root");
    }
}

fn hints(event: &notify::Event, precise: bool) -> Vec<(&Path, Hint)> {
    if !precise {
        return event.paths.iter().map(|p| (p.as_path(), Hint::Unknown)).collect();
    }
    let hint = match event.kind {
        EventKind::Access(_) => return Vec::new(),
        EventKind::Create(CreateKind::File) => Hint::Created(Some(EntryKind::File)),
        EventKind::Create(CreateKind::Folder) => Hint::Created(Some(EntryKind::Dir)),
        EventKind::Create(_) => Hint::Created(None),
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => Hint::Removed,
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => Hint::MovedIn,
        // inotify also reports each half on its own.
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => return Vec::new(),
        EventKind::Modify(ModifyKind::Name(_)) => Hint::Unknown,
        EventKind::Modify(_) => Hint::Modified,
        EventKind::Remove(_) => Hint::Removed,
        EventKind::Any | EventKind::Other => Hint::Unknown,
    };
    event.paths.iter().map(|p| (p.as_path(), hint)).collect()
}

/// The start-up walk allocates and frees a great deal (listings in flight, queues of paths);
/// hand the freed memory back to the OS rather than keep it for the life of the watcher.
fn release_startup_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator; nothing is invalidated.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn report_problems(effects: &mut Effects, backend: &mut Backend, sink: &mut dyn Sink) {
    if let Some(warning) = backend.take_limit_warning() {
        sink.send(WatchEvent::Warning(warning));
    }
    for problem in effects.problems.drain(..) {
        sink.send(match problem {
            Problem::Warning(err) => WatchEvent::Warning(err),
            Problem::Error(err) => WatchEvent::Error(err),
        });
    }
}
