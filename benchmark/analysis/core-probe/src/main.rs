//! Times the parts of watchfiles-node's "ready" on one tree, each in this fresh process:
//!
//!   core-probe MODE ROOT
//!
//! MODE:
//!   core              watchfiles_core::Watcher::start + wait_ready (the addon without Node)
//!   notify-per-dir    our walk + one notify `watch(dir, NonRecursive)` per folder (what the core
//!                     asks of notify: one message to notify's thread and a wait for its reply each)
//!   inotify-per-dir   our walk + one inotify_add_watch per folder in this thread (no notify)
//!   notify-recursive  one notify `watch(root, Recursive)`: notify walks and watches in its own
//!                     thread (no pruning of ignored folders: use it on a tree without them)
//!   core-poll         the core with `force_polling`: prints (on stderr) the CPU time of an idle
//!                     window of IDLE_MS (default 10000) ms after ready
//!   core-latency      the core with `step: 0` (or STEP_MS): prints (on stderr) p50/p95/p99 of
//!                     write-to-sink latency over SAMPLES (default 200) writes, no Node involved
//!   walk              our walk alone (read_dir of every folder, file types from the listing)
//!
//! Prints one JSON line: {"mode":..,"ms":..,"dirs":..,"events":..,"rss_kb_before":..,"rss_kb_after":..}.
use notify::Watcher as _;
use notify9::Watcher as _;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const IGNORED: &[&str] = &[
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox", ".idea", ".mypy_cache",
    ".pytest_cache", ".hypothesis",
];

fn rss_kb() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `count` existing `.ts` files spread over the tree.
fn sample_files(root: &Path, count: usize) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    walk(root, |d| dirs.push(d.to_path_buf()));
    let step = (dirs.len() / count).max(1);
    dirs.iter()
        .step_by(step)
        .filter_map(|d| {
            fs::read_dir(d).ok()?.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "ts"))
        })
        .take(count)
        .collect()
}

