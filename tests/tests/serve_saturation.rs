//! `serve` saturated, deterministically: with a bound of one delivery at a
//! time (`ServeOptions::max_deliveries`) and that one held by a sender that
//! stalls in its body, every other authenticated delivery is answered 503
//! with `Retry-After`, an unauthenticated flood 401 (never 500), and the
//! emulator, retrying on ADO's documented schedule, gets every real event
//! applied exactly once after the stall ends.

use crate::common;
use crate::serve_env;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::TcpStream;
use std::time::Duration;

use ado_emulator::hooks::{HookSettings, Outcome};
use serve_env::{Env, basic, wait_until};
use ticketing_host::server::serve::{ServeOptions, spawn};

const EVENTS: usize = 10;

/// An authenticated POST whose body never comes: it holds a delivery slot
/// until dropped.
fn stalled_delivery(addr: std::net::SocketAddr, authorization: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /hooks/agile-bug HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Authorization: {authorization}\r\nContent-Length: 1000\r\n\r\n{{"
    )
    .unwrap();
    stream.flush().unwrap();
    stream
}

/// Status and `Retry-After` of an authenticated POST.
fn post(url: &str, authorization: &str) -> (u16, Option<String>) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let r = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .send(&br#"{"id":"probe","eventType":"workitem.commented"}"#[..])
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), retry)
}

#[test]
fn a_saturated_server_answers_503_with_retry_after_and_every_real_event_is_applied_once() {
    // ADO's schedule, compressed: 8 transient retries, then probation.
    // 250 ms apart, the stall below is far shorter than the ~4 s before a
    // subscription would be disabled.
    let env = Env::with_hooks(HookSettings::fast(Duration::from_millis(250)));
    let id = env.dispatch();
    let options = ServeOptions {
        max_deliveries: 1,
        ..ServeOptions::new("127.0.0.1:0".parse().unwrap(), env.state())
    };
    let server = spawn(common::host(), options).expect("the server starts");
    env.subscribe(&server);
    env.settle();
    let comments_before = env.ticket().comments.len();
    let url = format!("{}/hooks/agile-bug", server.url());
    let key = ticketing_host::platform::lifecycle::outegration_key(&env.outegration());
    let creds = env.db().hook_credentials(&key, "agile-bug").unwrap();
    let authorization = basic(&creds.username, &creds.password);

    // The one slot, held. A probe sent before the stall reached the server
    // takes the slot itself (and the stall gets the 503): then stall again.
    let mut stall = None;
    let mut answer = (0, None);
    wait_until("the server is saturated", || {
        stall = Some(stalled_delivery(server.addr(), &authorization));
        std::thread::sleep(Duration::from_millis(50));
        answer = post(&url, &authorization);
        answer.0 == 503
    });
    assert_eq!(answer.1.as_deref(), Some("1"), "a 503 carries Retry-After");

    // An unauthenticated flood while saturated: 401 (or 503), never 500.
    let flood: Vec<_> = (0..16)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let wrong = basic("attacker", &format!("guess-{i}"));
                (0..25).map(|_| post(&url, &wrong).0).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut flood_statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for t in flood {
        for status in t.join().unwrap() {
            *flood_statuses.entry(status).or_default() += 1;
        }
    }
    assert!(
        flood_statuses.keys().all(|s| *s == 401 || *s == 503),
        "{flood_statuses:?}"
    );
    assert_eq!(flood_statuses.values().sum::<usize>(), 16 * 25);

    // Real events while saturated: the emulator's deliveries are refused
    // 503 until the stall ends, then retried.
    for n in 0..EVENTS {
        env.comment_in_ado(id, &format!("saturated event #{n}."));
    }
    wait_until("the emulator got a 503", || {
        env.emu
            .deliveries()
            .iter()
            .any(|d| d.outcome == Outcome::Status(503))
    });
    drop(stall);
    env.settle();

    assert_eq!(env.ticket().comments.len(), comments_before + EVENTS);
    env.assert_each_comment_once((0..EVENTS).map(|n| format!("saturated event #{n}.")));
    let mut real: BTreeMap<String, usize> = BTreeMap::new();
    for d in env.emu.deliveries() {
        *real.entry(format!("{:?}", d.outcome)).or_default() += 1;
    }
    assert!(
        real.keys()
            .all(|k| k == "Status(200)" || k == "Status(503)"),
        "the emulator's deliveries: {real:?}"
    );
    assert!(real.contains_key("Status(503)"), "{real:?}");
    eprintln!("saturated serve: flood {flood_statuses:?}; emulator deliveries {real:?}");
    server.stop();
}
