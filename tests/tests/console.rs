//! The web console in a real browser (headless Chromium over WebDriver),
//! against the real plugin and the emulator: the whole wizard, the tickets
//! page's dispatch, login and CSRF. Screenshots go to `target/console-screenshots/`
//! (`docs/console/` with `TICKETING_UPDATE_SCREENSHOTS=1`).

use crate::common;
use crate::console_support;

use std::path::PathBuf;

use common::seed;
use console_support::{Browser, one, put_ticket, texts};
use serde_json::{Value, json};
use ticketing_host::server::console;
use ticketing_host::state::db::Db;

/// A host directory (config, secrets, state, rules, outegrations) and the console on it.
struct Setup {
    dir: PathBuf,
    emu: ado_emulator::Emulator,
    console: console::ConsoleHandle,
    options: console::ConsoleOptions,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let emu = common::emulator();
        let dir = common::fresh_dir(name);
        let mut options = console::ConsoleOptions::new("127.0.0.1:0".parse().unwrap(), &dir);
        options.rules = Some(dir.join("rules.toml"));
        let console = console::spawn(common::host(), options.clone()).expect("the console starts");
        Setup {
            dir,
            emu,
            console,
            options,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.console.url())
    }

    fn db(&self) -> Db {
        Db::open(&self.options.state).unwrap()
    }

    async fn login(&self, b: &Browser) {
        b.client.goto(&self.url("/")).await.unwrap();
        b.wait_path("/login").await;
        b.fill("#token", &self.options.token).await;
        b.click("#login").await;
        b.wait_path("/").await;
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn hostile_ticket() -> Value {
    json!({
        "id": "SEC-666",
        "url": "https://secops.example/tickets/SEC-666",
        "fields": {
            "title": "<script>window.__pwned=1</script> {{title}} =cmd|' /C calc'!A0",
            "description": "<img src=x onerror=\"window.__pwned=2\"> **patch** {{ticket.id}}",
            "severity": "CRITICAL"
        },
        "findings": [
            { "id": "F-1", "status": "open",
              "fields": { "title": "=HYPERLINK(\"http://evil.example\",\"click\")", "asset": "web-01", "severity": "CRITICAL" } }
        ],
        "comments": []
    })
}

fn plain_ticket(id: &str, severity: &str) -> Value {
    json!({
        "id": id,
        "url": format!("https://secops.example/tickets/{id}"),
        "fields": { "title": format!("Outdated OpenSSL ({id})"), "description": "Upgrade to 3.x.", "severity": severity },
        "findings": [],
        "comments": []
    })
}

const TITLE_TEMPLATE: &str = "[{{severity}}] {{title}}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_goes_from_a_failing_connection_test_to_a_dispatched_work_item() {
    let s = Setup::new("console-wizard");
    put_ticket(&s.options.state, hostile_ticket());
    put_ticket(&s.options.state, plain_ticket("SEC-200", "LOW"));
    let b = Browser::start().await;

    // Login.
    b.client.goto(&s.url("/tickets")).await.unwrap();
    b.wait_path("/login").await;
    b.screenshot("01-login").await;
    s.login(&b).await;

    // Authentication: a wrong PAT fails with its remediation.
    b.click("#new-outegration").await;
    b.wait_path("/wizard/auth").await;
    b.fill("#base_url", &s.emu.org_url()).await;
    b.fill("#project", seed::PROJECT).await;
    b.select("#auth", "pat").await;
    b.fill("#pat", "not-the-pat").await;
    b.click("#test-connection").await;
    let remediation = b.text("#test-result .remediation").await;
    assert!(
        remediation.starts_with("How to fix:") && remediation.len() > 20,
        "{remediation}"
    );
    assert!(!b.text("#test-result .message").await.is_empty());
    b.screenshot("02-auth-failed").await;
    assert!(!s.options.secrets.exists(), "a failed test stores nothing");

    // The right PAT: identity and project; nothing echoes the secret.
    b.fill("#pat", seed::PAT).await;
    b.click("#test-connection").await;
    b.wait_for("#test-result #identity").await;
    assert_eq!(b.text("#project-name").await, seed::PROJECT);
    assert!(!b.client.source().await.unwrap().contains(seed::PAT));
    b.screenshot("03-auth-connected").await;
    b.fill("#pat", seed::PAT).await;
    b.click("#save-connection").await;
    b.wait_path("/wizard/settings").await;
    let secrets = std::fs::read_to_string(&s.options.secrets).unwrap();
    let parsed = ticketing_host::connect::secrets::Secrets::parse(&secrets).unwrap();
    assert_eq!(parsed.pat.as_ref().map(|p| p.expose()), Some(seed::PAT));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&s.options.secrets)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the secrets file is its owner's only");
    }
    // The stored PAT is marked stored, never shown.
    b.client.goto(&s.url("/wizard/auth")).await.unwrap();
    b.wait_for("#stored-pat").await;
    assert_eq!(
        b.wait_for("#pat")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );
    assert!(!b.client.source().await.unwrap().contains(seed::PAT));
    b.client.goto(&s.url("/wizard/settings")).await.unwrap();

    // Settings: type, initial state from the valid ones, visibility for high severity.
    b.fill("#name", "bugs").await;
    b.select("#work_item_type", "Bug").await;
    b.wait_for("#initial_state option[value='New']").await;
    b.select("#initial_state", "New").await;
    b.click("#visibility-filter").await;
    b.select("#severity_at_least", "high").await;
    b.screenshot("04-settings").await;
    b.click("#settings-next").await;
    b.wait_path("/wizard/mapping").await;

    // Mapping: a Smart Text error shown as it is typed, then fixed with `{{` completion.
    let title = "[id='row-System.Title'] textarea[data-complete]";
    let check = "[id='row-System.Title'] .check";
    b.fill(title, "[{{severity | shout}}] {{title}}").await;
    let error = b.text(&format!("{check} .template-errors")).await;
    assert!(
        error.contains("shout"),
        "the error names the unknown filter: {error}"
    );
    b.screenshot("05-mapping-error").await;
    b.fill(title, "[{{sev").await;
    b.wait_until(
        "the completion offers `severity`",
        "const l = document.querySelector(\"[id='row-System.Title'] .complete\"); return !!l && !l.hidden && l.querySelector('[aria-selected=true]')?.textContent === 'severity';",
    )
    .await;
    b.screenshot("06-mapping-completion").await;
    let area = b.wait_for(title).await;
    area.send_keys(&fantoccini::key::Key::Enter.to_string())
        .await
        .unwrap();
    area.send_keys("] {{title}}").await.unwrap();
    assert_eq!(
        area.prop("value").await.unwrap().as_deref(),
        Some(TITLE_TEMPLATE)
    );
    b.wait_for(&format!("{check} .template-ok")).await;
    assert!(!b.has(&format!("{check} .template-errors")).await);
    b.select("#attachment_format", "csv").await;
    b.click("#mapping-next").await;
    b.wait_path("/wizard/preview").await;

    // Preview of the hostile ticket: fields rendered as text, HTML in a sandboxed frame.
    b.click("a[data-ticket='SEC-666']").await;
    b.wait_for("#preview-fields").await;
    let shown_title = b.text("tr[data-field='System.Title'] .value").await;
    assert_eq!(
        shown_title,
        "[CRITICAL] <script>window.__pwned=1</script> {{title}} =cmd|' /C calc'!A0"
    );
    let frames = b
        .client
        .execute(
            "return [...document.querySelectorAll('#preview-fields iframe')].map(f => f.getAttribute('sandbox'));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        frames
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|s| s == "")),
        "rich text sits in frames sandboxed without scripts: {frames}"
    );
    assert!(!b.has("#preview-result script").await);
    let pwned = b
        .client
        .execute("return typeof window.__pwned;", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!("undefined"), "no script of the ticket ran");
    b.wait_for("#relations .file-name").await;
    let doc = b.document().await;
    let file = texts(&doc, "#relations .file-name").join("");
    assert!(
        file.starts_with("findings-SEC-666-") && file.ends_with(".csv"),
        "{file}"
    );
    let size_el = one(&doc, "#relations data.file-size");
    let previewed_size: u64 = size_el
        .value()
        .attr("value")
        .and_then(|v| v.parse().ok())
        .expect("the size in bytes");
    let size_text: String = size_el.text().collect();
    assert!(
        size_text
            .replace(',', "")
            .starts_with(&format!("{previewed_size} bytes")),
        "the size shown in bytes: {size_text}"
    );
    // The screenshot shows the findings file with its size.
    b.client
        .execute(
            "document.querySelector('#relations').scrollIntoView({block: 'center'}); return true;",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("07-preview").await;
    b.click("#validate-remote").await;
    b.wait_for("#remote-ok").await;

    // Sync, then save.
    b.click("#preview-next").await;
    b.wait_path("/wizard/sync").await;
    b.screenshot("08-sync").await;
    b.click("#save").await;
    let saved_msg = b.text("#save-result").await;
    assert!(saved_msg.contains("bugs.json"), "{saved_msg}");
    b.screenshot("09-saved").await;

    // The saved JSON means what a hand-written config means.
    let saved_path = s.options.outegrations.join("bugs.json");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved_path).unwrap()).unwrap();
    let host = common::host();
    let mut hand: Value =
        serde_json::from_str(&host.default_config("Agile", "Bug").unwrap()).unwrap();
    for rule in hand["dispatch"].as_array_mut().unwrap() {
        if rule["target"] == "System.Title" {
            rule["template"] = json!(TITLE_TEMPLATE);
        }
    }
    hand["initial_state"] = json!("New");
    hand["attachment"] = json!({"format": "csv", "on_sync": "add"});
    for key in [
        "work_item_type",
        "initial_state",
        "dispatch",
        "attachment",
        "to_ado",
        "from_ado",
    ] {
        assert_eq!(saved[key], hand[key], "`{key}` of the saved config");
    }
    let conn = common::pat_connection(&s.emu);
    let ticket = ticketing_host::state::ticket_file::parse(&hostile_ticket().to_string()).unwrap();
    let from_console = host
        .preview(&conn, &saved.to_string(), &ticket, false)
        .unwrap();
    let by_hand = host
        .preview(&conn, &hand.to_string(), &ticket, false)
        .unwrap();
    assert_eq!(
        from_console.body, by_hand.body,
        "both dispatch the same work item"
    );
    assert!(
        from_console.problems.is_empty(),
        "{:?}",
        from_console.problems
    );
    let rules = std::fs::read_to_string(s.options.rules.as_ref().unwrap()).unwrap();
    let rules: toml::Table = toml::from_str(&rules).unwrap();
    assert_eq!(
        rules["outegrations"]["bugs"]["visibility"].as_str(),
        Some("filter")
    );
    assert_eq!(
        rules["outegrations"]["bugs"]["filter"]["severity_at_least"].as_str(),
        Some("high")
    );

    // Tickets: the button only where the visibility offers it; dispatch creates the work item.
    b.click("#to-tickets").await;
    b.wait_path("/tickets").await;
    assert!(b.has("#ticket-SEC-666 .create-ticket").await);
    assert!(
        !b.has("#ticket-SEC-200 .create-ticket").await,
        "a LOW ticket is not offered"
    );
    b.screenshot("10-tickets").await;
    b.click("#ticket-SEC-666 .create-ticket").await;
    let link_text = b.text("#ticket-SEC-666 .work-item-link").await;
    let stored = s.db().link("SEC-666").unwrap().expect("the link is stored");
    assert_eq!(link_text, format!("Bug {}", stored.link.work_item_id));
    let item = s
        .emu
        .work_item(stored.link.work_item_id)
        .expect("the work item exists in ADO");
    assert_eq!(
        item["fields"]["System.Title"],
        json!(format!(
            "[CRITICAL] {}",
            hostile_ticket()["fields"]["title"].as_str().unwrap()
        ))
    );
    // The preview showed the file the dispatch uploaded: its name and size.
    let uploaded: Vec<(String, u64)> = item["relations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["rel"] == "AttachedFile")
        .map(|r| {
            let a = &r["attributes"];
            (
                a["name"].as_str().unwrap_or_default().to_string(),
                a["resourceSize"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        uploaded,
        vec![(file.clone(), previewed_size)],
        "the previewed file is the one attached"
    );
    let jobs = s
        .db()
        .jobs(&[ticketing_host::state::db::JobState::Done])
        .unwrap();
    assert!(
        jobs.iter()
            .any(|j| j.kind == "dispatch" && j.ticket_id == "SEC-666"),
        "the dispatch ran as an outbox job"
    );
    b.screenshot("11-dispatched").await;

    // The drawer.
    b.click("#ticket-SEC-666 th a").await;
    b.wait_for("#drawer #drawer-title").await;
    assert_eq!(b.text("#drawer-title").await, "SEC-666");
    b.screenshot("12-ticket-drawer").await;

    // Operations.
    b.client.goto(&s.url("/operations")).await.unwrap();
    b.wait_for("#jobs").await;
    b.screenshot("13-operations").await;

    // A narrow window still shows the tickets.
    b.client.set_window_size(420, 800).await.unwrap();
    b.client.goto(&s.url("/tickets")).await.unwrap();
    b.wait_for("#ticket-SEC-666 .work-item-link").await;
    b.wait_until(
        "the narrow page does not scroll sideways",
        "return document.documentElement.scrollWidth <= window.innerWidth;",
    )
    .await;
    b.screenshot("14-narrow").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_needs_its_token_and_refuses_a_form_without_the_csrf_token() {
    let s = Setup::new("console-security");
    put_ticket(&s.options.state, plain_ticket("SEC-300", "HIGH"));
    std::fs::write(
        &s.options.config,
        format!(
            "[connection]\nbase_url = \"{}\"\nproject = \"{}\"\nauth = \"pat\"\n",
            s.emu.org_url(),
            seed::PROJECT
        ),
    )
    .unwrap();
    std::fs::write(&s.options.secrets, format!("pat = \"{}\"\n", seed::PAT)).unwrap();
    std::fs::write(
        s.options.outegrations.join("bugs.json"),
        common::agile_bug_config(),
    )
    .unwrap();
    let b = Browser::start().await;

    // Every page sends a visitor without a session to the login.
    for path in ["/", "/tickets", "/operations", "/wizard/auth"] {
        b.client.goto(&s.url(path)).await.unwrap();
        b.wait_path("/login").await;
    }
    b.fill("#token", "not-the-token").await;
    b.click("#login").await;
    b.wait_for("#login-error").await;
    assert_eq!(b.path().await, "/login");
    s.login(&b).await;
    let cookie = b.client.get_named_cookie("console_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");

    // A form built without the CSRF token, posted from the logged-in browser, is refused.
    b.client.goto(&s.url("/tickets")).await.unwrap();
    assert!(b.has("#ticket-SEC-300 .create-ticket").await);
    b.client
        .execute(
            "const f = document.createElement('form'); f.method = 'post'; f.action = '/tickets/SEC-300/dispatch';
             const i = document.createElement('input'); i.name = 'outegration'; i.value = 'bugs'; f.appendChild(i);
             document.body.appendChild(f); f.submit(); return true;",
            vec![],
        )
        .await
        .unwrap();
    b.wait_until(
        "the forged form's answer",
        "return document.body.innerText.includes('CSRF');",
    )
    .await;
    assert!(
        s.db().link("SEC-300").unwrap().is_none(),
        "nothing was dispatched"
    );
    assert!(
        s.db()
            .jobs(&[
                ticketing_host::state::db::JobState::Done,
                ticketing_host::state::db::JobState::Pending
            ])
            .unwrap()
            .is_empty()
    );

    // The page's own form, with its token, dispatches.
    b.client.goto(&s.url("/tickets")).await.unwrap();
    b.click("#ticket-SEC-300 .create-ticket").await;
    b.wait_for("#ticket-SEC-300 .work-item-link").await;
    assert!(s.db().link("SEC-300").unwrap().is_some());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_dispatch_shows_on_the_operations_page_and_is_discarded_there() {
    let s = Setup::new("console-operations");
    put_ticket(&s.options.state, plain_ticket("SEC-400", "HIGH"));
    std::fs::write(
        &s.options.config,
        format!(
            "[connection]\nbase_url = \"{}\"\nproject = \"{}\"\nauth = \"pat\"\n",
            s.emu.org_url(),
            seed::PROJECT
        ),
    )
    .unwrap();
    std::fs::write(&s.options.secrets, format!("pat = \"{}\"\n", seed::PAT)).unwrap();
    // A config naming a work item type the project does not have: ADO's answer is permanent.
    let mut config: Value = serde_json::from_str(&common::agile_bug_config()).unwrap();
    config["work_item_type"] = json!("Epic Saga");
    std::fs::write(
        s.options.outegrations.join("sagas.json"),
        config.to_string(),
    )
    .unwrap();
    let b = Browser::start().await;
    s.login(&b).await;

    b.client.goto(&s.url("/tickets")).await.unwrap();
    b.click("#ticket-SEC-400 .create-ticket").await;
    let error = b.text("#error-message").await;
    assert!(
        error.contains("Epic Saga"),
        "the failure names the type: {error}"
    );
    let failed = s
        .db()
        .jobs(&[ticketing_host::state::db::JobState::Failed])
        .unwrap();
    assert_eq!(failed.len(), 1, "the dispatch is a failed outbox job");

    b.client.goto(&s.url("/operations")).await.unwrap();
    let row = format!("#job-{}", failed[0].id);
    assert_eq!(b.text(&format!("{row} .state")).await, "failed");
    b.screenshot("15-operations-failed-job").await;
    b.click(&format!("{row} .discard")).await;
    let out = b.text("#action-output").await;
    assert!(out.contains("discarded"), "{out}");
    assert!(!b.has(&row).await);
    assert!(
        s.db()
            .jobs(&[ticketing_host::state::db::JobState::Failed])
            .unwrap()
            .is_empty()
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_refuses_an_area_path_that_names_no_node_of_the_project_naming_the_field() {
    let s = Setup::new("console-area");
    std::fs::write(
        &s.options.config,
        format!(
            "[connection]\nbase_url = \"{}\"\nproject = \"{}\"\nauth = \"pat\"\n",
            s.emu.org_url(),
            seed::PROJECT
        ),
    )
    .unwrap();
    std::fs::write(&s.options.secrets, format!("pat = \"{}\"\n", seed::PAT)).unwrap();
    let b = Browser::start().await;
    s.login(&b).await;
    b.click("#new-outegration").await;
    b.wait_path("/wizard/auth").await;
    b.client.goto(&s.url("/wizard/settings")).await.unwrap();
    b.fill("#name", "payments").await;
    b.select("#work_item_type", "Bug").await;
    let area = format!("{}\\Payments", seed::PROJECT);
    b.fill("#area_path", &area).await;
    b.click("#settings-next").await;
    b.wait_path("/wizard/mapping").await;

    // The project has no area `Payments`: Save names the member and the path.
    b.client.goto(&s.url("/wizard/sync")).await.unwrap();
    b.click("#save").await;
    b.wait_for("#save-result").await;
    let doc = b.document().await;
    assert_eq!(texts(&doc, "main h1"), vec!["Not saved"]);
    let issues = texts(&doc, "#save-result li");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(
        issues[0].starts_with("$.area_path [tree-path]") && issues[0].contains(&area),
        "{issues:?}"
    );
    assert!(!s.options.outegrations.join("payments.json").exists());

    // Once the area exists in ADO, the same draft saves.
    common::ado(
        &s.emu,
        "POST",
        &format!(
            "{}/_apis/wit/classificationnodes/Areas?api-version=7.1",
            seed::PROJECT.replace(' ', "%20")
        ),
        "application/json",
        Some(json!({"name": "Payments"})),
    );
    b.client.goto(&s.url("/wizard/sync")).await.unwrap();
    b.click("#save").await;
    let saved = b.text("#save-result").await;
    assert!(saved.contains("payments.json"), "{saved}");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(s.options.outegrations.join("payments.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(file["area_path"], json!(area));
    b.close().await;
}
