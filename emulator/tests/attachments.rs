//! Attachments: upload, download, the size limit, and linking to a work item.

mod common;

use common::{Client, title};
use serde_json::json;

fn upload(c: &Client, scope: &str, name: &str, bytes: &[u8]) -> common::Answer {
    c.call(
        "POST",
        &format!("{scope}/_apis/wit/attachments?fileName={name}&api-version=7.1"),
        Some("application/octet-stream"),
        Some(bytes.to_vec()),
    )
}

#[test]
fn upload_answers_201_with_id_and_url_and_download_returns_the_bytes() {
    let c = Client::new();
    let content: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let answer = upload(&c, &c.agile(), "scan%20report.pdf", &content);
    assert_eq!(answer.status, 201, "{}", answer.text());
    let body = answer.json();
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        body["url"],
        format!(
            "{}/_apis/wit/attachments/{id}?fileName=scan%20report.pdf",
            c.org()
        )
    );

    let download = c.get(&format!(
        "{}/_apis/wit/attachments/{id}?download=true&api-version=7.1",
        c.org()
    ));
    assert_eq!(download.status, 200);
    assert_eq!(download.bytes, content);
    assert_eq!(
        download.headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    assert!(
        download
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"scan report.pdf\"")
    );
    let org_level = upload(&c, &c.org(), "notes.txt", b"User text content to upload");
    assert_eq!(org_level.status, 201);
    assert_eq!(
        c.get(&format!(
            "{}/_apis/wit/attachments/00000000-0000-0000-0000-000000000000",
            c.org()
        ))
        .status,
        404
    );
}

#[test]
fn uploads_over_the_limit_are_413_and_store_nothing() {
    let c = Client::new();
    c.emu.set_attachment_limit(1024);
    let answer = upload(&c, &c.agile(), "big.bin", &[7u8; 1025]);
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert!(answer.json()["message"].as_str().unwrap().contains("1024"));
    assert_eq!(upload(&c, &c.agile(), "fits.bin", &[7u8; 1024]).status, 201);
}

#[test]
fn attached_file_relations_carry_name_size_and_the_clean_url() {
    let c = Client::new();
    let up = upload(&c, &c.agile(), "Spec.txt", b"spec").json();
    let id = c.new_item("Bug", &json!([title("x")]));
    let link = json!({"op": "add", "path": "/relations/-", "value": {"rel": "AttachedFile", "url": up["url"], "attributes": {"comment": "Spec for the work"}}});
    let answer = c.update(
        id,
        "",
        &json!([{"op": "test", "path": "/rev", "value": 1}, link]),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let relation = answer.json()["relations"][0].clone();
    assert_eq!(relation["rel"], "AttachedFile");
    assert_eq!(
        relation["url"],
        format!(
            "{}/_apis/wit/attachments/{}",
            c.org(),
            up["id"].as_str().unwrap()
        )
    );
    assert_eq!(relation["attributes"]["name"], "Spec.txt");
    assert_eq!(relation["attributes"]["resourceSize"], 4);
    assert_eq!(relation["attributes"]["comment"], "Spec for the work");

    let unknown = json!({"op": "add", "path": "/relations/-", "value": {"rel": "AttachedFile", "url": format!("{}/_apis/wit/attachments/nope", c.org())}});
    let refused = c.update(id, "", &json!([unknown]));
    assert_eq!(refused.status, 400);
    assert_eq!(c.item(id).json()["rev"], 2);
}
