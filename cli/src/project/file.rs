//! The declarative file reader: `aep-flow.toml` into a checked
//! [`Project`].
//!
//! Every rule is checked before anything is sent; a broken rule is a
//! [`Usage`] (exit 2) worded `FILE:LINE: KEY: RULE`. Values are never
//! echoed (a misplaced password must not reach a terminal or a CI log):
//! only keys, lines and the rule.
//!
//! The parser is `toml_edit`: it keeps the byte span of every key and
//! value, hence the line of each key, and the file order of tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use aep_flow::{Frequency, Schedule, SslMode};
use toml_edit::{Item, TableLike, Value};

use super::{At, ConnectionDecl, PipelineDecl, Project, SandboxDecl};
use crate::env::Usage;

/// The largest file read (a declarative file of hundreds of pipelines is
/// well below it).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads and checks the file at `path`.
///
/// Only a regular file (or a link to one) is read: a FIFO would block the
/// run until something writes into it, a device may never end, a
/// directory is no file. The type is checked before the file is opened
/// (opening a FIFO for reading blocks), and again on the opened handle.
pub fn load(path: &Path) -> Result<Project, Usage> {
    let shown = show_path(path);
    let cannot = |e: &std::io::Error| Usage(format!("{shown}: cannot be read: {}", io_reason(e)));
    let meta = std::fs::metadata(path).map_err(|e| cannot(&e))?;
    not_a_regular_file(&shown, &meta)?;
    too_large(&shown, meta.len())?;
    let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    // Replaced between the two looks: the opened handle is what is read.
    not_a_regular_file(&shown, &file.metadata().map_err(|e| cannot(&e))?)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    too_large(&shown, bytes.len() as u64)?;
    parse(path, &bytes)
}

/// Refuses what is not a regular file, naming its type.
fn not_a_regular_file(shown: &str, meta: &std::fs::Metadata) -> Result<(), Usage> {
    if meta.is_file() {
        return Ok(());
    }
    let kind = file_kind(&meta.file_type());
    Err(Usage(format!(
        "{shown}: is {kind}, not a regular file (-f names the declarative file)"
    )))
}

/// The kind of a file that is not a regular one, for messages.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

fn too_large(shown: &str, len: u64) -> Result<(), Usage> {
    if len > MAX_FILE_BYTES {
        return Err(Usage(format!(
            "{shown}: is larger than {} MiB; a declarative file is far smaller",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

/// An I/O error's reason, without the OS's echo of the path.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if e.raw_os_error() == Some(21) => "is a directory".into(),
        _ => e.kind().to_string(),
    }
}

/// A path as shown in every message of the file reader, `export`, `plan`
/// and `apply`: as is when every character is printable, else between
/// double quotes with control and invisible formatting characters
/// (newlines, ESC, bidirectional overrides) escaped as `\n`, `\u{1b}`,
/// bytes that are not UTF-8 as `\xFF`, and `"` and `\` escaped. A crafted
/// file name cannot forge a line of output or hide what follows it.
pub(crate) fn show_path(path: &Path) -> String {
    #[cfg(unix)]
    let bytes: &[u8] = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let lossy = path.to_string_lossy();
    #[cfg(not(unix))]
    let bytes: &[u8] = lossy.as_bytes();
    let plain = std::str::from_utf8(bytes).is_ok_and(|s| !s.chars().any(is_unsafe_char));
    if plain {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out.push('"');
    out
}

/// Characters that move the cursor, end a line, or change how the text
/// around them shows: control characters, line and paragraph separators,
/// zero-width and bidirectional formatting characters, the BOM.
pub(crate) fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks the file's contents; `path` names it in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Project, Usage> {
    let shown = show_path(path);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            // The line of the first bad byte; the byte itself is never shown.
            let line = line_of(&bytes[..e.valid_up_to()], e.valid_up_to());
            return Err(Usage(format!(
                "{shown}:{line}: the file is not valid UTF-8"
            )));
        }
    };
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text.as_bytes(), s.start));
        // The message only: the error's rendering quotes the line, which
        // may hold a secret.
        let message: String = e
            .message()
            .trim()
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        Usage(format!(
            "{shown}:{line}: not valid TOML: {}",
            message.escape_debug()
        ))
    })?;
    let reader = Reader {
        shown: &shown,
        text,
    };
    reader.project(path, doc.as_table())
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

struct Reader<'a> {
    shown: &'a str,
    text: &'a str,
}

/// A table (a `[header]` table or an inline one) with its dotted path
/// and line.
struct Node<'a> {
    table: &'a dyn TableLike,
    path: String,
    line: usize,
}

/// Keys that name a secret: refused wherever they appear (their value is
/// never read).
fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', ' ', '.'], "_");
    k != "password_env"
        && (k == "pw"
            || [
                "pass",
                "pwd",
                "credential",
                "secret",
                "token",
                "api_key",
                "apikey",
                "private_key",
            ]
            .iter()
            .any(|s| k.contains(s)))
}

/// A key as shown in a path: bare when it is a bare TOML key, quoted
/// (escaped) otherwise.
fn show_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        key.to_owned()
    } else {
        format!("\"{}\"", key.escape_debug())
    }
}

impl<'a> Reader<'a> {
    fn line(&self, span: Option<Range<usize>>) -> Option<usize> {
        span.map(|s| line_of(self.text.as_bytes(), s.start))
    }

    fn err(&self, line: usize, key: &str, rule: impl fmt::Display) -> Usage {
        Usage(format!("{}:{line}: {key}: {rule}", self.shown))
    }

    /// The line of `key` in `node` (the key's, else its value's, else the
    /// table's).
    fn key_line(&self, node: &Node<'_>, key: &str) -> usize {
        match node.table.get_key_value(key) {
            Some((k, item)) => self
                .line(k.span())
                .or_else(|| self.line(item.span()))
                .unwrap_or(node.line),
            None => node.line,
        }
    }

    fn child_path(node: &Node<'_>, key: &str) -> String {
        if node.path.is_empty() {
            show_key(key)
        } else {
            format!("{}.{}", node.path, show_key(key))
        }
    }

    /// Refuses keys not in `allowed` (secret-looking ones with the rule
    /// that passwords come from the environment).
    fn known_keys(
        &self,
        node: &Node<'_>,
        allowed: &[&str],
        secret_rule: &str,
    ) -> Result<(), Usage> {
        for (key, _) in node.table.iter() {
            if allowed.contains(&key) {
                continue;
            }
            let line = self.key_line(node, key);
            let path = Self::child_path(node, key);
            if looks_secret(key) {
                return Err(self.err(line, &path, secret_rule));
            }
            let mut rule = format!("unknown key (known: {})", allowed.join(", "));
            if allowed.is_empty() {
                rule = "unknown key".into();
            }
            return Err(self.err(line, &path, rule));
        }
        Ok(())
    }

