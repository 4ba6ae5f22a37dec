//! WIQL over HTTP: the answer's shape, the operators and macros, ordering,
//! `$top`, scopes, and ADO's errors for malformed queries.

mod common;

use ado_emulator::seed;
use common::{Client, field, title};
use serde_json::{Value, json};

fn query(c: &Client, scope: &str, wiql: &str) -> common::Answer {
    c.json(
        "POST",
        &format!("{scope}/_apis/wit/wiql?api-version=7.1"),
        &json!({"query": wiql}),
    )
}

fn ids(answer: &common::Answer) -> Vec<i64> {
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["workItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect()
}

/// Three Agile items: (Bug, P1, tags secops; cve), (Bug, P3, tag triage), (Task, P2).
fn seeded(c: &Client) -> (i64, i64, i64) {
    let a = c.new_item(
        "Bug",
        &json!([
            title("SQL injection in login"),
            field("Microsoft.VSTS.Common.Priority", json!(1)),
            field("System.Tags", json!("secops; cve"))
        ]),
    );
    let b = c.new_item(
        "Bug",
        &json!([
            title("Typo on the about page"),
            field("Microsoft.VSTS.Common.Priority", json!(3)),
            field("System.Tags", json!("triage"))
        ]),
    );
    let t = c.new_item(
        "Task",
        &json!([
            title("Rotate the login keys"),
            field("System.AssignedTo", json!(seed::USER_EMAIL))
        ]),
    );
    (a, b, t)
}

#[test]
fn wiql_answers_ids_and_urls_in_the_sample_shape() {
    let c = Client::new();
    let (a, b, _) = seeded(&c);
    let answer = query(
        &c,
        &c.agile(),
        "Select [System.Id], [System.Title], [State] From WorkItems Where [System.WorkItemType] = 'Bug' order by [Microsoft.VSTS.Common.Priority] desc",
    );
    assert_eq!(ids(&answer), [b, a]);
    let body = answer.json();
    assert_eq!(body["queryType"], "flat");
    assert!(body["asOf"].is_string());
    assert_eq!(body["columns"][2]["referenceName"], "System.State");
    assert_eq!(body["columns"][2]["name"], "State");
    assert_eq!(
        body["sortColumns"][0],
        json!({"field": body["sortColumns"][0]["field"].clone(), "descending": true})
    );
    assert_eq!(
        body["workItems"][0],
        json!({"id": b, "url": format!("{}/_apis/wit/workItems/{b}", c.org())})
    );
    assert!(
        body["workItems"][0].get("fields").is_none(),
        "ids and URLs only"
    );
}

#[test]
fn comparisons_and_boolean_logic_pick_the_right_items() {
    let c = Client::new();
    let (a, b, t) = seeded(&c);
    let scope = c.agile();
    let cases: &[(&str, Vec<i64>)] = &[
        ("[Microsoft.VSTS.Common.Priority] >= 2", vec![b, t]),
        (
            "[Microsoft.VSTS.Common.Priority] < 3 AND [System.WorkItemType] <> 'Task'",
            vec![a],
        ),
        (
            "[Microsoft.VSTS.Common.Priority] <= 1 OR [System.WorkItemType] = 'task'",
            vec![a, t],
        ),
        (
            "([System.Title] CONTAINS 'login' OR [System.Tags] CONTAINS 'triage') AND [System.WorkItemType] = 'Bug'",
            vec![a, b],
        ),
        ("NOT [System.Title] CONTAINS 'login'", vec![b]),
        ("[System.Title] NOT CONTAINS 'LOGIN'", vec![b]),
        ("[System.Tags] CONTAINS 'cve'", vec![a]),
        ("[System.Tags] NOT CONTAINS 'secops'", vec![b, t]),
        ("[System.Title] CONTAINS WORDS 'keys'", vec![t]),
        ("[System.Id] IN (1, 3)", vec![a, t]),
        ("[System.State] NOT IN ('Active', 'Closed')", vec![a, b, t]),
        ("[System.AreaPath] UNDER 'Fabrikam Security'", vec![a, b, t]),
        (
            "[System.TeamProject] = @project AND [System.AssignedTo] = @me",
            vec![t],
        ),
        (
            &format!(
                "[Assigned To] = '{} <{}>'",
                seed::USER_NAME,
                seed::USER_EMAIL
            ),
            vec![t],
        ),
        (
            "[System.CreatedDate] >= @today - 1 AND [System.ChangedDate] <= @today",
            vec![a, b, t],
        ),
        ("[System.CreatedDate] < @today", vec![]),
        (
            "[System.CreatedDate] > '2020-01-01T00:00:00Z'",
            vec![a, b, t],
        ),
    ];
    for (condition, expected) in cases {
        let answer = query(
            &c,
            &scope,
            &format!("SELECT [System.Id] FROM WorkItems WHERE {condition}"),
        );
        assert_eq!(&ids(&answer), expected, "{condition}");
    }
}

#[test]
fn order_by_several_keys_and_top_limit_the_answer() {
    let c = Client::new();
    let (a, b, t) = seeded(&c);
    let wiql =
        "SELECT [System.Id] FROM WorkItems ORDER BY [System.WorkItemType] ASC, [System.Id] DESC";
    assert_eq!(ids(&query(&c, &c.agile(), wiql)), [b, a, t]);
    let top = c.json(
        "POST",
        &format!("{}/_apis/wit/wiql?$top=2&api-version=7.1", c.agile()),
        &json!({"query": wiql}),
    );
    assert_eq!(ids(&top), [b, a]);
}

#[test]
fn project_macro_scopes_to_the_route_project_and_needs_one() {
    let c = Client::new();
    let (a, b, t) = seeded(&c);
    let scrum = c
        .create_in(
            &c.project(seed::PROJECT_SCRUM),
            "Task",
            &json!([title("scrum task")]),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let all = "SELECT [System.Id] FROM WorkItems";
    assert_eq!(
        ids(&query(&c, &c.org(), all)),
        [a, b, t, scrum],
        "organization-wide"
    );
    // Learn: "To query across all projects, delete the clause with the Team
    // Project field": a project route without the clause spans them all too.
    assert_eq!(
        ids(&query(&c, &c.project(seed::PROJECT_SCRUM), all)),
        [a, b, t, scrum],
        "no Team Project clause under a project route"
    );
    let scoped = "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project";
    assert_eq!(
        ids(&query(&c, &c.project(seed::PROJECT_SCRUM), scoped)),
        [scrum]
    );
    let team = c.json(
        "POST",
        &format!(
            "{}/{}%20Team/_apis/wit/wiql?api-version=7.1",
            c.project(seed::PROJECT_SCRUM),
            "Tailspin%20Scrum"
        ),
        &json!({"query": scoped}),
    );
    assert_eq!(ids(&team), [scrum], "the team segment form");
    let no_project = query(&c, &c.org(), scoped);
    assert_eq!(no_project.status, 400);
}

/// ADO's syntax errors read "Expecting ... The error is caused by «...»."
/// with no code (nkdAgility/azure-devops-migration-tools#388,
/// ostreifel/wiql-editor#55); an unknown field is TF51005 naming it in
/// brackets (nkdAgility/azure-devops-migration-tools#431; FIDELITY.md).
#[test]
fn malformed_queries_answer_expecting_text_and_unknown_fields_tf51005() {
    let c = Client::new();
    for bad in [
        "SELECT [System.Id] WorkItems",
        "SELECT [System.Id] FROM WorkItems WHERE [System.State] = 'New' AND",
        "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'open",
    ] {
        let answer = query(&c, &c.agile(), bad);
        assert_eq!(answer.status, 400, "{bad}");
        let message = answer.json()["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with("Expecting ") && message.contains(". The error is caused by «"),
            "{message}"
        );
        assert_eq!(answer.json()["$id"], "1");
    }
    let unknown = query(
        &c,
        &c.agile(),
        "SELECT [System.Id] FROM WorkItems WHERE [Custom.Nope] = 1",
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.code(), "TF51005");
    assert_eq!(
        unknown.json()["message"],
        "TF51005: The query references a field that does not exist. The error is caused by «[Custom.Nope]»."
    );
    let no_query = c.json(
        "POST",
        &format!("{}/_apis/wit/wiql?api-version=7.1", c.agile()),
        &json!({}),
    );
    assert_eq!(no_query.status, 400);
}

#[test]
fn deleted_items_are_never_returned() {
    let c = Client::new();
    let (a, b, t) = seeded(&c);
    assert_eq!(
        c.delete(&format!(
            "{}/_apis/wit/workitems/{b}?api-version=7.1",
            c.agile()
        ))
        .status,
        200
    );
    let answer = query(
        &c,
        &c.agile(),
        "SELECT [System.Id] FROM WorkItems WHERE [System.Id] > 0",
    );
    assert_eq!(ids(&answer), [a, t]);
    let body: Value = answer.json();
    assert_eq!(body["workItems"].as_array().unwrap().len(), 2);
}

/// `[unverified]` whole tag or part of one: both settings (`variants`).
#[test]
fn tag_contains_matches_whole_tags_or_parts_of_tags_as_the_setting_says() {
    use ado_emulator::variants::{TagMatch, Variants};
    for (how, want_part) in [(TagMatch::WholeTag, false), (TagMatch::Substring, true)] {
        let c = Client::with(ado_emulator::EmulatorConfig {
            variants: Variants {
                wiql_tags: how,
                ..Default::default()
            },
            ..Default::default()
        });
        let (a, _, _) = seeded(&c);
        let q = |tag: &str| {
            let wiql =
                format!("SELECT [System.Id] FROM WorkItems WHERE [System.Tags] CONTAINS '{tag}'");
            ids(&query(&c, &c.agile(), &wiql))
        };
        assert_eq!(q("secops"), [a], "{how:?}");
        let part = q("secop");
        assert_eq!(part == [a], want_part, "{how:?}: {part:?}");
    }
}

/// Microsoft's WIQL editor (microsoft/wiql-editor,
/// `extension/scripts/wiqlEditor/compiler/tokenPatterns.ts`) reads a string
/// as `'(?:[^']|'')*'` or `"(?:[^"]|"")*"`: a quote inside one is doubled.
#[test]
fn a_doubled_quote_inside_a_string_stands_for_one_quote() {
    let c = Client::new();
    let quoted = c.new_item("Bug", &json!([title("Bob's \"login\" bug")]));
    let _other = c.new_item("Bug", &json!([title("Bobs login bug")]));
    let scope = c.agile();
    for wiql in [
        "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'Bob''s \"login\" bug'",
        "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = \"Bob's \"\"login\"\" bug\"",
    ] {
        assert_eq!(ids(&query(&c, &scope, wiql)), [quoted], "{wiql}");
    }
    // A single quote left undoubled ends the string: what follows is not WIQL.
    let broken = query(
        &c,
        &scope,
        "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'Bob's login bug'",
    );
    assert_eq!(broken.status, 400, "{}", broken.text());
}
