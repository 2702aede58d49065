//! Which paths the watcher ignores. Ignored folders are never walked or watched and ignored
//! entries never produce a change, so this is asked before anything costs an OS resource.

use crate::error::{Error, Result};
use crate::options::Options;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Folder names ignored by default, as in watchfiles' `DefaultFilter`.
pub const DEFAULT_IGNORE_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    ".tox",
    ".idea",
    ".mypy_cache",
    ".pytest_cache",
    ".hypothesis",
];

/// Entry-name patterns ignored by default (globs over the last path component): compiled Python,
/// JetBrains safe-write temp files, vim swap files, backup files, Emacs lock files, macOS folder
/// metadata and flycheck temp files.
pub const DEFAULT_IGNORE_NAMES: &[&str] =
    &["*.py[cod]", "*.___jb_???___", "*.sw?", "*~", ".#*", ".DS_Store", "flycheck_*"];

/// Rules over entry names and paths, compiled from `ignore`-style entries: a glob without `/`
/// matches names at any depth, a glob with `/` the path relative to the root (or the absolute
/// path when it starts with `/`), a plain absolute path that path and everything below it.
#[derive(Debug, Clone)]
struct PathRules {
    /// Exact entry names. A short list scanned in place: hashing every name the walk lists
    /// (SipHash) cost more than comparing it with a dozen names of the wrong length.
    names: Vec<OsString>,
    /// Globs over an entry's name.
    name_globs: GlobSet,
    /// Globs over the path relative to its root.
    relative_globs: GlobSet,
    /// Globs over the absolute path.
    absolute_globs: GlobSet,
    /// Absolute paths, with everything below them.
    paths: Vec<PathBuf>,
}

impl PathRules {
    fn new(option: &'static str, names: &[&str], name_patterns: &[&str], entries: &[String]) -> Result<PathRules> {
        let mut name_globs = GlobSetBuilder::new();
        let mut relative_globs = GlobSetBuilder::new();
        let mut absolute_globs = GlobSetBuilder::new();
        let mut rules = PathRules {
            names: names.iter().map(OsString::from).collect(),
            name_globs: GlobSet::empty(),
            relative_globs: GlobSet::empty(),
            absolute_globs: GlobSet::empty(),
            paths: Vec::new(),
        };
        for pattern in name_patterns {
            name_globs.add(compile(option, pattern)?);
        }
        for pattern in entries {
            let is_glob = pattern.contains(['*', '?', '[', '{']);
            let has_separator = pattern.contains('/') || pattern.contains(std::path::MAIN_SEPARATOR);
            let is_absolute = Path::new(pattern).is_absolute();
            match (is_glob, has_separator, is_absolute) {
                (false, _, true) => rules.paths.push(PathBuf::from(pattern)),
                (false, false, false) => {
                    rules.names.push(OsString::from(pattern));
                }
                (true, false, _) => {
                    name_globs.add(compile(option, pattern)?);
                }
                (_, true, absolute) => {
                    let target = if absolute { &mut absolute_globs } else { &mut relative_globs };
                    let pattern = pattern.trim_start_matches("./");
                    target.add(compile(option, pattern)?);
                    // `dir/**` covers everything below `dir`: match `dir` itself too, so an
                    // ignored one is pruned before it is walked.
                    if let Some(dir) = pattern.strip_suffix("/**") {
                        target.add(compile(option, dir)?);
                    }
                }
            }
        }
        rules.name_globs = build(option, name_globs)?;
        rules.relative_globs = build(option, relative_globs)?;
        rules.absolute_globs = build(option, absolute_globs)?;
        Ok(rules)
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty() && self.name_globs.is_empty() && !self.needs_path()
    }

    fn needs_path(&self) -> bool {
        !(self.paths.is_empty() && self.absolute_globs.is_empty() && self.relative_globs.is_empty())
    }

    fn matches_name(&self, name: &OsStr) -> bool {
        let len = name.len();
        self.names.iter().any(|n| n.len() == len && n == name)
            || (!self.name_globs.is_empty() && self.name_globs.is_match(name))
    }

