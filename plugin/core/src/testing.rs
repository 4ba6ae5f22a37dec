//! A scripted [`Env`] for unit tests: answers requests in order and records
//! what was sent, slept and stored.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::env::{Env, HttpError, HttpRequest, HttpResponse};

pub struct FakeEnv {
    pub answers: RefCell<VecDeque<Result<HttpResponse, HttpError>>>,
    pub sent: RefCell<Vec<HttpRequest>>,
    pub slept: RefCell<Vec<Duration>>,
    pub store: RefCell<HashMap<String, (String, Option<Duration>)>>,
}

pub fn json(status: u16, body: serde_json::Value) -> Result<HttpResponse, HttpError> {
    Ok(HttpResponse {
        status,
        headers: vec![(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: serde_json::to_vec(&body).unwrap(),
    })
}

pub fn with_header(
    answer: Result<HttpResponse, HttpError>,
    name: &str,
    value: &str,
) -> Result<HttpResponse, HttpError> {
    answer.map(|mut r| {
        r.headers.push((name.into(), value.into()));
        r
    })
}

pub fn envelope(status: u16, message: &str, type_key: &str) -> Result<HttpResponse, HttpError> {
    json(
        status,
        serde_json::json!({"$id": "1", "innerException": null, "message": message, "typeName": type_key, "typeKey": type_key, "errorCode": 0, "eventId": 3000}),
    )
}

impl FakeEnv {
    pub fn new(answers: Vec<Result<HttpResponse, HttpError>>) -> Self {
        FakeEnv {
            answers: RefCell::new(answers.into()),
            sent: RefCell::new(Vec::new()),
            slept: RefCell::new(Vec::new()),
            store: RefCell::new(HashMap::new()),
        }
    }

    pub fn sent_urls(&self) -> Vec<String> {
        self.sent.borrow().iter().map(|r| r.url.clone()).collect()
    }

    pub fn header_of(&self, index: usize, name: &str) -> Option<String> {
        self.sent.borrow()[index]
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

impl Env for FakeEnv {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.sent.borrow_mut().push(request);
        self.answers
            .borrow_mut()
            .pop_front()
            .expect("the test scripted fewer answers than requests were sent")
    }
    fn store_get(&self, key: &str) -> Option<String> {
        self.store.borrow().get(key).map(|(v, _)| v.clone())
    }
    fn store_set(&self, key: &str, value: &str, ttl: Option<Duration>) {
        self.store
            .borrow_mut()
            .insert(key.into(), (value.into(), ttl));
    }
    fn store_delete(&self, key: &str) {
        self.store.borrow_mut().remove(key);
    }
    fn now_unix(&self) -> u64 {
        1_700_000_000
    }
    fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
    }
}
