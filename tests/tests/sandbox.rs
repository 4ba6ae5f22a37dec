//! The runtime's sandbox, proven with components: the deadline, the memory
//! limit and the egress allow-list; and with
//! the real connector: a script that loops forever, a script that asks for
//! gigabytes, and an answer of gigabytes each end their call with a clear
//! error while other calls on the same host go on being served.

use crate::common;

use common::*;
use ticketing_runtime::{CallError, ConnectorError, Host, HostOptions, Limits};

fn misbehaving(limits: Limits) -> Host {
    misbehaving_with(limits, &ticketing_tests::host_options())
}

#[test]
fn a_plugin_call_that_never_returns_is_stopped_by_the_deadline() {
    let emu = emulator();
    let host = misbehaving(short_deadline());
    match host.test_connection(&pat_connection(&emu)) {
        Err(CallError::Deadline(d)) => assert_eq!(d, short_deadline().call_deadline),
        other => panic!("expected the deadline to stop the call, got {other:?}"),
    }
    // The same host keeps serving after a stopped call.
    match host.work_item_types(&pat_connection(&emu)) {
        Err(CallError::Connector(ConnectorError::Denied(_))) => {}
        other => panic!("expected the next call to run, got {other:?}"),
    }
}

#[test]
fn a_plugin_that_allocates_without_bound_hits_the_memory_limit() {
    let host = misbehaving(Limits {
        memory_bytes: 64 << 20,
        ..short_deadline()
    });
    match host.config_schema() {
        Err(CallError::Memory) | Err(CallError::Trap(_)) => {}
        other => panic!("expected the memory limit to stop the call, got {other:?}"),
    }
}

#[test]
fn a_request_outside_the_allow_list_is_denied_not_sent() {
    let emu = emulator();
    let host = misbehaving(short_deadline());
    match host.work_item_types(&pat_connection(&emu)) {
        Err(CallError::Connector(ConnectorError::Denied(reason))) => {
            assert!(reason.contains("exfiltrate.example"), "{reason}");
        }
        other => panic!("expected denied, got {other:?}"),
    }
}

#[test]
fn an_instance_is_reused_after_a_clean_answer_and_dropped_after_a_trap() {
    let emu = emulator();
    let host = misbehaving(short_deadline());
    assert_eq!(host.idle_instances(), 0);
    // A typed error is a clean answer: the instance is kept.
    assert!(matches!(
        host.work_item_types(&pat_connection(&emu)),
        Err(CallError::Connector(ConnectorError::Denied(_)))
    ));
    assert_eq!(host.idle_instances(), 1);
    // The deadline stops the next call on that instance; it is not kept.
    assert!(matches!(
        host.test_connection(&pat_connection(&emu)),
        Err(CallError::Deadline(_))
    ));
    assert_eq!(host.idle_instances(), 0);
    // A new instance serves the call after, and its egress is this call's.
    assert!(matches!(
        host.work_item_types(&pat_connection(&emu)),
        Err(CallError::Connector(ConnectorError::Denied(_)))
    ));
    assert_eq!(host.idle_instances(), 1);
}

#[test]
fn fresh_instances_keeps_no_instance_between_calls() {
    let emu = emulator();
    let host = misbehaving_with(
        short_deadline(),
        &HostOptions {
            fresh_instances: true,
            ..ticketing_tests::host_options()
        },
    );
    for _ in 0..2 {
        assert!(matches!(
            host.work_item_types(&pat_connection(&emu)),
            Err(CallError::Connector(ConnectorError::Denied(_)))
        ));
        assert_eq!(host.idle_instances(), 0);
    }
}

/// The agile config with its script rule replaced by `script`.
fn with_script(script: &str) -> String {
    let mut config: serde_json::Value = serde_json::from_str(&agile_bug_config()).unwrap();
    let rule = config["dispatch"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["method"] == "script")
        .expect("the example has a script rule");
    rule["script"] = script.into();
    config.to_string()
}

fn sec101() -> ticketing_runtime::Ticket {
    ticketing_host::state::ticket_file::load(
        &ticketing_tests::workspace_root().join("examples/tickets/SEC-101.json"),
    )
    .unwrap()
}

/// Runs `misbehave` while other threads make ordinary previews against the
/// same host; returns its result once every ordinary call has succeeded.
fn while_others_are_served<T: Send>(
    host: &Host,
    conn: &ticketing_runtime::Connection,
    misbehave: impl FnOnce() -> T + Send,
) -> T {
    let ordinary = agile_bug_config();
    std::thread::scope(|s| {
        let bad = s.spawn(misbehave);
        let good: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..3 {
                        let p = host
                            .preview(conn, &ordinary, &sec101(), false)
                            .expect("an ordinary call runs");
                        assert!(p.problems.is_empty(), "{:?}", p.problems);
                    }
                })
            })
            .collect();
        for g in good {
            g.join().expect("the ordinary calls succeed");
        }
        bad.join().expect("the misbehaving call returns")
    })
}

#[test]
fn a_script_that_loops_forever_ends_with_a_budget_problem_while_other_calls_run() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let host = common::host();
    let looping = with_script(
        "def main(ticket, findings):\n    n = 0\n    for i in range(2000000000):\n        for j in range(2000000000):\n            n += 1\n    return str(n)\n",
    );
    let p = while_others_are_served(host, &conn, || {
        host.preview(&conn, &looping, &sec101(), false)
    })
    .expect("the preview answers");
    let issue = p
        .problems
        .iter()
        .find(|i| i.rule == "script-budget")
        .unwrap_or_else(|| panic!("{:?}", p.problems));
    assert!(
        issue.message.contains("line"),
        "names the line: {}",
        issue.message
    );
}

#[test]
fn a_script_allocating_gigabytes_hits_the_memory_limit_and_the_host_keeps_serving() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let host = common::host();
    let greedy = with_script("def main(ticket, findings):\n    return \"x\" * 3000000000\n");
    let r = while_others_are_served(host, &conn, || {
        host.preview(&conn, &greedy, &sec101(), false)
    });
    match r {
        Err(CallError::Memory) => {}
        Ok(p) if p.problems.iter().any(|i| i.rule.starts_with("script")) => {}
        other => panic!("expected the memory limit (or the script's heap budget), got {other:?}"),
    }
    host.preview(&conn, &agile_bug_config(), &sec101(), false)
        .expect("the next call runs in a fresh instance");
}

/// A server that answers every request with a 4 GiB body, streamed until
/// the client hangs up; returns its organization URL and the bytes it sent.
fn endless_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/{}",
        listener.local_addr().unwrap(),
        seed::ORGANIZATION
    );
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    line.clear();
                }
                let mut stream = stream;
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4294967296\r\n\r\n[",
                );
                let chunk = vec![b' '; 1 << 16];
                while stream.write_all(&chunk).is_ok() {
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (url, sent)
}

#[test]
fn a_gigabyte_response_ends_the_call_with_a_clear_error_and_the_host_keeps_serving() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let host = common::host();
    let (url, sent) = endless_server();
    let flood = ticketing_runtime::Connection {
        base_url: url,
        ..pat_connection(&emu)
    };
    let r = while_others_are_served(host, &conn, || host.test_connection(&flood));
    match r {
        Err(CallError::Connector(ConnectorError::Transport(m))) => {
            assert!(m.contains("larger than the host allows"), "{m}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    let streamed = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        streamed < 256 << 20,
        "the host stopped reading soon after its limit, not at 4 GiB: {streamed} bytes"
    );
}
