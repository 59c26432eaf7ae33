// A hand-expanded `select!` for two arms plus an optional `default`: exactly the code
// shape the `select!` macro generates (see the interface notes in `src/select.rs`). Shared
// by the unit tests (`include!`d) and the integration tests, so they exercise the select
// driver before, and independently of, the proc-macro.
//
// Usage:
//   select2! { biased: false, default: false;
//       pat0 = expr0, if cond0 => body0,
//       pat1 = expr1, if cond1 => body1,
//       default => default_body,   // write `unreachable!()` when `default: false`
//   }
#[allow(unused_macros)]
macro_rules! select2 {
    (biased: $biased:expr, default: $has_default:expr;
     $p0:pat = $e0:expr, if $c0:expr => $b0:expr,
     $p1:pat = $e1:expr, if $c1:expr => $b1:expr,
     default => $bd:expr $(,)?) => {{
        use waza_channel::__private::{ArmPoll, SelectArm, SelectOutcome};
        #[allow(unused_imports)]
        use waza_channel::__private::{ChannelArmTag as _, FutureArmTag as _};
        enum __Out<_0, _1> {
            _0(_0),
            _1(_1),
        }
        let __sel = waza_channel::__private::Select::new(2, $biased, $has_default);
        let __arm0 = if $c0 {
            Some({
                let __e = $e0;
                (&__e).__waza_arm_kind().into_arm(__e)
            })
        } else {
            None
        };
        let __arm1 = if $c1 {
            Some({
                let __e = $e1;
                (&__e).__waza_arm_kind().into_arm(__e)
            })
        } else {
            None
        };
        let mut __sel = core::pin::pin!(__sel);
        let mut __arm0 = core::pin::pin!(__arm0);
        let mut __arm1 = core::pin::pin!(__arm1);
        let __out = waza_channel::__private::poll_fn(|__cx| {
            __sel.as_mut().poll_with(__cx, |__i, __acx| match __i {
                0 => match __arm0.as_mut().as_pin_mut() {
                    None => ArmPoll::Disabled,
                    Some(__f) => match SelectArm::poll_arm(__f, __acx) {
                        core::task::Poll::Pending => ArmPoll::Pending,
                        core::task::Poll::Ready(__v) =>
                        {
                            #[allow(unused_variables, unreachable_patterns)]
                            match &__v {
                                $p0 => ArmPoll::Ready(__Out::_0(__v)),
                                _ => {
                                    __arm0.set(None);
                                    ArmPoll::Disabled
                                }
                            }
                        }
                    },
                },
                1 => match __arm1.as_mut().as_pin_mut() {
                    None => ArmPoll::Disabled,
                    Some(__f) => match SelectArm::poll_arm(__f, __acx) {
                        core::task::Poll::Pending => ArmPoll::Pending,
                        core::task::Poll::Ready(__v) =>
                        {
                            #[allow(unused_variables, unreachable_patterns)]
                            match &__v {
                                $p1 => ArmPoll::Ready(__Out::_1(__v)),
                                _ => {
                                    __arm1.set(None);
                                    ArmPoll::Disabled
                                }
                            }
                        }
                    },
                },
                _ => unreachable!(),
            })
        })
        .await;
        #[allow(unreachable_patterns)]
        match __out {
            SelectOutcome::Arm(__Out::_0($p0)) => $b0,
            SelectOutcome::Arm(__Out::_1($p1)) => $b1,
            SelectOutcome::Arm(_) => unreachable!(),
            SelectOutcome::Default => $bd,
        }
    }};
}
