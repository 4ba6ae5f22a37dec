//! The emulator over HTTP, as any ADO client sees it: status codes, headers
//! and bodies follow Azure DevOps' documented behaviour
//! (`../shared/ado-api/`), checked here independently of the connector.

use ado_emulator::{Emulator, EmulatorConfig, seed};
use base64::Engine as _;
use serde_json::{Value, json};

struct Client {
    agent: ureq::Agent,
    emu: Emulator,
}

struct Answer {
    status: u16,
    content_type: String,
    www_authenticate: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

fn basic(pat: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{pat}"))
    )
}

impl Client {
    fn new() -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Client {
            agent: ureq::Agent::new_with_config(config),
            emu: Emulator::start(EmulatorConfig::default()).expect("emulator starts"),
        }
    }

    fn project_url(&self) -> String {
        format!(
            "{}/{}",
            self.emu.org_url(),
            self.emu.project_id(seed::PROJECT).expect("seeded project")
        )
    }

    fn finish(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut resp = resp.expect("the emulator answers");
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (content_type, www_authenticate) = (
            header("content-type").unwrap_or_default(),
            header("www-authenticate"),
        );
        Answer {
            status: resp.status().as_u16(),
            content_type,
            www_authenticate,
            text: resp.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    fn get(&self, url: &str, auth: Option<&str>, suppress: bool) -> Answer {
        let mut req = self.agent.get(url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if suppress {
            req = req.header("X-TFS-FedAuthRedirect", "Suppress");
        }
        Self::finish(req.call())
    }

    fn get_pat(&self, url: &str) -> Answer {
        self.get(url, Some(&basic(seed::PAT)), true)
    }

    fn send(&self, method: &str, url: &str, content_type: &str, body: &Value) -> Answer {
        let req = match method {
            "POST" => self.agent.post(url),
            _ => self.agent.patch(url),
        };
        let req = req
            .header("Authorization", &basic(seed::PAT))
            .header("X-TFS-FedAuthRedirect", "Suppress")
            .header("Content-Type", content_type);
        Self::finish(req.send(body.to_string()))
    }

    fn create(&self, ty: &str, query: &str, ops: &Value) -> Answer {
        let url = format!(
            "{}/_apis/wit/workitems/${ty}?api-version=7.1{query}",
            self.project_url()
        );
        self.send("POST", &url, "application/json-patch+json", ops)
    }

    fn update(&self, id: i64, ops: &Value) -> Answer {
        let url = format!(
            "{}/_apis/wit/workitems/{id}?api-version=7.1",
            self.emu.org_url()
        );
        self.send("PATCH", &url, "application/json-patch+json", ops)
    }

    fn token(&self, form: &[(&str, &str)]) -> Answer {
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.emu.base_url(),
            seed::TENANT_ID
        );
        Self::finish(self.agent.post(&url).send_form(form.iter().copied()))
    }
}

fn title(t: &str) -> Value {
    json!({"op": "add", "path": "/fields/System.Title", "value": t})
}

const ADO_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

#[test]
fn client_credentials_grant_issues_a_bearer_token_ado_accepts() {
    let c = Client::new();
    let answer = c.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", seed::SP_CLIENT_ID),
        ("client_secret", seed::SP_CLIENT_SECRET),
        ("scope", ADO_SCOPE),
    ]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 3000);
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let me = c.get(
        &format!("{}/_apis/connectionData", c.emu.org_url()),
        Some(&bearer),
        true,
    );
    assert_eq!(me.status, 200, "{}", me.text);
    assert!(me.json()["authenticatedUser"]["id"].is_string());
}

#[test]
fn wrong_client_secret_is_aadsts7000215_and_unknown_tenant_aadsts90002() {
    let c = Client::new();
    let bad = c.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", seed::SP_CLIENT_ID),
        ("client_secret", "nope"),
        ("scope", ADO_SCOPE),
    ]);
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "invalid_client");
    assert!(
        bad.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );
    assert!(!bad.text.contains("nope"), "Entra never echoes the secret");

    let url = format!("{}/not-a-tenant/oauth2/v2.0/token", c.emu.base_url());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", seed::SP_CLIENT_ID),
        ("client_secret", seed::SP_CLIENT_SECRET),
        ("scope", ADO_SCOPE),
    ];
    let tenant = Client::finish(c.agent.post(&url).send_form(form));
    assert_eq!(tenant.status, 400);
    assert_eq!(tenant.json()["error_codes"], json!([90002]));
}

