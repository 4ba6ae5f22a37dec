//! Ticketing rules end to end: SARIF logs of several scanners ingested into
//! the host's store, the rules dispatching, closing and reopening work items
//! in the emulator through the real plugin, driven through `cli::run_with`
//! as the `ticketing-host` binary does.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ado_emulator::Emulator;
use common::seed;
use serde_json::{Value, json};
use ticketing_host::state::db::Db;

const RULES: &str = r#"
group_by = ["vulnerability"]

[outegrations.bugs]
config = "bugs.json"

[outegrations.iac]
config = "iac.json"

# Infrastructure as code: a risk accepted for now closes the work item.
[[rules]]
name = "iac-high"
outegration = "iac"
when = { severity_at_least = "high", scanner = "Checkov" }
close_state = "Closed"
ignore_temporary_statuses = false

# Everything else high or worse: only a real fix closes.
[[rules]]
name = "high-and-worse"
outegration = "bugs"
when = { severity_at_least = "high" }
initial_state = "New"
close_state = "Closed"
ignore_temporary_statuses = true
"#;

const SCANS: &[&str] = &[
    "codeql.sarif",
    "semgrep.sarif",
    "trivy-web.sarif",
    "trivy-api.sarif",
    "checkov.sarif",
];

struct Env {
    dir: PathBuf,
    emu: Emulator,
}

