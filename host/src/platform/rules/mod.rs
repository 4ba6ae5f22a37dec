//! Ticketing rules: the rules file (TOML, `--rules FILE`) that says how
//! ingested findings become tickets (grouping), which outegrations exist
//! and when their "Create Azure DevOps Ticket" button shows (visibility),
//! and which tickets are dispatched, with what initial state, and how they
//! auto-close. [`condition`] evaluates a rule's `when`; [`run`] plans and
//! carries out a run.

pub mod command;
pub mod condition;
pub mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

pub use condition::Condition;

use crate::platform::grouping::{GroupKey, Grouping};
use crate::platform::ingest::Statuses;

/// When an outegration may be dispatched to by hand (the "Create Azure
/// DevOps Ticket" button's setting; enforced by `platform::visibility`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Always,
    Never,
    Filter,
}

/// Why a rules file was refused: always the file, and where in it.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("reading the rules file {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("rules file {file}, line {line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("rules file {file}: {at}: {message}")]
    Invalid {
        file: String,
        at: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    group_by: Option<Vec<GroupKey>>,
    #[serde(default)]
    ticket_prefix: Option<String>,
    #[serde(default)]
    ticket_url: Option<String>,
    #[serde(default)]
    remediated_statuses: Option<Vec<String>>,
    #[serde(default)]
    temporary_statuses: Option<Vec<String>>,
    #[serde(default)]
    outegrations: BTreeMap<String, RawOutegration>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutegration {
    config: PathBuf,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    filter: Option<Condition>,
}

/// An outegration of the rules file.
#[derive(Debug, Clone)]
pub struct Outegration {
    pub name: String,
    /// The config file, as the state database stores it ([`crate::platform::lifecycle::outegration_key`]).
    pub key: String,
    /// Its text, read when the rules file is loaded.
    pub config: String,
    pub visibility: Visibility,
    pub filter: Condition,
}

fn yes() -> bool {
    true
}

/// One ticketing rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    /// The outegration (a name under `[outegrations]`) that dispatches.
    pub outegration: String,
    #[serde(default)]
    pub when: Condition,
    /// The work item's initial state; else the outegration config's.
    #[serde(default)]
    pub initial_state: Option<String>,
    /// Close the work item once all its findings are remediated.
    #[serde(default = "yes")]
    pub auto_close: bool,
    /// The state to close to; else the config's `sync.auto_close.state`, else `Closed`.
    #[serde(default)]
    pub close_state: Option<String>,
    /// Do not close for temporary status changes (mitigated, risk accepted).
    #[serde(default = "yes")]
    pub ignore_temporary_statuses: bool,
}

/// A loaded, checked rules file.
#[derive(Debug, Clone)]
pub struct Rules {
    pub file: String,
    pub grouping: Grouping,
    pub statuses: Statuses,
    pub outegrations: Vec<Outegration>,
    pub rules: Vec<Rule>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Rules {
    /// Reads and checks a rules file; outegration configs are relative to it.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            file: file.clone(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Rules::parse(&file, &text, base)
    }