#[test]
fn refresh_token_is_single_use_and_rotated() {
    let c = Client::new();
    let form = |rt: &str| {
        c.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", seed::SP_CLIENT_ID),
            ("refresh_token", rt),
            ("scope", ADO_SCOPE),
        ])
    };
    let first = form(seed::REFRESH_TOKEN);
    assert_eq!(first.status, 200, "{}", first.text);
    let rotated = first.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rotated, seed::REFRESH_TOKEN);
    let replay = form(seed::REFRESH_TOKEN);
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json()["error"], "invalid_grant");
    assert_eq!(form(&rotated).status, 200);
}

#[test]
fn bad_credentials_get_401_with_suppress_header_and_203_sign_in_page_without() {
    let c = Client::new();
    let url = format!("{}/_apis/connectionData", c.emu.org_url());
    let suppressed = c.get(&url, Some(&basic("wrong")), true);
    assert_eq!(suppressed.status, 401);
    assert!(suppressed.content_type.starts_with("application/json"));
    assert!(
        suppressed.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("TF400813")
    );
    assert!(
        suppressed
            .www_authenticate
            .is_some_and(|h| h.starts_with("Bearer"))
    );

    let page = c.get(&url, Some(&basic("wrong")), false);
    assert_eq!(page.status, 203);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );

    let anonymous = c.get(&url, None, false);
    assert_eq!(anonymous.status, 203);
}

#[test]
fn projects_are_found_by_name_without_case_and_report_their_process() {
    let c = Client::new();
    let url = format!(
        "{}/_apis/projects/FABRIKAM%20SECURITY?includeCapabilities=true&api-version=7.1",
        c.emu.org_url()
    );
    let answer = c.get_pat(&url);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let p = answer.json();
    assert_eq!(p["name"], seed::PROJECT);
    assert_eq!(
        p["capabilities"]["processTemplate"]["templateName"],
        "Agile"
    );

    let missing = c.get_pat(&format!(
        "{}/_apis/projects/Nope?api-version=7.1",
        c.emu.org_url()
    ));
    assert_eq!(missing.status, 404);
    assert!(
        missing.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("TF200016")
    );
}

