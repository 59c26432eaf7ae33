//! Wait reasons for task dumps: what an idle task is blocked on ("recv on chan#3
//! (rendezvous)").
//!
//! The channel crate reports, through a per-thread hook installed on every worker, why
//! the operation being polled returned `Pending`; [`hook`] packs the reason into one
//! `u64` and stores it in the polled task's wait word (`task/wait.rs`):
//!
//! | bits  | field |
//! |-------|-------|
//! | 0..2  | operation: 0 none, 1 send, 2 recv, 3 select |
//! | 2..5  | channel flavour: 0 none, 1 bounded, 2 unbounded, 3 rendezvous |
//! | 5..64 | channel id |

use crate::loom::{AtomicU64, Ordering};
use waza_channel::hooks::{Flavour, WaitOp, WaitReason};

/// Flavour codes of the packed word (0: no channel).
const FLAVOURS: [Option<Flavour>; 4] = [
    None,
    Some(Flavour::Bounded),
    Some(Flavour::Unbounded),
    Some(Flavour::Rendezvous),
];

/// The channel crate's hook: store `reason` for the task being polled on this thread.
pub(crate) fn hook(reason: &WaitReason) {
    crate::task::wait::store_current(encode(reason));
}

fn encode(reason: &WaitReason) -> u64 {
    let op = match reason.op {
        WaitOp::Send => 1,
        WaitOp::Recv => 2,
        WaitOp::Select => 3,
    };
    let (flavour, id) = match reason.chan {
        None => (0, 0),
        Some((id, Flavour::Bounded)) => (1, id),
        Some((id, Flavour::Unbounded)) => (2, id),
        Some((id, Flavour::Rendezvous)) => (3, id),
    };
    op | (flavour << 2) | (id << 5)
}

/// The reason stored in `word`, rendered (`None` if the task did not report one).
pub(crate) fn describe(word: &AtomicU64) -> Option<String> {
    let w = word.load(Ordering::Relaxed);
    let op = match w & 0b11 {
        1 => WaitOp::Send,
        2 => WaitOp::Recv,
        3 => WaitOp::Select,
        _ => return None,
    };
    let flavour = FLAVOURS.get(((w >> 2) & 0b111) as usize).copied().flatten();
    let chan = flavour.map(|f| (w >> 5, f));
    Some(WaitReason { op, chan }.to_string())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::task::wait::record_into;

    #[test]
    fn encode_round_trips() {
        let word = AtomicU64::new(0);
        assert_eq!(describe(&word), None);
        let cases = [
            (
                WaitOp::Recv,
                Some((3, Flavour::Rendezvous)),
                "recv on chan#3 (rendezvous)",
            ),
            (
                WaitOp::Send,
                Some((77, Flavour::Bounded)),
                "send on chan#77 (bounded)",
            ),
            (
                WaitOp::Recv,
                Some((9, Flavour::Unbounded)),
                "recv on chan#9 (unbounded)",
            ),
            (WaitOp::Select, None, "select"),
        ];
        for (op, chan, text) in cases {
            let rec = record_into(&word);
            hook(&WaitReason { op, chan });
            drop(rec);
            assert_eq!(describe(&word).as_deref(), Some(text));
        }
        // outside a poll the hook records nothing
        word.store(0, Ordering::Relaxed);
        hook(&WaitReason {
            op: WaitOp::Select,
            chan: None,
        });
        assert_eq!(describe(&word), None);
    }
}
