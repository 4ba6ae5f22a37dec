//! auth.test-connection through the real component against the emulator.

use crate::common;

use common::*;
use ticketing_runtime::{CallError, ConnectorError, Credentials};

#[test]
fn test_connection_with_pat_reports_identity_project_and_process() {
    let emu = emulator();
    let info = host()
        .test_connection(&pat_connection(&emu))
        .expect("connection ok");
    assert_eq!(info.project_name, seed::PROJECT);
    assert_eq!(
        Some(info.project_id.as_str()),
        emu.project_id(seed::PROJECT).as_deref()
    );
    assert_eq!(info.process_template.as_deref(), Some("Agile"));
    assert_eq!(info.organization, seed::ORGANIZATION);
    assert!(!info.user.id.is_empty() && !info.user.display_name.is_empty());
}

#[test]
fn test_connection_with_client_credentials_succeeds() {
    let emu = emulator();
    let conn = client_credentials(&emu, seed::SP_CLIENT_ID, seed::SP_CLIENT_SECRET);
    let info = host().test_connection(&conn).expect("connection ok");
    assert_eq!(info.project_name, seed::PROJECT);
}

#[test]
fn wrong_client_secret_is_unauthorized_with_remediation_and_no_secret() {
    let emu = emulator();
    let conn = client_credentials(&emu, seed::SP_CLIENT_ID, "not-the-secret-42");
    match host().test_connection(&conn) {
        Err(CallError::Connector(ConnectorError::Unauthorized(p))) => {
            assert!(p.message.contains("AADSTS7000215"), "{}", p.message);
            assert!(p.remediation.contains("client secret"), "{}", p.remediation);
            assert!(
                !p.message.contains("not-the-secret-42")
                    && !p.remediation.contains("not-the-secret-42")
            );
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

#[test]
fn service_principal_not_added_to_the_organization_is_told_to_add_it() {
    let emu = emulator();
    let conn = client_credentials(
        &emu,
        seed::SP_OUTSIDER_CLIENT_ID,
        seed::SP_OUTSIDER_CLIENT_SECRET,
    );
    match host().test_connection(&conn) {
        Err(CallError::Connector(ConnectorError::Unauthorized(p))) => {
            assert!(
                p.remediation
                    .contains("add the service principal to the organization"),
                "{}",
                p.remediation
            );
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

#[test]
fn bad_pat_is_unauthorized() {
    let emu = emulator();
    let mut conn = pat_connection(&emu);
    conn.credentials = Credentials::Pat("wrong-pat-value".into());
    match host().test_connection(&conn) {
        Err(CallError::Connector(ConnectorError::Unauthorized(p))) => {
            assert!(
                p.remediation.contains("personal access token"),
                "{}",
                p.remediation
            );
            assert!(!format!("{p:?}").contains("wrong-pat-value"));
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

#[test]
fn sign_in_page_with_203_is_unauthorized() {
    let emu = emulator();
    emu.set_sign_in_page_mode(true);
    let mut conn = pat_connection(&emu);
    conn.credentials = Credentials::Pat("wrong-pat-value".into());
    match host().test_connection(&conn) {
        Err(CallError::Connector(ConnectorError::Unauthorized(p))) => {
            assert!(p.message.contains("203"), "{}", p.message);
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

#[test]
fn misspelt_project_is_not_found_with_the_closest_name_suggested() {
    let emu = emulator();
    let mut conn = pat_connection(&emu);
    conn.project = "fabrikam securty".into();
    match host().test_connection(&conn) {
        Err(CallError::Connector(ConnectorError::NotFound(p))) => {
            assert!(p.message.contains("fabrikam securty"), "{}", p.message);
            assert!(
                p.remediation
                    .contains(&format!("did you mean `{}`", seed::PROJECT)),
                "{}",
                p.remediation
            );
        }
        other => panic!("expected not found, got {other:?}"),
    }
}

#[test]
fn project_names_match_without_regard_to_case_as_in_ado() {
    let emu = emulator();
    let mut conn = pat_connection(&emu);
    conn.project = seed::PROJECT.to_uppercase();
    let info = host()
        .test_connection(&conn)
        .expect("ADO matches project names case-insensitively");
    assert_eq!(info.project_name, seed::PROJECT);
}

#[test]
fn pat_without_work_item_scope_is_forbidden_naming_the_scope() {
    let emu = emulator();
    let mut conn = pat_connection(&emu);
    conn.credentials = Credentials::Pat(seed::PAT_NO_WORK_SCOPE.into());
    match host().test_connection(&conn) {
        Err(CallError::Connector(ConnectorError::Forbidden(p))) => {
            assert!(p.remediation.contains("Work Items"), "{}", p.remediation);
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
}

#[test]
fn unknown_organization_is_not_found_explaining_the_url() {
    let emu = emulator();
    let mut conn = pat_connection(&emu);
    conn.base_url = format!("{}/no-such-org", emu.base_url());
    match host().test_connection(&conn) {
        Err(CallError::Connector(ConnectorError::NotFound(p))) => {
            assert!(p.message.contains("no-such-org"), "{}", p.message);
        }
        other => panic!("expected not found, got {other:?}"),
    }
}
