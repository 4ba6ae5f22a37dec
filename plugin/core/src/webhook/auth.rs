//! Authenticating a delivery: HTTP basic auth or a secret header, compared
//! in constant time, before anything in the body is read. Error messages
//! name the header or the scheme at fault, never the secret.

use base64::Engine;
use subtle::ConstantTimeEq;

use super::payload;
use crate::error::{ConnectorError, Problem};
use crate::model::Secret;

/// How ADO authenticates its deliveries (the credentials the host generated
/// for the outegration and put in the subscriptions).
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryAuth {
    /// `Authorization: Basic base64(user:password)`.
    Basic { user: String, password: Secret },
    /// A secret header, name and value.
    Header { name: String, value: Secret },
}

/// Identity of an authenticated delivery, for the host to find the link.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub work_item_id: i32,
    pub rev: Option<i32>,
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name.trim()))
        .map(|(_, v)| v.as_str())
}

fn unauthorized(message: &str) -> ConnectorError {
    ConnectorError::Unauthorized(Problem::new(
        message,
        "check that the service-hook subscription carries the credentials the host generated for this outegration (re-subscribe to rotate them)",
    ))
}

fn equal(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Checks a delivery's credentials; `Unauthorized` when missing or wrong.
pub fn authenticate(
    auth: &DeliveryAuth,
    headers: &[(String, String)],
) -> Result<(), ConnectorError> {
    match auth {
        DeliveryAuth::Basic { user, password } => {
            let value = header(headers, "authorization")
                .ok_or_else(|| unauthorized("the delivery has no `Authorization` header"))?;
            let (scheme, encoded) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(unauthorized(
                    "the delivery's `Authorization` header does not use the Basic scheme",
                ));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| {
                    unauthorized("the delivery's Basic credentials are not valid base64")
                })?;
            let expected = format!("{user}:{}", password.expose());
            if !equal(&decoded, expected.as_bytes()) {
                return Err(unauthorized("the delivery's Basic credentials are wrong"));
            }
            Ok(())
        }
        DeliveryAuth::Header { name, value } => {
            let got = header(headers, name).ok_or_else(|| {
                unauthorized(&format!("the delivery has no `{}` header", name.trim()))
            })?;
            if !equal(got.trim().as_bytes(), value.expose().trim().as_bytes()) {
                return Err(unauthorized(&format!(
                    "the delivery's `{}` header is wrong",
                    name.trim()
                )));
            }
            Ok(())
        }
    }
}

/// Authenticates a delivery, then reads which work item event it is.
pub fn inspect(
    auth: &DeliveryAuth,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Delivery, ConnectorError> {
    authenticate(auth, headers)?;
    let event = payload::parse(body)?;
    Ok(Delivery {
        event_id: event.id,
        event_type: event.event_type.name().to_string(),
        work_item_id: event.work_item_id,
        rev: event.rev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::payload::tests::sample;

    const PASSWORD: &str = "s3cr3t-Pa55word";

    fn basic() -> DeliveryAuth {
        DeliveryAuth::Basic {
            user: "ado-hook".into(),
            password: Secret(PASSWORD.into()),
        }
    }

    fn authorization(user: &str, password: &str) -> Vec<(String, String)> {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        vec![("authorization".into(), format!("Basic {token}"))]
    }

    fn refused(result: Result<Delivery, ConnectorError>) -> String {
        match result {
            Err(ConnectorError::Unauthorized(p)) => {
                let text = format!("{p} {p:?}");
                assert!(!text.contains(PASSWORD), "the secret leaked: {text}");
                p.message
            }
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn right_basic_credentials_return_the_delivery_identity() {
        let d = inspect(
            &basic(),
            &authorization("ado-hook", PASSWORD),
            &sample("updated"),
        )
        .unwrap();
        assert_eq!(
            d,
            Delivery {
                event_id: "27646e0e-b520-4d2b-9411-bba7524947cd".into(),
                event_type: "workitem.updated".into(),
                work_item_id: 5,
                rev: Some(2)
            }
        );
    }

    #[test]
    fn a_wrong_password_or_user_is_refused_without_the_secret() {
        assert!(
            refused(inspect(
                &basic(),
                &authorization("ado-hook", "s3cr3t-Pa55worD"),
                &sample("updated")
            ))
            .contains("wrong")
        );
        assert!(
            refused(inspect(
                &basic(),
                &authorization("someone", PASSWORD),
                &sample("updated")
            ))
            .contains("wrong")
        );
    }

    #[test]
    fn a_missing_header_or_another_scheme_is_refused() {
        assert!(refused(inspect(&basic(), &[], &sample("updated"))).contains("no `Authorization`"));
        let bearer = vec![("Authorization".into(), format!("Bearer {PASSWORD}"))];
        assert!(refused(inspect(&basic(), &bearer, &sample("updated"))).contains("Basic scheme"));
        let garbage = vec![("authorization".into(), "Basic !!!".into())];
        assert!(refused(inspect(&basic(), &garbage, &sample("updated"))).contains("base64"));
    }

    #[test]
    fn a_secret_header_is_matched_by_name_case_insensitively() {
        let auth = DeliveryAuth::Header {
            name: "X-Connector-Secret".into(),
            value: Secret(PASSWORD.into()),
        };
        let ok = vec![("x-connector-secret".into(), PASSWORD.into())];
        assert_eq!(
            inspect(&auth, &ok, &sample("deleted")).unwrap().event_type,
            "workitem.deleted"
        );
        let wrong = vec![("x-connector-secret".into(), "nope".into())];
        assert!(refused(inspect(&auth, &wrong, &sample("deleted"))).contains("is wrong"));
        assert!(
            refused(inspect(&auth, &[], &sample("deleted"))).contains("no `X-Connector-Secret`")
        );
    }

    #[test]
    fn an_unauthenticated_malformed_body_is_refused_before_parsing() {
        assert!(refused(inspect(&basic(), &[], b"not json")).contains("Authorization"));
        assert!(matches!(
            inspect(&basic(), &authorization("ado-hook", PASSWORD), b"not json"),
            Err(ConnectorError::Validation(_))
        ));
    }
}
