//! A tiny webhook receiver on 127.0.0.1 for the service hook tests: it
//! records every POST (headers and JSON body) and answers with the statuses
//! it was told to give, then 200.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    got: Vec<Received>,
    answers: VecDeque<u16>,
    /// Where every request is sent on with a 307, once set.
    redirect: Option<String>,
}

pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
    _thread: std::thread::JoinHandle<()>,
}

async fn hook(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut i = inner.lock().unwrap();
    i.got.push(Received {
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if let Some(to) = &i.redirect {
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [(axum::http::header::LOCATION, to.clone())],
        )
            .into_response();
    }
    StatusCode::from_u16(i.answers.pop_front().unwrap_or(200))
        .unwrap()
        .into_response()
}

impl Receiver {
    /// Starts a receiver; its URL is `http://127.0.0.1:PORT/hook`.
    pub fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = inner.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = Router::new().route("/hook", post(hook)).with_state(state);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let _ = axum::serve(listener, app).await;
            });
        });
        Receiver {
            inner,
            url,
            _thread: thread,
        }
    }

    /// The next answers to give, in order; 200 after them.
    pub fn answer(&self, statuses: &[u16]) {
        self.inner
            .lock()
            .unwrap()
            .answers
            .extend(statuses.iter().copied());
    }

    /// Answers every request from now on with a 307 to `url`.
    pub fn redirect_to(&self, url: &str) {
        self.inner.lock().unwrap().redirect = Some(url.to_string());
    }

    /// Everything received so far.
    pub fn got(&self) -> Vec<Received> {
        self.inner.lock().unwrap().got.clone()
    }

    /// Waits until `n` requests arrived (at most 10 s), then returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let end = Instant::now() + Duration::from_secs(10);
        while self.got().len() < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.got()
    }
}
