//! The sequential model of Go channel semantics that every recorded history is checked
//! against.
//!
//! A history is a set of [`Event`]s, each one operation with the logical-clock interval
//! `[start, end]` in which it ran (`end` after its future was dropped). Values are unique
//! ids: sender (actor) id in the high 32 bits, that sender's sequence number in the low.
//! The run ends with every channel closed and drained, so the history is complete.
//!
//! Checked (each a finding naming the values and events involved):
//! 1. A value is received at most once, and only on the channel it was sent on.
//! 2. A received value was sent by an operation that reported success or was dropped
//!    (`Maybe`); never by one that reported failure (`Failed`) or by a losing select arm
//!    (`Lost`).
//! 3. Every value whose send reported success is received (the final drain takes what
//!    was left buffered).
//! 4. Of the send arms of one dropped select, at most one value arrives.
//! 5. Per-sender FIFO per channel: if `a` was sent before `b` by the same sender on the
//!    same channel, `b`'s receive did not finish before `a`'s began. On a buffered channel
//!    without exception: a value in flight (handed to a receive that has not taken it)
//!    leaves first, whoever receives, and one given back keeps its place. On a rendezvous
//!    channel, unless `a` may have been in flight meanwhile: handed to a receive (or
//!    select arm) that began before `b`'s receive finished and ended without a value (it
//!    then comes back as a waiting sender, after what was received while it was away).
//! 6. Rendezvous: a value is received by an operation that began before the send
//!    finished (a receiver was there: nothing is ever buffered, so `try_send` succeeds
//!    only into a waiting receiver and `try_recv` only from a waiting sender), and
//!    `len()` is always 0. The contract's one exception: a value handed to a receive
//!    that is then cancelled (or to a select arm that loses, or whose pattern refutes
//!    it) is given back and behaves as a waiting sender; so a later receive is allowed
//!    when some receive on that channel that began before the send finished ended
//!    without a value (`Cancelled`).
//! 7. `len() <= capacity()` on bounded channels.
//! 8. `None` (closed and drained) is final: no receive that began after one returned
//!    `None` gets a value.
//! 9. No send that began after a `close()` returned succeeds.

use std::collections::HashMap;

/// A channel's flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// `bounded(n)`; `Bounded(0)` is a rendezvous channel.
    Bounded(usize),
    /// `unbounded()`.
    Unbounded,
}

/// How a send ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendRes {
    /// Reported success.
    Ok,
    /// Reported failure and handed the value back.
    Failed,
    /// A select arm that lost to another arm: must have no effect.
    Lost,
    /// Dropped before completing: delivered once or not at all. `select`: the dropped
    /// select it was an arm of (at most one arm of it may have taken effect).
    Maybe { select: Option<u64> },
}

/// How a receive ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvRes {
    /// Got a value.
    Value(u64),
    /// `None` / `TryRecvError::Closed`: closed and drained.
    Closed,
    /// `TryRecvError::Empty`.
    Empty,
    /// Dropped before completing (took nothing).
    Cancelled,
}

/// One operation.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Send {
        v: u64,
        res: SendRes,
        try_: bool,
    },
    Recv {
        got: RecvRes,
    },
    Len {
        len: usize,
        cap: Option<usize>,
    },
    Close,
    /// A select ran its `default` arm.
    Default,
}

/// One operation with the clock interval it ran in.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub actor: u64,
    pub chan: usize,
    pub start: u64,
    pub end: u64,
    pub op: Op,
}

fn show(v: u64) -> String {
    format!("v{}.{}", v >> 32, v & 0xffff_ffff)
}

