//! Compiles and runs `select!` expansions against a mock driver (tests/mock): syntax,
//! control flow in bodies, refutable patterns, preconditions, drop order, hygiene.

mod mock;

use futures::executor::block_on;
use mock::{delayed, take_log, MockChan};
use std::cell::Cell;
use std::future::ready;

/// The same wrapper `waza_channel` exports, pointed at the mock.
macro_rules! select {
    ($($t:tt)*) => { ::waza_macros::select_internal! { crate = $crate::mock; $($t)* } };
}

#[test]
fn single_ready_arm_binds_its_value() {
    let v = block_on(async {
        select! {
            v = ready(41) => v + 1,
        }
    });
    assert_eq!(v, 42);
}

#[test]
fn pending_arm_loses_to_one_that_becomes_ready() {
    let (v, polls) = block_on(async {
        let polls = Cell::new(0);
        let v = select! {
            a = delayed("slow", 1_000, 1) => a,
            b = async { polls.set(polls.get() + 1); delayed("fast", 3, 2).await } => b,
        };
        (v, polls.get())
    });
    assert_eq!(v, 2);
    assert_eq!(polls, 1);
    take_log();
}

#[test]
fn refutable_pattern_disables_the_arm_and_waits_for_the_others() {
    let (v, evaluated) = block_on(async {
        let mut evaluated = 0;
        let v = select! {
            Some(x) = ready(None::<i32>) => { evaluated += 1; x }
            Some(y) = delayed("later", 2, Some(7)) => y,
        };
        (v, evaluated)
    });
    assert_eq!(v, 7);
    assert_eq!(evaluated, 0);
    take_log();
}

#[test]
#[should_panic(expected = "all select! arms are disabled")]
fn all_arms_disabled_without_default_panics() {
    block_on(async {
        select! {
            Some(x) = ready(None::<i32>) => x,
            Ok(y) = ready(Err::<i32, ()>(())) => y,
        }
    });
}

#[test]
fn false_precondition_skips_the_expression() {
    let calls = Cell::new(0);
    let make = |v: i32| {
        calls.set(calls.get() + 1);
        ready(v)
    };
    let v = block_on(async {
        let enabled = false;
        select! {
            biased;
            a = make(1), if enabled => a,
            b = make(2), if !enabled => b,
        }
    });
    assert_eq!(v, 2);
    assert_eq!(calls.get(), 1);
}

#[test]
fn default_runs_when_nothing_is_ready_and_only_then() {
    let r = block_on(async {
        select! {
            a = delayed("never", usize::MAX, 1) => a,
            default => 99,
        }
    });
    assert_eq!(r, 99);
    let r = block_on(async {
        select! {
            default => 99,
            a = ready(1) => a,
        }
    });
    assert_eq!(r, 1);
    let only_default: u8 = block_on(async {
        select! { default => 3 }
    });
    assert_eq!(only_default, 3);
    take_log();
}

#[test]
fn biased_polls_in_written_order() {
    for _ in 0..10 {
        let v = block_on(async {
            select! {
                biased;
                a = ready("first") => a,
                b = ready("second") => b,
                c = ready("third") => c,
            }
        });
        assert_eq!(v, "first");
    }
}

#[test]
fn unbiased_mock_rotates_so_every_arm_can_win() {
    let mut wins = [0; 3];
    for _ in 0..30 {
        let i = block_on(async {
            select! {
                a = ready(0) => a,
                b = ready(1) => b,
                c = ready(2) => c,
            }
        });
        wins[i] += 1;
    }
    assert_eq!(wins, [10, 10, 10]);
}

#[test]
fn bodies_can_break_continue_and_return() {
    fn run() -> Result<Vec<i32>, String> {
        block_on(async {
            let mut seen = Vec::new();
            let mut i = 0;
            loop {
                i += 1;
                select! {
                    v = ready(i) => {
                        if v % 2 == 0 { continue; }
                        if v > 6 { break; }
                        seen.push(v);
                    }
                }
            }
            let r: Result<i32, String> = select! {
                v = ready(Err::<i32, String>("boom".into())) => Ok(v?),
            };
            seen.push(r?);
            Ok(seen)
        })
    }
    assert_eq!(run(), Err("boom".to_string()));

    async fn early(leave: bool) -> i32 {
        if leave {
            select! {
                v = ready(5) => return v * 10,
            }
        }
        -1
    }
    assert_eq!(block_on(early(true)), 50);
    assert_eq!(block_on(early(false)), -1);

    let labelled = block_on(async {
        let mut n = 0;
        'outer: for _ in 0..3 {
            for j in 0..3 {
                select! {
                    _ = ready(()) => if j == 1 { continue 'outer; }
                }
                n += 1;
            }
        }
        n
    });
    assert_eq!(labelled, 3);
}

