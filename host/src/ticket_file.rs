//! The ticket file format (JSON) of the CLI, the demo and `examples/`, and of
//! the tickets in the host's state database: [`parse`] / [`from_json`] read
//! it, [`to_json`] writes it back with every field in its original order.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Comment, Field, FieldValue, Finding, Ticket};

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

/// A JSON object's members in file order (serde_json's `Map` sorts them
/// unless the workspace-wide `preserve_order` feature is on).
#[derive(Default)]
struct OrderedFields(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of field names and values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedFields, A::Error> {
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
        d.deserialize_map(Visitor)
    }
}

fn open() -> String {
    "open".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComment {
    id: String,
    author: String,
    created: String,
    text: String,
}

fn is_rfc3339(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// A JSON value as a field value; objects and mixed arrays are refused.
pub fn field_value(name: &str, v: &Value) -> anyhow::Result<FieldValue> {
    Ok(match v {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => FieldValue::Integer(i),
            None => FieldValue::Number(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) if is_rfc3339(s) => FieldValue::DateTime(s.clone()),
        Value::String(s) => FieldValue::Text(s.clone()),
        Value::Array(items) => {
            let texts: Option<Vec<String>> = items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect();
            match texts {
                Some(t) => FieldValue::TextList(t),
                None => bail!("field `{name}`: a list must hold only strings"),
            }
        }
        Value::Object(_) => bail!("field `{name}`: objects are not field values"),
    })
}

fn fields(map: &OrderedFields, at: &str) -> anyhow::Result<Vec<Field>> {
    map.0
        .iter()
        .map(|(k, v)| {
            Ok(Field {
                name: k.clone(),
                value: field_value(&format!("{at}{k}"), v)?,
            })
        })
        .collect()
}

/// Parses a ticket from JSON text.
pub fn parse(text: &str) -> anyhow::Result<Ticket> {
    let raw: RawTicket =
        serde_json::from_str(text).context("the ticket is not valid JSON of the ticket format")?;
    let findings = raw
        .findings
        .iter()
        .map(|f| {
            Ok(Finding {
                id: f.id.clone(),
                status: f.status.clone(),
                fields: fields(&f.fields, &format!("findings[{}].", f.id))?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Ticket {
        fields: fields(&raw.fields, "")?,
        id: raw.id,
        url: raw.url,
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

/// Parses a ticket from JSON text (the same as [`parse`]).
pub fn from_json(text: &str) -> anyhow::Result<Ticket> {
    parse(text)
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

/// Fields as a JSON object whose members keep the fields' order.
struct FieldsOut<'a>(&'a [Field]);

impl Serialize for FieldsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
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
        comments: t
            .comments
            .iter()
            .map(|c| CommentOut {
                id: &c.id,
                author: &c.author,
                created: &c.created,
                text: &c.text,
            })
            .collect(),
    }
}

/// The ticket in the ticket file format (pretty JSON), fields in their order.
pub fn to_json(t: &Ticket) -> String {
    serde_json::to_string_pretty(&ticket_out(t)).expect("a ticket always serializes")
}

/// Reads a ticket file.
pub fn load(path: &Path) -> anyhow::Result<Ticket> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
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
    fn an_object_value_is_refused_naming_the_field() {
        let err = parse(r#"{"id":"S-1","url":"u","fields":{"owner":{"name":"x"}}}"#).unwrap_err();
        assert!(format!("{err:#}").contains("`owner`"), "{err:#}");
    }

    #[test]
    fn findings_and_comments_are_read_and_bad_finding_fields_named() {
        let t = parse(
            r#"{"id":"S-1","url":"u","fields":{"z":1,"a":2},
                "findings":[{"id":"F-1","status":"fixed","fields":{"cve":"CVE-2026-1"}}],
                "comments":[{"id":"C-1","author":"Ann","created":"2026-01-01T10:00:00Z","text":"hi"}]}"#,
        )
        .unwrap();
        assert_eq!(
            t.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["z", "a"],
            "order is kept"
        );
        assert_eq!(t.findings[0].status, "fixed");
        assert_eq!(
            t.findings[0].fields[0].value,
            FieldValue::Text("CVE-2026-1".into())
        );
        assert_eq!(t.comments[0].author, "Ann");
        let err = parse(
            r#"{"id":"S-1","url":"u","findings":[{"id":"F-9","fields":{"ports":[80,"x"]}}]}"#,
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("findings[F-9].ports"),
            "{err:#}"
        );
    }

    #[test]
    fn a_date_only_string_stays_text() {
        let t = parse(r#"{"id":"S-1","url":"u","fields":{"d":"2026-12-01"}}"#).unwrap();
        assert_eq!(t.fields[0].value, FieldValue::Text("2026-12-01".into()));
    }

    #[test]
    fn to_json_round_trips_every_value_kind_in_field_order() {
        let text = r#"{"id":"S-1","url":"https://x/1","fields":{"z":"text","b":3,"c":9.5,"d":true,"e":null,"f":["x","y"],"g":"2026-12-01T00:00:00Z"},
            "findings":[{"id":"F-1","status":"fixed","fields":{"y":1,"a":2}}],
            "comments":[{"id":"C-1","author":"Ann","created":"2026-01-01T10:00:00Z","text":"hi"}]}"#;
        let t = parse(text).unwrap();
        let json = to_json(&t);
        assert_eq!(from_json(&json).unwrap(), t);
        assert!(
            json.find("\"z\"").unwrap() < json.find("\"b\"").unwrap(),
            "field order is kept:\n{json}"
        );
        assert!(
            json.find("\"y\"").unwrap() < json.find("\"a\"").unwrap(),
            "finding field order is kept:\n{json}"
        );
    }

    #[test]
    fn the_examples_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/tickets");
        for entry in std::fs::read_dir(dir).unwrap() {
            load(&entry.unwrap().path()).unwrap();
        }
    }
}
