//! A service-hook delivery body: `webhook::payload::parse`, then
//! `webhook::handle` with a fixed config and a link to the event's work item.
//!
//! Invariants: no panic; a parsed event has a non-blank, trimmed id; an
//! applied delivery leaves a readable sync state that remembers the event,
//! and the same delivery handled again with that link is ignored.

#![no_main]

use ado_connector_core::model::{Link, SyncState};
use ado_connector_core::webhook::{Outcome, handle, payload};
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = r#"{"version":2,"work_item_type":"Bug","from_ado":[
    {"target":"status","method":"dictionary","field":"System.State","map":{"New":"OPEN","Approved":"IN_PROGRESS","Closed":"RESOLVED"},"unmapped":"skip"},
    {"target":"severity","method":"dictionary","field":"Microsoft.VSTS.Common.Severity","map":{"2 - High":"HIGH","3 - Medium":"MEDIUM"},"unmapped":"default","default":"LOW"},
    {"target":"title","method":"field","field":"System.Title"},
    {"target":"summary","method":"template","template":"{{System.Title | truncate:40}} ({{System.State | lower}}) by {{System.ChangedBy}}"}
]}"#;

fn link(work_item_id: i32) -> Link {
    Link {
        ticket_id: "SEC-1".into(),
        project: "be9b3917-87e6-42a4-a549-2bc06a7a878f".into(),
        work_item_type: "Bug".into(),
        work_item_id,
        rev: 1,
        url: String::new(),
        web_url: String::new(),
        sync_state: String::new(),
    }
}

fuzz_target!(
    init: {
        // A config that does not parse would make every `handle` an error.
        ado_connector_core::config::parse(CONFIG).expect("the fixed config parses");
    },
    |body: &[u8]| {
    let Ok(event) = payload::parse(body) else {
        // A rejected body is rejected by `handle` too, whatever the link.
        assert!(handle(CONFIG, &link(5), body).is_err());
        return;
    };
    assert!(!event.id.trim().is_empty());
    assert_eq!(event.id, event.id.trim());

    let link = link(event.work_item_id);
    match handle(CONFIG, &link, body) {
        Ok(Outcome::Apply(update)) => {
            assert_eq!(update.link.work_item_id, link.work_item_id);
            assert!(update.link.rev >= link.rev);
            let state = SyncState::read(&update.link.sync_state)
                .expect("the sync state the connector wrote reads back");
            assert!(
                state
                    .seen_events
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&event.id)),
                "the applied event is remembered"
            );
            // A redelivery of the same body is recognised, not applied twice.
            match handle(CONFIG, &update.link, body) {
                Ok(Outcome::Ignore(_)) => {}
                other => panic!("a redelivered event was not ignored: {other:?}"),
            }
        }
        Ok(Outcome::Ignore(_)) | Err(_) => {}
    }
    }
);