    fn matches_path(&self, root: &Path, path: &Path) -> bool {
        if !self.paths.is_empty() && self.paths.iter().any(|p| path.starts_with(p)) {
            return true;
        }
        if !self.absolute_globs.is_empty() && self.absolute_globs.is_match(path) {
            return true;
        }
        if !self.relative_globs.is_empty() {
            if let Ok(relative) = path.strip_prefix(root) {
                return self.relative_globs.is_match(relative);
            }
        }
        false
    }

    fn matches(&self, root: &Path, path: &Path) -> bool {
        path.file_name().is_some_and(|name| self.matches_name(name)) || self.matches_path(root, path)
    }
}

/// The compiled ignore and report rules.
#[derive(Debug, Clone)]
pub struct Filter {
    ignore: PathRules,
    /// When set, only matching paths are reported.
    include: Option<PathRules>,
    /// Extensions (with their dot) a reported path must end with; empty keeps all.
    extensions: Vec<String>,
}

impl Filter {
    /// Compiles the rules of `options`; a malformed glob is an [`crate::Error::InvalidOption`].
    pub fn new(options: &Options) -> Result<Filter> {
        let (names, patterns): (&[&str], &[&str]) = if options.default_ignore {
            (DEFAULT_IGNORE_DIRS, DEFAULT_IGNORE_NAMES)
        } else {
            (&[], &[])
        };
        let include = PathRules::new("include", &[], &[], &options.include)?;
        Ok(Filter {
            ignore: PathRules::new("ignore", names, patterns, &options.ignore)?,
            include: (!include.is_empty()).then_some(include),
            extensions: options
                .extensions
                .iter()
                .map(|e| format!(".{}", e.trim_start_matches('.')))
                .collect(),
        })
    }

    /// Whether `path`, an entry below `root`, is ignored. A root itself is never ignored: the user
    /// asked for it by name.
    pub fn is_ignored(&self, root: &Path, path: &Path) -> bool {
        path != root && self.ignore.matches(root, path)
    }

    /// The same question for entry `name` of folder `parent`, without building the path unless
    /// a rule needs it (the walk asks this for every entry it lists).
    pub fn is_ignored_entry(&self, root: &Path, parent: &Path, name: &OsStr) -> bool {
        self.ignore.matches_name(name) || (self.ignore.needs_path() && self.ignore.matches_path(root, &parent.join(name)))
    }

    /// Whether a change of `path` (below `root`) is reported: with `extensions`, only files
    /// ending with one; with `include`, only matching paths. Unlike ignored entries, the others
    /// are still tracked, so a later rename onto a reported name is seen.
    pub fn is_reported(&self, root: &Path, path: &Path) -> bool {
        if let Some(include) = &self.include {
            if !include.matches(root, path) {
                return false;
            }
        }
        if self.extensions.is_empty() {
            return true;
        }
        let Some(name) = path.file_name() else { return false };
        let name = name.to_string_lossy();
        self.extensions.iter().any(|ext| name.len() > ext.len() && name.ends_with(ext.as_str()))
    }
}

fn compile(option: &'static str, pattern: &str) -> Result<Glob> {
    GlobBuilder::new(pattern).literal_separator(true).backslash_escape(true).build().map_err(|err| {
        Error::InvalidOption { name: option, reason: format!("bad glob {pattern:?}: {}", err.kind()) }
    })
}

