use super::*;
use std::task::Waker;

#[test]
fn a_sleep_entry_stays_small() {
    // One million pending sleeps cost about this many bytes each in the wheel.
    let size = Wheel::<Entry>::entry_size();
    assert!(size <= 64, "wheel entry is {size} bytes");
}

#[test]
fn ticks_round_deadlines_up_and_now_down() {
    let start = Instant::now();
    let t = Timers::new(start, 1, Waker::noop().clone());
    let ns = Duration::from_nanos;
    assert_eq!(t.deadline_tick(start), 0);
    assert_eq!(t.deadline_tick(start + ns(1)), 1);
    assert_eq!(t.deadline_tick(start + Duration::from_millis(3)), 48);
    assert_eq!(t.deadline_tick(start + ns(3_000_001)), 49);
    assert_eq!(t.now_tick(start + ns(3_062_499)), 48);
    assert_eq!(t.now_tick(start + ns(3_062_500)), 49);
    assert_eq!(t.deadline_tick(start - Duration::from_millis(1)), 0);
    let secs = Duration::from_secs(7);
    assert_eq!(t.deadline_tick(start + secs + ns(999_937_501)), 128_000);
    assert_eq!(t.now_tick(start + secs + ns(999_999_999)), 127_999);
    assert_eq!(t.deadline_tick(start + secs), 112_000);
    assert_eq!(t.now_tick(start + secs), 112_000);
    // A tick begins exactly where the rounding puts it.
    for tick in [0, 1, 3, 15_999, 16_000, 112_001, 1 << 40] {
        let at = t.tick_instant(tick).unwrap();
        assert_eq!(t.deadline_tick(at), tick);
        assert_eq!(t.now_tick(at), tick);
    }
}

#[test]
fn a_registration_during_park_asks_for_an_unpark_once() {
    let start = Instant::now();
    let t = Timers::new(start, 1, Waker::noop().clone());
    let w = &Waker::noop().clone();
    assert_eq!(t.before_park(start), None);
    let far = t.insert(start + Duration::from_millis(500), w);
    assert!(matches!(far, Inserted::Waiting { unpark: true, .. }));
    let later = t.insert(start + Duration::from_millis(900), w);
    assert!(matches!(later, Inserted::Waiting { unpark: false, .. }));
    let mut wakers = Vec::new();
    t.process(start, &mut wakers);
    let idle = t.insert(start + Duration::from_millis(10), w);
    assert!(matches!(idle, Inserted::Waiting { unpark: false, .. }));
    assert!(t.before_park(start).unwrap() <= Duration::from_millis(10));
    assert_eq!(t.insert(start, w), Inserted::Due);
    assert_eq!(t.entries(), 3, "a due deadline takes no entry");
}

#[test]
fn shards_fire_together_and_share_one_park_deadline() {
    let start = Instant::now();
    let t = Timers::new(start, 3, Waker::noop().clone()); // rounded up to 4 shards
    assert_eq!(t.shards.len(), 4);
    let w = &Waker::noop().clone();
    let ms = Duration::from_millis;
    let key = |inserted| match inserted {
        Inserted::Waiting { key, .. } => key,
        other => panic!("{other:?}"),
    };
    // Shard 2 holds the earliest deadline: the park lasts until it, whichever shard.
    // (All within level 0's 4 ms, where the next expiration is the exact tick.)
    let us = Duration::from_micros;
    let late = key(t.insert_in(0, start + ms(30), w));
    let early = key(t.insert_in(2, start + ms(2), w));
    let mid = key(t.insert_in(3, start + ms(3), w));
    assert_eq!(t.decode(early), (2, 0), "the first entry of shard 2");
    assert_eq!(t.before_park(start), Some(ms(2)));
    // While parked until 2 ms: an earlier registration in any shard pokes, once.
    let earlier = t.insert_in(1, start + ms(1), w);
    assert!(matches!(earlier, Inserted::Waiting { unpark: true, .. }));
    let again = t.insert_in(3, start + us(1500), w);
    assert!(matches!(again, Inserted::Waiting { unpark: false, .. }));
    let later = t.insert_in(0, start + us(2500), w);
    assert!(matches!(later, Inserted::Waiting { unpark: false, .. }));
    let mut wakers = Vec::new();
    t.process(start + ms(3), &mut wakers);
    assert_eq!(wakers.len(), 5, "every shard fired what was due");
    assert!(t.poll_entry(early, w) && t.poll_entry(mid, w));
    assert!(!t.poll_entry(late, w));
    // Not parked any more: registrations do not poke.
    let idle = t.insert_in(2, start + us(3500), w);
    assert!(matches!(idle, Inserted::Waiting { unpark: false, .. }));
    assert_eq!(t.entries(), 7);
    t.shutdown(&mut wakers);
    assert_eq!(wakers.len(), 7);
    assert_eq!(t.insert_in(1, start + ms(50), w), Inserted::Shutdown);
}

