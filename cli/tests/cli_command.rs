//! The command as a whole: `--help` everywhere, usage errors, the common
//! options on either side of the subcommand, and every row of the table
//! from the old example programs to `aep-flow` (same flags, same JSON keys
//! in the same order, same exit codes).

mod common;

use std::path::Path;
use std::process::Output;

use aep_flow_testing::FakeFlowService;
use common::{aep_flow, fresh_demo_state, text, with_platform};
use common::{DEMO_CONNECTION_ID, DEMO_DATASET_ID};

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Every subcommand, and the flags its help must name.
const SUBCOMMANDS: &[(&str, &[&str])] = &[
    ("", &["connections", "pipeline", "--demo", "--timeout"]),
    (
        "connections",
        &["create", "list", "rotate-password", "explore"],
    ),
    (
        "connections create",
        &["--name", "--description", "--auth", "--demo", "--timeout"],
    ),
    ("connections list", &["--name"]),
    ("connections get", &["ID"]),
    ("connections test", &["ID"]),
    ("connections delete", &["ID"]),
    ("connections ensure", &["--name", "--description", "--auth"]),
    ("connections rotate-password", &["ID", "PGSSLMODE"]),
    ("connections explore", &["ID", "--table", "--preview"]),
    (
        "pipeline",
        &["ensure", "status", "runs", "enable", "disable", "delete"],
    ),
    (
        "pipeline ensure",
        &[
            "--connection",
            "--table",
            "--dataset",
            "--schema",
            "--map",
            "--delta-column",
            "--frequency",
            "--interval",
            "--no-backfill",
            "--start",
            "--name",
            "--description",
            "--enable",
            "--plan",
        ],
    ),
    ("pipeline status", &["FLOW_ID"]),
    ("pipeline runs", &["FLOW_ID", "--limit"]),
    ("pipeline enable", &["FLOW_ID"]),
    ("pipeline disable", &["FLOW_ID"]),
    ("pipeline delete", &["FLOW_ID", "--with-connections"]),
];

#[test]
fn help_on_every_subcommand_is_exit_0_on_stdout_naming_its_flags() {
    for (words, flags) in SUBCOMMANDS {
        for help in ["--help", "-h"] {
            let out = aep_flow(words).arg(help).output().unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(code(&out), 0, "{words} {help}: {stderr}");
            assert!(stderr.is_empty(), "{words} {help}: {stderr}");
            assert!(
                stdout.contains(&format!("Usage: aep-flow {words}").replace("  ", " ")),
                "{words}: {stdout}"
            );
            for flag in *flags {
                assert!(stdout.contains(flag), "{words}: {flag}: {stdout}");
            }
            // The common options and the environment, on every level.
            for part in ["--demo-reset", "AEP_ACCESS_TOKEN", "exit codes"] {
                assert!(stdout.contains(part), "{words}: {part}: {stdout}");
            }
        }
    }
}

/// Exit 2, nothing on stdout, a usage line on stderr.
fn usage_error(out: &Output, what: &str) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(code(out), 2, "{what}: {stderr}");
    assert!(stdout.is_empty(), "{what}: {stdout}");
    assert!(stderr.contains("Usage: aep-flow"), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    stderr
}

