//! Subscriptions against the scripted env.

use serde_json::json;

use super::*;
use crate::env::HttpRequest;
use crate::model::{Credentials, Secret};
use crate::testing::{FakeEnv, envelope, json};

const PROJECT_ID: &str = "be9b3917-87e6-42a4-a549-2bc06a7a878f";
const CONFIG: &str = r#"{"version":1,"work_item_type":"Bug"}"#;
const URL: &str = "https://secops.example/hooks/ado/o-1";

fn connection() -> Connection {
    Connection {
        base_url: "https://dev.azure.com/contoso".into(),
        project: "Fabrikam Security".into(),
        credentials: Credentials::Pat(Secret("pat".into())),
    }
}

fn basic() -> DeliveryAuth {
    DeliveryAuth::Basic {
        user: "ado-hook".into(),
        password: Secret("hook-secret".into()),
    }
}

fn sub(
    id: &str,
    event_type: &str,
    status: &str,
) -> Result<crate::env::HttpResponse, crate::env::HttpError> {
    json(
        200,
        json!({"id": id, "eventType": event_type, "status": status, "publisherId": "tfs", "consumerInputs": {"url": URL, "basicAuthPassword": "********"}}),
    )
}

fn body_of(r: &HttpRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn subscribe_creates_one_subscription_per_event_type_scoped_to_project_and_type() {
    let mut answers = vec![json(
        200,
        json!({"id": PROJECT_ID, "name": "Fabrikam Security"}),
    )];
    answers.extend(
        EventType::ALL
            .iter()
            .enumerate()
            .map(|(i, t)| sub(&format!("s{i}"), t.name(), "enabled")),
    );
    let env = FakeEnv::new(answers);
    let subs = subscribe(&env, &connection(), CONFIG, URL, &basic()).unwrap();
    assert_eq!(
        subs.iter()
            .map(|s| s.event_type.as_str())
            .collect::<Vec<_>>(),
        [
            "workitem.created",
            "workitem.updated",
            "workitem.commented",
            "workitem.deleted",
            "workitem.restored"
        ]
    );
    assert!(subs.iter().all(Subscription::healthy));
    let sent = env.sent.borrow();
    assert_eq!(sent.len(), 6);
    for (r, t) in sent[1..].iter().zip(EventType::ALL) {
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.url,
            "https://dev.azure.com/contoso/_apis/hooks/subscriptions?api-version=7.1"
        );
        let b = body_of(r);
        assert_eq!(
            (
                b["publisherId"].as_str(),
                b["consumerId"].as_str(),
                b["consumerActionId"].as_str()
            ),
            (Some("tfs"), Some("webHooks"), Some("httpRequest"))
        );
        assert_eq!(b["eventType"], t.name());
        assert_eq!(
            b["publisherInputs"],
            json!({"projectId": PROJECT_ID, "workItemType": "Bug"})
        );
        assert_eq!(b["consumerInputs"]["url"], URL);
        assert_eq!(
            (
                b["consumerInputs"]["basicAuthUsername"].as_str(),
                b["consumerInputs"]["basicAuthPassword"].as_str()
            ),
            (Some("ado-hook"), Some("hook-secret"))
        );
    }
}

#[test]
fn a_secret_header_goes_into_http_headers() {
    let mut answers = vec![json(
        200,
        json!({"id": PROJECT_ID, "name": "Fabrikam Security"}),
    )];
    answers.extend(EventType::ALL.iter().map(|t| sub("s", t.name(), "enabled")));
    let env = FakeEnv::new(answers);
    let auth = DeliveryAuth::Header {
        name: "X-Connector-Secret".into(),
        value: Secret("v4lue".into()),
    };
    subscribe(&env, &connection(), CONFIG, URL, &auth).unwrap();
    let b = body_of(&env.sent.borrow()[1]);
    assert_eq!(
        b["consumerInputs"]["httpHeaders"],
        "X-Connector-Secret:v4lue"
    );
    assert!(b["consumerInputs"].get("basicAuthPassword").is_none());
}

