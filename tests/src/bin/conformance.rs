//! The live conformance suite: the connector's whole lifecycle against a
//! real Azure DevOps organization, every request and answer recorded
//! (scrubbed of secrets and identities) as fixtures that
//! `tests/tests/conformance_replay.rs` replays against the emulator.
//!
//! ```text
//! ADO_LIVE_URL=https://dev.azure.com/myorg ADO_LIVE_PROJECT=Sandbox ADO_LIVE_PAT=... \
//!   cargo run --bin conformance -- --fixtures tests/conformance/myorg
//! ```
//! Entra ID instead of a PAT: `ADO_LIVE_TENANT_ID`, `ADO_LIVE_CLIENT_ID`,
//! `ADO_LIVE_CLIENT_SECRET`. Service-hook subscriptions are created,
//! read and deleted only with `ADO_LIVE_PUBLIC_URL` (a public HTTPS URL:
//! ADO refuses loopback receivers). Without the variables it prints one
//! line, `skipped: ...`, and exits 0. `--emulator` runs the same code
//! against a fresh emulator standing in for the organization (CI does).
//! Everything it creates is deleted at the end (work items destroyed,
//! subscriptions removed); the project must exist and use the Agile process.

use std::path::{Path, PathBuf};

use ado_emulator::recorder::{Exchange, Recorder};
use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::Parser;
use serde_json::{Value, json};
use ticketing_runtime::{
    ClientCredentials, CloseItem, Comment, Connection, Credentials, DeliveryAuth, Field,
    FieldValue, Finding, Host, Limits, Ticket,
};

/// Live conformance suite: the connector's lifecycle against an ADO organization.
#[derive(Debug, Parser)]
#[command(name = "conformance")]
struct Args {
    /// Where the scrubbed fixtures go (one directory per run).
    #[arg(long, default_value = "target/conformance")]
    fixtures: PathBuf,
    /// Run against a fresh emulator instead of ADO_LIVE_URL (same code path).
    #[arg(long)]
    emulator: bool,
}

/// What the suite runs against.
struct Target {
    org_url: String,
    project: String,
    credentials: Credentials,
    /// Basic auth header for the "person" editing through the REST API.
    person: Option<String>,
    public_url: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The target from the environment; `Err` says what is missing.
fn live_target() -> Result<Target, String> {
    let (Some(org_url), Some(project)) = (env("ADO_LIVE_URL"), env("ADO_LIVE_PROJECT")) else {
        return Err("ADO_LIVE_URL and ADO_LIVE_PROJECT are not set".into());
    };
    let basic = |pat: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(":{pat}"))
        )
    };
    let (credentials, person) = match (
        env("ADO_LIVE_PAT"),
        env("ADO_LIVE_TENANT_ID"),
        env("ADO_LIVE_CLIENT_ID"),
        env("ADO_LIVE_CLIENT_SECRET"),
    ) {
        (Some(pat), ..) => (Credentials::Pat(pat.clone()), Some(basic(&pat))),
        (None, Some(tenant_id), Some(client_id), Some(client_secret)) => (
            Credentials::ClientCredentials(ClientCredentials {
                tenant_id,
                client_id,
                client_secret,
                authority: None,
            }),
            None,
        ),
        _ => return Err("neither ADO_LIVE_PAT nor ADO_LIVE_TENANT_ID, ADO_LIVE_CLIENT_ID and ADO_LIVE_CLIENT_SECRET are set".into()),
    };
    Ok(Target {
        org_url,
        project,
        credentials,
        person,
        public_url: env("ADO_LIVE_PUBLIC_URL"),
    })
}

/// The organization's path in its URL (`myorg` of `https://dev.azure.com/myorg`).
fn org_path(org_url: &str) -> String {
    let rest = org_url.split_once("://").map_or(org_url, |(_, r)| r);
    rest.split_once('/')
        .map_or("", |(_, p)| p)
        .trim_matches('/')
        .to_string()
}

fn text(name: &str, value: &str) -> Field {
    Field {
        name: name.into(),
        value: FieldValue::Text(value.into()),
    }
}

fn ticket(id: &str, title: &str) -> Ticket {
    Ticket {
        id: id.into(),
        url: format!("https://secops.example/tickets/{id}"),
        fields: vec![text("title", title), text("severity", "HIGH")],
        findings: vec![Finding {
            id: format!("{id}-F1"),
            status: "open".into(),
            fields: vec![
                text("title", "CVE-2026-0001 in openssl"),
                text("severity", "HIGH"),
            ],
        }],
        comments: vec![],
    }
}

/// One step's exchanges, kept with the step's name.
struct Run {
    recorder: Recorder,
    /// Scrubbed from the fixtures like the project's name.
    project_id: Option<String>,
    steps: Vec<(String, Vec<Exchange>)>,
}

