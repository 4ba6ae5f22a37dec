//! The Spin service under test: the emulator, the built Spin component in
//! the harness with variables pointing at it, and a client whose every call
//! is checked against `openapi.json`.

pub mod callback;
pub mod harness;
pub mod kv;
pub mod manifest;
pub mod openapi;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use ado_emulator::hooks::HookSettings;
use ado_emulator::{Emulator, EmulatorConfig, seed};
use serde_json::Value;

pub use harness::SpinApp;
use openapi::OpenApi;

pub const API_TOKEN: &str = "api-token-7b0c2e9d4f1a";
pub const WEBHOOK_PASSWORD: &str = "hook-pw-3e8a91c4d2b7";

/// An answer: status, headers (lower-case names), JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The error's remediation text; "" when it has none.
    pub fn remediation(&self) -> &str {
        self.body["error"]["remediation"].as_str().unwrap_or("")
    }
}

pub fn openapi() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(OpenApi::load)
}

/// An emulator whose service hooks may deliver to loopback, quickly.
pub fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        hooks: HookSettings {
            allow_local_urls: true,
            ..HookSettings::fast(Duration::from_millis(10))
        },
        ..Default::default()
    })
    .expect("the emulator starts")
}

/// The application variables of a service connected to `emu` with a PAT.
pub fn variables(emu: &Emulator) -> BTreeMap<String, String> {
    [
        ("api_token", API_TOKEN.to_string()),
        ("ado_base_url", emu.org_url()),
        ("ado_origin", emu.base_url()),
        ("ado_project", seed::PROJECT.to_string()),
        ("ado_auth", "pat".to_string()),
        ("ado_pat", seed::PAT.to_string()),
        ("entra_authority", emu.base_url()),
        ("webhook_password", WEBHOOK_PASSWORD.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The `Authorization` header ADO's service hooks send (Basic, the webhook credentials).
pub fn webhook_auth() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ado-hook:{WEBHOOK_PASSWORD}"))
    )
}

/// ADO's first attempt to deliver a `workitem.updated` event, once every
/// delivery (retries included) is over.
pub fn update_delivered(emu: &Emulator) -> ado_emulator::hooks::Delivery {
    assert!(
        emu.wait_for_hooks(Duration::from_secs(30)),
        "ADO kept delivering"
    );
    emu.deliveries()
        .into_iter()
        .find(|d| d.event_type == "workitem.updated")
        .expect("ADO delivered an update")
}

/// [`variables`] with forwarding to `callback`.
pub fn variables_with_callback(
    emu: &Emulator,
    callback: &callback::Callback,
) -> BTreeMap<String, String> {
    let mut vars = variables(emu);
    vars.insert("callback_url".into(), callback.url.clone());
    vars.insert("callback_origin".into(), callback.origin.clone());
    vars
}

/// A raw call; `auth` is the whole `Authorization` header.
pub fn call_raw(
    app: &SpinApp,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&[u8]>,
) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let url = format!("{}{path}", app.url());
    let response = if method == "GET" {
        let mut req = agent.get(&url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.call()
    } else {
        let mut req = match method {
            "POST" => agent.post(&url),
            "PUT" => agent.put(&url),
            "DELETE" => {
                let mut req = agent.delete(&url);
                if let Some(a) = auth {
                    req = req.header("authorization", a);
                }
                return finish(req.call(), method, path);
            }
            other => panic!("the tests do not send {other}"),
        };
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        match body {
            Some(bytes) => req.header("content-type", "application/json").send(bytes),
            None => req.send_empty(),
        }
    };
    finish(response, method, path)
}

fn finish(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    method: &str,
    path: &str,
) -> Answer {
    let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{method} {path} answered {status} with non-JSON: {text}"));
    let answer = Answer {
        status,
        headers,
        body,
    };
    openapi().check(method, path, status, &answer.body);
    answer
}

/// A call with the right bearer token.
pub fn call(app: &SpinApp, method: &str, path: &str, body: Option<&Value>) -> Answer {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    call_raw(
        app,
        method,
        path,
        Some(&format!("Bearer {API_TOKEN}")),
        bytes.as_deref(),
    )
}

/// An example ticket from `examples/tickets/` as JSON.
pub fn example_ticket(id: &str) -> Value {
    let path = ticketing_tests::workspace_root().join(format!("examples/tickets/{id}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The agile-bug outegration config as JSON.
pub fn agile_bug() -> Value {
    let path = ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
