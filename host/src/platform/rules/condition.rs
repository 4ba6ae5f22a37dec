//! Rule conditions: tests on a ticket and its findings (severity at least,
//! scanner, asset tag, CVE present, age since first seen, field equality).
//! Every test given must hold; an empty condition matches every ticket.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::platform::grouping::field;
use crate::platform::ingest::Severity;
use crate::{FieldValue, Ticket};

/// One value or a list of them (`scanner = "Trivy"` or `["Trivy", "Grype"]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn values(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// A rule's `when` (or a visibility `filter`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The ticket's severity is this one or worse.
    #[serde(default, deserialize_with = "severity")]
    pub severity_at_least: Option<Severity>,
    /// A finding (or the ticket) comes from one of these scanners.
    #[serde(default)]
    pub scanner: Option<OneOrMany>,
    /// An asset of the ticket carries one of these tags.
    #[serde(default)]
    pub asset_tag: Option<OneOrMany>,
    /// The ticket or one of its findings has a CVE (true), or none has (false).
    #[serde(default)]
    pub cve_present: Option<bool>,
    /// Whole days since the ticket's findings were first seen, at least.
    #[serde(default)]
    pub age_days_at_least: Option<i64>,
    /// ... and at most.
    #[serde(default)]
    pub age_days_at_most: Option<i64>,
    /// Field equality: a ticket field, or a field of any finding, has this
    /// value (case-insensitive; lists match when they hold it).
    #[serde(default)]
    pub fields: BTreeMap<String, toml::Value>,
}

