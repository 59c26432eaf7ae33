use super::*;

/// Polls tick by tick up to `end`, recording (tick, key) of every firing.
fn run(wheel: &mut Wheel<u32>, end: u64) -> Vec<(u64, usize)> {
    let mut fired = Vec::new();
    while wheel.elapsed() < end {
        let now = wheel.elapsed() + 1;
        wheel.poll(now, |k, _| fired.push((now, k)));
    }
    fired
}

#[test]
fn positions_follow_the_level_rule() {
    assert_eq!(position(0, 1), (0, 1));
    assert_eq!(position(0, 63), (0, 63));
    assert_eq!(position(0, 64), (1, 1));
    assert_eq!(position(0, 4095), (1, 63));
    assert_eq!(position(0, 4096), (2, 1));
    assert_eq!(position(100, 101), (0, 101 & 63));
    assert_eq!(position(0, MIN_RANGE + TOP_SLOT - 1), (LEVELS - 1, 63));
}

#[test]
fn fires_each_entry_exactly_at_its_tick() {
    let mut wheel = Wheel::new();
    let deadlines = [1u64, 2, 63, 64, 65, 100, 4095, 4096, 4097, 5000, 70_000];
    let keys: Vec<usize> = deadlines
        .iter()
        .map(|&d| {
            let k = wheel.alloc(0);
            wheel.schedule(k, d).unwrap();
            k
        })
        .collect();
    assert_eq!(wheel.scheduled(), deadlines.len());
    let fired = run(&mut wheel, 70_001);
    let expect: Vec<(u64, usize)> = deadlines.iter().copied().zip(keys).collect();
    assert_eq!(fired, expect);
    assert_eq!(wheel.scheduled(), 0);
    assert_eq!(wheel.len(), deadlines.len());
}

#[test]
fn big_jumps_fire_everything_due_and_nothing_else() {
    let mut wheel = Wheel::new();
    for d in [5u64, 300, 9_000, 300_000, 20_000_000] {
        let k = wheel.alloc(0);
        wheel.schedule(k, d).unwrap();
    }
    let mut count = 0;
    wheel.poll(299, |_, _| count += 1);
    assert_eq!(count, 1);
    wheel.poll(300, |_, _| count += 1);
    assert_eq!(count, 2);
    wheel.poll(299_999, |_, _| count += 1);
    assert_eq!(count, 3);
    assert_eq!(wheel.next_expiration().map(|t| t <= 300_000), Some(true));
    wheel.poll(20_000_000, |_, _| count += 1);
    assert_eq!(count, 5);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn next_expiration_is_never_after_the_earliest_deadline() {
    let mut wheel = Wheel::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut deadlines = Vec::new();
    for _ in 0..500 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let d = 1 + seed % 200_000;
        let k = wheel.alloc(0);
        wheel.schedule(k, d).unwrap();
        deadlines.push(d);
    }
    deadlines.sort_unstable();
    let mut fired = Vec::new();
    while let Some(next) = wheel.next_expiration() {
        let pending_min = deadlines[fired.len()];
        assert!(next <= pending_min, "next {next} > earliest {pending_min}");
        let now = next;
        wheel.poll(now, |k, _| fired.push((now, k)));
    }
    let ticks: Vec<u64> = fired.iter().map(|f| f.0).collect();
    assert_eq!(ticks, deadlines);
}

#[test]
fn cancel_and_free_remove_entries() {
    let mut wheel = Wheel::new();
    let a = wheel.alloc(1);
    let b = wheel.alloc(2);
    let c = wheel.alloc(3);
    for k in [a, b, c] {
        wheel.schedule(k, 10).unwrap();
    }
    wheel.cancel(b);
    assert!(!wheel.is_scheduled(b));
    assert_eq!(wheel.free(c), 3);
    let fired = run(&mut wheel, 20);
    assert_eq!(fired, vec![(10, a)]);
    assert_eq!(wheel.free(a), 1);
    assert_eq!(wheel.free(b), 2);
    assert_eq!(wheel.len(), 0);
}

