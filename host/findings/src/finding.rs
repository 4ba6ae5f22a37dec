//! A finding as the state database stores it, whatever scanner format it
//! came from (the parsers of this crate produce it), and
//! its severity scale.

use serde::{Deserialize, Serialize};

/// One finding as a scanner reported it, whatever the input format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanFinding {
    /// Stable identity across scans ([`crate::fingerprint`]).
    pub fingerprint: String,
    /// The tool (`CodeQL`, `Trivy`...).
    pub scanner: String,
    /// The tool's rule or check id (`js/sql-injection`, `CVE-2023-0286`, `CKV_AWS_20`).
    pub rule_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    #[serde(default)]
    pub cve: Option<String>,
    /// What is affected: a repository, a container image, a host.
    pub asset: String,
    /// The package or component, when the scanner names one.
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<i64>,
    /// The rule's tags (`security`, `external/cwe/cwe-089`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Tags of the asset (`prod`, `pci`), from the input or `--asset-tag`.
    #[serde(default)]
    pub asset_tags: Vec<String>,
    /// A status the scanner states (`fixed`, `risk_accepted`); none: open.
    #[serde(default)]
    pub status: Option<String>,
    /// What the scan that reported it covers: its findings of this scope
    /// that a rescan misses are fixed. SARIF: the tool, and the image or
    /// repository of the run when the log names one (`Trivy@web:1.4`), so
    /// that scanning one image does not fix another's findings; JSON and
    /// CSV: the scanner.
    #[serde(default)]
    pub scope: String,
}

/// Finding severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The word the ticket model and the example configs use (`HIGH`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// A severity word (any case; scanners' synonyms too) or a CVSS-like
    /// score from 0 to 10.
    pub fn parse(text: &str) -> Option<Severity> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" | "error" => Some(Severity::High),
            "medium" | "moderate" | "warning" => Some(Severity::Medium),
            "low" | "note" => Some(Severity::Low),
            "info" | "informational" | "none" | "unknown" => Some(Severity::Info),
            _ => t.parse::<f64>().ok().and_then(Severity::from_score),
        }
    }

    /// CVSS v3 qualitative rating of a score (GitHub's `security-severity`).
    pub fn from_score(score: f64) -> Option<Severity> {
        if !(0.0..=10.0).contains(&score) {
            return None;
        }
        Some(if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Info
        })
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
