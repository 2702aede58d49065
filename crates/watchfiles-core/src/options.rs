//! Watch options: their defaults, the environment variables that override them, and validation.
//! This is the one place that knows either.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to do when the OS refuses another watch (inotify's `max_user_watches`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatchLimitPolicy {
    /// Poll the folders that could not be watched and report one warning (the default).
    #[default]
    Poll,
    /// Fail with [`Error::WatchLimit`].
    Error,
}

/// How to watch. `Options::default()` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Watch folders below the roots too (default `true`); `false` watches only each root's direct
    /// entries.
    pub recursive: bool,
    /// Quiet period that ends a batch (default 50 ms). Zero delivers whatever the OS has queued as
    /// soon as it has been read.
    pub step: Duration,
    /// Longest time a batch may keep growing (default 1600 ms).
    pub debounce: Duration,
    /// Skip the usual noise (VCS folders, `node_modules`, caches, editor temp files; default
    /// `true`). See [`crate::filter::DEFAULT_IGNORE_DIRS`] and
    /// [`crate::filter::DEFAULT_IGNORE_NAMES`].
    pub default_ignore: bool,
    /// More paths or globs to ignore. A glob without `/` matches entry names at any depth
    /// (`*.log`, `dist`); a glob with `/` matches the path relative to the root (`build/**`), or
    /// the absolute path when it starts with `/`. An absolute plain path ignores that path and
    /// everything below it. Ignored folders are never walked or watched.
    pub ignore: Vec<String>,
    /// Poll instead of using OS events. `None` (the default) asks the environment: the
    /// `WATCHFILES_FORCE_POLLING` variable as watchfiles reads it, then WSL detection.
    pub force_polling: Option<bool>,
    /// Time between two polls (default 300 ms, or `WATCHFILES_POLL_DELAY_MS`).
    pub poll_interval: Option<Duration>,
    /// Skip folders that cannot be read for lack of permission, with a warning, instead of
    /// failing (default `false`).
    pub ignore_permission_denied: bool,
    /// Walk into symlinked folders (default `false`: a symlink is reported as an entry of its
    /// own and not followed). Each folder is watched once, so symlink loops end.
    pub follow_symlinks: bool,
    /// What to do when the OS watch limit is reached (default: poll what could not be watched).
    pub on_watch_limit: WatchLimitPolicy,
    /// Report only files with these extensions (without the dot, e.g. `["ts", "js"]`); empty
    /// (the default) reports every file. Folders are still walked and watched, but not reported.
    pub extensions: Vec<String>,
    /// Report only paths matching one of these globs or paths (same syntax as `ignore`); empty
    /// (the default) reports everything not ignored. Folders are still walked and watched.
    pub include: Vec<String>,
    /// Honour `.gitignore` files at every level (inside a git repository), `.ignore` files, the
    /// repository's `.git/info/exclude` and the global `core.excludesFile` (default `false`).
    /// Ignored folders are never walked or watched; editing an ignore file takes effect at once.
    pub gitignore: bool,
}

/// Default quiet period that ends a batch.
pub const DEFAULT_STEP: Duration = Duration::from_millis(50);
/// Default longest time a batch may keep growing.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(1600);
/// Default time between two polls.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(300);

impl Default for Options {
    fn default() -> Self {
        Options {
            recursive: true,
            step: DEFAULT_STEP,
            debounce: DEFAULT_DEBOUNCE,
            default_ignore: true,
            ignore: Vec::new(),
            force_polling: None,
            poll_interval: None,
            ignore_permission_denied: false,
            follow_symlinks: false,
            on_watch_limit: WatchLimitPolicy::Poll,
            extensions: Vec::new(),
            include: Vec::new(),
            gitignore: false,
        }
    }
}

