//! The example binary works as its documentation says: it prints each change of a folder.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_watch_example_prints_batches() {
    // Test binaries live in target/<profile>/deps; cargo builds examples beside, in ../examples.
    let exe = std::env::current_exe().unwrap();
    let example = exe.parent().unwrap().parent().unwrap().join("examples").join("watch");
    if !example.exists() {
        eprintln!("SKIPPED: {} is not built", example.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(&example)
        .arg(dir.path())
        .args(["--step", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("watching {} with inotify", dir.path().display()));
    std::fs::write(dir.path().join("hello.txt"), "hi").unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !printed.contains("hello.txt") && Instant::now() < deadline {
        stdout.read_line(&mut printed).unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(printed.trim(), format!("added    {}", dir.path().join("hello.txt").display()));
}
