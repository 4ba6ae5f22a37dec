//! The `secops:` tag that marks a work item as one ticket's, so a retried
//! dispatch (or `adopt`) finds it again.
//!
//! The tag must be injective: two tickets never share one, or adoption
//! would take another ticket's work item. ADO splits `System.Tags` at `;`,
//! refuses `,` in a tag, trims a tag's surrounding whitespace and compares
//! tags without regard to case (a tag keeps the spelling it was first
//! created with in the project). So the id is written with percent-style
//! escapes (`%` followed by two upper-case hex digits of each UTF-8 byte)
//! for `%` itself, every ASCII lower-case letter, every character outside
//! ASCII, whitespace, control characters, `,` and `;`. What is left is
//! upper-case letters, digits and ASCII punctuation, so two different ids
//! give tags that differ even ignoring case, and the common upper-case id
//! (`SEC-1`) keeps its readable tag.
//!
//! Versions before this one replaced `,`, `;` and control characters by
//! `_` and kept case ([`legacy`]); such a tag is ambiguous (`SEC,1` and
//! `SEC_1` shared one), so adoption by it also checks the work item's link
//! back to the ticket.

use std::fmt::Write as _;

/// The tag that marks a work item as `ticket_id`'s.
pub fn ticket_tag(ticket_id: &str) -> String {
    let mut out = String::from("secops:");
    for c in ticket_id.chars() {
        let plain = c.is_ascii()
            && !c.is_ascii_lowercase()
            && !c.is_ascii_whitespace()
            && !c.is_ascii_control()
            && !matches!(c, '%' | ',' | ';');
        if plain {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// The tag versions before the escaping wrote for `ticket_id`.
pub fn legacy(ticket_id: &str) -> String {
    let clean: String = ticket_id
        .chars()
        .map(|c| {
            if c == ',' || c == ';' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("secops:{clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_the_old_encoding_merged_get_different_tags() {
        assert_ne!(ticket_tag("SEC,1"), ticket_tag("SEC_1"));
        assert_ne!(ticket_tag("SEC;1"), ticket_tag("SEC_1"));
        assert_eq!(legacy("SEC,1"), legacy("SEC_1"), "the old collision");
    }

    #[test]
    fn ids_differing_only_in_case_or_padding_get_tags_that_differ_ignoring_case() {
        let ids = [
            "SEC-1", "sec-1", "Sec-1", " SEC-1", "SEC-1 ", "SEC 1", "SEC%201", "É-1", "é-1",
            "SEC,1", "SEC_1", "SEC;1", "SEC\n1", "%", "%25",
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert!(
                    !ticket_tag(a).eq_ignore_ascii_case(&ticket_tag(b))
                        && ticket_tag(a).to_lowercase() != ticket_tag(b).to_lowercase(),
                    "{a:?} and {b:?} share {}",
                    ticket_tag(a)
                );
            }
        }
    }

    #[test]
    fn a_tag_holds_no_separator_whitespace_or_lower_case() {
        let tag = ticket_tag("a,b; c\td%é");
        let id_part = tag.strip_prefix("secops:").unwrap();
        assert!(
            id_part
                .chars()
                .all(|c| c.is_ascii() && !c.is_ascii_lowercase() && !" ,;\t".contains(c)),
            "{tag}"
        );
        assert_eq!(tag, "secops:%61%2C%62%3B%20%63%09%64%25%C3%A9");
    }

    #[test]
    fn an_upper_case_id_keeps_the_tag_older_versions_wrote() {
        for id in ["SEC-1", "SEC-2026-00042", "VULN/7.3", "O'BRIEN"] {
            assert_eq!(ticket_tag(id), legacy(id));
            assert_eq!(ticket_tag(id), format!("secops:{id}"));
        }
    }
}
