//! The outegration being edited: the config JSON as the CLI reads it, kept
//! whole in the session between the wizard's steps, and the forms that
//! change parts of it. Members a form does not show are left as they are,
//! so an existing config opens and saves without losing anything.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::store::VisibilityForm;

/// The wizard's work in progress.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The file stem it is saved as (`<name>.json`).
    pub name: String,
    /// The outegration config (an object once a type is chosen).
    pub config: Value,
    /// The "Create Azure DevOps Ticket" button's visibility.
    pub visibility: VisibilityForm,
    /// The project's process template, from the last connection test.
    pub process: Option<String>,
}

impl Draft {
    /// The config's work item type, if chosen.
    pub fn work_item_type(&self) -> Option<&str> {
        self.config.get("work_item_type").and_then(Value::as_str)
    }

    /// The config as the file will hold it.
    pub fn text(&self) -> String {
        serde_json::to_string_pretty(&self.config).unwrap_or_default() + "\n"
    }

    /// The config object (made one if it is not).
    pub fn object(&mut self) -> &mut Map<String, Value> {
        if !self.config.is_object() {
            self.config = json!({});
        }
        match &mut self.config {
            Value::Object(m) => m,
            _ => unreachable!("made an object above"),
        }
    }

    /// The rules of a stage (`dispatch`, `to_ado`, `from_ado`).
    pub fn rules(&self, stage: &str) -> Vec<Value> {
        self.config
            .get(stage)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
}

/// A posted form: every name and value, in order (names repeat for lists).
/// Line breaks are `\n`: browsers send a textarea's as CRLF (HTML's form
/// encoding), which would otherwise end up in templates and scripts.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct FormData(pub Vec<(String, String)>);

impl From<Vec<(String, String)>> for FormData {
    fn from(pairs: Vec<(String, String)>) -> FormData {
        FormData(
            pairs
                .into_iter()
                .map(|(k, v)| (k, v.replace("\r\n", "\n")))
                .collect(),
        )
    }
}

impl FormData {
    /// The first value of `key`, or "".
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Whether a checkbox `key` was ticked.
    pub fn checked(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// The row numbers `i` of names `prefix.i` (and `prefix.i.more`).
    pub fn rows(&self, prefix: &str) -> BTreeSet<usize> {
        let p = format!("{prefix}.");
        self.0
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(&p)?.split('.').next()?.parse().ok())
            .collect()
    }
}

/// Comma-separated text as a list of strings.
pub fn split_list(s: &str) -> Vec<Value> {
    s.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| Value::String(v.to_string()))
        .collect()
}

/// A list of strings as comma-separated text.
pub fn join_list(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `key = value` lines as a dictionary map; a value that is a number stays one.
pub fn parse_map(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| (k.trim().to_string(), typed_value(v.trim())))
        .collect()
}

