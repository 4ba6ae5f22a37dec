//! The ticket file format (JSON) of the CLI, the demo and `examples/`.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;
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
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OrderedFields, A::Error> {
                let mut out: Vec<(String, Value)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    if out.iter().any(|(seen, _)| *seen == k) {
                        return Err(serde::de::Error::custom(format!("field `{k}` appears twice")));
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
            let texts: Option<Vec<String>> = items.iter().map(|i| i.as_str().map(str::to_string)).collect();
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
        .map(|(k, v)| Ok(Field { name: k.clone(), value: field_value(&format!("{at}{k}"), v)? }))
        .collect()
}

/// Parses a ticket from JSON text.
pub fn parse(text: &str) -> anyhow::Result<Ticket> {
    let raw: RawTicket = serde_json::from_str(text).context("the ticket is not valid JSON of the ticket format")?;
    let findings = raw
        .findings
        .iter()
        .map(|f| Ok(Finding { id: f.id.clone(), status: f.status.clone(), fields: fields(&f.fields, &format!("findings[{}].", f.id))? }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Ticket {
        fields: fields(&raw.fields, "")?,
        id: raw.id,
        url: raw.url,
        findings,
        comments: raw
            .comments
            .into_iter()
            .map(|c| Comment { id: c.id, author: c.author, created: c.created, text: c.text })
            .collect(),
    })
}

/// Reads a ticket file.
pub fn load(path: &Path) -> anyhow::Result<Ticket> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
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
        assert_eq!(t.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["z", "a"], "order is kept");
        assert_eq!(t.findings[0].status, "fixed");
        assert_eq!(t.findings[0].fields[0].value, FieldValue::Text("CVE-2026-1".into()));
        assert_eq!(t.comments[0].author, "Ann");
        let err = parse(r#"{"id":"S-1","url":"u","findings":[{"id":"F-9","fields":{"ports":[80,"x"]}}]}"#).unwrap_err();
        assert!(format!("{err:#}").contains("findings[F-9].ports"), "{err:#}");
    }

    #[test]
    fn a_date_only_string_stays_text() {
        let t = parse(r#"{"id":"S-1","url":"u","fields":{"d":"2026-12-01"}}"#).unwrap();
        assert_eq!(t.fields[0].value, FieldValue::Text("2026-12-01".into()));
    }

    #[test]
    fn the_examples_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/tickets");
        for entry in std::fs::read_dir(dir).unwrap() {
            load(&entry.unwrap().path()).unwrap();
        }
    }
}
