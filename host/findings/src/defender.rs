//! Microsoft Defender for Cloud vulnerability findings: security
//! sub-assessments (`Microsoft.Security/assessments/subAssessments`) as
//! Microsoft documents and exports them:
//!
//! - the REST list (`{"value": [...]}`, "Sub Assessments - List",
//!   api-version 2019-01-01-preview; Microsoft's examples in
//!   Azure/azure-rest-api-specs, `Microsoft.Security/preview/2019-01-01-preview/examples/SubAssessments`);
//! - Azure Resource Graph results of a `securityresources | where type ==
//!   "microsoft.security/assessments/subassessments"` query: an array of
//!   rows, `az graph query`'s `{"data": [...]}`, or the REST API's answer
//!   as `objectArray` or `table` (Microsoft Learn, "Container vulnerability
//!   assessments REST API", whose sample row is one of our fixtures);
//! - continuous export, one sub-assessment per line (JSON Lines), as the
//!   Event Hub events carry them.
//!
//! Each sub-assessment is one finding: the vulnerability (`properties.id`,
//! a QID or a CVE id) on the assessed resource (`resourceDetails.id`).
//! Its fingerprint hashes the assessment key, that resource id and that
//! vulnerability id, lower-cased (Resource Graph lower-cases ids the REST API
//! spells in mixed case), so the same vulnerability on the same resource is
//! one finding in every export, whatever the export's row id, time or
//! status. Defender's `status.code` maps onto the ticket's finding statuses:
//! `Unhealthy` is open, `Healthy` is `fixed` (the auto-close rules count it
//! remediated), `NotApplicable` is `risk_accepted` when a person exempted
//! it (`cause: Exempt`, a temporary status) and `closed` otherwise (the
//! resource is out of scope or gone). An export covers the subscriptions its
//! rows name: a finding of those subscriptions missing from a later export
//! is fixed, other subscriptions' findings are left alone.

use serde_json::Value;

use super::fingerprint::{self, Severity};
use super::{IngestError, Options, Parsed, RISK_ACCEPTED, ScanFinding};

/// The scanner name findings carry.
pub const SCANNER: &str = "Microsoft Defender for Cloud";
/// The resource type of a sub-assessment, as Resource Graph spells it.
pub const TYPE: &str = "microsoft.security/assessments/subassessments";

/// Whether `text` looks like sub-assessments (for format detection).
pub fn looks_like(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains(TYPE) || head.contains("/providers/microsoft.security/assessments/")
}

/// The sub-assessments of a file, with where each is (`$[3]`, `$.value[0]`, `line 4`).
fn rows(file: &str, text: &str) -> Result<Vec<(String, Value)>, IngestError> {
    let syntax = |e: serde_json::Error, at: &str| IngestError::json_syntax(file, at, &e);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    // JSON Lines: several values, one per line.
    let lines: Vec<&str> = trimmed.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() > 1
        && lines[0].trim_start().starts_with('{')
        && serde_json::from_str::<Value>(lines[0]).is_ok()
    {
        return lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let at = format!("line {}", i + 1);
                serde_json::from_str(l)
                    .map(|v| (at.clone(), v))
                    .map_err(|e| syntax(e, &at))
            })
            .collect();
    }
    let doc: Value = serde_json::from_str(trimmed).map_err(|e| syntax(e, "$"))?;
    let (prefix, list) = match doc {
        Value::Array(list) => ("$".to_string(), list),
        Value::Object(mut o) => {
            if let Some(Value::Array(list)) = o.remove("value") {
                ("$.value".to_string(), list)
            } else if let Some(data) = o.remove("data") {
                ("$.data".to_string(), resource_graph_rows(file, data)?)
            } else if o.contains_key("properties") {
                return Ok(vec![("$".into(), Value::Object(o))]);
            } else {
                return Err(IngestError::Invalid {
                    file: file.into(),
                    at: "$".into(),
                    message: "expected sub-assessments: an array, {\"value\": [...]} (REST), {\"data\": [...]} (Resource Graph) or one per line (continuous export)".into(),
                });
            }
        }
        _ => {
            return Err(IngestError::Invalid {
                file: file.into(),
                at: "$".into(),
                message: "expected an array or an object of sub-assessments".into(),
            });
        }
    };
    Ok(list
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("{prefix}[{i}]"), v))
        .collect())
}

