//! The host's JSON finding format: an array of finding objects, or an
//! object `{"findings": [...]}` (optionally with `"scanners": [...]`, the
//! tools the file speaks for even when they found nothing). The fields are
//! those of [`super::RawFinding`]; the README documents them.

use serde::Deserialize;

use super::{IngestError, Options, Parsed, RawFinding, build, scanners};

#[derive(Deserialize)]
#[serde(untagged)]
enum Document {
    List(Vec<serde_json::Value>),
    Object(Wrapper),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapper {
    findings: Vec<serde_json::Value>,
    #[serde(default)]
    scanners: Vec<String>,
}

/// Parses the JSON finding format.
pub fn parse(file: &str, text: &str, options: &Options) -> Result<Parsed, IngestError> {
    let syntax = |e: serde_json::Error, at: &str| IngestError::json_syntax(file, at, &e);
    let doc: Document = serde_json::from_str(text).map_err(|e| {
        // `untagged` hides the cause; say what is expected.
        if e.is_syntax() || e.is_eof() {
            syntax(e, "")
        } else {
            IngestError::Invalid {
                file: file.into(),
                at: "$".into(),
                message: "expected an array of findings or an object {\"findings\": [...], \"scanners\": [...]}".into(),
            }
        }
    })?;
    let (values, listed) = match doc {
        Document::List(v) => (v, Vec::new()),
        Document::Object(w) => (w.findings, w.scanners),
    };
    let mut findings = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        let at = format!("findings[{i}]");
        let raw: RawFinding =
            serde_path_to_error::deserialize(v).map_err(|e| IngestError::Invalid {
                file: file.into(),
                at: format!("{at}.{}", e.path()),
                message: e.inner().to_string(),
            })?;
        let bad = |field: &str, message: String| IngestError::Invalid {
            file: file.into(),
            at: format!("{at}.{field}"),
            message,
        };
        findings.push(build(raw, options, &bad)?);
    }
    let mut scopes = scanners(&findings);
    scopes.extend(listed);
    Ok(Parsed { scopes, findings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    #[test]
    fn a_json_list_of_findings_is_read_with_a_fingerprint_per_finding() {
        let p = parse(
            "f.json",
            r#"[{"scanner":"Nessus","rule_id":"19506","title":"OpenSSL EOL","severity":"high","asset":"web-01","asset_tags":["prod"]},
                {"scanner":"Nessus","rule_id":"CVE-2023-0286","title":"x","severity":9.1,"asset":"web-02","line":3}]"#,
            &Options::default(),
        )
        .unwrap();
        assert_eq!(p.scopes, ["Nessus"]);
        assert_eq!(p.findings[0].severity, Severity::High);
        assert_eq!(p.findings[0].asset_tags, ["prod"]);
        assert_eq!(p.findings[1].severity, Severity::Critical);
        assert_eq!(p.findings[1].cve.as_deref(), Some("CVE-2023-0286"));
        assert_ne!(p.findings[0].fingerprint, p.findings[1].fingerprint);
    }

    #[test]
    fn a_json_object_lists_scanners_that_found_nothing() {
        let p = parse(
            "f.json",
            r#"{"scanners":["Qualys"],"findings":[]}"#,
            &Options::default(),
        )
        .unwrap();
        assert_eq!(p.scopes, ["Qualys"]);
    }

    #[test]
    fn a_missing_required_field_is_named_with_its_index() {
        let e = parse(
            "f.json",
            r#"[{"scanner":"N","rule_id":"r","title":"t","severity":"high","asset":"a"},{"scanner":"N","rule_id":"r","severity":"high","asset":"a"}]"#,
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "f.json: findings[1].title: `title` is required");
    }

    #[test]
    fn a_bad_severity_and_an_unknown_field_are_named() {
        let e = parse(
            "f.json",
            r#"[{"scanner":"N","rule_id":"r","title":"t","severity":"urgent","asset":"a"}]"#,
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("findings[0].severity") && e.contains("`urgent`"),
            "{e}"
        );
        let e = parse(
            "f.json",
            r#"[{"scanner":"N","rule_id":"r","title":"t","severity":"high","asset":"a","sevrity":1}]"#,
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("findings[0]") && e.contains("sevrity"), "{e}");
    }

    #[test]
    fn broken_json_reports_line_and_column() {
        let e = parse("f.json", "[\n{\"scanner\": }", &Options::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.json: line 2, column"), "{e}");
    }
}
