//! The attachment options an outegration config embeds: format, columns,
//! file name pattern, the size limit and what a sync does when the findings
//! changed.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Issue;
use crate::mapping::labels;
use crate::model::Ticket;

/// Columns when the config names none, in this order.
pub const DEFAULT_COLUMNS: &[&str] = &[
    "Finding Severity",
    "Finding Title",
    "Finding CVE",
    "Component Name",
    "Asset Name",
    "Asset Operating System",
    "Finding Optimal Fix",
    "Finding Description",
    "Finding Sources",
];

/// File name when the config gives no pattern.
pub const DEFAULT_FILE_NAME: &str = "findings-{ticket_id}-{date}.{ext}";

/// Placeholders a file name pattern may use.
const PLACEHOLDERS: &[&str] = &["ticket_id", "date", "time", "ext"];

/// Longest file name we produce, in bytes (common file system limit).
const MAX_FILE_NAME: usize = 200;

/// File format of a findings attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentFormat {
    /// RFC 4180 CSV (UTF-8 with BOM, CRLF), formula-neutralised.
    Csv,
    /// One JSON object per finding and line.
    Jsonl,
    /// Excel workbook with typed cells, a header row and an autofilter.
    Xlsx,
    /// A readable report: ticket summary and a findings table.
    Pdf,
}

impl AttachmentFormat {
    pub fn extension(self) -> &'static str {
        match self {
            AttachmentFormat::Csv => "csv",
            AttachmentFormat::Jsonl => "jsonl",
            AttachmentFormat::Xlsx => "xlsx",
            AttachmentFormat::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            AttachmentFormat::Csv => "text/csv; charset=utf-8",
            AttachmentFormat::Jsonl => "application/x-ndjson",
            AttachmentFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            AttachmentFormat::Pdf => "application/pdf",
        }
    }
}

impl fmt::Display for AttachmentFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttachmentFormat::Csv => "CSV",
            AttachmentFormat::Jsonl => "JSONL",
            AttachmentFormat::Xlsx => "XLSX",
            AttachmentFormat::Pdf => "PDF",
        })
    }
}

/// What a sync does with the attachment when the findings changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnSync {
    /// Keep only the file attached at dispatch.
    Off,
    /// Attach a new version (its file name carries the date) next to the
    /// previous ones.
    #[default]
    Add,
    /// Attach a new version and remove the previous version's link.
    Replace,
}

/// One column of the findings table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Column {
    /// A finding field by label (`Finding Severity`, `Asset Name`) or system
    /// name (`severity`); the label is the column header.
    Label(String),
    /// A header of your own for a finding field (system name).
    Named {
        /// Column header.
        label: String,
        /// Finding field system name (`id` and `status` are the finding's own).
        field: String,
    },
}

impl Column {
    /// The header text.
    pub fn label(&self) -> &str {
        match self {
            Column::Label(label) | Column::Named { label, .. } => label,
        }
    }
}

/// A column with its field resolved to a system name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedColumn {
    pub label: String,
    pub field: String,
}

fn default_columns() -> Vec<Column> {
    DEFAULT_COLUMNS
        .iter()
        .map(|c| Column::Label((*c).to_string()))
        .collect()
}

fn default_file_name() -> String {
    DEFAULT_FILE_NAME.to_string()
}

/// A findings file attached to the work item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentOptions {
    /// File format: `csv`, `jsonl`, `xlsx` or `pdf`.
    pub format: AttachmentFormat,
    /// Columns, in order; findings are sorted by severity (Critical first).
    /// Default: Finding Severity, Finding Title, Finding CVE, Component Name,
    /// Asset Name, Asset Operating System, Finding Optimal Fix, Finding
    /// Description, Finding Sources.
    #[serde(default = "default_columns")]
    pub columns: Vec<Column>,
    /// File name pattern with `{ticket_id}`, `{date}` (YYYY-MM-DD, UTC),
    /// `{time}` (HHMMSS, UTC) and `{ext}`. Default:
    /// `findings-{ticket_id}-{date}.{ext}`.
    #[serde(default = "default_file_name")]
    pub file_name: String,
    /// When a sync finds the findings changed: `off` (attach nothing),
    /// `add` (attach a new version; the default) or `replace` (attach a new
    /// version and remove the link to the previous one).
    #[serde(default)]
    pub on_sync: OnSync,
    /// Largest file to upload, in bytes; larger files are refused before
    /// anything is sent. Default and maximum: 136314880 (130 MB, Azure
    /// DevOps' limit for a simple upload). Lower it for an Azure DevOps
    /// Server collection configured with a smaller limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

