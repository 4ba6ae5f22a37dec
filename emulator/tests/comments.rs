//! Work item comments (api-version 7.1-preview.4): add, paging, get,
//! edit, soft delete, and their effect on the work item.

mod common;

use ado_emulator::seed;
use common::{Client, title};
use serde_json::json;

const V: &str = "api-version=7.1-preview.4";

fn comments_url(c: &Client, id: i64) -> String {
    format!("{}/_apis/wit/workItems/{id}/comments", c.agile())
}

#[test]
fn adding_a_comment_makes_a_revision_that_counts_it() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("x")]));
    let added = c.json(
        "POST",
        &format!("{}?{V}", comments_url(&c, id)),
        &json!({"text": "Moving to the right area path"}),
    );
    assert_eq!(added.status, 200, "{}", added.text());
    let comment = added.json();
    assert_eq!(comment["workItemId"], id);
    assert!(comment["id"].is_i64());
    assert_eq!(comment["version"], 1);
    assert_eq!(comment["text"], "Moving to the right area path");
    assert_eq!(comment["format"], "html");
    assert_eq!(comment["isDeleted"], false);
    assert_eq!(comment["createdBy"]["displayName"], seed::USER_NAME);
    assert_eq!(comment["modifiedBy"]["uniqueName"], seed::USER_EMAIL);
    assert!(
        comment["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/workItems/{id}/comments/{}", comment["id"]))
    );

    let item = c.item(id).json();
    assert_eq!(item["rev"], 2);
    assert_eq!(item["fields"]["System.CommentCount"], 1);
    assert_eq!(
        item["fields"]["System.History"],
        "Moving to the right area path"
    );
    let update = c
        .get(&format!(
            "{}/_apis/wit/workItems/{id}/updates/2?api-version=7.1",
            c.agile()
        ))
        .json();
    assert_eq!(
        update["fields"]["System.CommentCount"],
        json!({"oldValue": 0, "newValue": 1})
    );
    assert_eq!(
        c.json(
            "POST",
            &format!("{}?{V}", comments_url(&c, 999)),
            &json!({"text": "x"})
        )
        .status,
        404
    );
    assert_eq!(
        c.json(
            "POST",
            &format!("{}?{V}", comments_url(&c, id)),
            &json!({"text": "  "})
        )
        .status,
        400
    );
}

#[test]
fn markdown_comments_keep_their_text_and_render_html() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("x")]));
    let added = c
        .json(
            "POST",
            &format!("{}?format=markdown&{V}", comments_url(&c, id)),
            &json!({"text": "**Fixed** in `v2`"}),
        )
        .json();
    assert_eq!(added["format"], "markdown");
    assert_eq!(added["text"], "**Fixed** in `v2`");
    assert_eq!(
        added["renderedText"],
        "<p><strong>Fixed</strong> in <code>v2</code></p>"
    );
    let plain = c
        .get(&format!("{}/{}?{V}", comments_url(&c, id), added["id"]))
        .json();
    assert!(
        plain.get("renderedText").is_none(),
        "renderedText only when expanded"
    );
    let expanded = c
        .get(&format!(
            "{}/{}?$expand=renderedText&{V}",
            comments_url(&c, id),
            added["id"]
        ))
        .json();
    assert_eq!(expanded["renderedText"], added["renderedText"]);
    assert_eq!(
        c.json(
            "POST",
            &format!("{}?format=rtf&{V}", comments_url(&c, id)),
            &json!({"text": "x"})
        )
        .status,
        400
    );
}

