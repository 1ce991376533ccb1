//! The demo's state file, through `aep-flow --demo` (`AEP_DEMO_STATE`):
//! what one command creates, the next sees; no credential is ever written
//! to it; a broken, impossible or unreadable file is refused at start,
//! naming it; and what a failed save, a stale or held lock, concurrent
//! commands and planted links do. (The file-level rules, temporary names
//! and modes, are unit tests in `src/demo/persist.rs`; the serial rules
//! and a stopped fake's silence are the fake's, in `testing/tests/fake.rs`.)

mod common;

use aep_flow_testing::demo_catalog;
use common::{TempDir, DEMO_CONNECTION_ID, DEMO_DATASET_ID};

/// A canary password: no run of six of its characters may reach the file.
const CANARY: &str = "Cx9#qZ-canary-7Rw!pL";

fn assert_no_canary(text: &str) {
    let chars: Vec<char> = CANARY.chars().collect();
    for run in chars.windows(6) {
        let run: String = run.iter().collect();
        assert!(!text.contains(&run), "{run:?} leaked");
    }
}

/// A demo command with the canary as `PGPASSWORD`; exit 0 expected, its
/// first line of output as JSON. Nothing it prints holds the canary.
fn made(program: &str, state: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut cmd = demo_cmd(program, state, args);
    cmd.env("PGPASSWORD", CANARY);
    let (out, stdout, stderr) = bounded(cmd);
    assert_eq!(code(&out), 0, "{program} {args:?}: {stdout}\n{stderr}");
    assert_no_canary(&stdout);
    assert_no_canary(&stderr);
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn id_of(lines: &[serde_json::Value]) -> String {
    lines[0]["id"].as_str().unwrap().to_owned()
}

const ENSURE: &[&str] = &[
    "ensure",
    "--table",
    "public.orders",
    "--map",
    "id=_demo.orderId",
    "--delta-column",
    "updated_at",
];

#[test]
fn a_second_run_sees_what_the_first_made_and_no_secret_is_written() {
    let dir = TempDir::new("demo-state");
    let path = dir.0.join("state.json");
    // The first commands: two connections carrying the canary (as a
    // connection string and as basic auth), and a pipeline on the first.
    let base = id_of(&made("connections create", &path, &["--name", "pg"]));
    let basic = id_of(&made(
        "connections create",
        &path,
        &["--name", "pg2", "--auth", "basic"],
    ));
    let mut ensure = ENSURE.to_vec();
    ensure.extend(["--connection", &base, "--dataset", DEMO_DATASET_ID]);
    let first = made("pipeline", &path, &ensure).remove(0);
    let source = first["sourceConnectionId"].as_str().unwrap().to_owned();
    assert_eq!(first["changed"].as_array().unwrap().len(), 4, "{first}");

    let text = std::fs::read_to_string(&path).unwrap();
    assert_no_canary(&text);
    assert!(text.contains("[REDACTED]"), "{text}");
    for id in [&base, &basic, &source] {
        assert!(text.contains(id.as_str()), "{id} is not in the file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "state file readable by others: {mode:o}");
    }

    // Later commands see all of it.
    assert_eq!(id_of(&made("connections", &path, &["get", &base])), base);
    assert_eq!(id_of(&made("connections", &path, &["get", &basic])), basic);
    let again = made("pipeline", &path, &ensure).remove(0);
    assert_eq!(again["changed"], serde_json::json!([]), "{again}");
    assert_eq!(again["sourceConnectionId"], source.as_str());
    assert_eq!(again["flowId"], first["flowId"]);
    assert_eq!(
        made("connections", &path, &["explore", &base]).len(),
        demo_catalog().len()
    );
    // New ids never repeat restored ones, and carry on from the fake's own
    // serial (no jump to a huge number).
    let third = id_of(&made("connections create", &path, &["--name", "pg3"]));
    for old in [DEMO_CONNECTION_ID, &base, &basic, &source] {
        assert_ne!(third, old);
    }
    assert!(
        third.starts_with("00000000-0000-4000-8000-0000000000"),
        "{third}"
    );
    let listed = ids_listed(&path);
    assert_eq!(
        listed.len(),
        4,
        "the demo connection and the 3 made: {listed:?}"
    );
    for id in [DEMO_CONNECTION_ID, &base, &basic, &third] {
        assert!(listed.iter().any(|l| l == id), "{id} lost: {listed:?}");
    }
    assert_no_canary(&std::fs::read_to_string(&path).unwrap());
}

/// A broken state file, and what the command says of it: exit 1, the
/// file named, "remove it", nothing printed, the file left as it was.
fn assert_refused(path: &Path, why: &str) {
    let before = std::fs::read(path).unwrap();
    let (out, stdout, stderr) = demo("connections", path, &["list"]);
    assert_eq!(code(&out), 1, "{why}: {stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{why}: {stdout}");
    assert!(
        stderr.contains(&path.display().to_string()),
        "{why}: {stderr}"
    );
    assert!(stderr.contains("remove it"), "{why}: {stderr}");
    assert_eq!(std::fs::read(path).unwrap(), before, "{why}: changed");
}

#[test]
fn a_missing_file_is_a_fresh_demo_and_a_broken_one_is_refused_naming_it() {
    let dir = TempDir::new("demo-state-bad");
    let fresh = dir.0.join("none-yet.json");
    assert_eq!(ids_listed(&fresh), [DEMO_CONNECTION_ID]);
    assert!(fresh.is_file(), "a fresh demo writes its state file");
    for (name, body) in [
        ("garbage.json", &b"\xff\xfe not json"[..]),
        ("other.json", br#"{"some": "other file"}"#),
        (
            "truncated.json",
            br#"{"format": "aep-flow-fake-state/1", "serial": 3, "sandboxes": {"prod": {"connections": [{"meta""#,
        ),
        (
            "wrong.json",
            br#"{"format": "aep-flow-fake-state/1", "serial": 3, "sandboxes": {"prod": {"connections": [{"meta": 1, "value": 2}]}}}"#,
        ),
    ] {
        assert_refused(&dir.file(name, body), name);
    }
}

#[test]
fn a_state_file_with_an_impossible_serial_is_refused_and_a_low_one_is_corrected() {
    let dir = TempDir::new("demo-state-serial");
    for serial in ["18446744073709551615", "1099511627777", "-1", "\"7\""] {
        let path = dir.file(
            &format!("s{}.json", serial.len()),
            format!(
                r#"{{"format": "aep-flow-fake-state/1", "serial": {serial}, "sandboxes": {{}}}}"#
            )
            .as_bytes(),
        );
        assert_refused(&path, serial);
    }
    // A file whose serial is lower than its ids: new ids still never repeat.
    let path = dir.0.join("low.json");
    let base = id_of(&made("connections create", &path, &["--name", "pg"]));
    let mut ensure = ENSURE.to_vec();
    ensure.extend(["--connection", &base, "--dataset", DEMO_DATASET_ID]);
    let first = made("pipeline", &path, &ensure).remove(0);
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(file["serial"].as_u64().unwrap() > 1, "{file}");
    // (Not 0: the demo takes a serial of 0 for a sandbox where nothing
    // was ever made.)
    file["serial"] = 1.into();
    std::fs::write(&path, file.to_string()).unwrap();
    let mut seen: Vec<String> = [
        "flowId",
        "sourceConnectionId",
        "targetConnectionId",
        "mappingSetId",
    ]
    .iter()
    .map(|k| first[k].as_str().unwrap().to_owned())
    .collect();
    seen.extend([DEMO_CONNECTION_ID.to_owned(), base]);
    for i in 0..5 {
        let new = id_of(&made(
            "connections create",
            &path,
            &["--name", &format!("n{i}")],
        ));
        assert!(!seen.contains(&new), "{new} handed out again: {seen:?}");
        seen.push(new);
    }
}

// The demo state file as `aep-flow` uses it (`--demo`): a failed
// save, the lock, the temporary file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `cmd`, waiting at most a bound far beyond any demo command: one
/// still running then (a spin, an endless wait) is killed and fails the
/// test. (Nothing is asserted about how long it took.)
fn bounded(mut cmd: Command) -> (Output, String, String) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(out) => {
            let out = out.unwrap();
            let (stdout, stderr) = common::text(&out);
            assert!(!stderr.contains("panicked"), "{stderr}");
            (out, stdout, stderr)
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("the command (pid {pid}) was still running after 120 s");
        }
    }
}

fn demo_cmd(program: &str, state: &Path, args: &[&str]) -> Command {
    let mut cmd = common::aep_flow(program);
    cmd.env("AEP_DEMO_STATE", state).arg("--demo").args(args);
    cmd
}

fn demo(program: &str, state: &Path, args: &[&str]) -> (Output, String, String) {
    bounded(demo_cmd(program, state, args))
}

fn lock_of(state: &Path) -> PathBuf {
    let mut lock = state.as_os_str().to_owned();
    lock.push(".lock");
    PathBuf::from(lock)
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn ids_listed(state: &Path) -> Vec<String> {
    let (out, stdout, stderr) = demo("connections", state, &["list"]);
    assert_eq!(code(&out), 0, "{stderr}");
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn a_failed_save_after_a_change_is_exit_1_naming_the_file() {
    let dir = TempDir::new("demo-save-fails");
    let state = dir.0.join("state.json");
    let before = ids_listed(&state);
    let size = std::fs::metadata(&state).unwrap().len();
    // A full disk, as a file size limit: the start of the command (the
    // sandbox as it is) can be written, the sandbox with a new connection
    // with a long description cannot. `sh`'s `ulimit -f` counts 512-byte
    // blocks (1024 in some shells: the description outgrows both), and
    // SIGXFSZ is ignored so that the write fails with EFBIG instead.
    let blocks = size / 512 + 2;
    let description = "d".repeat(4000);
    let mut cmd = Command::new("sh");
    cmd.env_clear()
        .env("AEP_DEMO_STATE", &state)
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\""
        ))
        .arg(common::aep_flow("connections create").get_program())
        .args([
            "connections",
            "create",
            "--demo",
            "--name",
            "lost",
            "--description",
            &description,
        ]);
    let (out, stdout, stderr) = bounded(cmd);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stderr.contains(&state.display().to_string()), "{stderr}");
    assert!(stderr.contains("lost"), "{stderr}");
    // The next command does not have it, and says nothing was made.
    assert_eq!(ids_listed(&state), before);
    assert_eq!(std::fs::metadata(&state).unwrap().len(), size);
    // Nothing left behind but the state file.
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["state.json"]);
}

