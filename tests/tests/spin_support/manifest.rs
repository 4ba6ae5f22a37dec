//! The real `plugin/spin/spin.toml`, read the way Spin reads it: application
//! variables (defaults, required), the component's variables as templates
//! of them, its `allowed_outbound_hosts` (templated too) and its key-value
//! stores. The harness grants the component exactly this.

use std::collections::{BTreeMap, HashMap};

const COMPONENT: &str = "ado-connector";

/// What the manifest grants the component, with variables substituted.
#[derive(Debug, Clone)]
pub struct Grants {
    /// Component variable name → value.
    pub variables: HashMap<String, String>,
    /// The `allowed_outbound_hosts` entries, templates rendered: parsed
    /// when a request goes out, as Spin does (see [`Grants::allows`]).
    pub allowed_outbound_hosts: Vec<String>,
    pub key_value_stores: Vec<String>,
    pub route: String,
}

fn manifest() -> toml::Table {
    let path = ticketing_tests::workspace_root().join("plugin/spin/spin.toml");
    let text = std::fs::read_to_string(&path).expect("plugin/spin/spin.toml");
    text.parse().expect("spin.toml is TOML")
}

/// Replaces every `{{ name }}` with its application variable's value.
fn render(template: &str, app: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed template in `{template}`"));
        let name = rest[start + 2..start + end].trim();
        let value = app
            .get(name)
            .unwrap_or_else(|| panic!("`{template}` names `{name}`, not an application variable"));
        out.push_str(value);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// `scheme://host[:port]` with the port made explicit; the manifest's form
/// (Spin refuses paths in allowed hosts, and so does this).
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let default_port = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
            (h.to_string(), p.parse::<u16>().ok()?)
        }
        _ => (authority.to_string(), default_port),
    };
    Some(format!("{scheme}://{}:{port}", host.to_ascii_lowercase()))
}

/// One `allowed_outbound_hosts` entry as an origin; why not, when it is
/// not `scheme://host[:port]` (no scheme, or a path).
fn allowed_origin(entry: &str) -> Result<String, String> {
    if !entry.contains("://") {
        return Err(format!("`{entry}` has no scheme"));
    }
    let rest = entry.split_once("://").map(|(_, r)| r).unwrap_or_default();
    if rest.trim_end_matches('/').contains('/') {
        return Err(format!("`{entry}` has a path"));
    }
    origin(entry).ok_or_else(|| format!("`{entry}` is not scheme://host[:port]"))
}

impl Grants {
    /// Whether a request to `url` may leave: its origin is one the entries
    /// name. An entry that does not parse makes every request denied, as
    /// Spin resolves the (templated) list when the component sends and
    /// refuses when it cannot.
    pub fn allows(&self, url: &str) -> Result<(), String> {
        let allowed = self
            .allowed_outbound_hosts
            .iter()
            .map(|h| allowed_origin(h))
            .collect::<Result<Vec<_>, _>>()?;
        let wanted = origin(url).ok_or_else(|| format!("`{url}` has no http(s) origin"))?;
        if allowed.contains(&wanted) {
            Ok(())
        } else {
            Err(format!("{wanted} is not in allowed_outbound_hosts"))
        }
    }
}

/// Reads the manifest and resolves it with `given` application variables,
/// failing as `spin up` would on a required variable left out.
pub fn grants(given: &BTreeMap<String, String>) -> Grants {
    let doc = manifest();
    let declared = doc["variables"].as_table().expect("[variables]");
    let mut app = BTreeMap::new();
    for (name, decl) in declared {
        let decl = decl.as_table().expect("a variable is a table");
        let value = match (given.get(name), decl.get("default")) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.as_str().expect("a string default").to_string(),
            (None, None) => {
                assert!(
                    decl.get("required").and_then(|r| r.as_bool()) != Some(true),
                    "the required variable `{name}` was not given"
                );
                String::new()
            }
        };
        app.insert(name.clone(), value);
    }
    for name in given.keys() {
        assert!(
            declared.contains_key(name),
            "`{name}` is not declared in spin.toml"
        );
    }
    let component = doc["component"][COMPONENT]
        .as_table()
        .expect("[component.ado-connector]");
    let variables = component
        .get("variables")
        .and_then(|v| v.as_table())
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), render(v.as_str().expect("a template"), &app)))
                .collect()
        })
        .unwrap_or_default();
    let allowed_outbound_hosts = component["allowed_outbound_hosts"]
        .as_array()
        .expect("allowed_outbound_hosts")
        .iter()
        .map(|h| render(h.as_str().expect("a host"), &app))
        .collect();
    let key_value_stores = component["key_value_stores"]
        .as_array()
        .expect("key_value_stores")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let trigger = doc["trigger"]["http"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|t| t.get("component").and_then(|c| c.as_str()) == Some(COMPONENT))
        })
        .expect("an HTTP trigger for the component");
    Grants {
        variables,
        allowed_outbound_hosts,
        key_value_stores,
        route: trigger["route"].as_str().unwrap().to_string(),
    }
}