/// CPU time of the whole process so far (every thread), in milliseconds.
fn cpu_ms() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 * 1e3 + tv.tv_usec as f64 / 1e3;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// The core's walk order and listing (tree.rs `walk`): watch first, then list; folders found
/// are pushed on a stack.
fn walk(root: &Path, mut on_dir: impl FnMut(&Path)) -> usize {
    let mut stack = vec![root.to_path_buf()];
    let mut dirs = 0;
    while let Some(dir) = stack.pop() {
        on_dir(&dir);
        dirs += 1;
        let Ok(listing) = fs::read_dir(&dir) else { continue };
        for item in listing.flatten() {
            let name = item.file_name();
            if IGNORED.iter().any(|i| name.as_bytes() == i.as_bytes()) {
                continue;
            }
            if item.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(dir.join(&name));
            }
        }
    }
    dirs
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, root) = (args[1].as_str(), fs::canonicalize(&args[2]).expect("root"));
    let before = rss_kb();
    let t0 = Instant::now();
    let mut dirs = 0usize;
    // Kept alive until after the measurement, as a watcher would be.
    let mut keep_core = None;
    let mut keep_notify = None;
    let mut keep_notify9 = None;
    // Events notify delivered while the watches were being placed (the walk's own opendir()
    // calls raise IN_OPEN on the folders already watched).
    let events = Arc::new(AtomicUsize::new(0));
    match mode {
        "core" => {
            let w = watchfiles_core::Watcher::start([&root], watchfiles_core::Options::default(), |_e| {})
                .expect("start");
            w.wait_ready().expect("ready");
            keep_core = Some(w);
        }
        "core-poll" => {
            // Polling mode: ready, then the CPU time of one idle window (IDLE_MS, default 10 s).
            let options = watchfiles_core::Options { force_polling: Some(true), ..Default::default() };
            let w = watchfiles_core::Watcher::start([&root], options, |_e| {}).expect("start");
            w.wait_ready().expect("ready");
            let idle_ms: u64 = std::env::var("IDLE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
            let c0 = cpu_ms();
            std::thread::sleep(std::time::Duration::from_millis(idle_ms));
            eprintln!("{{\"idle_ms\":{idle_ms},\"idle_cpu_ms\":{:.1}}}", cpu_ms() - c0);
            keep_core = Some(w);
        }
        "core-latency" => {
            // `step: 0`: time from just before a write to the sink receiving its change, in the
            // core alone (no Node, no napi). SAMPLES writes (default 200), one every 20 ms.
            let files = sample_files(&root, 20);
            let (tx, rx) = std::sync::mpsc::channel::<(Instant, Vec<PathBuf>)>();
            let step_ms: u64 = std::env::var("STEP_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
            let options =
                watchfiles_core::Options { step: std::time::Duration::from_millis(step_ms), ..Default::default() };
            let w = watchfiles_core::Watcher::start([&root], options, move |e| {
                if let watchfiles_core::WatchEvent::Changes { changes, .. } = e {
                    let at = Instant::now();
                    let _ = tx.send((at, changes.into_iter().map(|c| c.path).collect()));
                }
            })
            .expect("start");
            w.wait_ready().expect("ready");
            let n: usize = std::env::var("SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
            let mut lat = Vec::with_capacity(n);
            for i in 0..n {
                std::thread::sleep(std::time::Duration::from_millis(20));
                while rx.try_recv().is_ok() {}
                let file = &files[i % files.len()];
                let t0 = Instant::now();
                fs::write(file, format!("export const sample = {i}\n")).unwrap();
                loop {
                    let (at, paths) = rx.recv_timeout(std::time::Duration::from_secs(5)).expect("no event");
                    if paths.iter().any(|p| p == file) {
                        lat.push((at - t0).as_secs_f64() * 1e3);
                        break;
                    }
                }
            }
            lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let pct = |p: f64| lat[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1];
            eprintln!(
                "{{\"samples\":{n},\"p50_ms\":{:.3},\"p95_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
                pct(50.0),
                pct(95.0),
                pct(99.0),
                lat[n - 1]
            );
            keep_core = Some(w);
        }
        "notify-per-dir" => {
            let counter = events.clone();
            let mut w = notify::RecommendedWatcher::new(
                move |_e| {
                    counter.fetch_add(1, Ordering::Relaxed);
                },
                notify::Config::default(),
            )
            .unwrap();
            dirs = walk(&root, |d| w.watch(d, notify::RecursiveMode::NonRecursive).unwrap());
            keep_notify = Some(w);
        }
        "notify-recursive" => {
            let mut w = notify::RecommendedWatcher::new(|_e| {}, notify::Config::default()).unwrap();
            w.watch(&root, notify::RecursiveMode::Recursive).unwrap();
            keep_notify = Some(w);
        }
        "inotify-per-dir" => {
            let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
            let mask = libc::IN_ATTRIB
                | libc::IN_CREATE
                | libc::IN_OPEN
                | libc::IN_DELETE
                | libc::IN_CLOSE_WRITE
                | libc::IN_MODIFY
                | libc::IN_MOVED_FROM
                | libc::IN_MOVED_TO;
            dirs = walk(&root, |d| {
                let c = CString::new(d.as_os_str().as_bytes()).unwrap();
                let wd = unsafe { libc::inotify_add_watch(fd, c.as_ptr(), mask) };
                assert!(wd >= 0, "inotify_add_watch failed");
            });
        }
        "notify9-batch" => {
            // Same order as the core (watch a folder, then list it), but one round trip to
            // notify's thread per chunk of folders instead of one per folder.
            let counter = events.clone();
            let mut w = notify9::RecommendedWatcher::new(
                move |_e| {
                    counter.fetch_add(1, Ordering::Relaxed);
                },
                notify9::Config::default(),
            )
            .unwrap();
            let mut frontier = vec![root.clone()];
            while !frontier.is_empty() {
                let mut next = Vec::new();
                for chunk in frontier.chunks(512) {
                    let ops = chunk
                        .iter()
                        .map(|d| {
                            notify9::PathOp::Watch(
                                d.clone(),
                                notify9::WatchPathConfig::new(notify9::RecursiveMode::NonRecursive),
                            )
                        })
                        .collect();
                    w.update_paths(ops).unwrap();
                    for dir in chunk {
                        dirs += 1;
                        let Ok(listing) = fs::read_dir(dir) else { continue };
                        for item in listing.flatten() {
                            let name = item.file_name();
                            if IGNORED.iter().any(|i| name.as_bytes() == i.as_bytes()) {
                                continue;
                            }
                            if item.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                                next.push(dir.join(&name));
                            }
                        }
                    }
                }
                frontier = next;
            }
            keep_notify9 = Some(w);
        }
        "walk" => {
            dirs = walk(&root, |_| {});
        }
        other => panic!("unknown mode {other}"),
    }
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let after = rss_kb();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let events = events.load(Ordering::Relaxed);
    println!(
        "{{\"mode\":\"{mode}\",\"ms\":{ms:.3},\"dirs\":{dirs},\"events\":{events},\"rss_kb_before\":{before},\"rss_kb_after\":{after}}}"
    );
    drop(keep_core);
    drop(keep_notify);
    drop(keep_notify9);
}
