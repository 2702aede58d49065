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
    let identity = identity(meta);
    Probe { kind, identity, stamp: stamp(stamp_fields(meta), identity) }
}

/// Mixes the fields that change with a file into one number (not cryptographic: a change is
/// missed only if every field changed and the mix still collides, one chance in 2^64).
fn stamp(fields: impl Hash, identity: (u64, u64)) -> u64 {
    let mut hasher = StampHasher(0x9e37_79b9_7f4a_7c15);
    fields.hash(&mut hasher);
    identity.hash(&mut hasher);
    hasher.finish()
}

/// A multiply-rotate hash: a few cycles per field, where SipHash cost polling a large tree
/// several times over.
struct StampHasher(u64);

impl Hasher for StampHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^ (x >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).rotate_left(29).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }

    fn write_i64(&mut self, value: i64) {
        self.write_u64(value as u64);
    }
}

/// A folder opened once to stat its entries by name: the kernel then resolves one component
/// per entry instead of the whole path (polling a tree stats every file of it, every interval).
pub struct DirHandle {
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
    #[cfg(not(unix))]
    path: std::path::PathBuf,
}

impl DirHandle {
    /// Opens `dir` for reading and statting. The walk opens a folder before it watches it: the
    /// opening is then not reported by the folder's own new watch (inotify reports opens, and
    /// every such event costs the watcher thread after start-up).
    pub fn open(dir: &Path) -> std::io::Result<DirHandle> {
        #[cfg(unix)]
        {
            use std::os::fd::{FromRawFd, OwnedFd};
            use std::os::unix::ffi::OsStrExt;
            let c_dir = std::ffi::CString::new(dir.as_os_str().as_bytes())
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
            // SAFETY: a valid NUL-terminated path; the descriptor is owned from here on.
            let fd = unsafe { libc::open(c_dir.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(DirHandle { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
        }
        #[cfg(not(unix))]
        {
            if fs::metadata(dir)?.is_dir() {
                Ok(DirHandle { path: dir.to_path_buf() })
            } else {
                Err(std::io::Error::from(std::io::ErrorKind::NotADirectory))
            }
        }
    }

    /// Calls `each(name, kind, inode)` for every entry but `.` and `..`, as the folder is now
    /// (reading is not a snapshot of when it was opened). On Unix this reads the directory with
    /// `readdir` directly: the standard library allocates a name per entry, which at 100,000
    /// entries is a measurable part of a start-up.
    #[cfg(unix)]
    pub fn read_entries(self, dir: &Path, mut each: impl FnMut(&std::ffi::OsStr, Listed, u64)) -> std::io::Result<()> {
        use std::ffi::{CStr, OsStr};
        use std::os::fd::IntoRawFd;
        use std::os::unix::ffi::OsStrExt;
        let fd = self.fd.into_raw_fd();
        // SAFETY: `fd` is an open directory descriptor whose ownership passes to the stream,
        // which closedir closes below.
        let stream = unsafe { libc::fdopendir(fd) };
        if stream.is_null() {
            let err = std::io::Error::last_os_error();
            // SAFETY: fdopendir failed, so the descriptor is still ours to close.
            unsafe { libc::close(fd) };
            return Err(err);
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
        // SAFETY: opened above, closed once (with its descriptor).
        unsafe { libc::closedir(stream) };
        Ok(())
    }

    #[cfg(not(unix))]
    pub fn read_entries(self, _dir: &Path, mut each: impl FnMut(&std::ffi::OsStr, Listed, u64)) -> std::io::Result<()> {
        for item in fs::read_dir(&self.path)?.flatten() {
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

    /// The entry `name`'s kind and stamp, as [`probe`] would give them, and the later of its
    /// modification and status-change times. `None` when it is gone.
    #[cfg(unix)]
    pub fn stat(&self, name: &std::ffi::OsStr, follow_symlinks: bool) -> Option<(EntryKind, u64, SystemTime)> {
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        let c_name = std::ffi::CString::new(name.as_bytes()).ok()?;
        let at = |flags| {
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            // SAFETY: valid descriptor and name; `st` is written on success only.
            let done = unsafe { libc::fstatat(self.fd.as_raw_fd(), c_name.as_ptr(), st.as_mut_ptr(), flags) };
            (done == 0).then(|| unsafe { st.assume_init() })
        };
        let mut st = at(libc::AT_SYMLINK_NOFOLLOW)?;
        let mut kind = match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => EntryKind::Dir,
            libc::S_IFLNK => EntryKind::Symlink,
            _ => EntryKind::File,
        };
        if kind == EntryKind::Symlink && follow_symlinks {
            if let Some(target) = at(0).filter(|t| t.st_mode & libc::S_IFMT == libc::S_IFDIR) {
                st = target;
                kind = EntryKind::Dir;
            }
        }
        #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
        let fields = (st.st_mtime as i64, st.st_mtime_nsec as i64, st.st_ctime as i64, st.st_ctime_nsec as i64, st.st_size as u64);
        #[allow(clippy::unnecessary_cast)]
        let identity = (st.st_dev as u64, st.st_ino as u64);
        let time = |secs: i64, nanos: i64| {
            SystemTime::UNIX_EPOCH + std::time::Duration::new(secs.max(0) as u64, nanos.clamp(0, 999_999_999) as u32)
        };
        let changed_at = time(fields.0, fields.1).max(time(fields.2, fields.3));
        Some((kind, stamp(fields, identity), changed_at))
    }

    #[cfg(not(unix))]
    pub fn stat(&self, name: &std::ffi::OsStr, follow_symlinks: bool) -> Option<(EntryKind, u64, SystemTime)> {
        probe(&self.path.join(name), follow_symlinks).map(|p| (p.kind, p.stamp, p.changed_at))
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Listed {
    Dir,
    File,
    Symlink,
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_by_name_stamps_as_a_probe_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        fs::write(&file, "x").unwrap();
        std::os::unix::fs::symlink(&file, dir.path().join("link")).unwrap();
        let handle = DirHandle::open(dir.path()).unwrap();
        let mut listed = Vec::new();
        DirHandle::open(dir.path()).unwrap().read_entries(dir.path(), |name, kind, _| listed.push((name.to_os_string(), kind))).unwrap();
        listed.sort();
        assert_eq!(listed, vec![("a.txt".into(), Listed::File), ("link".into(), Listed::Symlink)]);
        for name in ["a.txt", "link"] {
            let probed = probe(&dir.path().join(name), false).unwrap();
            let (kind, stamp, _) = handle.stat(std::ffi::OsStr::new(name), false).unwrap();
            assert_eq!((kind, stamp), (probed.kind, probed.stamp), "{name}");
        }
        assert_eq!(handle.stat(std::ffi::OsStr::new("."), false).map(|s| s.1), Some(probe(dir.path(), true).unwrap().stamp));
        assert!(handle.stat(std::ffi::OsStr::new("missing"), false).is_none());
        fs::write(&file, "changed").unwrap();
        assert_ne!(handle.stat(std::ffi::OsStr::new("a.txt"), false).unwrap().1, probe(&dir.path().join("link"), false).unwrap().stamp);
    }
}
