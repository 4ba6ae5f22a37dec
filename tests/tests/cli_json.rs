//! `--json`: every command that prints data prints one JSON document with
//! the shape README's "Machine-readable output" documents, read back here
//! with serde_json and compared with what the emulator and the state
//! database hold. The real plugin, an in-process emulator, and
//! `cli::run_with` as the binary runs it.

use crate::common;

use clap::Parser as _;
use common::cli_env::{Env, example};
use common::seed;
use serde_json::Value;

/// Runs `args` with `--json`: the command's result and its standard
/// output, which must be exactly one JSON document.
fn json(env: &Env, args: &[&str]) -> (anyhow::Result<()>, Value) {
    let mut argv = env.argv();
    argv.push("--json".into());
    argv.extend(args.iter().map(|a| a.to_string()));
    let cli = ticketing_host::cli::Cli::parse_from(argv);
    let mut out = Vec::new();
    let result = ticketing_host::cli::run_with(&cli, common::host(), &mut out);
    let text = String::from_utf8(out).expect("UTF-8 output");
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "`{}` printed no single JSON document ({e}):\n{text}",
            args.join(" ")
        )
    });
    (result, doc)
}

/// [`json`] for a command that must succeed.
fn ok(env: &Env, args: &[&str]) -> Value {
    let (result, doc) = json(env, args);
    if let Err(e) = result {
        panic!("`{}` failed: {e:#}\n{doc:#}", args.join(" "));
    }
    doc
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn agile_bug() -> String {
    example("outegrations/agile-bug.json")
}

/// `dispatch --json` of an example ticket file, which must succeed.
fn dispatch(env: &Env, ticket: &str) -> Value {
    let file = example(&format!("tickets/{ticket}.json"));
    ok(env, &["dispatch", "--outegration", &agile_bug(), &file])
}

#[test]
fn dispatch_links_and_ticket_list_name_the_work_item_the_emulator_created() {
    let env = Env::new();
    let imported = ok(
        &env,
        &["ticket", "import", &example("tickets/SEC-102.json")],
    );
    assert_eq!(imported["imported"][0]["ticket_id"], "SEC-102");

    let doc = ok(
        &env,
        &["dispatch", "--outegration", &agile_bug(), "SEC-102"],
    );
    assert_eq!(keys(&doc), ["failed", "results", "succeeded"]);
    assert_eq!(
        (doc["succeeded"].as_u64(), doc["failed"].as_u64()),
        (Some(1), Some(0))
    );
    let r = &doc["results"][0];
    assert_eq!(
        keys(r),
        [
            "adopted",
            "error",
            "ok",
            "rev",
            "ticket_id",
            "web_url",
            "work_item_id"
        ]
    );
    assert_eq!(r["ticket_id"], "SEC-102");
    assert_eq!(r["ok"], true);
    assert_eq!(r["adopted"], false);
    assert!(r["error"].is_null(), "{r}");
    let id = r["work_item_id"].as_i64().expect("a work item id") as i32;
    let item = env
        .emu
        .work_item(id)
        .expect("the work item exists in the emulator");
    assert_eq!(r["rev"], item["rev"]);
    assert!(
        item["fields"]["System.Title"]
            .as_str()
            .is_some_and(|t| t.contains("Outdated OpenSSL 1.1.1")),
        "the work item is the ticket's: {item}"
    );

    let links = ok(&env, &["links"]);
    let l = &links["links"][0];
    assert_eq!(links["links"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        keys(l),
        [
            "outegration",
            "project",
            "rev",
            "ticket_id",
            "url",
            "web_url",
            "work_item_id",
            "work_item_type"
        ]
    );
    assert_eq!(l["ticket_id"], "SEC-102");
    assert_eq!(l["work_item_id"], id);
    assert_eq!(l["rev"], item["rev"]);
    assert_eq!(l["project"], ok(&env, &["test-connection"])["project_id"]);
    assert_eq!(l["work_item_type"], "Bug");
    assert_eq!(l["web_url"], r["web_url"]);

    let list = ok(&env, &["ticket", "list"]);
    assert_eq!(list["tickets"][0]["id"], "SEC-102");
    assert_eq!(list["tickets"][0]["work_item_id"], id);

    let shown = ok(&env, &["ticket", "show", "SEC-102"]);
    assert_eq!(shown["id"], "SEC-102");
}

#[test]
fn a_refused_dispatch_prints_ok_false_with_the_error_and_fails() {
    let env = Env::new();
    let (result, doc) = json(
        &env,
        &[
            "dispatch",
            "--outegration",
            &agile_bug(),
            &example("tickets/SEC-103.json"),
        ],
    );
    assert!(result.is_err(), "a failed ticket fails the command: {doc}");
    assert_eq!(
        (doc["succeeded"].as_u64(), doc["failed"].as_u64()),
        (Some(0), Some(1))
    );
    let r = &doc["results"][0];
    assert_eq!(r["ticket_id"], "SEC-103");
    assert_eq!(r["ok"], false);
    for k in ["work_item_id", "rev", "web_url", "adopted"] {
        assert!(r[k].is_null(), "{k} is null on a failure: {r}");
    }
    let error = r["error"].as_str().expect("the error as text");
    assert!(
        error.contains("severity"),
        "the error names the field: {error}"
    );
    assert_eq!(env.db().link("SEC-103").unwrap(), None);
}

#[test]
fn a_ticket_list_of_an_empty_store_is_an_empty_array() {
    let env = Env::new();
    assert_eq!(
        ok(&env, &["ticket", "list"])["tickets"],
        serde_json::json!([])
    );
    assert_eq!(ok(&env, &["links"])["links"], serde_json::json!([]));
    assert_eq!(ok(&env, &["jobs"])["jobs"], serde_json::json!([]));
}

#[test]
fn sync_close_and_reopen_report_each_ticket_with_its_new_rev_and_transition() {
    let env = Env::new();
    let d = dispatch(&env, "SEC-101");
    let id = d["results"][0]["work_item_id"].as_i64().unwrap() as i32;
    let rev = d["results"][0]["rev"].as_i64().unwrap();

    ok(&env, &["ticket", "set", "SEC-101", "severity=HIGH"]);
    let s = ok(&env, &["sync", "SEC-101"]);
    let r = &s["results"][0];
    assert_eq!(
        keys(r),
        [
            "comments_posted",
            "conflicts",
            "error",
            "fields_sent",
            "ok",
            "rev",
            "ticket_id",
            "transition",
            "triggers_posted",
            "work_item_id"
        ]
    );
    assert_eq!(r["ok"], true);
    assert_eq!(r["work_item_id"], id);
    assert!(r["rev"].as_i64().unwrap() > rev, "{r}");
    assert_eq!(r["rev"], env.emu.work_item(id).unwrap()["rev"]);
    assert!(
        r["fields_sent"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "Microsoft.VSTS.Common.Priority"),
        "the changed severity is sent as the priority: {r}"
    );
    assert_eq!(r["conflicts"], serde_json::json!([]));

    let c = ok(&env, &["close", "SEC-101"]);
    let r = &c["results"][0];
    assert_eq!(r["ok"], true);
    assert_eq!(r["changed"], true);
    let state = env.emu.work_item(id).unwrap()["fields"]["System.State"].clone();
    assert_eq!(r["transition"]["to"], state, "{r}");
    assert_eq!(r["rev"], env.emu.work_item(id).unwrap()["rev"]);

    let again = ok(&env, &["close", "--bulk", "--all"]);
    let r = &again["results"][0];
    assert_eq!(
        (r["ok"].as_bool(), r["changed"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(r["transition"].is_null());

    let o = ok(&env, &["reopen", "SEC-101"]);
    let r = &o["results"][0];
    assert_eq!(r["changed"], true);
    assert_eq!(r["transition"]["from"], state);
    assert_eq!(
        r["transition"]["to"],
        env.emu.work_item(id).unwrap()["fields"]["System.State"]
    );

    let (result, doc) = json(&env, &["sync", "NOPE-1"]);
    assert!(result.is_err());
    assert_eq!(doc["results"][0]["ok"], false);
    assert_eq!(doc["results"][0]["fields_sent"], serde_json::json!([]));
    assert!(doc["results"][0]["error"].is_string());
}

#[test]
fn test_connection_and_schema_print_what_the_project_holds() {
    let env = Env::new();
    let c = ok(&env, &["test-connection"]);
    assert_eq!(c["project_name"], seed::PROJECT);
    assert_eq!(c["deployment"], "services");
    assert!(c["user"]["display_name"].is_string(), "{c}");
    assert!(
        c.get("process_template").is_some(),
        "present even when null: {c}"
    );

    let types = ok(&env, &["schema", "types"]);
    let bug = types["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Bug")
        .expect("the Agile project has Bug");
    assert_eq!(
        keys(bug),
        ["description", "is_disabled", "name", "reference_name"]
    );
    assert_eq!(bug["reference_name"], "Microsoft.VSTS.WorkItemTypes.Bug");

    let fields = ok(&env, &["schema", "fields", "Bug"]);
    let title = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["reference_name"] == "System.Title")
        .expect("Bug has a title");
    assert_eq!(title["required"], true);
    assert!(title["allowed_values"].is_array());

    let states = ok(&env, &["schema", "states", "Bug"]);
    let states = states["states"].as_array().unwrap();
    let initial: Vec<&Value> = states.iter().filter(|s| s["initial"] == true).collect();
    assert_eq!(initial.len(), 1, "one initial state: {states:?}");
    assert_eq!(initial[0]["name"], "New");
    assert!(
        states
            .iter()
            .any(|s| s["name"] == "Closed" && s["category"] == "completed"),
        "{states:?}"
    );
}

#[test]
fn preview_prints_the_patch_document_and_fails_on_a_problem() {
    let env = Env::new();
    let p = ok(
        &env,
        &[
            "preview",
            "--outegration",
            &agile_bug(),
            &example("tickets/SEC-102.json"),
        ],
    );
    assert_eq!(
        keys(&p),
        ["attachment", "body", "method", "problems", "url"]
    );
    assert_eq!(p["problems"], serde_json::json!([]));
    // agile-bug.json attaches the findings as XLSX: the preview names the
    // file and gives its size (the console test compares it with the file
    // the dispatch uploads).
    let file = &p["attachment"];
    assert!(
        file["file_name"]
            .as_str()
            .is_some_and(|n| n.ends_with(".xlsx")),
        "{file}"
    );
    assert!(file["size"].as_u64().is_some_and(|n| n > 0), "{file}");
    let ops = p["body"]
        .as_array()
        .expect("the body as a JSON Patch array");
    assert!(
        ops.iter()
            .any(|op| op["path"] == "/fields/System.Title" && op["op"] == "add"),
        "{ops:?}"
    );

    let (result, p) = json(
        &env,
        &[
            "preview",
            "--outegration",
            &agile_bug(),
            &example("tickets/SEC-103.json"),
        ],
    );
    assert!(result.is_err(), "a problem fails the preview: {p}");
    let problems = p["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    assert_eq!(keys(&problems[0]), ["message", "path", "rule"]);
}

#[test]
fn jobs_list_the_finished_dispatch_and_jobs_run_reports_an_empty_outbox() {
    let env = Env::new();
    let d = dispatch(&env, "SEC-102");
    let all = ok(&env, &["jobs", "--all"]);
    let job = &all["jobs"][0];
    assert_eq!(
        keys(job),
        [
            "attempts",
            "created_at",
            "id",
            "kind",
            "last_error",
            "next_at",
            "state",
            "ticket_id",
            "updated_at"
        ]
    );
    assert_eq!(job["kind"], "dispatch");
    assert_eq!(job["ticket_id"], "SEC-102");
    assert_eq!(job["state"], "done");
    assert!(job["last_error"].is_null());
    assert_eq!(
        ok(&env, &["jobs"])["jobs"],
        serde_json::json!([]),
        "nothing open"
    );

    let run = ok(&env, &["jobs", "run"]);
    assert_eq!(run["results"], serde_json::json!([]));
    assert_eq!(
        (run["failed"].as_u64(), run["dead_or_failed"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(d["results"][0]["ok"] == true);
}

#[test]
fn rules_check_prints_the_plan_without_creating_anything() {
    let env = Env::new();
    let rules = env.write(
        "rules.toml",
        &format!(
            "[outegrations.bugs]\nconfig = {:?}\n\n[[rules]]\nname = \"critical\"\noutegration = \"bugs\"\nwhen = {{ severity_at_least = \"critical\" }}\n",
            agile_bug()
        ),
    );
    ok(
        &env,
        &["ticket", "import", &example("tickets/SEC-101.json")],
    );
    let plan = ok(&env, &["--rules", &rules, "rules", "check"]);
    assert_eq!(keys(&plan), ["plan", "summary"]);
    let p = &plan["plan"][0];
    assert_eq!(
        keys(p),
        ["action", "outegration", "reason", "rule", "ticket_id"]
    );
    assert_eq!(p["ticket_id"], "SEC-101");
    assert_eq!(p["action"], "create");
    assert_eq!(p["outegration"], "bugs");
    assert!(p["reason"].is_null());
    assert_eq!(plan["summary"]["create"], 1);
    assert_eq!(plan["summary"]["unmatched"], 0);
    assert_eq!(env.db().link("SEC-101").unwrap(), None, "nothing was sent");
}

#[test]
fn subscribe_and_subscriptions_list_the_enabled_subscriptions() {
    let env = Env::new();
    let s = ok(
        &env,
        &[
            "subscribe",
            "--outegration",
            &agile_bug(),
            "--public-url",
            "https://hooks.example",
        ],
    );
    let created = s["subscriptions"].as_array().unwrap();
    assert!(!created.is_empty());
    assert_eq!(
        keys(&created[0]),
        [
            "enabled",
            "event_type",
            "id",
            "outegration",
            "status",
            "url"
        ]
    );
    let listed = ok(&env, &["subscriptions"]);
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&listed), ids(&s));
    for sub in listed["subscriptions"].as_array().unwrap() {
        assert_eq!(sub["status"], "enabled");
        assert_eq!(sub["enabled"], true);
        assert!(
            sub["url"]
                .as_str()
                .unwrap()
                .starts_with("https://hooks.example/hooks/")
        );
    }
    assert_eq!(listed["not_enabled"], 0);
    assert_eq!(listed["resubscribed"], serde_json::json!([]));
    let gone = ok(&env, &["unsubscribe"]);
    let mut deleted: Vec<String> = gone["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    deleted.sort();
    assert_eq!(deleted, ids(&s));
}

#[test]
fn json_on_a_command_without_a_json_shape_is_a_usage_error() {
    let env = Env::new();
    let mut argv = env.argv();
    argv.extend(["--json", "ingest", "findings.sarif"].map(String::from));
    let cli = ticketing_host::cli::Cli::parse_from(argv);
    let mut out = Vec::new();
    let e = ticketing_host::cli::run_with(&cli, common::host(), &mut out)
        .expect_err("ingest has no --json output");
    assert!(
        e.downcast_ref::<ticketing_host::cli::UsageError>()
            .is_some(),
        "{e:#}"
    );
    assert!(out.is_empty(), "nothing on standard output");
    assert_eq!(ticketing_host::cli::exit_code(&Err(e)), 2);

    // `serve` is refused before anything loads or listens.
    let mut argv = env.argv();
    argv.extend(["--json", "serve", "--listen", "127.0.0.1:0"].map(String::from));
    let e = ticketing_host::cli::run(ticketing_host::cli::Cli::parse_from(argv))
        .expect_err("serve has no --json output");
    assert!(
        e.downcast_ref::<ticketing_host::cli::UsageError>()
            .is_some(),
        "{e:#}"
    );
}

#[test]
fn exit_codes_are_0_on_success_1_on_a_failed_ticket_and_2_on_a_usage_error() {
    let env = Env::new();
    let (result, _) = json(&env, &["links"]);
    assert_eq!(ticketing_host::cli::exit_code(&result), 0);
    let (result, _) = json(&env, &["dispatch", "--outegration", &agile_bug(), "NOPE-1"]);
    assert_eq!(ticketing_host::cli::exit_code(&result), 1);
    // clap's own usage errors exit with 2 (`Cli::parse` exits with the error's code).
    let e =
        ticketing_host::cli::Cli::try_parse_from(["ticketing-host", "--json", "no-such-command"])
            .expect_err("an unknown command");
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn human_output_stays_the_default() {
    let env = Env::new();
    let (ok, out) = env.run(&["links"]);
    assert!(ok);
    assert!(out.starts_with("ticket "), "the table header: {out}");
    assert!(serde_json::from_str::<Value>(&out).is_err());
}

#[test]
fn a_parallel_dispatch_reports_every_ticket_in_the_order_given() {
    let env = Env::new();
    let doc = ok(
        &env,
        &[
            "dispatch",
            "--outegration",
            &agile_bug(),
            "-j",
            "2",
            &example("tickets/SEC-101.json"),
            &example("tickets/SEC-102.json"),
        ],
    );
    let results = doc["results"].as_array().unwrap();
    let tickets: Vec<&str> = results
        .iter()
        .map(|r| r["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(tickets, ["SEC-101", "SEC-102"]);
    for r in results {
        let id = r["work_item_id"].as_i64().unwrap() as i32;
        assert_eq!(r["rev"], env.emu.work_item(id).expect("created")["rev"]);
    }
    assert_eq!(doc["succeeded"], 2);
}

#[test]
fn a_dead_letter_is_listed_with_its_error_and_a_retry_reports_the_work_item() {
    let env = Env::new();
    // Nothing listens on port 1: the dispatch fails and, with one attempt
    // allowed, its job is a dead letter.
    env.point_at("http://127.0.0.1:1/org");
    let (result, d) = json(
        &env,
        &[
            "--max-attempts",
            "1",
            "dispatch",
            "--outegration",
            &agile_bug(),
            &example("tickets/SEC-102.json"),
        ],
    );
    assert!(result.is_err());
    assert_eq!(d["results"][0]["ok"], false);
    let listed = ok(&env, &["jobs"]);
    let job = &listed["jobs"][0];
    assert_eq!(job["kind"], "dispatch");
    assert!(
        job["state"] == "dead" || job["state"] == "failed",
        "a dead or failed job: {job}"
    );
    assert!(job["last_error"].is_string(), "{job}");
    let job_id = job["id"].as_i64().unwrap();

    env.point_at(&env.emu.org_url());
    let retried = ok(&env, &["jobs", "retry", &job_id.to_string()]);
    let r = &retried["results"][0];
    assert_eq!(r["job_id"], job_id);
    assert_eq!(r["ok"], true);
    assert_eq!(r["state"], "done");
    assert_eq!(r["ticket_id"], "SEC-102");
    let link = env
        .db()
        .link("SEC-102")
        .unwrap()
        .expect("linked by the retry");
    assert_eq!(r["work_item_id"], link.link.work_item_id);
    assert!(env.emu.work_item(link.link.work_item_id).is_some());
    assert!(r["error"].is_null());
}