#[test]
fn a_lock_that_is_a_directory_or_a_link_is_exit_1_naming_it_not_a_spin() {
    let dir = TempDir::new("demo-lock-dir");
    let state = dir.0.join("state.json");
    let lock = lock_of(&state);
    std::fs::create_dir(&lock).unwrap();
    let (out, stdout, stderr) = demo("connections", &state, &["list"]);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&lock.display().to_string()), "{stderr}");
    assert!(stderr.contains("remove it"), "{stderr}");
    assert!(lock.is_dir(), "left as it was");
    std::fs::remove_dir(&lock).unwrap();
    #[cfg(unix)]
    {
        // A link, dangling or not, is not followed (nor created through).
        let target = dir.0.join("elsewhere");
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        let (out, _, stderr) = demo("connections", &state, &["list"]);
        assert_eq!(code(&out), 1, "{stderr}");
        assert!(stderr.contains(&lock.display().to_string()), "{stderr}");
        assert!(!target.exists(), "created through the link");
        std::fs::remove_file(&lock).unwrap();
    }
    let (out, _, stderr) = demo("connections", &state, &["list"]);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(!lock.exists(), "the lock outlived its command");
}

#[test]
fn a_lock_naming_a_live_process_even_our_own_is_not_waited_on() {
    let dir = TempDir::new("demo-lock-pid");
    let state = dir.0.join("state.json");
    let lock = lock_of(&state);
    // What a killed command leaves: its pid, which now runs something else
    // (this test; pid 1 in a container, maybe the new command itself).
    for pid in [std::process::id().to_string(), "1".to_owned()] {
        std::fs::write(&lock, &pid).unwrap();
        let (out, stdout, stderr) = demo("connections", &state, &["list"]);
        assert_eq!(code(&out), 0, "lock holding {pid}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(!lock.exists(), "the lock outlived its command");
    }
}

#[test]
fn a_lock_held_by_a_running_command_is_waited_on_then_exit_1_naming_it() {
    let dir = TempDir::new("demo-lock-held");
    let state = dir.0.join("state.json");
    let lock = lock_of(&state);
    // This test holds the lock as a running demo command does.
    let held = std::fs::File::create(&lock).unwrap();
    held.lock().unwrap();
    std::fs::write(&lock, std::process::id().to_string()).unwrap();
    // `--timeout` bounds the wait (30 s without it).
    let (out, stdout, stderr) = demo("connections", &state, &["list", "--timeout", "1"]);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&lock.display().to_string()), "{stderr}");
    assert!(
        stderr.contains(&format!("process {}", std::process::id())),
        "{stderr}"
    );
    assert!(stderr.contains("wait for it"), "{stderr}");
    assert!(!state.exists(), "the sandbox was touched without the lock");
    // Once it is released, a waiting command goes ahead.
    let waiting = demo_cmd("connections", &state, &["list"]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(bounded(waiting)));
    std::thread::sleep(std::time::Duration::from_millis(300));
    held.unlock().unwrap();
    drop(held);
    let (out, _, stderr) = rx.recv().unwrap();
    assert_eq!(code(&out), 0, "{stderr}");
}

