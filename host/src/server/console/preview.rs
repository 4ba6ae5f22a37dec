//! The preview step: stored tickets on the left (search and filter); for the
//! selected one, the work item the draft would create, from the plugin's
//! `dispatch.preview` (fields, HTML rendered in a sandboxed frame, the
//! findings file's name and size, the exact request and every problem),
//! and ADO's own check of it (`validateOnly`).

use std::sync::Arc;

use crate as host;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};

use host::state::db::Db;
use ticketing_runtime::{AttachmentPreview, InputType};

use super::App;
use super::draft::FormData;
use super::session::Sess;
use super::tickets::{TicketQuery, field_text, find};
use super::view::ser;
use super::wizard::{step_bar, typed_draft};
use super::work::{blocking, failure};

/// The preview's JSON Patch as rows: each field with its value (HTML ones
/// marked, to be shown in a sandboxed frame), and each relation; the
/// findings file's relation with the file's name and size from the plugin.
fn shown(body: &str, html_fields: &[String], file: Option<&AttachmentPreview>) -> Value {
    let ops: Vec<Value> = serde_json::from_str(body).unwrap_or_default();
    let mut fields = Vec::new();
    let mut relations = Vec::new();
    for op in &ops {
        let path = op["path"].as_str().unwrap_or_default();
        if let Some(name) = path.strip_prefix("/fields/") {
            let value = match &op["value"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fields.push(json!({"name": name, "value": value, "html": html_fields.iter().any(|h| h == name)}));
        } else if path.starts_with("/relations") {
            let v = &op["value"];
            let file = file.filter(|_| v["rel"] == "AttachedFile");
            relations.push(json!({
                "rel": v["rel"], "url": v["url"],
                "file_name": file.map(|f| f.file_name.clone()),
                "size": file.map(|f| f.size),
                "size_text": file.map(|f| size_text(f.size)),
                "comment": v["attributes"]["comment"],
            }));
        }
    }
    json!({"fields": fields, "relations": relations})
}

/// A size for people: `2,150 bytes (2.1 KiB)`.
fn size_text(bytes: u64) -> String {
    let digits = bytes.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let unit = if bytes == 1 { "byte" } else { "bytes" };
    match bytes {
        0..1024 => format!("{grouped} {unit}"),
        1024..1_048_576 => format!("{grouped} {unit} ({:.1} KiB)", bytes as f64 / 1024.0),
        _ => format!("{grouped} {unit} ({:.1} MiB)", bytes as f64 / 1_048_576.0),
    }
}

async fn render(app: Arc<App>, sess: Sess, q: TicketQuery, validate_remote: bool) -> Response {
    let (d, ty, conn) = match typed_draft(&app, &sess) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let (host, state, q2, config) = (app.host, app.options.state.clone(), q.clone(), d.text());
    let loaded = blocking(move || {
        let db = Db::open(&state)?;
        let tickets = find(&db, &q2)?;
        let selected = tickets
            .iter()
            .find(|(t, _)| t.id == q2.t)
            .or(tickets.first())
            .map(|(t, _)| t.clone());
        let preview = match &selected {
            Some(t) => {
                let html: Vec<String> = host
                    .fields(&conn, &ty)
                    .map_err(anyhow::Error::new)?
                    .into_iter()
                    .filter(|f| f.input_type == InputType::Html)
                    .map(|f| f.reference_name)
                    .collect();
                Some(
                    host.preview(&conn, &config, t, validate_remote)
                        .map(|p| (p, html))
                        .map_err(anyhow::Error::new),
                )
            }
            None => None,
        };
        let list: Vec<Value> = tickets
            .iter()
            .map(|(t, l)| json!({"id": t.id, "title": field_text(t, "title"), "severity": field_text(t, "severity"), "linked": l.is_some()}))
            .collect();
        Ok((list, selected.map(|t| t.id), preview))
    })
    .await;
    let (list, selected, preview) = match loaded {
        Ok(x) => x,
        Err(e) => {
            return app
                .views
                .error(&sess, StatusCode::BAD_GATEWAY, &format!("{e:#}"));
        }
    };
    let result = match preview {
        Some(Ok((p, html))) => json!({
            "method": p.method, "url": p.url, "body": p.body,
            "problems": p.problems.iter().map(|i| json!({"path": i.path, "rule": i.rule, "message": i.message})).collect::<Vec<_>>(),
            "shown": shown(&p.body, &html, p.attachment.as_ref()),
            "validated": validate_remote,
        }),
        Some(Err(e)) => json!({"failure": failure(&e)}),
        None => Value::Null,
    };
    app.views.page(
        "preview.html",
        &sess,
        context! {
            steps => step_bar("preview"), tickets => ser(&list),
            selected => selected, q => ser(&q),
            result => ser(&result), name => d.name.clone(),
        },
    )
}

/// `GET /wizard/preview?q=&severity=&t=ID`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    Query(q): Query<TicketQuery>,
) -> Response {
    render(app, sess, q, false).await
}

/// `POST /wizard/preview/validate` (`t=ID`): the same, checked by ADO too.
pub async fn validate(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    axum::Form(f): axum::Form<FormData>,
) -> Response {
    let q = TicketQuery {
        t: f.get("t").to_string(),
        ..TicketQuery::default()
    };
    render(app, sess, q, true).await
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_are_shown_in_bytes_grouped_and_in_binary_units() {
        assert_eq!(size_text(1), "1 byte");
        assert_eq!(size_text(999), "999 bytes");
        assert_eq!(size_text(2150), "2,150 bytes (2.1 KiB)");
        assert_eq!(size_text(3_250_000), "3,250,000 bytes (3.1 MiB)");
    }
}