    /// `key`'s value, its line and path, if given.
    fn get<'n>(&self, node: &Node<'n>, key: &str) -> Option<(&'n Item, usize, String)> {
        let item = node.table.get(key)?;
        if item.is_none() {
            return None;
        }
        Some((item, self.key_line(node, key), Self::child_path(node, key)))
    }

    fn missing(&self, node: &Node<'_>, key: &str, what: &str) -> Usage {
        let path = Self::child_path(node, key);
        self.err(node.line, &path, format!("is required ({what})"))
    }

    fn string(&self, node: &Node<'_>, key: &str) -> Result<Option<(String, usize, String)>, Usage> {
        let Some((item, line, path)) = self.get(node, key) else {
            return Ok(None);
        };
        match item.as_str() {
            Some(s) => Ok(Some((s.to_owned(), line, path))),
            None => Err(self.err(
                line,
                &path,
                format!("must be a string, not {}", type_name(item)),
            )),
        }
    }

    /// A required, non-empty string without control characters.
    fn text(&self, node: &Node<'_>, key: &str, what: &str) -> Result<(String, usize), Usage> {
        let (s, line, path) = self
            .string(node, key)?
            .ok_or_else(|| self.missing(node, key, what))?;
        if s.is_empty() {
            return Err(self.err(line, &path, "must not be empty"));
        }
        if s.chars().any(is_unsafe_char) {
            return Err(self.err(line, &path, UNSAFE_RULE));
        }
        Ok((s, line))
    }

    /// A name ([`text`](Self::text), and [`name_problem`]'s rule).
    fn name(&self, node: &Node<'_>, key: &str, what: &str) -> Result<(String, usize), Usage> {
        let (s, line) = self.text(node, key, what)?;
        if let Some(rule) = name_problem(&s) {
            return Err(self.err(line, &Self::child_path(node, key), rule));
        }
        Ok((s, line))
    }

    fn integer(&self, node: &Node<'_>, key: &str) -> Result<Option<(i64, usize, String)>, Usage> {
        let Some((item, line, path)) = self.get(node, key) else {
            return Ok(None);
        };
        match item.as_integer() {
            Some(n) => Ok(Some((n, line, path))),
            None => Err(self.err(
                line,
                &path,
                format!("must be an integer, not {}", type_name(item)),
            )),
        }
    }

    fn boolean(&self, node: &Node<'_>, key: &str) -> Result<Option<(bool, usize)>, Usage> {
        let Some((item, line, path)) = self.get(node, key) else {
            return Ok(None);
        };
        match item.as_bool() {
            Some(b) => Ok(Some((b, line))),
            None => Err(self.err(
                line,
                &path,
                format!("must be true or false, not {}", type_name(item)),
            )),
        }
    }

    /// A table value (`[a.b]` or `b = { ... }`).
    fn table<'n>(&self, node: &Node<'n>, key: &str) -> Result<Option<Node<'n>>, Usage> {
        let Some((item, line, path)) = self.get(node, key) else {
            return Ok(None);
        };
        match item.as_table_like() {
            Some(table) => {
                let line = match item {
                    Item::Table(t) => self.line(t.span()).unwrap_or(line),
                    _ => line,
                };
                Ok(Some(Node { table, path, line }))
            }
            None => Err(self.err(
                line,
                &path,
                format!("must be a table, not {}", type_name(item)),
            )),
        }
    }

    fn project(&self, file: &Path, root: &'a toml_edit::Table) -> Result<Project, Usage> {
        let root = Node {
            table: root,
            path: String::new(),
            line: 1,
        };
        self.known_keys(
            &root,
            &["project", "sandboxes", "connections", "pipelines"],
            "secrets come from the environment, never from the file",
        )?;
        let (project, line) = self.text(
            &root,
            "project",
            "a short name that marks this file's flows",
        )?;
        if !is_project_token(&project) {
            return Err(self.err(
                line,
                "project",
                "must be 1 to 64 letters, digits, `-`, `_` or `.` (it marks the flows this file creates)",
            ));
        }
        let sandboxes = self.sandboxes(&root)?;
        let connections = self.connections(&root)?;
        let pipelines = self.pipelines(&root, &sandboxes, &connections)?;
        Ok(Project {
            file: file.to_path_buf(),
            project,
            sandboxes,
            connections,
            pipelines,
        })
    }

    fn sandboxes(&self, root: &Node<'_>) -> Result<Vec<SandboxDecl>, Usage> {
        let node = self
            .table(root, "sandboxes")?
            .ok_or_else(|| self.missing(root, "sandboxes", "at least one [sandboxes.NAME]"))?;
        let mut out = Vec::new();
        for (name, _) in node.table.iter() {
            let Some(sandbox) = self.table(&node, name)? else {
                continue;
            };
            if !is_sandbox_name(name) {
                return Err(self.err(
                    sandbox.line,
                    &sandbox.path,
                    "a sandbox name is 1 to 256 lowercase letters, digits and `-`",
                ));
            }
            self.known_keys(
                &sandbox,
                &["credentials"],
                "credentials come from the environment (the `credentials` prefix), never from the file",
            )?;
            let (credentials, line) = self.text(
                &sandbox,
                "credentials",
                "the environment prefix of its credentials, e.g. AEP_DEV",
            )?;
            if !is_env_prefix(&credentials) {
                return Err(self.err(
                    line,
                    &format!("{}.credentials", sandbox.path),
                    "must be an environment prefix: an uppercase letter, then uppercase letters, digits or `_` (at most 64)",
                ));
            }
            out.push(SandboxDecl {
                name: name.to_owned(),
                credentials,
                at: At {
                    line: sandbox.line,
                    key: sandbox.path.clone(),
                },
            });
        }
        if out.is_empty() {
            return Err(self.err(
                node.line,
                "sandboxes",
                "must declare at least one [sandboxes.NAME]",
            ));
        }
        Ok(out)
    }

    fn connections(&self, root: &Node<'_>) -> Result<Vec<ConnectionDecl>, Usage> {
        let Some(node) = self.table(root, "connections")? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (name, _) in node.table.iter() {
            let Some(conn) = self.table(&node, name)? else {
                continue;
            };
            if let Some(rule) = name_problem(name).or_else(|| {
                (name.chars().count() > 256).then_some("must be at most 256 characters")
            }) {
                return Err(self.err(conn.line, &conn.path, format!("a connection name {rule}")));
            }
            self.known_keys(
                &conn,
                &[
                    "host",
                    "port",
                    "database",
                    "user",
                    "password_env",
                    "ssl_mode",
                    "auth",
                ],
                "passwords come from the environment: use password_env",
            )?;
            let (host, line) = self.text(&conn, "host", "the database server's host name")?;
            if host.chars().any(char::is_whitespace) {
                return Err(self.err(
                    line,
                    &format!("{}.host", conn.path),
                    "must not contain spaces",
                ));
            }
            let port = match self.integer(&conn, "port")? {
                None => aep_flow::defaults::DEFAULT_PORT,
                Some((n, line, path)) => u16::try_from(n)
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| self.err(line, &path, "must be a port number 1-65535"))?,
            };
            let (database, _) = self.text(&conn, "database", "the database's name")?;
            let (user, _) = self.text(&conn, "user", "the database user")?;
            let (password_env, line) = self.text(
                &conn,
                "password_env",
                "the environment variable that holds the password",
            )?;
            if !is_env_name(&password_env) {
                // The value is not shown: it may be the password itself,
                // pasted in by mistake.
                return Err(self.err(
                    line,
                    &format!("{}.password_env", conn.path),
                    "must name an environment variable, [A-Z_][A-Z0-9_]* (uppercase letters, \
                     digits and `_`, not starting with a digit, at most 128): the variable that \
                     holds the password, never the password (the value is not shown)",
                ));
            }
            let ssl_mode = match self.string(&conn, "ssl_mode")? {
                None => None,
                Some((s, line, path)) => Some(s.parse::<SslMode>().map_err(|_| {
                    self.err(
                        line,
                        &path,
                        "must be one of disable, allow, prefer, require, verify-ca, verify-full (as PGSSLMODE)",
                    )
                })?),
            };
            let auth = match self.string(&conn, "auth")? {
                None => None,
                Some((s, line, path)) => Some(crate::env::parse_auth(&s).map_err(|_| {
                    self.err(line, &path, "must be `connection-string` or `basic`")
                })?),
            };
            out.push(ConnectionDecl {
                name: name.to_owned(),
                host,
                port,
                database,
                user,
                password_env,
                ssl_mode,
                auth,
                at: At {
                    line: conn.line,
                    key: conn.path.clone(),
                },
            });
        }
        Ok(out)
    }

    fn pipelines(
        &self,
        root: &Node<'_>,
        sandboxes: &[SandboxDecl],
        connections: &[ConnectionDecl],
    ) -> Result<Vec<PipelineDecl>, Usage> {
        let Some((item, line, _)) = self.get(root, "pipelines") else {
            return Ok(Vec::new());
        };
        // `[[pipelines]]`, or `pipelines = [{ ... }, ...]`.
        let mut nodes: Vec<Node<'_>> = Vec::new();
        match item {
            Item::ArrayOfTables(tables) => {
                for (i, t) in tables.iter().enumerate() {
                    nodes.push(Node {
                        table: t,
                        path: format!("pipelines[{i}]"),
                        line: self.line(t.span()).unwrap_or(line),
                    });
                }
            }
            Item::Value(Value::Array(array)) => {
                for (i, v) in array.iter().enumerate() {
                    let path = format!("pipelines[{i}]");
                    let vline = self.line(v.span()).unwrap_or(line);
                    match v.as_inline_table() {
                        Some(t) => nodes.push(Node {
                            table: t,
                            path,
                            line: vline,
                        }),
                        None => {
                            return Err(self.err(vline, &path, "must be a table ([[pipelines]])"))
                        }
                    }
                }
            }
            _ => {
                return Err(self.err(
                    line,
                    "pipelines",
                    format!("must be [[pipelines]] tables, not {}", type_name(item)),
                ))
            }
        }
        let mut out: Vec<PipelineDecl> = Vec::new();
        for (index, node) in nodes.iter().enumerate() {
            out.push(self.pipeline(index, node, sandboxes, connections)?);
        }
        // Two pipelines into one dataset in one sandbox: the same
        // (connection, table, dataset) twice, or two tables into one
        // dataset. A dataset takes one dataflow (Adobe: a strict
        // one-to-one relationship), and `ensure_pipeline` finds the target
        // connection and the flow by the dataset: the two would rewrite
        // each other's flow on every apply.
        for (j, b) in out.iter().enumerate() {
            for a in &out[..j] {
                if a.dataset != b.dataset {
                    continue;
                }
                let Some(s) = sandboxes
                    .iter()
                    .find(|s| a.in_sandbox(&s.name) && b.in_sandbox(&s.name))
                else {
                    continue;
                };
                let rule = if (&a.connection, &a.table) == (&b.connection, &b.table) {
                    format!(
                        "declares the same (connection, table, dataset) as pipelines[{}] (line {}) in sandbox {}",
                        a.index, a.line, s.name
                    )
                } else {
                    format!(
                        "writes into the same dataset as pipelines[{}] (line {}) in sandbox {}: a \
                         dataset takes one dataflow (its target connection and flow are found by \
                         the dataset), so the two would overwrite each other; use another dataset, \
                         or `sandboxes` to keep them apart",
                        a.index, a.line, s.name
                    )
                };
                return Err(self.err(b.line, &format!("pipelines[{}]", b.index), rule));
            }
        }
        Ok(out)
    }

    fn pipeline(
        &self,
        index: usize,
        node: &Node<'_>,
        sandboxes: &[SandboxDecl],
        connections: &[ConnectionDecl],
    ) -> Result<PipelineDecl, Usage> {
        const KEYS: &[&str] = &[
            "connection",
            "table",
            "dataset",
            "delta_column",
            "schedule",
            "mappings",
            "enabled",
            "sandboxes",
            "max_age",
            "max_failed_records",
        ];
        self.known_keys(
            node,
            KEYS,
            "secrets come from the environment, never from the file",
        )?;
        let mut lines = BTreeMap::new();
        for key in KEYS {
            if node.table.contains_key(key) {
                lines.insert((*key).to_owned(), self.key_line(node, key));
            }
        }
        let (connection, line) = self.text(node, "connection", "a name from [connections]")?;
        if !connections.iter().any(|c| c.name == connection) {
            return Err(self.err(
                line,
                &format!("{}.connection", node.path),
                "names no [connections.NAME] of this file",
            ));
        }
        let (table, _) = self.name(node, "table", "the table's path, e.g. public.orders")?;
        let (dataset, _) = self.name(node, "dataset", "the dataset's name in Catalog")?;
        let (delta_column, _) = self.text(
            node,
            "delta_column",
            "the column that says which rows are new",
        )?;
        let schedule_node = self.table(node, "schedule")?.ok_or_else(|| {
            self.missing(node, "schedule", "{ frequency, interval, start, backfill }")
        })?;
        let schedule = self.schedule(&schedule_node)?;
        let mappings = self.mappings(node)?;
        let enabled = self.boolean(node, "enabled")?.is_none_or(|(b, _)| b);
        let pipeline_sandboxes = match self.get(node, "sandboxes") {
            None => None,
            Some((item, line, path)) => {
                let Some(array) = item.as_array() else {
                    return Err(self.err(
                        line,
                        &path,
                        format!("must be an array of sandbox names, not {}", type_name(item)),
                    ));
                };
                let mut names: Vec<String> = Vec::new();
                for v in array.iter() {
                    let Some(name) = v.as_str() else {
                        return Err(self.err(line, &path, "must hold sandbox names (strings)"));
                    };
                    if !sandboxes.iter().any(|s| s.name == name) {
                        return Err(self.err(
                            line,
                            &path,
                            format!(
                                "names a sandbox not declared in [sandboxes]: {}",
                                show_key(name)
                            ),
                        ));
                    }
                    if names.iter().any(|n| n == name) {
                        return Err(self.err(line, &path, format!("names sandbox {name} twice")));
                    }
                    names.push(name.to_owned());
                }
                if names.is_empty() {
                    return Err(self.err(
                        line,
                        &path,
                        "must name at least one sandbox (leave it out for every sandbox)",
                    ));
                }
                Some(names)
            }
        };
        let max_age = match self.string(node, "max_age")? {
            None => None,
            Some((s, line, path)) => Some(parse_duration(&s).ok_or_else(|| {
                self.err(
                    line,
                    &path,
                    "must be a duration above zero and at most 100 years such as 30m, 2h, 1d or 1h30m \
                     (units s, m, h, d, w, each once)",
                )
            })?),
        };
        let max_failed_records = match self.integer(node, "max_failed_records")? {
            None => 0,
            Some((n, line, path)) => {
                u64::try_from(n).map_err(|_| self.err(line, &path, "must be 0 or more"))?
            }
        };
        Ok(PipelineDecl {
            index,
            connection,
            table,
            dataset,
            delta_column,
            schedule,
            mappings,
            enabled,
            sandboxes: pipeline_sandboxes,
            max_age,
            max_failed_records,
            line: node.line,
            lines,
        })
    }

    fn schedule(&self, node: &Node<'_>) -> Result<Schedule, Usage> {
        self.known_keys(
            node,
            &["frequency", "interval", "start", "backfill"],
            "not a schedule key",
        )?;
        let (frequency, fline) = self.text(node, "frequency", "once, minute, hour, day or week")?;
        let fpath = format!("{}.frequency", node.path);
        let frequency = if frequency == "once" {
            None
        } else {
            Some(
                frequency
                    .parse::<Frequency>()
                    .ok()
                    .filter(|_| frequency.bytes().all(|b| b.is_ascii_lowercase()))
                    .ok_or_else(|| {
                        self.err(
                            fline,
                            &fpath,
                            "must be one of once, minute, hour, day, week",
                        )
                    })?,
            )
        };
        let start = match self.get(node, "start") {
            None => {
                return Err(self.missing(
                    node,
                    "start",
                    "the first run's time, ISO 8601 UTC such as 2026-12-01T00:00:00Z",
                ))
            }
            Some((item, line, path)) => {
                let text = match item {
                    Item::Value(Value::String(s)) => s.value().to_owned(),
                    Item::Value(Value::Datetime(d)) => d.value().to_string(),
                    _ => {
                        return Err(self.err(
                            line,
                            &path,
                            format!(
                            "must be an ISO 8601 UTC time (a string or a TOML date-time), not {}",
                            type_name(item)
                        ),
                        ))
                    }
                };
                parse_utc(&text).map_err(|rule| self.err(line, &path, rule))?
            }
        };
        let interval = self.integer(node, "interval")?;
        let backfill = self.boolean(node, "backfill")?;
        match frequency {
            None => {
                for key in ["interval", "backfill"] {
                    if node.table.contains_key(key) {
                        return Err(self.err(
                            self.key_line(node, key),
                            &format!("{}.{key}", node.path),
                            "is not taken with frequency once (the service refuses it)",
                        ));
                    }
                }
                Ok(Schedule::once(start))
            }
            Some(f) => {
                let min = f.min_interval();
                let interval = match interval {
                    None => {
                        if f == Frequency::Minute {
                            15
                        } else {
                            1
                        }
                    }
                    Some((n, line, path)) => {
                        if n < i64::from(min) {
                            return Err(self.err(
                                line,
                                &path,
                                format!(
                                    "must be at least {min} for frequency {f} (the service's minimum)"
                                ),
                            ));
                        }
                        u32::try_from(n)
                            .ok()
                            .filter(|n| *n <= i32::MAX as u32)
                            .ok_or_else(|| {
                                self.err(
                                    line,
                                    &path,
                                    "must be at most 2147483647 (the service stores it as a 32-bit integer)",
                                )
                            })?
                    }
                };
                let s = Schedule::every(f, interval, start)
                    .map_err(|e| self.err(node.line, &node.path, e))?;
                Ok(if backfill.is_none_or(|(b, _)| b) {
                    s
                } else {
                    s.without_backfill()
                })
            }
        }
    }

    fn mappings(&self, node: &Node<'_>) -> Result<Vec<(String, String)>, Usage> {
        let m = self
            .table(node, "mappings")?
            .ok_or_else(|| self.missing(node, "mappings", "{ column = \"xdm.path\", ... }"))?;
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (column, item) in m.table.iter() {
            let line = self.key_line(&m, column);
            let path = Self::child_path(&m, column);
            if column.is_empty() || column.chars().any(is_unsafe_char) {
                return Err(self.err(
                    line,
                    &path,
                    "a column name must be non-empty, without control or invisible formatting characters",
                ));
            }
            let Some(dest) = item.as_str() else {
                return Err(self.err(
                    line,
                    &path,
                    format!("must be an XDM path (a string), not {}", type_name(item)),
                ));
            };
            if dest.is_empty() || dest.chars().any(|c| is_unsafe_char(c) || c.is_whitespace()) {
                return Err(self.err(line, &path, "must be a non-empty XDM path without spaces"));
            }
            if let Some(other) = seen.get(dest) {
                return Err(self.err(
                    line,
                    &path,
                    format!(
                        "maps to the same destination as {} (each XDM path takes one column)",
                        show_key(other)
                    ),
                ));
            }
            seen.insert(dest.to_owned(), column.to_owned());
            out.push((column.to_owned(), dest.to_owned()));
        }
        if out.is_empty() {
            return Err(self.err(m.line, &m.path, "must map at least one column"));
        }
        Ok(out)
    }
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) | Item::Value(Value::InlineTable(_)) => "a table",
        Item::ArrayOfTables(_) | Item::Value(Value::Array(_)) => "an array",
        Item::Value(Value::String(_)) => "a string",
        Item::Value(Value::Integer(_)) => "an integer",
        Item::Value(Value::Float(_)) => "a float",
        Item::Value(Value::Boolean(_)) => "a boolean",
        Item::Value(Value::Datetime(_)) => "a date-time",
    }
}

