//! What the command prints: standard output line by line, the exit code,
//! and the JSON shape of every answer.
//!
//! The shapes are the command's own (the library's models do not
//! serialize): each struct below fixes the keys, their order and how a
//! missing value is written, so that scripts can rely on them.

use std::io::{self, Write};
use std::process::ExitCode;

use aep_flow::{
    Column, Connection, Ensured, PipelineOutcome, PipelinePlan, Run, Saved, Table, TablePreview,
    TableSchema,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::demo;
use crate::env::Failure;

/// One JSON line; serializing these shapes cannot fail (no map with
/// non-string keys), but if it did it would be exit 1, never a panic.
pub fn to_json(value: &impl Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure(1, format!("error: {e}")))
}

/// `{"id","etag"}`: create, rotate-password, enable, disable.
#[derive(Serialize)]
pub struct SavedLine<'a> {
    id: &'a str,
    etag: &'a str,
}

impl<'a, I: AsRef<str>> From<&'a Saved<I>> for SavedLine<'a> {
    fn from(s: &'a Saved<I>) -> Self {
        SavedLine {
            id: s.id.as_ref(),
            etag: &s.etag,
        }
    }
}

/// `{"id","etag","created"}`: connections ensure.
#[derive(Serialize)]
pub struct EnsuredLine<'a> {
    id: &'a str,
    etag: &'a str,
    created: bool,
}

impl<'a, I: AsRef<str>> From<&'a Ensured<I>> for EnsuredLine<'a> {
    fn from(e: &'a Ensured<I>) -> Self {
        EnsuredLine {
            id: e.id().as_ref(),
            etag: e.etag(),
            created: e.created,
        }
    }
}

/// One line of `connections list`: `{"id","name","state","etag"}`.
#[derive(Serialize)]
pub struct ConnectionSummary<'a> {
    id: &'a str,
    name: &'a str,
    state: Option<&'a str>,
    etag: &'a str,
}

impl<'a> From<&'a Connection> for ConnectionSummary<'a> {
    fn from(c: &'a Connection) -> Self {
        ConnectionSummary {
            id: &c.id,
            name: &c.name,
            state: c.state.as_deref(),
            etag: &c.etag,
        }
    }
}

/// `connections get ID`: the connection with the keys in camelCase, as the
/// service writes them: `{"id","name","description","state","etag",
/// "connectionSpecId","authSpecName","createdAt","updatedAt"}`. A
/// `Connection` holds no auth parameter by construction.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionLine<'a> {
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    state: Option<&'a str>,
    etag: &'a str,
    connection_spec_id: Option<&'a str>,
    auth_spec_name: Option<&'a str>,
    created_at: Option<i64>,
    updated_at: Option<i64>,
}

impl<'a> From<&'a Connection> for ConnectionLine<'a> {
    fn from(c: &'a Connection) -> Self {
        ConnectionLine {
            id: &c.id,
            name: &c.name,
            description: c.description.as_deref(),
            state: c.state.as_deref(),
            etag: &c.etag,
            connection_spec_id: c.connection_spec_id.as_deref(),
            auth_spec_name: c.auth_spec_name.as_deref(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One line of `connections explore ID`:
/// `{"name","path","type","canPreview","canFetchSchema"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableLine<'a> {
    name: &'a str,
    path: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    can_preview: bool,
    can_fetch_schema: bool,
}

impl<'a> From<&'a Table> for TableLine<'a> {
    fn from(t: &'a Table) -> Self {
        TableLine {
            name: &t.name,
            path: &t.path,
            kind: &t.kind,
            can_preview: t.can_preview,
            can_fetch_schema: t.can_fetch_schema,
        }
    }
}

/// A column as explore answers it: `{"name","type"[,"meta:xdmType"][,"xdm"]}`,
/// `xdm` as `{["type"][,"format"]}`.
#[derive(Serialize)]
struct ColumnLine<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    type_name: &'a str,
    #[serde(rename = "meta:xdmType", skip_serializing_if = "Option::is_none")]
    meta_xdm_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    xdm: Option<XdmLine<'a>>,
}

#[derive(Serialize)]
struct XdmLine<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a str>,
}

fn columns(columns: &[Column]) -> Vec<ColumnLine<'_>> {
    columns
        .iter()
        .map(|c| ColumnLine {
            name: &c.name,
            type_name: &c.type_name,
            meta_xdm_type: c.meta_xdm_type.as_deref(),
            xdm: c.xdm.as_ref().map(|x| XdmLine {
                kind: x.kind.as_deref(),
                format: x.format.as_deref(),
            }),
        })
        .collect()
}

/// `connections explore ID --table PATH [--preview]`:
/// `{"path","columns"[,"rows"]}`.
#[derive(Serialize)]
pub struct TableColumns<'a> {
    path: &'a str,
    columns: Vec<ColumnLine<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<&'a [Map<String, Value>]>,
}

impl<'a> From<&'a TableSchema> for TableColumns<'a> {
    fn from(s: &'a TableSchema) -> Self {
        TableColumns {
            path: &s.path,
            columns: columns(&s.columns),
            rows: None,
        }
    }
}

