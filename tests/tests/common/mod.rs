//! Shared set-up: one compiled host per test binary, one emulator per test.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use ado_emulator::{Emulator, EmulatorConfig};
use ticketing_host::{ClientCredentials, Connection, Credentials, Field, FieldValue, Host, Limits, Ticket};

pub use ado_emulator::seed;

/// The real plugin, compiled once for the whole test binary.
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| Host::load(ticketing_tests::plugin_wasm(), Limits::default()).expect("the plugin component loads"))
}

pub fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("the emulator starts")
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
    Field { name: name.into(), value: FieldValue::Text(value.into()) }
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
    std::fs::read_to_string(ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json"))
        .expect("examples/outegrations/agile-bug.json")
}

pub fn short_deadline() -> Limits {
    Limits { call_deadline: Duration::from_secs(2), ..Limits::default() }
}
