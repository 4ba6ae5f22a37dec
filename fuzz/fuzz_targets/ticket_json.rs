//! The ticket JSON format (`ticketing_model::ticket_json`), which the Spin
//! service's `/v1` API, the host's ticket files and its state database all
//! read: `parse` on text, `from_value` on the same document as a JSON
//! value (the Spin API's path), and `is_date_time` on every string.
//!
//! Input: the document's bytes (UTF-8, lossy).
//!
//! Invariants: no panic (a multi-byte character where a date's digits would
//! be, a date such as `2024-13-45T99:99:99Z`); a ticket `parse` accepts,
//! `from_value` accepts alike; a refusal names at least one member; an accepted ticket written
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
        // A ticket the text reader accepts, the API reader accepts alike.
        // Not the converse: a JSON value has already merged a member named
        // twice (the last wins), so `from_value` cannot refuse a field named
        // twice as `parse` does (seed duplicate-field.json, found here).
        // Fields compared by name: without serde_json's `preserve_order` a
        // value's members come sorted, so the API reader does not keep the
        // document's field order (seed field-order.json, found here).
        if let Ok(a) = &parsed {
            let sorted = |t: &ticketing_model::Ticket| {
                let mut t = t.clone();
                t.fields.sort_by(|x, y| x.name.cmp(&y.name));
                for f in &mut t.findings {
                    f.fields.sort_by(|x, y| x.name.cmp(&y.name));
                }
                t
            };
            let b = from_value(value).expect("a ticket parse accepts, from_value accepts");
            assert_eq!(sorted(&b), sorted(a), "parse and from_value disagree");
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
