//! Behaviour against the real filesystem, through the public API.

mod common;

use common::*;
use std::fs;
use std::time::Duration;
use watchfiles_core::ChangeKind::{Added, Deleted, Modified};
use watchfiles_core::{Error, Options, WatchEvent, Watcher};

#[test]
fn file_create_modify_delete() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let h = start(&[root], fast_options());
    let file = root.join("a.txt");
    write(&file, "1");
    h.expect([change(Added, &file)]);
    write(&file, "2");
    h.expect([change(Modified, &file)]);
    fs::remove_file(&file).unwrap();
    h.expect([change(Deleted, &file)]);
}

#[test]
fn create_then_delete_within_a_batch_is_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let h = start(&[root], Options { step: Duration::from_millis(200), ..Options::default() });
    let tmp = root.join("scratch");
    write(&tmp, "x");
    fs::remove_file(&tmp).unwrap();
    let marker = root.join("marker");
    write(&marker, "x");
    h.expect([change(Added, &marker)]);
}

#[test]
fn rename_is_deleted_plus_added() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let old = root.join("old.js");
    write(&old, "x");
    let h = start(&[root], fast_options());
    let new = root.join("new.js");
    fs::rename(&old, &new).unwrap();
    h.expect([change(Deleted, &old), change(Added, &new)]);
}

#[test]
fn mkdir_p_reports_every_new_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let h = start(&[root], fast_options());
    let deep = root.join("a/b/c/d/e");
    fs::create_dir_all(&deep).unwrap();
    let file = deep.join("x.txt");
    write(&file, "x");
    h.expect([
        change(Added, root.join("a")),
        change(Added, root.join("a/b")),
        change(Added, root.join("a/b/c")),
        change(Added, root.join("a/b/c/d")),
        change(Added, root.join("a/b/c/d/e")),
        change(Added, &file),
    ]);
    // The new folders are watched: a later write inside is seen.
    write(&file, "y");
    h.expect([change(Modified, &file)]);
}

#[test]
fn folder_moved_in_reports_its_files_and_moved_out_reports_their_deletion() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let staged = outside.path().join("pkg");
    fs::create_dir_all(staged.join("lib")).unwrap();
    write(&staged.join("index.js"), "x");
    write(&staged.join("lib/util.js"), "x");
    let h = start(&[root], fast_options());

    let moved = root.join("pkg");
    fs::rename(&staged, &moved).unwrap();
    h.expect([
        change(Added, &moved),
        change(Added, moved.join("index.js")),
        change(Added, moved.join("lib")),
        change(Added, moved.join("lib/util.js")),
    ]);
    write(&moved.join("lib/util.js"), "y");
    h.expect([change(Modified, moved.join("lib/util.js"))]);

    fs::rename(&moved, outside.path().join("gone")).unwrap();
    h.expect([
        change(Deleted, &moved),
        change(Deleted, moved.join("index.js")),
        change(Deleted, moved.join("lib")),
        change(Deleted, moved.join("lib/util.js")),
    ]);
    // The moved-away folder is no longer watched under its old name.
    write(&outside.path().join("gone/index.js"), "z");
    h.expect_nothing(Duration::from_millis(300));
}

#[test]
fn folder_renamed_inside_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("src/sub")).unwrap();
    write(&root.join("src/sub/a.ts"), "x");
    let h = start(&[root], fast_options());
    fs::rename(root.join("src"), root.join("lib")).unwrap();
    h.expect([
        change(Deleted, root.join("src")),
        change(Deleted, root.join("src/sub")),
        change(Deleted, root.join("src/sub/a.ts")),
        change(Added, root.join("lib")),
        change(Added, root.join("lib/sub")),
        change(Added, root.join("lib/sub/a.ts")),
    ]);
    write(&root.join("lib/sub/a.ts"), "y");
    h.expect([change(Modified, root.join("lib/sub/a.ts"))]);
}

#[test]
fn ignored_folders_get_no_watch_and_no_changes() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..20 {
        fs::create_dir_all(root.join(format!("node_modules/pkg{i}/lib"))).unwrap();
    }
    fs::create_dir_all(root.join(".git/objects")).unwrap();
    fs::create_dir_all(root.join("src")).unwrap();
    let before = inotify_watch_count();
    let h = start_counted(&[root], fast_options());
    // root + src, plus the root's parent (it reports the root's deletion or return).
    assert_eq!(inotify_watch_count() - before, 3);
    write(&root.join("node_modules/pkg1/lib/x.js"), "x");
    write(&root.join(".git/objects/ab"), "x");
    write(&root.join("src/.main.ts.swp"), "x");
    write(&root.join("src/main.ts"), "x");
    h.expect([change(Added, root.join("src/main.ts"))]);
}

#[test]
fn user_ignore_prunes_folders_and_files() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("dist/assets")).unwrap();
    fs::create_dir_all(root.join("src")).unwrap();
    let before = inotify_watch_count();
    let options = Options { ignore: vec!["dist".into(), "*.log".into()], ..fast_options() };
    let h = start_counted(&[root], options);
    assert_eq!(inotify_watch_count() - before, 3);
    write(&root.join("dist/assets/app.js"), "x");
    write(&root.join("src/debug.log"), "x");
    write(&root.join("src/app.ts"), "x");
    h.expect([change(Added, root.join("src/app.ts"))]);
}

