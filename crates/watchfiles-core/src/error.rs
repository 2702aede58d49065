//! One error type for everything the watcher can report, each variant with a message a user can
//! act on and a stable code that bindings expose.

use std::io;
use std::sync::Arc;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while watching.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A path to watch does not exist.
    #[error("cannot watch {}: no such file or directory", .path.display())]
    NotFound {
        /// The path that does not exist.
        path: PathBuf,
    },

    /// A folder or file could not be read or watched for lack of permission.
    #[error(
        "cannot watch {}: permission denied (pass ignorePermissionDenied to skip such folders)",
        .path.display()
    )]
    PermissionDenied {
        /// The folder or file that cannot be read.
        path: PathBuf,
    },

    /// The OS refused another watch (inotify's per-user limit).
    #[error(
        "cannot watch {}: the OS limit on file watches is reached ({limit}). Raise it with \
         `sudo sysctl fs.inotify.max_user_watches=524288` (add the line \
         `fs.inotify.max_user_watches=524288` to /etc/sysctl.conf to keep it), or ignore large \
         folders",
        .path.display(),
        limit = watch_limit_description()
    )]
    WatchLimit {
        /// The folder that could not be watched.
        path: PathBuf,
    },

    /// An option has a value the watcher cannot use.
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption {
        /// The option's name, as JavaScript spells it.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },

    /// Any other I/O failure, with the path it concerns.
    #[error("cannot watch {}: {source}", .path.display())]
    Io {
        /// The path the failure concerns.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Arc<io::Error>,
    },

    /// The OS backend failed in a way that is not tied to one path.
    #[error("the file watching backend failed: {0}")]
    Backend(String),
}

impl Error {
    /// A stable identifier for the kind of error, exposed to JavaScript as `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "ERR_WATCH_NOT_FOUND",
            Error::PermissionDenied { .. } => "ERR_WATCH_PERMISSION_DENIED",
            Error::WatchLimit { .. } => "ERR_WATCH_LIMIT",
            Error::InvalidOption { .. } => "ERR_WATCH_INVALID_OPTION",
            Error::Io { .. } => "ERR_WATCH_IO",
            Error::Backend(_) => "ERR_WATCH_BACKEND",
        }
    }

    /// The path the error concerns, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::NotFound { path }
            | Error::PermissionDenied { path }
            | Error::WatchLimit { path }
            | Error::Io { path, .. } => Some(path),
            Error::InvalidOption { .. } | Error::Backend(_) => None,
        }
    }

    /// Classifies an I/O error met while reading or watching `path`.
    pub(crate) fn from_io(path: &Path, err: io::Error) -> Error {
        let path = path.to_path_buf();
        match err.kind() {
            io::ErrorKind::NotFound => Error::NotFound { path },
            io::ErrorKind::PermissionDenied => Error::PermissionDenied { path },
            _ if err.raw_os_error() == Some(ENOSPC) => Error::WatchLimit { path },
            _ => Error::Io { path, source: Arc::new(err) },
        }
    }

    /// Translates an error of the notify crate.
    pub(crate) fn from_notify(path: &Path, err: notify::Error) -> Error {
        match err.kind {
            notify::ErrorKind::MaxFilesWatch => Error::WatchLimit { path: path.to_path_buf() },
            notify::ErrorKind::PathNotFound => Error::NotFound { path: path.to_path_buf() },
            notify::ErrorKind::Io(io) => Error::from_io(path, io),
            other => Error::Backend(format!("{other:?} ({})", path.display())),
        }
    }
}

#[cfg(unix)]
const ENOSPC: i32 = libc::ENOSPC;
#[cfg(not(unix))]
const ENOSPC: i32 = 28;

/// Names the limit in force, so the message says what was hit.
fn watch_limit_description() -> String {
    match std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches") {
        Ok(value) => format!("fs.inotify.max_user_watches = {}", value.trim()),
        Err(_) => "fs.inotify.max_user_watches".to_string(),
    }
}

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
