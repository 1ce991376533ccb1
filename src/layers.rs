//! The layer order of the crate docs ("How the crate is built"), enforced:
//! every module file under `src/` is read, each `crate::...` path in its
//! code (in `use` lines and in expressions such as
//! `crate::wire::text::one_line(...)`) is mapped to the module it names (a
//! name re-exported at the crate root leads to the module it comes from),
//! and an import of a layer above the file's own fails the test with the
//! file, the line and the import.
//!
//! `src/testing/` is skipped: the fake Flow Service is leaving the crate.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Bottom up. A module may import its own layer and the layers before it.
const LAYERS: &[&str] = &[
    "ids",
    "secret",
    "wire",
    "error",
    "transport",
    "client",
    "resources",
];

/// Files above every layer: the crate root, the fixture tests, the hidden
/// fuzzing entry points and this test.
const TOP: &[&str] = &["lib", "fixture_tests", "fuzzing", "layers"];

/// Modules not checked: none (the fake left the crate for `aep-flow-testing`).
const SKIPPED: &[&str] = &[];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/NAME.rs` or `src/NAME/...`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

/// The rank of a module: its index in [`LAYERS`], above all of them for
/// [`TOP`]; `None` for a module nobody placed yet.
fn rank(module: &str) -> Option<usize> {
    if let Some(i) = LAYERS.iter().position(|l| *l == module) {
        Some(i)
    } else if TOP.contains(&module) {
        Some(LAYERS.len())
    } else {
        None
    }
}

/// The code of a line: without its `//` comment (doc comments included: a
/// doc link is not an import) and without the text of its string literals
/// (a message that mentions `crate::x` is not an import). Read line by line:
/// a string literal spanning lines is read as code, which can only report
/// too much, never hide an import on a line of its own.
fn code_of(line: &str) -> String {
    let mut code = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    code.push('"');
                }
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                in_string = true;
                code.push('"');
            }
            // A character literal holding a quote or a backslash.
            '\'' if chars.peek().is_some_and(|n| *n == '"' || *n == '\\') => {
                code.push(c);
                if chars.next() == Some('\\') {
                    chars.next();
                }
            }
            _ => code.push(c),
        }
    }
    code
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first path segment after each `crate::` in `code`; for a group
/// `crate::{a::b, C}`, the first segment of each item.
fn crate_heads(code: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        // `crate::` as a path start, not the tail of `some_crate::`.
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(is_ident_char) {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let head: String = item
                    .trim()
                    .chars()
                    .take_while(|c| is_ident_char(*c))
                    .collect();
                if !head.is_empty() {
                    heads.push(head);
                }
            }
        } else {
            let head: String = rest.chars().take_while(|c| is_ident_char(*c)).collect();
            if !head.is_empty() {
                heads.push(head);
            }
        }
    }
    heads
}

/// Names re-exported at the crate root (`pub use module::...::{A, B};` and
/// `pub use module::...::A;` in lib.rs), each with the module it comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let code: String = lib.lines().map(code_of).collect::<Vec<_>>().join("\n");
    let mut names = BTreeMap::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("pub use ") {
        rest = &rest[i + "pub use ".len()..];
        let end = rest.find(';').expect("a `pub use` ends with `;`");
        let item = &rest[..end];
        rest = &rest[end..];
        let module = item.split("::").next().unwrap().trim().to_string();
        let leaves = match (item.find('{'), item.rfind('}')) {
            (Some(open), Some(close)) => item[open + 1..close].to_string(),
            _ => item.rsplit("::").next().unwrap().to_string(),
        };
        for leaf in leaves.split(',') {
            let name = leaf.split_whitespace().last().unwrap_or("");
            let name = name.rsplit("::").next().unwrap();
            if !name.is_empty() {
                names.insert(name.to_string(), module.clone());
            }
        }
    }
    names
}

/// Every import of a layer above the importing file's own, as
/// `file:line: module (layer) imports crate::head (layer of target)`; and
/// every file whose module has no layer.
fn violations(src: &Path) -> Vec<String> {
    let lib = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let reexports = root_reexports(&lib);
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let module = module_of(src, &file);
        if SKIPPED.contains(&module.as_str()) {
            continue;
        }
        let shown = file
            .strip_prefix(src.parent().unwrap())
            .unwrap()
            .display()
            .to_string();
        let Some(own) = rank(&module) else {
            found.push(format!(
                "{shown}: module `{module}` has no layer in src/layers.rs"
            ));
            continue;
        };
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for head in crate_heads(&code_of(line)) {
                let target = if rank(&head).is_some() || SKIPPED.contains(&head.as_str()) {
                    head.clone()
                } else if let Some(m) = reexports.get(&head) {
                    m.clone()
                } else {
                    found.push(format!(
                        "{shown}:{}: `crate::{head}` is neither a module nor a root re-export: {}",
                        n + 1,
                        line.trim()
                    ));
                    continue;
                };
                let theirs = rank(&target).unwrap_or(usize::MAX);
                if theirs > own {
                    found.push(format!(
                        "{shown}:{}: `{module}` imports `crate::{head}` from the layer `{target}` above it: {}",
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_its_own_layer_and_the_layers_below() {
    let found = violations(&src_dir());
    assert!(
        found.is_empty(),
        "layer order ids → secret → wire → error → transport → client → resources broken:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reader_sees_groups_paths_in_code_and_root_reexports() {
    assert_eq!(
        crate_heads("use crate::{ConnectionFilter, wire::text::one_line};"),
        ["ConnectionFilter", "wire"]
    );
    assert_eq!(
        crate_heads("    crate::wire::text::reason_phrase(s) + x"),
        ["wire"]
    );
    assert!(crate_heads("use other_crate::x;").is_empty());
    assert!(crate_heads(&code_of("let x = 1; // crate::client")).is_empty());
    assert!(crate_heads(&code_of(
        r#"panic!("see crate::client \" crate::client"); '"'"#
    ))
    .is_empty());
    assert_eq!(
        crate_heads(&code_of(r#"f('"', "\\", crate::wire::x)"#)),
        ["wire"]
    );
    assert!(crate_heads(&code_of("/// [`Client`](crate::Client)")).is_empty());
    let names = root_reexports(
        "pub use resources::runs::{Run, RunStatus};\npub use secret::Secret;\n// pub use x::Y;\n",
    );
    assert_eq!(
        names.get("RunStatus").map(String::as_str),
        Some("resources")
    );
    assert_eq!(names.get("Secret").map(String::as_str), Some("secret"));
    assert!(!names.contains_key("Y"));
    assert_eq!(rank("resources"), Some(LAYERS.len() - 1));
    assert!(rank("client") < rank("resources"));
    assert_eq!(rank("lib"), Some(LAYERS.len()));
    assert_eq!(rank("somewhere_new"), None);
}