impl Run {
    fn step<T>(&mut self, name: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        let out = f().with_context(|| format!("step `{name}`"));
        self.steps.push((name.into(), self.recorder.take()));
        println!("{} {name}", if out.is_ok() { "ok  " } else { "FAIL" });
        out
    }
}

/// A person's REST call (a comment, an edit) through the recorder.
fn person(auth: &str, method: &str, url: &str, ct: &str, body: Value) -> anyhow::Result<Value> {
    let agent = ureq::Agent::new_with_defaults();
    let req = match method {
        "PATCH" => agent.patch(url),
        _ => agent.post(url),
    };
    let mut answer = req
        .header("Authorization", auth)
        .header("Content-Type", ct)
        .send(body.to_string().as_bytes())
        .with_context(|| format!("{method} {url}"))?;
    Ok(serde_json::from_str(&answer.body_mut().read_to_string()?)?)
}

fn lifecycle(host: &Host, target: &Target, run: &mut Run) -> anyhow::Result<()> {
    let path = format!("/{}", org_path(&target.org_url));
    let org_url = format!("{}{path}", run.recorder.base_url());
    let conn = Connection {
        base_url: org_url.clone(),
        project: target.project.clone(),
        credentials: target.credentials.clone(),
    };
    let config = std::fs::read_to_string(
        ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json"),
    )?;
    let project_api = format!("{org_url}/{}/_apis", target.project.replace(' ', "%20"));
    let mut created = Vec::new();

    let info = run.step("connection test", || Ok(host.test_connection(&conn)?))?;
    run.project_id = Some(info.project_id);
    run.step("schema", || {
        host.work_item_types(&conn)?;
        host.fields(&conn, "Bug")?;
        Ok(host.states(&conn, "Bug")?)
    })?;
    let before = ticket("CONF-1", "Conformance: outdated OpenSSL");
    let link = run.step("dispatch with attachment", || {
        Ok(host.create(&conn, &config, &before)?)
    })?;
    created.push(link.work_item_id);

    let result = (|| -> anyhow::Result<()> {
        if let Some(auth) = &target.person {
            run.step("a person edits the title in ADO", || {
                person(auth, "PATCH", &format!("{project_api}/wit/workitems/{}?api-version=7.1", link.work_item_id),
                    "application/json-patch+json",
                    json!([{"op": "add", "path": "/fields/System.Title", "value": "Edited by a person"}]))
            })?;
        }
        let mut after = before.clone();
        after.fields[0] = text("title", "Conformance: outdated OpenSSL on proxies");
        after.comments.push(Comment {
            id: "C-1".into(),
            author: "Conformance".into(),
            created: "2026-01-01T00:00:00Z".into(),
            text: "Scanner re-ran: still vulnerable.".into(),
        });
        let pushed = run.step("sync with a conflict and a comment", || {
            Ok(host.push(&conn, &config, &link, &before, &after)?)
        })?;
        if let Some(auth) = &target.person {
            run.step("a person comments in ADO", || {
                person(
                    auth,
                    "POST",
                    &format!(
                        "{project_api}/wit/workItems/{}/comments?api-version=7.1-preview.4",
                        link.work_item_id
                    ),
                    "application/json",
                    json!({"text": "Fixed in the next release."}),
                )
            })?;
        }
        let link = pushed.link;
        let closed = run.step("close", || {
            Ok(host.close(&conn, &config, &link, "all findings remediated")?)
        })?;
        let reopened = run.step("reopen", || {
            Ok(host.reopen(&conn, &config, &closed.link, "a finding came back")?)
        })?;
        let second = run.step("dispatch a second ticket", || {
            Ok(host.create(&conn, &config, &ticket("CONF-2", "Conformance: weak TLS"))?)
        })?;
        created.push(second.work_item_id);
        run.step("bulk close", || {
            let items = [reopened.link.clone(), second].map(|link| CloseItem {
                config: config.clone(),
                link,
            });
            Ok(host.bulk_close(&conn, &items, "remediated")?)
        })?;
        if let Some(public) = &target.public_url {
            let auth = DeliveryAuth::Basic(("conformance".into(), uuid_like()));
            let subs = run.step("subscription create", || {
                Ok(host.subscribe(&conn, &config, public, &auth)?)
            })?;
            let ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
            let status = run.step("subscription status", || {
                Ok(host.subscription_status(&conn, &ids)?)
            });
            run.step("subscription delete", || Ok(host.unsubscribe(&conn, &ids)?))?;
            status?;
        } else {
            println!("not run: subscriptions (ADO_LIVE_PUBLIC_URL is not set)");
        }
        Ok(())
    })();
    // Whatever happened, nothing created stays behind.
    run.step("clean up", || {
        let agent = ureq::Agent::new_with_defaults();
        for id in &created {
            let url = format!("{project_api}/wit/workitems/{id}?destroy=true&api-version=7.1");
            if let Some(auth) = &target.person {
                let _ = agent.delete(&url).header("Authorization", auth).call();
            }
        }
        Ok(())
    })?;
    result
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

fn main() {
    let args = Args::parse();
    match go(&args) {
        Ok(Some(dir)) => println!("fixtures: {}", dir.display()),
        Ok(None) => {}
        Err(e) => {
            eprintln!("conformance failed: {e:#}");
            std::process::exit(1);
        }
    }
}

fn go(args: &Args) -> anyhow::Result<Option<PathBuf>> {
    let emulator;
    let target = if args.emulator {
        emulator = ado_emulator::Emulator::start(ado_emulator::EmulatorConfig::default())?;
        Target {
            org_url: emulator.org_url(),
            project: ado_emulator::seed::PROJECT.into(),
            credentials: Credentials::Pat(ado_emulator::seed::PAT.into()),
            person: Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!(":{}", ado_emulator::seed::PAT))
            )),
            // Not loopback, so accepted as ADO would; nothing is delivered.
            public_url: Some("https://hooks.example/secops".into()),
        }
    } else {
        match live_target() {
            Ok(t) => t,
            Err(why) => {
                println!(
                    "skipped: {why} (see README, \"Live conformance suite\"); nothing was checked"
                );
                return Ok(None);
            }
        }
    };
    let host = Host::load_with(
        ticketing_tests::plugin_wasm(),
        Limits::default(),
        &ticketing_tests::host_options(),
    )?;
    let mut run = Run {
        recorder: Recorder::start(&target.org_url)?,
        project_id: None,
        steps: vec![],
    };
    let outcome = lifecycle(&host, &target, &mut run);
    let dir = write_fixtures(&args.fixtures, &target, &run)?;
    outcome?;
    Ok(Some(dir))
}

