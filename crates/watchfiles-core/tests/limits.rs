//! Behaviour at the kernel's limits. These change system-wide settings, so they need root (CI
//! has it): each restores the old value in every case, and skips with a message where it cannot
//! run. Every test here holds `exclusive()` so they never overlap.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use watchfiles_core::ChangeKind::Added;
use watchfiles_core::{WatchEvent, Watcher};

/// Sets a file under /proc/sys for as long as the guard lives.
struct Sysctl {
    path: PathBuf,
    old: String,
}

impl Sysctl {
    fn set(path: &str, value: &str) -> Option<Sysctl> {
        let old = fs::read_to_string(path).ok()?;
        if let Err(err) = fs::write(path, value) {
            eprintln!("SKIPPED: cannot write {path} ({err}); run as root to test this");
            return None;
        }
        Some(Sysctl { path: PathBuf::from(path), old })
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        fs::write(&self.path, self.old.trim()).expect("restore the sysctl");
    }
}

/// A watcher whose inotify queue holds `events` events (the size is read when the instance is
/// created, so the machine's setting is lowered only for that moment). `None` without root.
fn start_with_queue_of(events: u32, root: &Path) -> Option<Harness> {
    let (tx, rx) = std::sync::mpsc::channel();
    let watcher = {
        let _small_queue = Sysctl::set("/proc/sys/fs/inotify/max_queued_events", &events.to_string())?;
        let watcher = Watcher::start([root], fast_options(), move |e| {
            let _ = tx.send(e);
        })
        .unwrap();
        watcher.wait_ready().unwrap();
        watcher
    };
    assert!(matches!(rx.recv().unwrap(), WatchEvent::Ready { .. }));
    Some(Harness::from_parts(watcher, rx))
}

#[test]
fn queue_overflow_is_rescanned_and_every_file_reported() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join("sub")).unwrap();
    let Some(harness) = start_with_queue_of(128, root) else { return };

    let mut expected = Vec::new();
    for i in 0..20_000 {
        let file = if i % 2 == 0 { root.join(format!("f{i}")) } else { root.join(format!("sub/f{i}")) };
        fs::write(&file, b"x").unwrap();
        expected.push(change(Added, file));
    }
    harness.expect(expected);
}

#[test]
fn a_rescan_reports_files_modified_while_events_were_lost() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let keep: Vec<PathBuf> = (0..50).map(|i| root.join(format!("old{i}"))).collect();
    for file in &keep {
        fs::write(file, b"1").unwrap();
    }
    let Some(harness) = start_with_queue_of(64, root) else { return };
    // Overflow the queue with new files, and meanwhile modify and delete old ones.
    let mut expected = Vec::new();
    for i in 0..2_000 {
        let file = root.join(format!("new{i}"));
        fs::write(&file, b"x").unwrap();
        expected.push(change(Added, file));
        if i < 50 {
            if i % 2 == 0 {
                fs::write(&keep[i], b"22").unwrap();
                expected.push(change(watchfiles_core::ChangeKind::Modified, &keep[i]));
            } else {
                fs::remove_file(&keep[i]).unwrap();
                expected.push(change(watchfiles_core::ChangeKind::Deleted, &keep[i]));
            }
        }
    }
    harness.expect(expected);
}