impl Env {
    fn new() -> Env {
        let dir = common::fresh_dir("rules-e2e");
        let emu = common::emulator();
        let env = Env { dir, emu };
        env.write("secrets.toml", &format!("pat = \"{}\"\n", seed::PAT));
        env.write(
            "host.toml",
            &format!(
                "[connection]\nbase_url = \"{}\"\nproject = \"{}\"\nauth = \"pat\"\n",
                env.emu.org_url(),
                seed::PROJECT
            ),
        );
        let config = common::example_config("agile-bug.json");
        env.write("bugs.json", &config);
        env.write("iac.json", &config);
        env.write("rules.toml", RULES);
        env
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn run(&self, args: &[&str]) -> (bool, String) {
        let p = |n: &str| self.dir.join(n).display().to_string();
        let mut argv: Vec<String> = vec![
            "ticketing-host".into(),
            "--config".into(),
            p("host.toml"),
            "--secrets".into(),
            p("secrets.toml"),
            "--state".into(),
            p("state.db"),
            "--rules".into(),
            p("rules.toml"),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        common::run_cli(argv)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.run(args);
        assert!(ok, "`{}` failed:\n{out}", args.join(" "));
        out
    }

    fn db(&self) -> Db {
        Db::open(&self.dir.join("state.db")).unwrap()
    }

    /// Ingests files (paths) and runs the rules.
    fn ingest(&self, files: &[String]) -> String {
        let mut args = vec!["ingest"];
        args.extend(files.iter().map(String::as_str));
        self.ok(&args)
    }

    /// The ticket the (first) finding of `rule_id` was grouped into.
    fn ticket_of(&self, rule_id: &str) -> String {
        self.db()
            .findings()
            .unwrap()
            .into_iter()
            .find(|r| r.data.rule_id == rule_id)
            .unwrap_or_else(|| panic!("no finding of rule {rule_id}"))
            .ticket_id
    }

    fn work_item_of(&self, ticket: &str) -> i32 {
        self.db()
            .link(ticket)
            .unwrap()
            .unwrap_or_else(|| panic!("{ticket} has no work item"))
            .link
            .work_item_id
    }

    fn state_of(&self, ticket: &str) -> String {
        let item = self.emu.work_item(self.work_item_of(ticket)).unwrap();
        item["fields"]["System.State"].as_str().unwrap().to_string()
    }

    /// Every work item in the emulator: id → rev.
    fn revisions(&self) -> BTreeMap<i32, i64> {
        let mut out = BTreeMap::new();
        let mut misses = 0;
        let mut id = 1;
        // Ids are handed out in order; stop after a run of gaps.
        while misses < 20 {
            match self.emu.work_item(id) {
                Some(item) => {
                    out.insert(id, item["rev"].as_i64().unwrap());
                    misses = 0;
                }
                None => misses += 1,
            }
            id += 1;
        }
        out
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(name: &str) -> PathBuf {
    ticketing_tests::workspace_root()
        .join("tests/fixtures/sarif")
        .join(name)
}

fn sarif(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// The log without the results of `rule_id` (the scanner no longer sees them).
fn without(mut log: Value, rule_id: &str) -> Value {
    log["runs"][0]["results"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["ruleId"] != rule_id);
    log
}

/// The log with the results of `rule_id` suppressed (risk accepted).
fn suppressed(mut log: Value, rule_id: &str) -> Value {
    for r in log["runs"][0]["results"].as_array_mut().unwrap() {
        if r["ruleId"] == rule_id {
            r["suppressions"] = json!([{ "kind": "external", "status": "accepted", "justification": "compensating WAF rule until 2027-01" }]);
        }
    }
    log
}

fn first_scan(env: &Env) -> String {
    let files: Vec<String> = SCANS
        .iter()
        .map(|s| fixture(s).display().to_string())
        .collect();
    env.ingest(&files)
}

#[test]
fn ingested_sarif_of_four_scanners_dispatches_the_tickets_the_rules_match() {
    let env = Env::new();
    let out = first_scan(&env);
    assert!(
        out.contains("rules run: 5 created, 0 updated, 0 closed, 0 reopened, 0 unchanged, 0 skipped, 0 failed, 3 not matched by any rule"),
        "{out}"
    );
    assert!(
        out.contains("ingest: 5 file(s), 9 finding(s): 9 new"),
        "{out}"
    );
    assert_eq!(env.revisions().len(), 5, "five work items in ADO");
    // One ticket per vulnerability: the openssl CVE on two images is one work item.
    let openssl = env.ticket_of("CVE-2023-0286");
    let ticket = env.db().ticket(&openssl).unwrap();
    assert_eq!(ticket.findings.len(), 2);
    let item = env.emu.work_item(env.work_item_of(&openssl)).unwrap();
    assert!(
        item["fields"]["System.Title"]
            .as_str()
            .unwrap()
            .starts_with("CVE-2023-0286: openssl"),
        "{item}"
    );
    assert_eq!(item["fields"]["System.State"], "New");
    assert_eq!(item["fields"]["Microsoft.VSTS.Common.Priority"], 2, "HIGH");
    let expat = env
        .emu
        .work_item(env.work_item_of(&env.ticket_of("CVE-2022-40674")))
        .unwrap();
    assert_eq!(
        expat["fields"]["Microsoft.VSTS.Common.Priority"], 1,
        "CRITICAL"
    );
    // Each rule dispatched through its own outegration.
    let iac = env
        .db()
        .link(&env.ticket_of("CKV_AWS_20"))
        .unwrap()
        .unwrap();
    assert!(iac.outegration.ends_with("iac.json"), "{}", iac.outegration);
    let code = env
        .db()
        .link(&env.ticket_of("js/sql-injection"))
        .unwrap()
        .unwrap();
    assert!(
        code.outegration.ends_with("bugs.json"),
        "{}",
        code.outegration
    );
    // Medium findings match no rule and stay in the host.
    for medium in [
        "js/reflected-xss",
        "python.django.security.audit.django-debug-true",
        "CKV_AWS_18",
    ] {
        assert!(
            env.db().link(&env.ticket_of(medium)).unwrap().is_none(),
            "{medium}"
        );
    }
}

#[test]
fn running_the_rules_twice_creates_and_changes_nothing_new() {
    let env = Env::new();
    first_scan(&env);
    let before = env.revisions();
    let check = env.ok(&["rules", "check"]);
    assert!(
        check.contains("rules check: 0 created, 0 updated, 0 closed, 0 reopened, 5 unchanged"),
        "{check}"
    );
    let out = env.ok(&["rules", "run"]);
    assert!(
        out.contains("rules run: 0 created, 0 updated, 0 closed, 0 reopened, 5 unchanged, 0 skipped, 0 failed"),
        "{out}"
    );
    assert_eq!(
        env.revisions(),
        before,
        "no work item and no revision was added"
    );
    // Re-ingesting the very same scan changes nothing either.
    let out = first_scan(&env);
    assert!(out.contains("9 still open"), "{out}");
    assert!(out.contains("5 unchanged"), "{out}");
    assert_eq!(env.revisions(), before);
}

#[test]
fn a_rescan_closes_exactly_the_fully_remediated_work_items_and_a_regression_reopens() {
    let env = Env::new();
    first_scan(&env);
    let sql = env.ticket_of("js/sql-injection");
    let eval = env.ticket_of("python.lang.security.audit.eval-detected.eval-detected");
    let openssl = env.ticket_of("CVE-2023-0286");
    let expat = env.ticket_of("CVE-2022-40674");
    let bucket = env.ticket_of("CKV_AWS_20");

    // Second scan: the SQL injection and the openssl CVE (both images) are
    // fixed; eval() and the public bucket are risk-accepted (a temporary
    // status); expat is still there.
    let second = [
        (
            "codeql-2.sarif",
            without(sarif("codeql.sarif"), "js/sql-injection"),
        ),
        (
            "semgrep-2.sarif",
            suppressed(
                sarif("semgrep.sarif"),
                "python.lang.security.audit.eval-detected.eval-detected",
            ),
        ),
        (
            "trivy-web-2.sarif",
            without(sarif("trivy-web.sarif"), "CVE-2023-0286"),
        ),
        (
            "trivy-api-2.sarif",
            without(sarif("trivy-api.sarif"), "CVE-2023-0286"),
        ),
        (
            "checkov-2.sarif",
            suppressed(sarif("checkov.sarif"), "CKV_AWS_20"),
        ),
    ]
    .map(|(name, log)| env.write(name, &log.to_string()));
    let ingested = env.ok(&[
        "ingest",
        "--no-rules",
        &second[0],
        &second[1],
        &second[2],
        &second[3],
        &second[4],
    ]);
    assert!(ingested.contains("3 fixed"), "{ingested}");
    let plan = env.ok(&["rules", "check"]);
    assert!(
        plan.contains(&format!("{sql} [high-and-worse] would close")),
        "{plan}"
    );
    let before_run = env.revisions();
    let out = env.ok(&["rules", "run"]);
    assert!(
        out.contains("rules run: 0 created, 1 updated, 3 closed, 0 reopened, 1 unchanged, 0 skipped, 0 failed"),
        "{out}"
    );
    assert_eq!(before_run.len(), env.revisions().len(), "nothing created");
    assert_eq!(env.state_of(&sql), "Closed");
    assert_eq!(env.state_of(&openssl), "Closed", "both images fixed");
    assert_eq!(
        env.state_of(&bucket),
        "Closed",
        "the IaC rule counts a temporary status as done"
    );
    assert_ne!(
        env.state_of(&eval),
        "Closed",
        "only a temporary status: the rule ignores it"
    );
    assert_ne!(env.state_of(&expat), "Closed", "still found");

    // Third scan: the SQL injection is back.
    let out = env.ingest(&[fixture("codeql.sarif").display().to_string()]);
    assert!(out.contains("1 reappeared"), "{out}");
    assert!(
        out.contains("0 created, 0 updated, 0 closed, 1 reopened"),
        "{out}"
    );
    assert_ne!(env.state_of(&sql), "Closed");
    assert_eq!(env.state_of(&openssl), "Closed", "other work items stay");
    let again = env.ok(&["rules", "run"]);
    assert!(
        again.contains("0 created, 0 updated, 0 closed, 0 reopened, 5 unchanged"),
        "{again}"
    );
}

#[test]
fn dispatch_refuses_an_outegration_whose_visibility_does_not_offer_the_ticket() {
    let env = Env::new();
    env.ok(&[
        "ingest",
        "--no-rules",
        &fixture("codeql.sarif").display().to_string(),
    ]);
    let (high, medium) = (
        env.ticket_of("js/sql-injection"),
        env.ticket_of("js/reflected-xss"),
    );
    env.write(
        "rules.toml",
        "[outegrations.bugs]\nconfig = \"bugs.json\"\nvisibility = \"filter\"\nfilter = { severity_at_least = \"high\" }\n\n[outegrations.iac]\nconfig = \"iac.json\"\nvisibility = \"never\"\n",
    );
    let before = env.revisions();
    let bugs = env.dir.join("bugs.json").display().to_string();
    let iac = env.dir.join("iac.json").display().to_string();
    let (ok, out) = env.run(&["dispatch", "--outegration", &bugs, &medium]);
    assert!(!ok);
    assert!(
        out.contains(&format!("dispatch of ticket {medium} to outegration `bugs` is not offered: it does not match the outegration's filter")),
        "{out}"
    );
    assert!(out.contains("severity MEDIUM is below HIGH"), "{out}");
    let (ok, out) = env.run(&["dispatch", "--outegration", &iac, &high]);
    assert!(!ok);
    assert!(out.contains("its visibility is \"never\""), "{out}");
    assert_eq!(env.revisions(), before, "nothing reached ADO");
    let out = env.ok(&["dispatch", "--outegration", &bugs, &high]);
    assert!(out.contains(&format!("{high} -> work item")), "{out}");
}

#[test]
fn a_broken_sarif_file_is_refused_by_name_and_stores_nothing() {
    let env = Env::new();
    first_scan(&env);
    let before = env.db().findings().unwrap();
    let bad = env.write(
        "broken.sarif",
        "{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"CodeQL\"}},\n \"results\": [{\"ruleId\": \"x\", \"level\": \"severe\", \"message\": {\"text\": \"m\"}}]}]}",
    );
    let (ok, out) = env.run(&["ingest", &bad]);
    assert!(!ok);
    assert!(
        out.contains(&format!(
            "{bad}: runs[0].results[0].level: level `severe` is not one of"
        )),
        "{out}"
    );
    assert_eq!(env.db().findings().unwrap(), before);
}
