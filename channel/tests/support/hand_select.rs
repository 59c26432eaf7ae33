// `select2!`: a two-arm select in the older test spelling, now expanding to the real
// `waza_channel::select!` (the tests exercise the macro users write). Shared by the unit
// tests (`include!`d) and the integration tests.
//
// Usage:
//   select2! { biased: false, default: false;
//       pat0 = expr0, if cond0 => body0,
//       pat1 = expr1, if cond1 => body1,
//       default => default_body,   // ignored when `default: false`
//   }
#[allow(unused_macros)]
macro_rules! select2 {
    (biased: false, default: false;
     $p0:pat = $e0:expr, if $c0:expr => $b0:expr,
     $p1:pat = $e1:expr, if $c1:expr => $b1:expr,
     default => $bd:expr $(,)?) => {
        waza_channel::select! {
            $p0 = $e0, if $c0 => $b0,
            $p1 = $e1, if $c1 => $b1,
        }
    };
    (biased: true, default: false;
     $p0:pat = $e0:expr, if $c0:expr => $b0:expr,
     $p1:pat = $e1:expr, if $c1:expr => $b1:expr,
     default => $bd:expr $(,)?) => {
        waza_channel::select! {
            biased;
            $p0 = $e0, if $c0 => $b0,
            $p1 = $e1, if $c1 => $b1,
        }
    };
    (biased: false, default: true;
     $p0:pat = $e0:expr, if $c0:expr => $b0:expr,
     $p1:pat = $e1:expr, if $c1:expr => $b1:expr,
     default => $bd:expr $(,)?) => {
        waza_channel::select! {
            $p0 = $e0, if $c0 => $b0,
            $p1 = $e1, if $c1 => $b1,
            default => $bd,
        }
    };
}
