//! Finding ingest: scanner output (SARIF 2.1.0, or the host's own JSON and
//! CSV finding formats) read into [`ScanFinding`]s, matched by fingerprint
//! against what the state database already holds, and stored with their
//! tickets in one transaction. A re-ingested scan updates its findings (new,
//! still open, fixed, reappeared) instead of adding them again.
//!
//! The parsers are the `ticketing-findings` crate's (re-exported here:
//! [`sarif`], [`json`], [`csv`], [`defender`], with the input size limit,
//! [`limit`]); the status rules of a re-ingest are in [`merge`]; the
//! tickets the findings are grouped into in [`crate::platform::grouping`].

pub mod apply;
pub mod merge;

pub use merge::{IngestSummary, Statuses};
pub use ticketing_findings::{
    Format, IngestError, Options, Parsed, RISK_ACCEPTED, RawFinding, ScanFinding, Severity, build,
    csv, defender, fingerprint, json, limit, parse_file, sarif, scanners, scope_of,
};