/// `project`: 1 to 64 of letters, digits, `-`, `_`, `.`.
pub fn is_project_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A sandbox name as Platform's sandboxes take it: lowercase letters,
/// digits and `-`, 1 to 256 characters. (The library only requires a
/// valid header value; every such name is one.)
pub fn is_sandbox_name(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `credentials`: `[A-Z][A-Z0-9_]*`, at most 64.
pub fn is_env_prefix(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// `password_env`: a shell variable name as the file takes it,
/// `[A-Z_][A-Z0-9_]*`, at most 128.
pub fn is_env_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=128).contains(&b.len())
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// The rule for text values: no control or invisible formatting
/// characters.
const UNSAFE_RULE: &str =
    "must not contain control characters or invisible formatting characters (zero-width, bidirectional)";

/// Why `s` cannot be a connection, table or dataset name of the file;
/// `None` when it can. Adobe takes free text for connection and dataset
/// names, and a table path is as the source explores it: spaces, dots,
/// quotes and any letter inside a name are accepted and round-tripped
/// (`export` writes them back). Refused: the empty name, control and
/// invisible formatting characters (they forge or hide output, and no
/// reviewer sees them), and white space at either end (invisible in
/// review; a name that differs only there is another name to Catalog and
/// Flow Service). Column names (`delta_column`, `mappings`) are not held to
/// the white space rule: a quoted PostgreSQL identifier may have spaces at
/// its ends, and the source shows it so.
pub(crate) fn name_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("must not be empty")
    } else if s.chars().any(is_unsafe_char) {
        Some(UNSAFE_RULE)
    } else if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        Some("must not begin or end with white space")
    } else {
        None
    }
}

