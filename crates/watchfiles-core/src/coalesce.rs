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
    /// An empty coalescer.
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

    /// Whether nothing was observed since the last `take`.
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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const NAMES: [&str; 4] = ["/a", "/b", "/c", "/d"];

    #[derive(Debug, Clone)]
    enum Op {
        Create(usize),
        Write(usize),
        Delete(usize),
        Rename(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..4usize).prop_map(Op::Create),
            (0..4usize).prop_map(Op::Write),
            (0..4usize).prop_map(Op::Delete),
            (0..4usize, 0..4usize).prop_map(|(a, b)| Op::Rename(a, b)),
        ]
    }

    /// Runs the ops on a model tree and returns what the watcher's tree observes for each:
    /// created → added, written → modified, deleted → deleted, renamed → the old path deleted
    /// and the new one added (modified when it replaced an existing entry).
    fn observe(start: &BTreeSet<usize>, ops: &[Op]) -> (BTreeSet<usize>, Vec<(ChangeKind, usize)>) {
        let mut tree = start.clone();
        let mut seen = Vec::new();
        for op in ops {
            match *op {
                Op::Create(p) if !tree.contains(&p) => {
                    tree.insert(p);
                    seen.push((ChangeKind::Added, p));
                }
                Op::Write(p) if tree.contains(&p) => seen.push((ChangeKind::Modified, p)),
                Op::Delete(p) if tree.contains(&p) => {
                    tree.remove(&p);
                    seen.push((ChangeKind::Deleted, p));
                }
                Op::Rename(from, to) if from != to && tree.contains(&from) => {
                    tree.remove(&from);
                    seen.push((ChangeKind::Deleted, from));
                    let replaced = !tree.insert(to);
                    seen.push((if replaced { ChangeKind::Modified } else { ChangeKind::Added }, to));
                }
                _ => {}
            }
        }
        (tree, seen)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Applying the delivered batches, in order, to the starting tree gives the final tree;
        /// every change in them is possible where it is applied; and a path written but neither
        /// created nor deleted overall is reported modified.
        #[test]
        fn batches_replay_to_the_final_tree(
            start in proptest::collection::btree_set(0..4usize, 0..=4),
            ops in proptest::collection::vec(op(), 0..40),
            cuts in proptest::collection::vec(any::<bool>(), 0..80),
        ) {
            let (end, seen) = observe(&start, &ops);
            let mut batches = Vec::new();
            let mut coalescer = Coalescer::new();
            for (i, (kind, p)) in seen.iter().enumerate() {
                coalescer.observe(*kind, PathBuf::from(NAMES[*p]));
                if cuts.get(i).copied().unwrap_or(false) {
                    batches.push(coalescer.take());
                }
            }
            batches.push(coalescer.take());

            let mut tree: BTreeSet<PathBuf> = start.iter().map(|&p| PathBuf::from(NAMES[p])).collect();
            let mut modified = BTreeSet::new();
            for batch in &batches {
                let paths: BTreeSet<_> = batch.iter().map(|c| &c.path).collect();
                prop_assert_eq!(paths.len(), batch.len(), "a path twice in one batch");
                for change in batch {
                    match change.kind {
                        ChangeKind::Added => prop_assert!(tree.insert(change.path.clone()), "added an existing path"),
                        ChangeKind::Deleted => prop_assert!(tree.remove(&change.path), "deleted a missing path"),
                        ChangeKind::Modified => {
                            prop_assert!(tree.contains(&change.path), "modified a missing path");
                            modified.insert(change.path.clone());
                        }
                    }
                }
            }
            let expected: BTreeSet<PathBuf> = end.iter().map(|&p| PathBuf::from(NAMES[p])).collect();
            prop_assert_eq!(tree, expected);
            for (kind, p) in &seen {
                let path = PathBuf::from(NAMES[*p]);
                if *kind == ChangeKind::Modified && start.contains(p) && end.contains(p)
                    && !seen.iter().any(|(k, q)| q == p && *k != ChangeKind::Modified)
                {
                    prop_assert!(modified.contains(&path), "a write of {:?} was lost", path);
                }
            }
        }
    }
}
