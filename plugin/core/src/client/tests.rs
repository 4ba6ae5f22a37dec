use std::time::Duration;

use serde_json::json;

use super::*;
use crate::env::HttpError;
use crate::error::ConnectorError;
use crate::model::{Connection, Credentials, Secret};
use crate::testing::{FakeEnv, envelope, json as answer, with_header};

fn pat_connection() -> Connection {
    Connection {
        base_url: "https://dev.azure.com/contoso".into(),
        project: "Fabrikam Security".into(),
        credentials: Credentials::Pat(Secret("s3cret-pat".into())),
    }
}

fn html(status: u16) -> Result<HttpResponse, HttpError> {
    Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "text/html".into())],
        body: b"<html>Sign in</html>".to_vec(),
    })
}

#[test]
fn every_request_carries_auth_accept_and_suppress_headers() {
    let env = FakeEnv::new(vec![answer(200, json!({"ok": true}))]);
    let conn = pat_connection();
    let client = Client::new(&env, &conn).unwrap();
    let _: serde_json::Value = client
        .get("https://dev.azure.com/contoso/_apis/x?api-version=7.1")
        .unwrap();
    assert_eq!(
        env.header_of(0, "X-TFS-FedAuthRedirect").as_deref(),
        Some("Suppress")
    );
    assert_eq!(
        env.header_of(0, "Accept").as_deref(),
        Some("application/json")
    );
    // base64(":s3cret-pat")
    assert_eq!(
        env.header_of(0, "Authorization").as_deref(),
        Some("Basic OnMzY3JldC1wYXQ=")
    );
}

#[test]
fn sign_in_page_with_203_is_unauthorized() {
    let env = FakeEnv::new(vec![html(203)]);
    let conn = pat_connection();
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Unauthorized(ref p) if p.message.contains("203")),
        "{err:?}"
    );
}

#[test]
fn redirect_is_unauthorized_and_not_followed() {
    let env = FakeEnv::new(vec![with_header(html(302), "location", "https://login/")]);
    let conn = pat_connection();
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unauthorized(_)));
    assert_eq!(env.sent.borrow().len(), 1);
}

#[test]
fn html_with_200_is_unauthorized() {
    let env = FakeEnv::new(vec![html(200)]);
    let conn = pat_connection();
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unauthorized(_)));
}

#[test]
fn statuses_map_to_typed_errors() {
    type Expect = fn(&ConnectorError) -> bool;
    let cases: Vec<(u16, Expect)> = vec![
        (401, |e| matches!(e, ConnectorError::Unauthorized(_))),
        (403, |e| matches!(e, ConnectorError::Forbidden(_))),
        (404, |e| matches!(e, ConnectorError::NotFound(_))),
        (409, |e| matches!(e, ConnectorError::Conflict(_))),
        (
            412,
            |e| matches!(e, ConnectorError::Conflict(p) if p.remediation.contains("stale")),
        ),
        (
            500,
            |e| matches!(e, ConnectorError::Remote { status: 500, code: Some(c), .. } if c == "TF246017"),
        ),
    ];
    for (status, check) in cases {
        let env = FakeEnv::new(vec![envelope(
            status,
            "TF246017: something",
            "SomeException",
        )]);
        let conn = pat_connection();
        let err = Client::new(&env, &conn)
            .unwrap()
            .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
            .unwrap_err();
        assert!(check(&err), "status {status} gave {err:?}");
    }
}

/// The error a GET answered by `answer` ends in.
fn error_of_get(answer: Result<HttpResponse, HttpError>) -> ConnectorError {
    let env = FakeEnv::new(vec![answer]);
    let conn = pat_connection();
    Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
        .unwrap_err()
}