#[test]
fn atomic_saves_of_a_single_watched_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    write(&file, "0");
    let h = start(&[&file], fast_options());
    for i in 1..=20 {
        let tmp = dir.path().join(format!(".config.json.{i}.tmp"));
        write(&tmp, &i.to_string());
        fs::rename(&tmp, &file).unwrap();
        h.expect([change(Modified, &file)]);
    }
    // Other files beside it are not reported.
    write(&dir.path().join("other.txt"), "x");
    h.expect_nothing(Duration::from_millis(200));
}

#[test]
fn atomic_save_inside_a_watched_folder_is_one_modified() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let target = root.join("main.rs");
    write(&target, "0");
    let h = start(&[root], Options { step: Duration::from_millis(100), ..Options::default() });
    let tmp = root.join("main.rs.tmp~");
    write(&tmp, "1");
    let tmp2 = root.join(".main.rs.4f2a");
    write(&tmp2, "1");
    fs::rename(&tmp2, &target).unwrap();
    fs::remove_file(&tmp).unwrap();
    h.expect([change(Modified, &target)]);
}

#[test]
fn deleted_root_is_reported_and_watched_again_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    fs::create_dir_all(root.join("src")).unwrap();
    write(&root.join("src/a.js"), "x");
    let h = start(&[&root], fast_options());
    fs::remove_dir_all(&root).unwrap();
    h.expect([
        change(Deleted, &root),
        change(Deleted, root.join("src")),
        change(Deleted, root.join("src/a.js")),
    ]);
    fs::create_dir_all(root.join("lib")).unwrap();
    write(&root.join("lib/b.js"), "x");
    h.expect([
        change(Added, &root),
        change(Added, root.join("lib")),
        change(Added, root.join("lib/b.js")),
    ]);
    write(&root.join("lib/b.js"), "y");
    h.expect([change(Modified, root.join("lib/b.js"))]);
}

#[test]
fn parent_of_root_renamed_away_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("parent");
    let root = parent.join("project");
    fs::create_dir_all(&root).unwrap();
    write(&root.join("a.js"), "x");
    let h = start(&[&root], fast_options());
    let away = dir.path().join("elsewhere");
    fs::rename(&parent, &away).unwrap();
    h.expect([change(Deleted, &root), change(Deleted, root.join("a.js"))]);
    // Writes at the old location's new name are not ours any more.
    write(&away.join("project/a.js"), "moved");
    h.expect_nothing(Duration::from_millis(200));
    fs::rename(&away, &parent).unwrap();
    h.expect([change(Added, &root), change(Added, root.join("a.js"))]);
    write(&root.join("a.js"), "back");
    h.expect([change(Modified, root.join("a.js"))]);
}

#[test]
fn non_recursive_watches_direct_entries_only() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("sub")).unwrap();
    let before = inotify_watch_count();
    let h = start_counted(&[root], Options { recursive: false, ..fast_options() });
    assert_eq!(inotify_watch_count() - before, 2, "the root and its parent");
    write(&root.join("sub/deep.txt"), "x");
    write(&root.join("top.txt"), "x");
    fs::create_dir(root.join("newdir")).unwrap();
    write(&root.join("newdir/inner.txt"), "x");
    h.expect([change(Added, root.join("top.txt")), change(Added, root.join("newdir"))]);
}

#[test]
fn burst_of_10000_files_in_100_new_folders_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let h = start(&[root], fast_options());
    let mut expected = Vec::new();
    for d in 0..100 {
        let folder = root.join(format!("d{d:03}"));
        fs::create_dir(&folder).unwrap();
        expected.push(change(Added, &folder));
        for f in 0..100 {
            let file = folder.join(format!("f{f:03}.txt"));
            fs::write(&file, b"x").unwrap();
            expected.push(change(Added, file));
        }
    }
    h.expect(expected.clone());
    fs::remove_dir_all(root.join("d050")).unwrap();
    let deleted: Vec<_> = expected
        .iter()
        .filter(|c| c.path.starts_with(root.join("d050")))
        .map(|c| change(Deleted, &c.path))
        .collect();
    assert_eq!(deleted.len(), 101);
    h.expect(deleted);
}

#[test]
fn polling_reports_changes() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("src")).unwrap();
    write(&root.join("src/a.js"), "1");
    let before = inotify_watch_count();
    let options = Options {
        force_polling: Some(true),
        poll_interval: Some(Duration::from_millis(50)),
        ..fast_options()
    };
    let h = start_counted(&[root], options);
    assert_eq!(h.backend.as_str(), "polling");
    assert_eq!(inotify_watch_count(), before, "polling holds no inotify watch");
    write(&root.join("src/a.js"), "22");
    h.expect([change(Modified, root.join("src/a.js"))]);
    fs::create_dir_all(root.join("src/new")).unwrap();
    write(&root.join("src/new/b.js"), "x");
    h.expect([change(Added, root.join("src/new")), change(Added, root.join("src/new/b.js"))]);
    fs::remove_file(root.join("src/a.js")).unwrap();
    h.expect([change(Deleted, root.join("src/a.js"))]);
}

#[test]
fn missing_root_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = Watcher::start([&missing], Options::default(), |_e: WatchEvent| {}).err().unwrap();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(err.code(), "ERR_WATCH_NOT_FOUND");
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
}

#[test]
fn close_stops_delivery_and_releases_watches() {
    let _serial = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("a/b")).unwrap();
    let before = inotify_watch_count();
    let mut h = start_counted(&[root], fast_options());
    assert_eq!(inotify_watch_count() - before, 4);
    h.watcher.close();
    h.watcher.close();
    write(&root.join("a/x"), "x");
    h.expect_nothing(Duration::from_millis(200));
    assert_eq!(inotify_watch_count(), before, "no watch is left once close() returns");
}
