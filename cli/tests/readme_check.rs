//! The README's `aep-flow check` example is real output: this takes the
//! README's example file (the walkthrough's `aep-flow.toml`) and the
//! commands of its `check-demo` block, runs them (`--demo`, in a
//! directory holding the file), and compares what each prints on stdout,
//! and the exit code `echo $?` shows, with the README's text. Times and
//! ages differ from run to run: both sides have them replaced by
//! placeholders, here, never in the README.

mod common;

use common::{aep_flow, TempDir};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

/// The text between `<!-- NAME` and `<!-- /NAME -->`.
fn section<'a>(readme: &'a str, name: &str) -> &'a str {
    let start = readme
        .find(&format!("<!-- {name}"))
        .unwrap_or_else(|| panic!("the README has {name}"));
    let end = readme[start..]
        .find(&format!("<!-- /{name} -->"))
        .unwrap_or_else(|| panic!("{name} ends"));
    &readme[start..start + end]
}

fn is_iso_time(s: &[char]) -> bool {
    // 2026-12-03T06:04:00Z
    let shape = "0000-00-00T00:00:00Z";
    s.len() == shape.len()
        && s.iter().zip(shape.chars()).all(|(c, want)| match want {
            '0' => c.is_ascii_digit(),
            other => *c == other,
        })
}

/// An age as `check` writes it: `45s`, `35m`, `2h 5m`, `3d 4h`.
fn is_age(s: &str) -> bool {
    let parts: Vec<&str> = s.split(' ').collect();
    (1..=2).contains(&parts.len())
        && parts.iter().all(|p| {
            p.len() >= 2
                && p[..p.len() - 1].chars().all(|c| c.is_ascii_digit())
                && matches!(p.chars().last(), Some('s' | 'm' | 'h' | 'd'))
        })
}

/// `text` with each ISO 8601 UTC time made `<time>` and each `(AGE ago)`
/// made `(<age> ago)`; how many of each it replaced.
fn normalised(text: &str) -> (String, usize, usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut times = 0;
    let mut i = 0;
    while i < chars.len() {
        if i + 20 <= chars.len() && is_iso_time(&chars[i..i + 20]) {
            out.push_str("<time>");
            times += 1;
            i += 20;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    let mut ages = 0;
    let mut result = String::new();
    let mut rest = out.as_str();
    while let Some(open) = rest.find(" (") {
        let after = &rest[open + 2..];
        match after.find(" ago)") {
            Some(close) if is_age(&after[..close]) => {
                result.push_str(&rest[..open]);
                result.push_str(" (<age> ago)");
                ages += 1;
                rest = &after[close + 5..];
            }
            _ => {
                result.push_str(&rest[..open + 2]);
                rest = after;
            }
        }
    }
    result.push_str(rest);
    (result, times, ages)
}

#[test]
fn the_normalisation_replaces_times_and_ages_only() {
    let (n, times, ages) =
        normalised("x  last success 2026-12-03T06:04:00Z (2h 5m ago)  run 2026-1 (not an age)");
    assert_eq!(
        n,
        "x  last success <time> (<age> ago)  run 2026-1 (not an age)"
    );
    assert_eq!((times, ages), (1, 1));
    assert_eq!(normalised("x (0s ago) (3d ago) (1x ago)").2, 2);
    assert_eq!(normalised("2026-12-03T06:04:00").1, 0);
}

#[test]
fn the_readme_check_example_is_real_output() {
    let readme = readme();
    let file = section(&readme, "plan-walkthrough")
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```\n").next())
        .expect("the README's example file");
    let dir = TempDir::new("readme-check");
    dir.file("aep-flow.toml", file.as_bytes());
    let state = common::fresh_demo_state();

    // The ```console block: `$ aep-flow ...` lines, their output, and
    // `$ echo $?` with the exit code of the command before.
    let block = section(&readme, "check-demo")
        .split("```console\n")
        .nth(1)
        .and_then(|s| s.split("```\n").next())
        .expect("the check example's console block");
    struct Step {
        command: String,
        out: String,
        code: Option<i32>,
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = block.lines();
    while let Some(line) = lines.next() {
        if line == "$ echo $?" {
            let code = lines.next().expect("the exit code").parse().unwrap();
            steps.last_mut().expect("a command first").code = Some(code);
        } else if let Some(command) = line.strip_prefix("$ aep-flow ") {
            steps.push(Step {
                command: command.to_owned(),
                out: String::new(),
                code: None,
            });
        } else {
            assert!(!line.starts_with('$'), "{line}");
            let step = steps.last_mut().expect("a command first");
            step.out.push_str(line);
            step.out.push('\n');
        }
    }
    let checks: Vec<&Step> = steps
        .iter()
        .filter(|s| s.command.contains("check -f aep-flow.toml"))
        .collect();
    assert_eq!(checks.len(), 1, "the README shows `check -f` with the file");
    assert!(checks[0].command.contains("--demo"));
    assert_eq!(
        checks[0].code,
        Some(3),
        "the README shows check's exit code"
    );
    let (_, times, ages) = normalised(&checks[0].out);
    assert_eq!((times, ages), (3, 3), "{}", checks[0].out);
    assert!(checks[0].out.contains("  ok  ") && checks[0].out.contains("  partial  "));

    for step in &steps {
        let mut cmd = aep_flow(&step.command);
        cmd.current_dir(&dir.0).env("AEP_DEMO_STATE", &state);
        let out = cmd.output().unwrap();
        let (stdout, stderr) = common::text(&out);
        assert_eq!(
            normalised(&stdout).0,
            normalised(&step.out).0,
            "`aep-flow {}` printed (stderr: {stderr})",
            step.command
        );
        let want = step.code.unwrap_or(0);
        assert_eq!(
            out.status.code(),
            Some(want),
            "`aep-flow {}` (stderr: {stderr})",
            step.command
        );
    }
    let _ = std::fs::remove_file(&state);
}

/// A full disk (stdout on `/dev/full`): plan, apply, export and check say
/// they could not write their output and exit 1, never 0 with the output
/// lost; a second apply (output readable) still converges to in sync.
#[test]
fn a_full_disk_is_exit_1_naming_the_output() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let readme = readme();
    let file = section(&readme, "plan-walkthrough")
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```\n").next())
        .expect("the README's example file");
    let dir = TempDir::new("full-disk");
    dir.file("aep-flow.toml", file.as_bytes());
    let state = common::fresh_demo_state();
    let run = |words: &str, full: bool| {
        let mut cmd = aep_flow(words);
        cmd.current_dir(&dir.0).env("AEP_DEMO_STATE", &state);
        if full {
            cmd.stdout(std::fs::File::create("/dev/full").unwrap());
        }
        cmd.output().unwrap()
    };
    for words in [
        "--demo plan",
        "--demo plan --json",
        "--demo apply",
        "--demo export --sandbox dev",
        "--demo check",
    ] {
        let out = run(words, true);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{words}: {err}");
        assert!(err.contains("could not write the output"), "{words}: {err}");
    }
    let out = run("--demo apply", false);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run("--demo plan --detailed-exitcode", false);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
