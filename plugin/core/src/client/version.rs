//! Which REST api-version the server serves. The connector pins
//! `target::API_VERSION` (7.1); Azure DevOps Services serves it, but an
//! Azure DevOps Server serves only up to its release's version (Server 2020:
//! 6.0, Server 2022: 7.0, Server 2022.1: 7.1; Microsoft Learn, "REST API
//! versioning"). A newer version is refused with HTTP 400 and
//! `VssVersionOutOfRangeException`, whose message names the newest version
//! the server supports ("The requested REST API version of 7.1 is out of
//! range for this server. The latest REST API version this server supports
//! is 6.0."). The client takes that ceiling, remembers it per base URL in
//! the host's store, and asks again with it: every later call starts at the
//! ceiling. A preview version loses its resource revision when lowered
//! (`7.1-preview.4` → `6.0-preview`): the server then serves its own newest
//! revision of that preview API.

use std::time::Duration;

use crate::env::{Env, HttpResponse};
use crate::error::ConnectorError;

use super::classify::Envelope;

/// The oldest REST version the connector works with: Azure DevOps Server 2020.
pub const MIN_API_VERSION: ApiVersion = ApiVersion { major: 6, minor: 0 };

/// How long a server's ceiling is trusted before the pinned version is tried
/// again (a server may be upgraded).
const CEILING_TTL: Duration = Duration::from_secs(24 * 3600);

/// A REST `major.minor` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl ApiVersion {
    /// `7.1`, `7.1-preview.4` and `6.0-preview` all give their `major.minor`.
    pub fn parse(value: &str) -> Option<ApiVersion> {
        let number = value.trim().split('-').next()?;
        let (major, minor) = number.split_once('.')?;
        Some(ApiVersion {
            major: major.trim().parse().ok()?,
            minor: minor.trim().parse().ok()?,
        })
    }
}

/// The newest version a `VssVersionOutOfRangeException` answer names.
pub fn ceiling_of(response: &HttpResponse) -> Option<ApiVersion> {
    if response.status != 400 {
        return None;
    }
    let envelope = Envelope::parse(&response.body);
    let out_of_range = envelope.type_key.as_deref() == Some("VssVersionOutOfRangeException")
        || envelope.message.contains("is out of range for this server");
    if !out_of_range {
        return None;
    }
    let (_, tail) = envelope.message.rsplit_once("supports is ")?;
    ApiVersion::parse(tail.trim_end_matches('.'))
}

/// Refuses a server older than the connector supports.
pub fn supported(ceiling: ApiVersion, base: &str) -> Result<(), ConnectorError> {
    if ceiling >= MIN_API_VERSION {
        return Ok(());
    }
    Err(ConnectorError::Unsupported(format!(
        "setup, {}: {base} serves the REST API up to {ceiling}, and the connector needs {MIN_API_VERSION} or later; upgrade the server to Azure DevOps Server 2020 or later",
        crate::setup::step::Step::ServerVersion.title()
    )))
}

fn key(base: &str) -> String {
    format!("api-ceiling|{base}")
}

/// The ceiling remembered for `base`, if a server named one.
pub fn remembered(env: &dyn Env, base: &str) -> Option<ApiVersion> {
    env.store_get(&key(base))
        .as_deref()
        .and_then(ApiVersion::parse)
}

/// Remembers the ceiling `base` named.
pub fn remember(env: &dyn Env, base: &str, ceiling: ApiVersion) {
    env.store_set(&key(base), &ceiling.to_string(), Some(CEILING_TTL));
}

/// `url` with its `api-version` lowered to `ceiling`, or `None` when it
/// already is at or under it.
pub fn lowered(url: &str, ceiling: ApiVersion) -> Option<String> {
    let start = url.find("api-version=")? + "api-version=".len();
    let end = url[start..].find('&').map_or(url.len(), |i| start + i);
    let value = &url[start..end];
    if ApiVersion::parse(value)? <= ceiling {
        return None;
    }
    let preview = if value.to_ascii_lowercase().contains("-preview") {
        "-preview"
    } else {
        ""
    };
    Some(format!(
        "{}{ceiling}{preview}{}",
        &url[..start],
        &url[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32) -> ApiVersion {
        ApiVersion { major, minor }
    }

    #[test]
    fn the_ceiling_is_read_from_the_out_of_range_answer() {
        let body = br#"{"$id":"1","innerException":null,"message":"The requested REST API version of 7.1 is out of range for this server. The latest REST API version this server supports is 6.0.","typeName":"Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, Microsoft.VisualStudio.Services.WebApi","typeKey":"VssVersionOutOfRangeException","errorCode":0,"eventId":3000}"#;
        let response = HttpResponse {
            status: 400,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_vec(),
        };
        assert_eq!(ceiling_of(&response), Some(v(6, 0)));
        let other = HttpResponse {
            status: 400,
            headers: vec![],
            body: br#"{"message":"TF401320: Rule Error for field Title."}"#.to_vec(),
        };
        assert_eq!(ceiling_of(&other), None);
    }

    #[test]
    fn only_newer_versions_are_lowered_and_previews_keep_their_flag() {
        assert_eq!(
            lowered(
                "https://s/tfs/C/_apis/projects/P?api-version=7.1&x=1",
                v(6, 0)
            )
            .as_deref(),
            Some("https://s/tfs/C/_apis/projects/P?api-version=6.0&x=1")
        );
        assert_eq!(
            lowered(
                "https://s/C/P/_apis/wit/workItems/1/comments?api-version=7.1-preview.4",
                v(7, 0)
            )
            .as_deref(),
            Some("https://s/C/P/_apis/wit/workItems/1/comments?api-version=7.0-preview")
        );
        assert_eq!(
            lowered(
                "https://s/C/_apis/connectionData?api-version=5.1-preview.1",
                v(6, 0)
            ),
            None
        );
        assert_eq!(
            lowered("https://s/C/_apis/projects?api-version=7.1", v(7, 1)),
            None
        );
        assert_eq!(lowered("https://s/C/_apis/projects", v(6, 0)), None);
    }
}
