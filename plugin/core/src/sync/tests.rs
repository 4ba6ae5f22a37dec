//! Unit tests of the sync decisions: which state closes and reopens a type,
//! and when the findings call for it.

use std::collections::BTreeMap;

use super::lifecycle::{closed_state, plan, reopen_state, settle};
use crate::config::parse;
use crate::config::sync::Reopen;
use crate::connection::ProjectRef;
use crate::model::{Finding, SyncState, Ticket};
use crate::schema::{TypeSchema, TypeState};

fn schema(states: &[(&str, &str)], transitions: &[(&str, &[&str])]) -> TypeSchema {
    TypeSchema {
        project: ProjectRef {
            id: "p1".into(),
            name: "Tailspin".into(),
            process_template: None,
        },
        work_item_type: "Issue".into(),
        fields: vec![],
        initial_states: vec![states[0].0.to_string()],
        states: states
            .iter()
            .map(|(n, c)| TypeState {
                name: (*n).into(),
                category: (*c).into(),
            })
            .collect(),
        transitions: transitions
            .iter()
            .map(|(f, t)| ((*f).to_string(), t.iter().map(|s| s.to_string()).collect()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn agile() -> TypeSchema {
    schema(
        &[
            ("New", "Proposed"),
            ("Active", "InProgress"),
            ("Resolved", "Resolved"),
            ("Closed", "Completed"),
        ],
        &[
            ("Closed", &["Active", "New", "Resolved"]),
            ("New", &["Active", "Closed"]),
        ],
    )
}

fn basic() -> TypeSchema {
    schema(
        &[
            ("To Do", "Proposed"),
            ("Doing", "InProgress"),
            ("Done", "Completed"),
        ],
        &[("Done", &["To Do", "Doing"])],
    )
}

fn ticket(statuses: &[&str]) -> Ticket {
    Ticket {
        id: "SEC-1".into(),
        url: "https://secops.example/t/1".into(),
        fields: vec![],
        findings: statuses
            .iter()
            .enumerate()
            .map(|(i, s)| Finding {
                id: format!("F-{i}"),
                status: (*s).into(),
                fields: vec![],
            })
            .collect(),
        comments: vec![],
    }
}

fn config(close_on_temporary: bool) -> crate::config::Config {
    std::rc::Rc::unwrap_or_clone(
    parse(&format!(
        r#"{{"version":2,"work_item_type":"Bug","sync":{{"auto_close":{{"state":"Closed","close_on_temporary":{close_on_temporary}}}}}}}"#
    ))
    .unwrap(),
    )
}

#[test]
fn the_configured_closed_state_is_used_where_the_type_has_it() {
    assert_eq!(
        closed_state(&agile(), Some("closed")).unwrap(),
        ("Closed".to_string(), None)
    );
}

#[test]
fn a_missing_closed_state_falls_back_to_the_completed_category_with_a_note() {
    let (state, note) = closed_state(&basic(), Some("Closed")).unwrap();
    assert_eq!(state, "Done");
    assert!(note.unwrap().contains("Completed category"));
}

#[test]
fn reopen_goes_to_the_first_reachable_in_progress_state() {
    assert_eq!(
        reopen_state(&agile(), &Reopen::default(), "Closed")
            .unwrap()
            .0,
        "Active"
    );
    assert_eq!(
        reopen_state(&basic(), &Reopen::default(), "Done")
            .unwrap()
            .0,
        "Doing"
    );
    let only_proposed = schema(
        &[
            ("New", "Proposed"),
            ("Active", "InProgress"),
            ("Closed", "Completed"),
        ],
        &[("Closed", &["New"])],
    );
    assert_eq!(
        reopen_state(&only_proposed, &Reopen::default(), "Closed")
            .unwrap()
            .0,
        "New"
    );
}

#[test]
fn close_waits_for_every_finding_and_ignores_temporary_statuses_by_default() {
    let s = SyncState::default();
    assert!(
        plan(
            &config(false),
            &agile(),
            &s,
            &ticket(&["fixed", "open"]),
            Some("New")
        )
        .unwrap()
        .is_none()
    );
    assert!(
        plan(
            &config(false),
            &agile(),
            &s,
            &ticket(&["fixed", "mitigated"]),
            Some("New")
        )
        .unwrap()
        .is_none()
    );
    let p = plan(
        &config(true),
        &agile(),
        &s,
        &ticket(&["fixed", "mitigated"]),
        Some("New"),
    )
    .unwrap()
    .unwrap();
    assert!(p.closing && p.to == "Closed");
    assert!(
        plan(&config(false), &agile(), &s, &ticket(&[]), Some("New"))
            .unwrap()
            .is_none(),
        "no findings: nothing is remediated"
    );
}

#[test]
fn an_item_already_closed_is_not_closed_again() {
    let mut s = SyncState::default();
    assert!(
        plan(
            &config(false),
            &agile(),
            &s,
            &ticket(&["fixed"]),
            Some("Closed")
        )
        .unwrap()
        .is_none()
    );
    settle(
        &config(false),
        &agile(),
        &mut s,
        &ticket(&["fixed"]),
        Some("Closed"),
    );
    assert!(s.closed);
    assert!(
        plan(
            &config(false),
            &agile(),
            &s,
            &ticket(&["fixed"]),
            Some("Active")
        )
        .unwrap()
        .is_none(),
        "closed once by us"
    );
}

#[test]
fn a_regression_after_our_close_reopens_and_names_the_finding() {
    let s = SyncState {
        closed: true,
        ..SyncState::default()
    };
    let p = plan(
        &config(false),
        &agile(),
        &s,
        &ticket(&["fixed", "open"]),
        Some("Closed"),
    )
    .unwrap()
    .unwrap();
    assert!(!p.closing);
    assert_eq!(p.to, "Active");
    assert!(
        p.reason.contains("F-1") && p.comment.contains("Reopened"),
        "{}",
        p.reason
    );
}

#[test]
fn close_and_reopen_notes_link_the_ticket_only_through_a_safe_scheme() {
    let hrefs = |html: &str| -> Vec<String> {
        let doc = scraper::Html::parse_fragment(html);
        let a = scraper::Selector::parse("a[href]").unwrap();
        doc.select(&a)
            .filter_map(|e| e.value().attr("href").map(str::to_string))
            .collect()
    };
    for (url, wanted) in [
        ("javascript:alert(document.cookie)", vec![]),
        ("data:text/html,<b>x</b>", vec![]),
        (
            "https://secops.example/t/1",
            vec!["https://secops.example/t/1".to_string()],
        ),
    ] {
        let mut closing = ticket(&["fixed"]);
        closing.url = url.into();
        let close = plan(
            &config(false),
            &agile(),
            &SyncState::default(),
            &closing,
            Some("New"),
        )
        .unwrap()
        .expect("every finding is fixed");
        assert_eq!(hrefs(&close.comment), wanted, "{}", close.comment);
        let mut reopening = ticket(&["open"]);
        reopening.url = url.into();
        let closed = SyncState {
            closed: true,
            ..SyncState::default()
        };
        let reopen = plan(
            &config(false),
            &agile(),
            &closed,
            &reopening,
            Some("Closed"),
        )
        .unwrap()
        .expect("a finding is open again");
        assert_eq!(hrefs(&reopen.comment), wanted, "{}", reopen.comment);
    }
}