#[test]
fn bug_states_carry_categories_and_fields_carry_allowed_values() {
    let c = Client::new();
    let base = format!("{}/_apis/wit/workitemtypes/Bug", c.project_url());
    let states = c.get_pat(&format!("{base}/states?api-version=7.1")).json();
    let pairs: Vec<(String, String)> = states["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&("New".into(), "Proposed".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("Closed".into(), "Completed".into())),
        "{pairs:?}"
    );

    let fields = c
        .get_pat(&format!("{base}/fields?$expand=all&api-version=7.1"))
        .json();
    let severity = fields["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["referenceName"] == "Microsoft.VSTS.Common.Severity")
        .expect("Severity");
    assert!(
        severity["allowedValues"]
            .as_array()
            .unwrap()
            .contains(&json!("1 - Critical"))
    );
    let title = fields["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["referenceName"] == "System.Title")
        .unwrap();
    assert_eq!(title["alwaysRequired"], true);

    let ty = c.get_pat(&format!("{base}?api-version=7.1")).json();
    let initial: Vec<&str> = ty["transitions"][""]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["to"].as_str())
        .collect();
    assert_eq!(initial, ["New"]);
}

#[test]
fn create_fills_defaults_initial_state_and_revision() {
    let c = Client::new();
    let answer = c.create("Bug", "", &json!([title("Leaky bucket")]));
    assert_eq!(answer.status, 200, "{}", answer.text);
    let item = answer.json();
    assert_eq!(item["rev"], 1);
    assert_eq!(item["fields"]["System.State"], "New");
    assert_eq!(item["fields"]["System.Reason"], "New");
    assert_eq!(
        item["fields"]["Microsoft.VSTS.Common.ValueArea"],
        "Business"
    );
    assert_eq!(
        item["fields"]["System.CreatedBy"]["displayName"],
        seed::USER_NAME
    );
    let id = item["id"].as_i64().unwrap();
    assert_eq!(
        c.emu.work_item(id as i32).expect("stored")["fields"]["System.Title"],
        "Leaky bucket"
    );
}

#[test]
fn create_refuses_unknown_fields_bad_values_missing_title_and_a_non_initial_state() {
    let c = Client::new();
    let unknown = c.create(
        "Bug",
        "",
        &json!([title("x"), {"op": "add", "path": "/fields/Custom.Nope", "value": 1}]),
    );
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("TF51535"),
        "{}",
        unknown.text
    );

    let severity = c.create("Bug", "", &json!([title("x"), {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Severity", "value": "Critical"}]));
    assert_eq!(severity.status, 400);
    let body = severity.json();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("TF401320: Rule Error for field Severity"),
        "{}",
        severity.text
    );
    assert_eq!(
        body["customProperties"]["FieldReferenceName"],
        "Microsoft.VSTS.Common.Severity"
    );

    let no_title = c.create(
        "Bug",
        "",
        &json!([{"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 2}]),
    );
    assert_eq!(no_title.status, 400);
    assert!(
        no_title.json()["message"]
            .as_str()
            .unwrap()
            .contains("Title"),
        "{}",
        no_title.text
    );

    let closed = c.create(
        "Bug",
        "",
        &json!([title("x"), {"op": "add", "path": "/fields/System.State", "value": "Closed"}]),
    );
    assert_eq!(closed.status, 400);
    assert!(
        closed.json()["message"].as_str().unwrap().contains("State"),
        "{}",
        closed.text
    );

    let priority = c.create("Bug", "", &json!([title("x"), {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": "high"}]));
    assert_eq!(priority.status, 400);
    assert_eq!(c.emu.work_item(1), None, "a refused create stores nothing");
}

#[test]
fn validate_only_stores_nothing_and_bypass_rules_skips_allowed_values() {
    let c = Client::new();
    let checked = c.create("Bug", "&validateOnly=true", &json!([title("dry run")]));
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert_eq!(c.emu.work_item(1), None);

    let bypassed = c.create("Bug", "&bypassRules=true", &json!([title("x"), {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Severity", "value": "Critical"}]));
    assert_eq!(bypassed.status, 200, "{}", bypassed.text);
    assert_eq!(
        bypassed.json()["fields"]["Microsoft.VSTS.Common.Severity"],
        "Critical"
    );
}

/// The create route of a Bug in the client's project.
fn create_bug_url(c: &Client) -> String {
    format!(
        "{}/_apis/wit/workitems/$Bug?api-version=7.1",
        c.project_url()
    )
}

/// ADO answers another content type with 400 and
/// `VssRequestContentTypeNotSupportedException` (AZDOPS/AZDOPS#63,
/// restsharp/RestSharp#1413; FIDELITY.md).
#[test]
fn create_and_update_refuse_another_content_type_than_json_patch_with_400() {
    let c = Client::new();
    let url = create_bug_url(&c);
    let answer = c.send("POST", &url, "application/json", &json!([title("x")]));
    assert_eq!(answer.status, 400, "{}", answer.text);
    let body = answer.json();
    assert_eq!(
        body["message"],
        "The request indicated a Content-Type of \"application/json\" for method type \"POST\" which is not supported. Valid content types for this method are: application/json-patch+json."
    );
    assert_eq!(
        body["typeKey"],
        "VssRequestContentTypeNotSupportedException"
    );
    assert_eq!(
        body["typeName"],
        "Microsoft.VisualStudio.Services.WebApi.VssRequestContentTypeNotSupportedException, Microsoft.VisualStudio.Services.WebApi"
    );
    assert_eq!(c.emu.work_item(1), None);

    let id = c.create("Bug", "", &json!([title("first")])).json()["id"]
        .as_i64()
        .unwrap();
    let url = format!(
        "{}/_apis/wit/workitems/{id}?api-version=7.1",
        c.project_url()
    );
    let answer = c.send("PATCH", &url, "application/json", &json!([title("second")]));
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(
        answer.json()["message"],
        "The request indicated a Content-Type of \"application/json\" for method type \"PATCH\" which is not supported. Valid content types for this method are: application/json-patch+json."
    );
    assert_eq!(c.emu.work_item(id as i32).unwrap()["rev"], 1);
}

/// A body that is not a list of operations: ADO's 400 "You must pass a
/// valid patch document in the body of the request." (devopshq/tfs#39,
/// microsoft/playwright#27064; FIDELITY.md).
#[test]
fn a_body_that_is_not_a_json_patch_document_is_refused_with_ados_text() {
    let c = Client::new();
    let url = create_bug_url(&c);
    for body in [
        json!({"op": "add", "path": "/fields/System.Title", "value": "x"}),
        json!({"fields": {"System.Title": "x"}}),
    ] {
        let answer = c.send("POST", &url, "application/json-patch+json", &body);
        assert_eq!(answer.status, 400, "{}", answer.text);
        let v = answer.json();
        assert_eq!(
            v["message"],
            "You must pass a valid patch document in the body of the request."
        );
        assert_eq!(v["typeKey"], "VssPropertyValidationException");
    }
    assert_eq!(c.emu.work_item(1), None);
}

/// ADO's 404 for a type the project does not have: `VS402323: Work item
/// type {type} does not exist in project ...` (TeamCodeStream/codestream#1085;
/// FIDELITY.md).
#[test]
fn creating_an_item_of_a_type_the_project_lacks_is_404_vs402323() {
    let c = Client::new();
    let answer = c.create("Incident", "", &json!([title("x")]));
    assert_eq!(answer.status, 404);
    let message = answer.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("VS402323: Work item type Incident does not exist in project ")
            && message.ends_with(" or you do not have permission to access it."),
        "{message}"
    );
    assert_eq!(c.emu.work_item(1), None);
}

#[test]
fn stale_test_rev_is_412_and_applies_nothing() {
    let c = Client::new();
    let id = c.create("Bug", "", &json!([title("first")])).json()["id"]
        .as_i64()
        .unwrap();
    let ok = c.update(id, &json!([{"op": "test", "path": "/rev", "value": 1}, {"op": "replace", "path": "/fields/System.State", "value": "Active"}]));
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["rev"], 2);
    assert_eq!(ok.json()["fields"]["System.State"], "Active");

    let stale = c.update(
        id,
        &json!([{"op": "test", "path": "/rev", "value": 1}, title("second")]),
    );
    assert_eq!(stale.status, 412);
    assert!(
        stale.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("TF26071")
    );
    let stored = c.emu.work_item(id as i32).unwrap();
    assert_eq!(stored["fields"]["System.Title"], "first");
    assert_eq!(stored["rev"], 2);
}

#[test]
fn relations_are_returned_only_when_expanded() {
    let c = Client::new();
    let link = json!({"op": "add", "path": "/relations/-", "value": {"rel": "Hyperlink", "url": "https://secops.example/t/1"}});
    let id = c.create("Bug", "", &json!([title("linked"), link])).json()["id"]
        .as_i64()
        .unwrap();
    let plain = c
        .get_pat(&format!(
            "{}/_apis/wit/workitems/{id}?api-version=7.1",
            c.emu.org_url()
        ))
        .json();
    assert!(plain.get("relations").is_none());
    let expanded = c
        .get_pat(&format!(
            "{}/_apis/wit/workitems/{id}?$expand=relations&api-version=7.1",
            c.emu.org_url()
        ))
        .json();
    assert_eq!(expanded["relations"][0]["rel"], "Hyperlink");
    assert_eq!(
        expanded["relations"][0]["url"],
        "https://secops.example/t/1"
    );

    let missing = c.get_pat(&format!(
        "{}/_apis/wit/workitems/999?api-version=7.1",
        c.emu.org_url()
    ));
    assert_eq!(missing.status, 404);
}

#[test]
fn pat_without_work_scope_cannot_read_work_item_metadata() {
    let c = Client::new();
    let url = format!(
        "{}/_apis/wit/workitemtypes?api-version=7.1",
        c.project_url()
    );
    let answer = c.get(&url, Some(&basic(seed::PAT_NO_WORK_SCOPE)), true);
    assert_eq!(answer.status, 401, "{}", answer.text);
    let projects = c.get(
        &format!("{}/_apis/projects?api-version=7.1", c.emu.org_url()),
        Some(&basic(seed::PAT_NO_WORK_SCOPE)),
        true,
    );
    assert_eq!(projects.status, 200);
}

#[test]
fn outsider_service_principal_gets_a_token_but_ado_refuses_it() {
    let c = Client::new();
    let t = c.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", seed::SP_OUTSIDER_CLIENT_ID),
        ("client_secret", seed::SP_OUTSIDER_CLIENT_SECRET),
        ("scope", ADO_SCOPE),
    ]);
    assert_eq!(t.status, 200);
    let bearer = format!("Bearer {}", t.json()["access_token"].as_str().unwrap());
    let answer = c.get(
        &format!("{}/_apis/connectionData", c.emu.org_url()),
        Some(&bearer),
        true,
    );
    assert_eq!(answer.status, 401);
}
