//! Display labels of ticket and finding fields, as the SecOps platform shows
//! them (`Ticket Assignee`), translated to system names (`assignee`) so a
//! Smart Text author can write either.

use std::collections::BTreeMap;

/// Labels whose system name is not simply the label in snake case.
const KNOWN: &[(&str, &str)] = &[
    ("Ticket ID", "id"),
    ("Ticket Id", "id"),
    ("Ticket URL", "url"),
    ("Ticket Link", "url"),
    ("SLA Due Date", "due_date"),
    ("Ticket SLA", "due_date"),
    ("Ticket Due Date", "due_date"),
    ("Ticket Owner", "assignee"),
    ("Ticket Created", "created"),
    ("Ticket Created Date", "created"),
    ("Findings", "findings"),
    ("Finding ID", "id"),
    ("Finding CVE", "cve"),
    ("Finding CVSS", "cvss"),
];

/// Whether a placeholder is written as a label rather than a system name:
/// labels have spaces or capitals, system names are snake case. ADO
/// reference names (`System.Title`) are names, not labels.
pub fn is_label(name: &str) -> bool {
    !name.contains('.')
        && (name.contains(' ') || name.chars().next().is_some_and(char::is_uppercase))
}

/// The system name of a label: the config's own `labels` first, then the
/// known labels, then the label without its `Ticket `/`Finding ` prefix in
/// snake case (`Ticket Due Date` → `due_date`).
pub fn resolve(label: &str, custom: &BTreeMap<String, String>) -> String {
    let label = label.trim();
    if let Some(name) = custom
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(label))
        .map(|(_, v)| v)
    {
        return name.clone();
    }
    if let Some((_, name)) = KNOWN.iter().find(|(k, _)| k.eq_ignore_ascii_case(label)) {
        return (*name).to_string();
    }
    let bare = ["Ticket ", "Finding "]
        .iter()
        .find_map(|p| {
            label
                .get(..p.len())
                .filter(|h| h.eq_ignore_ascii_case(p))
                .map(|_| &label[p.len()..])
        })
        .unwrap_or(label);
    bare.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// The display label of a ticket field for messages: the config's own
/// label when it has one, else `Ticket ` and the name in words
/// (`due_date` → `Ticket due date`).
pub fn label_of(name: &str, custom: &BTreeMap<String, String>) -> String {
    if let Some((label, _)) = custom.iter().find(|(_, v)| v.eq_ignore_ascii_case(name)) {
        return label.clone();
    }
    format!("Ticket {}", name.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_translate_to_system_names() {
        let none = BTreeMap::new();
        assert_eq!(resolve("Ticket Assignee", &none), "assignee");
        assert_eq!(resolve("Ticket Due Date", &none), "due_date");
        assert_eq!(resolve("SLA Due Date", &none), "due_date");
        assert_eq!(resolve("Finding CVE", &none), "cve");
        assert_eq!(resolve("Business Unit", &none), "business_unit");
        let custom = BTreeMap::from([("Ticket Squad".to_string(), "team".to_string())]);
        assert_eq!(resolve("ticket squad", &custom), "team");
    }

    #[test]
    fn system_and_reference_names_are_not_labels() {
        assert!(is_label("Ticket Assignee") && is_label("Title"));
        assert!(!is_label("assignee") && !is_label("System.Title") && !is_label("@index"));
    }
}
