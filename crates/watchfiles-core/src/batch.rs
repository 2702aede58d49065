//! When to deliver: the step/debounce state machine, driven by the caller's clock.
//!
//! A batch opens with its first change. It is due once `step` has passed with no new change, or
//! once `debounce` has passed since it opened, whichever comes first. While no batch is open
//! there is no deadline, so the engine sleeps until the OS reports something.

use crate::change::{Change, ChangeKind};
use crate::coalesce::Coalescer;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The open batch and its timing.
#[derive(Debug)]
pub struct Batcher {
    step: Duration,
    debounce: Duration,
    pending: Coalescer,
    opened_at: Option<Instant>,
    last_change_at: Option<Instant>,
}

impl Batcher {
    /// A batcher with the given quiet period and longest duration.
    pub fn new(step: Duration, debounce: Duration) -> Self {
        Batcher { step, debounce, pending: Coalescer::new(), opened_at: None, last_change_at: None }
    }

    /// Adds one observed change at time `now`.
    pub fn push(&mut self, kind: ChangeKind, path: PathBuf, now: Instant) {
        self.pending.observe(kind, path);
        self.opened_at.get_or_insert(now);
        self.last_change_at = Some(now);
    }

    /// The moment the open batch becomes due, or `None` when nothing is pending.
    pub fn deadline(&self) -> Option<Instant> {
        let opened = self.opened_at?;
        let last = self.last_change_at?;
        Some((last + self.step).min(opened + self.debounce))
    }

    /// When the open batch received its first change.
    pub fn opened_at(&self) -> Option<Instant> {
        self.opened_at
    }

    /// Whether the open batch is due at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|deadline| now >= deadline)
    }

    /// Takes the batch if it is due. The result may be empty when every change cancelled out;
    /// the batch is closed either way.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<Change>> {
        if !self.is_due(now) {
            return None;
        }
        self.opened_at = None;
        self.last_change_at = None;
        Some(self.pending.take())
    }

    /// Distinct paths waiting in the open batch.
    pub fn pending_paths(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn batcher() -> (Batcher, Instant) {
        (Batcher::new(50 * MS, 1600 * MS), Instant::now())
    }

    #[test]
    fn idle_has_no_deadline() {
        let (b, t0) = batcher();
        assert_eq!(b.deadline(), None);
        assert!(!b.is_due(t0 + 3_600_000 * MS));
    }

    #[test]
    fn due_after_a_quiet_step() {
        let (mut b, t0) = batcher();
        b.push(ChangeKind::Modified, "/a".into(), t0);
        assert_eq!(b.deadline(), Some(t0 + 50 * MS));
        assert!(b.take_due(t0 + 49 * MS).is_none());
        b.push(ChangeKind::Modified, "/b".into(), t0 + 40 * MS);
        assert!(b.take_due(t0 + 60 * MS).is_none(), "a new change restarts the quiet period");
        let batch = b.take_due(t0 + 90 * MS).expect("due 50ms after the last change");
        assert_eq!(batch.len(), 2);
        assert_eq!(b.deadline(), None);
    }

    #[test]
    fn debounce_caps_a_growing_batch() {
        let (mut b, t0) = batcher();
        let mut t = t0;
        // A change every 30ms never leaves a 50ms quiet gap.
        while t < t0 + 1590 * MS {
            b.push(ChangeKind::Modified, "/busy".into(), t);
            assert!(b.take_due(t).is_none());
            t += 30 * MS;
        }
        b.push(ChangeKind::Modified, "/busy".into(), t0 + 1599 * MS);
        assert_eq!(b.deadline(), Some(t0 + 1600 * MS));
        assert!(b.take_due(t0 + 1600 * MS).is_some());
    }

    #[test]
    fn step_zero_is_due_at_once() {
        let mut b = Batcher::new(Duration::ZERO, 1600 * MS);
        let t0 = Instant::now();
        b.push(ChangeKind::Added, "/a".into(), t0);
        assert!(b.take_due(t0).is_some());
    }

    #[test]
    fn cancelled_changes_close_the_batch_empty() {
        let (mut b, t0) = batcher();
        b.push(ChangeKind::Added, "/tmp".into(), t0);
        b.push(ChangeKind::Deleted, "/tmp".into(), t0 + MS);
        assert_eq!(b.take_due(t0 + 51 * MS), Some(vec![]));
        assert_eq!(b.deadline(), None);
    }
}
