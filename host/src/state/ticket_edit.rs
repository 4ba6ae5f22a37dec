//! Edits of a ticket document: an RFC 6902 JSON Patch, `name=value` field
//! replaces, a new comment, a finding's status. Each returns the changed
//! ticket or an error naming what is wrong; the caller stores the result
//! (see [`crate::state::db::Db::update_ticket`]), so a refused edit stores nothing.

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::state::ticket_file::{field_value, parse as from_json, to_json};
use crate::{Comment, Field, Ticket};

/// Applies a JSON Patch (text: an array of operations) to the ticket's
/// document. The result must still be a ticket; fields that were there keep
/// their order, new ones follow.
pub fn patch(t: Ticket, patch_json: &str) -> anyhow::Result<Ticket> {
    let ops: json_patch::Patch = serde_json::from_str(patch_json)
        .context("the patch is not a JSON Patch (an array of RFC 6902 operations)")?;
    let mut doc: Value = serde_json::from_str(&to_json(&t)).context("the ticket document")?;
    json_patch::patch(&mut doc, &ops).context("the patch does not apply")?;
    let mut after = from_json(&doc.to_string())
        .context("after the patch the document is no longer a ticket")?;
    keep_order(&mut after.fields, &t.fields);
    for f in &mut after.findings {
        if let Some(old) = t.findings.iter().find(|o| o.id == f.id) {
            keep_order(&mut f.fields, &old.fields);
        }
    }
    Ok(after)
}

/// Sorts `fields` into the order of `before`; fields new to it go last.
fn keep_order(fields: &mut [Field], before: &[Field]) {
    fields.sort_by_key(|f| {
        before
            .iter()
            .position(|b| b.name == f.name)
            .unwrap_or(usize::MAX)
    });
}

/// Replaces (or adds) fields from `name=value` assignments; a value is read
/// as JSON when it parses, else as text.
pub fn set(mut t: Ticket, assignments: &[String]) -> anyhow::Result<Ticket> {
    if assignments.is_empty() {
        bail!("nothing to set: give `name=value` pairs");
    }
    for a in assignments {
        let Some((name, raw)) = a.split_once('=') else {
            bail!("`{a}` is not `name=value`")
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("`{a}` has no field name before `=`");
        }
        let json =
            serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        let value = field_value(name, &json)?;
        match t.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => f.value = value,
            None => t.fields.push(Field {
                name: name.to_string(),
                value,
            }),
        }
    }
    Ok(t)
}

/// Adds a comment with the next free id `C-<n>`, created at `created`.
pub fn comment(mut t: Ticket, author: &str, text: &str, created: &str) -> anyhow::Result<Ticket> {
    if author.trim().is_empty() {
        bail!("a comment needs an author");
    }
    if text.trim().is_empty() {
        bail!("a comment needs text");
    }
    let next = t
        .comments
        .iter()
        .filter_map(|c| c.id.strip_prefix("C-").and_then(|n| n.parse::<u64>().ok()))
        .max()
        .unwrap_or(0)
        + 1;
    let mut n = next.max(t.comments.len() as u64 + 1);
    while t.comments.iter().any(|c| c.id == format!("C-{n}")) {
        n += 1;
    }
    t.comments.push(Comment {
        id: format!("C-{n}"),
        author: author.into(),
        created: created.into(),
        text: text.into(),
    });
    Ok(t)
}

/// Sets the status of finding `finding_id`.
pub fn finding_status(mut t: Ticket, finding_id: &str, status: &str) -> anyhow::Result<Ticket> {
    if status.trim().is_empty() {
        bail!("the status of finding {finding_id} cannot be empty");
    }
    let known: Vec<String> = t.findings.iter().map(|f| f.id.clone()).collect();
    let Some(f) = t.findings.iter_mut().find(|f| f.id == finding_id) else {
        bail!(
            "ticket {} has no finding `{finding_id}` (its findings: {})",
            t.id,
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )
    };
    f.status = status.to_string();
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldValue;

    fn ticket() -> Ticket {
        from_json(
            r#"{"id":"S-1","url":"u","fields":{"title":"t","severity":"MEDIUM","cvss":5},
                "findings":[{"id":"F-1","status":"open"}],"comments":[{"id":"C-1","author":"A","created":"2026-01-01T00:00:00Z","text":"x"}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_patch_replaces_a_field_and_keeps_the_field_order() {
        let t = patch(ticket(), r#"[{"op":"replace","path":"/fields/severity","value":"CRITICAL"},{"op":"add","path":"/fields/asset","value":"web"}]"#).unwrap();
        let names: Vec<&str> = t.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["title", "severity", "cvss", "asset"]);
        assert_eq!(t.fields[1].value, FieldValue::Text("CRITICAL".into()));
    }

    #[test]
    fn a_patch_that_breaks_the_ticket_format_is_refused() {
        let err = patch(
            ticket(),
            r#"[{"op":"replace","path":"/fields/severity","value":{"x":1}}]"#,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("no longer a ticket"), "{err:#}");
        let err = patch(ticket(), r#"[{"op":"remove","path":"/fields/nope"}]"#).unwrap_err();
        assert!(format!("{err:#}").contains("does not apply"), "{err:#}");
    }

    #[test]
    fn set_reads_json_values_and_falls_back_to_text() {
        let t = set(
            ticket(),
            &[
                "cvss=9.8".into(),
                "severity=CRITICAL".into(),
                "tags=[\"a\"]".into(),
            ],
        )
        .unwrap();
        assert_eq!(t.fields[2].value, FieldValue::Number(9.8));
        assert_eq!(t.fields[1].value, FieldValue::Text("CRITICAL".into()));
        assert_eq!(t.fields[3].value, FieldValue::TextList(vec!["a".into()]));
        assert!(set(ticket(), &["novalue".into()]).is_err());
    }

    #[test]
    fn comments_get_the_next_free_id() {
        let t = comment(ticket(), "Ann", "hello", "2026-02-01T00:00:00Z").unwrap();
        assert_eq!(t.comments[1].id, "C-2");
        assert_eq!(t.comments[1].author, "Ann");
    }

    #[test]
    fn an_unknown_finding_is_named() {
        let err = finding_status(ticket(), "F-9", "fixed").unwrap_err();
        assert!(
            err.to_string().contains("`F-9`") && err.to_string().contains("F-1"),
            "{err}"
        );
        assert_eq!(
            finding_status(ticket(), "F-1", "fixed").unwrap().findings[0].status,
            "fixed"
        );
    }
}
