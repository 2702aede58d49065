//! `.gitignore`-aware watching: ignored folders get no OS watch, ignored files no change, and an
//! ignore file's edit takes effect without a restart.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;
use watchfiles_core::ChangeKind::{Added, Modified};
use watchfiles_core::Options;

/// A repository with nested ignore files and a big ignored `node_modules`.
fn repository(root: &Path) {
    fs::create_dir_all(root.join(".git/info")).unwrap();
    fs::write(root.join(".git/info/exclude"), "secret.env\n").unwrap();
    fs::write(root.join(".gitignore"), "*.log\nbuild/\n/out\nnode_modules\n").unwrap();
    for dir in ["src", "pkg/build", "pkg/out", "build/assets", "out"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    fs::write(root.join("pkg/.gitignore"), "!keep.log\n").unwrap();
    for p in 0..200 {
        let dir = root.join(format!("node_modules/pkg{p}/lib"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..100 {
            fs::write(dir.join(format!("f{f}.js")), b"").unwrap();
        }
    }
}

fn options() -> Options {
    // Default ignores off: node_modules is pruned by the .gitignore alone.
    Options { gitignore: true, default_ignore: false, ..fast_options() }
}

/// Builds the repository in `root` and watches it. Returns the watcher and the count of inotify
/// watches before it started.
fn watch_repository(root: &Path) -> (Harness, usize) {
    repository(root);
    let before = inotify_watch_count();
    let h = start_counted(&[root], options());
    // Watched: root, .git, .git/info, src, pkg, pkg/out (not anchored there), and the root's
    // parent. Not: node_modules (20,000 files), build/, pkg/build/, /out.
    assert_eq!(inotify_watch_count() - before, 7);
    (h, before)
}

#[test]
fn ignored_folders_get_no_watch_and_ignored_files_no_change() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (h, _) = watch_repository(root);

    for ignored in ["debug.log", "pkg/debug.log", "build/assets/a.js", "pkg/build/b.js", "out/c.js", "secret.env", "node_modules/pkg3/lib/f1.js"] {
        fs::write(root.join(ignored), b"x").unwrap();
    }
    for kept in ["src/main.ts", "pkg/keep.log", "pkg/out/d.js"] {
        fs::write(root.join(kept), b"x").unwrap();
    }
    h.expect([
        change(Added, root.join("src/main.ts")),
        change(Added, root.join("pkg/keep.log")),
        change(Added, root.join("pkg/out/d.js")),
    ]);
}

#[test]
fn editing_a_gitignore_takes_effect_at_once() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (h, before) = watch_repository(root);

    // Stop ignoring build/ and start ignoring src/.
    fs::write(root.join(".gitignore"), "*.log\n/out\nnode_modules\nsrc/\n").unwrap();
    h.expect([change(Modified, root.join(".gitignore"))]);
    // Now watched: build, build/assets and pkg/build; src is not.
    assert_eq!(inotify_watch_count() - before, 9);
    fs::write(root.join("src/main.ts"), b"x").unwrap();
    fs::write(root.join("build/assets/a.js"), b"x").unwrap();
    h.expect([change(Added, root.join("build/assets/a.js"))]);

    // A new ignore file in a folder counts too.
    fs::write(root.join("build/.ignore"), "assets\n").unwrap();
    h.expect([change(Added, root.join("build/.ignore"))]);
    fs::write(root.join("build/assets/b.js"), b"x").unwrap();
    h.expect_nothing(Duration::from_millis(250));
}

#[test]
fn the_global_excludes_file_counts() {
    let _serial = exclusive();
    let config = tempfile::tempdir().unwrap();
    let excludes = config.path().join("global-ignore");
    fs::write(&excludes, "*.swz\n").unwrap();
    let gitconfig = config.path().join("gitconfig");
    fs::write(&gitconfig, format!("[core]\n\texcludesFile = {}\n", excludes.display())).unwrap();
    let previous = std::env::var_os("GIT_CONFIG_GLOBAL");
    std::env::set_var("GIT_CONFIG_GLOBAL", &gitconfig);

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap();
    let h = start_counted(&[root], options());
    match previous {
        Some(value) => std::env::set_var("GIT_CONFIG_GLOBAL", value),
        None => std::env::remove_var("GIT_CONFIG_GLOBAL"),
    }
    fs::write(root.join("notes.swz"), b"x").unwrap();
    fs::write(root.join("notes.md"), b"x").unwrap();
    h.expect([change(Added, root.join("notes.md"))]);
}
