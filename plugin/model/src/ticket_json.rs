//! The ticket JSON format, read and written in one place for every adapter:
//! the host's ticket files and state database, `examples/tickets/`, and the
//! Spin service's `/v1` API.
//!
//! ```json
//! {"id": "SEC-1", "url": "https://secops.example/t/1",
//!  "fields": {"title": "…", "severity": "HIGH", "due": "2026-12-01T00:00:00Z"},
//!  "findings": [{"id": "F-1", "status": "open", "fields": {"cve": "CVE-2026-1"}}],
//!  "comments": [{"id": "C-1", "author": "Ann", "created": "…", "text": "…"}]}
//! ```
//!
//! A string that is an RFC 3339 date-time (parsed by `time`, not guessed by
//! shape) is a date-time value; other strings are text. Lists hold strings
//! only; objects are not field values. Fields keep their order (as read from
//! text) and a field named twice is refused. Every problem is reported as an
//! [`Issue`] whose path names the member at fault.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::{Comment, Field, FieldValue, Finding, Issue, Ticket};

/// Why a document is not a ticket: every problem found, each with its path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a valid ticket: {}", .issues.iter().map(Issue::to_string).collect::<Vec<_>>().join("; "))]
pub struct TicketError {
    /// The problems, each naming the member at fault (`fields.owner`,
    /// `findings[0].fields.ports`, `id`).
    pub issues: Vec<Issue>,
}

impl TicketError {
    fn one(path: impl Into<String>, rule: &str, message: impl Into<String>) -> TicketError {
        TicketError {
            issues: vec![Issue::new(path, rule, message)],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTicket {
    id: String,
    url: String,
    #[serde(default)]
    fields: OrderedFields,
    #[serde(default)]
    findings: Vec<RawFinding>,
    #[serde(default)]
    comments: Vec<RawComment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    id: String,
    #[serde(default = "open")]
    status: String,
    #[serde(default)]
    fields: OrderedFields,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawComment {
    id: String,
    author: String,
    created: String,
    text: String,
}

fn open() -> String {
    "open".into()
}

/// A JSON object's members in document order, a name given twice refused.
///
/// Kept rather than serde_json's `preserve_order` feature or an `IndexMap`:
/// both keep the *last* of two members with one name and drop the first
/// without a word, and a ticket whose `severity` is silently one of two
/// values is exactly what the format must refuse.
#[derive(Default)]
struct OrderedFields(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = OrderedFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of field names and values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedFields, A::Error> {
                let mut out: Vec<(String, Value)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    if out.iter().any(|(seen, _)| *seen == k) {
                        return Err(serde::de::Error::custom(format!(
                            "field `{k}` appears twice"
                        )));
                    }
                    out.push((k, v));
                }
                Ok(OrderedFields(out))
            }
        }
        d.deserialize_map(Members)
    }
}

/// `#[serde(deserialize_with = ...)]` for a JSON object of fields held as a
/// `serde_json::Map` (the Spin API's request types): a name given twice is
/// refused, as [`parse`] refuses it, instead of the last one silently winning.
pub fn unique_members<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<serde_json::Map<String, Value>, D::Error> {
    let members = OrderedFields::deserialize(d)?;
    Ok(members.0.into_iter().collect())
}

/// Whether a string is an RFC 3339 date-time (`2026-12-01T10:00:00Z`).
pub fn is_date_time(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// A JSON value as a field value; `path` names the field in the issue.
pub fn field_value(path: &str, v: &Value) -> Result<FieldValue, Issue> {
    Ok(match v {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => FieldValue::Integer(i),
            None => FieldValue::Number(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) if is_date_time(s) => FieldValue::DateTime(s.clone()),
        Value::String(s) => FieldValue::Text(s.clone()),
        Value::Array(items) => FieldValue::TextList(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Issue::new(path, "type", "a list must hold only strings"))?,
        ),
        Value::Object(_) => {
            return Err(Issue::new(path, "type", "an object is not a field value"));
        }
    })
}

/// A field value as JSON: the inverse of [`field_value`].
pub fn value_json(v: &FieldValue) -> Value {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Boolean(b) => Value::Bool(*b),
        FieldValue::Integer(i) => Value::from(*i),
        FieldValue::Number(n) => Value::from(*n),
        FieldValue::Text(s) | FieldValue::DateTime(s) => Value::String(s.clone()),
        FieldValue::TextList(l) => Value::Array(l.iter().cloned().map(Value::String).collect()),
    }
}

