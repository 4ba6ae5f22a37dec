//! Overload never loses a call: past the pooling allocator's slots
//! (`MAX_CONCURRENT_CALLS`) a call waits in the runtime's bounded queue for
//! a slot instead of failing, and gives up with a typed `Busy` only at its
//! own deadline.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ticketing_runtime::{
    CallError, Connection, ConnectorError, Credentials, Host, Limits, MAX_CONCURRENT_CALLS,
};

/// A loopback server answering every request 200 after `delay`; counts them.
fn slow_server(delay: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/org", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let count = count.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    line.clear();
                }
                std::thread::sleep(delay);
                count.fetch_add(1, Ordering::SeqCst);
                let mut stream = stream;
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]",
                );
            });
        }
    });
    (base, served)
}

fn connection(base: &str) -> Connection {
    Connection {
        base_url: base.to_string(),
        project: "p".into(),
        credentials: Credentials::Pat("not-a-real-pat".into()),
    }
}

fn host(limits: Limits) -> &'static Host {
    Box::leak(Box::new(crate::common::misbehaving_with(
        limits,
        &ticketing_tests::host_options(),
    )))
}

/// `n` calls at once, each holding its instance for the server's delay.
fn at_once(host: &'static Host, base: &str, n: usize) -> Vec<Result<(), CallError>> {
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let conn = connection(base);
            std::thread::spawn(move || match host.fields(&conn, "plain") {
                Err(CallError::Connector(ConnectorError::Other(m)))
                    if m == "the request was sent: HTTP 200" =>
                {
                    Ok(())
                }
                Err(e) => Err(e),
                Ok(_) => panic!("the fixture never answers Ok"),
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn calls_past_the_instance_slots_wait_for_one_instead_of_failing() {
    let (base, served) = slow_server(Duration::from_millis(300));
    let host = host(Limits::default());
    let n = MAX_CONCURRENT_CALLS as usize * 2;
    let results = at_once(host, &base, n);
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} of {n} failed: {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(served.load(Ordering::SeqCst), n);
}

#[test]
fn a_call_that_waits_past_its_queue_deadline_is_busy_and_never_runs() {
    // The server answers after the call deadline: the first
    // MAX_CONCURRENT_CALLS hold every slot for 1 s (waiting, not spinning),
    // the rest wait 300 ms for one and give up.
    let (base, served) = slow_server(Duration::from_secs(5));
    let host = host(Limits {
        call_deadline: Duration::from_secs(1),
        queue_wait: Duration::from_millis(300),
        ..Limits::default()
    });
    let extra = 8;
    let threads: Vec<_> = (0..MAX_CONCURRENT_CALLS as usize + extra)
        .map(|_| {
            let conn = connection(&base);
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let result = host.fields(&conn, "plain");
                (result, started.elapsed())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let busy: Vec<_> = results
        .iter()
        .filter(|(r, _)| matches!(r, Err(CallError::Busy(_))))
        .collect();
    assert_eq!(
        busy.len(),
        extra,
        "{:?}",
        results.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
    for (result, waited) in busy {
        assert!(
            *waited < Duration::from_millis(900),
            "gave up at its queue deadline: {waited:?}"
        );
        let message = result.as_ref().unwrap_err().to_string();
        assert!(message.starts_with("the host is busy"), "{message}");
    }
    let timed_out = results
        .iter()
        .filter(|(r, _)| match r {
            // Stopped at the call deadline: by the epoch, or the http import's timeout.
            Err(CallError::Deadline(_)) => true,
            Err(CallError::Connector(ConnectorError::Other(m))) => m.contains("Timeout"),
            _ => false,
        })
        .count();
    assert_eq!(timed_out, MAX_CONCURRENT_CALLS as usize);
    // A busy call sent nothing: only the calls that ran reached the server.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(served.load(Ordering::SeqCst), MAX_CONCURRENT_CALLS as usize);
}
