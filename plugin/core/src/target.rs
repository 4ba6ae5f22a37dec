//! The organization or collection URL, and the REST URLs built from it.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::error::{ConnectorError, Issue};

/// The api-version every call is pinned to, unless an area needs another.
pub const API_VERSION: &str = "7.1";

/// Characters escaped in a path segment: everything that is not unreserved
/// in RFC 3986 except a few sub-delims ADO accepts literally.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b';')
    .add(b'@')
    .add(b':')
    .add(b',')
    .add(b'\'');

/// Percent-encodes one path segment (project, type or field name).
pub fn segment(raw: &str) -> String {
    utf8_percent_encode(raw, SEGMENT).to_string()
}

/// Percent-encodes one query value.
pub fn query_value(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// Which product answers at the base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    Services,
    Server,
}

/// A parsed organization (Services) or collection (Server) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Without a trailing slash.
    base: String,
    origin: String,
    organization: String,
    deployment: Deployment,
}

impl Target {
    /// Parses `https://dev.azure.com/{org}`, `https://{org}.visualstudio.com`
    /// or a Server collection URL such as `https://tfs.example/tfs/DefaultCollection`.
    pub fn parse(base_url: &str) -> Result<Target, ConnectorError> {
        let bad = |message: String| {
            ConnectorError::InvalidConfig(vec![Issue::new("connection.base-url", "url", message)])
        };
        let url = url::Url::parse(base_url.trim())
            .map_err(|e| bad(format!("`{base_url}` is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(format!("`{base_url}` must use https")));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(format!(
                "`{base_url}` must not have a query or fragment"
            )));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let (deployment, organization) = if host == "dev.azure.com" {
            let [org] = segments.as_slice() else {
                return Err(bad(format!(
                    "`{base_url}` must be https://dev.azure.com/{{organization}}, with the organization and nothing after it"
                )));
            };
            (Deployment::Services, (*org).to_string())
        } else if let Some(org) = host.strip_suffix(".visualstudio.com") {
            (Deployment::Services, org.to_string())
        } else {
            let Some(last) = segments.last() else {
                return Err(bad(format!(
                    "`{base_url}` has no organization or collection in its path (e.g. https://server/tfs/DefaultCollection)"
                )));
            };
            (Deployment::Server, (*last).to_string())
        };
        let organization = percent_encoding::percent_decode_str(&organization)
            .decode_utf8_lossy()
            .into_owned();
        let origin = url.origin().ascii_serialization();
        let base = url.as_str().trim_end_matches('/').to_string();
        Ok(Target {
            base,
            origin,
            organization,
            deployment,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn organization(&self) -> &str {
        &self.organization
    }

    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// `{base}/_apis/{path}?api-version=...` for organization-level resources.
    pub fn org_api(&self, path: &str, api_version: &str) -> String {
        join_query(format!("{}/_apis/{path}", self.base), api_version)
    }

    /// `{base}/{project}/_apis/{path}?api-version=...` for project-level resources.
    pub fn project_api(&self, project: &str, path: &str, api_version: &str) -> String {
        join_query(
            format!("{}/{}/_apis/{path}", self.base, segment(project)),
            api_version,
        )
    }
}

fn join_query(url: String, api_version: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}api-version={api_version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_services_url_with_organization() {
        let t = Target::parse("https://dev.azure.com/Contoso/").unwrap();
        assert_eq!(t.organization(), "Contoso");
        assert_eq!(t.deployment(), Deployment::Services);
        assert_eq!(t.base(), "https://dev.azure.com/Contoso");
    }

    #[test]
    fn parses_legacy_visualstudio_url() {
        let t = Target::parse("https://fabrikam.visualstudio.com").unwrap();
        assert_eq!(t.organization(), "fabrikam");
        assert_eq!(t.deployment(), Deployment::Services);
    }

    #[test]
    fn parses_server_collection_url() {
        let t = Target::parse("https://tfs.example.com:8443/tfs/DefaultCollection").unwrap();
        assert_eq!(t.organization(), "DefaultCollection");
        assert_eq!(t.deployment(), Deployment::Server);
        assert_eq!(t.origin(), "https://tfs.example.com:8443");
    }

    #[test]
    fn rejects_services_url_without_organization() {
        let err = Target::parse("https://dev.azure.com/").unwrap_err();
        assert!(
            matches!(err, ConnectorError::InvalidConfig(ref i) if i[0].path == "connection.base-url")
        );
    }

    #[test]
    fn rejects_non_http_scheme() {
        assert!(Target::parse("ftp://dev.azure.com/x").is_err());
    }

    #[test]
    fn encodes_project_and_type_names() {
        let t = Target::parse("https://dev.azure.com/org").unwrap();
        let url = t.project_api(
            "Fabrikam Security",
            &format!("wit/workitems/${}", segment("User Story")),
            API_VERSION,
        );
        assert_eq!(
            url,
            "https://dev.azure.com/org/Fabrikam%20Security/_apis/wit/workitems/$User%20Story?api-version=7.1"
        );
        assert_eq!(segment("Ünïcode/#?"), "%C3%9Cn%C3%AFcode%2F%23%3F");
    }
}