#[test]
fn unknown_subcommands_and_flags_are_exit_2_with_a_usage_line_and_send_nothing() {
    let fake = FakeFlowService::start().unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        ("", &["frobnicate"], "unknown command `frobnicate`"),
        ("", &[], "a command is required"),
        ("connections", &[], "a command is required"),
        ("pipeline", &[], "a command is required"),
        (
            "connections",
            &["frobnicate"],
            "unknown command `frobnicate`",
        ),
        ("pipeline", &["stats", "f1"], "unknown command `stats`"),
        // The old program name is not a subcommand.
        ("", &["create_postgres_connection"], "unknown command"),
        (
            "connections create",
            &["--name", "x", "--bogus"],
            "unknown argument `--bogus`",
        ),
        (
            "connections list",
            &["--verbose"],
            "unknown argument `--verbose`",
        ),
        (
            "pipeline status",
            &["f1", "--limit", "3"],
            "unknown argument `--limit`",
        ),
        (
            "",
            &["--bogus", "connections", "list"],
            "unknown argument `--bogus`",
        ),
        ("connections get", &[], "is required"),
        ("connections get", &["a", "b"], "unknown argument `b`"),
    ];
    for (words, args, expect) in cases {
        let mut cmd = aep_flow(words);
        with_platform(&mut cmd, &fake);
        let out = cmd.args(*args).output().unwrap();
        let stderr = usage_error(&out, &format!("{words} {args:?}"));
        assert!(
            stderr.contains(expect),
            "{words} {args:?}: want {expect}: {stderr}"
        );
    }
    assert!(fake.requests().is_empty(), "nothing may be sent");
}

#[test]
fn the_common_options_go_before_or_after_the_subcommand() {
    for args in [
        &["--demo", "connections", "get", DEMO_CONNECTION_ID][..],
        &["connections", "--demo", "get", DEMO_CONNECTION_ID],
        &["connections", "get", "--demo", DEMO_CONNECTION_ID],
        &["connections", "get", DEMO_CONNECTION_ID, "--demo"],
        &[
            "--timeout",
            "30",
            "connections",
            "get",
            DEMO_CONNECTION_ID,
            "--demo",
        ],
        &[
            "--demo",
            "connections",
            "get",
            DEMO_CONNECTION_ID,
            "--timeout=30",
        ],
        &["--demo-reset", "connections", "get", DEMO_CONNECTION_ID],
        &["connections", "get", DEMO_CONNECTION_ID, "--demo-reset"],
    ] {
        let out = aep_flow("").args(args).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(code(&out), 0, "{args:?}: {stderr}");
        assert!(stdout.contains(DEMO_CONNECTION_ID), "{args:?}: {stdout}");
    }
    // Given twice, on one level or on two: refused as before.
    for args in [
        &["--demo", "connections", "list", "--demo"][..],
        &[
            "--timeout",
            "5",
            "connections",
            "--timeout",
            "6",
            "list",
            "--demo",
        ],
        &["--demo-reset", "pipeline", "--demo-reset", "status", "f1"],
    ] {
        let out = aep_flow("").args(args).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(code(&out), 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("is given more than once"),
            "{args:?}: {stderr}"
        );
    }
}

/// The top-level keys of a JSON object line, in the order written.
fn keys(line: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0;
    let mut chars = line.char_indices().peekable();
    let mut expect_key = false;
    while let Some((_, c)) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                expect_key = depth == 1 && c == '{';
            }
            '}' | ']' => depth -= 1,
            ',' if depth == 1 => expect_key = true,
            '"' => {
                let mut s = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                if expect_key && depth == 1 {
                    keys.push(s);
                    expect_key = false;
                }
            }
            _ => {}
        }
    }
    keys
}

fn run(state: &Path, words: &str, args: &[&str]) -> (i32, String) {
    let out = aep_flow(words)
        .env("AEP_DEMO_STATE", state)
        .arg("--demo")
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (code(&out), stdout)
}

fn one_line(stdout: &str) -> &str {
    let mut lines = stdout.lines();
    let line = lines.next().unwrap_or_else(|| panic!("no output"));
    assert!(lines.next().is_none(), "one line: {stdout}");
    line
}