/// `30m`, `2h`, `1d`, `1h30m`, `45s`, `1w`: one or more NUMBER UNIT
/// parts, each unit once, above zero and at most 100 years in total. The
/// one reading of a duration: the file's `max_age` and `check --max-age`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    const MAX_SECS: u64 = 100 * 366 * 86_400;
    let mut total: u64 = 0;
    let mut units_seen = BTreeSet::new();
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let secs = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        if !units_seen.insert(unit) {
            return None;
        }
        total = total.checked_add(n.checked_mul(secs)?)?;
        rest = &rest[digits + 1..];
    }
    (total > 0 && total <= MAX_SECS).then(|| Duration::from_secs(total))
}

/// ISO 8601 / RFC 3339 date-time with a zone (`Z` or `±HH:MM`) into epoch
/// seconds: `2026-12-01T00:00:00Z`, `2026-12-01T01:30:00+01:30`. Seconds
/// may be left out (`T00:00Z`); a fraction must be zero (the service
/// keeps whole seconds). The result is after 1970 and before the year
/// 10000.
pub fn parse_utc(s: &str) -> Result<i64, &'static str> {
    const SHAPE: &str = "must be an ISO 8601 UTC time such as 2026-12-01T00:00:00Z";
    let b = s.as_bytes();
    let num = |r: Range<usize>| -> Result<i64, &'static str> {
        let part = b.get(r).ok_or(SHAPE)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(SHAPE);
        }
        Ok(part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
    {
        return Err(SHAPE);
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = num(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(SHAPE);
            }
            if b[i + 1..i + 1 + digits].iter().any(|c| *c != b'0') {
                return Err("must be whole seconds (the service keeps no fraction)");
            }
            i += 1 + digits;
        }
    }
    if !(1..=12).contains(&month) {
        return Err("has a month that does not exist (01 to 12)");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("has a day that does not exist in that month");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("has a time that does not exist (00:00:00 to 23:59:59)");
    }
    let offset = match b.get(i) {
        None => return Err("needs a time zone: Z for UTC, or an offset such as +01:00"),
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return Err("has an offset that does not exist (at most ±23:59)");
            }
            let o = h * 3600 + m * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        Some(_) => return Err(SHAPE),
    };
    let days = days_from_civil(year, month, day);
    let t = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    if t <= 0 || t >= 253_402_300_800 {
        return Err("must be after 1970-01-01T00:00:00Z and before the year 10000");
    }
    Ok(t)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch seconds as `2026-12-01T00:00:00Z` (for `export`).