fn build(option: &'static str, builder: GlobSetBuilder) -> Result<GlobSet> {
    builder.build().map_err(|err| Error::InvalidOption { name: option, reason: err.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(ignore: &[&str], default_ignore: bool) -> Filter {
        let options = Options {
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            default_ignore,
            ..Options::default()
        };
        Filter::new(&options).unwrap()
    }

    fn ignored(f: &Filter, path: &str) -> bool {
        f.is_ignored(Path::new("/r"), Path::new(path))
    }

    #[test]
    fn default_folders_and_names() {
        let f = filter(&[], true);
        for path in [
            "/r/node_modules",
            "/r/a/.git",
            "/r/__pycache__",
            "/r/.venv",
            "/r/.mypy_cache",
            "/r/.pytest_cache",
            "/r/.hypothesis",
            "/r/.idea",
            "/r/.tox",
            "/r/.svn",
            "/r/.hg",
            "/r/src/.main.js.swp",
            "/r/src/.main.js.swx",
            "/r/notes.txt~",
            "/r/.#main.js",
            "/r/.DS_Store",
            "/r/flycheck_main.js",
            "/r/main.js.___jb_tmp___",
            "/r/main.js.___jb_old___",
            "/r/mod.pyc",
        ] {
            assert!(ignored(&f, path), "{path} should be ignored");
        }
        for path in ["/r/src/main.js", "/r/node_modules_backup", "/r/git", "/r/.gitignore", "/r/a.swift"]
        {
            assert!(!ignored(&f, path), "{path} should be kept");
        }
    }

    #[test]
    fn defaults_switch_off() {
        let f = filter(&[], false);
        assert!(!ignored(&f, "/r/node_modules"));
        assert!(!ignored(&f, "/r/.DS_Store"));
    }

    #[test]
    fn the_root_is_never_ignored() {
        let f = filter(&[], true);
        assert!(!f.is_ignored(Path::new("/p/node_modules"), Path::new("/p/node_modules")));
        assert!(f.is_ignored(Path::new("/p/node_modules"), Path::new("/p/node_modules/x/.git")));
    }

    #[test]
    fn user_names_globs_and_paths() {
        let f = filter(&["dist", "*.log", "build/**", "src/*.gen.ts", "/abs/secret", "/r/**/*.tmp"], true);
        assert!(ignored(&f, "/r/dist"));
        assert!(ignored(&f, "/r/a/b/dist"));
        assert!(ignored(&f, "/r/a/server.log"));
        assert!(ignored(&f, "/r/build"), "the folder of `build/**` is pruned");
        assert!(ignored(&f, "/r/build/out.js"));
        assert!(!ignored(&f, "/r/a/build"), "relative globs are anchored at the root");
        assert!(ignored(&f, "/r/src/x.gen.ts"));
        assert!(!ignored(&f, "/r/src/deep/x.gen.ts"), "`*` does not cross folders");
        assert!(f.is_ignored(Path::new("/abs"), Path::new("/abs/secret")));
        assert!(f.is_ignored(Path::new("/abs"), Path::new("/abs/secret/key")));
        assert!(!f.is_ignored(Path::new("/abs"), Path::new("/abs/secretive")));
        assert!(ignored(&f, "/r/x/y/z.tmp"));
        assert!(!ignored(&f, "/r/x/y/z.ts"));
    }

    #[test]
    fn extensions_keep_only_matching_files() {
        let options = Options { extensions: vec!["ts".into(), ".js".into()], ..Options::default() };
        let f = Filter::new(&options).unwrap();
        let r = Path::new("/r");
        assert!(f.is_reported(r, Path::new("/r/a.ts")));
        assert!(f.is_reported(r, Path::new("/r/b.js")));
        assert!(!f.is_reported(r, Path::new("/r/c.tsx")));
        assert!(!f.is_reported(r, Path::new("/r/src")));
        assert!(!f.is_reported(r, Path::new("/r/.ts")), "a dot file named like the extension");
        assert!(filter(&[], true).is_reported(r, Path::new("/r/anything")));
    }

    #[test]
    fn include_keeps_only_matching_paths() {
        let options = Options {
            include: vec!["src/**/*.ts".into(), "Makefile".into(), "/abs/keep".into()],
            ..Options::default()
        };
        let f = Filter::new(&options).unwrap();
        let r = Path::new("/r");
        assert!(f.is_reported(r, Path::new("/r/src/a/b.ts")));
        assert!(f.is_reported(r, Path::new("/r/src/b.ts")));
        assert!(!f.is_reported(r, Path::new("/r/src/b.js")));
        assert!(!f.is_reported(r, Path::new("/r/lib/b.ts")));
        assert!(f.is_reported(r, Path::new("/r/deep/Makefile")));
        assert!(f.is_reported(Path::new("/abs"), Path::new("/abs/keep/x")));
        let bad = Options { include: vec!["[".into()], ..Options::default() };
        assert!(Filter::new(&bad).unwrap_err().to_string().contains("include"));
    }

    #[test]
    fn a_bad_glob_names_the_option_and_pattern() {
        let options = Options { ignore: vec!["src/[".into()], ..Options::default() };
        let err = Filter::new(&options).unwrap_err();
        assert_eq!(err.code(), "ERR_WATCH_INVALID_OPTION");
        let message = err.to_string();
        assert!(message.contains("ignore") && message.contains("src/["), "{message}");
    }
}
