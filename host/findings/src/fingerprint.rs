//! Stable finding identities and the bits of a finding that several formats
//! derive the same way: the fingerprint hash, CVE ids found in free text,
//! and severities from words or CVSS-like scores.

use sha2::{Digest as _, Sha256};

/// SHA-256 of the parts, each followed by a NUL byte so that `("ab", "c")`
/// and `("a", "bc")` differ; lowercase hex.
pub fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint of a SARIF result: its `fingerprints` (stable across
/// tool versions by definition) when it has any, else its
/// `partialFingerprints`, else the location it points at. The tool and rule
/// are always part of it, because tools reuse location hashes across rules.
pub fn sarif(
    tool: &str,
    rule_id: &str,
    fingerprints: &[(String, String)],
    partial: &[(String, String)],
    location: (&str, Option<i64>, &str),
) -> String {
    let pairs = |list: &[(String, String)]| {
        let mut sorted: Vec<String> = list.iter().map(|(k, v)| format!("{k}={v}")).collect();
        sorted.sort();
        sorted.join(";")
    };
    if !fingerprints.is_empty() {
        return hash(&[tool, rule_id, "fingerprints", &pairs(fingerprints)]);
    }
    if !partial.is_empty() {
        return hash(&[tool, rule_id, "partialFingerprints", &pairs(partial)]);
    }
    let (uri, line, logical) = location;
    let line = line.map(|l| l.to_string()).unwrap_or_default();
    hash(&[tool, rule_id, uri, &line, logical])
}

/// The first CVE id (`CVE-YYYY-NNNN...`) in `text`, upper-cased.
pub fn cve_in(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut from = 0;
    while let Some(pos) = upper[from..].find("CVE-") {
        let start = from + pos;
        let rest = &bytes[start + 4..];
        let year = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if year == 4 && rest.get(4) == Some(&b'-') {
            let num = rest[5..].iter().take_while(|b| b.is_ascii_digit()).count();
            if num >= 4 {
                return Some(upper[start..start + 9 + num].to_string());
            }
        }
        from = start + 4;
    }
    None
}

pub use crate::finding::Severity;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_fingerprint_prefers_fingerprints_then_partial_then_location() {
        let fp = vec![("v1".to_string(), "abc".to_string())];
        let partial = vec![("primaryLocationLineHash".to_string(), "9f:1".to_string())];
        let loc = ("src/a.js", Some(3), "");
        let full = sarif("CodeQL", "js/xss", &fp, &partial, loc);
        assert_eq!(
            full,
            sarif("CodeQL", "js/xss", &fp, &[], ("other.js", Some(9), "")),
            "fingerprints alone decide"
        );
        let by_partial = sarif("CodeQL", "js/xss", &[], &partial, loc);
        assert_ne!(full, by_partial);
        assert_eq!(
            by_partial,
            sarif(
                "CodeQL",
                "js/xss",
                &[],
                &partial,
                ("moved.js", Some(40), "")
            ),
            "a partial fingerprint survives the code moving"
        );
        let by_location = sarif("CodeQL", "js/xss", &[], &[], loc);
        assert_ne!(
            by_location,
            sarif("CodeQL", "js/xss", &[], &[], ("src/a.js", Some(4), ""))
        );
        assert_ne!(
            by_location,
            sarif("Semgrep", "js/xss", &[], &[], loc),
            "the tool is part of it"
        );
        assert_eq!(by_location.len(), 64);
    }

    #[test]
    fn hash_separates_its_parts() {
        assert_ne!(hash(&["ab", "c"]), hash(&["a", "bc"]));
    }

    #[test]
    fn cve_ids_are_found_in_text_in_any_case() {
        assert_eq!(
            cve_in("openssl: cve-2023-0286 type confusion").as_deref(),
            Some("CVE-2023-0286")
        );
        assert_eq!(cve_in("CVE-2021-44228").as_deref(), Some("CVE-2021-44228"));
        assert_eq!(cve_in("CVE-21-1 and CVE-2022-12").as_deref(), None);
        assert_eq!(cve_in("no id here"), None);
    }

    #[test]
    fn severity_reads_words_synonyms_and_scores() {
        assert_eq!(Severity::parse("Critical"), Some(Severity::Critical));
        assert_eq!(Severity::parse("error"), Some(Severity::High));
        assert_eq!(Severity::parse("moderate"), Some(Severity::Medium));
        assert_eq!(Severity::parse("9.8"), Some(Severity::Critical));
        assert_eq!(Severity::parse("7.0"), Some(Severity::High));
        assert_eq!(Severity::parse("5.3"), Some(Severity::Medium));
        assert_eq!(Severity::parse("0.0"), Some(Severity::Info));
        assert_eq!(Severity::parse("11"), None);
        assert_eq!(Severity::parse("urgent"), None);
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    }
}