#[test]
fn a_failed_subscribe_deletes_what_it_created() {
    let env = FakeEnv::new(vec![
        json(200, json!({"id": PROJECT_ID, "name": "Fabrikam Security"})),
        sub("s0", "workitem.created", "enabled"),
        sub("s1", "workitem.updated", "enabled"),
        envelope(
            400,
            "The url is not reachable",
            "InvalidSubscriptionException",
        ),
        Ok(crate::env::HttpResponse {
            status: 204,
            headers: vec![],
            body: vec![],
        }),
        Ok(crate::env::HttpResponse {
            status: 204,
            headers: vec![],
            body: vec![],
        }),
    ]);
    assert!(subscribe(&env, &connection(), CONFIG, URL, &basic()).is_err());
    let sent = env.sent.borrow();
    let deletes: Vec<&str> = sent
        .iter()
        .filter(|r| r.method == Method::Delete)
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(
        deletes,
        [
            "https://dev.azure.com/contoso/_apis/hooks/subscriptions/s0?api-version=7.1",
            "https://dev.azure.com/contoso/_apis/hooks/subscriptions/s1?api-version=7.1"
        ]
    );
}

#[test]
fn a_relative_url_or_a_bad_config_is_refused_before_any_call() {
    let env = FakeEnv::new(vec![]);
    assert!(matches!(
        subscribe(&env, &connection(), CONFIG, "/hooks", &basic()),
        Err(ConnectorError::Validation(_))
    ));
    assert!(matches!(
        subscribe(&env, &connection(), "{}", URL, &basic()),
        Err(ConnectorError::InvalidConfig(_))
    ));
    assert!(env.sent.borrow().is_empty());
}

#[test]
fn status_reports_probation_disabled_and_gone() {
    let env = FakeEnv::new(vec![
        sub("a", "workitem.updated", "onProbation"),
        sub("b", "workitem.created", "disabledBySystem"),
        envelope(
            404,
            "Subscription c not found",
            "SubscriptionNotFoundException",
        ),
    ]);
    let ids = ["a".to_string(), "b".into(), "c".into()];
    let list = status(&env, &connection(), &ids).unwrap();
    assert_eq!(
        list.iter().map(|s| s.status.as_str()).collect::<Vec<_>>(),
        ["onProbation", "disabledBySystem", "notFound"]
    );
    assert!(!list.iter().any(Subscription::healthy));
}

#[test]
fn repair_re_enables_what_ado_disabled() {
    let env = FakeEnv::new(vec![
        sub("a", "workitem.updated", "enabled"),
        sub("b", "workitem.created", "disabledBySystem"),
        sub("b", "workitem.created", "enabled"),
    ]);
    let list = repair(
        &env,
        &connection(),
        &["a".to_string(), "b".into()],
        &basic(),
    )
    .unwrap();
    assert!(list.iter().all(Subscription::healthy));
    let sent = env.sent.borrow();
    assert_eq!(
        sent.iter().map(|r| r.method).collect::<Vec<_>>(),
        [Method::Get, Method::Get, Method::Put]
    );
    let put = body_of(&sent[2]);
    assert_eq!(put["status"], "enabled");
    // ADO masks the password it returns: the real one goes back, with the URL kept.
    assert_eq!(put["consumerInputs"]["basicAuthPassword"], "hook-secret");
    assert_eq!(put["consumerInputs"]["basicAuthUsername"], "ado-hook");
    assert_eq!(put["consumerInputs"]["url"], URL);
}

#[test]
fn repair_with_a_secret_header_replaces_basic_credentials() {
    let env = FakeEnv::new(vec![
        sub("b", "workitem.created", "onProbation"),
        sub("b", "workitem.created", "enabled"),
    ]);
    let header = DeliveryAuth::Header {
        name: "X-Hook".into(),
        value: Secret("header-secret".into()),
    };
    let list = repair(&env, &connection(), &["b".to_string()], &header).unwrap();
    assert_eq!(list[0].status, "enabled");
    let put = body_of(&env.sent.borrow()[1]);
    assert_eq!(put["consumerInputs"]["httpHeaders"], "X-Hook:header-secret");
    assert!(put["consumerInputs"].get("basicAuthPassword").is_none());
}

#[test]
fn unsubscribe_deletes_and_accepts_already_gone() {
    let env = FakeEnv::new(vec![
        Ok(crate::env::HttpResponse {
            status: 204,
            headers: vec![],
            body: vec![],
        }),
        envelope(
            404,
            "Subscription b not found",
            "SubscriptionNotFoundException",
        ),
    ]);
    unsubscribe(&env, &connection(), &["a".to_string(), "b".into()]).unwrap();
    assert_eq!(
        env.sent
            .borrow()
            .iter()
            .filter(|r| r.method == Method::Delete)
            .count(),
        2
    );
    let env = FakeEnv::new(vec![envelope(
        403,
        "denied",
        "UnauthorizedRequestException",
    )]);
    assert!(unsubscribe(&env, &connection(), &["a".to_string()]).is_err());
}
