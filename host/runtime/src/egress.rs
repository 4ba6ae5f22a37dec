//! The egress allow-list: which origins a call's plugin may reach.

/// Origins (`scheme://host:port`) a call may send requests to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Egress {
    origins: Vec<String>,
}

/// Default Entra ID authority, used when credentials name none.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

fn origin(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

impl Egress {
    /// Nothing allowed: for calls that need no network.
    pub fn none() -> Self {
        Egress::default()
    }

    /// The connection's base URL origin and, for Entra credentials, its token authority.
    pub fn for_connection(connection: &crate::Connection) -> Self {
        use crate::Credentials;
        let mut origins: Vec<String> = origin(&connection.base_url).into_iter().collect();
        let authority = match &connection.credentials {
            Credentials::ClientCredentials(c) => {
                Some(c.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY))
            }
            Credentials::RefreshToken(r) => {
                Some(r.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY))
            }
            Credentials::Pat(_) | Credentials::AccessToken(_) => None,
        };
        if let Some(a) = authority.and_then(origin)
            && !origins.contains(&a)
        {
            origins.push(a);
        }
        Egress { origins }
    }

    /// `Ok` when `url` may be requested; otherwise why not.
    pub fn check(&self, url: &str) -> Result<(), String> {
        let Some(wanted) = origin(url) else {
            return Err(match url::Url::parse(url) {
                Ok(u) => format!(
                    "the scheme `{}` is not allowed: only http and https",
                    u.scheme()
                ),
                Err(e) => format!("the URL is not valid: {e}"),
            });
        };
        if self.origins.contains(&wanted) {
            Ok(())
        } else {
            Err(format!(
                "{wanted} is not in the allow-list of this call ({})",
                if self.origins.is_empty() {
                    "no network".to_string()
                } else {
                    self.origins.join(", ")
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientCredentials, Connection, Credentials};

    fn pat(base: &str) -> Connection {
        Connection {
            base_url: base.into(),
            project: "p".into(),
            credentials: Credentials::Pat("x".into()),
        }
    }

    #[test]
    fn base_url_origin_is_allowed_and_other_hosts_denied() {
        let e = Egress::for_connection(&pat("https://dev.azure.com/contoso"));
        assert!(
            e.check("https://dev.azure.com/contoso/_apis/projects?api-version=7.1")
                .is_ok()
        );
        assert!(
            e.check("https://dev.azure.com/other-org/_apis").is_ok(),
            "same origin"
        );
        let err = e.check("https://evil.example/x?token=secret").unwrap_err();
        assert!(err.contains("evil.example") && !err.contains("secret"));
    }

    #[test]
    fn port_and_scheme_are_part_of_the_origin() {
        let e = Egress::for_connection(&pat("http://127.0.0.1:8080/org"));
        assert!(e.check("http://127.0.0.1:8080/org/_apis").is_ok());
        assert!(e.check("http://127.0.0.1:8081/org/_apis").is_err());
        assert!(e.check("https://127.0.0.1:8080/org/_apis").is_err());
    }

    #[test]
    fn token_authority_is_allowed_for_entra_credentials() {
        let mut c = pat("https://dev.azure.com/contoso");
        c.credentials = Credentials::ClientCredentials(ClientCredentials {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            authority: None,
        });
        let e = Egress::for_connection(&c);
        assert!(
            e.check("https://login.microsoftonline.com/t/oauth2/v2.0/token")
                .is_ok()
        );
        assert!(
            Egress::for_connection(&pat("https://dev.azure.com/c"))
                .check("https://login.microsoftonline.com/t")
                .is_err()
        );
    }

    #[test]
    fn no_network_denies_everything_and_non_http_schemes() {
        assert!(Egress::none().check("https://dev.azure.com/").is_err());
        assert!(
            Egress::for_connection(&pat("https://dev.azure.com/c"))
                .check("file:///etc/passwd")
                .is_err()
        );
    }
}
