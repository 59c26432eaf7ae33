//! `waza::process` through SIGCHLD (the path for macOS and kernels without pidfds), forced
//! on Linux for every test of this binary.

#![cfg(unix)]

#[path = "support/process_cases.rs"]
mod cases;

fn sigchld() {
    waza::process::__force_sigchld(true);
}

#[test]
fn output_and_status() {
    sigchld();
    cases::output_and_status();
}

#[test]
fn many_children_at_once() {
    sigchld();
    cases::many_children_at_once();
}

#[test]
fn piped_stdin_and_stdout_stream() {
    sigchld();
    cases::piped_stdin_and_stdout_stream();
}

#[test]
fn try_wait_id_and_wait() {
    sigchld();
    cases::try_wait_id_and_wait();
}

#[test]
fn kill_and_kill_on_drop() {
    sigchld();
    cases::kill_and_kill_on_drop();
}

#[test]
fn dropped_children_are_reaped() {
    sigchld();
    cases::dropped_children_are_reaped();
}

#[test]
fn bad_commands_get_clear_errors() {
    sigchld();
    cases::bad_commands_get_clear_errors();
}

#[test]
fn children_dropped_outside_a_runtime_are_reaped_at_the_next_spawn() {
    sigchld();
    cases::children_dropped_outside_a_runtime_are_reaped_at_the_next_spawn();
}
