//! The unit of output: one net change of one path.

use std::path::PathBuf;

/// What happened to a path over a batch, as a net effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// The path did not exist when the batch began and exists at its end.
    Added,
    /// The path existed at both ends of the batch and was written, replaced or had its metadata
    /// changed in between.
    Modified,
    /// The path existed when the batch began and is gone at its end.
    Deleted,
}

impl ChangeKind {
    /// The lower-case name used by watchfiles and by the JavaScript API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// One net change: what happened to which absolute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The absolute path, as the OS gave it.
    pub path: PathBuf,
}

impl Change {
    /// A change of `kind` to `path`.
    pub fn new(kind: ChangeKind, path: impl Into<PathBuf>) -> Self {
        Change { kind, path: path.into() }
    }
}
