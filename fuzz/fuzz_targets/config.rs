//! The outegration config: `config::parse` (JSON, then the static checks:
//! versions, tags, labels, every template parsed and every script compiled).
//!
//! Invariants: no panic; a rejected config is an `InvalidConfig` with at
//! least one issue, each naming a JSON path (`$...`); an accepted config
//! written back as JSON parses again to the same config.

#![no_main]

use ado_connector_core::ConnectorError;
use ado_connector_core::config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::parse(text) {
        Ok(parsed) => {
            let written = serde_json::to_string(&parsed).expect("a config serialises");
            let again = config::parse(&written)
                .unwrap_or_else(|e| panic!("{written} does not parse again: {e}"));
            assert_eq!(parsed, again, "{written} does not read back the same");
        }
        Err(ConnectorError::InvalidConfig(issues)) => {
            assert!(!issues.is_empty());
            for issue in &issues {
                assert!(issue.path.starts_with('$'), "{issue}");
                assert!(!issue.message.is_empty(), "{issue}");
            }
        }
        Err(other) => panic!("config::parse returned {other:?}"),
    }
});
