//! The ticket JSON format (`ticketing_model::ticket_json`), which the Spin
//! service's `/v1` API, the host's ticket files and its state database all
//! read: `parse` on text, `from_value` on the same document as a JSON
//! value (the Spin API's path), and `is_date_time` on every string.
//!
//! Input: the document's bytes (UTF-8, lossy).
//!
//! Invariants: no panic (a multi-byte character where a date's digits would
//! be, a date such as `2024-13-45T99:99:99Z`); `parse` and `from_value`
//! agree; a refusal names at least one member; an accepted ticket written
//! back (`to_json`) parses to the same ticket, and a date-time field value
//! is one `time` reads as RFC 3339.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ticketing_model::FieldValue;
use ticketing_model::ticket_json::{from_value, is_date_time, parse, to_json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = is_date_time(&text);
    let parsed = parse(&text);
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        let from_api = from_value(value);
        assert_eq!(parsed.is_ok(), from_api.is_ok(), "parse and from_value disagree");
        if let (Ok(a), Ok(b)) = (&parsed, &from_api) {
            assert_eq!(a, b);
        }
    }
    match parsed {
        Ok(ticket) => {
            for field in &ticket.fields {
                if let FieldValue::DateTime(s) = &field.value {
                    assert!(
                        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                            .is_ok(),
                        "a date-time value that is not RFC 3339: {s}"
                    );
                }
            }
            let again = parse(&to_json(&ticket)).expect("a written ticket parses");
            assert_eq!(again, ticket, "the ticket changed on a round trip");
        }
        Err(e) => assert!(!e.issues.is_empty(), "a refusal without an issue"),
    }
});
