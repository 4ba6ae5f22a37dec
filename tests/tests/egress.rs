//! The egress allow-list covers what is really sent: a plugin (the
//! misbehaving fixture's `schema.fields`) sends requests to its own, allowed
//! base URL with a `Host` override, CRLF in a header, an oversized header and
//! hop-by-hop headers. Each is refused with `denied` naming the header, and
//! the server behind the allowed address receives nothing; an ordinary
//! request (the control) does reach it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use ticketing_runtime::{CallError, Connection, ConnectorError, Credentials, Host, Limits};

/// A loopback HTTP server that records each request's head and answers 200.
struct Recorder {
    base: String,
    heads: Arc<Mutex<Vec<String>>>,
}

fn recorder() -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/org", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                head.push_str(&line);
                line.clear();
            }
            seen.lock().unwrap().push(head);
            let mut stream = stream;
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]",
            );
        }
    });
    Recorder { base, heads }
}

fn connection(base: &str) -> Connection {
    Connection {
        base_url: base.to_string(),
        project: "p".into(),
        credentials: Credentials::Pat("not-a-real-pat".into()),
    }
}

fn misbehaving() -> Host {
    crate::common::misbehaving_with(Limits::default(), &ticketing_tests::host_options())
}

#[test]
fn an_ordinary_header_reaches_the_allowed_server() {
    let server = recorder();
    let host = misbehaving();
    match host.fields(&connection(&server.base), "plain") {
        Err(CallError::Connector(ConnectorError::Other(m))) => {
            assert_eq!(m, "the request was sent: HTTP 200")
        }
        other => panic!("expected the control request to be sent, got {other:?}"),
    }
    let heads = server.heads.lock().unwrap();
    assert_eq!(heads.len(), 1);
    let header = |name: &str| -> Vec<String> {
        heads[0]
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    let authority = server
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/org");
    assert_eq!(header("host"), vec![authority.to_string()]);
    assert_eq!(header("x-trace"), vec!["1".to_string()]);
}

#[test]
fn header_abuse_is_denied_and_nothing_reaches_the_server() {
    let server = recorder();
    let host = misbehaving();
    let cases = [
        ("host-override", "host"),
        ("host-override-lowercase", "host"),
        ("crlf-in-value", "x-note"),
        ("lf-in-value", "x-note"),
        ("crlf-in-name", "x-note"),
        ("oversized-header", "x-padding"),
        ("connection", "connection"),
        ("transfer-encoding", "transfer-encoding"),
        ("content-length", "content-length"),
        ("upgrade", "upgrade"),
        ("proxy-authorization", "proxy-authorization"),
    ];
    for (case, header) in cases {
        match host.fields(&connection(&server.base), case) {
            Err(CallError::Connector(ConnectorError::Denied(reason))) => {
                assert!(
                    reason.to_ascii_lowercase().contains(header),
                    "{case}: the reason should name `{header}`: {reason}"
                );
                assert!(!reason.contains("internal.example"), "{case}: {reason}");
            }
            other => panic!("{case}: expected denied, got {other:?}"),
        }
    }
    assert_eq!(
        server.heads.lock().unwrap().as_slice(),
        &[] as &[String],
        "a refused request reached the server"
    );
}
