use serde_json::json;

use super::*;
use crate::client::Client;
use crate::model::{Connection, Credentials, Secret};
use crate::testing::{FakeEnv, json as answer};

fn connection() -> Connection {
    Connection {
        base_url: "https://dev.azure.com/contoso".into(),
        project: "Fabrikam Security".into(),
        credentials: Credentials::Pat(Secret("s3cret-pat".into())),
    }
}

#[test]
fn upload_posts_the_bytes_as_octet_stream_to_the_project_attachments() {
    let env = FakeEnv::new(vec![answer(
        201,
        json!({"id": "6b3c…", "url": "https://dev.azure.com/contoso/_apis/wit/attachments/6b3c?fileName=f.csv"}),
    )]);
    let conn = connection();
    let client = Client::new(&env, &conn).unwrap();
    let uploaded =
        upload_attachment(&client, "findings SEC-101 & co.csv", b"a,b\r\n".to_vec()).unwrap();
    assert_eq!(
        uploaded.url,
        "https://dev.azure.com/contoso/_apis/wit/attachments/6b3c?fileName=f.csv"
    );
    let sent = env.sent.borrow();
    assert_eq!(sent[0].method, crate::env::Method::Post);
    assert_eq!(
        sent[0].url,
        "https://dev.azure.com/contoso/Fabrikam%20Security/_apis/wit/attachments?fileName=findings+SEC-101+%26+co.csv&api-version=7.1"
    );
    assert_eq!(sent[0].body, b"a,b\r\n");
    drop(sent);
    assert_eq!(
        env.header_of(0, "Content-Type").as_deref(),
        Some("application/octet-stream")
    );
}

#[test]
fn upload_over_the_ado_limit_is_refused_before_any_request() {
    let env = FakeEnv::new(vec![]);
    let conn = connection();
    let client = Client::new(&env, &conn).unwrap();
    let err =
        upload_attachment(&client, "huge.pdf", vec![0; ADO_ATTACHMENT_LIMIT + 1]).unwrap_err();
    let ConnectorError::Validation(issues) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(issues[0].rule, "max-size");
    assert!(
        issues[0].message.contains("huge.pdf")
            && issues[0]
                .message
                .contains(&ADO_ATTACHMENT_LIMIT.to_string())
    );
    assert!(env.sent.borrow().is_empty());
}

#[test]
fn ado_refusing_the_size_is_a_max_size_error_naming_the_file_and_ados_limit() {
    let env = FakeEnv::new(vec![crate::testing::envelope(
        413,
        "VS403311: The attachment is larger than the maximum allowed size of 2 bytes.",
        "AttachmentSizeExceededException",
    )]);
    let conn = connection();
    let client = Client::new(&env, &conn).unwrap();
    let err = upload_attachment(&client, "a.pdf", vec![1, 2, 3]).unwrap_err();
    let ConnectorError::Validation(issues) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(issues[0].rule, "max-size");
    assert!(
        issues[0].message.contains("`a.pdf` (3 bytes)")
            && issues[0]
                .message
                .contains("maximum allowed size of 2 bytes"),
        "{}",
        issues[0].message
    );
}

#[test]
fn upload_errors_from_ado_stay_typed() {
    let env = FakeEnv::new(vec![crate::testing::envelope(
        403,
        "TF400813: The user is not authorized to access this resource.",
        "UnauthorizedRequestException",
    )]);
    let conn = connection();
    let client = Client::new(&env, &conn).unwrap();
    let err = upload_attachment(&client, "a.pdf", vec![1, 2, 3]).unwrap_err();
    assert!(matches!(err, ConnectorError::Forbidden(_)), "{err:?}");
}

#[test]
fn a_lower_limit_refuses_before_any_request() {
    let env = FakeEnv::new(vec![]);
    let conn = connection();
    let client = Client::new(&env, &conn).unwrap();
    let err = upload_attachment_limited(&client, "a.csv", vec![0; 11], 10).unwrap_err();
    assert!(
        err.to_string().contains("`a.csv` is 11 bytes") && err.to_string().contains("(10 bytes)"),
        "{err}"
    );
    assert!(env.sent.borrow().is_empty());
}
