//! Grouping findings into tickets: a configurable key (one ticket per
//! vulnerability across assets, per asset, per rule and file...) decides
//! which ticket a new finding joins, and [`Grouping::ticket`] (re)builds a
//! ticket document from its findings, keeping what people added to it.

use serde::Deserialize;

use crate::platform::ingest::{ScanFinding, Severity, fingerprint};
use crate::{Field, FieldValue, Finding, Ticket};

/// One part of a grouping key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKey {
    /// The CVE when the finding has one, else the scanner's rule: one ticket
    /// per vulnerability across assets and scanners.
    Vulnerability,
    /// The scanner.
    Scanner,
    /// The scanner's rule (`CodeQL:js/sql-injection`).
    Rule,
    /// The asset (repository, image, host).
    Asset,
    /// The file the finding points at.
    File,
    /// The finding itself: one ticket per finding.
    Finding,
}

impl GroupKey {
    fn name(self) -> &'static str {
        match self {
            GroupKey::Vulnerability => "vulnerability",
            GroupKey::Scanner => "scanner",
            GroupKey::Rule => "rule",
            GroupKey::Asset => "asset",
            GroupKey::File => "file",
            GroupKey::Finding => "finding",
        }
    }

    fn value(self, f: &ScanFinding) -> String {
        match self {
            GroupKey::Vulnerability => f
                .cve
                .clone()
                .unwrap_or_else(|| format!("{}:{}", f.scanner, f.rule_id)),
            GroupKey::Scanner => f.scanner.clone(),
            GroupKey::Rule => format!("{}:{}", f.scanner, f.rule_id),
            GroupKey::Asset => f.asset.clone(),
            GroupKey::File => f.file.clone().unwrap_or_default(),
            GroupKey::Finding => f.fingerprint.clone(),
        }
    }

    /// Whether the group shares one issue (so its title is the issue's).
    fn is_issue(self) -> bool {
        matches!(
            self,
            GroupKey::Vulnerability | GroupKey::Rule | GroupKey::Finding
        )
    }
}

/// How findings become tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    pub by: Vec<GroupKey>,
    /// Ticket ids are `{prefix}-{10 hex digits of the key's hash}`.
    pub prefix: String,
    /// The ticket's URL; `{id}` is replaced by its id.
    pub ticket_url: String,
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            by: vec![GroupKey::Vulnerability],
            prefix: "VULN".into(),
            ticket_url: "https://secops.example/tickets/{id}".into(),
        }
    }
}

/// A finding of a ticket as stored: its data and current status.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    pub status: &'a str,
    pub first_seen: &'a str,
    pub data: &'a ScanFinding,
}

/// The id of a finding inside its ticket.
pub fn finding_id(fingerprint: &str) -> String {
    format!("F-{}", &fingerprint[..fingerprint.len().min(12)])
}

/// The ticket fields grouping owns: rebuilt on every ingest. Any other
/// field (assignee, due date...) is a person's and is kept.
const OWNED: &[&str] = &[
    "title",
    "description",
    "severity",
    "cve",
    "scanner",
    "asset",
    "assets",
    "asset_tags",
    "rule_id",
    "first_seen",
    "group_key",
    "source",
];

/// The value of a ticket field, if present.
pub fn field<'a>(t: &'a Ticket, name: &str) -> Option<&'a FieldValue> {
    t.fields.iter().find(|f| f.name == name).map(|f| &f.value)
}

fn text(name: &str, v: impl Into<String>) -> Field {
    Field {
        name: name.into(),
        value: FieldValue::Text(v.into()),
    }
}

fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values.filter(|s| !s.is_empty()).collect();
    v.sort();
    v.dedup();
    v
}