#[test]
fn cancels_inside_one_crowded_slot_keep_the_others() {
    // Cancel swaps the slot's last key into the hole: the moved entry must stay
    // cancellable and due, whichever order the cancels come in.
    let mut wheel = Wheel::new();
    let keys: Vec<usize> = (0..300)
        .map(|_| {
            let k = wheel.alloc(0u32);
            wheel.schedule(k, 7).unwrap();
            k
        })
        .collect();
    let cancelled: Vec<usize> = keys.iter().copied().filter(|k| k % 3 != 1).collect();
    for &k in cancelled
        .iter()
        .rev()
        .step_by(2)
        .chain(cancelled.iter().step_by(2))
    {
        wheel.cancel(k);
        wheel.cancel(k); // a second cancel is a no-op
    }
    assert_eq!(wheel.scheduled(), 100);
    let mut fired: Vec<usize> = run(&mut wheel, 10).into_iter().map(|f| f.1).collect();
    fired.sort_unstable();
    let expect: Vec<usize> = keys.iter().copied().filter(|k| k % 3 == 1).collect();
    assert_eq!(fired, expect);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn a_burst_does_not_stay_allocated_in_its_slot() {
    let mut wheel = Wheel::new();
    for _ in 0..10_000 {
        let k = wheel.alloc(0u32);
        wheel.schedule(k, 3).unwrap();
    }
    assert!(wheel.slot_capacity() >= 10_000);
    assert_eq!(run(&mut wheel, 3).len(), 10_000);
    assert_eq!(wheel.slot_capacity(), 0, "the burst's vector was dropped");
    // Small slots keep their vector for the next entries.
    for _ in 0..10 {
        let k = wheel.alloc(0u32);
        wheel.schedule(k, 5).unwrap();
    }
    assert_eq!(run(&mut wheel, 5).len(), 10);
    let kept = wheel.slot_capacity();
    assert!((10..=RETAINED_SLOT_CAPACITY).contains(&kept), "kept {kept}");
}

#[test]
fn reset_later_is_lazy_and_reset_earlier_moves() {
    let mut wheel = Wheel::new();
    let a = wheel.alloc(0);
    let b = wheel.alloc(0);
    wheel.schedule(a, 10).unwrap();
    wheel.schedule(a, 500).unwrap();
    wheel.schedule(b, 400).unwrap();
    wheel.schedule(b, 20).unwrap();
    assert_eq!(wheel.next_expiration(), Some(10));
    let fired = run(&mut wheel, 1000);
    assert_eq!(fired, vec![(20, b), (500, a)]);
}

#[test]
fn due_deadlines_are_reported_and_backwards_clock_is_clamped() {
    let mut wheel: Wheel<u32> = Wheel::new();
    wheel.poll(100, |_, _| unreachable!());
    let k = wheel.alloc(0);
    assert_eq!(wheel.schedule(k, 100), Err(AlreadyDue));
    assert_eq!(wheel.schedule(k, 50), Err(AlreadyDue));
    wheel.schedule(k, 101).unwrap();
    wheel.poll(40, |_, _| unreachable!());
    assert_eq!(wheel.elapsed(), 100);
    let mut n = 0;
    wheel.poll(101, |_, _| n += 1);
    assert_eq!(n, 1);
}

#[test]
fn far_deadlines_are_clamped_not_fired_early() {
    let mut wheel = Wheel::new();
    wheel.poll(12_345, |_, _: &mut u32| {});
    let k = wheel.alloc(0);
    wheel.schedule(k, u64::MAX).unwrap();
    let clamped = wheel.deadline(k);
    assert_eq!(clamped, 64 * TOP_SLOT - 1);
    assert!(clamped >= 12_345 + MIN_RANGE);
    let mut n = 0;
    wheel.poll(clamped - 1, |_, _| n += 1);
    assert_eq!(n, 0);
    wheel.poll(clamped, |_, _| n += 1);
    assert_eq!(n, 1);
    let k = wheel.alloc(0);
    wheel.schedule(k, u64::MAX).unwrap();
    assert!(wheel.next_expiration().unwrap() > wheel.elapsed());
}

#[test]
fn drain_unschedules_everything() {
    let mut wheel = Wheel::new();
    for d in 1..=300u64 {
        let k = wheel.alloc(0);
        wheel.schedule(k, d * 97).unwrap();
    }
    let mut n = 0;
    wheel.drain_scheduled(|_, _| n += 1);
    assert_eq!(n, 300);
    assert_eq!(wheel.next_expiration(), None);
    assert_eq!(wheel.scheduled(), 0);
}

/// Random inserts, cancels, resets and polls against a reference model: every entry
/// fires exactly once, in the poll whose window `(previous now, now]` holds its deadline.
#[test]
fn matches_a_reference_model_under_random_operations() {
    use std::collections::BTreeMap;
    let mut seed = 0x853c_49e6_748f_ea9bu64;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut wheel = Wheel::new();
    let mut model: BTreeMap<usize, u64> = BTreeMap::new(); // key -> pending deadline
    let mut idle: Vec<usize> = Vec::new(); // stored, not scheduled
    let spans = [1u64, 64, 4096, 262_144, 16_777_216];
    for _ in 0..20_000 {
        let now = wheel.elapsed();
        match rand(10) {
            0..=3 => {
                let span = spans[rand(5) as usize];
                let when = now + 1 + rand(span);
                let key = idle.pop().unwrap_or_else(|| wheel.alloc(0u32));
                wheel.schedule(key, when).unwrap();
                model.insert(key, when);
            }
            4 if !model.is_empty() => {
                let key = *model.keys().nth(rand(model.len() as u64) as usize).unwrap();
                wheel.cancel(key);
                model.remove(&key);
                idle.push(key);
            }
            5 if !model.is_empty() => {
                let key = *model.keys().nth(rand(model.len() as u64) as usize).unwrap();
                let span = spans[rand(5) as usize];
                let when = now + 1 + rand(span);
                wheel.schedule(key, when).unwrap();
                model.insert(key, when);
            }
            _ => {
                let span = spans[rand(4) as usize];
                // Often stop exactly at a slot boundary, where early firing would show.
                let to = match wheel.next_expiration() {
                    Some(next) if rand(2) == 0 => next,
                    _ => now + rand(span),
                };
                if let Some(next) = wheel.next_expiration() {
                    let earliest = model.values().min().copied();
                    assert!(Some(next) <= earliest, "next {next} after {earliest:?}");
                }
                let mut fired = Vec::new();
                wheel.poll(to, |k, _| fired.push(k));
                fired.sort_unstable();
                let mut expect: Vec<usize> = model
                    .iter()
                    .filter(|(_, &d)| d <= to)
                    .map(|(&k, _)| k)
                    .collect();
                expect.sort_unstable();
                assert_eq!(fired, expect, "poll to {to}");
                for k in fired {
                    model.remove(&k);
                    idle.push(k);
                }
            }
        }
    }
    assert_eq!(wheel.scheduled(), model.len());
}
