//! `waza::process` with the platform's exit watch (a pidfd on Linux).

#![cfg(unix)]

#[path = "support/process_cases.rs"]
mod cases;

#[test]
fn output_and_status() {
    cases::output_and_status();
}

#[test]
fn many_children_at_once() {
    cases::many_children_at_once();
}

#[test]
fn piped_stdin_and_stdout_stream() {
    cases::piped_stdin_and_stdout_stream();
}

#[test]
fn try_wait_id_and_wait() {
    cases::try_wait_id_and_wait();
}

#[test]
fn kill_and_kill_on_drop() {
    cases::kill_and_kill_on_drop();
}

#[test]
fn dropped_children_are_reaped() {
    cases::dropped_children_are_reaped();
}

#[test]
fn bad_commands_get_clear_errors() {
    cases::bad_commands_get_clear_errors();
}

#[test]
fn children_dropped_outside_a_runtime_are_reaped_at_the_next_spawn() {
    cases::children_dropped_outside_a_runtime_are_reaped_at_the_next_spawn();
}

/// The pidfd is really what waits: one is open while a child runs.
#[cfg(target_os = "linux")]
#[test]
fn exit_is_watched_through_a_pidfd() {
    fn open_pidfds() -> usize {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().contains("pidfd"))
            .count()
    }
    let _g = cases::serial();
    cases::rt().block_on(async {
        let before = open_pidfds();
        let mut child = waza::process::Command::new("sleep")
            .arg("1000")
            .spawn()
            .unwrap();
        assert_eq!(open_pidfds(), before + 1);
        child.kill().await.unwrap();
        drop(child);
        assert_eq!(open_pidfds(), before);
    });
}

#[test]
fn handles_and_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<waza::process::Command>();
    send_sync::<waza::process::Child>();
    send_sync::<waza::process::ChildStdin>();
    send_sync::<waza::process::ChildStdout>();
    let mut cmd = waza::process::Command::new("true");
    send(&cmd.status());
    send(&cmd.output());
}
