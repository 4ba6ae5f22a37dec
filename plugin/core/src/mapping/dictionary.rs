//! `dictionary` rules: a value map with a policy for values it lacks, e.g.
//! ticket severity CRITICAL → Priority 1, or ADO state Closed → ticket
//! status RESOLVED. Keys match exactly first, then without case.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::Unmapped;

/// What a dictionary makes of one source value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The mapped (or default) value.
    Hit(Value),
    /// Leave the target out (`unmapped: skip`).
    Skip,
    /// Refuse (`unmapped: error`); the known keys, for the message.
    Miss(Vec<String>),
}

/// Looks `key` up in `map`, applying the `unmapped` policy.
pub fn lookup(
    map: &BTreeMap<String, Value>,
    unmapped: Unmapped,
    default: Option<&Value>,
    key: &str,
) -> Lookup {
    let key = key.trim();
    let hit = map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    });
    match (hit, unmapped) {
        (Some(v), _) => Lookup::Hit(v.clone()),
        (None, Unmapped::Skip) => Lookup::Skip,
        (None, Unmapped::Default) => default.cloned().map(Lookup::Hit).unwrap_or(Lookup::Skip),
        (None, Unmapped::Error) => Lookup::Miss(map.keys().cloned().collect()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn severity() -> BTreeMap<String, Value> {
        [
            ("CRITICAL".to_string(), json!(1)),
            ("HIGH".to_string(), json!(2)),
        ]
        .into()
    }

    #[test]
    fn hits_match_without_case() {
        assert_eq!(
            lookup(&severity(), Unmapped::Error, None, "critical"),
            Lookup::Hit(json!(1))
        );
    }

    #[test]
    fn a_miss_follows_the_unmapped_policy() {
        assert_eq!(
            lookup(&severity(), Unmapped::Skip, None, "LOW"),
            Lookup::Skip
        );
        assert_eq!(
            lookup(&severity(), Unmapped::Default, Some(&json!(4)), "LOW"),
            Lookup::Hit(json!(4))
        );
        assert_eq!(
            lookup(&severity(), Unmapped::Error, None, "LOW"),
            Lookup::Miss(vec!["CRITICAL".into(), "HIGH".into()])
        );
    }

    #[test]
    fn values_that_look_like_template_syntax_are_plain_keys() {
        let map: BTreeMap<String, Value> = [("{{x}}".to_string(), json!("braces"))].into();
        assert_eq!(
            lookup(&map, Unmapped::Error, None, "{{x}}"),
            Lookup::Hit(json!("braces"))
        );
        assert!(matches!(
            lookup(&map, Unmapped::Error, None, "}}"),
            Lookup::Miss(_)
        ));
    }
}