#[test]
fn concurrent_commands_over_a_stale_lock_hand_out_distinct_ids_and_lose_nothing() {
    let dir = TempDir::new("demo-lock-stale");
    // Without an atomic takeover about one round in seven handed out an id
    // twice: ten rounds.
    for round in 0..10 {
        let state = dir.0.join(format!("state-{round}.json"));
        // A killed command's lock: a process id that no longer runs.
        std::fs::write(lock_of(&state), "4000000000").unwrap();
        let children: Vec<_> = (0..8)
            .map(|i| {
                let mut cmd = demo_cmd("connections create", &state, &[]);
                cmd.args(["--name", &format!("c{i}")])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        let mut ids = Vec::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let (stdout, stderr) = common::text(&out);
            assert_eq!(code(&out), 0, "{stderr}");
            let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
            ids.push(line["id"].as_str().unwrap().to_owned());
        }
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            8,
            "round {round}: ids handed out twice: {ids:?}"
        );
        let listed = ids_listed(&state);
        for id in &ids {
            assert!(listed.contains(id), "round {round}: {id} lost: {listed:?}");
        }
        assert_eq!(listed.len(), 9, "the demo connection and the 8 made");
        assert!(!lock_of(&state).exists());
    }
}

#[cfg(target_os = "linux")]
#[test]
fn links_planted_where_the_temporary_file_goes_are_never_written_through() {
    let dir = TempDir::new("demo-tmp-links");
    let state = dir.0.join("state.json");
    let victim = dir.file("victim", b"precious");
    // The old name was `STATE.tmp-PID`: plant links for the process ids
    // the next commands are likely to get.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let mut planted = Vec::new();
    for pid in last + 1..last + 2000 {
        let link = dir.0.join(format!("state.json.tmp-{pid}"));
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        planted.push(link);
    }
    for name in ["a", "b"] {
        let (out, _, stderr) = demo("connections create", &state, &["--name", name]);
        assert_eq!(code(&out), 0, "{stderr}");
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(std::fs::symlink_metadata(&state)
        .unwrap()
        .file_type()
        .is_file());
    for link in &planted {
        assert!(
            std::fs::symlink_metadata(link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{} was replaced",
            link.display()
        );
    }
    assert_eq!(ids_listed(&state).len(), 3);
    // No temporary file of ours is left behind.
    let strays = std::fs::read_dir(&dir.0)
        .unwrap()
        .filter(|e| {
            let e = e.as_ref().unwrap();
            e.file_name().to_string_lossy().contains(".tmp-")
                && !e.file_type().unwrap().is_symlink()
        })
        .count();
    assert_eq!(strays, 0);
}

/// Another user's lock in a shared, sticky temporary directory: it can be
/// neither opened nor removed. Needs root (to be both users) and
/// `setpriv`; skipped otherwise.
#[cfg(target_os = "linux")]
#[test]
fn another_users_lock_is_exit_1_naming_it_not_a_spin() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = TempDir::new("demo-lock-other-user");
    let probe = dir.file("probe", b"");
    let setpriv = Path::new("/usr/bin/setpriv");
    if std::fs::metadata(&probe).unwrap().uid() != 0 || !setpriv.exists() {
        eprintln!("skipped: needs root and /usr/bin/setpriv");
        return;
    }
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o1777)).unwrap();
    // The command, where the other user can run it.
    let program = dir.0.join("aep-flow");
    std::fs::copy(common::aep_flow("connections").get_program(), &program).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let state = dir.0.join("state.json");
    let lock = lock_of(&state);
    std::fs::write(&lock, "4000000000").unwrap();
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = Command::new(setpriv);
    cmd.env_clear()
        .env("AEP_DEMO_STATE", &state)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&program)
        .args(["connections", "--demo", "list"]);
    let (out, stdout, stderr) = bounded(cmd);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stderr.contains(&lock.display().to_string()), "{stderr}");
    assert!(stderr.contains("remove it"), "{stderr}");
    assert!(!state.exists());
}

