//! Applying what Azure DevOps changed (a webhook's ticket update) to a ticket.

use crate::{Comment, Field, Ticket};

/// Sets the fields (replacing a field of the same name, else appending) and
/// adds the comments not there yet (by comment id: a redelivered update adds
/// nothing twice).
pub fn apply_update(ticket: &mut Ticket, fields: &[Field], comments: &[Comment]) {
    for f in fields {
        match ticket.fields.iter_mut().find(|g| g.name == f.name) {
            Some(g) => g.value = f.value.clone(),
            None => ticket.fields.push(f.clone()),
        }
    }
    for c in comments {
        if !ticket.comments.iter().any(|d| d.id == c.id) {
            ticket.comments.push(c.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldValue;

    fn ticket() -> Ticket {
        crate::ticket_json::parse(r#"{"id":"S-1","url":"u","fields":{"a":1,"b":2}}"#).unwrap()
    }

    #[test]
    fn a_field_is_replaced_in_place_and_a_new_one_appended() {
        let mut t = ticket();
        let set = |name: &str, v| Field {
            name: name.into(),
            value: FieldValue::Integer(v),
        };
        apply_update(&mut t, &[set("a", 9), set("c", 3)], &[]);
        let names: Vec<_> = t
            .fields
            .iter()
            .map(|f| (f.name.as_str(), &f.value))
            .collect();
        assert_eq!(
            names,
            [
                ("a", &FieldValue::Integer(9)),
                ("b", &FieldValue::Integer(2)),
                ("c", &FieldValue::Integer(3))
            ]
        );
    }

    #[test]
    fn a_redelivered_comment_is_added_once() {
        let mut t = ticket();
        let c = Comment {
            id: "ado-7".into(),
            author: "Ann".into(),
            created: "2026-01-01T00:00:00Z".into(),
            text: "done".into(),
        };
        apply_update(&mut t, &[], std::slice::from_ref(&c));
        apply_update(&mut t, &[], &[c]);
        assert_eq!(t.comments.len(), 1);
    }
}