#[test]
fn every_row_of_the_table_prints_the_same_keys_in_the_same_order() {
    let state = fresh_demo_state();
    // create_postgres_connection → connections create
    let (rc, out) = run(&state, "connections create", &["--name", "orders-db"]);
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["id", "etag"]);
    assert_eq!(
        one_line(&out),
        r#"{"id":"056dd1b4-da33-42f9-add1-b4da3392f94e","etag":"\"1700e582-0000-0200-0000-5e3c85180000\""}"#
    );
    let (rc, out) = run(&state, "connections list", &[]);
    assert_eq!(rc, 0);
    for line in out.lines() {
        assert_eq!(keys(line), ["id", "name", "state", "etag"]);
    }
    let (rc, out) = run(&state, "connections get", &[DEMO_CONNECTION_ID]);
    assert_eq!(rc, 0);
    assert_eq!(
        keys(one_line(&out)),
        [
            "id",
            "name",
            "description",
            "state",
            "etag",
            "connectionSpecId",
            "authSpecName",
            "createdAt",
            "updatedAt"
        ]
    );
    let (rc, out) = run(&state, "connections test", &[DEMO_CONNECTION_ID]);
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["result"]);
    let (rc, out) = run(&state, "connections ensure", &["--name", "orders-db"]);
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["id", "etag", "created"]);
    assert!(out.contains(r#""created":false"#), "{out}");
    let (rc, out) = aep_flow("connections rotate-password")
        .env("AEP_DEMO_STATE", &state)
        .env("PGSSLMODE", "require")
        .args(["--demo", DEMO_CONNECTION_ID])
        .output()
        .map(|o| (code(&o), text(&o).0))
        .unwrap();
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["id", "etag"]);
    let (rc, out) = run(&state, "connections explore", &[DEMO_CONNECTION_ID]);
    assert_eq!(rc, 0);
    for line in out.lines() {
        assert_eq!(
            keys(line),
            ["name", "path", "type", "canPreview", "canFetchSchema"]
        );
    }
    let (rc, out) = run(
        &state,
        "connections explore",
        &[DEMO_CONNECTION_ID, "--table", "public.orders"],
    );
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["path", "columns"]);
    let (rc, out) = run(
        &state,
        "connections explore",
        &[DEMO_CONNECTION_ID, "--table", "public.orders", "--preview"],
    );
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["path", "columns", "rows"]);

    // pipeline ... → aep-flow pipeline ...
    let ensure = [
        "--connection",
        DEMO_CONNECTION_ID,
        "--table",
        "public.orders",
        "--dataset",
        DEMO_DATASET_ID,
        "--map",
        "id=_demo.orderId",
        "--delta-column",
        "updated_at",
        "--frequency",
        "hour",
    ];
    let (rc, out) = run(&state, "pipeline ensure", &ensure);
    assert_eq!(rc, 0);
    let line = one_line(&out);
    assert_eq!(
        keys(line),
        [
            "flowId",
            "sourceConnectionId",
            "targetConnectionId",
            "mappingSetId",
            "changed",
            "planned"
        ]
    );
    let outcome: serde_json::Value = serde_json::from_str(line).unwrap();
    let flow = outcome["flowId"].as_str().unwrap().to_owned();
    assert_eq!(outcome["changed"][0], "created sourceConnection");
    let (rc, out) = run(&state, "pipeline enable", &[&flow]);
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["id", "etag"]);
    assert!(out.contains(&flow));
    let (rc, out) = run(&state, "pipeline disable", &[&flow]);
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["id", "etag"]);
    let (rc, out) = run(&state, "pipeline status", &[&flow]);
    assert_eq!(rc, 0);
    assert_eq!(keys(one_line(&out)), ["flowId", "state", "lastRun"]);
    let (rc, out) = run(&state, "pipeline runs", &[&flow, "--limit", "5"]);
    assert_eq!(rc, 0);
    for line in out.lines() {
        assert_eq!(
            keys(line),
            [
                "id",
                "status",
                "startedAt",
                "completedAt",
                "inputRecords",
                "outputRecords",
                "failedRecords"
            ]
        );
    }
    let (rc, out) = run(&state, "pipeline delete", &[&flow, "--with-connections"]);
    assert_eq!(rc, 0);
    assert!(out.is_empty(), "{out}");
    let (rc, _) = run(&state, "pipeline status", &[&flow]);
    assert_eq!(rc, 1, "deleted");
    let (rc, out) = run(&state, "connections delete", &[DEMO_CONNECTION_ID]);
    assert_eq!(rc, 0);
    assert!(out.is_empty(), "{out}");
}