/// Resource Graph's `data`: rows as objects (`objectArray`, what `az graph
/// query` prints) or as a table (`{"columns": [{"name": ...}], "rows":
/// [[...]]}`, the REST API's `resultFormat: table`).
fn resource_graph_rows(file: &str, data: Value) -> Result<Vec<Value>, IngestError> {
    let bad = |at: &str, message: &str| IngestError::Invalid {
        file: file.into(),
        at: format!("$.data{at}"),
        message: message.into(),
    };
    match data {
        Value::Array(list) => Ok(list),
        Value::Object(mut table) => {
            let Some(Value::Array(columns)) = table.remove("columns") else {
                return Err(bad(".columns", "a Resource Graph table has `columns`"));
            };
            let names = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    c.get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| bad(&format!(".columns[{i}].name"), "a column has a `name`"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let Some(Value::Array(rows)) = table.remove("rows") else {
                return Err(bad(".rows", "a Resource Graph table has `rows`"));
            };
            Ok(rows
                .into_iter()
                .map(|row| match row {
                    Value::Array(cells) => {
                        Value::Object(names.iter().cloned().zip(cells).collect())
                    }
                    other => other,
                })
                .collect())
        }
        _ => Err(bad("", "expected the rows of a Resource Graph query")),
    }
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The Azure resource a sub-assessment's `id` belongs to: the part before
/// `/providers/Microsoft.Security/assessments/`.
fn assessed_resource(id: &str) -> Option<&str> {
    let lower = id.to_ascii_lowercase();
    let at = lower.find("/providers/microsoft.security/assessments/")?;
    Some(&id[..at]).filter(|s| !s.is_empty())
}

/// The assessment key (the recommendation) from a sub-assessment's `id`.
fn assessment_key(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let marker = "/providers/microsoft.security/assessments/";
    let rest = &lower[lower.find(marker)? + marker.len()..];
    rest.split('/').next().map(str::to_string)
}

fn subscription(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let rest = lower.strip_prefix("/subscriptions/")?;
    rest.split('/').next().map(str::to_string)
}

/// Defender's status: the finding status it stands for (`None`: open).
fn status(code: &str, cause: Option<&str>) -> Option<Result<Option<String>, ()>> {
    Some(match code.to_ascii_lowercase().as_str() {
        "unhealthy" => Ok(None),
        "healthy" => Ok(Some("fixed".into())),
        "notapplicable" if cause.is_some_and(|c| c.eq_ignore_ascii_case("exempt")) => {
            Ok(Some(RISK_ACCEPTED.into()))
        }
        "notapplicable" => Ok(Some("closed".into())),
        _ => Err(()),
    })
}

/// The CVE ids a sub-assessment names: `additionalData.cve[].title`
/// (server and registry assessments), `vulnerabilityDetails.cveId` (Defender
/// Vulnerability Management), else one in its id or name.
fn cves(p: &Value) -> Vec<String> {
    let mut out: Vec<String> = p
        .pointer("/additionalData/cve")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("title").and_then(Value::as_str))
        .filter_map(fingerprint::cve_in)
        .collect();
    if let Some(id) =
        text(p, "/additionalData/vulnerabilityDetails/cveId").and_then(fingerprint::cve_in)
    {
        out.push(id);
    }
    if out.is_empty()
        && let Some(id) = text(p, "/id")
            .and_then(fingerprint::cve_in)
            .or_else(|| text(p, "/displayName").and_then(fingerprint::cve_in))
    {
        out.push(id);
    }
    out.dedup();
    out
}

/// The vendor references and advisories, as `title <link>` lines.
fn references(p: &Value) -> Vec<String> {
    [
        "/additionalData/vendorReferences",
        "/additionalData/vulnerabilityDetails/references",
    ]
    .iter()
    .filter_map(|ptr| p.pointer(ptr).and_then(Value::as_array))
    .flatten()
    .filter_map(|r| {
        let link = r.get("link").and_then(Value::as_str)?;
        let title = r.get("title").and_then(Value::as_str).unwrap_or(link);
        Some(format!("{title} <{link}>"))
    })
    .collect()
}

/// The asset: a container image as `registry/repository@digest`, else the
/// assessed Azure resource, else `resourceDetails.id`.
fn asset(row_id: Option<&str>, p: &Value, resource_id: &str) -> String {
    let artifact = |k: &str| text(p, &format!("/additionalData/artifactDetails/{k}"));
    if let (Some(repo), Some(digest)) = (
        artifact("repositoryName").or_else(|| text(p, "/additionalData/repositoryName")),
        artifact("digest").or_else(|| text(p, "/additionalData/imageDigest")),
    ) {
        return match artifact("registryHost") {
            Some(host) => format!("{host}/{repo}@{digest}"),
            None => format!("{repo}@{digest}"),
        };
    }
    row_id
        .and_then(assessed_resource)
        .unwrap_or(resource_id)
        .to_string()
}

/// The package and version Defender Vulnerability Management names.
fn component(p: &Value) -> Option<String> {
    let name = text(p, "/additionalData/softwareDetails/packageName")?;
    Some(match text(p, "/additionalData/softwareDetails/version") {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    })
}

/// Parses sub-assessments. A row that is not one, or lacks what a finding
/// needs, refuses the file naming the field.
pub fn parse(file: &str, text_in: &str, options: &Options) -> Result<Parsed, IngestError> {
    let mut findings = Vec::new();
    let mut scopes = Vec::new();
    for (at, row) in rows(file, text_in)? {
        let bad = |field: &str, message: String| IngestError::Invalid {
            file: file.into(),
            at: format!("{at}.{field}"),
            message,
        };
        if !row.is_object() {
            return Err(IngestError::Invalid {
                file: file.into(),
                at,
                message: "a sub-assessment is an object".into(),
            });
        }
        if let Some(ty) = row.get("type") {
            let ty = ty.as_str().unwrap_or_default();
            if !ty.eq_ignore_ascii_case(TYPE) {
                return Err(bad(
                    "type",
                    format!("`{ty}` is not a sub-assessment ({TYPE})"),
                ));
            }
        }
        let p = row
            .get("properties")
            .filter(|p| p.is_object())
            .ok_or_else(|| bad("properties", "`properties` is required".into()))?;
        let need = |field: &str| -> Result<String, IngestError> {
            text(p, &format!("/{}", field.replace('.', "/")))
                .map(str::to_string)
                .ok_or_else(|| {
                    bad(
                        &format!("properties.{field}"),
                        format!("`properties.{field}` is required"),
                    )
                })
        };
        let vuln_id = need("id")?;
        let title = need("displayName")?;
        let resource_id = need("resourceDetails.id")?;
        let code = need("status.code")?;
        let stated = status(&code, text(p, "/status/cause"))
            .and_then(Result::ok)
            .ok_or_else(|| {
                bad(
                    "properties.status.code",
                    format!(
                        "`{code}` is not a Defender status (Healthy, Unhealthy, NotApplicable)"
                    ),
                )
            })?;
        let severity_word = text(p, "/status/severity")
            .or_else(|| text(p, "/additionalData/vulnerabilityDetails/severity"))
            .ok_or_else(|| {
                bad(
                    "properties.status.severity",
                    "`properties.status.severity` is required".into(),
                )
            })?;
        let severity = Severity::parse(severity_word).ok_or_else(|| {
            bad(
                "properties.status.severity",
                format!("`{severity_word}` is not a severity (High, Medium, Low)"),
            )
        })?;
        let row_id = text(&row, "/id");
        let key = row_id
            .and_then(assessment_key)
            .or_else(|| text(&row, "/assessmentKey").map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let sub = row_id
            .or(Some(resource_id.as_str()))
            .and_then(subscription)
            .or_else(|| text(&row, "/subscriptionId").map(str::to_ascii_lowercase));
        let scope = match &sub {
            Some(s) => format!("{SCANNER}@{s}"),
            None => SCANNER.to_string(),
        };
        let cves = cves(p);
        let mut description = text(p, "/description").unwrap_or_default().to_string();
        if let Some(fix) = text(p, "/remediation") {
            description.push_str(&format!("\n\nRemediation: {fix}"));
        }
        let refs = references(p);
        if !refs.is_empty() {
            description.push_str(&format!("\n\nReferences:\n{}", refs.join("\n")));
        }
        let mut asset_tags = options.asset_tags.clone();
        if let Some(s) = &sub {
            asset_tags.push(format!("subscription:{s}"));
        }
        let mut tags: Vec<String> = text(p, "/category")
            .map(|c| vec![c.to_string()])
            .unwrap_or_default();
        if let Some(kind) = text(p, "/additionalData/assessedResourceType") {
            tags.push(kind.to_string());
        }
        findings.push(ScanFinding {
            fingerprint: fingerprint::hash(&[
                SCANNER,
                &key,
                &resource_id.to_ascii_lowercase(),
                &vuln_id.to_ascii_lowercase(),
            ]),
            scanner: SCANNER.into(),
            rule_id: vuln_id,
            title,
            description: description.trim().to_string(),
            severity,
            cve: cves.first().cloned(),
            asset: asset(row_id, p, &resource_id),
            component: component(p),
            file: None,
            line: None,
            tags,
            asset_tags,
            status: stated,
            scope: scope.clone(),
        });
        scopes.push(scope);
    }
    Ok(Parsed { scopes, findings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/defender")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn parse_str(text: &str) -> Result<Parsed, IngestError> {
        parse("export.json", text, &Options::default())
    }

    #[test]
    fn microsofts_rest_example_reads_as_one_high_open_finding() {
        let parsed = parse_str(&fixture("rest-list-example.json")).unwrap();
        let [f] = parsed.findings.as_slice() else {
            panic!("{:?}", parsed.findings)
        };
        assert_eq!(f.scanner, SCANNER);
        assert_eq!(f.rule_id, "1001");
        assert_eq!(f.title, "'Back Orifice' Backdoor");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.cve.as_deref(), Some("CVE-2019-12345"));
        assert_eq!(f.status, None);
        assert_eq!(f.asset, "myRepo@c186fc44-3154-4ce2-ba18-b719d895c3b0");
        assert!(
            f.description
                .contains("Remediation: Use a recent anti-virus program")
        );
        assert!(f.description.contains("Reference_1 <http://contoso.com>"));
        assert_eq!(
            parsed.scopes,
            [format!("{SCANNER}@20ff7fc3-e762-44dd-bd96-b71116dcdc23")]
        );
    }

    #[test]
    fn microsofts_resource_graph_sample_names_package_image_and_exemption() {
        let parsed = parse_str(&fixture("resource-graph-mdvm.json")).unwrap();
        let f = &parsed.findings[0];
        assert_eq!(f.cve.as_deref(), Some("CVE-2022-42969"));
        assert_eq!(f.component.as_deref(), Some("py 1.11.0.0"));
        assert!(
            f.asset.starts_with("ptebic.azurecr.io/public/azureml/"),
            "{}",
            f.asset
        );
        // NotApplicable because exempted: a person's decision, temporary.
        assert_eq!(f.status.as_deref(), Some(RISK_ACCEPTED));
    }

    #[test]
    fn the_same_finding_keeps_its_fingerprint_across_rest_and_resource_graph_spellings() {
        let rest = parse_str(&fixture("rest-list-example.json")).unwrap();
        let mut row: Value = serde_json::from_str(&fixture("rest-list-example.json")).unwrap();
        let mut row = row["value"][0].take();
        // Resource Graph lower-cases the ids and the type; a later export has a new time.
        for ptr in ["/id", "/properties/resourceDetails/id"] {
            let v = row
                .pointer(ptr)
                .unwrap()
                .as_str()
                .unwrap()
                .to_ascii_lowercase();
            *row.pointer_mut(ptr).unwrap() = v.into();
        }
        row["type"] = TYPE.into();
        row["properties"]["timeGenerated"] = "2026-11-30T00:00:00Z".into();
        row["properties"]["status"]["code"] = "Healthy".into();
        let arg = parse_str(&serde_json::json!({"data": [row], "count": 1}).to_string()).unwrap();
        assert_eq!(rest.findings[0].fingerprint, arg.findings[0].fingerprint);
        assert_eq!(arg.findings[0].status.as_deref(), Some("fixed"));
    }

    #[test]
    fn a_resource_graph_table_reads_like_its_object_rows() {
        let rows: Value = serde_json::from_str(&fixture("resource-graph-export.json")).unwrap();
        let names = ["id", "type", "properties"];
        let table = serde_json::json!({
            "totalRecords": 4, "count": 4, "resultTruncated": "false",
            "data": {
                "columns": names.iter().map(|n| serde_json::json!({"name": n, "type": "string"})).collect::<Vec<_>>(),
                "rows": rows["data"].as_array().unwrap().iter()
                    .map(|r| names.iter().map(|n| r[*n].clone()).collect::<Vec<_>>())
                    .collect::<Vec<_>>(),
            }
        });
        let from_table = parse_str(&table.to_string()).unwrap();
        let from_objects = parse_str(&rows.to_string()).unwrap();
        assert_eq!(from_table.findings, from_objects.findings);
        assert_eq!(from_table.findings.len(), 4);
    }

    #[test]
    fn continuous_export_lines_are_read_one_sub_assessment_each() {
        let parsed = parse_str(&fixture("continuous-export.jsonl")).unwrap();
        assert_eq!(parsed.findings.len(), 3);
        let statuses: Vec<Option<&str>> = parsed
            .findings
            .iter()
            .map(|f| f.status.as_deref())
            .collect();
        assert_eq!(statuses, [None, None, Some("closed")]);
    }

    #[test]
    fn a_malformed_export_is_refused_naming_the_field() {
        let mut doc: Value = serde_json::from_str(&fixture("rest-list-example.json")).unwrap();
        doc["value"][0]["properties"]["status"]["code"] = "Sick".into();
        let err = parse_str(&doc.to_string()).unwrap_err().to_string();
        assert!(
            err.contains("$.value[0].properties.status.code") && err.contains("`Sick`"),
            "{err}"
        );

        let mut doc: Value = serde_json::from_str(&fixture("rest-list-example.json")).unwrap();
        doc["value"][0]["properties"]["resourceDetails"] = serde_json::json!({});
        let err = parse_str(&doc.to_string()).unwrap_err().to_string();
        assert!(
            err.contains("$.value[0].properties.resourceDetails.id"),
            "{err}"
        );

        let err = parse_str(r#"[{"type": "microsoft.security/assessments", "properties": {}}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("$[0].type"), "{err}");
    }
}