/// A state file that cannot be read (a directory under the default name,
/// another user's file) is an error naming it, not a bare "Is a
/// directory (os error 21)".
#[test]
fn a_state_file_that_cannot_be_read_is_an_error_naming_it() {
    let dir = TempDir::new("demo-state-unreadable");
    // No AEP_DEMO_STATE: the default name in the temp directory, which
    // is a directory here.
    let path = dir.0.join("aep-flow-demo-tester.json");
    std::fs::create_dir(&path).unwrap();
    let mut cmd = common::aep_flow("connections list");
    cmd.env_remove("AEP_DEMO_STATE")
        .env("TMPDIR", &dir.0)
        .env("USER", "tester")
        .arg("--demo");
    let (out, stdout, stderr) = bounded(cmd);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(path.is_dir(), "left as it was");
    // Another user's file (mode 0000): skipped as root, who reads it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let theirs = dir.file("theirs.json", b"{}");
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&theirs).is_err() {
            let (out, stdout, stderr) = demo("connections", &theirs, &["list"]);
            assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
            assert!(stderr.contains(&theirs.display().to_string()), "{stderr}");
            assert!(stderr.contains("cannot read"), "{stderr}");
        } else {
            eprintln!("skipped the unreadable file: run as root");
        }
    }
}

/// A state file that is a FIFO (or a device) was opened and read: the
/// command hung forever (holding the demo lock, whatever `--timeout`
/// said). A huge one was read whole into memory. Both are refused at
/// start, naming the file, without opening it.
#[cfg(unix)]
#[test]
fn a_state_file_that_is_a_fifo_or_huge_is_refused_not_read() {
    let dir = TempDir::new("demo-state-fifo");
    let fifo = dir.0.join("fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: needs mkfifo");
        return;
    }
    // A command stuck reading the FIFO is killed by `bounded`, failing
    // the test.
    let (out, stdout, stderr) = demo("connections", &fifo, &["list"]);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&fifo.display().to_string()), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    // Far beyond any demo sandbox (sparse: nothing is written).
    let huge = dir.0.join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let (out, stdout, stderr) = demo("connections", &huge, &["list"]);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stderr.contains(&huge.display().to_string()), "{stderr}");
    assert!(stderr.contains("too large"), "{stderr}");
    assert_eq!(std::fs::metadata(&huge).unwrap().len(), 1 << 30);
}

