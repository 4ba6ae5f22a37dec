//! Native unit tests of the pure pieces, on an in-memory platform that has
//! no network (any outbound request fails the test).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ado_connector_core::Env;
use ado_connector_core::env::{HttpError, HttpRequest, HttpResponse};

use crate::platform::{ApiRequest, Platform, ServiceEnv, StoreError};
use crate::{api, feed, routes};

#[derive(Default)]
struct Fake {
    vars: HashMap<String, String>,
    kv: RefCell<BTreeMap<String, Vec<u8>>>,
}

impl Platform for Fake {
    fn variable(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.kv.borrow().get(key).cloned())
    }
    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv.borrow_mut().insert(key.into(), value.to_vec());
        Ok(())
    }
    fn kv_delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv.borrow_mut().remove(key);
        Ok(())
    }
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        panic!("no request may leave: {}", request.url)
    }
}

fn fake() -> Fake {
    Fake {
        vars: [("api_token", "t0ken"), ("webhook_password", "pw")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Fake::default()
    }
}

fn request(method: &str, path: &str, auth: Option<&str>) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        headers: auth
            .map(|a| vec![("authorization".to_string(), a.to_string())])
            .unwrap_or_default(),
        ..ApiRequest::default()
    }
}

fn change(cursor: u64) -> api::Change {
    api::Change {
        cursor,
        ticket_id: format!("T-{cursor}"),
        work_item_id: 1,
        event_id: format!("e{cursor}"),
        event_type: "workitem.updated".into(),
        fields: Default::default(),
        comments: vec![],
        deleted: None,
        received_at: 0,
    }
}

#[test]
fn feed_pages_after_the_cursor_in_order() {
    let p = fake();
    for _ in 0..5 {
        feed::append(&p, change).unwrap();
    }
    let (page, next) = feed::read(&p, 1, 2).unwrap();
    assert_eq!(page.iter().map(|c| c.cursor).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(next, 3);
    let (page, next) = feed::read(&p, 5, 100).unwrap();
    assert!(page.is_empty());
    assert_eq!(next, 5);
}

#[test]
fn cached_value_expires_after_its_ttl() {
    let p = fake();
    let env = ServiceEnv(&p);
    env.store_set("token", "abc", Some(Duration::from_secs(3600)));
    assert_eq!(env.store_get("token").as_deref(), Some("abc"));
    p.kv_set("cache:old", br#"{"value":"x","expires":1}"#)
        .unwrap();
    assert_eq!(env.store_get("old"), None);
    assert!(
        p.kv_get("cache:old").unwrap().is_none(),
        "an expired entry is removed"
    );
}

#[test]
fn missing_or_wrong_token_is_401_before_any_work() {
    let p = fake();
    for auth in [
        None,
        Some("Bearer nope"),
        Some("t0ken"),
        Some("Bearer t0ken2"),
    ] {
        let r = routes::handle(&p, &request("GET", "/v1/changes", auth));
        assert_eq!(r.status, 401, "{auth:?}");
    }
    let r = routes::handle(&p, &request("GET", "/v1/changes", Some("Bearer t0ken")));
    assert_eq!(r.status, 200);
}

#[test]
fn unknown_route_is_404_and_wrong_method_405() {
    let p = fake();
    assert_eq!(
        routes::handle(&p, &request("GET", "/v2/dispatch", None)).status,
        404
    );
    assert_eq!(
        routes::handle(&p, &request("DELETE", "/v1/sync", None)).status,
        405
    );
}

#[test]
fn missing_variable_is_named_without_its_value() {
    let p = Fake::default();
    let r = routes::handle(&p, &request("GET", "/v1/changes", Some("Bearer x")));
    assert_eq!(r.status, 500);
    let body = String::from_utf8(r.body).unwrap();
    assert!(body.contains("api_token"), "{body}");
}

#[test]
fn ticket_with_an_object_field_is_refused_naming_it() {
    let ticket: api::Ticket = serde_json::from_value(serde_json::json!({
        "id": "T-1", "url": "https://x/T-1", "fields": {"title": "ok", "owner": {"name": "a"}}
    }))
    .unwrap();
    let e = crate::convert::ticket(&ticket).unwrap_err();
    assert_eq!(e.status, 422);
    assert_eq!(e.body.issues[0].path, "ticket.fields.owner");
}
