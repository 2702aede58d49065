//! Node.js binding of `watchfiles-core`: options in, batches out through a thread-safe function,
//! and a deterministic close. Conversions and handles only; the watching lives in the core.

mod socket;

use napi::bindgen_prelude::{Buffer, Either, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{CleanupEnvHook, Env, Result, Status};
use napi_derive::napi;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use watchfiles_core::{filter, Ack, Change, ChangeKind, Error, Options, WatchEvent, WatchLimitPolicy, Watcher};

/// Watch options as JavaScript passes them (durations in milliseconds). `src/watch.ts` validates
/// them first and reports bad ones by option name; this only converts.
#[napi(object)]
pub struct NativeOptions {
    pub recursive: Option<bool>,
    pub step: Option<f64>,
    pub debounce: Option<f64>,
    pub default_ignore: Option<bool>,
    pub ignore: Option<Vec<String>>,
    pub force_polling: Option<bool>,
    pub poll_interval: Option<f64>,
    pub ignore_permission_denied: Option<bool>,
    pub follow_symlinks: Option<bool>,
    /// `"poll"` (default) or `"error"`.
    pub on_watch_limit: Option<String>,
    pub extensions: Option<Vec<String>>,
    pub include: Option<Vec<String>>,
    pub gitignore: Option<bool>,
}

/// One message from the watcher thread.
#[napi(object)]
pub struct NativeEvent {
    /// `ready`, `changes`, `warning`, `error`, `failed` or `closed`.
    pub kind: String,
    /// With `ready`: `inotify`, `fsevents`, `windows`, `kqueue` or `polling`.
    pub backend: Option<String>,
    /// With `changes`: records separated by NUL, each a kind letter (`a`dded, `m`odified,
    /// `d`eleted) and the path. An upper-case letter marks a path that is not valid UTF-8: its
    /// text is lossy and its exact bytes are the next entry of `raw_paths`.
    pub changes: Option<String>,
    pub raw_paths: Option<Vec<Buffer>>,
    /// With `changes`: when the batch's first change was seen, in ms since the Unix epoch.
    pub first_change_at: Option<f64>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub path: Option<String>,
}

/// An error met before the watcher could start.
#[napi(object)]
pub struct NativeError {
    pub code: String,
    pub message: String,
    pub path: Option<String>,
}

/// The default ignores of the core, so JavaScript's `DefaultFilter` uses the same lists.
#[napi(object)]
pub struct DefaultIgnore {
    pub dirs: Vec<String>,
    pub names: Vec<String>,
}

#[napi]
pub fn default_ignore() -> DefaultIgnore {
    DefaultIgnore {
        dirs: filter::DEFAULT_IGNORE_DIRS.iter().map(|s| s.to_string()).collect(),
        names: filter::DEFAULT_IGNORE_NAMES.iter().map(|s| s.to_string()).collect(),
    }
}

enum Payload {
    Ready(&'static str),
    Changes(Vec<Change>, SystemTime),
    Problem(&'static str, Error),
    Closed,
}

type EventFunction = ThreadsafeFunction<Payload, (), NativeEvent, Status, false, true>;

/// The watcher and its thread-safe function, torn down in the order that cannot deadlock: stop the
/// core (which joins its thread; it never waits on JavaScript), then release the function on the
/// JavaScript thread.
struct Running {
    watcher: Option<Watcher>,
    events: Option<Arc<EventFunction>>,
    /// The thread that is closing the core (closing waits for the kernel to drop every watch,
    /// which takes milliseconds: not something to block JavaScript with).
    closing: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts closing on a thread of its own; sends `closed` when every OS watch is gone.
    fn begin_close(&mut self) {
        let Some(mut watcher) = self.watcher.take() else { return };
        let events = self.events.clone();
        self.closing = Some(std::thread::spawn(move || {
            watcher.close();
            if let Some(events) = events {
                events.call(Payload::Closed, ThreadsafeFunctionCallMode::NonBlocking);
            }
        }));
    }

    /// Finishes closing, blocking if need be: after `closed`, and when the environment exits.
    fn shut_down(&mut self) {
        if let Some(mut watcher) = self.watcher.take() {
            watcher.close();
        }
        if let Some(closing) = self.closing.take() {
            let _ = closing.join();
        }
        if let Some(events) = self.events.take() {
            // Every other holder (the core's sink, the closing thread) has ended.
            if let Ok(events) = Arc::try_unwrap(events) {
                #[allow(deprecated)] // an explicit abort, not a drop: see nodejs/node#55706
                let _ = events.abort();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct EventSink {
    events: Arc<EventFunction>,
    pending_ack: Arc<Mutex<Option<Ack>>>,
}

impl watchfiles_core::Sink for EventSink {
    fn send(&mut self, event: WatchEvent) {
        let payload = match event {
            WatchEvent::Ready { backend } => Payload::Ready(backend.as_str()),
            WatchEvent::Changes { changes, first_change_at, ack } => {
                *lock(&self.pending_ack) = Some(ack);
                Payload::Changes(changes, first_change_at)
            }
            WatchEvent::Warning(err) => Payload::Problem("warning", err),
            WatchEvent::Error(err) => Payload::Problem("error", err),
            WatchEvent::Failed(err) => Payload::Problem("failed", err),
        };
        // Never blocks the watcher thread; fails only once the function is released (closing).
        self.events.call(payload, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// A running watcher.
#[napi]
pub struct NativeWatcher {
    running: Arc<Mutex<Running>>,
    pending_ack: Arc<Mutex<Option<Ack>>>,
    cleanup: Option<CleanupEnvHook<Arc<Mutex<Running>>>>,
    roots: Vec<String>,
}

/// Starts watching. Returns the watcher, or the error that prevented the start (a missing path,
/// an invalid option).
#[napi]
pub fn start_watcher(
    env: Env,
    paths: Vec<String>,
    options: NativeOptions,
    on_event: Function<NativeEvent, ()>,
) -> Result<Either<NativeWatcher, NativeError>> {
    let options = match core_options(options) {
        Ok(options) => options,
        Err(err) => return Ok(Either::B(native_error(&err))),
    };
    let events: Arc<EventFunction> = Arc::new(on_event
        .build_threadsafe_function::<Payload>()
        .weak::<true>()
        .callee_handled::<false>()
        .build_callback(|ctx| Ok(native_event(ctx.value)))?);
    let pending_ack = Arc::new(Mutex::new(None));
    let sink = EventSink { events: events.clone(), pending_ack: pending_ack.clone() };
    let watcher = match Watcher::start(&paths, options, sink) {
        Ok(watcher) => watcher,
        Err(err) => {
            Running { watcher: None, events: Some(events), closing: None }.shut_down();
            return Ok(Either::B(native_error(&err)));
        }
    };
    let roots = watcher.roots().iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let running = Arc::new(Mutex::new(Running { watcher: Some(watcher), events: Some(events), closing: None }));
    // A process that exits with the watcher open: stop it before Node tears the environment down.
    let cleanup = env.add_env_cleanup_hook(running.clone(), |running| lock(&running).shut_down())?;
    Ok(Either::A(NativeWatcher { running, pending_ack, cleanup: Some(cleanup), roots }))
}

#[napi]
impl NativeWatcher {
    /// The consumer is done with the last batch: the next one may come.
    #[napi]
    pub fn ack(&self) {
        lock(&self.pending_ack).take();
    }

    /// Starts closing and returns at once: no change is delivered any more, and a `closed` event
    /// follows once every OS watch is gone. Calling it again does nothing.
    #[napi]
    pub fn close(&self) {
        lock(&self.pending_ack).take();
        lock(&self.running).begin_close();
    }

    /// Finishes closing (after `closed`): releases the callback. Blocks until the watch is gone
    /// if `closed` has not come yet. Calling it again does nothing.
    #[napi]
    pub fn release(&mut self, env: Env) -> Result<()> {
        lock(&self.pending_ack).take();
        lock(&self.running).shut_down();
        if let Some(hook) = self.cleanup.take() {
            env.remove_env_cleanup_hook(hook)?;
        }
        Ok(())
    }

    /// The absolute roots being watched.
    #[napi(getter)]
    pub fn roots(&self) -> Vec<String> {
        self.roots.clone()
    }
}

fn core_options(js: NativeOptions) -> std::result::Result<Options, Error> {
    let defaults = Options::default();
    let on_watch_limit = match js.on_watch_limit.as_deref() {
        None | Some("poll") => WatchLimitPolicy::Poll,
        Some("error") => WatchLimitPolicy::Error,
        Some(other) => {
            return Err(Error::InvalidOption {
                name: "onWatchLimit",
                reason: format!("expected \"poll\" or \"error\", got {other:?}"),
            })
        }
    };
    Ok(Options {
        recursive: js.recursive.unwrap_or(defaults.recursive),
        step: millis("step", js.step)?.unwrap_or(defaults.step),
        debounce: millis("debounce", js.debounce)?.unwrap_or(defaults.debounce),
        default_ignore: js.default_ignore.unwrap_or(defaults.default_ignore),
        ignore: js.ignore.unwrap_or_default(),
        force_polling: js.force_polling,
        poll_interval: millis("pollInterval", js.poll_interval)?,
        ignore_permission_denied: js.ignore_permission_denied.unwrap_or(false),
        follow_symlinks: js.follow_symlinks.unwrap_or(false),
        on_watch_limit,
        extensions: js.extensions.unwrap_or_default(),
        include: js.include.unwrap_or_default(),
        gitignore: js.gitignore.unwrap_or(false),
    })
}

fn millis(name: &'static str, value: Option<f64>) -> std::result::Result<Option<Duration>, Error> {
    match value {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(Duration::from_secs_f64(ms / 1000.0))),
        Some(ms) => Err(Error::InvalidOption {
            name,
            reason: format!("must be a finite number of milliseconds >= 0, got {ms}"),
        }),
    }
}

fn native_error(err: &Error) -> NativeError {
    NativeError {
        code: err.code().to_string(),
        message: err.to_string(),
        path: err.path().map(|p| p.to_string_lossy().into_owned()),
    }
}

fn native_event(payload: Payload) -> NativeEvent {
    let mut event = NativeEvent {
        kind: String::new(),
        backend: None,
        changes: None,
        raw_paths: None,
        first_change_at: None,
        code: None,
        message: None,
        path: None,
    };
    match payload {
        Payload::Ready(backend) => {
            event.kind = "ready".into();
            event.backend = Some(backend.into());
        }
        Payload::Changes(changes, first_change_at) => {
            let (packed, raw) = pack(&changes);
            event.kind = "changes".into();
            event.first_change_at = first_change_at
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|since| since.as_secs_f64() * 1000.0);
            event.changes = Some(packed);
            event.raw_paths = (!raw.is_empty()).then_some(raw);
        }
        Payload::Closed => event.kind = "closed".into(),
        Payload::Problem(kind, err) => {
            let info = native_error(&err);
            event.kind = kind.into();
            event.code = Some(info.code);
            event.message = Some(info.message);
            event.path = info.path;
        }
    }
    event
}

/// One string for the whole batch: creating a JavaScript object per change from Rust costs a
/// dozen N-API calls each, splitting one string in JavaScript costs almost nothing.
fn pack(changes: &[Change]) -> (String, Vec<Buffer>) {
    let mut packed = String::with_capacity(changes.iter().map(|c| c.path.as_os_str().len() + 2).sum());
    let mut raw = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        if i > 0 {
            packed.push('\0');
        }
        let letter = match change.kind {
            ChangeKind::Added => 'a',
            ChangeKind::Modified => 'm',
            ChangeKind::Deleted => 'd',
        };
        match change.path.to_str() {
            Some(text) => {
                packed.push(letter);
                packed.push_str(text);
            }
            None => {
                packed.push(letter.to_ascii_uppercase());
                packed.push_str(&change.path.to_string_lossy());
                raw.push(Buffer::from(path_bytes(&change.path)));
            }
        }
    }
    (packed, raw)
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}
