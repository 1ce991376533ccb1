//! Typed views of what the fake holds, for tests to inspect: each keeps
//! the fields tests look at, and the whole object as the service shows it
//! behind `raw()`.

use serde_json::Value;

fn text(v: &Value, path: &[&str]) -> String {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn number(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_i64)
}

fn texts(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A flow as the fake holds it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FlowView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `enabled` or `disabled`.
    pub state: String,
    /// Its etag (with the quotes).
    pub etag: String,
    /// Creation time, epoch milliseconds.
    pub created_at: Option<i64>,
    /// Its flow spec's id.
    pub flow_spec_id: String,
    /// `sourceConnectionIds`.
    pub source_connection_ids: Vec<String>,
    /// `targetConnectionIds`.
    pub target_connection_ids: Vec<String>,
    /// The mapping transformations' `(mappingId, mappingVersion)`.
    pub mappings: Vec<(String, i64)>,
    /// `scheduleParams.interval`.
    pub schedule_interval: Option<i64>,
    /// `scheduleParams.frequency`.
    pub schedule_frequency: String,
    /// `scheduleParams.startTime` (epoch seconds).
    pub schedule_start_time: Option<i64>,
    raw: Value,
}

impl FlowView {
    pub(crate) fn from_json(raw: Value) -> Self {
        let mappings = raw["transformations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["name"] == "Mapping")
            .map(|t| {
                let p = &t["params"];
                (
                    text(p, &["mappingId"]),
                    number(p, &["mappingVersion"]).unwrap_or(-1),
                )
            })
            .collect();
        FlowView {
            id: text(&raw, &["id"]),
            name: text(&raw, &["name"]),
            state: text(&raw, &["state"]),
            etag: text(&raw, &["etag"]),
            created_at: number(&raw, &["createdAt"]),
            flow_spec_id: text(&raw, &["flowSpec", "id"]),
            source_connection_ids: texts(&raw, "sourceConnectionIds"),
            target_connection_ids: texts(&raw, "targetConnectionIds"),
            mappings,
            schedule_interval: number(&raw, &["scheduleParams", "interval"]),
            schedule_frequency: text(&raw, &["scheduleParams", "frequency"]),
            schedule_start_time: number(&raw, &["scheduleParams", "startTime"]),
            raw,
        }
    }

    /// The flow as the service shows it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}

/// A flow run as the fake holds it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RunView {
    /// Its id.
    pub id: String,
    /// Its etag (with the quotes).
    pub etag: String,
    /// The flow it is a run of.
    pub flow_id: String,
    /// Creation time, epoch milliseconds.
    pub created_at: Option<i64>,
    /// `metrics.statusSummary.status` (`success`, `failed`...).
    pub status: String,
    /// `metrics.recordSummary.inputRecordCount`.
    pub input_records: Option<i64>,
    /// `metrics.recordSummary.outputRecordCount`.
    pub output_records: Option<i64>,
    /// `metrics.recordSummary.failedRecordCount`.
    pub failed_records: Option<i64>,
    raw: Value,
}

impl RunView {
    pub(crate) fn from_json(raw: Value) -> Self {
        let records = |k: &str| number(&raw, &["metrics", "recordSummary", k]);
        RunView {
            id: text(&raw, &["id"]),
            etag: text(&raw, &["etag"]),
            flow_id: text(&raw, &["flowId"]),
            created_at: number(&raw, &["createdAt"]),
            status: text(&raw, &["metrics", "statusSummary", "status"]),
            input_records: records("inputRecordCount"),
            output_records: records("outputRecordCount"),
            failed_records: records("failedRecordCount"),
            raw,
        }
    }

    /// The run as the service shows it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}

/// A source connection as the fake holds it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SourceConnectionView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its etag (with the quotes).
    pub etag: String,
    /// The base connection it reads through.
    pub base_connection_id: String,
    /// `params.tableName`.
    pub table_name: String,
    /// Its connection spec id.
    pub connection_spec_id: String,
    raw: Value,
}

impl SourceConnectionView {
    pub(crate) fn from_json(raw: Value) -> Self {
        SourceConnectionView {
            id: text(&raw, &["id"]),
            name: text(&raw, &["name"]),
            etag: text(&raw, &["etag"]),
            base_connection_id: text(&raw, &["baseConnectionId"]),
            table_name: text(&raw, &["params", "tableName"]),
            connection_spec_id: text(&raw, &["connectionSpec", "id"]),
            raw,
        }
    }

    /// The source connection as the service shows it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}

/// A target connection as the fake holds it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TargetConnectionView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its etag (with the quotes).
    pub etag: String,
    /// `params.dataSetId`.
    pub dataset_id: String,
    /// `data.schema.id`.
    pub schema_id: String,
    /// `data.schema.version`.
    pub schema_version: String,
    /// `data.format`.
    pub format: String,
    raw: Value,
}

impl TargetConnectionView {
    pub(crate) fn from_json(raw: Value) -> Self {
        TargetConnectionView {
            id: text(&raw, &["id"]),
            name: text(&raw, &["name"]),
            etag: text(&raw, &["etag"]),
            dataset_id: text(&raw, &["params", "dataSetId"]),
            schema_id: text(&raw, &["data", "schema", "id"]),
            schema_version: text(&raw, &["data", "schema", "version"]),
            format: text(&raw, &["data", "format"]),
            raw,
        }
    }

    /// The target connection as the service shows it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}

/// A mapping set, at its latest version, as the fake holds it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MappingSetView {
    /// Its id.
    pub id: String,
    /// Its latest version (0 for the first).
    pub version: i64,
    /// `outputSchema.schemaRef.id`.
    pub schema_id: String,
    /// The mappings, `(source, destination)`, in order.
    pub mappings: Vec<(String, String)>,
    raw: Value,
}

impl MappingSetView {
    pub(crate) fn from_json(raw: Value) -> Self {
        let mappings = raw["mappings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| (text(m, &["source"]), text(m, &["destination"])))
            .collect();
        MappingSetView {
            id: text(&raw, &["id"]),
            version: number(&raw, &["version"]).unwrap_or(0),
            schema_id: text(&raw, &["outputSchema", "schemaRef", "id"]),
            mappings,
            raw,
        }
    }

    /// The mapping set as `GET /mappingSets/{id}` shows it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}
