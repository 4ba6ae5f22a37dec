//! After a 412: which of the fields the ticket wants to send may still go,
//! and which are conflicts (changed in ADO too since the last sync).

use serde_json::{Map, Value};

use super::Conflict;
use crate::config::sync::ConflictPolicy;
use crate::model::SyncState;
use crate::workitem::{WorkItem, same_value};

/// The merge of one round.
pub(super) struct Merged {
    /// Fields to send in the next PATCH.
    pub send: Map<String, Value>,
    /// Conflicts met, with the resolution applied.
    pub conflicts: Vec<Conflict>,
}

/// Splits the pending fields against the item as it is now:
/// - ADO already holds the ticket's value: nothing to send (a retry of a
///   push whose answer was lost lands here);
/// - ADO still holds the value last synced, or the field was never synced:
///   only the ticket changed it, send it;
/// - otherwise both changed it: a conflict, resolved by `policy`. Whatever
///   the policy, the baseline becomes the ticket's value, so the same
///   conflict is not reported again until the ticket changes the field anew.
pub(super) fn merge(
    policy: ConflictPolicy,
    state: &mut SyncState,
    pending: Map<String, Value>,
    item: &WorkItem,
) -> Merged {
    let mut send = Map::new();
    let mut conflicts = Vec::new();
    for (field, ours) in pending {
        let ado = item.fields.get(&field);
        if same_value(ado, &ours) {
            state.fields.insert(field, ours);
            continue;
        }
        let untouched_in_ado = match state.fields.get(&field) {
            None => true,
            Some(last) => same_value(ado, last),
        };
        if untouched_in_ado {
            send.insert(field, ours);
            continue;
        }
        conflicts.push(Conflict {
            field: field.clone(),
            ticket_value: ours.clone(),
            ado_value: ado.cloned().unwrap_or(Value::Null),
            resolution: policy.resolution().to_string(),
        });
        if policy == ConflictPolicy::TicketWins {
            send.insert(field, ours);
        } else {
            state.fields.insert(field, ours);
        }
    }
    Merged { send, conflicts }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(fields: Value) -> WorkItem {
        serde_json::from_value(json!({"id": 1, "rev": 5, "fields": fields})).unwrap()
    }

    fn state(fields: Value) -> SyncState {
        SyncState {
            fields: fields.as_object().unwrap().clone(),
            ..SyncState::default()
        }
    }

    fn pending(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_field_changed_only_in_the_ticket_is_sent() {
        let mut s = state(json!({"System.Title": "old"}));
        let m = merge(
            ConflictPolicy::Report,
            &mut s,
            pending(json!({"System.Title": "new"})),
            &item(json!({"System.Title": "old", "System.State": "Active"})),
        );
        assert_eq!(m.send.get("System.Title"), Some(&json!("new")));
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn a_field_changed_on_both_sides_is_reported_and_not_overwritten() {
        let mut s = state(json!({"Microsoft.VSTS.Common.Priority": 3}));
        let m = merge(
            ConflictPolicy::Report,
            &mut s,
            pending(json!({"Microsoft.VSTS.Common.Priority": 1})),
            &item(json!({"Microsoft.VSTS.Common.Priority": 2})),
        );
        assert!(m.send.is_empty());
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].resolution, "reported");
        assert_eq!(m.conflicts[0].ado_value, json!(2));
        assert_eq!(
            s.fields.get("Microsoft.VSTS.Common.Priority"),
            Some(&json!(1)),
            "baseline moves to the ticket's value"
        );
    }

    #[test]
    fn ticket_wins_sends_the_ticket_value_and_still_reports() {
        let mut s = state(json!({"System.Title": "a"}));
        let m = merge(
            ConflictPolicy::TicketWins,
            &mut s,
            pending(json!({"System.Title": "b"})),
            &item(json!({"System.Title": "c"})),
        );
        assert_eq!(m.send.get("System.Title"), Some(&json!("b")));
        assert_eq!(m.conflicts[0].resolution, "ticket-wins");
    }

    #[test]
    fn a_value_ado_already_holds_is_not_sent_again() {
        let mut s = state(json!({"System.Title": "a"}));
        let m = merge(
            ConflictPolicy::Report,
            &mut s,
            pending(json!({"System.Title": "b"})),
            &item(json!({"System.Title": "b"})),
        );
        assert!(m.send.is_empty() && m.conflicts.is_empty());
    }
}
