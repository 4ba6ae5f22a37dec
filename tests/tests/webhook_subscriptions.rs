//! webhook.subscribe / subscription-status / unsubscribe through the real
//! component against the emulator's service-hook API.

use crate::common;

use common::*;
use ticketing_runtime::{CallError, ConnectorError, DeliveryAuth};

const HOOK_URL: &str = "https://secops.example/hooks/agile-bug";

#[test]
fn subscribe_creates_one_enabled_subscription_per_work_item_event_for_the_project_and_type() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let auth = DeliveryAuth::Basic(("secops".into(), "generated-hook-password".into()));
    let subs = host()
        .subscribe(&conn, &agile_bug_config(), HOOK_URL, &auth)
        .expect("subscribed");
    let mut types: Vec<&str> = subs.iter().map(|s| s.event_type.as_str()).collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "workitem.commented",
            "workitem.created",
            "workitem.deleted",
            "workitem.restored",
            "workitem.updated"
        ]
    );
    for s in &subs {
        let stored = emu.subscription(&s.id).expect("stored in ADO");
        assert_eq!(stored["publisherId"], "tfs");
        assert_eq!(stored["consumerId"], "webHooks");
        assert_eq!(stored["consumerActionId"], "httpRequest");
        assert_eq!(stored["publisherInputs"]["projectId"], seed::PROJECT_ID);
        assert_eq!(stored["publisherInputs"]["workItemType"], "Bug");
        assert_eq!(stored["consumerInputs"]["url"], HOOK_URL);
        assert_eq!(stored["consumerInputs"]["basicAuthUsername"], "secops");
    }

    let ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
    let status = host().subscription_status(&conn, &ids).unwrap();
    assert!(status.iter().all(|s| s.status == "enabled"), "{status:?}");

    host().unsubscribe(&conn, &ids).unwrap();
    assert!(
        ids.iter().all(|id| emu.subscription(id).is_none()),
        "deleted in ADO"
    );
    host()
        .unsubscribe(&conn, &ids)
        .expect("already gone is fine");
}

#[test]
fn a_relative_hook_url_is_refused_before_anything_is_created() {
    let emu = emulator();
    let auth = DeliveryAuth::Header(("x-secops-hook".into(), "s3cret-value".into()));
    match host().subscribe(
        &pat_connection(&emu),
        &agile_bug_config(),
        "/hooks/1",
        &auth,
    ) {
        Err(CallError::Connector(e)) => {
            let text = format!("{e:?}");
            assert!(
                !text.contains("s3cret-value"),
                "no secret in errors: {text}"
            );
            assert!(
                matches!(
                    e,
                    ConnectorError::Validation(_) | ConnectorError::InvalidConfig(_)
                ),
                "{text}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
