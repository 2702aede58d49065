//! `.gitignore` semantics through the `ignore` crate: each walked folder carries the stack of
//! ignore files that apply to its entries (the global `core.excludesFile`, the repository's
//! `.git/info/exclude`, then `.gitignore` and `.ignore` of every folder from the repository root
//! down), and asks them nearest first.

use ignore::gitignore::{gitconfig_excludes_path, Gitignore, GitignoreBuilder};
use ignore::Match;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Names of the files whose edit changes what is ignored.
pub const IGNORE_FILES: [&str; 2] = [".gitignore", ".ignore"];

/// The ignore files that apply in one folder, outermost first.
#[derive(Debug, Clone, Default)]
pub struct IgnoreStack {
    /// `None` rather than an empty list: most folders have no ignore file of their own, and
    /// every folder carries a stack.
    matchers: Option<Arc<Vec<Arc<Gitignore>>>>,
    /// Whether the folder is inside a git repository (`.gitignore` counts only there; `.ignore`
    /// counts everywhere, as in ripgrep).
    in_repo: bool,
}

impl IgnoreStack {
    /// The stack for `root`'s parent folder: what applies above a watched root.
    pub fn above(root: &Path) -> IgnoreStack {
        let repo = root.ancestors().find(|dir| dir.join(".git").exists()).map(Path::to_path_buf);
        let mut stack = IgnoreStack { matchers: None, in_repo: repo.is_some() };
        let Some(repo) = repo else { return stack };
        let mut matchers = Vec::new();
        if let Some(global) = gitconfig_excludes_path().and_then(|path| load(&repo, &[path])) {
            matchers.push(global);
        }
        if let Some(exclude) = load(&repo, &[repo.join(".git/info/exclude")]) {
            matchers.push(exclude);
        }
        stack.matchers = (!matchers.is_empty()).then(|| Arc::new(matchers));
        // The folders from the repository root down to the watched root's parent.
        let mut chain: Vec<&Path> = root.ancestors().skip(1).take_while(|dir| dir.starts_with(&repo)).collect();
        chain.reverse();
        for dir in chain {
            stack = stack.child(dir);
        }
        stack
    }

    /// The stack for folder `dir`, a child of the folder this stack belongs to.
    pub fn child(&self, dir: &Path) -> IgnoreStack {
        let files: Vec<PathBuf> = IGNORE_FILES
            .iter()
            .filter(|name| self.in_repo || **name != ".gitignore")
            .map(|name| dir.join(name))
            .collect();
        let in_repo = self.in_repo || dir.join(".git").exists();
        match load(dir, &files) {
            None => IgnoreStack { matchers: self.matchers.clone(), in_repo },
            Some(own) => {
                let mut matchers: Vec<_> = self.matchers.iter().flat_map(|m| m.iter().cloned()).collect();
                matchers.push(own);
                IgnoreStack { matchers: Some(Arc::new(matchers)), in_repo }
            }
        }
    }

    /// Whether `path` (a folder when `is_dir`) is ignored: the nearest file with a matching
    /// pattern decides, a `!pattern` keeping it.
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        for matcher in self.matchers.iter().flat_map(|m| m.iter()).rev() {
            match matcher.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

/// One matcher rooted at `dir` from whichever of `files` exist (later files win); `None` when
/// none has a pattern.
fn load(dir: &Path, files: &[PathBuf]) -> Option<Arc<Gitignore>> {
    let mut builder = GitignoreBuilder::new(dir);
    let mut any = false;
    for file in files {
        if file.is_file() {
            // A malformed line is skipped, as git does; the rest of the file still counts.
            let _ = builder.add(file);
            any = true;
        }
    }
    if !any {
        return None;
    }
    builder.build().ok().filter(|matcher| !matcher.is_empty()).map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn nested_files_negation_anchors_and_info_exclude() {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        fs::create_dir_all(r.join(".git/info")).unwrap();
        fs::create_dir_all(r.join("pkg/logs")).unwrap();
        fs::write(r.join(".gitignore"), "*.log\nbuild/\n/out\n").unwrap();
        fs::write(r.join("pkg/.gitignore"), "!keep.log\n").unwrap();
        fs::write(r.join(".git/info/exclude"), "secret.txt\n").unwrap();
        fs::write(r.join("pkg/.ignore"), "scratch\n").unwrap();

        let top = IgnoreStack::above(r).child(r);
        let pkg = top.child(&r.join("pkg"));
        assert!(top.is_ignored(&r.join("debug.log"), false));
        assert!(top.is_ignored(&r.join("build"), true));
        assert!(!top.is_ignored(&r.join("build"), false), "`build/` is for folders only");
        assert!(top.is_ignored(&r.join("out"), true));
        assert!(!pkg.is_ignored(&r.join("pkg/out"), true), "`/out` is anchored at its own folder");
        assert!(pkg.is_ignored(&r.join("pkg/debug.log"), false));
        assert!(!pkg.is_ignored(&r.join("pkg/keep.log"), false), "re-included below");
        assert!(top.is_ignored(&r.join("secret.txt"), false));
        assert!(pkg.is_ignored(&r.join("pkg/scratch"), true));
        assert!(!top.is_ignored(&r.join("src.rs"), false));
    }

    #[test]
    fn gitignore_counts_only_inside_a_repository_but_ignore_counts_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join(".gitignore"), "*.tmp\n").unwrap();
        fs::write(d.join(".ignore"), "*.bak\n").unwrap();
        let stack = IgnoreStack::above(d).child(d);
        assert!(!stack.is_ignored(&d.join("a.tmp"), false));
        assert!(stack.is_ignored(&d.join("a.bak"), false));
    }

    #[test]
    fn a_watched_folder_inside_a_repository_gets_the_files_above_it() {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        fs::create_dir_all(r.join(".git")).unwrap();
        fs::create_dir_all(r.join("app/src")).unwrap();
        fs::write(r.join(".gitignore"), "*.gen.ts\n").unwrap();
        let stack = IgnoreStack::above(&r.join("app/src")).child(&r.join("app/src"));
        assert!(stack.is_ignored(&r.join("app/src/types.gen.ts"), false));
        assert!(!stack.is_ignored(&r.join("app/src/types.ts"), false));
    }
}
