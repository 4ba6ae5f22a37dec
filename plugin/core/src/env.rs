//! What the connector needs from its host, and nothing more.

use std::time::Duration;

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }
}

/// An outbound HTTP request.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An HTTP response; any status, including errors.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpError {
    Denied(String),
    Timeout,
    Transport(String),
    TooLarge,
    Other(String),
}

/// The host's services: outbound HTTP, a small TTL cache, time and sleep.
pub trait Env {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
    fn store_get(&self, key: &str) -> Option<String>;
    fn store_set(&self, key: &str, value: &str, ttl: Option<Duration>);
    fn store_delete(&self, key: &str);
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
    fn sleep(&self, duration: Duration);
}
