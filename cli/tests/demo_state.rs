//! The fake's state file: what one run creates, the next sees; no
//! credential is ever written to it; a broken file is refused at start;
//! and, through `aep-flow --demo`, what a failed save, a stale or
//! held lock, concurrent commands and planted links do.

mod common;

use aep_flow_testing::{demo_catalog, FakeFlowService};
use aep_flow::{Client, NewSourceConnection, PostgresConnection, Secret};
use common::TempDir;

/// A canary password: no run of six of its characters may reach the file.
const CANARY: &str = "Cx9#qZ-canary-7Rw!pL";

fn start(path: &std::path::Path) -> FakeFlowService {
    FakeFlowService::builder()
        .state_file(path)
        .demo_catalog()
        .start()
        .unwrap()
}

fn assert_no_canary(text: &str) {
    let chars: Vec<char> = CANARY.chars().collect();
    for run in chars.windows(6) {
        let run: String = run.iter().collect();
        assert!(!text.contains(&run), "state file holds {run:?}");
    }
}

#[test]
fn a_second_fake_sees_what_the_first_made_and_no_secret_is_written() {
    let dir = TempDir::new("demo-state");
    let path = dir.0.join("state.json");
    let (base, source) = {
        let fake = start(&path);
        let c = Client::new(common::platform(&fake)).unwrap();
        let conn = PostgresConnection::new(
            "pg",
            "db.example.com",
            "orders",
            "etl",
            Secret::from(CANARY),
        );
        let base = c.create_postgres_connection(&conn).unwrap().id;
        let basic = PostgresConnection::new(
            "pg2",
            "db.example.com",
            "orders",
            "etl",
            Secret::from(CANARY),
        )
        .with_auth_spec(aep_flow::AuthSpec::Basic);
        c.create_postgres_connection(&basic).unwrap();
        let source = c
            .create_source_connection(&NewSourceConnection::new("s", &base, "public.orders"))
            .unwrap()
            .id;
        (base, source)
    };
    let text = std::fs::read_to_string(&path).unwrap();
    assert_no_canary(&text);
    assert!(text.contains("[REDACTED]"));
    assert!(text.contains("db.example.com") || text.contains("[REDACTED]"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "state file readable by others: {mode:o}");
    }

    let fake = start(&path);
    let c = Client::new(common::platform(&fake)).unwrap();
    assert_eq!(c.get_connection(&base).unwrap().id, base);
    assert_eq!(c.get_source_connection(&source).unwrap().id, source);
    assert_eq!(c.explore_tables(&base).unwrap().len(), demo_catalog().len());
    // New ids never repeat restored ones.
    let again = c
        .create_source_connection(&NewSourceConnection::new("t", &base, "public.customers"))
        .unwrap();
    assert_ne!(again.id, source);
    assert_ne!(again.id, base);
    // The serial carries on from the fake's own ids, not from the
    // fixture's etag (`"1700e582-..."`): no jump to a huge number.
    assert!(
        again.id.starts_with("00000000-0000-4000-8000-0000000000"),
        "{}",
        again.id
    );
    assert_eq!(fake.source_connections().len(), 2);
    // The tutorial's fixed answer is not handed out a second time.
    let conn = PostgresConnection::new("pg3", "db", "d", "u", Secret::from(CANARY));
    let third = c.create_postgres_connection(&conn).unwrap();
    assert_ne!(third.id, base);
    assert_eq!(fake.connections().len(), 3);
    drop(fake);
    assert_no_canary(&std::fs::read_to_string(&path).unwrap());
}

