//! What a plugin's request may carry beyond its URL: the egress allow-list
//! ([`crate::egress`]) checks the origin, and this checks that nothing else
//! in the request reaches another place or another request.
//!
//! - `Host` would choose another virtual host behind an allowed address
//!   (the allow-list checks the URL; the server routes by `Host`).
//! - Hop-by-hop and framing headers (`Connection`, `Transfer-Encoding`,
//!   `Content-Length`, `Upgrade`, `TE`, `Trailer`, `Keep-Alive`,
//!   `Proxy-*`) are the HTTP client's to set: a wrong length or chunking
//!   smuggles a second request into the connection to the allowed server.
//! - CR, LF or NUL in a name or value would end the header and start others.
//! - A header over [`MAX_HEADER_BYTES`] (or more than [`MAX_HEADERS`]) is
//!   refused rather than sent to a server that may cut it anywhere.
//!
//! Each is refused with a reason naming the header, never quoting its value
//! (a value may be a credential). The URL sent is the one the allow-list
//! checked, as the `url` crate serialized it, and the HTTP client must read
//! the same authority from it.

use ureq::http::Uri;

/// Largest header (name, `: ` and value) a plugin may send.
pub const MAX_HEADER_BYTES: usize = 8 << 10;
/// Most headers a plugin may send on one request.
pub const MAX_HEADERS: usize = 64;

/// Headers the host's HTTP client owns (lower case).
const REFUSED: [&str; 11] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
];

/// `Ok` when the headers may be sent as they are; otherwise why not.
pub fn check_headers(headers: &[(String, String)]) -> Result<(), String> {
    if headers.len() > MAX_HEADERS {
        return Err(format!(
            "the request has {} headers, more than the {MAX_HEADERS} the host sends",
            headers.len()
        ));
    }
    for (name, value) in headers {
        // Escaped: a name may hold CR or LF, and is shown in one line.
        let shown = name.to_ascii_lowercase().escape_debug().to_string();
        if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!(
                "the header name `{shown}` is not a valid HTTP token (a control character, space or separator)"
            ));
        }
        if REFUSED.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "the header `{shown}` is set by the host, not the plugin"
            ));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(format!(
                "the value of the header `{shown}` holds CR, LF or NUL"
            ));
        }
        if ureq::http::HeaderValue::from_str(value).is_err() {
            return Err(format!(
                "the value of the header `{shown}` holds a character HTTP does not allow (a control character, or not ASCII)"
            ));
        }
        let size = name.len() + 2 + value.len();
        if size > MAX_HEADER_BYTES {
            return Err(format!(
                "the header `{shown}` is {size} bytes, over the {MAX_HEADER_BYTES} the host sends"
            ));
        }
    }
    Ok(())
}

/// The URL to send: `raw` as the `url` crate reads it (the reading the
/// allow-list checks), serialized, and read back by the HTTP client to the
/// same scheme, host and port. A URL the two read differently is refused.
pub fn target(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("the URL is not valid: {e}"))?;
    let uri: Uri = url
        .as_str()
        .parse()
        .map_err(|e| format!("the URL cannot be sent: {e}"))?;
    let same = uri.scheme_str() == Some(url.scheme())
        && uri.host().map(|h| h.trim_matches(['[', ']']))
            == url.host_str().map(|h| h.trim_matches(['[', ']']))
        && uri.port_u16().or(url.port_or_known_default()) == url.port_or_known_default();
    if !same {
        return Err("the URL's authority is read differently by the HTTP client".to_string());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, value: &str) -> Result<(), String> {
        check_headers(&[(name.to_string(), value.to_string())])
    }

    #[test]
    fn ordinary_headers_pass() {
        let headers = [
            ("Authorization", "Basic OnBhdA=="),
            ("Accept", "application/json"),
            ("Content-Type", "application/json-patch+json"),
            ("X-TFS-FedAuthRedirect", "Suppress"),
            ("User-Agent", "x\ty"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()));
        assert_eq!(check_headers(&headers), Ok(()));
    }

    #[test]
    fn host_and_hop_by_hop_headers_are_refused_whatever_their_case() {
        for name in [
            "Host",
            "HOST",
            "Connection",
            "transfer-encoding",
            "Content-Length",
            "Upgrade",
            "TE",
            "Proxy-Authorization",
        ] {
            let reason = one(name, "x").unwrap_err();
            assert!(
                reason.contains(&format!("`{}`", name.to_ascii_lowercase())),
                "{reason}"
            );
        }
    }

    #[test]
    fn control_characters_are_refused_without_quoting_the_value() {
        for value in ["a\r\nHost: evil.example", "a\nb", "a\0b", "a\x7fb"] {
            let reason = one("X-Note", value).unwrap_err();
            assert!(
                reason.contains("`x-note`") && !reason.contains("evil"),
                "{reason}"
            );
        }
        let reason = one("X-Note\r\nHost", "evil.example").unwrap_err();
        assert!(
            reason.contains("x-note\\r\\nhost") && !reason.contains('\n'),
            "{reason}"
        );
        assert!(one("X Note", "v").is_err());
    }

    #[test]
    fn oversized_and_too_many_headers_are_refused() {
        let reason = one("X-Padding", &"a".repeat(MAX_HEADER_BYTES)).unwrap_err();
        assert!(
            reason.contains("`x-padding`") && reason.contains("bytes"),
            "{reason}"
        );
        assert!(one("X-Padding", &"a".repeat(MAX_HEADER_BYTES - 20)).is_ok());
        let many: Vec<(String, String)> = (0..=MAX_HEADERS)
            .map(|i| (format!("X-{i}"), "v".to_string()))
            .collect();
        assert!(check_headers(&many).unwrap_err().contains("headers"));
    }

    #[test]
    fn the_url_sent_is_the_one_the_allow_list_reads() {
        // The WHATWG reading: a backslash ends the authority, tabs and
        // newlines are dropped, hosts are lower-cased.
        for (raw, sent) in [
            (
                "http://127.0.0.1:8080\\@evil.example/x",
                "http://127.0.0.1:8080/@evil.example/x",
            ),
            ("http://127.0.0.1:80\t80/x", "http://127.0.0.1:8080/x"),
            ("HTTPS://Dev.Azure.COM/org", "https://dev.azure.com/org"),
        ] {
            assert_eq!(target(raw).map(|u| u.to_string()), Ok(sent.to_string()));
        }
        assert!(target("not a url").is_err());
    }
}
