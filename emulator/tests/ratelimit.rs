//! Rate limiting per identity (ADO's rate-limits page): headers before the
//! limit, delays over it, 429 with TF400733 far over it; off by default.

mod common;

use std::time::Duration;

use ado_emulator::ratelimit::RateLimit;
use ado_emulator::{Emulator, EmulatorConfig, seed};
use common::Client;

fn client(rate_limit: Option<RateLimit>) -> Client {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    Client {
        agent,
        emu: Emulator::start(EmulatorConfig {
            rate_limit,
            ..Default::default()
        })
        .expect("emulator starts"),
    }
}

fn small() -> Option<RateLimit> {
    Some(RateLimit {
        limit: 4,
        warn_at: 2,
        block_at: 6,
        window: Duration::from_secs(60),
        delay: Duration::from_millis(50),
    })
}

fn header(a: &common::Answer, name: &str) -> Option<String> {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[test]
fn usage_brings_headers_then_delays_then_429_with_tf400733() {
    let c = client(small());
    let url = format!("{}/_apis/projects?api-version=7.1", c.org());
    let answers: Vec<common::Answer> = (0..7).map(|_| c.get(&url)).collect();
    // Quiet while usage is low.
    for a in &answers[..2] {
        assert_eq!(a.status, 200);
        assert_eq!(header(a, "x-ratelimit-limit"), None);
    }
    // Near the limit: the headers, before any delay.
    for (a, remaining) in answers[2..4].iter().zip(["1", "0"]) {
        assert_eq!(a.status, 200);
        assert_eq!(header(a, "x-ratelimit-limit").as_deref(), Some("4"));
        assert_eq!(
            header(a, "x-ratelimit-remaining").as_deref(),
            Some(remaining)
        );
        assert!(header(a, "x-ratelimit-resource").is_some());
        assert!(
            header(a, "x-ratelimit-reset")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 1_700_000_000
        );
        assert_eq!(header(a, "x-ratelimit-delay"), None);
    }
    // Over it: delayed, told to wait.
    for a in &answers[4..6] {
        assert_eq!(a.status, 200);
        assert_eq!(header(a, "x-ratelimit-delay").as_deref(), Some("0.050"));
        assert_eq!(header(a, "x-ratelimit-remaining").as_deref(), Some("0"));
        assert!(header(a, "retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    }
    // Far over it: blocked.
    let blocked = &answers[6];
    assert_eq!(blocked.status, 429);
    assert_eq!(blocked.code(), "TF400733");
    // ADO's type (microsoft/vscode#155632; FIDELITY.md).
    assert_eq!(blocked.json()["typeKey"], "RequestBlockedException");
    assert_eq!(
        blocked.json()["typeName"],
        "Microsoft.TeamFoundation.Framework.Server.RequestBlockedException, Microsoft.TeamFoundation.Framework.Server"
    );
    assert!(header(blocked, "retry-after").is_some());
}

#[test]
fn each_identity_has_its_own_budget() {
    let c = client(small());
    let url = format!("{}/_apis/projects?api-version=7.1", c.org());
    for _ in 0..6 {
        c.get(&url);
    }
    assert_eq!(c.get(&url).status, 429);
    // The service principal has not spent anything.
    let token = c
        .agent
        .post(&format!(
            "{}/{}/oauth2/v2.0/token",
            c.emu.base_url(),
            seed::TENANT_ID
        ))
        .send_form([
            ("client_id", seed::SP_CLIENT_ID),
            ("client_secret", seed::SP_CLIENT_SECRET),
            ("scope", "499b84ac-1321-427f-aa17-267ca6975798/.default"),
            ("grant_type", "client_credentials"),
        ])
        .expect("token")
        .body_mut()
        .read_json::<serde_json::Value>()
        .expect("token JSON")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = c
        .agent
        .get(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 200);
}

#[test]
fn rate_limiting_is_off_by_default() {
    let c = client(None);
    let url = format!("{}/_apis/projects?api-version=7.1", c.org());
    for _ in 0..50 {
        let a = c.get(&url);
        assert_eq!(a.status, 200);
        assert_eq!(header(&a, "x-ratelimit-limit"), None);
    }
}
