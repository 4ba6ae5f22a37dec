//! The host's finding parsers (`ticketing-findings`): SARIF 2.1.0, the JSON
//! and CSV finding formats, and Defender for Cloud exports, which `ingest`
//! and `rules run` read from files a scanner (or anyone) wrote.
//!
//! Input: the file's bytes (UTF-8, lossy), given to every parser and to the
//! format detection.
//!
//! Invariants: no panic; a refusal names the file; an accepted finding has
//! a fingerprint, a severity that reads back as itself, and, from the JSON
//! and CSV formats, the required members non-blank; every finding survives
//! the JSON round trip the state database makes (`ScanFinding` is stored
//! as JSON); every finding's scope is one of the file's scopes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketing_findings::{
    Format, IngestError, Options, Parsed, ScanFinding, Severity, csv, defender, json, sarif,
};

const FILE: &str = "fuzz-input";

fn check(parsed: Result<Parsed, IngestError>, required: bool) {
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains(FILE), "a refusal that names no file: {text}");
            return;
        }
    };
    for f in &parsed.findings {
        assert!(!f.fingerprint.is_empty(), "a finding without a fingerprint");
        assert_eq!(Severity::parse(f.severity.as_str()), Some(f.severity));
        if required {
            for v in [&f.scanner, &f.rule_id, &f.title, &f.asset] {
                assert!(!v.trim().is_empty(), "a required member is blank: {f:?}");
            }
        }
        let stored = serde_json::to_string(f).expect("a finding serialises");
        let back: ScanFinding = serde_json::from_str(&stored).expect("a stored finding reads back");
        assert_eq!(&back, f, "a finding changed on the JSON round trip");
        if !f.scope.is_empty() && !parsed.scopes.is_empty() {
            assert!(
                parsed.scopes.contains(&f.scope),
                "scope {} is not one of the file's {:?}",
                f.scope,
                parsed.scopes
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let options = Options::default();
    let _ = Format::detect(std::path::Path::new("input"), &text);
    check(sarif::parse(FILE, &text, &options), false);
    check(json::parse(FILE, &text, &options), true);
    check(csv::parse(FILE, &text, &options), true);
    check(defender::parse(FILE, &text, &options), false);
});