#[test]
fn arm_futures_may_borrow_temporaries() {
    struct Holder(i32);
    impl Holder {
        async fn get(&self) -> i32 {
            self.0
        }
    }
    let v = block_on(async {
        select! {
            v = Holder(8).get() => v,
            w = MockChan::with(&[1]).recv() => w.unwrap(),
        }
    });
    assert!(v == 8 || v == 1);
}

#[test]
fn futures_are_dropped_before_the_body_runs_and_the_select_last() {
    take_log();
    let mut s = String::from("a");
    block_on(async {
        select! {
            biased;
            _ = delayed("arm0", 0, s.len()) => { mock::log("body"); s.push('b'); }
            _ = delayed("arm1", 0, s.as_str()) => s.push('c'),
        }
    });
    assert_eq!(s, "ab");
    // Arms drop in reverse order, then the select, then the body runs.
    assert_eq!(
        take_log(),
        ["drop arm1", "drop arm0", "drop select", "body"]
    );
}

#[test]
fn channel_operations_use_the_channel_arm() {
    let chan = MockChan::with(&[5]);
    let v = block_on(async {
        select! {
            v = chan.recv() => v,
        }
    });
    assert_eq!(v, Some(5));
    assert_eq!(chan.channel_polls.get(), 1);
    assert_eq!(chan.future_polls.get(), 0);

    // Closed and empty: `Some(v)` does not match, the arm is disabled, default runs.
    chan.closed.set(true);
    let r = block_on(async {
        select! {
            Some(v) = chan.recv() => v,
            default => -1,
        }
    });
    assert_eq!(r, -1);
    assert_eq!(chan.channel_polls.get(), 2);
}

#[test]
fn patterns_with_binding_modes() {
    #[derive(Debug, PartialEq)]
    struct Point {
        x: i32,
        y: String,
    }
    let r = block_on(async {
        let mut total = String::new();
        select! {
            Some(mut s) = ready(Some(String::from("x"))) => { s.push('!'); total.push_str(&s); }
        }
        select! {
            Point { x: 1, mut y } = ready(Point { x: 1, y: "p".into() }) => { y.push('y'); total.push_str(&y); }
        }
        select! {
            &n = ready(&3) => total.push_str(&n.to_string()),
        }
        select! {
            all @ (1 | 2) = ready(2) => total.push_str(&all.to_string()),
        }
        select! {
            (ref a, ref mut b) = ready((String::from("r"), 0)) => { *b += 1; total.push_str(a); total.push_str(&b.to_string()); }
        }
        total
    });
    assert_eq!(r, "x!py32r1");
}

#[test]
fn generated_names_do_not_collide_with_user_names() {
    let r = block_on(async {
        let __waza_out = 1;
        let __waza_e = 2;
        let __waza_sel = 3;
        let __waza_arm0 = 4;
        #[allow(non_camel_case_types, dead_code)]
        enum __WazaSelectOut {
            Mine,
        }
        select! {
            v = ready(__waza_e + __waza_out) => v + __waza_sel + __waza_arm0,
        }
    });
    assert_eq!(r, 10);
}

#[test]
fn nested_select_and_expression_position() {
    let r = block_on(async {
        let a = select! {
            x = ready(1) => select! { y = ready(x + 1) => y * 10 },
        } + 1;
        a
    });
    assert_eq!(r, 21);
}

#[test]
fn or_pattern_arm() {
    let r = block_on(async {
        select! {
            Ok(v) | Err(v) = ready(Err::<i32, i32>(4)) => v,
        }
    });
    assert_eq!(r, 4);
}

#[test]
fn struct_literals_in_preconditions_and_futures() {
    #[derive(PartialEq)]
    struct P {
        x: i32,
    }
    impl P {
        async fn get(&self) -> i32 {
            self.x
        }
    }
    let p = P { x: 1 };
    let r = block_on(async {
        select! {
            v = ready(1), if p == P { x: 1 } => v,
            v = ready(2), if p == P { x: 2 } => v,
        }
    });
    assert_eq!(r, 1);
    // ... and in the future expression (a borrowed temporary, too).
    let r = block_on(async {
        select! {
            v = P { x: 5 }.get() => v,
        }
    });
    assert_eq!(r, 5);
}