#[test]
fn a_missing_file_is_an_empty_fake_and_a_broken_one_is_refused() {
    let dir = TempDir::new("demo-state-bad");
    let fresh = start(&dir.0.join("none-yet.json"));
    assert!(fresh.connections().is_empty());
    for (name, body) in [
        ("garbage.json", &b"\xff\xfe not json"[..]),
        ("other.json", br#"{"some": "other file"}"#),
        ("truncated.json", br#"{"format": "aep-flow-fake-state/1", "serial": 3, "connections": [{"meta""#),
        ("wrong.json", br#"{"format": "aep-flow-fake-state/1", "serial": 3, "connections": [{"meta": 1, "value": 2}]}"#),
    ] {
        let path = dir.file(name, body);
        let err = FakeFlowService::builder().state_file(&path).start().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}");
        assert!(err.to_string().contains("remove it"), "{name}: {err}");
        // The broken file is left as it was.
        assert_eq!(std::fs::read(&path).unwrap(), body);
    }
}

#[test]
fn a_state_file_with_an_impossible_serial_is_refused_and_a_low_one_is_corrected() {
    let dir = TempDir::new("demo-state-serial");
    for serial in ["18446744073709551615", "1099511627777", "-1", "\"7\""] {
        let path = dir.file(
            &format!("s{}.json", serial.len()),
            format!(r#"{{"format": "aep-flow-fake-state/1", "serial": {serial}}}"#).as_bytes(),
        );
        let err = FakeFlowService::builder()
            .state_file(&path)
            .start()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{serial}");
    }
    // A file whose serial is lower than its ids: new ids still never repeat.
    let path = dir.0.join("low.json");
    let id = {
        let fake = start(&path);
        let c = Client::new(common::platform(&fake)).unwrap();
        let conn = PostgresConnection::new("pg", "db", "d", "u", Secret::from(CANARY));
        c.create_postgres_connection(&conn).unwrap();
        let base = fake.connections()[0].id.clone();
        c.create_source_connection(&NewSourceConnection::new("s", &base, "public.orders"))
            .unwrap()
            .id
    };
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["serial"] = 0.into();
    std::fs::write(&path, file.to_string()).unwrap();
    let fake = start(&path);
    let c = Client::new(common::platform(&fake)).unwrap();
    let base = fake.connections()[0].id.clone();
    for _ in 0..5 {
        let new = c
            .create_source_connection(&NewSourceConnection::new("t", &base, "public.customers"))
            .unwrap();
        assert_ne!(new.id, id);
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
    let path = dir.0.join("state.json");
    std::fs::create_dir(&path).unwrap();
    let err = FakeFlowService::builder()
        .state_file(&path)
        .start()
        .unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(path.is_dir(), "left as it was");
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
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(
            FakeFlowService::builder()
                .state_file(&path)
                .start()
                .map(drop)
                .map_err(|e| e.to_string()),
        );
    });
    let result = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(result) => result,
        Err(_) => {
            // Let the stuck reader go before failing.
            let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
            panic!("start() was still reading the FIFO after 60 s");
        }
    };
    let err = result.unwrap_err();
    assert!(err.contains(&fifo.display().to_string()), "{err}");
    assert!(err.contains("not a regular file"), "{err}");

    // Far beyond any demo sandbox (sparse: nothing is written).
    let huge = dir.0.join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let err = FakeFlowService::builder()
        .state_file(&huge)
        .start()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
    assert!(
        err.to_string().contains(&huge.display().to_string()),
        "{err}"
    );
    assert!(err.to_string().contains("too large"), "{err}");
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
    drop(start(&real));
    let before = std::fs::read(&real).unwrap();
    let link = dir.0.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let dangling = dir.0.join("dangling.json");
    std::os::unix::fs::symlink(dir.0.join("nowhere.json"), &dangling).unwrap();
    for path in [&link, &dangling] {
        let err = FakeFlowService::builder()
            .state_file(path)
            .start()
            .map(drop)
            .unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("link"), "{err}");
        assert!(std::fs::symlink_metadata(path)
            .unwrap()
            .file_type()
            .is_symlink());
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

/// A request still arriving when the fake stops (a client that gave up on
/// its deadline, a body still in flight) was answered, and the state file
/// written, after the fake had been dropped: after the demo command had
/// checked its saves and released the lock, when the next command may
/// already be working on the file (and one of the two writes is lost).
/// Once dropped, the fake neither answers nor writes.
#[test]
fn a_dropped_fake_never_writes_the_state_file_again() {
    use std::io::{Read, Write};
    let dir = TempDir::new("demo-state-after-drop");
    let path = dir.0.join("state.json");
    // A create as the client sends it.
    let request = {
        let probe = FakeFlowService::start().unwrap();
        let c = Client::new(common::platform(&probe)).unwrap();
        let conn = PostgresConnection::new("late", "db", "d", "u", Secret::from(CANARY));
        c.create_postgres_connection(&conn).unwrap();
        probe.requests().pop().unwrap()
    };
    let fake = start(&path);
    let mut stream = std::net::TcpStream::connect(fake.addr()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    // A first request, answered: the connection is being served.
    write!(
        stream,
        "GET {}/connections HTTP/1.1\r\nHost: x\r\n",
        aep_flow_testing::BASE_PATH
    )
    .unwrap();
    for (name, value) in &request.headers {
        if name == "authorization" || name.starts_with("x-") {
            write!(stream, "{name}: {value}\r\n").unwrap();
        }
    }
    write!(stream, "\r\n").unwrap();
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed");
        seen.extend_from_slice(&chunk[..n]);
    }
    // The create, all but its last byte.
    write!(stream, "{} {} HTTP/1.1\r\n", request.method, request.path).unwrap();
    for (name, value) in &request.headers {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            write!(stream, "{name}: {value}\r\n").unwrap();
        }
    }
    write!(
        stream,
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        request.body.len()
    )
    .unwrap();
    let (head, last) = request.body.split_at(request.body.len() - 1);
    stream.write_all(head).unwrap();
    let before = std::fs::read(&path).unwrap();
    drop(fake);
    stream.write_all(last).unwrap();
    // Whatever comes back (an answer, or nothing), until it hangs up.
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(&path).unwrap()),
        String::from_utf8_lossy(&before),
        "written after the fake was dropped; it answered {:?}",
        String::from_utf8_lossy(&rest).lines().next()
    );
}

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
