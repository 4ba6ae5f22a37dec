//! Shared set-up: one compiled host for the whole test binary, one emulator per test.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use ado_emulator::{Emulator, EmulatorConfig};
use ticketing_runtime::{
    ClientCredentials, Connection, Credentials, Field, FieldValue, Host, Limits, Ticket,
};

pub use ado_emulator::seed;

pub mod cli_env;

/// The real plugin, compiled once for the whole test binary.
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        Host::load_with(
            ticketing_tests::plugin_wasm(),
            Limits::default(),
            &ticketing_tests::host_options(),
        )
        .expect("the plugin component loads")
    })
}

/// The misbehaving fixture component (`tests/fixtures/misbehaving-plugin`)
/// under these limits and engine options.
pub fn misbehaving_with(limits: Limits, options: &ticketing_runtime::HostOptions) -> Host {
    Host::load_with(ticketing_tests::misbehaving_wasm(), limits, options)
        .expect("the fixture loads")
}

pub fn emulator() -> Emulator {
    // Receivers in the tests run on 127.0.0.1, which ADO refuses: opt in.
    Emulator::start(EmulatorConfig::default().with_local_receivers()).expect("the emulator starts")
}

pub fn pat_connection(emu: &Emulator) -> Connection {
    Connection {
        base_url: emu.org_url(),
        project: seed::PROJECT.into(),
        credentials: Credentials::Pat(seed::PAT.into()),
    }
}

pub fn client_credentials(emu: &Emulator, client_id: &str, secret: &str) -> Connection {
    Connection {
        base_url: emu.org_url(),
        project: seed::PROJECT.into(),
        credentials: Credentials::ClientCredentials(ClientCredentials {
            tenant_id: seed::TENANT_ID.into(),
            client_id: client_id.into(),
            client_secret: secret.into(),
            authority: Some(emu.base_url()),
        }),
    }
}

pub fn text(name: &str, value: &str) -> Field {
    Field {
        name: name.into(),
        value: FieldValue::Text(value.into()),
    }
}

pub fn ticket(id: &str, fields: Vec<Field>) -> Ticket {
    Ticket {
        id: id.into(),
        url: format!("https://secops.example/tickets/{id}"),
        fields,
        findings: vec![],
        comments: vec![],
    }
}

pub fn agile_bug_config() -> String {
    std::fs::read_to_string(
        ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json"),
    )
    .expect("examples/outegrations/agile-bug.json")
}

pub fn short_deadline() -> Limits {
    Limits {
        call_deadline: Duration::from_secs(2),
        ..Limits::default()
    }
}

/// A REST call to the emulator as the seeded user, the way another ADO
/// client (a person in the browser) would make it.
pub fn ado(
    emu: &Emulator,
    method: &str,
    path_and_query: &str,
    content_type: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    try_ado(emu, method, path_and_query, content_type, body)
        .unwrap_or_else(|(_, e)| panic!("{method} {path_and_query}: {e}"))
}

