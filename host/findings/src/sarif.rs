//! SARIF 2.1.0 logs (the output of CodeQL, Semgrep, Trivy, Checkov and most
//! code and cloud scanners) read into [`ScanFinding`]s, through our own
//! minimal typed structs: only the members we use are declared, and serde
//! skips the rest of a log (which is mostly rule help and taxonomies).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::fingerprint::{self, Severity, cve_in};
use super::{IngestError, Options, Parsed, ScanFinding};

#[derive(Deserialize)]
struct Log {
    version: String,
    #[serde(default)]
    runs: Vec<Run>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    #[serde(default)]
    results: Vec<SarifResult>,
    #[serde(default)]
    properties: BTreeMap<String, Value>,
    #[serde(default)]
    version_control_provenance: Vec<Provenance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provenance {
    repository_uri: Option<String>,
}

#[derive(Deserialize)]
struct Tool {
    driver: Component,
    #[serde(default)]
    extensions: Vec<Component>,
}

#[derive(Deserialize)]
struct Component {
    name: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: Option<String>,
    short_description: Option<Message>,
    full_description: Option<Message>,
    default_configuration: Option<RuleConfig>,
    #[serde(default)]
    properties: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RuleConfig {
    level: Option<String>,
}

#[derive(Deserialize, Default)]
struct Message {
    text: Option<String>,
    markdown: Option<String>,
}

impl Message {
    fn text(&self) -> Option<&str> {
        self.text
            .as_deref()
            .or(self.markdown.as_deref())
            .filter(|t| !t.trim().is_empty())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    rule: Option<RuleRef>,
    level: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    message: Message,
    #[serde(default)]
    locations: Vec<Location>,
    #[serde(default)]
    fingerprints: BTreeMap<String, String>,
    #[serde(default)]
    partial_fingerprints: BTreeMap<String, String>,
    #[serde(default)]
    suppressions: Vec<Suppression>,
    baseline_state: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RuleRef {
    id: Option<String>,
    index: Option<usize>,
}

#[derive(Deserialize)]
struct Suppression {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
    #[serde(default)]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Deserialize)]
struct ArtifactLocation {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: Option<String>,
    name: Option<String>,
}

/// Parses a SARIF 2.1.0 log. Every run's tool is a scope, even one with no
/// results: a clean rescan must still mark that tool's findings fixed.
pub fn parse(file: &str, text: &str, options: &Options) -> Result<Parsed, IngestError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let log: Log = serde_path_to_error::deserialize(de).map_err(|e| IngestError::Syntax {
        file: file.into(),
        at: e.path().to_string(),
        line: e.inner().line(),
        column: e.inner().column(),
        message: e.inner().to_string(),
    })?;
    if log.version != "2.1.0" {
        return Err(IngestError::Invalid {
            file: file.into(),
            at: "version".into(),
            message: format!(
                "SARIF version `{}` is not supported; only 2.1.0 is",
                log.version
            ),
        });
    }
    let mut parsed = Parsed::default();
    for (r, run) in log.runs.iter().enumerate() {
        let tool = run.tool.driver.name.trim();
        if tool.is_empty() {
            return Err(IngestError::Invalid {
                file: file.into(),
                at: format!("runs[{r}].tool.driver.name"),
                message: "the tool has no name".into(),
            });
        }
        let scope = match run_asset(run, options) {
            Some(asset) => format!("{tool}@{asset}"),
            None => tool.to_string(),
        };
        for (i, result) in run.results.iter().enumerate() {
            let at = format!("runs[{r}].results[{i}]");
            if let Some(mut f) = finding(file, &at, run, result, options)? {
                f.scope = scope.clone();
                parsed.findings.push(f);
            }
        }
        parsed.scopes.push(scope);
    }
    Ok(parsed)
}

/// What a run scanned as a whole: Trivy's image (`properties.imageName`),
/// the repository of `versionControlProvenance`, else `--asset`.
fn run_asset(run: &Run, options: &Options) -> Option<String> {
    prop_str(&run.properties, "imageName")
        .or_else(|| {
            run.version_control_provenance
                .first()?
                .repository_uri
                .clone()
        })
        .or_else(|| options.asset.clone())
}

fn rule_of<'a>(run: &'a Run, result: &SarifResult) -> Option<&'a Rule> {
    let driver = &run.tool.driver.rules;
    let index = result
        .rule_index
        .or_else(|| result.rule.as_ref().and_then(|r| r.index));
    let id = result_rule_id(result);
    index
        .and_then(|i| driver.get(i))
        .filter(|r| id.is_none_or(|id| r.id == id))
        .or_else(|| {
            let id = id?;
            driver
                .iter()
                .chain(run.tool.extensions.iter().flat_map(|e| &e.rules))
                .find(|r| r.id == id)
        })
}

fn result_rule_id(result: &SarifResult) -> Option<&str> {
    result
        .rule_id
        .as_deref()
        .or_else(|| result.rule.as_ref().and_then(|r| r.id.as_deref()))
}

fn prop_str(props: &BTreeMap<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn tags(props: &BTreeMap<String, Value>) -> Vec<String> {
    props
        .get("tags")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn severity(
    file: &str,
    at: &str,
    result: &SarifResult,
    rule: Option<&Rule>,
) -> Result<Severity, IngestError> {
    // GitHub code scanning's convention: a CVSS-like `security-severity`
    // beats the coarse `level`, on the result first, then on its rule.
    let scored = prop_str(&result.properties, "security-severity")
        .map(|s| (format!("{at}.properties.security-severity"), s))
        .or_else(|| {
            rule.and_then(|r| prop_str(&r.properties, "security-severity"))
                .map(|s| {
                    (
                        format!(
                            "rule {}.properties.security-severity",
                            rule.map(|r| r.id.as_str()).unwrap_or("")
                        ),
                        s,
                    )
                })
        });
    if let Some((where_, s)) = scored {
        return s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Severity::from_score)
            .ok_or_else(|| IngestError::Invalid {
                file: file.into(),
                at: where_,
                message: format!("`{s}` is not a score from 0 to 10"),
            });
    }
    let level = result
        .level
        .clone()
        .map(|l| (format!("{at}.level"), l))
        .or_else(|| {
            rule.and_then(|r| r.default_configuration.as_ref()?.level.clone())
                .map(|l| ("rule defaultConfiguration.level".to_string(), l))
        });
    match level {
        // SARIF §3.27.10: an absent level means `warning`.
        None => Ok(Severity::Medium),
        Some((where_, l)) => match l.as_str() {
            "error" => Ok(Severity::High),
            "warning" => Ok(Severity::Medium),
            "note" => Ok(Severity::Low),
            "none" => Ok(Severity::Info),
            other => Err(IngestError::Invalid {
                file: file.into(),
                at: where_,
                message: format!("level `{other}` is not one of error, warning, note, none"),
            }),
        },
    }
}

fn finding(
    file: &str,
    at: &str,
    run: &Run,
    result: &SarifResult,
    options: &Options,
) -> Result<Option<ScanFinding>, IngestError> {
    // `pass`, `notApplicable`... are checks that found nothing; `absent`
    // results are the ones a baseline had and this scan no longer has.
    if result
        .kind
        .as_deref()
        .is_some_and(|k| k != "fail" && k != "review" && k != "open")
        || result.baseline_state.as_deref() == Some("absent")
    {
        return Ok(None);
    }
    let rule = rule_of(run, result);
    let rule_id = result_rule_id(result)
        .or(rule.map(|r| r.id.as_str()))
        .ok_or_else(|| IngestError::Invalid {
            file: file.into(),
            at: format!("{at}.ruleId"),
            message: "the result names no rule (ruleId, rule.id or ruleIndex)".into(),
        })?
        .to_string();
    let tool = run.tool.driver.name.trim().to_string();
    let location = result.locations.first();
    let physical = location.and_then(|l| l.physical_location.as_ref());
    let uri = physical
        .and_then(|p| p.artifact_location.as_ref()?.uri.clone())
        .unwrap_or_default();
    let line = physical.and_then(|p| p.region.as_ref()?.start_line);
    let logical = location
        .and_then(|l| l.logical_locations.first())
        .and_then(|l| l.fully_qualified_name.clone().or(l.name.clone()))
        .unwrap_or_default();
    let pairs = |m: &BTreeMap<String, String>| -> Vec<(String, String)> {
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let fingerprint = fingerprint::sarif(
        &tool,
        &rule_id,
        &pairs(&result.fingerprints),
        &pairs(&result.partial_fingerprints),
        (&uri, line, &logical),
    );
    let message = result.message.text().unwrap_or_default().to_string();
    let rule_title = rule.and_then(|r| {
        r.short_description
            .as_ref()
            .and_then(Message::text)
            .or(r.name.as_deref())
            .map(str::to_string)
    });
    let title = rule_title
        .or_else(|| message.lines().next().map(str::to_string))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| rule_id.clone());
    let mut tag_list = rule.map(|r| tags(&r.properties)).unwrap_or_default();
    tag_list.extend(tags(&result.properties));
    let cve = std::iter::once(rule_id.clone())
        .chain(rule.and_then(|r| r.name.clone()))
        .chain(prop_str(&result.properties, "cve"))
        .chain(tag_list.iter().cloned())
        .chain(std::iter::once(message.clone()))
        .find_map(|t| cve_in(&t));
    let asset = run_asset(run, options)
        .or_else(|| (!uri.is_empty()).then(|| uri.clone()))
        .unwrap_or_else(|| "unknown".into());
    // Trivy writes the package into the message ("Package: openssl").
    let component = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("Package: ").map(str::to_string));
    let description = if message.is_empty() {
        rule.and_then(|r| r.full_description.as_ref()?.text().map(str::to_string))
            .unwrap_or_default()
    } else {
        message
    };
    let suppressed = result
        .suppressions
        .iter()
        .any(|s| s.status.as_deref().is_none_or(|st| st == "accepted"));
    Ok(Some(ScanFinding {
        fingerprint,
        scanner: tool,
        rule_id,
        title,
        description,
        severity: severity(file, at, result, rule)?,
        cve,
        asset,
        component,
        file: (!uri.is_empty()).then_some(uri),
        line,
        tags: tag_list,
        asset_tags: options.asset_tags.clone(),
        status: suppressed.then(|| super::RISK_ACCEPTED.to_string()),
        scope: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Parsed {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/sarif")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        parse(name, &text, &Options::default()).unwrap()
    }

    #[test]
    fn codeql_severity_comes_from_security_severity_and_the_repository_is_the_asset() {
        let p = fixture("codeql.sarif");
        assert_eq!(p.scopes, ["CodeQL@https://github.com/contoso/web-shop"]);
        let sql = &p.findings[0];
        assert_eq!(sql.rule_id, "js/sql-injection");
        assert_eq!(sql.severity, Severity::High);
        assert_eq!(
            sql.title,
            "Database query built from user-controlled sources"
        );
        assert_eq!(sql.asset, "https://github.com/contoso/web-shop");
        assert_eq!(sql.file.as_deref(), Some("src/db/orders.js"));
        assert_eq!(sql.line, Some(42));
        assert!(sql.tags.contains(&"external/cwe/cwe-089".to_string()));
        assert_eq!(p.findings[1].severity, Severity::Medium, "6.1 is medium");
    }

    #[test]
    fn semgrep_severity_comes_from_the_rules_default_level() {
        let p = fixture("semgrep.sarif");
        assert_eq!(p.findings[0].severity, Severity::High);
        assert_eq!(p.findings[1].severity, Severity::Medium);
        assert_eq!(p.findings[0].scanner, "Semgrep OSS");
        assert_eq!(p.findings[0].cve, None);
    }

    #[test]
    fn trivy_findings_carry_the_image_the_cve_and_the_package() {
        let p = fixture("trivy-web.sarif");
        assert_eq!(p.scopes, ["Trivy@registry.contoso.com/web-shop:1.4.2"]);
        let openssl = &p.findings[0];
        assert_eq!(openssl.cve.as_deref(), Some("CVE-2023-0286"));
        assert_eq!(openssl.asset, "registry.contoso.com/web-shop:1.4.2");
        assert_eq!(openssl.component.as_deref(), Some("libssl1.1"));
        assert_eq!(openssl.severity, Severity::High);
        assert_eq!(p.findings[1].severity, Severity::Critical);
        assert_ne!(
            openssl.fingerprint,
            fixture("trivy-api.sarif").findings[0].fingerprint,
            "the same CVE in another image is another finding"
        );
    }

    #[test]
    fn checkov_findings_are_told_apart_by_rule_on_the_same_resource() {
        let p = fixture("checkov.sarif");
        assert_eq!(p.scopes, ["Checkov"]);
        assert_eq!(p.findings[0].severity, Severity::High);
        assert_eq!(p.findings[1].severity, Severity::Medium);
        assert_ne!(p.findings[0].fingerprint, p.findings[1].fingerprint);
    }

    #[test]
    fn the_fingerprint_is_stable_across_parses() {
        assert_eq!(
            fixture("codeql.sarif").findings[0].fingerprint,
            fixture("codeql.sarif").findings[0].fingerprint
        );
    }

    #[test]
    fn a_suppressed_result_is_risk_accepted_and_pass_results_are_not_findings() {
        let log = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T","rules":[]}},"results":[
            {"ruleId":"r1","message":{"text":"m"},"suppressions":[{"kind":"external","status":"accepted"}]},
            {"ruleId":"r2","kind":"pass","message":{"text":"ok"}}]}]}"#;
        let p = parse("x.sarif", log, &Options::default()).unwrap();
        assert_eq!(p.findings.len(), 1);
        assert_eq!(p.findings[0].status.as_deref(), Some("risk_accepted"));
        assert_eq!(
            p.findings[0].severity,
            Severity::Medium,
            "no level: warning"
        );
    }

    #[test]
    fn bad_sarif_names_the_file_and_the_place() {
        let e = parse(
            "x.sarif",
            r#"{"version":"2.0.0","runs":[]}"#,
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("x.sarif: version:") && e.contains("2.0.0"),
            "{e}"
        );
        let e = parse(
            "x.sarif",
            "{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"T\"}},\n\"results\":[{\"ruleId\":\"r\",\"level\":\"fatal\",\"message\":{\"text\":\"m\"}}]}]}",
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "x.sarif: runs[0].results[0].level: level `fatal` is not one of error, warning, note, none"
        );
        let e = parse(
            "x.sarif",
            "{\"version\":\"2.1.0\",\n\"runs\":[{\"tool\":{\"driver\":{}}}]}",
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("x.sarif: line 2, column") && e.contains("runs[0].tool.driver"),
            "{e}"
        );
    }
}