fn fields(members: OrderedFields, at: &str, issues: &mut Vec<Issue>) -> Vec<Field> {
    members
        .0
        .into_iter()
        .filter_map(|(name, v)| match field_value(&format!("{at}{name}"), &v) {
            Ok(value) => Some(Field { name, value }),
            Err(issue) => {
                issues.push(issue);
                None
            }
        })
        .collect()
}

fn from_raw(raw: RawTicket) -> Result<Ticket, TicketError> {
    let mut issues = Vec::new();
    if raw.id.trim().is_empty() {
        issues.push(Issue::new("id", "required", "the ticket id is empty"));
    }
    let fields_in = fields(raw.fields, "fields.", &mut issues);
    let findings = raw
        .findings
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            if f.id.trim().is_empty() {
                issues.push(Issue::new(
                    format!("findings[{i}].id"),
                    "required",
                    "the finding id is empty",
                ));
            }
            Finding {
                fields: fields(f.fields, &format!("findings[{i}].fields."), &mut issues),
                id: f.id,
                status: f.status,
            }
        })
        .collect();
    if !issues.is_empty() {
        return Err(TicketError { issues });
    }
    Ok(Ticket {
        id: raw.id,
        url: raw.url,
        fields: fields_in,
        findings,
        comments: raw
            .comments
            .into_iter()
            .map(|c| Comment {
                id: c.id,
                author: c.author,
                created: c.created,
                text: c.text,
            })
            .collect(),
    })
}

/// The path serde stopped at, as the ticket format names members.
fn shape_error(e: &serde_json::Error) -> TicketError {
    // serde_json's message names the member (`unknown field `x``, `missing
    // field `id``, `invalid type: ...`) without quoting long values.
    let message = e.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    let rule = if e.is_syntax() || e.is_eof() {
        "json"
    } else {
        "schema"
    };
    let where_ = if e.line() > 0 {
        format!("line {} column {}", e.line(), e.column())
    } else {
        "ticket".into()
    };
    TicketError::one(where_, rule, message)
}

/// Parses a ticket from JSON text, keeping the order of its fields.
pub fn parse(text: &str) -> Result<Ticket, TicketError> {
    let raw: RawTicket = serde_json::from_str(text).map_err(|e| shape_error(&e))?;
    from_raw(raw)
}

/// Reads a ticket from a JSON value (an API request's member). Fields come
/// in the value's member order.
pub fn from_value(v: Value) -> Result<Ticket, TicketError> {
    let raw: RawTicket = serde_json::from_value(v).map_err(|e| shape_error(&e))?;
    from_raw(raw)
}

/// Fields as a JSON object whose members keep the fields' order.
struct FieldsOut<'a>(&'a [Field]);

impl Serialize for FieldsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for f in self.0 {
            map.serialize_entry(&f.name, &value_json(&f.value))?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct TicketOut<'a> {
    id: &'a str,
    url: &'a str,
    fields: FieldsOut<'a>,
    findings: Vec<FindingOut<'a>>,
    comments: Vec<CommentOut<'a>>,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    id: &'a str,
    status: &'a str,
    fields: FieldsOut<'a>,
}

#[derive(Serialize)]
struct CommentOut<'a> {
    id: &'a str,
    author: &'a str,
    created: &'a str,
    text: &'a str,
}

fn ticket_out(t: &Ticket) -> TicketOut<'_> {
    TicketOut {
        id: &t.id,
        url: &t.url,
        fields: FieldsOut(&t.fields),
        findings: t
            .findings
            .iter()
            .map(|f| FindingOut {
                id: &f.id,
                status: &f.status,
                fields: FieldsOut(&f.fields),
            })
            .collect(),
        comments: t.comments.iter().map(comment_out).collect(),
    }
}

