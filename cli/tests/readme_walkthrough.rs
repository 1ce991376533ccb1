//! The README's `plan` → `apply` → `plan` → UI-style change → `plan` →
//! `export` walkthrough is real output: this runs its commands (with
//! `--demo`, in a directory holding its `aep-flow.toml`) and compares
//! what each prints on stdout with the README's text.

mod common;

use common::{aep_flow, TempDir};

#[test]
fn the_readme_walkthrough_is_real_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("<!-- plan-walkthrough")
        .expect("the README has the walkthrough");
    let end = readme.find("<!-- /plan-walkthrough -->").unwrap();
    let section = &readme[start..end];
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```\n").next())
        .expect("the walkthrough's file");
    let dir = TempDir::new("walkthrough");
    dir.file("aep-flow.toml", toml.as_bytes());
    let state = common::fresh_demo_state();

    // Each ```console block: `$ aep-flow ...` lines and their output.
    let mut steps: Vec<(String, String)> = Vec::new();
    for block in section.split("```console\n").skip(1) {
        let block = block.split("```\n").next().unwrap();
        for line in block.lines() {
            match line.strip_prefix("$ aep-flow ") {
                Some(command) => steps.push((command.to_owned(), String::new())),
                None => {
                    let (_, out) = steps.last_mut().expect("a command first");
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    assert!(steps.len() >= 6, "{steps:?}");
    let mut codes = Vec::new();
    for (command, expected) in &steps {
        let mut cmd = aep_flow(command);
        cmd.current_dir(&dir.0).env("AEP_DEMO_STATE", &state);
        let out = cmd.output().unwrap();
        let (stdout, stderr) = common::text(&out);
        assert_eq!(
            &stdout, expected,
            "`aep-flow {command}` printed (stderr: {stderr})"
        );
        let code = out.status.code();
        assert_eq!(
            code,
            Some(exit_code_shown(command, expected)),
            "`aep-flow {command}` exited so (stderr: {stderr})"
        );
        codes.push(code.unwrap_or(-1));
    }
    // The walkthrough shows both codes of `--detailed-exitcode`.
    assert!(codes.contains(&0) && codes.contains(&2), "{codes:?}");
}

/// The exit code the README's text implies for a shown command: `plan
/// --detailed-exitcode` is 2 when its summary shows changes pending, 0 in
/// sync; every other shown command succeeds (0).
fn exit_code_shown(command: &str, output: &str) -> i32 {
    let words: Vec<&str> = command.split_whitespace().collect();
    if words.contains(&"plan") && words.contains(&"--detailed-exitcode") {
        let summary = output.lines().last().unwrap_or("");
        let pending = summary
            .split(", ")
            .filter(|part| !part.ends_with("in sync"))
            .any(|part| !part.starts_with("0 "));
        return if pending { 2 } else { 0 };
    }
    0
}