/// A state file that is a symbolic link was read through the link, then
/// replaced (by the atomic rename) with a regular file: the file linked to
/// silently stopped receiving the sandbox. A link is refused, naming it,
/// and left as it was.
#[cfg(unix)]
#[test]
fn a_state_file_that_is_a_link_is_refused_not_replaced() {
    let dir = TempDir::new("demo-state-link");
    let real = dir.0.join("real.json");
    made("connections create", &real, &["--name", "real"]);
    let before = std::fs::read(&real).unwrap();
    let link = dir.0.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let dangling = dir.0.join("dangling.json");
    std::os::unix::fs::symlink(dir.0.join("nowhere.json"), &dangling).unwrap();
    for path in [&link, &dangling] {
        for args in [&["list"][..], &["create", "--name", "through"]] {
            let (out, stdout, stderr) = demo("connections", path, args);
            assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
            assert!(stderr.contains(&path.display().to_string()), "{stderr}");
            assert!(stderr.contains("symbolic link"), "{stderr}");
            assert!(std::fs::symlink_metadata(path)
                .unwrap()
                .file_type()
                .is_symlink());
        }
    }
    assert_eq!(std::fs::read(&real).unwrap(), before);
    assert!(!dir.0.join("nowhere.json").exists());
}
/// A state file in a directory that does not exist: the lock file cannot
/// be created, and the message said "remove it" of a file that was never
/// there. It names the directory and what it must be.
#[test]
fn a_state_file_in_a_missing_directory_names_the_directory_not_remove_it() {
    let dir = TempDir::new("demo-state-no-dir");
    let missing = dir.0.join("missing");
    let state = missing.join("state.json");
    let (out, stdout, stderr) = demo("connections", &state, &["list"]);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(stderr.contains("must exist"), "{stderr}");
    assert!(!stderr.contains("remove it"), "{stderr}");
    assert!(!missing.exists());
}

