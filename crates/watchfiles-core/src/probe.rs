//! What the filesystem says about one path right now: its kind, identity and a change stamp.
//! Platform differences stay in here.

use std::fs::{self, Metadata};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::SystemTime;

/// The kinds of entries the tree distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A symbolic link that is not followed (reported as an entry of its own).
    Symlink,
}

/// One `stat` of a path.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub kind: EntryKind,
    /// Device and inode (zero where the platform has none): tells a replaced folder from the
    /// same folder, and a symlink loop from a new folder.
    pub identity: (u64, u64),
    /// Changes whenever content, metadata or identity changes (mtime, ctime, size and inode).
    pub stamp: u64,
    /// The later of modification and status-change time.
    pub changed_at: SystemTime,
}

/// Stats `path` without following a final symlink, unless `follow_symlinks` is set and the link
/// leads to a folder. `None` when nothing is there.
pub fn probe(path: &Path, follow_symlinks: bool) -> Option<Probe> {
    let meta = fs::symlink_metadata(path).ok()?;
    if meta.file_type().is_symlink() {
        if follow_symlinks {
            if let Ok(target) = fs::metadata(path) {
                if target.is_dir() {
                    return Some(from_metadata(&target, EntryKind::Dir));
                }
            }
        }
        return Some(from_metadata(&meta, EntryKind::Symlink));
    }
    let kind = if meta.is_dir() { EntryKind::Dir } else { EntryKind::File };
    Some(from_metadata(&meta, kind))
}

/// Stats a root, following symlinks: a root given as a link means the folder it leads to.
pub fn probe_root(path: &Path) -> std::io::Result<Probe> {
    let meta = fs::metadata(path)?;
    let kind = if meta.is_dir() { EntryKind::Dir } else { EntryKind::File };
    Ok(from_metadata(&meta, kind))
}

fn from_metadata(meta: &Metadata, kind: EntryKind) -> Probe {
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let identity = identity(meta);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    stamp_fields(meta).hash(&mut hasher);
    identity.hash(&mut hasher);
    let changed_at = status_changed(meta).map_or(modified, |ctime| ctime.max(modified));
    Probe { kind, identity, stamp: hasher.finish(), changed_at }
}

#[cfg(unix)]
fn identity(meta: &Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(unix)]
fn stamp_fields(meta: &Metadata) -> (i64, i64, i64, i64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec(), meta.size())
}

#[cfg(not(unix))]
fn stamp_fields(meta: &Metadata) -> (Option<SystemTime>, u64, bool) {
    (meta.modified().ok(), meta.len(), meta.permissions().readonly())
}

#[cfg(unix)]
fn status_changed(meta: &Metadata) -> Option<SystemTime> {
    use std::os::unix::fs::MetadataExt;
    let secs = u64::try_from(meta.ctime()).ok()?;
    let nanos = u32::try_from(meta.ctime_nsec()).ok()?;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::new(secs, nanos))
}

#[cfg(not(unix))]
fn status_changed(_meta: &Metadata) -> Option<SystemTime> {
    None
}

/// The inode of a listed entry, read from the directory itself (no `stat`).
#[cfg(unix)]
pub fn listed_inode(entry: &fs::DirEntry) -> u64 {
    use std::os::unix::fs::DirEntryExt;
    entry.ino()
}

#[cfg(not(unix))]
pub fn listed_inode(_entry: &fs::DirEntry) -> u64 {
    0
}

/// What a directory listing says an entry is (without a `stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Dir,
    File,
    Symlink,
}

/// Calls `each(name, kind, inode)` for every entry of `dir` but `.` and `..`. On Unix this
/// reads the directory with `readdir` directly: the standard library allocates a name per entry,
/// which at 100,000 entries is a measurable part of a start-up.
#[cfg(unix)]
pub fn read_entries(dir: &Path, mut each: impl FnMut(&std::ffi::OsStr, Listed, u64)) -> std::io::Result<()> {
    use std::ffi::{CStr, CString, OsStr};
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let c_dir = CString::new(dir.as_os_str().to_os_string().into_vec())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: `c_dir` is a valid NUL-terminated path; the stream is closed below on every path.
    let stream = unsafe { libc::opendir(c_dir.as_ptr()) };
    if stream.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    let mut child = dir.to_path_buf();
    loop {
        // SAFETY: `stream` is open; the entry stays valid until the next readdir on it.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated within the entry.
        let (name, d_type, ino) = unsafe {
            let entry = &*entry;
            #[cfg(any(target_os = "freebsd", target_os = "openbsd", target_os = "netbsd"))]
            let ino = entry.d_fileno as u64;
            #[cfg(not(any(target_os = "freebsd", target_os = "openbsd", target_os = "netbsd")))]
            let ino = entry.d_ino as u64;
            (CStr::from_ptr(entry.d_name.as_ptr()).to_bytes(), entry.d_type, ino)
        };
        if name == b"." || name == b".." {
            continue;
        }
        let name = OsStr::from_bytes(name);
        let kind = match d_type {
            libc::DT_DIR => Listed::Dir,
            libc::DT_LNK => Listed::Symlink,
            libc::DT_UNKNOWN => {
                // Some filesystems do not fill in d_type: ask with a stat.
                child.push(name);
                let found = fs::symlink_metadata(&child);
                child.pop();
                match found {
                    Ok(meta) if meta.is_dir() => Listed::Dir,
                    Ok(meta) if meta.file_type().is_symlink() => Listed::Symlink,
                    Ok(_) => Listed::File,
                    Err(_) => continue, // gone meanwhile
                }
            }
            _ => Listed::File,
        };
        each(name, kind, ino);
    }
    // SAFETY: opened above, closed once.
    unsafe { libc::closedir(stream) };
    Ok(())
}

#[cfg(not(unix))]
pub fn read_entries(dir: &Path, mut each: impl FnMut(&std::ffi::OsStr, Listed, u64)) -> std::io::Result<()> {
    for item in fs::read_dir(dir)?.flatten() {
        let Ok(file_type) = item.file_type() else { continue };
        let kind = if file_type.is_dir() {
            Listed::Dir
        } else if file_type.is_symlink() {
            Listed::Symlink
        } else {
            Listed::File
        };
        each(&item.file_name(), kind, 0);
    }
    Ok(())
}
