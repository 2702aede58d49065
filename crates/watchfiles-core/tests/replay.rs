//! Property test against the real filesystem: random creates, writes, renames and deletes of
//! files and folders; the delivered batches, replayed in order on the starting tree, give the
//! final tree.

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use watchfiles_core::{ChangeKind, Options, WatchEvent};

const FILES: [&str; 6] = ["a", "b", "c", "s/a", "s/b", "t/a"];
const DIRS: [&str; 2] = ["s", "t"];

#[derive(Debug, Clone)]
enum Op {
    Write(usize),
    Delete(usize),
    Rename(usize, usize),
    MakeDir(usize),
    RemoveDir(usize),
    RenameDir(usize, usize),
    Pause(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..FILES.len()).prop_map(Op::Write),
        2 => (0..FILES.len()).prop_map(Op::Delete),
        2 => (0..FILES.len(), 0..FILES.len()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (0..DIRS.len()).prop_map(Op::MakeDir),
        1 => (0..DIRS.len()).prop_map(Op::RemoveDir),
        1 => (0..DIRS.len(), 0..DIRS.len()).prop_map(|(a, b)| Op::RenameDir(a, b)),
        1 => (0..4u8).prop_map(Op::Pause),
    ]
}

/// Runs an op; ops that make no sense in the current state fail harmlessly.
fn apply(root: &Path, op: &Op, n: usize) {
    let _ = match op {
        Op::Write(f) => fs::write(root.join(FILES[*f]), n.to_string()),
        Op::Delete(f) => fs::remove_file(root.join(FILES[*f])),
        Op::Rename(a, b) => fs::rename(root.join(FILES[*a]), root.join(FILES[*b])),
        Op::MakeDir(d) => fs::create_dir(root.join(DIRS[*d])),
        Op::RemoveDir(d) => fs::remove_dir_all(root.join(DIRS[*d])),
        Op::RenameDir(a, b) => {
            // rename(2) replaces an empty folder only; keep the target out of the way.
            let _ = fs::remove_dir(root.join(DIRS[*b]));
            fs::rename(root.join(DIRS[*a]), root.join(DIRS[*b]))
        }
        Op::Pause(ms) => {
            std::thread::sleep(Duration::from_millis(u64::from(*ms)));
            Ok(())
        }
    };
}

fn disk(root: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path.clone());
            }
            found.insert(path);
        }
    }
    found
}

/// Sets up `setup`, starts a watcher, applies `ops`, then replays the delivered batches on the
/// tree as it was at start: every change must be possible (no path twice in a batch, no add of
/// an existing path, no delete or modify of a missing one) and the result must be the tree at
/// the end. Returns what went wrong first.
fn replay(setup: &[Op], ops: &[Op], step_ms: u64) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (n, op) in setup.iter().enumerate() {
        apply(root, op, n);
    }
    let mut tree = disk(root);
    let h = start(&[root], Options { step: Duration::from_millis(step_ms), ..Options::default() });
    for (n, op) in ops.iter().enumerate() {
        apply(root, op, n + 100);
    }
    // Events come in order: once this marker is reported, everything before it is.
    let marker = root.join("zz-end");
    fs::write(&marker, b"").unwrap();
    let end = disk(root);

    let deadline = Instant::now() + DEADLINE;
    loop {
        let timeout = deadline.saturating_duration_since(Instant::now());
        let changes = match h.events.recv_timeout(timeout) {
            Ok(WatchEvent::Changes { changes, .. }) => changes,
            Ok(WatchEvent::Warning(w)) => return Err(format!("warning: {w}")),
            Ok(other) => return Err(format!("unexpected {other:?}")),
            Err(_) => return Err(format!("the end marker never came; replayed so far: {tree:?}")),
        };
        let paths: BTreeSet<_> = changes.iter().map(|c| &c.path).collect();
        if paths.len() != changes.len() {
            return Err(format!("a path twice in one batch: {changes:?}"));
        }
        for change in &changes {
            let possible = match change.kind {
                ChangeKind::Added => tree.insert(change.path.clone()),
                ChangeKind::Deleted => tree.remove(&change.path),
                ChangeKind::Modified => tree.contains(&change.path),
            };
            if !possible {
                return Err(format!("impossible {change:?}"));
            }
        }
        if changes.iter().any(|c| c.path == marker) {
            break;
        }
    }
    if tree != end {
        return Err(format!("replayed {tree:?}, but the disk holds {end:?}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn delivered_batches_replay_to_the_final_tree(
        setup in proptest::collection::vec(op(), 0..10),
        ops in proptest::collection::vec(op(), 1..40),
        step_ms in 0..30u64,
    ) {
        if let Err(problem) = replay(&setup, &ops, step_ms) {
            prop_assert!(false, "{}", problem);
        }
    }
}

/// Replays `ops` many times (their timing against the watcher's varies run to run) and checks
/// every run as the property test does.
fn replay_rounds(setup: &[Op], ops: &[Op], step_ms: u64, rounds: usize) {
    for round in 0..rounds {
        if let Err(problem) = replay(setup, ops, step_ms) {
            panic!("round {round}: {problem}");
        }
    }
}

/// Found by the property test: folders renamed away and back (and over each other) faster than
/// their events arrive. notify drops a folder's watch when it sees it leave, and inotify keeps
/// one watch per inode whatever path asked for it.
#[test]
fn folders_renamed_back_and_forth_faster_than_events_arrive() {
    use Op::*;
    replay_rounds(
        &[Write(1), Write(3), MakeDir(1), MakeDir(0), Write(4)],
        &[MakeDir(0), MakeDir(1), RemoveDir(1), Delete(1), Write(4), RenameDir(0, 1), MakeDir(0), Write(5), RenameDir(1, 1), Write(4), Write(2), MakeDir(0), RenameDir(0, 1), Delete(1)],
        28,
        15,
    );
    replay_rounds(
        &[],
        &[Write(0), MakeDir(1), MakeDir(0), Write(0), Write(3), RenameDir(0, 1), Write(2), Write(0), RenameDir(1, 0)],
        3,
        15,
    );
    replay_rounds(
        &[],
        &[Write(1), Write(2), MakeDir(0), MakeDir(1), Write(2), Rename(1, 5), RenameDir(1, 0), RenameDir(0, 1), Write(4), Delete(2), Write(2), Delete(5)],
        20,
        15,
    );
}
