//! Webhook ingest of `ticketing-host serve`: a load generator on loopback
//! posts authenticated `workitem.updated` deliveries (each with its own
//! event id) from several keep-alive connections at once; every 200 means
//! the delivery was authenticated by the plugin and committed to the
//! durable inbox. Reports deliveries per second and the p50/p99 latency,
//! and checks that every acknowledged delivery is in the inbox.
//!
//! The generator runs on the same cores as the server, so the figure is a
//! floor. `cargo bench -p ticketing-tests --bench ingest` runs it in full;
//! `cargo test --workspace` runs it as a smoke run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use ticketing_host::server::serve::{ServeOptions, spawn};
use ticketing_host::state::db::Db;
use ticketing_runtime::{Host, Limits};

fn sample() -> Value {
    let path = ticketing_tests::workspace_root().join(
        "reference/ado-api/samples/servicehook-events/aspnet-AspNetWebHooks/workitem.updated.json",
    );
    let bytes = std::fs::read(path).expect("the updated sample");
    let text = String::from_utf8(bytes).expect("UTF-8");
    serde_json::from_str(text.trim_start_matches('\u{feff}')).expect("JSON")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (clients, per_client) = if full { (16, 1_000) } else { (4, 25) };

    let dir: PathBuf =
        std::env::temp_dir().join(format!("ticketing-ingest-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let outegration = dir.join("agile-bug.json");
    std::fs::copy(
        ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json"),
        &outegration,
    )
    .unwrap();
    let state = dir.join("state.db");
    let key = ticketing_host::platform::lifecycle::outegration_key(&outegration);
    let creds = Db::open(&state)
        .unwrap()
        .hook_credentials(&key, "agile-bug")
        .unwrap();
    let auth = {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", creds.username, creds.password))
        )
    };

    let host: &'static Host = Box::leak(Box::new(
        Host::load_with(
            ticketing_tests::plugin_wasm(),
            Limits::default(),
            &ticketing_tests::host_options(),
        )
        .expect("loads"),
    ));
    let options = ServeOptions {
        process: false,
        ..ServeOptions::new("127.0.0.1:0".parse().unwrap(), &state)
    };
    let server = spawn(host, options).expect("serves");
    let url = format!("{}/hooks/agile-bug", server.url());
    let template = sample();

    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let (url, auth, template) = (&url, &auth, &template);
                s.spawn(move || {
                    let agent = ureq::Agent::new_with_config(
                        ureq::Agent::config_builder()
                            .http_status_as_error(false)
                            .build(),
                    );
                    let mut out = Vec::with_capacity(per_client);
                    for i in 0..per_client {
                        let mut body = template.clone();
                        body["id"] =
                            Value::String(format!("00000000-0000-4000-8000-{:06}{:06}", c, i));
                        let body = serde_json::to_vec(&body).unwrap();
                        let t = Instant::now();
                        let status = agent
                            .post(url)
                            .header("Authorization", auth)
                            .header("Content-Type", "application/json")
                            .send(&body[..])
                            .expect("the server answers")
                            .status()
                            .as_u16();
                        out.push(t.elapsed());
                        assert_eq!(status, 200, "delivery {c}/{i}");
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed();
    server.stop();

    let total = latencies.len();
    let stored = Db::open(&state).unwrap().inbox().unwrap().len();
    assert_eq!(stored, total, "every acknowledged delivery is in the inbox");
    let mut sorted = latencies;
    sorted.sort_unstable();
    println!(
        "webhook ingest: {total} deliveries from {clients} connections in {:.2} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  {:>8.0} deliveries/s   p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms",
        total as f64 / elapsed.as_secs_f64(),
        percentile(&sorted, 0.50).as_secs_f64() * 1e3,
        percentile(&sorted, 0.99).as_secs_f64() * 1e3,
        sorted[sorted.len() - 1].as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
