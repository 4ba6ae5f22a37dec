//! `ticketing-findings`: the host's scanner-output parsers, on their own so
//! they can be fuzzed (`fuzz/`, the `findings_*` targets) and reused without
//! the rest of the host.
//!
//! SARIF 2.1.0 ([`sarif`]), the host's own JSON and CSV finding formats
//! ([`json`], [`csv`]) and Microsoft Defender for Cloud sub-assessments
//! ([`defender`]) are read into [`ScanFinding`]s; [`parse_file`] reads a
//! file under the size limit of [`limit`] (refused with its size before it
//! is read whole) and picks the format. Matching findings against stored
//! ones, and storing them, is the host's (`platform::ingest`).
//!
//! This crate must stay small: it must not depend on wasmtime, the runtime
//! (`ticketing-runtime`), SQLite or the host, so a fuzz build needs only
//! serde, csv and sha2. `clap` comes only with the `clap` feature (the
//! host's `--format`).

pub mod csv;
pub mod defender;
pub mod finding;
pub mod fingerprint;
pub mod json;
pub mod limit;
pub mod sarif;

use std::path::Path;

use serde::Deserialize;

pub use finding::{ScanFinding, Severity};

/// The status a SARIF result with an accepted suppression gets: a temporary
/// status (a person accepted the risk), not a remediation.
pub const RISK_ACCEPTED: &str = "risk_accepted";

/// What a parser returns.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The scanners the file speaks for: their findings that are missing
    /// from it are fixed.
    pub scopes: Vec<String>,
    pub findings: Vec<ScanFinding>,
}

/// Ingest options from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The scope to reconcile against instead of the scanners' names.
    pub scope: Option<String>,
    /// The asset of findings whose input names none.
    pub asset: Option<String>,
    /// Tags added to every finding's asset.
    pub asset_tags: Vec<String>,
    /// The format; else from the file's extension, then its content.
    pub format: Option<Format>,
}

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    Sarif,
    Json,
    Csv,
    /// Microsoft Defender for Cloud sub-assessments (see [`defender`]).
    Defender,
}

impl Format {
    /// The format of a file: its extension, else a look at its content
    /// (SARIF logs carry a `$schema` or `"version": "2.1.0"` and `runs`).
    pub fn detect(path: &Path, text: &str) -> Format {
        let name = path.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".sarif") || name.ends_with(".sarif.json") {
            return Format::Sarif;
        }
        if name.ends_with(".csv") {
            return Format::Csv;
        }
        let head: String = text.chars().take(2048).collect();
        if head.contains("\"runs\"") && (head.contains("sarif") || head.contains("2.1.0")) {
            return Format::Sarif;
        }
        if defender::looks_like(text) {
            return Format::Defender;
        }
        if text.trim_start().starts_with(['{', '[']) {
            Format::Json
        } else {
            Format::Csv
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Sarif => "SARIF",
            Format::Json => "JSON",
            Format::Csv => "CSV",
            Format::Defender => "Defender for Cloud",
        }
    }
}

/// Why a file could not be ingested. Each names the file and where in it.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("reading {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    /// Past [`limit::MAX_INPUT_BYTES`]: refused before it is read whole.
    #[error("{file} is {bytes} bytes, larger than the {limit} an input file may have")]
    TooLarge {
        file: String,
        bytes: u64,
        limit: u64,
    },
    #[error("{file}: line {line}, column {column}{}: {message}", at_suffix(.at))]
    Syntax {
        file: String,
        at: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {at}: {message}")]
    Invalid {
        file: String,
        at: String,
        message: String,
    },
    #[error("{file}: line {line}, column `{column}`: {message}")]
    Csv {
        file: String,
        line: u64,
        column: String,
        message: String,
    },
}