impl<'a> From<&'a TablePreview> for TableColumns<'a> {
    fn from(p: &'a TablePreview) -> Self {
        TableColumns {
            path: &p.path,
            columns: columns(&p.columns),
            rows: Some(&p.rows),
        }
    }
}

/// A run as `pipeline status` and `pipeline runs` print it, times in ISO
/// 8601 UTC: `{"id","status","startedAt","completedAt","inputRecords",
/// "outputRecords","failedRecords"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunLine<'a> {
    id: &'a str,
    status: &'a str,
    started_at: Option<String>,
    completed_at: Option<String>,
    input_records: Option<u64>,
    output_records: Option<u64>,
    failed_records: Option<u64>,
}

impl<'a> From<&'a Run> for RunLine<'a> {
    fn from(r: &'a Run) -> Self {
        RunLine {
            id: &r.id,
            status: r.status.as_str(),
            started_at: r.started_at.map(iso),
            completed_at: r.completed_at.map(iso),
            input_records: r.input_records,
            output_records: r.output_records,
            failed_records: r.failed_records,
        }
    }
}

/// `pipeline status`: `{"flowId","state","lastRun"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusLine<'a> {
    pub flow_id: &'a str,
    pub state: &'a str,
    pub last_run: Option<RunLine<'a>>,
}

/// `pipeline ensure`: `{"flowId","sourceConnectionId","targetConnectionId",
/// "mappingSetId","changed","planned"[,"duplicates"][,"warnings"]}`, the
/// changes as `created flow`, `updated flow.schedule`...
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeLine<'a> {
    flow_id: Option<&'a str>,
    source_connection_id: Option<&'a str>,
    target_connection_id: Option<&'a str>,
    mapping_set_id: Option<&'a str>,
    changed: Vec<&'static str>,
    /// `true` for `--plan`: nothing was written, `changed` is what would
    /// be, and the ids are those of what exists.
    planned: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    duplicates: Vec<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

impl<'a> From<&'a PipelineOutcome> for OutcomeLine<'a> {
    fn from(o: &'a PipelineOutcome) -> Self {
        OutcomeLine {
            flow_id: Some(&o.flow_id),
            source_connection_id: Some(&o.source_connection_id),
            target_connection_id: Some(&o.target_connection_id),
            mapping_set_id: Some(&o.mapping_set_id),
            changed: o.changes.iter().map(|c| c.as_str()).collect(),
            planned: false,
            duplicates: o.duplicates.iter().map(|d| d.as_str()).collect(),
            warnings: &o.warnings,
        }
    }
}

impl<'a> From<&'a PipelinePlan> for OutcomeLine<'a> {
    fn from(p: &'a PipelinePlan) -> Self {
        OutcomeLine {
            flow_id: p.flow_id().map(|i| i.as_str()),
            source_connection_id: p.source_connection.id().map(|i| i.as_str()),
            target_connection_id: p.target_connection.id().map(|i| i.as_str()),
            mapping_set_id: p.mapping_set_id().map(|i| i.as_str()),
            changed: p.changes().iter().map(|c| c.as_str()).collect(),
            planned: true,
            duplicates: p.duplicates.iter().map(|d| d.as_str()).collect(),
            warnings: &p.warnings,
        }
    }
}

/// Epoch milliseconds as ISO 8601 UTC (`2026-11-27T13:51:25Z`).
pub fn iso(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Standard output, written line by line. A reader that went away (EPIPE,
/// as in `| head -1`) is exit 1: what the command printed did not all
/// arrive, and a script must not take it for a whole answer.
pub struct Output(io::StdoutLock<'static>);

impl Output {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Output(io::stdout().lock())
    }

    pub fn line(&mut self, line: &str) -> Result<(), Failure> {
        writeln!(self.0, "{line}").map_err(write_failure)
    }

    fn flush(&mut self) -> Result<(), Failure> {
        self.0.flush().map_err(write_failure)
    }
}

fn write_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure(
            1,
            "error: standard output was closed (its reader went away) before the output was \
             written"
                .into(),
        )
    } else {
        Failure(1, format!("error: could not write the output: {e}"))
    }
}

/// Turns the outcome into the process's exit code, the message (if any)
/// on stderr. A demo whose state file could not be saved is exit 1 (its
/// changes are lost), even when the command itself succeeded.
pub fn finish(result: Result<(), Failure>, mut out: Output) -> ExitCode {
    let result = result.and_then(|()| out.flush());
    let save_failure = demo::take_save_failure();
    let result = match (result, save_failure) {
        (result, None) => result,
        (result, Some(failure)) => {
            let lost = format!(
                "error: --demo: {failure}; what this command changed is lost (the next demo \
                 command will not see it): free some space or fix the file's permissions, or \
                 point {} elsewhere, and run it again",
                demo::DEMO_STATE_VAR
            );
            match result {
                Ok(()) => Err(Failure(1, lost)),
                Err(Failure(code, m)) if m.is_empty() => Err(Failure(code.max(1), lost)),
                Err(Failure(code, m)) => Err(Failure(code.max(1), format!("{m}\n{lost}"))),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, message)) => {
            let _ = out.flush();
            if !message.is_empty() {
                let _ = writeln!(io::stderr(), "{message}");
            }
            ExitCode::from(code)
        }
    }
}
