//! Microsoft Defender for Cloud end to end: a Resource Graph export of
//! vulnerability sub-assessments ingested, grouped and dispatched by the
//! rules through the real plugin; a later export in which Defender reports
//! the vulnerability healthy closes its work item through the same rules.
//! Fixtures: `tests/fixtures/defender/` (sources in its README).

use crate::common;

use common::cli_env::Env;
use serde_json::Value;

const RULES: &str = r#"
group_by = ["vulnerability"]

[outegrations.bugs]
config = "bugs.json"

[[rules]]
name = "high-and-worse"
outegration = "bugs"
when = { severity_at_least = "high" }
close_state = "Closed"
ignore_temporary_statuses = true
"#;

fn export() -> Value {
    let path = ticketing_tests::workspace_root()
        .join("tests/fixtures/defender/resource-graph-export.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The export with every sub-assessment of `cve` reported `code`, and its
/// rows spelt as Resource Graph may (ids lower-cased) at a later time.
fn with_status(mut doc: Value, cve: &str, code: &str) -> Value {
    for row in doc["data"].as_array_mut().unwrap() {
        let id = row["id"].as_str().unwrap().to_ascii_lowercase();
        row["id"] = id.into();
        row["properties"]["timeGenerated"] = "2026-12-01T06:00:00.0000000Z".into();
        let names_cve = row["properties"]["additionalData"]["cve"]
            .as_array()
            .is_some_and(|l| l.iter().any(|c| c["title"] == cve));
        if names_cve {
            row["properties"]["status"]["code"] = code.into();
            row["properties"]["status"]["description"] = "The resource is healthy".into();
        }
    }
    doc
}

struct Defender {
    env: Env,
}

impl Defender {
    fn new() -> Defender {
        let env = Env::new();
        env.write("bugs.json", &common::example_config("agile-bug.json"));
        env.write("rules.toml", RULES);
        Defender { env }
    }

    fn cli(&self, args: &[&str]) -> String {
        let rules = self.env.dir.join("rules.toml").display().to_string();
        let mut all = vec!["--rules", rules.as_str()];
        all.extend_from_slice(args);
        self.env.ok(&all)
    }

    /// The ticket the findings of `cve` were grouped into, and how many findings it has.
    fn ticket_of(&self, cve: &str) -> (String, usize) {
        let findings = self.env.db().findings().unwrap();
        let of: Vec<_> = findings
            .iter()
            .filter(|r| r.data.cve.as_deref() == Some(cve))
            .collect();
        let ticket = of
            .first()
            .unwrap_or_else(|| panic!("no finding of {cve}"))
            .ticket_id
            .clone();
        assert!(
            of.iter().all(|r| r.ticket_id == ticket),
            "one ticket per vulnerability"
        );
        (ticket, of.len())
    }

    fn state_of(&self, ticket: &str) -> String {
        let id = self
            .env
            .db()
            .link(ticket)
            .unwrap()
            .unwrap_or_else(|| panic!("{ticket} has no work item"))
            .link
            .work_item_id;
        let item = self.env.emu.work_item(id).unwrap();
        item["fields"]["System.State"].as_str().unwrap().to_string()
    }
}

#[test]
fn a_defender_export_is_dispatched_and_a_healthy_rescan_closes_the_work_item() {
    let d = Defender::new();
    let first = d.env.write("export-1.json", &export().to_string());
    let out = d.cli(&["ingest", &first]);
    assert!(out.contains("4 new"), "{out}");

    let (openssl, n) = d.ticket_of("CVE-2023-0286");
    assert_eq!(n, 2, "the same CVE on two machines is one ticket");
    let (expat, _) = d.ticket_of("CVE-2022-40674");
    assert_ne!(openssl, expat);
    assert_eq!(d.state_of(&openssl), "New");
    assert_eq!(d.state_of(&expat), "New");
    let findings = d.env.db().findings().unwrap();
    let low = findings
        .iter()
        .find(|r| r.data.rule_id == "91885")
        .expect("the low finding");
    assert!(
        d.env.db().link(&low.ticket_id).unwrap().is_none(),
        "below the rule's severity"
    );
    let openssl_finding = findings
        .iter()
        .find(|r| r.data.cve.as_deref() == Some("CVE-2023-0286"))
        .unwrap();
    assert_eq!(openssl_finding.data.scanner, "Microsoft Defender for Cloud");
    assert!(
        openssl_finding
            .data
            .description
            .contains("USN-5844-1 <https://ubuntu.com/security/notices/USN-5844-1>")
    );

    // The next export: Defender reports openssl healthy on both machines.
    let second = d.env.write(
        "export-2.json",
        &with_status(export(), "CVE-2023-0286", "Healthy").to_string(),
    );
    let out = d.cli(&["ingest", &second]);
    assert!(out.contains("2 fixed") && out.contains("0 new"), "{out}");
    assert!(out.contains("1 closed"), "{out}");
    assert_eq!(d.state_of(&openssl), "Closed");
    assert_eq!(d.state_of(&expat), "New", "still unhealthy");
    assert_eq!(
        d.env.db().findings().unwrap().len(),
        4,
        "the same findings, matched by fingerprint"
    );
}

#[test]
fn a_malformed_defender_export_is_refused_naming_the_field_and_stores_nothing() {
    let d = Defender::new();
    let mut doc = export();
    doc["data"][2]["properties"]["status"]["code"] = "Sick".into();
    let file = d.env.write("broken.json", &doc.to_string());
    let rules = d.env.dir.join("rules.toml").display().to_string();
    let (ok, out) = d.env.run(&["--rules", &rules, "ingest", &file]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("$.data[2].properties.status.code")
            && out.contains("`Sick` is not a Defender status"),
        "{out}"
    );
    assert!(d.env.db().findings().unwrap().is_empty());
}