impl Options {
    /// Checks the values the types alone do not rule out.
    pub fn validate(&self) -> Result<()> {
        if self.poll_interval == Some(Duration::ZERO) {
            return Err(Error::InvalidOption {
                name: "pollInterval",
                reason: "must be greater than 0".into(),
            });
        }
        for pattern in &self.ignore {
            if pattern.is_empty() {
                return Err(Error::InvalidOption {
                    name: "ignore",
                    reason: "entries must not be empty strings".into(),
                });
            }
        }
        for extension in &self.extensions {
            if extension.is_empty() || extension.contains(['/', '\\']) {
                return Err(Error::InvalidOption {
                    name: "extensions",
                    reason: format!("{extension:?} is not a file extension"),
                });
            }
        }
        Ok(())
    }

    /// Whether to poll: the option when set, else `WATCHFILES_FORCE_POLLING` (any non-empty value
    /// but `false`, `disable` or `disabled` turns polling on), else when a root lies on a Windows
    /// drive mounted into WSL (`/mnt/c/...`), where inotify never hears of changes made from
    /// Windows.
    pub fn resolved_force_polling(&self, roots: &[PathBuf]) -> bool {
        self.force_polling.unwrap_or_else(|| {
            force_polling_from_env(std::env::var("WATCHFILES_FORCE_POLLING").ok().as_deref())
                .unwrap_or_else(|| running_under_wsl() && roots.iter().any(|r| on_windows_mount(r)))
        })
    }

    /// The poll interval: the option when set, else `WATCHFILES_POLL_DELAY_MS`, else 300 ms.
    pub fn resolved_poll_interval(&self) -> Duration {
        self.poll_interval.unwrap_or_else(|| {
            std::env::var("WATCHFILES_POLL_DELAY_MS")
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&ms| ms > 0)
                .map(Duration::from_millis)
                .unwrap_or(DEFAULT_POLL_INTERVAL)
        })
    }
}

fn force_polling_from_env(value: Option<&str>) -> Option<bool> {
    match value {
        None | Some("") => None,
        Some(v) => Some(!matches!(v.to_ascii_lowercase().as_str(), "false" | "disable" | "disabled")),
    }
}

/// A path below `/mnt/<drive letter>`, where WSL mounts Windows drives.
fn on_windows_mount(path: &Path) -> bool {
    let mut parts = path.components().skip(1);
    parts.next().is_some_and(|c| c.as_os_str() == "mnt")
        && parts.next().is_some_and(|c| c.as_os_str().len() == 1)
}

/// WSL's kernel release names Microsoft.
fn running_under_wsl() -> bool {
    cfg!(target_os = "linux")
        && std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|release| release.to_ascii_lowercase().contains("microsoft"))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_value_is_read_as_watchfiles_reads_it() {
        assert_eq!(force_polling_from_env(None), None);
        assert_eq!(force_polling_from_env(Some("")), None);
        assert_eq!(force_polling_from_env(Some("1")), Some(true));
        assert_eq!(force_polling_from_env(Some("true")), Some(true));
        assert_eq!(force_polling_from_env(Some("yes")), Some(true));
        assert_eq!(force_polling_from_env(Some("False")), Some(false));
        assert_eq!(force_polling_from_env(Some("disable")), Some(false));
        assert_eq!(force_polling_from_env(Some("DISABLED")), Some(false));
    }

    #[test]
    fn explicit_option_wins() {
        let options = Options { force_polling: Some(false), ..Options::default() };
        assert!(!options.resolved_force_polling(&[PathBuf::from("/mnt/c/x")]));
        let options = Options { poll_interval: Some(Duration::from_millis(7)), ..Options::default() };
        assert_eq!(options.resolved_poll_interval(), Duration::from_millis(7));
    }

    #[test]
    fn windows_drives_under_wsl_are_recognised() {
        assert!(on_windows_mount(Path::new("/mnt/c/Users/me/project")));
        assert!(on_windows_mount(Path::new("/mnt/d")));
        assert!(!on_windows_mount(Path::new("/mnt/data/project")));
        assert!(!on_windows_mount(Path::new("/home/me/mnt/c")));
    }

    #[test]
    fn zero_poll_interval_is_rejected() {
        let options = Options { poll_interval: Some(Duration::ZERO), ..Options::default() };
        let err = options.validate().unwrap_err();
        assert_eq!(err.code(), "ERR_WATCH_INVALID_OPTION");
        assert!(err.to_string().contains("pollInterval"), "{err}");
    }
}