/// Scrubs and writes one file per exchange, `NNN.json`, in step order.
fn write_fixtures(root: &Path, target: &Target, run: &Run) -> anyhow::Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let dir = root.join(format!("run-{stamp}"));
    std::fs::create_dir_all(&dir)?;
    let scrub = Scrub::new(target, run);
    let mut n = 0;
    for (step, exchanges) in &run.steps {
        for x in exchanges {
            n += 1;
            let fixture = json!({
                "step": step,
                "method": x.method,
                "path": scrub.text(&x.path),
                "requestBody": x.request_body.as_deref().map(|b| scrub.body(b)),
                "status": x.status,
                "responseBody": x.response_body.as_deref().map(|b| scrub.body(b)),
            });
            std::fs::write(
                dir.join(format!("{n:03}.json")),
                serde_json::to_string_pretty(&fixture)?,
            )?;
        }
    }
    if n == 0 {
        bail!("nothing was recorded");
    }
    Ok(dir)
}

/// Replaces what identifies the organization, its people and secrets.
struct Scrub {
    pairs: Vec<(String, String)>,
}

impl Scrub {
    fn new(target: &Target, run: &Run) -> Scrub {
        let recorder = run.recorder.base_url();
        let org_path = org_path(&target.org_url);
        let mut pairs = vec![
            (recorder, "{base}".to_string()),
            (format!("/{org_path}/"), "/{org}/".to_string()),
            (target.project.replace(' ', "%20"), "{project}".to_string()),
            (target.project.clone(), "{project}".to_string()),
        ];
        if let Some(id) = &run.project_id {
            pairs.push((id.clone(), "{project_id}".into()));
        }
        if let Credentials::Pat(p) = &target.credentials {
            pairs.push((p.clone(), "{secret}".into()));
        }
        if let Credentials::ClientCredentials(c) = &target.credentials {
            pairs.push((c.client_secret.clone(), "{secret}".into()));
        }
        Scrub { pairs }
    }

    fn text(&self, s: &str) -> String {
        self.pairs
            .iter()
            .fold(s.to_string(), |acc, (from, to)| acc.replace(from, to))
    }

    /// JSON bodies keep their shape: identities lose name, mail and ids.
    fn body(&self, s: &str) -> Value {
        match serde_json::from_str::<Value>(&self.text(s)) {
            Ok(mut v) => {
                people(&mut v);
                v
            }
            Err(_) => Value::String("{non-JSON body}".into()),
        }
    }
}

/// An identity object (it has `uniqueName`) keeps its keys, not its values.
fn people(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.contains_key("uniqueName") {
                for (k, x) in o.iter_mut() {
                    if x.is_string() && k != "url" {
                        *x = Value::String(format!("{{{k}}}"));
                    }
                }
            }
            for x in o.values_mut() {
                people(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(people),
        Value::String(s)
            if s.split(|c: char| c.is_whitespace() || c == '<' || c == '>')
                .any(|t| t.contains('@') && t.contains('.')) =>
        {
            *s = "{person}".into();
        }
        _ => {}
    }
}