impl AttachmentOptions {
    /// Options with the default columns and file name.
    pub fn new(format: AttachmentFormat) -> Self {
        AttachmentOptions {
            format,
            columns: default_columns(),
            file_name: default_file_name(),
            on_sync: OnSync::Add,
            max_bytes: None,
        }
    }

    /// The size limit in force: `max_bytes`, never above
    /// [`super::ADO_ATTACHMENT_LIMIT`].
    pub fn limit(&self) -> usize {
        self.max_bytes.map_or(super::ADO_ATTACHMENT_LIMIT, |m| {
            usize::try_from(m)
                .unwrap_or(usize::MAX)
                .min(super::ADO_ATTACHMENT_LIMIT)
        })
    }

    /// Every problem, with its JSON path under `path`.
    pub fn validate(&self, path: &str) -> Vec<Issue> {
        let mut issues = Vec::new();
        if self.columns.is_empty() {
            issues.push(Issue::new(
                format!("{path}.columns"),
                "required",
                "name at least one column",
            ));
        }
        for (i, column) in self.columns.iter().enumerate() {
            let empty = match column {
                Column::Label(l) => l.trim().is_empty(),
                Column::Named { label, field } => {
                    label.trim().is_empty() || field.trim().is_empty()
                }
            };
            if empty {
                issues.push(Issue::new(
                    format!("{path}.columns[{i}]"),
                    "required",
                    "a column needs a label (and a field when named)",
                ));
            }
        }
        let mut rest = self.file_name.as_str();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                issues.push(Issue::new(
                    format!("{path}.file_name"),
                    "pattern",
                    "`{` without a closing `}`",
                ));
                break;
            };
            let name = &rest[open + 1..open + close];
            if !PLACEHOLDERS.contains(&name) {
                issues.push(Issue::new(
                    format!("{path}.file_name"),
                    "pattern",
                    format!("unknown placeholder `{{{name}}}`; use {{ticket_id}}, {{date}}, {{time}} or {{ext}}"),
                ));
            }
            rest = &rest[open + close + 1..];
        }
        if let Some(max) = self.max_bytes
            && (max == 0 || max > super::ADO_ATTACHMENT_LIMIT as u64)
        {
            issues.push(Issue::new(
                format!("{path}.max_bytes"),
                "range",
                format!(
                    "{max} is not between 1 and {} (Azure DevOps' limit)",
                    super::ADO_ATTACHMENT_LIMIT
                ),
            ));
        }
        if self.file_name.trim().is_empty() {
            issues.push(Issue::new(
                format!("{path}.file_name"),
                "required",
                "the file name pattern is empty",
            ));
        }
        issues
    }

    /// The columns with their fields as system names.
    pub fn resolved_columns(&self, custom: &BTreeMap<String, String>) -> Vec<ResolvedColumn> {
        self.columns
            .iter()
            .map(|c| match c {
                Column::Label(label) => {
                    let field = if labels::is_label(label) {
                        labels::resolve(label, custom)
                    } else {
                        label.trim().to_string()
                    };
                    ResolvedColumn {
                        label: label.trim().to_string(),
                        field,
                    }
                }
                Column::Named { label, field } => ResolvedColumn {
                    label: label.trim().to_string(),
                    field: field.trim().to_string(),
                },
            })
            .collect()
    }

    /// The file name for this ticket at `now_unix`: placeholders filled,
    /// characters file systems refuse replaced by `_`, the extension ensured.
    pub fn file_name_for(&self, ticket: &Ticket, now_unix: u64) -> String {
        let now =
            time::OffsetDateTime::from_unix_timestamp(i64::try_from(now_unix).unwrap_or(i64::MAX))
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let date = format!(
            "{:04}-{:02}-{:02}",
            now.year(),
            u8::from(now.month()),
            now.day()
        );
        let clock = format!("{:02}{:02}{:02}", now.hour(), now.minute(), now.second());
        let ext = self.format.extension();
        let name = self
            .file_name
            .replace("{ticket_id}", &ticket.id)
            .replace("{date}", &date)
            .replace("{time}", &clock)
            .replace("{ext}", ext);
        let mut safe: String = name
            .chars()
            .map(|c| {
                if c.is_control()
                    || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
                {
                    '_'
                } else {
                    c
                }
            })
            .collect::<String>()
            .trim()
            .trim_matches('.')
            .to_string();
        let suffix = format!(".{ext}");
        if !safe.to_ascii_lowercase().ends_with(&suffix) {
            safe.push_str(&suffix);
        }
        if safe.len() > MAX_FILE_NAME {
            let mut cut = MAX_FILE_NAME - suffix.len();
            while !safe.is_char_boundary(cut) {
                cut -= 1;
            }
            safe = format!("{}{suffix}", &safe[..cut]);
        }
        if safe == suffix {
            format!("findings{suffix}")
        } else {
            safe
        }
    }
}