impl Grouping {
    /// The grouping key of a finding (`vulnerability=CVE-2023-0286`).
    pub fn key(&self, f: &ScanFinding) -> String {
        self.by
            .iter()
            .map(|k| format!("{}={}", k.name(), k.value(f)))
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The ticket id of a key.
    pub fn ticket_id(&self, key: &str) -> String {
        format!("{}-{}", self.prefix, &fingerprint::hash(&[key])[..10])
    }

    /// The ticket of `members` (sorted here), built on `existing` when the
    /// ticket is stored already: its other fields, comments and URL stay.
    pub fn ticket(
        &self,
        id: &str,
        key: &str,
        members: &mut [Member<'_>],
        existing: Option<Ticket>,
    ) -> Ticket {
        members.sort_by(|a, b| {
            (a.first_seen, &a.data.fingerprint).cmp(&(b.first_seen, &b.data.fingerprint))
        });
        let rep = members.first().map(|m| m.data);
        let severity = members
            .iter()
            .map(|m| m.data.severity)
            .max()
            .unwrap_or(Severity::Info);
        let scanners = distinct(members.iter().map(|m| m.data.scanner.clone()));
        let assets = distinct(members.iter().map(|m| m.data.asset.clone()));
        let asset_tags = distinct(
            members
                .iter()
                .flat_map(|m| m.data.asset_tags.iter().cloned()),
        );
        let rules = distinct(members.iter().map(|m| m.data.rule_id.clone()));
        let cve = members.iter().find_map(|m| m.data.cve.clone());
        let title = match rep {
            Some(r) if self.by.iter().any(|k| k.is_issue()) => match &cve {
                Some(c) if !r.title.contains(c.as_str()) => format!("{c}: {}", r.title),
                _ => r.title.clone(),
            },
            _ => {
                let file = self
                    .by
                    .contains(&GroupKey::File)
                    .then(|| rep.and_then(|r| r.file.clone()))
                    .flatten()
                    .map(|f| format!(" in {f}"))
                    .unwrap_or_default();
                format!(
                    "{} findings on {}{file}",
                    scanners.join(", "),
                    assets.first().map(String::as_str).unwrap_or("unknown")
                )
            }
        };
        let description = rep
            .map(|r| {
                if r.description.trim().is_empty() {
                    r.title.clone()
                } else {
                    r.description.chars().take(4000).collect()
                }
            })
            .unwrap_or_default();
        let mut owned = vec![
            text("title", title),
            text("description", description),
            text("severity", severity.as_str()),
            text("scanner", scanners.join(", ")),
            text("asset", assets.first().cloned().unwrap_or_default()),
            Field {
                name: "assets".into(),
                value: FieldValue::TextList(assets.clone()),
            },
            text("rule_id", rules.join(", ")),
            text("group_key", key),
            text("source", "ingest"),
        ];
        if let Some(c) = &cve {
            owned.push(text("cve", c.clone()));
        }
        if !asset_tags.is_empty() {
            owned.push(Field {
                name: "asset_tags".into(),
                value: FieldValue::TextList(asset_tags),
            });
        }
        if let Some(m) = members.first() {
            owned.push(Field {
                name: "first_seen".into(),
                value: FieldValue::DateTime(m.first_seen.to_string()),
            });
        }
        let findings = members.iter().map(finding).collect();
        let mut ticket = existing.unwrap_or_else(|| Ticket {
            id: id.to_string(),
            url: self.ticket_url.replace("{id}", id),
            fields: Vec::new(),
            findings: Vec::new(),
            comments: Vec::new(),
        });
        // Owned fields keep their place; a field no longer produced (a CVE
        // that went away) is dropped; people's fields stay as they are.
        ticket.fields.retain(|f| {
            !OWNED.contains(&f.name.as_str()) || owned.iter().any(|o| o.name == f.name)
        });
        for o in owned {
            match ticket.fields.iter_mut().find(|f| f.name == o.name) {
                Some(f) => f.value = o.value,
                None => ticket.fields.push(o),
            }
        }
        ticket.findings = findings;
        ticket
    }
}

fn finding(m: &Member<'_>) -> Finding {
    let d = m.data;
    let mut fields = vec![
        text("title", d.title.clone()),
        text("severity", d.severity.as_str()),
        text("asset", d.asset.clone()),
        text("asset_name", d.asset.clone()),
        text("scanner", d.scanner.clone()),
        text("sources", d.scanner.clone()),
        text("rule_id", d.rule_id.clone()),
        text("fingerprint", d.fingerprint.clone()),
        Field {
            name: "first_seen".into(),
            value: FieldValue::DateTime(m.first_seen.to_string()),
        },
    ];
    let optional = [
        ("cve", d.cve.clone()),
        ("component_name", d.component.clone().or(d.file.clone())),
        ("file", d.file.clone()),
        (
            "description",
            (!d.description.is_empty()).then(|| d.description.chars().take(2000).collect()),
        ),
    ];
    for (name, v) in optional {
        if let Some(v) = v {
            fields.push(text(name, v));
        }
    }
    if let Some(l) = d.line {
        fields.push(Field {
            name: "line".into(),
            value: FieldValue::Integer(l),
        });
    }
    if !d.asset_tags.is_empty() {
        fields.push(Field {
            name: "asset_tags".into(),
            value: FieldValue::TextList(d.asset_tags.clone()),
        });
    }
    Finding {
        id: finding_id(&d.fingerprint),
        status: m.status.to_string(),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(fp: &str, cve: Option<&str>, asset: &str, sev: Severity) -> ScanFinding {
        ScanFinding {
            fingerprint: fp.into(),
            scanner: "Trivy".into(),
            rule_id: cve.unwrap_or("R1").into(),
            title: "openssl: type confusion".into(),
            description: String::new(),
            severity: sev,
            cve: cve.map(str::to_string),
            asset: asset.into(),
            component: Some("openssl".into()),
            file: Some("Dockerfile".into()),
            line: None,
            tags: vec![],
            asset_tags: vec!["prod".into()],
            status: None,
            scope: "Trivy".into(),
        }
    }

    #[test]
    fn vulnerability_grouping_puts_one_cve_on_many_assets_in_one_ticket() {
        let g = Grouping::default();
        let a = scan("a1", Some("CVE-2023-0286"), "img-a", Severity::High);
        let b = scan("b1", Some("CVE-2023-0286"), "img-b", Severity::Critical);
        let c = scan("c1", Some("CVE-2022-1"), "img-a", Severity::Low);
        assert_eq!(g.key(&a), g.key(&b));
        assert_ne!(g.key(&a), g.key(&c));
        let per_asset = Grouping {
            by: vec![GroupKey::Asset],
            ..Grouping::default()
        };
        assert_eq!(per_asset.key(&a), per_asset.key(&c));
        assert_ne!(per_asset.key(&a), per_asset.key(&b));
        assert!(g.ticket_id(&g.key(&a)).starts_with("VULN-"));
        assert_eq!(g.ticket_id(&g.key(&a)).len(), 15);
    }

    #[test]
    fn a_ticket_takes_the_highest_severity_and_keeps_peoples_fields() {
        let g = Grouping::default();
        let a = scan("a1", Some("CVE-2023-0286"), "img-a", Severity::High);
        let b = scan("b1", Some("CVE-2023-0286"), "img-b", Severity::Critical);
        let mut members = vec![
            Member {
                status: "fixed",
                first_seen: "2026-11-02T00:00:00Z",
                data: &b,
            },
            Member {
                status: "open",
                first_seen: "2026-11-01T00:00:00Z",
                data: &a,
            },
        ];
        let first = g.ticket("VULN-1", "k", &mut members, None);
        assert_eq!(
            field(&first, "severity"),
            Some(&FieldValue::Text("CRITICAL".into()))
        );
        assert_eq!(
            field(&first, "title"),
            Some(&FieldValue::Text(
                "CVE-2023-0286: openssl: type confusion".into()
            ))
        );
        assert_eq!(first.findings[0].id, "F-a1", "oldest first");
        assert_eq!(first.findings[1].status, "fixed");
        assert_eq!(first.url, "https://secops.example/tickets/VULN-1");
        let mut edited = first.clone();
        edited.fields.insert(
            0,
            Field {
                name: "assignee".into(),
                value: FieldValue::Text("ann@example.com".into()),
            },
        );
        let again = g.ticket("VULN-1", "k", &mut members, Some(edited));
        assert_eq!(again.fields[0].name, "assignee");
        assert_eq!(again.fields.len(), first.fields.len() + 1);
    }
}