/// A dictionary map as `key = value` lines.
pub fn map_text(v: Option<&Value>) -> String {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    format!(
                        "{k} = {}",
                        v.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| v.to_string())
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Text typed into a value box: a whole or decimal number, `true`/`false`, else text.
pub fn typed_value(s: &str) -> Value {
    if let Ok(i) = s.parse::<i64>() {
        return json!(i);
    }
    if let Ok(f) = s.parse::<f64>()
        && f.is_finite()
        && s.contains('.')
    {
        return json!(f);
    }
    match s {
        "true" => json!(true),
        "false" => json!(false),
        _ => Value::String(s.to_string()),
    }
}

/// The sync step's form into the config: `sync`, `to_ado` and `from_ado`.
pub fn apply_sync(d: &mut Draft, f: &FormData) {
    let previous_sync = d.config.get("sync").cloned().unwrap_or_else(|| json!({}));
    let mut sync = previous_sync.as_object().cloned().unwrap_or_default();
    sync.insert("comments".into(), json!(f.checked("comments")));
    sync.insert("conflicts".into(), json!(f.get("conflicts")));
    let triggers: Vec<Value> = f
        .rows("trigger_field")
        .into_iter()
        .filter_map(|i| {
            let field = f.get(&format!("trigger_field.{i}")).trim();
            (!field.is_empty()).then(|| {
                let mut t = json!({
                    "field": field,
                    "from": split_list(f.get(&format!("trigger_from.{i}"))),
                    "to": split_list(f.get(&format!("trigger_to.{i}"))),
                });
                let message = f.get(&format!("trigger_message.{i}")).trim();
                if !message.is_empty() {
                    t["message"] = json!(message);
                }
                t
            })
        })
        .collect();
    sync.insert("triggers".into(), Value::Array(triggers));
    if f.checked("auto_close") {
        sync.insert(
            "auto_close".into(),
            json!({
                "state": f.get("close_state"),
                "remediated": split_list(f.get("remediated")),
                "temporary": split_list(f.get("temporary")),
                "close_on_temporary": f.checked("close_on_temporary"),
            }),
        );
    } else {
        sync.remove("auto_close");
    }
    let mut reopen = sync
        .get("reopen")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    reopen.insert("enabled".into(), json!(f.checked("reopen")));
    sync.insert("reopen".into(), Value::Object(reopen));
    let to_ado = rows_to_rules(f, "to_target", "to_field", "to_map", d.rules("to_ado"));
    let from_ado = rows_to_rules(
        f,
        "from_target",
        "from_field",
        "from_map",
        d.rules("from_ado"),
    );
    let o = d.object();
    o.insert("sync".into(), Value::Object(sync));
    o.insert("to_ado".into(), Value::Array(to_ado));
    o.insert("from_ado".into(), Value::Array(from_ado));
}

/// Whether the sync form edits a rule: `field` rules, and `dictionary` rules
/// that leave unmapped values out (what its Values column writes). Others
/// (templates, scripts, dictionaries with a default) are kept as they are.
pub fn editable_sync_rule(r: &Value) -> bool {
    match r.get("method").and_then(Value::as_str) {
        Some("field") => true,
        Some("dictionary") => {
            r.get("unmapped").and_then(Value::as_str) == Some("skip") && r.get("default").is_none()
        }
        _ => false,
    }
}

/// The rows of a sync rule table as rules: `field`, or `dictionary`
/// (unmapped values left out) when a map is given. Row `k` replaces the
/// `k`-th editable rule in place (an emptied row removes it), so the order
/// stays; rows past them are added at the end.
fn rows_to_rules(
    f: &FormData,
    target: &str,
    field: &str,
    map: &str,
    previous: Vec<Value>,
) -> Vec<Value> {
    let row = |i: usize| -> Option<Value> {
        let (t, s) = (
            f.get(&format!("{target}.{i}")).trim(),
            f.get(&format!("{field}.{i}")).trim(),
        );
        if t.is_empty() || s.is_empty() {
            return None;
        }
        let dict = parse_map(f.get(&format!("{map}.{i}")));
        Some(if dict.is_empty() {
            json!({"target": t, "method": "field", "field": s})
        } else {
            json!({"target": t, "method": "dictionary", "field": s, "map": dict, "unmapped": "skip"})
        })
    };
    let mut rules = Vec::new();
    let mut k = 0;
    for r in previous {
        if editable_sync_rule(&r) {
            rules.extend(row(k));
            k += 1;
        } else {
            rules.push(r);
        }
    }
    rules.extend(
        f.rows(target)
            .into_iter()
            .filter(|i| *i >= k)
            .filter_map(row),
    );
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn textarea_line_breaks_become_newlines() {
        let f: FormData = serde_json::from_value(json!([["template.0", "a\r\nb"]])).unwrap();
        assert_eq!(f.get("template.0"), "a\nb");
    }

    #[test]
    fn typed_values_keep_numbers_and_text() {
        assert_eq!(typed_value("1"), json!(1));
        assert_eq!(typed_value("2.5"), json!(2.5));
        assert_eq!(typed_value("RESOLVED"), json!("RESOLVED"));
        assert_eq!(typed_value("1e3"), json!("1e3"));
    }

    #[test]
    fn the_sync_form_keeps_rules_it_does_not_edit() {
        let mut d = Draft {
            config: json!({"to_ado": [{"target": "System.Title", "method": "template", "template": "{{title}}"}]}),
            ..Draft::default()
        };
        let f = form(&[
            ("comments", "on"),
            ("conflicts", "report"),
            ("to_target.0", "Microsoft.VSTS.Common.Severity"),
            ("to_field.0", "severity"),
            ("from_target.0", "status"),
            ("from_field.0", "System.State"),
            ("from_map.0", "Closed = RESOLVED\nActive = IN_PROGRESS"),
        ]);
        apply_sync(&mut d, &f);
        assert_eq!(d.rules("to_ado").len(), 2);
        assert_eq!(d.rules("to_ado")[0]["method"], "template");
        assert_eq!(d.rules("to_ado")[1]["field"], "severity");
        assert_eq!(
            d.rules("from_ado")[0],
            json!({"target": "status", "method": "dictionary", "field": "System.State",
                   "map": {"Closed": "RESOLVED", "Active": "IN_PROGRESS"}, "unmapped": "skip"})
        );
        assert_eq!(d.config["sync"]["reopen"]["enabled"], false);
        assert!(d.config["sync"].get("auto_close").is_none());
    }
}
