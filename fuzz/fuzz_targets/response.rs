//! An ADO answer: `client::classify`, `client::retry_after`, and the JSON
//! decoding of a work item (`client::decode::<WorkItem>`) and of ADO's error
//! envelope (`client::Envelope`).
//!
//! Input: 2 bytes of status (big-endian, modulo 600), 1 byte of flags
//! (bit 0: JSON content type; bit 1: a `Retry-After` header whose value is
//! the text up to the first newline; bits 2-3: which credentials), then
//! the body.
//!
//! Invariants: no panic; `Ok` only for a 2xx JSON answer (or 204); a 429 is
//! `RateLimited` by `Retry-After` (60 s without it); and no error, nor its
//! `Debug`, ever shows a credential — not even when the body echoes it —
//! for every kind of credentials: the configured secrets, and the token the
//! request actually carried (for Entra credentials an access token Entra
//! issued, which no configuration holds).

#![no_main]

use ado_connector_core::ConnectorError;
use ado_connector_core::client::{Envelope, classify, decode, retry_after};
use ado_connector_core::env::HttpResponse;
use ado_connector_core::model::{Credentials, Secret};
use ado_connector_core::workitem::WorkItem;
use base64::Engine;
use libfuzzer_sys::fuzz_target;

/// The credential's value; the fuzz dictionary and a seed hold it too, so
/// bodies echoing it are explored.
const SECRET: &str = "fuzzsecret7q3xw5ylm2bdkp4tdjnz6h8vfrc0ae1";
const CLIENT_SECRET: &str = "fuzzclientsecretQ8~kv2.Zr_Yp5nWm3Ld";
/// The access token Entra issued for the client-credentials and
/// refresh-token kinds: sent as `Authorization: Bearer`, configured nowhere.
const ISSUED_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJmdXp6In0.ZnV6enNpZ25hdHVyZQ";

fn credentials(selector: u8) -> Credentials {
    let secret = || Secret(SECRET.to_string());
    match selector & 3 {
        0 => Credentials::Pat(secret()),
        1 => Credentials::AccessToken(secret()),
        2 => Credentials::ClientCredentials {
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "499b84ac-1321-427f-aa17-267ca6975798".into(),
            client_secret: Secret(CLIENT_SECRET.to_string()),
            authority: None,
        },
        _ => Credentials::RefreshToken {
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "499b84ac-1321-427f-aa17-267ca6975798".into(),
            client_secret: Some(Secret(CLIENT_SECRET.to_string())),
            refresh_token: secret(),
            authority: None,
        },
    }
}

/// The `Authorization` header the request carried, as `Client` sends it.
fn authorization(credentials: &Credentials) -> String {
    match credentials {
        Credentials::Pat(_) => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(":{SECRET}"))
        ),
        Credentials::AccessToken(_) => format!("Bearer {SECRET}"),
        Credentials::ClientCredentials { .. } | Credentials::RefreshToken { .. } => {
            format!("Bearer {ISSUED_TOKEN}")
        }
    }
}

/// Forms the credential in use takes on the wire: each secret as it is,
/// a PAT as its Basic header value, and the token Entra issued.
fn secret_forms(credentials: &Credentials) -> Vec<String> {
    let mut forms = vec![SECRET.to_string()];
    match credentials {
        Credentials::Pat(_) => {
            forms.push(base64::engine::general_purpose::STANDARD.encode(format!(":{SECRET}")))
        }
        Credentials::AccessToken(_) => {}
        Credentials::ClientCredentials { .. } => {
            forms = vec![CLIENT_SECRET.to_string(), ISSUED_TOKEN.to_string()]
        }
        Credentials::RefreshToken { .. } => {
            forms.extend([CLIENT_SECRET.to_string(), ISSUED_TOKEN.to_string()])
        }
    }
    forms
}

fn check_error(err: &ConnectorError, credentials: &Credentials) {
    for text in [err.to_string(), format!("{err:?}")] {
        for form in secret_forms(credentials) {
            assert!(
                !text.contains(&form),
                "the error shows a credential: {text}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]) % 600;
    let flags = data[2];
    let mut rest = &data[3..];
    let mut headers = Vec::new();
    if flags & 1 != 0 {
        headers.push((
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ));
    }
    if flags & 2 != 0 {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        headers.push((
            "Retry-After".into(),
            String::from_utf8_lossy(&rest[..end]).into_owned(),
        ));
        rest = rest.get(end + 1..).unwrap_or_default();
    }
    let response = HttpResponse {
        status,
        headers,
        body: rest.to_vec(),
    };
    let credentials = credentials(flags >> 2);

    let wait = retry_after(&response);
    match classify(&response, &credentials, &authorization(&credentials)) {
        Ok(()) => {
            assert!((200..300).contains(&status), "Ok for HTTP {status}");
            assert!(
                status == 204 || flags & 1 != 0,
                "Ok for a non-JSON {status}"
            );
        }
        Err(err) => {
            check_error(&err, &credentials);
            if status == 429 {
                let expected = u32::try_from(wait.unwrap_or(60)).unwrap_or(u32::MAX);
                assert_eq!(err, ConnectorError::RateLimited(expected));
            }
        }
    }

    let url = "https://dev.azure.com/fabrikam/_apis/wit/workitems/12?api-version=7.1";
    match decode::<WorkItem>(&response, url) {
        Ok(item) => {
            let _ = item.state();
        }
        Err(err) => {
            // The decoder's message quotes serde's, never the body.
            check_error(&err, &credentials);
            assert!(!err.to_string().contains("api-version"), "{err}");
        }
    }
    let envelope = Envelope::parse(&response.body);
    let _ = envelope.code();
});