fn comment_out(c: &Comment) -> CommentOut<'_> {
    CommentOut {
        id: &c.id,
        author: &c.author,
        created: &c.created,
        text: &c.text,
    }
}

/// The ticket as pretty JSON text, fields in their order.
pub fn to_json(t: &Ticket) -> String {
    serde_json::to_string_pretty(&ticket_out(t)).expect("a ticket always serializes")
}

/// The ticket as a JSON value (member order as `serde_json::Map` keeps it).
pub fn to_value(t: &Ticket) -> Value {
    serde_json::to_value(ticket_out(t)).expect("a ticket always serializes")
}

/// A comment as its JSON object.
pub fn comment_json(c: &Comment) -> Value {
    serde_json::to_value(comment_out(c)).expect("a comment always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_json_kind_becomes_its_field_value() {
        let t = parse(r#"{"id":"S-1","url":"https://x/1","fields":{"a":"text","b":3,"c":9.5,"d":true,"e":null,"f":["x","y"],"g":"2026-12-01T00:00:00Z"}}"#).unwrap();
        let kinds: Vec<&FieldValue> = t.fields.iter().map(|f| &f.value).collect();
        assert_eq!(
            kinds,
            [
                &FieldValue::Text("text".into()),
                &FieldValue::Integer(3),
                &FieldValue::Number(9.5),
                &FieldValue::Boolean(true),
                &FieldValue::Null,
                &FieldValue::TextList(vec!["x".into(), "y".into()]),
                &FieldValue::DateTime("2026-12-01T00:00:00Z".into()),
            ]
        );
    }

    #[test]
    fn every_bad_field_is_named_by_its_path() {
        let e = parse(
            r#"{"id":"S-1","url":"u","fields":{"owner":{"name":"x"}},
                "findings":[{"id":"F-9","fields":{"ports":[80,"x"]}}]}"#,
        )
        .unwrap_err();
        let paths: Vec<&str> = e.issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["fields.owner", "findings[0].fields.ports"]);
    }

    #[test]
    fn a_field_named_twice_is_refused() {
        let e = parse(r#"{"id":"S-1","url":"u","fields":{"a":1,"a":2}}"#).unwrap_err();
        assert!(e.to_string().contains("`a` appears twice"), "{e}");
    }

    #[test]
    fn an_impossible_date_stays_text_and_multibyte_text_is_not_split() {
        let t = parse(
            r#"{"id":"S-1","url":"u","fields":{"d":"2024-13-45T99:99:99Z","e":"2024-01-01T00:00:0é+01:00","f":"2026-12-01"}}"#,
        )
        .unwrap();
        for f in &t.fields {
            assert!(matches!(f.value, FieldValue::Text(_)), "{f:?}");
        }
    }

    #[test]
    fn to_json_round_trips_in_field_order() {
        let text = r#"{"id":"S-1","url":"https://x/1","fields":{"z":"text","b":3,"g":"2026-12-01T00:00:00Z"},
            "findings":[{"id":"F-1","status":"fixed","fields":{"y":1,"a":2}}],
            "comments":[{"id":"C-1","author":"Ann","created":"2026-01-01T10:00:00Z","text":"hi"}]}"#;
        let t = parse(text).unwrap();
        let json = to_json(&t);
        assert_eq!(parse(&json).unwrap(), t);
        assert!(json.find("\"z\"").unwrap() < json.find("\"b\"").unwrap());
        assert!(json.find("\"y\"").unwrap() < json.find("\"a\"").unwrap());
        // A JSON value's members come back in `serde_json::Map`'s order.
        let sorted = |mut t: Ticket| {
            t.fields.sort_by(|a, b| a.name.cmp(&b.name));
            t.findings
                .iter_mut()
                .for_each(|f| f.fields.sort_by(|a, b| a.name.cmp(&b.name)));
            t
        };
        assert_eq!(sorted(from_value(to_value(&t)).unwrap()), sorted(t));
    }

    #[test]
    fn an_unknown_member_or_empty_id_is_refused() {
        let e = parse(r#"{"id":"S-1","url":"u","colour":"red"}"#).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let e = parse(r#"{"id":" ","url":"u"}"#).unwrap_err();
        assert_eq!(e.issues[0].path, "id");
    }
}
