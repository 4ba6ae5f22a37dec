//! The host's CSV finding format: a header row naming the columns (those of
//! the JSON format; order free, unknown columns refused), one finding per
//! row. `tags` and `asset_tags` hold several values separated by `;`.

use super::{IngestError, Options, Parsed, RawFinding, build, scanners};

const COLUMNS: &[&str] = &[
    "scanner",
    "rule_id",
    "title",
    "severity",
    "asset",
    "fingerprint",
    "description",
    "cve",
    "component",
    "file",
    "line",
    "tags",
    "asset_tags",
    "status",
];

const REQUIRED: &[&str] = &["scanner", "rule_id", "title", "severity"];

fn list(v: &str) -> Vec<String> {
    v.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses the CSV finding format.
pub fn parse(file: &str, text: &str, options: &Options) -> Result<Parsed, IngestError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let err = |line: u64, column: &str, message: String| IngestError::Csv {
        file: file.into(),
        line,
        column: column.into(),
        message,
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| err(1, "", e.to_string()))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(err(
            1,
            unknown,
            format!("unknown column; the columns are {}", COLUMNS.join(", ")),
        ));
    }
    for required in REQUIRED {
        if !headers.iter().any(|h| h == required) {
            return Err(err(1, required, "this required column is missing".into()));
        }
    }
    let mut findings = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            err(line, "", e.to_string())
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut raw = RawFinding::default();
        for (h, v) in headers.iter().zip(record.iter()) {
            let text = (!v.is_empty()).then(|| v.to_string());
            match h.as_str() {
                "scanner" => raw.scanner = text,
                "rule_id" => raw.rule_id = text,
                "title" => raw.title = text,
                "severity" => raw.severity = text.map(serde_json::Value::String),
                "asset" => raw.asset = text,
                "fingerprint" => raw.fingerprint = text,
                "description" => raw.description = text,
                "cve" => raw.cve = text,
                "component" => raw.component = text,
                "file" => raw.file = text,
                "line" => {
                    raw.line = match text {
                        None => None,
                        Some(t) => Some(t.parse().map_err(|_| {
                            err(line, "line", format!("`{t}` is not a whole number"))
                        })?),
                    }
                }
                "tags" => raw.tags = list(v),
                "asset_tags" => raw.asset_tags = list(v),
                "status" => raw.status = text,
                _ => {}
            }
        }
        let bad = |column: &str, message: String| err(line, column, message);
        findings.push(build(raw, options, &bad)?);
    }
    Ok(Parsed {
        scopes: scanners(&findings),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    #[test]
    fn csv_rows_become_findings_with_lists_split_on_semicolons() {
        let p = parse(
            "f.csv",
            "scanner,rule_id,title,severity,asset,asset_tags,line\nNessus,19506,OpenSSL EOL,critical,web-01,prod; pci,\nNessus,1,\"Quoted, title\",low,web-02,,7\n",
            &Options::default(),
        )
        .unwrap();
        assert_eq!(p.findings.len(), 2);
        assert_eq!(p.findings[0].severity, Severity::Critical);
        assert_eq!(p.findings[0].asset_tags, ["prod", "pci"]);
        assert_eq!(p.findings[1].title, "Quoted, title");
        assert_eq!(p.findings[1].line, Some(7));
    }

    #[test]
    fn a_bad_value_is_named_by_line_and_column() {
        let e = parse(
            "f.csv",
            "scanner,rule_id,title,severity,asset\nN,r,t,high,a\nN,r,t,severe,a\n",
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("f.csv: line 3, column `severity`: `severe` is not a severity"),
            "{e}"
        );
    }

    #[test]
    fn unknown_and_missing_columns_are_refused() {
        let e = parse(
            "f.csv",
            "scanner,rule,title,severity\n",
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("column `rule`: unknown column"), "{e}");
        let e = parse("f.csv", "scanner,rule_id,title\n", &Options::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column `severity`: this required column is missing"),
            "{e}"
        );
    }

    #[test]
    fn the_default_asset_fills_rows_without_one() {
        let options = Options {
            asset: Some("repo".into()),
            ..Options::default()
        };
        let p = parse(
            "f.csv",
            "scanner,rule_id,title,severity\nN,r,t,high\n",
            &options,
        )
        .unwrap();
        assert_eq!(p.findings[0].asset, "repo");
    }
}
