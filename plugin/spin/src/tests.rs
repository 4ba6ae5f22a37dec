//! Native unit tests of the pure pieces, on an in-memory platform that has
//! no network (any outbound request fails the test).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ado_connector_core::Env;
use ado_connector_core::env::{HttpError, HttpRequest, HttpResponse};

use crate::platform::{ApiRequest, Platform, ServiceEnv, StoreError};
use crate::{api, claims, feed, routes};

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
    fn kv_increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let mut kv = self.kv.borrow_mut();
        let now = kv
            .get(key)
            .map(|b| i64::from_le_bytes(b.as_slice().try_into().expect("a counter")))
            .unwrap_or(0)
            + delta;
        kv.insert(key.into(), now.to_le_bytes().to_vec());
        Ok(now)
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
        feed::append(&p, false, change).unwrap();
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

#[test]
fn a_claim_is_held_once_until_released() {
    let p = fake();
    let lease = Duration::from_secs(60);
    let held = claims::acquire(&p, "dispatch:T-1", lease)
        .unwrap()
        .expect("the first claims");
    for _ in 0..3 {
        assert!(
            claims::acquire(&p, "dispatch:T-1", lease)
                .unwrap()
                .is_none()
        );
    }
    assert!(
        claims::acquire(&p, "dispatch:T-2", lease)
            .unwrap()
            .is_some(),
        "another name is another claim"
    );
    claims::release(&p, held).unwrap();
    assert!(
        claims::acquire(&p, "dispatch:T-1", lease)
            .unwrap()
            .is_some()
    );
}

/// Makes the lease of claim `name` expired, as if its holder had died.
fn expire(p: &Fake, name: &str) {
    let key = format!("claim:{name}:lease");
    let mut lease: serde_json::Value =
        serde_json::from_slice(&p.kv_get(&key).unwrap().unwrap()).unwrap();
    lease["expires"] = serde_json::json!(1);
    p.kv_set(&key, &serde_json::to_vec(&lease).unwrap())
        .unwrap();
}

#[test]
fn an_expired_claim_is_taken_over_by_one_request_only() {
    let p = fake();
    let lease = Duration::from_secs(60);
    let dead = claims::acquire(&p, "x", lease).unwrap().unwrap();
    expire(&p, "x");
    let taker = claims::acquire(&p, "x", lease)
        .unwrap()
        .expect("taken over");
    assert!(claims::acquire(&p, "x", lease).unwrap().is_none());
    // The dead holder coming back does not release the new holder's claim.
    claims::release(&p, dead).unwrap();
    assert!(claims::acquire(&p, "x", lease).unwrap().is_none());
    claims::release(&p, taker).unwrap();
    assert!(claims::acquire(&p, "x", lease).unwrap().is_some());
}

#[test]
fn a_claim_left_without_a_lease_expires_too() {
    let p = fake();
    let lease = Duration::from_secs(60);
    // The holder died between its increment and its lease.
    assert_eq!(p.kv_increment("claim:y", 1).unwrap(), 1);
    assert!(claims::acquire(&p, "y", lease).unwrap().is_none());
    expire(&p, "y");
    assert!(claims::acquire(&p, "y", lease).unwrap().is_some());
}

#[test]
fn feed_stops_at_a_fresh_hole_and_passes_it_after_the_grace() {
    let p = fake();
    feed::append(&p, false, change).unwrap();
    let hole = feed::FEED.allocate(&p).unwrap(); // its writer is in flight
    feed::append(&p, false, change).unwrap();
    let (page, next) = feed::read(&p, 0, 10).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(next, hole - 1, "the reader waits at the hole");
    // The hole was first seen long ago: its writer died.
    p.kv_set(&format!("feed:hole:{hole}"), b"1").unwrap();
    let (page, next) = feed::read(&p, 0, 10).unwrap();
    assert_eq!(page.iter().map(|c| c.cursor).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(next, 3);
}

#[test]
fn prune_deletes_old_feed_entries_from_the_bottom() {
    let p = fake();
    for _ in 0..3 {
        feed::append(&p, false, change).unwrap(); // received_at 0
    }
    feed::append(&p, false, |c| api::Change {
        received_at: crate::platform::now_unix(),
        ..change(c)
    })
    .unwrap();
    feed::prune(&p, 3600).unwrap();
    let (page, next) = feed::read(&p, 0, 10).unwrap();
    assert_eq!(page.iter().map(|c| c.cursor).collect::<Vec<_>>(), [4]);
    assert_eq!(next, 4);
    assert!(p.kv_get(&feed::FEED.entry_key(1)).unwrap().is_none());
}

#[test]
fn pending_changes_without_a_callback_are_listed_and_kept() {
    let p = fake();
    feed::append(&p, true, change).unwrap();
    feed::append(&p, true, change).unwrap();
    let r = feed::flush(&p, None).unwrap();
    assert_eq!(
        r.pending.iter().map(|f| f.cursor).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(feed::flush(&p, None).unwrap().pending.len(), 2);
}

#[test]
fn every_key_carries_the_app_prefix() {
    let mut p = fake();
    p.vars.insert("key_prefix".into(), "tenant-a".into());
    let r = routes::handle(&p, &request("GET", "/v1/changes", Some("Bearer t0ken")));
    assert_eq!(r.status, 200);
    let keys: Vec<String> = p.kv.borrow().keys().cloned().collect();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| k.starts_with("tenant-a:")), "{keys:?}");
}

#[test]
fn ado_origin_with_a_path_or_no_scheme_is_named() {
    for (origin, why) in [
        ("https://dev.azure.com/contoso", "has a path"),
        ("dev.azure.com", "has no scheme"),
        ("ftp://dev.azure.com", "scheme `ftp`"),
    ] {
        let mut p = fake();
        for (k, v) in [
            ("ado_base_url", "https://dev.azure.com/contoso"),
            ("ado_project", "P"),
            ("ado_pat", "pat"),
            ("ado_origin", origin),
        ] {
            p.vars.insert(k.into(), v.into());
        }
        let e = crate::settings::connection(&p).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("`ado_origin`") && text.contains(why),
            "{text}"
        );
        let answer = crate::error::ApiError::from(e);
        assert!(
            answer
                .body
                .remediation
                .as_deref()
                .unwrap()
                .contains("`ado_origin`"),
            "{:?}",
            answer.body.remediation
        );
    }
    let mut p = fake();
    for (k, v) in [
        ("ado_base_url", "https://dev.azure.com/contoso"),
        ("ado_project", "P"),
        ("ado_pat", "pat"),
        ("ado_origin", "https://dev.azure.com"),
    ] {
        p.vars.insert(k.into(), v.into());
    }
    assert!(crate::settings::connection(&p).is_ok());
}

#[test]
fn handled_event_marks_are_forgotten_after_the_retention() {
    let p = fake();
    crate::webhook::mark_done(&p, "e-1").unwrap();
    crate::webhook::prune(&p, 3600).unwrap();
    assert!(
        p.kv_get("hook:done:e-1").unwrap().is_some(),
        "kept within the retention"
    );
    crate::webhook::prune(&p, 0).unwrap();
    assert!(
        p.kv_get("hook:done:e-1").unwrap().is_none(),
        "forgotten after it"
    );
    assert!(
        p.kv_get(&crate::seq::Seq("hook:log").entry_key(1))
            .unwrap()
            .is_none()
    );
}