impl IngestError {
    /// A JSON syntax error of `file`, in the value at `at`.
    pub fn json_syntax(file: &str, at: &str, e: &serde_json::Error) -> IngestError {
        IngestError::Syntax {
            file: file.into(),
            at: at.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }
}

fn at_suffix(at: &str) -> String {
    if at.is_empty() || at == "." {
        String::new()
    } else {
        format!(" (at {at})")
    }
}

/// Reads and parses one input file.
pub fn parse_file(path: &Path, options: &Options) -> Result<(Format, Parsed), IngestError> {
    let file = path.display().to_string();
    let text = limit::read(path, &file, limit::MAX_INPUT_BYTES)?;
    let format = options
        .format
        .unwrap_or_else(|| Format::detect(path, &text));
    let mut parsed = match format {
        Format::Sarif => sarif::parse(&file, &text, options)?,
        Format::Json => json::parse(&file, &text, options)?,
        Format::Csv => csv::parse(&file, &text, options)?,
        Format::Defender => defender::parse(&file, &text, options)?,
    };
    if let Some(scope) = &options.scope {
        parsed.scopes = vec![scope.clone()];
    }
    parsed.scopes.sort();
    parsed.scopes.dedup();
    Ok((format, parsed))
}

/// The scope a finding is reconciled in.
pub fn scope_of(f: &ScanFinding, options: &Options) -> String {
    options.scope.clone().unwrap_or_else(|| {
        if f.scope.is_empty() {
            f.scanner.clone()
        } else {
            f.scope.clone()
        }
    })
}

/// The fields of the JSON and CSV formats, shared by both: what a row or
/// object holds before it is checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFinding {
    pub scanner: Option<String>,
    pub rule_id: Option<String>,
    pub title: Option<String>,
    pub severity: Option<serde_json::Value>,
    pub asset: Option<String>,
    pub fingerprint: Option<String>,
    pub description: Option<String>,
    pub cve: Option<String>,
    pub component: Option<String>,
    pub file: Option<String>,
    pub line: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub asset_tags: Vec<String>,
    pub status: Option<String>,
}

/// Checks a JSON object or CSV row; `bad(field, message)` builds the error
/// that names where it is.
pub fn build(
    raw: RawFinding,
    options: &Options,
    bad: &dyn Fn(&str, String) -> IngestError,
) -> Result<ScanFinding, IngestError> {
    let need = |v: Option<String>, name: &str| -> Result<String, IngestError> {
        v.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(name, format!("`{name}` is required")))
    };
    let scanner = need(raw.scanner, "scanner")?;
    let rule_id = need(raw.rule_id, "rule_id")?;
    let title = need(raw.title, "title")?;
    let asset = need(raw.asset.or(options.asset.clone()), "asset")?;
    let severity = match &raw.severity {
        Some(serde_json::Value::String(s)) => Severity::parse(s),
        Some(serde_json::Value::Number(n)) => n.as_f64().and_then(Severity::from_score),
        _ => return Err(bad("severity", "`severity` is required".into())),
    }
    .ok_or_else(|| {
        bad(
            "severity",
            format!(
                "`{}` is not a severity (critical, high, medium, low, info, or a score from 0 to 10)",
                raw.severity.as_ref().map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default()
            ),
        )
    })?;
    let line = raw.line;
    let file = raw.file.filter(|s| !s.trim().is_empty());
    let fingerprint = raw
        .fingerprint
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| {
            let line = line.map(|l| l.to_string()).unwrap_or_default();
            fingerprint::hash(&[
                &scanner,
                &rule_id,
                &asset,
                file.as_deref().unwrap_or(""),
                &line,
            ])
        });
    let cve = raw
        .cve
        .filter(|s| !s.trim().is_empty())
        .or_else(|| fingerprint::cve_in(&rule_id));
    let mut asset_tags = raw.asset_tags;
    asset_tags.extend(options.asset_tags.iter().cloned());
    Ok(ScanFinding {
        fingerprint,
        rule_id,
        title,
        description: raw.description.unwrap_or_default(),
        severity,
        cve,
        asset,
        component: raw.component.filter(|s| !s.trim().is_empty()),
        file,
        line,
        tags: raw.tags,
        asset_tags,
        status: raw
            .status
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty()),
        scope: scanner.clone(),
        scanner,
    })
}

/// The distinct scanners of some findings, for the formats whose file does
/// not list its tools.
pub fn scanners(findings: &[ScanFinding]) -> Vec<String> {
    let mut s: Vec<String> = findings.iter().map(|f| f.scanner.clone()).collect();
    s.sort();
    s.dedup();
    s
}
