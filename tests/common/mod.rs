//! Running an example (`residue_probe`) as a child process.

use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the examples next to the test binaries.
pub fn example(name: &str) -> Command {
    let mut path: PathBuf = std::env::current_exe().unwrap();
    path.pop(); // the test binary
    if path.ends_with("deps") {
        path.pop();
    }
    path.push("examples");
    path.push(name);
    assert!(
        path.exists(),
        "{} is missing: run through `cargo test`, which builds the examples",
        path.display()
    );
    let mut cmd = Command::new(path);
    cmd.env_clear();
    cmd
}
