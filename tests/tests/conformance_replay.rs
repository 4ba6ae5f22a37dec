//! The live conformance suite (`src/bin/conformance.rs`) and its fixtures
//! replayed against the emulator. The suite runs here against an emulator
//! standing in for the organization (the same code as against a real one),
//! and every recorded exchange is then sent again to a fresh emulator: the
//! status, ADO's error code and the key sets of the answer must match,
//! each difference listed by operation. Fixtures recorded from a real
//! organization and kept under `tests/conformance/` are replayed the same
//! way. Without `ADO_LIVE_*` the suite says it was skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use ado_emulator::{Emulator, EmulatorConfig, seed};
use base64::Engine as _;
use serde_json::Value;

fn suite() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_conformance"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ADO_LIVE_") {
            c.env_remove(k);
        }
    }
    c
}

/// Members whose keys are data (field names, link names), not shape.
const MAPS: &[&str] = &["fields", "_links", "attributes", "customProperties"];

fn keys(v: &Value, path: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            let name = path.rsplit('.').next().unwrap_or_default();
            if MAPS.contains(&name) {
                return;
            }
            for (k, x) in o {
                let p = format!("{path}.{k}");
                out.insert(p.clone());
                keys(x, &p, out);
            }
        }
        Value::Array(a) => {
            if let Some(first) = a.first() {
                keys(first, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// `TF401232` of "TF401232: Work item ... does not exist".
fn code(body: &Value) -> Option<String> {
    let m = body["message"].as_str()?;
    let (c, _) = m.split_once(':')?;
    (c.len() <= 12 && !c.contains(' ')).then(|| c.to_string())
}

/// Ids the recorded answer had where the replayed one has others
/// (attachment and subscription GUIDs, work item ids), learnt by position.
fn learn(recorded: &Value, actual: &Value, map: &mut Vec<(String, String)>) {
    match (recorded, actual) {
        (Value::Object(r), Value::Object(a)) => {
            for (k, rv) in r {
                if let Some(av) = a.get(k) {
                    if k == "id" && rv != av && !rv.is_object() {
                        let s = |v: &Value| v.as_str().map(str::to_string).unwrap_or(v.to_string());
                        map.push((s(rv), s(av)));
                    }
                    learn(rv, av, map);
                }
            }
        }
        (Value::Array(r), Value::Array(a)) => {
            for (rv, av) in r.iter().zip(a) {
                learn(rv, av, map);
            }
        }
        _ => {}
    }
}

fn substitute(text: &str, emu: &Emulator, map: &[(String, String)]) -> String {
    let mut t = text
        .replace("{base}", &emu.base_url())
        .replace("{org}", seed::ORGANIZATION)
        .replace("{project}", &seed::PROJECT.replace(' ', "%20"))
        .replace(
            "{project_id}",
            &emu.project_id(seed::PROJECT).unwrap_or_default(),
        );
    for (from, to) in map {
        // Whole path segments and quoted JSON values only.
        t = t
            .replace(&format!("/{from}/"), &format!("/{to}/"))
            .replace(&format!("/{from}?"), &format!("/{to}?"))
            .replace(&format!("\"{from}\""), &format!("\"{to}\""))
            .replace(&format!("/{from}\""), &format!("/{to}\""));
    }
    t
}

/// Every difference between the fixtures in `dir` and a fresh emulator.
fn replay(dir: &Path) -> Vec<String> {
    let emu = Emulator::start(EmulatorConfig::default()).expect("the emulator starts");
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{}", seed::PAT))
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the fixture directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut map = Vec::new();
    let mut found = Vec::new();
    for file in files {
        let x: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let method = x["method"].as_str().unwrap();
        let path = substitute(x["path"].as_str().unwrap(), &emu, &map);
        let op = format!(
            "{} {method} {}",
            x["step"].as_str().unwrap_or_default(),
            x["path"].as_str().unwrap()
        );
        let url = format!("{}{path}", emu.base_url());
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", &auth)
            .header("X-TFS-FedAuthRedirect", "Suppress");
        let (content_type, body) = match &x["requestBody"] {
            Value::Null if method == "GET" || method == "DELETE" => (None, Vec::new()),
            Value::Null => (Some("application/octet-stream"), b"conformance".to_vec()),
            b => (
                Some(if b.is_array() {
                    "application/json-patch+json"
                } else {
                    "application/json"
                }),
                substitute(&b.to_string(), &emu, &map).into_bytes(),
            ),
        };
        let request = match content_type {
            Some(ct) => request.header("Content-Type", ct),
            None => request,
        };
        let mut answer = agent
            .run(request.body(body).unwrap())
            .expect("the emulator answers");
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string().unwrap_or_default();
        let actual: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let recorded = &x["responseBody"];
        if status != x["status"].as_u64().unwrap_or(0) as u16 {
            found.push(format!("{op}: status {status}, recorded {}", x["status"]));
            continue;
        }
        if code(recorded) != code(&actual) {
            found.push(format!(
                "{op}: error code {:?}, recorded {:?}",
                code(&actual),
                code(recorded)
            ));
        }
        let (mut want, mut got) = (BTreeSet::new(), BTreeSet::new());
        keys(recorded, "$", &mut want);
        keys(&actual, "$", &mut got);
        for k in want.difference(&got) {
            found.push(format!("{op}: {k} missing from the emulator's answer"));
        }
        for k in got.difference(&want) {
            found.push(format!("{op}: {k} in the emulator's answer only"));
        }
        learn(recorded, &actual, &mut map);
    }
    found
}

#[test]
fn without_the_live_variables_the_suite_says_it_was_skipped_and_checks_nothing() {
    let out = suite().output().expect("the suite runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("skipped: ADO_LIVE_URL"), "{stdout}");
}

#[test]
fn the_suite_run_against_the_emulator_records_fixtures_that_replay_without_differences() {
    let root = std::env::temp_dir().join(format!("conformance-{}", std::process::id()));
    let out = suite()
        .args(["--emulator", "--fixtures"])
        .arg(&root)
        .output()
        .expect("the suite runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "connection test",
        "dispatch with attachment",
        "sync with a conflict",
        "close",
        "reopen",
        "bulk close",
        "subscription delete",
        "clean up",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(step)),
            "{step}: {stdout}"
        );
    }
    let dir = std::fs::read_dir(&root)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let fixtures = std::fs::read_dir(&dir).unwrap().count();
    assert!(fixtures > 20, "{fixtures} exchanges recorded");
    // Nothing secret is kept.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains(seed::PAT) && !text.contains(seed::USER_EMAIL),
            "{text}"
        );
    }
    let differences = replay(&dir);
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        differences.is_empty(),
        "{} difference(s):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Recordings from real organizations, checked in under `tests/conformance/`.
#[test]
fn recorded_organizations_replay_against_the_emulator_with_every_difference_listed() {
    let root = ticketing_tests::workspace_root().join("tests/conformance");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return;
    };
    let mut all = Vec::new();
    for d in dirs {
        let d = d.unwrap().path();
        if d.is_dir() {
            all.extend(
                replay(&d)
                    .into_iter()
                    .map(|x| format!("{}: {x}", d.display())),
            );
        }
    }
    assert!(
        all.is_empty(),
        "{} difference(s):\n{}",
        all.len(),
        all.join("\n")
    );
}