#[test]
fn parks_end_on_the_coarse_grid() {
    let start = Instant::now();
    let t = Timers::new(start, 1, Waker::noop().clone());
    let w = &Waker::noop().clone();
    let tick = Duration::from_nanos(u64::from(TICK_NANOS));
    // Due after one tick: the park lasts until the grid point at PARK_GRAIN ticks.
    t.insert_in(0, start + tick, w);
    assert_eq!(t.before_park(start), Some(tick * PARK_GRAIN as u32));
    // A registration before that grid point still pokes (exact `next`, not the grid).
    t.process(start, &mut Vec::new());
    let far = t.insert_in(0, start + tick * 40, w);
    assert!(matches!(far, Inserted::Waiting { unpark: false, .. }));
    let mut wakers = Vec::new();
    t.process(start + tick, &mut wakers);
    assert_eq!(wakers.len(), 1);
    assert_eq!(
        t.before_park(start + tick),
        Some(tick * 39),
        "40 is on the grid"
    );
    let near = t.insert_in(0, start + tick * 2, w);
    assert!(matches!(near, Inserted::Waiting { unpark: true, .. }));
}

#[test]
fn a_zero_timeout_turn_does_not_publish_a_park() {
    let start = Instant::now();
    let t = Timers::new(start, 2, Waker::noop().clone());
    let w = &Waker::noop().clone();
    let mut wakers = Vec::new();
    t.process(start, &mut wakers);
    // The driver is awake (a busy worker's turn): nobody needs a poke.
    let r = t.insert_in(1, start + Duration::from_millis(1), w);
    assert!(matches!(r, Inserted::Waiting { unpark: false, .. }));
}

#[test]
fn process_fires_only_due_entries() {
    let start = Instant::now();
    let t = Timers::new(start, 1, Waker::noop().clone());
    let w = &Waker::noop().clone();
    let Inserted::Waiting { key: a, .. } = t.insert(start + Duration::from_millis(5), w) else {
        panic!()
    };
    let Inserted::Waiting { key: b, .. } = t.insert(start + Duration::from_millis(50), w) else {
        panic!()
    };
    let mut wakers = Vec::new();
    t.process(start + Duration::from_micros(4999), &mut wakers);
    assert!(wakers.is_empty());
    t.process(start + Duration::from_millis(5), &mut wakers);
    assert_eq!(wakers.len(), 1);
    assert!(t.poll_entry(a, w));
    assert!(!t.poll_entry(b, w));
    assert!(!t.reset(b, start + Duration::from_millis(60)));
    t.reset(a, start); // already due: fired at once
    assert!(t.poll_entry(a, w));
    t.shutdown(&mut wakers);
    assert_eq!(wakers.len(), 2);
    assert!(t.poll_entry(b, w));
    assert_eq!(t.insert(start, w), Inserted::Shutdown);
    t.remove(a);
    t.remove(b);
    assert_eq!(t.entries(), 0);
}

#[test]
fn after_delivers_once_then_closes_and_frees_its_entry() {
    let start = Instant::now();
    let t = Timers::new(start, 1, Waker::noop().clone());
    let (tx, rx) = waza_channel::bounded(1);
    t.insert_chan(start + Duration::from_millis(3), tx, None);
    let mut wakers = Vec::new();
    t.process(start + Duration::from_millis(2), &mut wakers);
    assert!(rx.try_recv().is_err());
    t.process(start + Duration::from_millis(3), &mut wakers);
    assert_eq!(rx.try_recv().ok(), Some(start + Duration::from_millis(3)));
    assert!(rx.is_closed(), "the only sender was dropped");
    assert_eq!(t.entries(), 0);
    assert!(wakers.is_empty());
}

#[test]
fn tick_drops_for_slow_readers_skips_late_ticks_and_stops_when_unread() {
    let start = Instant::now();
    let t = Timers::new(start, 1, Waker::noop().clone());
    let ms = Duration::from_millis;
    let (tx, rx) = waza_channel::bounded(1);
    t.insert_chan(start + ms(10), tx, Some(ms(10)));
    let mut w = Vec::new();
    t.process(start + ms(10), &mut w);
    t.process(start + ms(20), &mut w); // buffer full: dropped
    assert_eq!(rx.try_recv().ok(), Some(start + ms(10)));
    assert!(rx.try_recv().is_err());
    t.process(start + ms(35), &mut w); // late: delivered now, next at 40 (skip 30's slot)
    assert_eq!(rx.try_recv().ok(), Some(start + ms(35)));
    t.process(start + ms(39), &mut w);
    assert!(rx.try_recv().is_err());
    t.process(start + ms(40), &mut w);
    assert_eq!(rx.try_recv().ok(), Some(start + ms(40)));
    assert_eq!(t.entries(), 1);
    drop(rx);
    t.process(start + ms(50), &mut w);
    assert_eq!(t.entries(), 0, "closed receiver stops the ticker");
}

#[test]
fn shutdown_closes_channel_timers() {
    let start = Instant::now();
    let t = Timers::new(start, 1, Waker::noop().clone());
    let (tx, rx) = waza_channel::bounded::<Instant>(1);
    t.insert_chan(start + Duration::from_secs(60), tx, None);
    t.shutdown(&mut Vec::new());
    assert!(rx.is_closed());
    assert_eq!(t.entries(), 0);
    let (tx, rx) = waza_channel::bounded::<Instant>(1);
    assert!(!t.insert_chan(start, tx, Some(Duration::from_millis(1))));
    assert!(rx.is_closed());
}
