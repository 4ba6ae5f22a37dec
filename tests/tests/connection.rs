//! auth.test-connection through the real component against the emulator.

use crate::common;

use ado_emulator::faults::Faults;
use ado_emulator::server::ServerRelease;
use ado_emulator::variants::{RefusalBody, UnavailableBody, UnknownOrganization, Variants};
use ado_emulator::{Emulator, EmulatorConfig};
use common::*;
use ticketing_runtime::{CallError, ConnectorError, Credentials};

/// The environment's settings (`ADO_EMULATOR_VARIANTS`) with one changed by `set`.
fn settings(set: impl FnOnce(&mut Variants)) -> Variants {
    let mut v = Variants::from_env();
    set(&mut v);
    v
}

/// An emulator under `variants`.
fn emulator_under(variants: Variants) -> Emulator {
    Emulator::start(
        EmulatorConfig {
            variants,
            ..EmulatorConfig::default()
        }
        .with_local_receivers(),
    )
    .expect("the emulator starts")
}

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

/// ADO answers an unknown organization 404 (Azure/azure-cli#32897); its
/// body no public answer shows, so every plausible shape is tried
/// (`unknown-org`, emulator/FIDELITY.md row 51): the connector must name
/// the organization and the URL's shape from the status alone.
#[test]
fn unknown_organization_is_not_found_explaining_the_url_whatever_the_404_body() {
    for shape in UnknownOrganization::all() {
        let emu = emulator_under(settings(|v| v.unknown_org = shape));
        let mut conn = pat_connection(&emu);
        conn.base_url = format!("{}/no-such-org", emu.base_url());
        match host().test_connection(&conn) {
            Err(CallError::Connector(ConnectorError::NotFound(p))) => {
                let named = p.message.contains("no-such-org")
                    && p.remediation
                        .contains("https://dev.azure.com/{organization}");
                let clean = !p.message.contains('<') && !format!("{p:?}").contains(seed::PAT);
                assert!(
                    named && clean,
                    "{shape:?}: named, no markup, no secret: {p:?}"
                );
            }
            other => panic!("{shape:?}: expected not found, got {other:?}"),
        }
    }
}

/// Azure DevOps Server takes no Entra token (Learn, "Use personal access
/// tokens"); the body of its 401 no public answer shows, so both plausible
/// ones are tried (`refusal-body`, emulator/FIDELITY.md row 33).
#[test]
fn an_entra_token_on_azure_devops_server_is_unauthorized_whatever_the_401_body() {
    for body in RefusalBody::all() {
        let server = EmulatorConfig::server(ServerRelease::Server2022Update1);
        let emu = Emulator::start(server.with_variants(settings(|v| v.refusal_body = body)))
            .expect("the emulator starts");
        let mut conn = pat_connection(&emu);
        conn.credentials = Credentials::AccessToken("an-entra-access-token-123".into());
        match host().test_connection(&conn) {
            Err(CallError::Connector(ConnectorError::Unauthorized(p))) => {
                assert!(
                    p.message.contains("401") || p.message.contains("TF400813"),
                    "{body:?}: {}",
                    p.message
                );
                assert!(
                    !format!("{p:?}").contains("an-entra-access-token-123"),
                    "{body:?}: the token never shows: {p:?}"
                );
                assert!(
                    p.remediation
                        .contains("does not accept Microsoft Entra ID tokens")
                        && p.remediation.contains("personal access token"),
                    "{body:?}: Server takes no Entra token, so the fix is a PAT: {}",
                    p.remediation
                );
            }
            other => panic!("{body:?}: expected unauthorized, got {other:?}"),
        }
    }
}

/// A 503 ADO gives before the call runs: its body no public answer shows,
/// so each plausible shape is tried (`unavailable-body`, emulator/FIDELITY.md
/// rows 63 and 65). The connection test retries it, then reports the status
/// as a remote error, without page markup, and writes nothing.
#[test]
fn service_unavailable_is_reported_by_status_whatever_the_503_body() {
    for shape in UnavailableBody::all() {
        let emu = emulator_under(settings(|v| v.unavailable_body = shape));
        emu.set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        });
        match host().test_connection(&pat_connection(&emu)) {
            Err(CallError::Connector(ConnectorError::Remote(r))) => {
                assert_eq!(r.status, 503, "{shape:?}: {r:?}");
                assert!(!r.message.contains('<'), "{shape:?}: no page markup: {r:?}");
            }
            other => panic!("{shape:?}: expected a remote 503, got {other:?}"),
        }
        emu.set_faults(Faults::default());
        assert!(emu.work_item(1).is_none(), "{shape:?}: nothing was written");
        host()
            .test_connection(&pat_connection(&emu))
            .unwrap_or_else(|e| panic!("{shape:?}: passes once ADO answers again: {e:?}"));
    }
}