#[test]
fn rule_error_names_the_field() {
    let err = error_of_get(envelope(
        400,
        "TF401320: Rule Error for field Priority. Error code: LimitedToValues.",
        "RuleValidationException",
    ));
    match err {
        ConnectorError::Validation(issues) => assert_eq!(issues[0].path, "Priority"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_identity_without_custom_properties_names_the_field_from_the_message() {
    // ADO's text as Microsoft's CLI prints it (no TF code); no type key or
    // customProperties, which no public answer shows for this error.
    let err = error_of_get(answer(
        400,
        json!({"message": "The identity value 'nobody@elsewhere.example' for field 'Assigned To' is an unknown identity."}),
    ));
    match err {
        ConnectorError::Validation(issues) => {
            assert_eq!(issues[0].path, "Assigned To");
            assert_eq!(issues[0].rule, "rule-error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_400_naming_no_field_stays_a_remote_error() {
    let err = error_of_get(answer(
        400,
        json!({"message": "The identity value is odd.", "typeKey": "SomethingException"}),
    ));
    assert!(
        matches!(err, ConnectorError::Remote { status: 400, .. }),
        "{err:?}"
    );
}

#[test]
fn retry_after_on_429_is_honoured_then_succeeds() {
    let env = FakeEnv::new(vec![
        with_header(
            envelope(429, "TF400733: blocked", "RequestBlockedException"),
            "Retry-After",
            "2",
        ),
        answer(200, json!({"ok": 1})),
    ]);
    let conn = pat_connection();
    let _: serde_json::Value = Client::new(&env, &conn)
        .unwrap()
        .get("https://dev.azure.com/contoso/_apis/x")
        .unwrap();
    assert_eq!(*env.slept.borrow(), vec![Duration::from_secs(2)]);
}

#[test]
fn retries_are_bounded_and_end_in_rate_limited() {
    let busy = || {
        with_header(
            envelope(429, "TF400733: blocked", "RequestBlockedException"),
            "Retry-After",
            "1",
        )
    };
    let env = FakeEnv::new(vec![busy(), busy(), busy()]);
    let conn = pat_connection();
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
        .unwrap_err();
    assert_eq!(err, ConnectorError::RateLimited(1));
    assert_eq!(env.sent.borrow().len(), 3);
}

#[test]
fn long_retry_after_is_returned_not_slept() {
    let env = FakeEnv::new(vec![with_header(
        envelope(429, "TF400733: blocked", "X"),
        "Retry-After",
        "120",
    )]);
    let conn = pat_connection();
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
        .unwrap_err();
    assert_eq!(err, ConnectorError::RateLimited(120));
    assert!(env.slept.borrow().is_empty());
}

#[test]
fn egress_denial_is_a_typed_error() {
    let env = FakeEnv::new(vec![Err(HttpError::Denied(
        "evil.example is not allowed".into(),
    ))]);
    let conn = pat_connection();
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://evil.example/x")
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Denied(_)));
}

#[test]
fn client_credentials_token_is_cached_and_never_in_errors() {
    let env = FakeEnv::new(vec![
        answer(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "tok-1"}),
        ),
        answer(200, json!({"a": 1})),
        answer(200, json!({"a": 2})),
    ]);
    let conn = Connection {
        base_url: "https://dev.azure.com/contoso".into(),
        project: "p".into(),
        credentials: Credentials::ClientCredentials {
            tenant_id: "tenant-1".into(),
            client_id: "client-1".into(),
            client_secret: Secret("very-secret".into()),
            authority: Some("https://login.example".into()),
        },
    };
    let client = Client::new(&env, &conn).unwrap();
    let _: serde_json::Value = client.get("https://dev.azure.com/contoso/_apis/a").unwrap();
    let _: serde_json::Value = client.get("https://dev.azure.com/contoso/_apis/b").unwrap();
    let urls = env.sent_urls();
    assert_eq!(urls[0], "https://login.example/tenant-1/oauth2/v2.0/token");
    assert_eq!(urls.len(), 3, "the second call must reuse the cached token");
    assert_eq!(
        env.header_of(2, "Authorization").as_deref(),
        Some("Bearer tok-1")
    );
    let ttl = env.store.borrow().values().next().unwrap().1.unwrap();
    assert_eq!(ttl, Duration::from_secs(3599 - 300));
}

#[test]
fn wrong_client_secret_explains_how_to_fix_it_without_the_secret() {
    let env = FakeEnv::new(vec![answer(
        401,
        json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}),
    )]);
    let conn = Connection {
        base_url: "https://dev.azure.com/contoso".into(),
        project: "p".into(),
        credentials: Credentials::ClientCredentials {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret("very-secret".into()),
            authority: None,
        },
    };
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/a")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("AADSTS7000215") && text.contains("new client secret"),
        "{text}"
    );
    assert!(!text.contains("very-secret"));
    assert!(!format!("{conn:?}").contains("very-secret"));
}

