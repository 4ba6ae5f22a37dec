//! A small HTTP client for the emulator tests, shared by the topic files.
//! Each test file uses only part of it.
#![allow(dead_code)]

use ado_emulator::{Emulator, EmulatorConfig, seed};
use base64::Engine as _;
use serde_json::{Value, json};

pub struct Client {
    pub agent: ureq::Agent,
    pub emu: Emulator,
}

pub struct Answer {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The TF/VS code at the start of an ADO error message.
    pub fn code(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

pub fn basic(pat: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{pat}"))
    )
}

pub fn title(t: &str) -> Value {
    json!({"op": "add", "path": "/fields/System.Title", "value": t})
}

pub fn field(name: &str, value: Value) -> Value {
    json!({"op": "add", "path": format!("/fields/{name}"), "value": value})
}

impl Client {
    /// A client of an emulator with the default settings, whatever
    /// `ADO_EMULATOR_VARIANTS` says: these tests pin the defaults (CI runs
    /// connector suites under the variants; `emulator/tests/variants.rs`
    /// pins each alternative).
    pub fn new() -> Client {
        Client::with(EmulatorConfig {
            variants: ado_emulator::variants::Variants::default(),
            ..EmulatorConfig::default()
        })
    }

    /// A client of an emulator started with `config`.
    pub fn with(config: EmulatorConfig) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Client {
            agent: ureq::Agent::new_with_config(agent),
            emu: Emulator::start(config).expect("emulator starts"),
        }
    }

    pub fn org(&self) -> String {
        self.emu.org_url()
    }

    /// `{org}/{project id}` of a seeded project.
    pub fn project(&self, name: &str) -> String {
        format!(
            "{}/{}",
            self.emu.org_url(),
            self.emu.project_id(name).expect("seeded project")
        )
    }

    pub fn agile(&self) -> String {
        self.project(seed::PROJECT)
    }

    /// Any request with the full-scope PAT.
    pub fn call(
        &self,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Answer {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", basic(seed::PAT))
            .header("X-TFS-FedAuthRedirect", "Suppress");
        let request = match content_type {
            Some(ct) => request.header("Content-Type", ct),
            None => request,
        };
        let response = match body {
            Some(b) => self.agent.run(request.body(b).expect("request")),
            None => self.agent.run(request.body(()).expect("request")),
        };
        let mut response = response.expect("the emulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .unwrap_or_default();
        Answer {
            status,
            headers,
            bytes,
        }
    }

    pub fn get(&self, url: &str) -> Answer {
        self.call("GET", url, None, None)
    }

    pub fn delete(&self, url: &str) -> Answer {
        self.call("DELETE", url, None, None)
    }

    pub fn json(&self, method: &str, url: &str, body: &Value) -> Answer {
        self.call(
            method,
            url,
            Some("application/json"),
            Some(body.to_string().into_bytes()),
        )
    }

    pub fn patch_doc(&self, method: &str, url: &str, ops: &Value) -> Answer {
        self.call(
            method,
            url,
            Some("application/json-patch+json"),
            Some(ops.to_string().into_bytes()),
        )
    }

    /// Creates a work item of `ty` in `project` (a `{org}/{project}` URL).
    pub fn create_in(&self, project: &str, ty: &str, ops: &Value) -> Answer {
        self.patch_doc(
            "POST",
            &format!(
                "{project}/_apis/wit/workitems/${}?api-version=7.1",
                ty.replace(' ', "%20")
            ),
            ops,
        )
    }

    /// Creates an Agile work item and returns its id.
    pub fn new_item(&self, ty: &str, ops: &Value) -> i64 {
        let answer = self.create_in(&self.agile(), ty, ops);
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()["id"].as_i64().expect("id")
    }

    pub fn update(&self, id: i64, query: &str, ops: &Value) -> Answer {
        self.patch_doc(
            "PATCH",
            &format!(
                "{}/_apis/wit/workitems/{id}?api-version=7.1{query}",
                self.org()
            ),
            ops,
        )
    }

    pub fn item(&self, id: i64) -> Answer {
        self.get(&format!(
            "{}/_apis/wit/workitems/{id}?$expand=relations&api-version=7.1",
            self.org()
        ))
    }
}