#[test]
fn comments_page_newest_first_with_a_continuation_token() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("x")]));
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(
            c.json(
                "POST",
                &format!("{}?{V}", comments_url(&c, id)),
                &json!({"text": format!("comment {n}")}),
            )
            .json()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let first = c
        .get(&format!("{}?$top=2&{V}", comments_url(&c, id)))
        .json();
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["count"], 2);
    let page: Vec<i64> = first["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(page, [ids[4], ids[3]]);
    let token = first["continuationToken"].as_str().expect("token");
    assert!(first["nextPage"].as_str().unwrap().contains(token));
    let second = c
        .get(&format!(
            "{}?$top=2&continuationToken={token}&{V}",
            comments_url(&c, id)
        ))
        .json();
    assert_eq!(second["comments"][0]["id"], ids[2]);
    let last = c
        .get(&format!(
            "{}?$top=2&continuationToken={}&{V}",
            comments_url(&c, id),
            second["continuationToken"].as_str().unwrap()
        ))
        .json();
    assert_eq!(last["count"], 1);
    assert!(last.get("continuationToken").is_none());
    let ascending = c
        .get(&format!("{}?order=asc&{V}", comments_url(&c, id)))
        .json();
    assert_eq!(ascending["comments"][0]["id"], ids[0]);
    let chosen = c
        .get(&format!(
            "{}?ids={},{}&{V}",
            comments_url(&c, id),
            ids[0],
            ids[1]
        ))
        .json();
    assert_eq!(chosen["count"], 2);
}

#[test]
fn editing_makes_a_new_version_and_delete_is_soft() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("x")]));
    let cid = c
        .json(
            "POST",
            &format!("{}?{V}", comments_url(&c, id)),
            &json!({"text": "first"}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let url = format!("{}/{cid}", comments_url(&c, id));
    let edited = c.json("PATCH", &format!("{url}?{V}"), &json!({"text": "second"}));
    assert_eq!(edited.status, 200, "{}", edited.text());
    assert_eq!(edited.json()["version"], 2);
    assert_eq!(edited.json()["text"], "second");
    assert_eq!(c.get(&format!("{url}?{V}")).json()["text"], "second");

    let deleted = c.delete(&format!("{url}?{V}"));
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(deleted.json()["isDeleted"], true);
    assert_eq!(
        deleted.json()["version"],
        3,
        "the delete sample shows a new version"
    );
    assert_eq!(c.get(&format!("{url}?{V}")).status, 404);
    assert_eq!(
        c.get(&format!("{url}?includeDeleted=true&{V}")).json()["isDeleted"],
        true
    );
    assert_eq!(
        c.get(&format!("{}?{V}", comments_url(&c, id))).json()["totalCount"],
        0
    );
    assert_eq!(
        c.get(&format!("{}?includeDeleted=true&{V}", comments_url(&c, id)))
            .json()["totalCount"],
        1
    );
    assert_eq!(c.item(id).json()["fields"]["System.CommentCount"], 0);
    assert_eq!(
        c.delete(&format!("{}/{}?{V}", comments_url(&c, id), cid + 100))
            .status,
        404
    );
}

#[test]
fn comments_need_a_preview_api_version() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("x")]));
    let answer = c.json(
        "POST",
        &format!("{}?api-version=7.1", comments_url(&c, id)),
        &json!({"text": "x"}),
    );
    // ADO's answer, no code (wangkanai/devops-mcp#45; FIDELITY.md).
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json()["message"],
        "The requested version \"7.1\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"7.1-preview\""
    );
    assert_eq!(
        answer.json()["typeKey"],
        "VssInvalidPreviewVersionException"
    );
    assert_eq!(c.item(id).json()["rev"], 1, "nothing was added");
}

/// A comment body without `text` (an array of comments, as Microsoft's 5.1
/// sample showed) is refused with ADO's 400 "You must provide a value for
/// the text parameter." (MicrosoftDocs/vsts-rest-api-specs#482, #313;
/// FIDELITY.md).
#[test]
fn a_comment_body_without_text_is_refused_with_ados_text() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("x")]));
    for body in [
        json!([{"text": "Moving to the right area path"}]),
        json!({}),
    ] {
        let answer = c.json("POST", &format!("{}?{V}", comments_url(&c, id)), &body);
        assert_eq!(answer.status, 400, "{body}: {}", answer.text());
        assert_eq!(
            answer.json()["message"],
            "You must provide a value for the text parameter."
        );
        assert_eq!(answer.json()["typeKey"], "VssPropertyValidationException");
    }
    assert_eq!(c.item(id).json()["rev"], 1, "nothing was added");
}