#[test]
fn rejected_cached_token_is_refreshed_once() {
    let env = FakeEnv::new(vec![
        answer(200, json!({"expires_in": 3599, "access_token": "tok-1"})),
        envelope(
            401,
            "TF400813: The user '' is not authorized to access this resource.",
            "UnauthorizedRequestException",
        ),
        answer(200, json!({"expires_in": 3599, "access_token": "tok-2"})),
        answer(200, json!({"ok": 1})),
    ]);
    let conn = Connection {
        base_url: "https://dev.azure.com/contoso".into(),
        project: "p".into(),
        credentials: Credentials::ClientCredentials {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret("s".into()),
            authority: None,
        },
    };
    let _: serde_json::Value = Client::new(&env, &conn)
        .unwrap()
        .get("https://dev.azure.com/contoso/_apis/a")
        .unwrap();
    assert_eq!(
        env.header_of(3, "Authorization").as_deref(),
        Some("Bearer tok-2")
    );
}

#[test]
fn an_answer_echoing_the_credential_does_not_put_it_in_the_error() {
    // Found by fuzzing (fuzz/corpus/response/echo-*.bin): a proxy or an ADO
    // message quoting the request's Authorization header reached the error.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(":s3cret-pat");
    let echoes = [
        envelope(
            500,
            &format!("VS30063: Authorization: Basic {basic} (s3cret-pat)"),
            "s3cret-pat",
        ),
        envelope(401, "token s3cret-pat refused", "UnauthorizedException"),
        answer(
            400,
            json!({"message": "TF401320: Rule Error for field s3cret-pat.", "typeKey": "RuleValidationException",
                   "customProperties": {"FieldReferenceName": "Custom.s3cret-pat"}}),
        ),
    ];
    for echo in echoes {
        let env = FakeEnv::new(vec![echo]);
        let conn = pat_connection();
        let err = Client::new(&env, &conn)
            .unwrap()
            .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
            .unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(
                !shown.contains("s3cret-pat") && !shown.contains(&basic),
                "{shown}"
            );
            assert!(shown.contains("***"), "{shown}");
        }
    }
}

#[test]
fn an_undecodable_answer_is_described_without_quoting_its_values() {
    // Found by fuzzing (fuzz/corpus/response/decode-echo.bin): serde's
    // message quoted the value at fault, so a body echoing the PAT showed it.
    let env = FakeEnv::new(vec![answer(200, json!({"id": 5, "rev": "s3cret-pat"}))]);
    let conn = pat_connection();
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<crate::workitem::WorkItem>(
            "https://dev.azure.com/contoso/_apis/wit/workitems/5?api-version=7.1",
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        !text.contains("s3cret-pat") && !text.contains("api-version"),
        "{text}"
    );
    assert!(
        text.contains("wrong type") && text.contains("line 1"),
        "{text}"
    );

    let env = FakeEnv::new(vec![answer(200, json!({"rev": 1}))]);
    let err = Client::new(&env, &conn)
        .unwrap()
        .get::<crate::workitem::WorkItem>("https://dev.azure.com/contoso/_apis/wit/workitems/5")
        .unwrap_err();
    assert!(err.to_string().contains("missing field `id`"), "{err}");
}

#[test]
fn an_answer_echoing_the_entra_access_token_sent_does_not_put_it_in_the_error() {
    // The token Entra issued is not among the configured secrets: only the
    // Authorization header actually sent knows it.
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiI0OTliODRhYyJ9.c2lnbmF0dXJl";
    let kinds = [
        Credentials::ClientCredentials {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret("client-secret-value".into()),
            authority: None,
        },
        Credentials::RefreshToken {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: None,
            refresh_token: Secret("refresh-token-value".into()),
            authority: None,
        },
    ];
    for credentials in kinds {
        let env = FakeEnv::new(vec![
            answer(200, json!({"expires_in": 3599, "access_token": token})),
            envelope(
                500,
                &format!("VS30063: Authorization: Bearer {token} was refused"),
                token,
            ),
        ]);
        let conn = Connection {
            base_url: "https://dev.azure.com/contoso".into(),
            project: "p".into(),
            credentials,
        };
        let err = Client::new(&env, &conn)
            .unwrap()
            .get::<serde_json::Value>("https://dev.azure.com/contoso/_apis/x")
            .unwrap_err();
        assert_eq!(
            env.header_of(1, "Authorization"),
            Some(format!("Bearer {token}"))
        );
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(token), "{shown}");
            assert!(
                shown.contains("VS30063") && shown.contains("***"),
                "{shown}"
            );
        }
    }
}

