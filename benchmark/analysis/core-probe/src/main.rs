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
//!   walk              our walk alone (read_dir of every folder, file types from the listing)
//!
//! Prints one JSON line: {"mode":..,"ms":..,"dirs":..,"events":..,"rss_kb_before":..,"rss_kb_after":..}.
use notify::Watcher as _;
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
    let (mode, root) = (args[1].as_str(), PathBuf::from(&args[2]));
    let before = rss_kb();
    let t0 = Instant::now();
    let mut dirs = 0usize;
    // Kept alive until after the measurement, as a watcher would be.
    let mut keep_core = None;
    let mut keep_notify = None;
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
}