pub fn format_utc(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const GOOD: &str = r#"project = "crm-ingest"

[sandboxes.dev]
credentials = "AEP_DEV"
[sandboxes.prod]
credentials = "AEP_PROD"

[connections.orders-db]
host = "db.example.com"
port = 5433
database = "orders"
user = "etl_reader"
password_env = "ORDERS_DB_PASSWORD"
ssl_mode = "verify-full"

[[pipelines]]
connection = "orders-db"
table = "public.orders"
dataset = "Orders"
delta_column = "updated_at"
schedule = { frequency = "hour", interval = 2, start = "2026-12-01T00:00:00Z", backfill = false }
mappings = { id = "_tenant.orderId", amount = "_tenant.amount" }
sandboxes = ["dev"]
max_age = "1h30m"
max_failed_records = 5

[[pipelines]]
connection = "orders-db"
table = 'sales."Ünïcode.tab"'
dataset = "Sales \"2026\""
delta_column = "ts"
schedule = { frequency = "once", start = 2026-12-01T01:00:00+01:00 }
enabled = false
[pipelines.mappings]
z = "_tenant.z"
a = "_tenant.a"
"#;

    fn load_str(text: &str) -> Result<Project, String> {
        parse(Path::new("aep-flow.toml"), text.as_bytes()).map_err(|Usage(m)| m)
    }

    fn err(text: &str) -> String {
        match load_str(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(m) => m,
        }
    }

    /// GOOD with `from` replaced by `to` (which must be found).
    fn with(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replacen(from, to, 1)
    }

    #[test]
    fn reads_the_example() {
        let p = load_str(GOOD).unwrap();
        assert_eq!(p.project, "crm-ingest");
        assert_eq!(p.sandboxes.len(), 2);
        assert_eq!(p.sandboxes[1].name, "prod");
        assert_eq!(p.sandboxes[1].credentials, "AEP_PROD");
        assert_eq!(p.sandboxes[1].at.line, 5);
        let c = &p.connections[0];
        assert_eq!((c.name.as_str(), c.port, c.at.line), ("orders-db", 5433, 8));
        assert_eq!(c.ssl_mode, Some(SslMode::VerifyFull));
        assert_eq!(c.auth, None);
        let a = &p.pipelines[0];
        assert_eq!(a.line, 16);
        assert_eq!(a.schedule.frequency(), Some(Frequency::Hour));
        assert_eq!(a.schedule.interval(), Some(2));
        assert_eq!(a.schedule.backfill(), Some(false));
        assert_eq!(a.schedule.start_time(), 1_796_083_200);
        assert_eq!(a.mappings[0], ("id".into(), "_tenant.orderId".into()));
        assert_eq!(a.sandboxes.as_deref(), Some(&["dev".to_owned()][..]));
        assert_eq!(a.max_age, Some(Duration::from_secs(5400)));
        assert_eq!(a.max_failed_records, 5);
        assert_eq!(a.at("dataset").line, 19);
        assert!(a.enabled);
        let b = &p.pipelines[1];
        assert_eq!(b.table, "sales.\"Ünïcode.tab\"");
        assert_eq!(b.dataset, "Sales \"2026\"");
        assert!(b.schedule.is_once());
        assert_eq!(b.schedule.start_time(), 1_796_083_200);
        assert!(!b.enabled);
        assert_eq!(b.sandboxes, None);
        assert_eq!(b.max_failed_records, 0);
        // File order, not sorted.
        assert_eq!(b.mappings[0].0, "z");
        assert_eq!(b.mappings[1].0, "a");
        assert_eq!(p.pipelines_in("prod").count(), 1);
    }

    #[test]
    fn defaults() {
        let text = with("port = 5433\n", "")
            .replace(", backfill = false", "")
            .replace("interval = 2, ", "");
        let p = load_str(&text).unwrap();
        assert_eq!(p.connections[0].port, 5432);
        assert_eq!(p.pipelines[0].schedule.interval(), Some(1));
        assert_eq!(p.pipelines[0].schedule.backfill(), Some(true));
        let minute = with(
            "frequency = \"hour\", interval = 2",
            "frequency = \"minute\"",
        );
        let p = load_str(&minute).unwrap();
        assert_eq!(p.pipelines[0].schedule.interval(), Some(15));
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let m = err(&with("host = ", "hots = \"x\"\nhost = "));
        assert_eq!(
            m,
            "aep-flow.toml:9: connections.orders-db.hots: unknown key (known: host, port, database, user, password_env, ssl_mode, auth)"
        );
        let m = err(&with("project = ", "colour = 1\nproject = "));
        assert!(m.starts_with("aep-flow.toml:1: colour: unknown key"), "{m}");
        let m = err(&with("sandboxes = [\"dev\"]", "sandbox = [\"dev\"]"));
        assert!(
            m.starts_with("aep-flow.toml:23: pipelines[0].sandbox: unknown key"),
            "{m}"
        );
        let m = err(&with("backfill = false", "backfil = false"));
        assert!(m.contains("pipelines[0].schedule.backfil: "), "{m}");
        let m = err(&with(
            "credentials = \"AEP_DEV\"",
            "credentials = \"AEP_DEV\"\nregion = \"eu\"",
        ));
        assert!(
            m.starts_with("aep-flow.toml:5: sandboxes.dev.region: unknown key"),
            "{m}"
        );
        let m = err(&with("[pipelines.mappings]", "[pipelines.mappings.deep]"));
        assert!(
            m.contains("pipelines[1].mappings.deep: must be an XDM path"),
            "{m}"
        );
    }

    #[test]
    fn passwords_are_refused_and_never_echoed() {
        for key in [
            "password",
            "PASSWORD",
            "db_password",
            "pwd",
            "secret",
            "token",
            "client_secret",
        ] {
            let m = err(&with(
                "user = \"etl_reader\"",
                &format!("user = \"etl_reader\"\n{key} = \"canary-pw-9931\""),
            ));
            assert_eq!(
                m,
                format!("aep-flow.toml:13: connections.orders-db.{key}: passwords come from the environment: use password_env")
            );
        }
        for text in [
            with(
                "project = ",
                "access_token = \"canary-pw-9931\"\nproject = ",
            ),
            with(
                "credentials = \"AEP_DEV\"",
                "credentials = \"AEP_DEV\"\nclient_secret = \"canary-pw-9931\"",
            ),
            with(
                "enabled = false",
                "enabled = false\napi_key = \"canary-pw-9931\"",
            ),
            // Broken TOML on the secret's line: the message, not the line.
            with("user = \"etl_reader\"", "password = \"canary-pw-9931"),
            with("user = \"etl_reader\"", "password = \"canary-pw-9931\\q\""),
            with("user = \"etl_reader\"", "password = canary-pw-9931"),
        ] {
            let m = err(&text);
            assert!(!m.contains("canary"), "{m}");
            assert!(!m.contains("9931"), "{m}");
        }
    }

    #[test]
    fn required_keys_and_types() {
        let m = err(&GOOD.replace("project = \"crm-ingest\"\n", ""));
        assert!(
            m.starts_with("aep-flow.toml:1: project: is required"),
            "{m}"
        );
        let m = err(&with("database = \"orders\"\n", ""));
        assert!(
            m.starts_with("aep-flow.toml:8: connections.orders-db.database: is required"),
            "{m}"
        );
        let m = err(&with("port = 5433", "port = \"5433\""));
        assert_eq!(
            m,
            "aep-flow.toml:10: connections.orders-db.port: must be an integer, not a string"
        );
        let m = err(&with("enabled = false", "enabled = \"no\""));
        assert!(
            m.contains("pipelines[1].enabled: must be true or false, not a string"),
            "{m}"
        );
        let m = err(&with("table = \"public.orders\"", "table = 3"));
        assert!(
            m.starts_with("aep-flow.toml:18: pipelines[0].table: must be a string"),
            "{m}"
        );
        let m = err(&with("table = \"public.orders\"", "table = \"\""));
        assert!(m.contains("pipelines[0].table: must not be empty"), "{m}");
        let m = err(&with("delta_column = \"updated_at\"\n", ""));
        assert!(
            m.starts_with("aep-flow.toml:16: pipelines[0].delta_column: is required"),
            "{m}"
        );
        let m = err(&with("dataset = \"Orders\"", "dataset = \"Ord\\u0000ers\""));
        assert!(
            m.contains("pipelines[0].dataset: must not contain control characters"),
            "{m}"
        );
        let m = err(&with("[sandboxes.dev]", "[sandboxes.dev.x]"));
        assert!(m.contains("sandboxes.dev.x: unknown key"), "{m}");
        let m = err("project = \"p\"\nsandboxes = 3\n");
        assert_eq!(
            m,
            "aep-flow.toml:2: sandboxes: must be a table, not an integer"
        );
        let m = err("project = \"p\"\npipelines = 3\n[sandboxes.a]\ncredentials = \"A\"\n");
        assert!(
            m.starts_with("aep-flow.toml:2: pipelines: must be [[pipelines]] tables"),
            "{m}"
        );
    }

    #[test]
    fn project_sandbox_and_prefix_rules() {
        for bad in ["", "a b", "crm/ingest", "é", &"x".repeat(65)] {
            let m = err(&with("\"crm-ingest\"", &format!("\"{bad}\"")));
            assert!(m.starts_with("aep-flow.toml:1: project: "), "{m}");
        }
        for ok in ["a", "crm.ingest_v2-3", &"x".repeat(64)] {
            load_str(&with("\"crm-ingest\"", &format!("\"{ok}\""))).unwrap();
        }
        for bad in ["Dev", "de_v", "\"dev x\"", "\"\"", "\"dév\""] {
            let m = err(&with("[sandboxes.dev]", &format!("[sandboxes.{bad}]")));
            assert!(m.contains("a sandbox name is"), "{bad}: {m}");
        }
        let m = err("project = \"p\"\n");
        assert!(
            m.starts_with("aep-flow.toml:1: sandboxes: is required"),
            "{m}"
        );
        let m = err("project = \"p\"\n[sandboxes]\n");
        assert_eq!(
            m,
            "aep-flow.toml:2: sandboxes: must declare at least one [sandboxes.NAME]"
        );
        for bad in ["aep_dev", "1AEP", "_AEP", "AEP-DEV", ""] {
            let m = err(&with("\"AEP_DEV\"", &format!("\"{bad}\"")));
            assert!(
                m.starts_with("aep-flow.toml:4: sandboxes.dev.credentials: "),
                "{m}"
            );
        }
    }

    #[test]
    fn connection_rules() {
        for bad in ["0", "65536", "-1"] {
            let m = err(&with("port = 5433", &format!("port = {bad}")));
            assert_eq!(
                m,
                "aep-flow.toml:10: connections.orders-db.port: must be a port number 1-65535"
            );
        }
        load_str(&with("port = 5433", "port = 65535")).unwrap();
        for bad in ["1PW", "MY-PW", "", "PW X"] {
            let m = err(&with("\"ORDERS_DB_PASSWORD\"", &format!("\"{bad}\"")));
            assert!(
                m.starts_with("aep-flow.toml:13: connections.orders-db.password_env: "),
                "{m}"
            );
        }
        let m = err(&with("\"verify-full\"", "\"verify_full\""));
        assert!(
            m.starts_with("aep-flow.toml:14: connections.orders-db.ssl_mode: must be one of"),
            "{m}"
        );
        let p = load_str(&with(
            "ssl_mode = \"verify-full\"",
            "ssl_mode = \"require\"\nauth = \"basic\"",
        ))
        .unwrap();
        assert_eq!(p.connections[0].ssl_mode, Some(SslMode::Require));
        assert_eq!(p.connections[0].auth, Some(aep_flow::AuthSpec::Basic));
        let m = err(&with("ssl_mode = \"verify-full\"", "auth = \"kerberos\""));
        assert!(
            m.contains("connections.orders-db.auth: must be `connection-string` or `basic`"),
            "{m}"
        );
        let m = err(&with("host = \"db.example.com\"", "host = \"db example\""));
        assert!(
            m.contains("connections.orders-db.host: must not contain spaces"),
            "{m}"
        );
    }

    #[test]
    fn pipeline_references() {
        let m = err(&with("connection = \"orders-db\"", "connection = \"nope\""));
        assert_eq!(
            m,
            "aep-flow.toml:17: pipelines[0].connection: names no [connections.NAME] of this file"
        );
        let m = err(&with("[\"dev\"]", "[\"stage\"]"));
        assert!(
            m.starts_with("aep-flow.toml:23: pipelines[0].sandboxes: names a sandbox not declared"),
            "{m}"
        );
        let m = err(&with("[\"dev\"]", "[]"));
        assert!(m.contains("must name at least one sandbox"), "{m}");
        let m = err(&with("[\"dev\"]", "[\"dev\", \"dev\"]"));
        assert!(m.contains("names sandbox dev twice"), "{m}");
        let m = err(&with("[\"dev\"]", "\"dev\""));
        assert!(m.contains("must be an array of sandbox names"), "{m}");
    }

    #[test]
    fn duplicate_pipelines_in_a_sandbox_name_both_lines() {
        let text = with(
            "table = 'sales.\"Ünïcode.tab\"'",
            "table = \"public.orders\"",
        )
        .replace("dataset = \"Sales \\\"2026\\\"\"", "dataset = \"Orders\"");
        let m = err(&text);
        assert_eq!(
            m,
            "aep-flow.toml:27: pipelines[1]: declares the same (connection, table, dataset) as pipelines[0] (line 16) in sandbox dev"
        );
        // In different sandboxes: fine.
        let ok = text.replace("enabled = false", "enabled = false\nsandboxes = [\"prod\"]");
        load_str(&ok).unwrap();
    }

    #[test]
    fn schedule_rules() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "frequency = \"hour\"",
                "frequency = \"monthly\"",
                "pipelines[0].schedule.frequency: must be one of once",
            ),
            (
                "frequency = \"hour\"",
                "frequency = \"HOUR\"",
                "pipelines[0].schedule.frequency: must be one of once",
            ),
            (
                "frequency = \"hour\", interval = 2",
                "frequency = \"minute\", interval = 10",
                "pipelines[0].schedule.interval: must be at least 15 for frequency minute",
            ),
            (
                "interval = 2",
                "interval = 0",
                "pipelines[0].schedule.interval: must be at least 1 for frequency hour",
            ),
            (
                "interval = 2",
                "interval = 2147483648",
                "must be at most 2147483647",
            ),
            (
                "interval = 2",
                "interval = 2.5",
                "must be an integer, not a float",
            ),
            (
                "\"2026-12-01T00:00:00Z\"",
                "\"2026-12-01T00:00:00\"",
                "needs a time zone",
            ),
            (
                "\"2026-12-01T00:00:00Z\"",
                "2026-12-01T00:00:00",
                "needs a time zone",
            ),
            (
                "\"2026-12-01T00:00:00Z\"",
                "1764547200",
                "must be an ISO 8601 UTC time (a string or a TOML date-time), not an integer",
            ),
            (
                "\"2026-12-01T00:00:00Z\"",
                "\"2026-13-01T00:00:00Z\"",
                "month that does not exist",
            ),
            (
                "\"2026-12-01T00:00:00Z\"",
                "\"2026-12-01T24:00:00Z\"",
                "time that does not exist",
            ),
            (
                "start = \"2026-12-01T00:00:00Z\", ",
                "",
                "pipelines[0].schedule.start: is required",
            ),
            (
                "frequency = \"once\", ",
                "frequency = \"once\", interval = 1, ",
                "pipelines[1].schedule.interval: is not taken with frequency once",
            ),
            (
                "frequency = \"once\", ",
                "frequency = \"once\", backfill = true, ",
                "pipelines[1].schedule.backfill: is not taken with frequency once",
            ),
            (
                "schedule = { frequency = \"once\", start = 2026-12-01T01:00:00+01:00 }\n",
                "",
                "pipelines[1].schedule: is required",
            ),
            (
                "schedule = { frequency = \"once\"",
                "schedule = { every = \"once\", frequency = \"once\"",
                "pipelines[1].schedule.every: unknown key",
            ),
        ];
        for (from, to, want) in cases {
            let m = err(&with(from, to));
            assert!(m.contains(want), "{to}: {m}");
        }
        // The line of the key in error.
        let m = err(&with("interval = 2", "interval = 0"));
        assert!(m.starts_with("aep-flow.toml:21: "), "{m}");
    }

    #[test]
    fn mapping_rules() {
        let m = err(&with(
            "amount = \"_tenant.amount\"",
            "amount = \"_tenant.orderId\"",
        ));
        assert!(
            m.contains("pipelines[0].mappings.amount: maps to the same destination as id"),
            "{m}"
        );
        let m = err(&with(
            "mappings = { id = \"_tenant.orderId\", amount = \"_tenant.amount\" }",
            "mappings = {}",
        ));
        assert!(
            m.contains("pipelines[0].mappings: must map at least one column"),
            "{m}"
        );
        let m = err(&with("amount = \"_tenant.amount\"", "amount = 3"));
        assert!(
            m.contains(
                "pipelines[0].mappings.amount: must be an XDM path (a string), not an integer"
            ),
            "{m}"
        );
        let m = err(&with("amount = \"_tenant.amount\"", "amount = \"\""));
        assert!(m.contains("must be a non-empty XDM path"), "{m}");
        let m = err(&with("mappings = { id", "mapping = { id"));
        assert!(m.contains("pipelines[0].mapping: unknown key"), "{m}");
        // Odd column names are kept exact.
        let p = load_str(&with(
            "{ id = ",
            "{ \"we.ird \\\"col\\\"\" = \"_tenant.w\", id = ",
        ))
        .unwrap();
        assert_eq!(p.pipelines[0].mappings[0].0, "we.ird \"col\"");
    }

    #[test]
    fn check_keys() {
        for bad in [
            "0m",
            "",
            "m",
            "30",
            "1h1h",
            "30x",
            "-1h",
            "1.5h",
            "99999999999999h",
        ] {
            let m = err(&with("\"1h30m\"", &format!("\"{bad}\"")));
            assert!(
                m.starts_with("aep-flow.toml:24: pipelines[0].max_age: must be a duration"),
                "{bad}: {m}"
            );
        }
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(
            parse_duration("1w2d3h4m5s"),
            Some(Duration::from_secs(604_800 + 2 * 86_400 + 3 * 3600 + 245))
        );
        let m = err(&with("max_failed_records = 5", "max_failed_records = -1"));
        assert_eq!(
            m,
            "aep-flow.toml:25: pipelines[0].max_failed_records: must be 0 or more"
        );
    }

    #[test]
    fn utc_times() {
        assert_eq!(parse_utc("1970-01-01T00:00:01Z"), Ok(1));
        assert_eq!(parse_utc("2026-12-01T00:00:00Z"), Ok(1_796_083_200));
        assert_eq!(parse_utc("2026-12-01T00:00Z"), Ok(1_796_083_200));
        assert_eq!(parse_utc("2026-12-01 00:00:00z"), Ok(1_796_083_200));
        assert_eq!(parse_utc("2026-12-01T00:00:00.000Z"), Ok(1_796_083_200));
        assert_eq!(parse_utc("2026-12-01T05:30:00+05:30"), Ok(1_796_083_200));
        assert_eq!(parse_utc("2026-11-30T19:00:00-05:00"), Ok(1_796_083_200));
        assert_eq!(parse_utc("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
        assert_eq!(parse_utc("2000-02-29T12:00:00Z"), Ok(951_825_600));
        assert_eq!(parse_utc("9999-12-31T23:59:59Z"), Ok(253_402_300_799));
        for bad in [
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-13-10T00:00:00Z",
            "2026-12-00T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T23:60:00Z",
            "2026-12-01T23:59:60Z",
            "2026-12-01T00:00:00",
            "2026-12-01",
            "2026-12-01T00:00:00.5Z",
            "2026-12-01T00:00:00+24:00",
            "2026-12-01T00:00:00+0100",
            "2026-12-01T00:00:00ZZ",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:00:00Z",
            "26-12-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "２026-12-01T00:00:00Z",
            "",
        ] {
            assert!(parse_utc(bad).is_err(), "{bad}");
        }
        for t in [
            1,
            951_825_600,
            1_709_164_800,
            1_796_083_200,
            253_402_300_799,
        ] {
            assert_eq!(parse_utc(&format_utc(t)), Ok(t));
        }
    }

    #[test]
    fn hostile_bytes() {
        // BOM and CRLF are fine; lines still count.
        let crlf = format!("\u{FEFF}{}", GOOD.replace('\n', "\r\n"));
        let p = load_str(&crlf).unwrap();
        assert_eq!(p.pipelines[0].line, 16);
        let m = err(&crlf.replace("port = 5433", "port = 0"));
        assert!(m.starts_with("aep-flow.toml:10: "), "{m}");
        // Invalid UTF-8: the line, never the byte.
        let mut bytes = GOOD.as_bytes().to_vec();
        let at = GOOD.find("etl_reader").unwrap();
        bytes[at] = 0xff;
        let Err(Usage(m)) = parse(Path::new("aep-flow.toml"), &bytes) else {
            panic!()
        };
        assert_eq!(m, "aep-flow.toml:12: the file is not valid UTF-8");
        // NUL bytes are not TOML.
        let m = err(&with("etl_reader", "etl\0reader"));
        assert!(m.starts_with("aep-flow.toml:12: not valid TOML: "), "{m}");
        assert!(!m.contains('\0'));
        let m = err("project = \"p\"\nproject = \"q\"\n");
        assert!(m.starts_with("aep-flow.toml:2: not valid TOML"), "{m}");
        let m = err("");
        assert!(
            m.starts_with("aep-flow.toml:1: project: is required"),
            "{m}"
        );
    }

    #[test]
    fn other_shapes() {
        let m = err("project = \"p\"\nsandboxes = { prod = \"AEP\" }\n");
        assert_eq!(
            m,
            "aep-flow.toml:2: sandboxes.prod: must be a table, not a string"
        );
        let m = err(&with("[connections.orders-db]", "[connections.\"\"]"));
        assert!(
            m.contains("connections.\"\": a connection name must not be empty"),
            "{m}"
        );
        // Dotted keys and inline pipelines are the same file.
        let p = load_str(
            "project = \"p\"\nsandboxes.dev.credentials = \"D\"\n\
             connections.db = { host = \"h\", database = \"d\", user = \"u\", password_env = \"P\" }\n\
             pipelines = [\n  { connection = \"db\", table = \"t\", dataset = \"D\", delta_column = \"c\", \
             schedule = { frequency = \"day\", start = \"2026-12-01T00:00:00Z\" }, mappings = { a = \"_t.a\" } },\n]\n",
        )
        .unwrap();
        assert_eq!(p.sandboxes[0].at.line, 2);
        assert_eq!(p.pipelines[0].line, 5);
        assert_eq!(p.pipelines[0].at("table").line, 5);
        let m = err("project = \"p\"\nsandboxes.dev.credentials = \"D\"\npipelines = [1]\n");
        assert_eq!(
            m,
            "aep-flow.toml:3: pipelines[0]: must be a table ([[pipelines]])"
        );
    }

    #[test]
    fn paths_are_shown_escaped() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let show = |b: &[u8]| show_path(Path::new(OsStr::from_bytes(b)));
        assert_eq!(show(b"dir/aep-flow.toml"), "dir/aep-flow.toml");
        assert_eq!(show("ünï \"q\" \\.toml".as_bytes()), "ünï \"q\" \\.toml");
        assert_eq!(
            show(b"a.toml\nerror: forged\r\t\x1b[31m"),
            "\"a.toml\\nerror: forged\\r\\t\\u{1b}[31m\""
        );
        assert_eq!(show(b"a\xff\xfeb\"\\\n"), "\"a\\xFF\\xFEb\\\"\\\\\\n\"");
        assert_eq!(
            show("x\u{202E}lmth.toml\u{200B}".as_bytes()),
            "\"x\\u{202e}lmth.toml\\u{200b}\""
        );
        // Every message of the reader uses it.
        let Err(Usage(m)) = parse(Path::new(OsStr::from_bytes(b"f\n\xff.toml")), b"x") else {
            panic!()
        };
        assert!(m.starts_with("\"f\\n\\xFF.toml\":1: not valid TOML"), "{m}");
        assert_eq!(m.lines().count(), 1);
        let mut p = load_str(GOOD).unwrap();
        p.file = PathBuf::from(OsStr::from_bytes(b"e\x1b]0;x\x07.toml"));
        let Usage(m) = p.error_at(&p.sandboxes[0].at, "rule");
        assert_eq!(m, "\"e\\u{1b}]0;x\\u{7}.toml\":3: sandboxes.dev: rule");
    }

    #[test]
    fn password_env_is_a_shell_name_and_never_echoed() {
        for bad in [
            "orders_db_password",
            "Orders_Pw",
            "9PW",
            "PW-1",
            "PW 1",
            "pw-Canary-31!",
            "Tr0ub4dor&3",
            "PWÉ",
        ] {
            let m = err(&with("\"ORDERS_DB_PASSWORD\"", &toml_string_for_test(bad)));
            assert_eq!(
                m,
                "aep-flow.toml:13: connections.orders-db.password_env: must name an environment \
                 variable, [A-Z_][A-Z0-9_]* (uppercase letters, digits and `_`, not starting with a \
                 digit, at most 128): the variable that holds the password, never the password \
                 (the value is not shown)"
            );
        }
        for ok in ["_PW", "PW_9", "A", &"A".repeat(128)] {
            let p = load_str(&with("\"ORDERS_DB_PASSWORD\"", &format!("\"{ok}\""))).unwrap();
            assert_eq!(p.connections[0].password_env, ok);
        }
        let m = err(&with(
            "\"ORDERS_DB_PASSWORD\"",
            &format!("\"{}\"", "A".repeat(129)),
        ));
        assert!(
            m.contains("password_env: must name an environment variable"),
            "{m}"
        );
        // Password-like keys: refused, the value never read.
        for key in [
            "pass",
            "Pass",
            "passwd",
            "pw",
            "pwd",
            "db-pass",
            "passphrase",
            "credentials",
        ] {
            let m = err(&with(
                "user = \"etl_reader\"",
                &format!("user = \"etl_reader\"\n{key} = \"Canary-pw-3141\""),
            ));
            assert_eq!(
                m,
                format!("aep-flow.toml:13: connections.orders-db.{key}: passwords come from the environment: use password_env")
            );
        }
    }

    /// `s` as a TOML basic string (tests only).
    fn toml_string_for_test(s: &str) -> String {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }

    #[test]
    fn names_are_refused_with_their_rule() {
        let cases: &[(&str, &str, &str)] = &[
            ("[connections.orders-db]", "[connections.\" orders-db\"]", "aep-flow.toml:8: connections.\" orders-db\": a connection name must not begin or end with white space"),
            ("[connections.orders-db]", "[connections.\"orders-db\\t\"]", "aep-flow.toml:8: connections.\"orders-db\\t\": a connection name must not contain control characters"),
            ("[connections.orders-db]", "[connections.\"orders\\u200Bdb\"]", "a connection name must not contain control characters or invisible formatting"),
            ("table = \"public.orders\"", "table = \"public.orders \"", "aep-flow.toml:18: pipelines[0].table: must not begin or end with white space"),
            ("table = \"public.orders\"", "table = \"\\u00A0public.orders\"", "aep-flow.toml:18: pipelines[0].table: must not begin or end with white space"),
            ("table = \"public.orders\"", "table = \"public.\\u202Eorders\"", "pipelines[0].table: must not contain control characters or invisible"),
            ("dataset = \"Orders\"", "dataset = \" Orders\"", "aep-flow.toml:19: pipelines[0].dataset: must not begin or end with white space"),
            ("dataset = \"Orders\"", "dataset = \"Orders\\n\"", "aep-flow.toml:19: pipelines[0].dataset: must not contain control"),
            ("dataset = \"Orders\"", "dataset = \"   \"", "pipelines[0].dataset: must not begin or end with white space"),
            ("dataset = \"Orders\"", "dataset = \"\"", "aep-flow.toml:19: pipelines[0].dataset: must not be empty"),
            ("[sandboxes.dev]", "[sandboxes.\" dev\"]", "sandboxes.\" dev\": a sandbox name is"),
            ("[sandboxes.dev]", "[sandboxes.\"dev\\n\"]", "sandboxes.\"dev\\n\": a sandbox name is"),
        ];
        for (from, to, want) in cases {
            let m = err(&with(from, to));
            assert!(m.contains(want), "{to}: {m}");
            assert_eq!(m.lines().count(), 1, "{m}");
        }
        // Spaces, dots, quotes and letters inside a name: taken as written.
        let p = load_str(
            &with(
                "[connections.orders-db]",
                "[connections.\"Orders DB.eu \\\"ü\\\"\"]",
            )
            .replace(
                "connection = \"orders-db\"",
                "connection = \"Orders DB.eu \\\"ü\\\"\"",
            )
            .replace(
                "dataset = \"Orders\"",
                "dataset = \"Ordérs  (v2) \\\"x\\\"\"",
            ),
        )
        .unwrap();
        assert_eq!(p.connections[0].name, "Orders DB.eu \"ü\"");
        assert_eq!(p.pipelines[0].dataset, "Ordérs  (v2) \"x\"");
    }

    #[test]
    fn two_pipelines_into_one_dataset_in_a_sandbox_are_refused() {
        // Another table into pipelines[1]'s dataset, in every sandbox.
        let text = with("table = \"public.orders\"", "table = \"public.orders\"")
            .replace("dataset = \"Orders\"", "dataset = \"Sales \\\"2026\\\"\"")
            .replace("sandboxes = [\"dev\"]\n", "");
        let m = err(&text);
        assert_eq!(
            m,
            "aep-flow.toml:26: pipelines[1]: writes into the same dataset as pipelines[0] \
             (line 16) in sandbox dev: a dataset takes one dataflow (its target connection and \
             flow are found by the dataset), so the two would overwrite each other; use another \
             dataset, or `sandboxes` to keep them apart"
        );
        // One in dev, the other in prod: fine.
        let apart = text.replace("enabled = false", "enabled = false\nsandboxes = [\"prod\"]");
        let apart = apart.replacen("max_age", "sandboxes = [\"dev\"]\nmax_age", 1);
        let p = load_str(&apart).unwrap();
        assert_eq!(p.pipelines_in("dev").count(), 1);
        assert_eq!(p.pipelines_in("prod").count(), 1);
        // The second in both sandboxes: the first sandbox they share is named.
        let m = err(&text.replacen("max_age", "sandboxes = [\"prod\"]\nmax_age", 1));
        assert!(m.contains("pipelines[0] (line 16) in sandbox prod"), "{m}");
    }

    #[test]
    fn truncated_files_are_named_by_line() {
        for (text, line) in [
            (
                GOOD.replace(
                    "\n[[pipelines]]\nconnection = \"orders-db\"\ntable = 'sales",
                    "\n[[pipelines",
                ),
                27,
            ),
            (
                GOOD[..GOOD.find("backfill = false").unwrap()].to_owned(),
                21,
            ),
            (
                GOOD[..GOOD.find("\"db.example.com\"").unwrap() + 5].to_owned(),
                9,
            ),
            ("project = \"p\"\n[sandboxes.dev".to_owned(), 2),
            ("project = \"p\"\n[[".to_owned(), 2),
        ] {
            let m = err(&text);
            assert!(
                m.starts_with(&format!("aep-flow.toml:{line}: not valid TOML: ")),
                "{m}\n{text}"
            );
            assert_eq!(m.lines().count(), 1, "{m}");
        }
        // Cut at a line's end: what is there is checked, the missing keys named.
        let cut = &GOOD[..GOOD.find("mappings = { id").unwrap()];
        let m = err(cut);
        assert_eq!(
            m,
            "aep-flow.toml:16: pipelines[0].mappings: is required ({ column = \"xdm.path\", ... })"
        );
        // Every byte boundary of the file: an answer, never a panic.
        for end in 0..GOOD.len() {
            if GOOD.is_char_boundary(end) {
                let _ = load_str(&GOOD[..end]);
            }
            let _ = parse(Path::new("x"), &GOOD.as_bytes()[..end]);
        }
    }

    #[test]
    fn files() {
        let dir = std::env::temp_dir().join(format!("aep-flow-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("nope.toml");
        let Err(Usage(m)) = load(&missing) else {
            panic!()
        };
        assert_eq!(
            m,
            format!("{}: cannot be read: no such file", missing.display())
        );
        let Err(Usage(m)) = load(&dir) else { panic!() };
        assert_eq!(
            m,
            format!(
                "{}: is a directory, not a regular file (-f names the declarative file)",
                dir.display()
            )
        );
        // A device: refused by its type, not read (`/dev/zero` never ends).
        for device in ["/dev/null", "/dev/zero"] {
            let Err(Usage(m)) = load(Path::new(device)) else {
                panic!()
            };
            assert_eq!(
                m,
                format!(
                    "{device}: is a device, not a regular file (-f names the declarative file)"
                )
            );
        }
        // A FIFO nobody writes into: refused at once, never opened (opening
        // it would block). Run in a thread so that a regression fails
        // instead of hanging.
        let fifo = dir.join("fifo.toml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(load(&path).err().map(|Usage(m)| m));
        });
        let m = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("load blocked on a FIFO")
            .expect("a FIFO was accepted");
        assert_eq!(
            m,
            format!(
                "{}: is a FIFO (named pipe), not a regular file (-f names the declarative file)",
                fifo.display()
            )
        );
        // A link to a regular file is the file.
        let link = dir.join("link.toml");
        let good0 = dir.join("good0.toml");
        std::fs::write(&good0, GOOD).unwrap();
        std::os::unix::fs::symlink(&good0, &link).unwrap();
        load(&link).map_err(|Usage(m)| m).unwrap();
        let huge = dir.join("huge.toml");
        let mut text = GOOD.to_owned();
        while text.len() as u64 <= MAX_FILE_BYTES {
            text.push_str(&"# padding padding padding padding padding padding\n".repeat(1000));
        }
        std::fs::write(&huge, &text).unwrap();
        let Err(Usage(m)) = load(&huge) else { panic!() };
        assert!(m.contains("is larger than 4 MiB"), "{m}");
        let good = dir.join("good.toml");
        std::fs::write(&good, GOOD).unwrap();
        let p = load(&good).map_err(|Usage(m)| m).unwrap();
        assert_eq!(p.file, good);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