    /// Parses rules file text; `base` is the folder relative paths start from.
    pub fn parse(file: &str, text: &str, base: &Path) -> Result<Rules, RulesError> {
        let invalid = |at: String, message: String| RulesError::Invalid {
            file: file.into(),
            at,
            message,
        };
        let raw: RawRules = toml::from_str(text).map_err(|e| RulesError::Syntax {
            file: file.into(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
            message: e.message().to_string(),
        })?;
        let defaults = Grouping::default();
        let grouping = Grouping {
            by: raw.group_by.unwrap_or(defaults.by),
            prefix: raw.ticket_prefix.unwrap_or(defaults.prefix),
            ticket_url: raw.ticket_url.unwrap_or(defaults.ticket_url),
        };
        if grouping.by.is_empty() {
            return Err(invalid("group_by".into(), "name at least one key".into()));
        }
        if grouping.prefix.trim().is_empty() {
            return Err(invalid("ticket_prefix".into(), "must not be empty".into()));
        }
        let d = Statuses::default();
        let statuses = Statuses {
            remediated: raw.remediated_statuses.unwrap_or(d.remediated),
            temporary: raw.temporary_statuses.unwrap_or(d.temporary),
        };
        let mut outegrations = Vec::new();
        for (name, o) in raw.outegrations {
            let at = format!("outegrations.{name}");
            let path = base.join(&o.config);
            let config = std::fs::read_to_string(&path).map_err(|e| {
                invalid(
                    format!("{at}.config"),
                    format!("cannot read `{}`: {e}", path.display()),
                )
            })?;
            serde_json::from_str::<Value>(&config).map_err(|e| {
                invalid(
                    format!("{at}.config"),
                    format!("`{}` is not JSON: {e}", path.display()),
                )
            })?;
            match (o.visibility, &o.filter) {
                (Visibility::Filter, None) => {
                    return Err(invalid(
                        format!("{at}.filter"),
                        "visibility = \"filter\" needs a filter".into(),
                    ));
                }
                (Visibility::Always | Visibility::Never, Some(_)) => {
                    return Err(invalid(
                        format!("{at}.filter"),
                        "a filter is used only with visibility = \"filter\"".into(),
                    ));
                }
                _ => {}
            }
            outegrations.push(Outegration {
                key: crate::platform::lifecycle::outegration_key(&path),
                name,
                config,
                visibility: o.visibility,
                filter: o.filter.unwrap_or_default(),
            });
        }
        for (i, r) in raw.rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            if r.name.trim().is_empty() {
                return Err(invalid(format!("{at}.name"), "must not be empty".into()));
            }
            if raw.rules[..i].iter().any(|o| o.name == r.name) {
                return Err(invalid(
                    format!("{at}.name"),
                    format!("`{}` names two rules", r.name),
                ));
            }
            if !outegrations.iter().any(|o| o.name == r.outegration) {
                return Err(invalid(
                    format!("{at}.outegration"),
                    format!(
                        "`{}` is not under [outegrations] (known: {})",
                        r.outegration,
                        outegrations
                            .iter()
                            .map(|o| o.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(Rules {
            file: file.into(),
            grouping,
            statuses,
            outegrations,
            rules: raw.rules,
        })
    }

    /// The outegration named `name`.
    pub fn outegration(&self, name: &str) -> Option<&Outegration> {
        self.outegrations.iter().find(|o| o.name == name)
    }

    /// The outegration whose config is at `key` (a stored link's).
    pub fn outegration_by_key(&self, key: &str) -> Option<&Outegration> {
        self.outegrations.iter().find(|o| o.key == key)
    }

    /// The rule named `name`.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The outegration config a rule dispatches and syncs with: the file's,
    /// with the rule's initial state and auto-close settings put in.
    pub fn effective_config(&self, rule: &Rule) -> anyhow::Result<String> {
        let o = self
            .outegration(&rule.outegration)
            .ok_or_else(|| anyhow::anyhow!("rule `{}`: unknown outegration", rule.name))?;
        let mut doc: Value = serde_json::from_str(&o.config)?;
        let root = doc
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("the outegration config {} is not an object", o.key))?;
        if let Some(s) = &rule.initial_state {
            root.insert("initial_state".into(), Value::String(s.clone()));
        }
        let sync = root
            .entry("sync")
            .or_insert_with(|| Value::Object(Default::default()));
        let sync = sync
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("`sync` of {} is not an object", o.key))?;
        if rule.auto_close {
            let state = rule
                .close_state
                .clone()
                .or_else(|| {
                    sync.get("auto_close")?
                        .get("state")?
                        .as_str()
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "Closed".into());
            sync.insert(
                "auto_close".into(),
                serde_json::json!({
                    "state": state,
                    "remediated": self.statuses.remediated,
                    "temporary": self.statuses.temporary,
                    "close_on_temporary": !rule.ignore_temporary_statuses,
                }),
            );
        } else {
            sync.remove("auto_close");
        }
        Ok(doc.to_string())
    }

    /// The first rule whose condition the ticket meets.
    pub fn first_match(&self, t: &crate::Ticket, now: time::OffsetDateTime) -> Option<&Rule> {
        self.rules.iter().find(|r| r.when.check(t, now).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/outegrations")
    }

    const GOOD: &str = r#"
group_by = ["rule", "file"]
ticket_prefix = "APPSEC"

[outegrations.bugs]
config = "agile-bug.json"
visibility = "filter"
filter = { severity_at_least = "high" }

[[rules]]
name = "high"
outegration = "bugs"
initial_state = "Active"
close_state = "Resolved"
ignore_temporary_statuses = false
when = { severity_at_least = "HIGH", scanner = "CodeQL" }
"#;

    #[test]
    fn the_example_rules_file_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rules.toml");
        let r = Rules::load(&path).unwrap();
        assert_eq!(r.rules.len(), 3);
        assert_eq!(r.outegrations.len(), 2);
    }

    #[test]
    fn a_rules_file_is_read_with_its_defaults() {
        let r = Rules::parse("r.toml", GOOD, &dir()).unwrap();
        assert_eq!(r.grouping.by, [GroupKey::Rule, GroupKey::File]);
        assert_eq!(r.grouping.prefix, "APPSEC");
        assert_eq!(r.statuses, Statuses::default());
        assert_eq!(r.outegrations[0].visibility, Visibility::Filter);
        assert!(r.rules[0].auto_close, "auto_close defaults to on");
    }

    #[test]
    fn the_effective_config_carries_the_rules_states_and_temporary_choice() {
        let r = Rules::parse("r.toml", GOOD, &dir()).unwrap();
        let c: Value = serde_json::from_str(&r.effective_config(&r.rules[0]).unwrap()).unwrap();
        assert_eq!(c["initial_state"], "Active");
        assert_eq!(c["sync"]["auto_close"]["state"], "Resolved");
        assert_eq!(c["sync"]["auto_close"]["close_on_temporary"], true);
        let mut off = r.rules[0].clone();
        off.auto_close = false;
        let c: Value = serde_json::from_str(&r.effective_config(&off).unwrap()).unwrap();
        assert!(c["sync"].get("auto_close").is_none());
    }

    #[test]
    fn errors_name_the_file_and_where() {
        let e = Rules::parse(
            "r.toml",
            "group_by = [\"rule\"]\n[[rules]]\nname = 3\n",
            &dir(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("rules file r.toml, line 3:"), "{e}");
        let e = Rules::parse("r.toml", "group_by = [\"team\"]\n", &dir())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1") && e.contains("team"), "{e}");
        let bad_outegration = GOOD.replace("outegration = \"bugs\"", "outegration = \"tasks\"");
        let e = Rules::parse("r.toml", &bad_outegration, &dir())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "rules file r.toml: rules[0].outegration: `tasks` is not under [outegrations] (known: bugs)"
        );
        let no_filter = GOOD.replace("filter = { severity_at_least = \"high\" }", "");
        let e = Rules::parse("r.toml", &no_filter, &dir())
            .unwrap_err()
            .to_string();
        assert!(e.contains("outegrations.bugs.filter"), "{e}");
        let missing = GOOD.replace("agile-bug.json", "nope.json");
        let e = Rules::parse("r.toml", &missing, &dir())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("outegrations.bugs.config") && e.contains("nope.json"),
            "{e}"
        );
    }
}