// "A dropped fake never writes the state file again" is now the fake's
// own promise, that once `stop()` returns (the demo stops its fake before
// it checks the last save and releases the lock) no request is answered
// and the change hook is never called again: see
// `a_request_in_flight_when_stopped_is_neither_answered_nor_saved` in
// `testing/tests/fake.rs`.

/// A command killed while it saved leaves its temporary file behind
/// (`STATE.tmp-` and 16 hex digits), and nothing ever removed it: they
/// accumulated, one per kill, each a copy of the sandbox. The next demo
/// command, holding the lock (so no save can be under way), removes them;
/// a link under such a name, or another state file's, is left alone.
#[cfg(unix)]
#[test]
fn temporary_files_a_killed_save_left_are_removed_by_the_next_command() {
    let dir = TempDir::new("demo-tmp-leftover");
    let state = dir.0.join("state.json");
    let leftovers = ["0123456789abcdef", "ffffffffffffffff"]
        .map(|s| dir.file(&format!("state.json.tmp-{s}"), b"{\"format\": \"half"));
    let victim = dir.file("victim", b"precious");
    let link = dir.0.join("state.json.tmp-fedcba9876543210");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let others = [
        dir.file("other.json.tmp-0123456789abcdef", b"another sandbox's"),
        dir.file("state.json.tmp-0123", b"not ours"),
        dir.file("state.json.tmp-0123456789abcdef.keep", b"not ours"),
    ];
    let (out, _, stderr) = demo("connections", &state, &["list"]);
    assert_eq!(code(&out), 0, "{stderr}");
    for leftover in &leftovers {
        assert!(!leftover.exists(), "{} is still there", leftover.display());
    }
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    for other in &others {
        assert!(other.exists(), "{} was removed", other.display());
    }
}

/// A lock file that is a hard link to some other file (planted in a
/// shared temporary directory where hard links to others' files are
/// allowed, or made by mistake) was truncated and overwritten with a
/// process id: the other file lost its contents. It is refused, naming
/// it, and left as it was.
#[cfg(unix)]
#[test]
fn a_lock_file_hard_linked_to_another_file_is_refused_not_truncated() {
    let dir = TempDir::new("demo-lock-hardlink");
    let state = dir.0.join("state.json");
    let victim = dir.file("victim", b"precious");
    std::fs::hard_link(&victim, lock_of(&state)).unwrap();
    let (out, stdout, stderr) = demo("connections", &state, &["list"]);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&lock_of(&state).display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("link"), "{stderr}");
    assert!(!state.exists());
}

/// A bad `PG*` value is exit 2, "nothing sent": it was read only after the
/// demo sandbox had been taken (waiting up to 30 s for the lock) and, with
/// `--demo-reset`, wiped. The environment is checked first: the sandbox is
/// left as it was.
#[test]
fn a_bad_postgres_variable_is_refused_before_the_sandbox_is_touched() {
    let dir = TempDir::new("demo-bad-pg");
    let state = dir.0.join("state.json");
    let (out, _, stderr) = demo("connections", &state, &["ensure", "--name", "keep"]);
    assert_eq!(code(&out), 0, "{stderr}");
    let before = ids_listed(&state);
    assert_eq!(before.len(), 2);
    let runs: [(&str, &[&str], (&str, &str)); 3] = [
        ("connections create", &["--name", "x"], ("PGPORT", "abc")),
        (
            "connections",
            &["ensure", "--name", "y"],
            ("PGSSLMODE", "bogus"),
        ),
        (
            "connections",
            &["rotate-password", &before[0]],
            ("PGPORT", "0"),
        ),
    ];
    for (program, args, (var, value)) in runs {
        let mut cmd = common::aep_flow(program);
        cmd.env("AEP_DEMO_STATE", &state)
            .env("PGSSLMODE", "require")
            .env(var, value)
            .arg("--demo-reset")
            .args(args);
        let (out, stdout, stderr) = bounded(cmd);
        assert_eq!(code(&out), 2, "{program}: {stdout}\n{stderr}");
        assert!(stderr.contains(var), "{stderr}");
        assert_eq!(
            ids_listed(&state),
            before,
            "{program} {args:?} touched the sandbox"
        );
    }
}
