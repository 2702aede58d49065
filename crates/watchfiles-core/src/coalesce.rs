//! Net-change rules: many observations of a path within one batch become at most one change.
//!
//! A path's net change follows from two facts only: did it exist when the batch began, and does
//! it exist now. The first observation of a path tells the former (an `Added` observation means
//! it did not exist before; `Modified` or `Deleted` mean it did); the latest observation tells the
//! latter. So create+modify is added, create+delete is nothing, delete+create is modified,
//! modify+delete is deleted, and an atomic save (temp file renamed over the target) leaves the
//! temp file out and the target modified.

use crate::change::{Change, ChangeKind};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy)]
struct PathState {
    existed_before: bool,
    exists_now: bool,
}

/// Accumulates observations and yields the net changes, in the order paths were first seen.
/// Folding successive batches through one `Coalescer` gives their combined net effect.
#[derive(Debug, Default, Clone)]
pub struct Coalescer {
    index: HashMap<PathBuf, usize>,
    order: Vec<(PathBuf, PathState)>,
}

impl Coalescer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one observation of `path`.
    pub fn observe(&mut self, kind: ChangeKind, path: PathBuf) {
        let exists_now = kind != ChangeKind::Deleted;
        if let Some(&slot) = self.index.get(&path) {
            self.order[slot].1.exists_now = exists_now;
            return;
        }
        let state = PathState { existed_before: kind != ChangeKind::Added, exists_now };
        self.index.insert(path.clone(), self.order.len());
        self.order.push((path, state));
    }

    /// Number of distinct paths observed (an upper bound on the changes `take` returns).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Takes the net changes and starts afresh. Paths whose changes cancel out are left out.
    pub fn take(&mut self) -> Vec<Change> {
        self.index.clear();
        std::mem::take(&mut self.order)
            .into_iter()
            .filter_map(|(path, state)| {
                let kind = match (state.existed_before, state.exists_now) {
                    (false, true) => ChangeKind::Added,
                    (true, true) => ChangeKind::Modified,
                    (true, false) => ChangeKind::Deleted,
                    (false, false) => return None,
                };
                Some(Change { kind, path })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChangeKind::*;

    fn net(observations: &[(ChangeKind, &str)]) -> Vec<(ChangeKind, String)> {
        let mut c = Coalescer::new();
        for (kind, path) in observations {
            c.observe(*kind, PathBuf::from(path));
        }
        c.take().into_iter().map(|c| (c.kind, c.path.to_string_lossy().into_owned())).collect()
    }

    #[test]
    fn rules_from_the_issue() {
        assert_eq!(net(&[(Added, "/a"), (Modified, "/a")]), vec![(Added, "/a".into())]);
        assert_eq!(net(&[(Added, "/a"), (Deleted, "/a")]), vec![]);
        assert_eq!(net(&[(Deleted, "/a"), (Added, "/a")]), vec![(Modified, "/a".into())]);
        assert_eq!(net(&[(Modified, "/a"), (Deleted, "/a")]), vec![(Deleted, "/a".into())]);
        assert_eq!(net(&[(Modified, "/a"), (Modified, "/a")]), vec![(Modified, "/a".into())]);
    }

    #[test]
    fn rename_is_delete_plus_add() {
        assert_eq!(
            net(&[(Deleted, "/old"), (Added, "/new")]),
            vec![(Deleted, "/old".into()), (Added, "/new".into())]
        );
    }

    #[test]
    fn atomic_save_reports_only_the_target() {
        // write temp, rename temp over target: the target is replaced (seen as modified).
        assert_eq!(
            net(&[(Added, "/t.tmp"), (Modified, "/t.tmp"), (Deleted, "/t.tmp"), (Modified, "/t")]),
            vec![(Modified, "/t".into())]
        );
    }

    #[test]
    fn order_is_first_seen_and_take_resets() {
        let mut c = Coalescer::new();
        c.observe(Modified, "/b".into());
        c.observe(Added, "/a".into());
        c.observe(Modified, "/b".into());
        let kinds: Vec<_> = c.take().into_iter().map(|c| c.path).collect();
        assert_eq!(kinds, vec![PathBuf::from("/b"), PathBuf::from("/a")]);
        assert!(c.is_empty());
        assert_eq!(c.take(), vec![]);
    }
}