/// [`ado`], with the status of a failed call instead of a panic.
pub fn try_ado(
    emu: &Emulator,
    method: &str,
    path_and_query: &str,
    content_type: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, (u16, String)> {
    use base64::Engine as _;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{}", seed::PAT))
    );
    let url = format!(
        "{}/{}",
        emu.org_url(),
        path_and_query.trim_start_matches('/')
    );
    let agent = ureq::Agent::new_with_defaults();
    let mut response = match (method, body) {
        ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
        ("DELETE", _) => agent.delete(&url).header("Authorization", &auth).call(),
        (m, body) => {
            let text = body.map(|b| b.to_string()).unwrap_or_default();
            let req = match m {
                "PATCH" => agent.patch(&url),
                "PUT" => agent.put(&url),
                _ => agent.post(&url),
            };
            req.header("Authorization", &auth)
                .header("Content-Type", content_type)
                .send(text.as_bytes())
        }
    }
    .map_err(|e| match e {
        ureq::Error::StatusCode(status) => (status, format!("{url}: http status: {status}")),
        e => (0, format!("{url}: {e}")),
    })?;
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// A person edits work item `id` in ADO.
///
/// A 412 (TF26071, someone else changed the work item meanwhile: the
/// connector's own write racing this one) is retried, as a person would.
pub fn edit_in_ado(emu: &Emulator, id: i32, ops: serde_json::Value) -> serde_json::Value {
    let path = format!("_apis/wit/workitems/{id}?api-version=7.1");
    for _ in 0..20 {
        match try_ado(
            emu,
            "PATCH",
            &path,
            "application/json-patch+json",
            Some(ops.clone()),
        ) {
            Ok(v) => return v,
            Err((412, _)) => std::thread::sleep(Duration::from_millis(20)),
            Err((_, e)) => panic!("PATCH {e}"),
        }
    }
    panic!("PATCH {path}: still 412 after 20 tries")
}

/// The comments of a work item, oldest first.
pub fn comments_of(emu: &Emulator, project: &str, id: i32) -> Vec<serde_json::Value> {
    let project = project.replace(' ', "%20");
    let page = ado(
        emu,
        "GET",
        &format!("{project}/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4&$top=200"),
        "",
        None,
    );
    let mut list = page["comments"].as_array().cloned().unwrap_or_default();
    list.sort_by_key(|c| c["id"].as_i64());
    list
}

/// Ids of the work items of `project` carrying `tag` (WIQL, as ADO answers it).
pub fn ids_with_tag(emu: &Emulator, project: &str, tag: &str) -> Vec<i64> {
    let project = project.replace(' ', "%20");
    let q = format!(
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS '{tag}'"
    );
    let r = ado(
        emu,
        "POST",
        &format!("{project}/_apis/wit/wiql?api-version=7.1"),
        "application/json",
        Some(serde_json::json!({"query": q})),
    );
    r["workItems"]
        .as_array()
        .map(|l| l.iter().filter_map(|w| w["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// An example outegration config from `examples/outegrations/`.
pub fn example_config(name: &str) -> String {
    std::fs::read_to_string(
        ticketing_tests::workspace_root()
            .join("examples/outegrations")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A config with one JSON member replaced (`/sync/auto_close/state`...).
pub fn config_with(config: &str, pointer: &str, value: serde_json::Value) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(config).expect("config JSON");
    *doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the config")) = value;
    doc.to_string()
}

/// A ticket finding.
pub fn finding(id: &str, status: &str, title: &str) -> ticketing_runtime::Finding {
    ticketing_runtime::Finding {
        id: id.into(),
        status: status.into(),
        fields: vec![text("title", title)],
    }
}

/// A ticket comment.
pub fn comment(id: &str, author: &str, text: &str) -> ticketing_runtime::Comment {
    ticketing_runtime::Comment {
        id: id.into(),
        author: author.into(),
        created: "2026-11-29T10:00:00Z".into(),
        text: text.into(),
    }
}

/// Runs one `ticketing-host` command line in process, as the binary does,
/// with the shared compiled host: whether it succeeded, and its output
/// (the error, if any, as a last `error:` line).
pub fn run_cli(argv: Vec<String>) -> (bool, String) {
    use clap::Parser as _;
    let cli = ticketing_host::cli::Cli::parse_from(argv);
    let mut out = Vec::new();
    let result = ticketing_host::cli::run_with(&cli, host(), &mut out);
    let mut text = String::from_utf8(out).expect("the CLI writes UTF-8");
    if let Err(e) = &result {
        text.push_str(&format!("error: {e:#}\n"));
    }
    (result.is_ok(), text)
}

/// A new empty folder under the temp dir, `{prefix}-{pid}-{n}`: unique per
/// call, so tests running in parallel never share one.
pub fn fresh_dir(prefix: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}
