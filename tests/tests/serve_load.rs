//! Overload never loses a legitimate delivery (loopback load test): 500
//! clients POST unauthenticated deliveries at once, again and again (each
//! every 100 ms), while
//! the emulator delivers 1,000 real events (comments made in ADO) to the
//! same endpoint. The server bounds the deliveries it handles at once and
//! answers the rest 503 with `Retry-After`; the emulator retries on ADO's
//! schedule. Every real event is applied exactly once, and no answer, to
//! the flood or to the emulator, is a 500 (a flooding connection may be
//! reset by the kernel's full listen backlog; the emulator retries one).

use crate::serve_env;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ado_emulator::hooks::Outcome;
use serve_env::Env;

const FLOODERS: usize = 500;
const EVENTS: usize = 1_000;

#[test]
fn a_flood_of_unauthenticated_posts_never_costs_a_real_delivery() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);
    env.settle();
    let comments_before = env.ticket().comments.len();
    let url = format!("{}/hooks/agile-bug", server.url());

    let stop = Arc::new(AtomicBool::new(false));
    let statuses: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let started = Instant::now();
    let flood: Vec<_> = (0..FLOODERS)
        .map(|i| {
            let (stop, statuses, url) = (stop.clone(), statuses.clone(), url.clone());
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || {
                    let agent = ureq::Agent::new_with_config(
                        ureq::Agent::config_builder()
                            .http_status_as_error(false)
                            .build(),
                    );
                    let body = format!(
                        r#"{{"id":"flood-{i}","eventType":"workitem.commented","resource":{{"id":1}}}}"#
                    );
                    while !stop.load(Ordering::SeqCst) {
                        let answer = agent
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .header("Authorization", "Basic YXR0YWNrZXI6Z3Vlc3M=")
                            .send(body.as_bytes());
                        let key = match answer {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let retry = r.headers().get("retry-after").is_some();
                                match (status, retry) {
                                    (503, true) => "503 with Retry-After".to_string(),
                                    (503, false) => "503 without Retry-After".to_string(),
                                    (s, _) => s.to_string(),
                                }
                            }
                            Err(e) => format!("error: {e}"),
                        };
                        *statuses.lock().unwrap().entry(key).or_default() += 1;
                        // 500 clients at once, each again as soon as it may:
                        // ~5,000 POSTs a second offered, on a 2-core machine.
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
                .unwrap()
        })
        .collect();

    // The real events, made in ADO while the flood runs.
    for n in 0..EVENTS {
        env.comment_in_ado(id, &format!("real event #{n}."));
    }
    let deadline = Instant::now() + Duration::from_secs(1200);
    while env.ticket().comments.len() < comments_before + EVENTS {
        assert!(
            Instant::now() < deadline,
            "only {} of {EVENTS} real events applied",
            env.ticket().comments.len() - comments_before
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::SeqCst);
    for t in flood {
        t.join().unwrap();
    }
    env.settle();
    let elapsed = started.elapsed();

    // Every real event applied exactly once.
    env.assert_each_comment_once((0..EVENTS).map(|n| format!("real event #{n}.")));
    // No 500, to the flood or to the emulator.
    let statuses = statuses.lock().unwrap().clone();
    let flood_total: usize = statuses.values().sum();
    // A flooding client may also see its connection reset (the listen
    // backlog overflows at ~5,000 connections a second): no answer, not a 500.
    assert!(
        statuses
            .keys()
            .all(|k| k == "401" || k == "503 with Retry-After" || k.contains("Connection reset")),
        "{statuses:?}"
    );
    assert!(
        statuses.get("401").copied().unwrap_or(0) > flood_total / 2,
        "{statuses:?}"
    );
    let mut real: BTreeMap<String, usize> = BTreeMap::new();
    for d in env.emu.deliveries() {
        let key = match d.outcome {
            Outcome::Status(s) => s.to_string(),
            Outcome::Transport(e) => format!("transport: {e}"),
            Outcome::Injected => "injected".into(),
        };
        *real.entry(key).or_default() += 1;
    }
    // No 500: the emulator retried what was refused or reset, and every
    // real event was applied once (above).
    assert!(
        real.keys()
            .all(|k| k == "200" || k == "503" || k.starts_with("transport")),
        "the emulator's deliveries: {real:?}"
    );
    eprintln!(
        "serve load: {FLOODERS} flooding clients, {EVENTS} real events applied once in {elapsed:.1?}; \
         flood answers {statuses:?} ({flood_total} POSTs); emulator deliveries {real:?}"
    );
    server.stop();
}