fn severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Severity>, D::Error> {
    let s = String::deserialize(d)?;
    Severity::parse(&s).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{s}` is not a severity (critical, high, medium, low, info)"
        ))
    })
}

/// A value as plain text (no JSON quotes).
fn plain(v: &FieldValue) -> String {
    match v {
        FieldValue::Null => String::new(),
        FieldValue::Text(s) | FieldValue::DateTime(s) => s.clone(),
        FieldValue::Integer(i) => i.to_string(),
        FieldValue::Number(n) => n.to_string(),
        FieldValue::Boolean(b) => b.to_string(),
        FieldValue::TextList(l) => l.join(", "),
    }
}

fn texts(v: &FieldValue) -> Vec<String> {
    match v {
        FieldValue::TextList(l) => l.clone(),
        // Grouping joins several scanners or rules with ", ".
        FieldValue::Text(s) => s.split(", ").map(str::to_string).collect(),
        other => vec![plain(other)],
    }
}

/// The values of a field on the ticket and on each of its findings.
fn values(t: &Ticket, name: &str) -> Vec<String> {
    let mut out: Vec<String> = field(t, name).map(texts).unwrap_or_default();
    for f in &t.findings {
        if let Some(fv) = f.fields.iter().find(|x| x.name == name) {
            out.extend(texts(&fv.value));
        }
    }
    out.retain(|s| !s.trim().is_empty());
    out
}

fn any_of(have: &[String], wanted: &[String]) -> bool {
    have.iter()
        .any(|h| wanted.iter().any(|w| w.eq_ignore_ascii_case(h.trim())))
}

/// The ticket's severity: its field, else its worst finding's.
pub fn ticket_severity(t: &Ticket) -> Option<Severity> {
    field(t, "severity")
        .and_then(|v| Severity::parse(&plain(v)))
        .or_else(|| {
            values(t, "severity")
                .iter()
                .filter_map(|s| Severity::parse(s))
                .max()
        })
}

/// Whole days since the ticket's `first_seen` (else `created`).
pub fn age_days(t: &Ticket, now: OffsetDateTime) -> Option<i64> {
    ["first_seen", "created"].iter().find_map(|name| {
        let text = plain(field(t, name)?);
        let at = OffsetDateTime::parse(&text, &Rfc3339).ok()?;
        Some((now - at).whole_days())
    })
}

impl Condition {
    /// Whether the ticket meets every test; else the first test that fails.
    pub fn check(&self, t: &Ticket, now: OffsetDateTime) -> Result<(), String> {
        if let Some(min) = self.severity_at_least {
            match ticket_severity(t) {
                Some(s) if s >= min => {}
                Some(s) => return Err(format!("severity {s} is below {min}")),
                None => return Err("the ticket has no severity".into()),
            }
        }
        if let Some(wanted) = &self.scanner
            && !any_of(&values(t, "scanner"), wanted.values())
        {
            return Err(format!("no finding from {}", wanted.values().join(" or ")));
        }
        if let Some(wanted) = &self.asset_tag {
            let mut tags = values(t, "asset_tags");
            tags.extend(field(t, "tags").map(texts).unwrap_or_default());
            if !any_of(&tags, wanted.values()) {
                return Err(format!("no asset tagged {}", wanted.values().join(" or ")));
            }
        }
        if let Some(want) = self.cve_present {
            let has = !values(t, "cve").is_empty();
            if has != want {
                return Err(if want { "no CVE" } else { "has a CVE" }.into());
            }
        }
        if self.age_days_at_least.is_some() || self.age_days_at_most.is_some() {
            let Some(age) = age_days(t, now) else {
                return Err("the ticket has no first_seen or created date".into());
            };
            if let Some(min) = self.age_days_at_least.filter(|m| age < *m) {
                return Err(format!("{age} day(s) old, less than {min}"));
            }
            if let Some(max) = self.age_days_at_most.filter(|m| age > *m) {
                return Err(format!("{age} day(s) old, more than {max}"));
            }
        }
        for (name, want) in &self.fields {
            let want = match want {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !any_of(&values(t, name), std::slice::from_ref(&want)) {
                return Err(format!("`{name}` is not `{want}`"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Field, Finding};

    fn text(name: &str, v: &str) -> Field {
        Field {
            name: name.into(),
            value: FieldValue::Text(v.into()),
        }
    }

    fn ticket() -> Ticket {
        Ticket {
            id: "VULN-1".into(),
            url: "u".into(),
            fields: vec![
                text("severity", "HIGH"),
                text("scanner", "CodeQL, Semgrep"),
                Field {
                    name: "first_seen".into(),
                    value: FieldValue::DateTime("2026-11-01T00:00:00Z".into()),
                },
            ],
            findings: vec![Finding {
                id: "F-1".into(),
                status: "open".into(),
                fields: vec![
                    text("rule_id", "js/sql-injection"),
                    Field {
                        name: "asset_tags".into(),
                        value: FieldValue::TextList(vec!["prod".into()]),
                    },
                ],
            }],
            comments: vec![],
        }
    }

    fn cond(toml_text: &str) -> Condition {
        toml::from_str(toml_text).unwrap()
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-11-11T12:00:00Z", &Rfc3339).unwrap()
    }

    #[test]
    fn severity_at_least_compares_by_rank() {
        assert!(
            cond("severity_at_least = \"medium\"")
                .check(&ticket(), now())
                .is_ok()
        );
        assert_eq!(
            cond("severity_at_least = \"CRITICAL\"").check(&ticket(), now()),
            Err("severity HIGH is below CRITICAL".into())
        );
    }

    #[test]
    fn scanner_and_asset_tag_match_any_listed_value() {
        assert!(
            cond("scanner = [\"Trivy\", \"semgrep\"]")
                .check(&ticket(), now())
                .is_ok()
        );
        assert!(cond("scanner = \"Trivy\"").check(&ticket(), now()).is_err());
        assert!(cond("asset_tag = \"prod\"").check(&ticket(), now()).is_ok());
        assert!(
            cond("asset_tag = [\"pci\"]")
                .check(&ticket(), now())
                .is_err()
        );
    }

    #[test]
    fn cve_present_age_and_field_equality() {
        assert_eq!(
            cond("cve_present = true").check(&ticket(), now()),
            Err("no CVE".into())
        );
        assert!(cond("cve_present = false").check(&ticket(), now()).is_ok());
        assert!(
            cond("age_days_at_least = 10")
                .check(&ticket(), now())
                .is_ok()
        );
        assert!(
            cond("age_days_at_least = 11")
                .check(&ticket(), now())
                .is_err()
        );
        assert!(
            cond("age_days_at_most = 9")
                .check(&ticket(), now())
                .is_err()
        );
        assert!(
            cond("fields = { rule_id = \"JS/SQL-Injection\" }")
                .check(&ticket(), now())
                .is_ok()
        );
        assert!(
            cond("fields = { rule_id = \"x\" }")
                .check(&ticket(), now())
                .is_err()
        );
        assert!(Condition::default().check(&ticket(), now()).is_ok());
    }

    #[test]
    fn an_unknown_test_or_severity_is_refused() {
        assert!(toml::from_str::<Condition>("severity = \"high\"").is_err());
        let e = toml::from_str::<Condition>("severity_at_least = \"urgent\"").unwrap_err();
        assert!(e.to_string().contains("`urgent` is not a severity"), "{e}");
    }
}