/// Checks a complete history; returns the findings (empty: consistent with the model).
pub fn check(flavours: &[Flavour], events: &[Event]) -> Vec<String> {
    let mut out = Vec::new();
    let mut sends: HashMap<u64, &Event> = HashMap::new();
    let mut recvs: HashMap<u64, Vec<&Event>> = HashMap::new();
    let mut first_none = vec![u64::MAX; flavours.len()];
    // Receives that ended without a value, per channel: (start, end). Each may have held
    // a value for a while and given it back.
    let mut givers: Vec<Vec<(u64, u64)>> = vec![Vec::new(); flavours.len()];
    let mut first_close = vec![u64::MAX; flavours.len()];
    for e in events {
        match e.op {
            Op::Send { v, .. } if sends.insert(v, e).is_some() => {
                out.push(format!("harness: value {} offered twice", show(v)));
            }
            Op::Recv {
                got: RecvRes::Value(v),
            } => recvs.entry(v).or_default().push(e),
            Op::Recv {
                got: RecvRes::Closed,
            } => {
                first_none[e.chan] = first_none[e.chan].min(e.end);
            }
            Op::Recv {
                got: RecvRes::Cancelled,
            } => givers[e.chan].push((e.start, e.end)),
            Op::Close => first_close[e.chan] = first_close[e.chan].min(e.end),
            Op::Len { len, cap } => {
                if cap != flavour_cap(flavours[e.chan]) {
                    out.push(format!("chan {}: capacity() = {cap:?}", e.chan));
                }
                if let Some(cap) = cap {
                    if len > cap {
                        out.push(format!(
                            "chan {} ({:?}): len() = {len} > capacity() = {cap} (actor {}, t{})",
                            e.chan, flavours[e.chan], e.actor, e.start
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    // 1, 2, 6, 8.
    for (&v, rs) in &recvs {
        if rs.len() > 1 {
            let who: Vec<_> = rs.iter().map(|r| (r.actor, r.chan, r.start)).collect();
            out.push(format!(
                "{} received {} times (actor, chan, t): {who:?}",
                show(v),
                rs.len()
            ));
        }
        let r = rs[0];
        let Some(s) = sends.get(&v) else {
            out.push(format!("{} received but never offered", show(v)));
            continue;
        };
        let Op::Send { res, try_, .. } = s.op else {
            unreachable!()
        };
        if s.chan != r.chan {
            out.push(format!(
                "{} sent on chan {} but received on chan {}",
                show(v),
                s.chan,
                r.chan
            ));
        }
        match res {
            SendRes::Failed => out.push(format!(
                "{} delivered (actor {} at t{}) though its send reported failure (t{}..t{})",
                show(v),
                r.actor,
                r.start,
                s.start,
                s.end
            )),
            SendRes::Lost => out.push(format!(
                "{} delivered (actor {} at t{}) by a select's losing send arm (t{}..t{})",
                show(v),
                r.actor,
                r.start,
                s.start,
                s.end
            )),
            _ => {}
        }
        // A giver that began before the send finished may have been handed the value and
        // given it back at any point before it ended (a select goes on after refuting).
        let given_back = givers[r.chan].iter().any(|&(gs, _)| gs <= s.end);
        if flavours[r.chan] == Flavour::Bounded(0) && r.start > s.end && !given_back {
            out.push(format!(
                "rendezvous chan {}: {} received at t{}..t{} (actor {}) after its {}send \
                 completed at t{}: the value was buffered",
                r.chan,
                show(v),
                r.start,
                r.end,
                r.actor,
                if try_ { "try_" } else { "" },
                s.end
            ));
        }
        if r.start > first_none[r.chan] {
            out.push(format!(
                "chan {}: {} received at t{} (actor {}) after a receive returned None at t{}",
                r.chan,
                show(v),
                r.start,
                r.actor,
                first_none[r.chan]
            ));
        }
    }

    // 3, 4, 9.
    let mut select_hits: HashMap<u64, Vec<u64>> = HashMap::new();
    for (&v, s) in &sends {
        let Op::Send { res, .. } = s.op else {
            unreachable!()
        };
        let received = recvs.contains_key(&v);
        match res {
            SendRes::Ok if !received => out.push(format!(
                "{} lost: its send on chan {} succeeded (t{}..t{}) but nobody received it",
                show(v),
                s.chan,
                s.start,
                s.end
            )),
            SendRes::Maybe { select: Some(sel) } if received => {
                select_hits.entry(sel).or_default().push(v);
            }
            _ => {}
        }
        if res == SendRes::Ok && s.start > first_close[s.chan] {
            out.push(format!(
                "chan {}: send of {} succeeded at t{} after close() returned at t{}",
                s.chan,
                show(v),
                s.start,
                first_close[s.chan]
            ));
        }
    }
    for (sel, vs) in select_hits {
        if vs.len() > 1 {
            let vs: Vec<_> = vs.into_iter().map(show).collect();
            out.push(format!(
                "dropped select {sel:#x}: several send arms delivered: {vs:?}"
            ));
        }
    }

    // 5.
    let mut by_sender: HashMap<(usize, u64), Vec<(u64, &Event)>> = HashMap::new();
    for (&v, rs) in &recvs {
        by_sender
            .entry((rs[0].chan, v >> 32))
            .or_default()
            .push((v, rs[0]));
    }
    for ((chan, sender), mut got) in by_sender {
        got.sort_unstable_by_key(|g| g.0);
        for (i, &(a, ra)) in got.iter().enumerate() {
            for &(b, rb) in &got[i + 1..] {
                let away = flavours[chan] == Flavour::Bounded(0)
                    && givers[chan].iter().any(|&(gs, _)| gs <= rb.end);
                if rb.end < ra.start && !away {
                    out.push(format!(
                        "chan {chan}, sender {sender}: FIFO broken: {} (sent later) received at \
                         t{}..t{} (actor {}) before {} at t{}..t{} (actor {})",
                        show(b),
                        rb.start,
                        rb.end,
                        rb.actor,
                        show(a),
                        ra.start,
                        ra.end,
                        ra.actor
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

fn flavour_cap(f: Flavour) -> Option<usize> {
    match f {
        Flavour::Bounded(n) => Some(n),
        Flavour::Unbounded => None,
    }
}