fn front_door(status: u16) -> Result<HttpResponse, HttpError> {
    Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "text/html".into())],
        body: b"<html>Our services aren't available right now</html>".to_vec(),
    })
}

#[test]
fn a_write_answered_by_a_gateway_error_is_not_sent_again_and_is_uncertain() {
    for status in [502, 503, 504] {
        for method in [Method::Post, Method::Patch] {
            let env = FakeEnv::new(vec![front_door(status), answer(200, json!({"id": 1}))]);
            let conn = pat_connection();
            let err = Client::new(&env, &conn)
                .unwrap()
                .send::<serde_json::Value>(
                    method,
                    "https://dev.azure.com/contoso/_apis/wit/workitems/$Bug",
                    "application/json-patch+json",
                    &json!([]),
                )
                .unwrap_err();
            assert!(uncertain(&err), "{status}: {err:?}");
            assert_eq!(env.sent.borrow().len(), 1, "{status} {method:?} sent once");
        }
    }
}

#[test]
fn a_write_refused_with_429_is_sent_again_after_retry_after() {
    let env = FakeEnv::new(vec![
        with_header(
            envelope(429, "TF400733: blocked", "RequestBlockedException"),
            "Retry-After",
            "1",
        ),
        answer(200, json!({"id": 7})),
    ]);
    let conn = pat_connection();
    let created: serde_json::Value = Client::new(&env, &conn)
        .unwrap()
        .send(
            Method::Post,
            "https://dev.azure.com/contoso/_apis/wit/workitems/$Bug",
            "application/json-patch+json",
            &json!([]),
        )
        .unwrap();
    assert_eq!(created["id"], 7);
    assert_eq!(env.sent.borrow().len(), 2);
}

#[test]
fn reads_and_queries_are_retried_after_a_gateway_error() {
    let env = FakeEnv::new(vec![
        front_door(503),
        answer(200, json!({"ok": 1})),
        front_door(504),
        answer(200, json!({"workItems": []})),
    ]);
    let conn = pat_connection();
    let client = Client::new(&env, &conn).unwrap();
    let _: serde_json::Value = client.get("https://dev.azure.com/contoso/_apis/x").unwrap();
    let _: serde_json::Value = client
        .query(
            "https://dev.azure.com/contoso/_apis/wit/wiql",
            "application/json",
            &json!({"query": "SELECT [System.Id] FROM WorkItems"}),
        )
        .unwrap();
    assert_eq!(env.sent.borrow().len(), 4);
    assert_eq!(
        *env.slept.borrow(),
        vec![Duration::from_secs(1), Duration::from_secs(1)]
    );
}

#[test]
fn a_timeout_or_reset_is_uncertain_and_a_refusal_is_not() {
    assert!(uncertain(&ConnectorError::Transport("reset".into())));
    assert!(uncertain(&ConnectorError::Remote {
        status: 504,
        code: None,
        message: "HTTP 504".into()
    }));
    assert!(!uncertain(&ConnectorError::RateLimited(1)));
    assert!(!uncertain(&ConnectorError::Remote {
        status: 400,
        code: None,
        message: "bad".into()
    }));
}

/// Public reports show a PAT without the scope a route needs refused with
/// the same 401 as a wrong one (emulator/FIDELITY.md, `missing-scope`), so
/// the advice of a 401 on any call names the scope among the causes.
#[test]
fn a_401_to_a_personal_access_token_names_a_missing_scope_among_the_causes() {
    match error_of_get(envelope(401, "Unauthorized", "UnauthorizedException")) {
        ConnectorError::Unauthorized(p) => assert!(
            p.remediation.contains("lacks a scope") && p.remediation.contains("Work Items"),
            "{}",
            p.remediation
        ),
        other => panic!("{other:?}"),
    }
}
