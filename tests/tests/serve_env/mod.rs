//! Shared set-up of the webhook server suites: a temp dir with the host
//! config, secrets and an outegration, an emulator delivering hooks to
//! loopback, and the CLI run in process.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ado_emulator::faults::Faults;
use ado_emulator::hooks::HookSettings;
use ado_emulator::{Emulator, EmulatorConfig};
use serde_json::json;
use ticketing_host::server::serve::{ServeHandle, ServeOptions, spawn};
use ticketing_runtime::{FieldValue, Ticket};

use crate::common::{self, cli_env, seed};

/// The CLI env ([`cli_env::Env`]: temp dir, host config, secrets, state)
/// with an emulator that delivers hooks to loopback quickly, and the
/// outegration config in the temp dir, whose stem names its endpoint.
pub struct Env {
    cli: cli_env::Env,
}

impl std::ops::Deref for Env {
    type Target = cli_env::Env;

    fn deref(&self) -> &cli_env::Env {
        &self.cli
    }
}

pub use crate::common::cli_env::path;

impl Env {
    pub fn new() -> Env {
        Env::with_hooks(HookSettings::fast(Duration::from_millis(10)))
    }

    /// [`Env::new`] with the emulator's delivery settings (its retry
    /// schedule); local URLs allowed.
    pub fn with_hooks(hooks: HookSettings) -> Env {
        let config = EmulatorConfig {
            hooks: HookSettings {
                allow_local_urls: true,
                ..hooks
            },
            ..Default::default()
        };
        let cli = cli_env::Env::with(Emulator::start(config).expect("the emulator starts"));
        std::fs::write(cli.dir.join("agile-bug.json"), common::agile_bug_config()).unwrap();
        Env { cli }
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state.db")
    }

    pub fn outegration(&self) -> PathBuf {
        self.dir.join("agile-bug.json")
    }

    /// Imports and dispatches SEC-102; its work item id.
    pub fn dispatch(&self) -> i32 {
        let ticket = ticketing_tests::workspace_root().join("examples/tickets/SEC-102.json");
        self.ok(&["ticket", "import", path(&ticket)]);
        self.ok(&[
            "dispatch",
            "--outegration",
            path(&self.outegration()),
            "SEC-102",
        ]);
        self.db()
            .link("SEC-102")
            .unwrap()
            .unwrap()
            .link
            .work_item_id
    }

    pub fn serve(&self, listen: &str, process: bool) -> ServeHandle {
        let options = ServeOptions {
            process,
            ..ServeOptions::new(listen.parse().unwrap(), self.state())
        };
        spawn(common::host(), options).expect("the server starts")
    }

    pub fn subscribe(&self, server: &ServeHandle) {
        let out = self.ok(&[
            "subscribe",
            "--outegration",
            path(&self.outegration()),
            "--public-url",
            &server.url(),
        ]);
        assert_eq!(out.lines().count(), 5, "{out}");
    }

    pub fn ticket(&self) -> Ticket {
        self.db().ticket("SEC-102").unwrap()
    }

    /// Waits until the emulator delivered everything and the inbox is empty.
    pub fn settle(&self) {
        assert!(
            self.emu.wait_for_hooks(Duration::from_secs(30)),
            "the emulator delivered its hooks"
        );
        wait_until("the inbox is processed", || {
            self.db().inbox_pending().unwrap().is_empty()
        });
    }

    /// Moves work item `id` to `state` while every delivery fails: ADO
    /// retries, puts the subscriptions on probation, then disables them.
    /// The receiver answers again afterwards.
    pub fn set_state_while_deliveries_fail(&self, id: i32, state: &str) {
        self.emu.set_faults(Faults {
            hook_failure_rate: 1.0,
            ..Faults::default()
        });
        self.set_state(id, state);
        assert!(self.emu.wait_for_hooks(Duration::from_secs(30)));
        self.emu.set_faults(Faults::default());
    }

    pub fn set_state(&self, id: i32, state: &str) {
        common::edit_in_ado(
            &self.emu,
            id,
            json!([{ "op": "add", "path": "/fields/System.State", "value": state }]),
        );
    }

    pub fn comment_in_ado(&self, id: i32, text: &str) {
        let project = seed::PROJECT.replace(' ', "%20");
        common::ado(
            &self.emu,
            "POST",
            &format!("{project}/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4"),
            "application/json",
            Some(json!({ "text": text })),
        );
    }

    /// Asserts the ticket has each comment text exactly once.
    pub fn assert_each_comment_once(&self, texts: impl IntoIterator<Item = String>) {
        let ticket = self.ticket();
        for text in texts {
            let copies = ticket
                .comments
                .iter()
                .filter(|c| c.text.contains(&text))
                .count();
            assert_eq!(copies, 1, "{text}: {copies} copies");
        }
    }

    pub fn rev(&self, id: i32) -> i64 {
        self.emu.work_item(id).unwrap()["rev"].as_i64().unwrap()
    }

    pub fn applied_rows(&self) -> usize {
        self.db()
            .inbox()
            .unwrap()
            .iter()
            .filter(|r| {
                r.result
                    .as_deref()
                    .is_some_and(|s| s.starts_with("applied"))
            })
            .count()
    }
}

pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn field(t: &Ticket, name: &str) -> Option<String> {
    t.fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| match &f.value {
            FieldValue::Text(s) => s.clone(),
            other => format!("{other:?}"),
        })
}

pub fn post(url: &str, auth: Option<&str>, body: &[u8]) -> u16 {
    post_raw(url, auth, body).unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

pub fn post_raw(url: &str, auth: Option<&str>, body: &[u8]) -> Result<u16, String> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut req = agent.post(url).header("Content-Type", "application/json");
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    req.send(body)
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
