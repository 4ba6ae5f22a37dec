//! The tickets page: search and filter; per ticket its work item or the
//! "Create Azure DevOps Ticket" button of each outegration whose visibility
//! offers it; a dispatch goes through the lifecycle and its outbox job, as
//! `ticketing-host dispatch` does; the drawer shows fields, findings and
//! comments (those synced from ADO marked).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate as host;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde_json::{Value, json};

use host::Ticket;
use host::state::db::Db;

use super::App;
use super::draft::FormData;
use super::session::Sess;
use super::store;
use super::view::ser;
use super::work::{blocking, failure};

/// Field names a Smart Text template can use: `ticket.id`, the usual ones,
/// and every field of the stored tickets.
pub fn ticket_field_names(db: &Db) -> anyhow::Result<Vec<String>> {
    let mut names: BTreeSet<String> = [
        "title",
        "description",
        "severity",
        "status",
        "assignee",
        "due_date",
        "tags",
        "cve",
        "asset",
        "findings",
        "ticket.id",
        "ticket.url",
    ]
    .map(String::from)
    .into();
    for id in db.ticket_ids()? {
        if let Some(t) = db.find_ticket(&id)? {
            names.extend(t.fields.iter().map(|f| f.name.clone()));
        }
    }
    Ok(names.into_iter().collect())
}

/// A ticket field as text ("" when absent).
pub fn field_text(t: &Ticket, name: &str) -> String {
    t.fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| match host::state::ticket_file::value_json(&f.value) {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

/// Search (`q`: id or title) and filter (`severity`, `linked`).
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct TicketQuery {
    pub q: String,
    pub severity: String,
    /// `yes`, `no` or "" (any).
    pub linked: String,
    /// The selected ticket (preview).
    pub t: String,
}

/// The stored tickets matching `q`, with their links.
pub fn find(
    db: &Db,
    q: &TicketQuery,
) -> anyhow::Result<Vec<(Ticket, Option<host::state::db::StoredLink>)>> {
    let needle = q.q.trim().to_lowercase();
    let mut out = Vec::new();
    for id in db.ticket_ids()? {
        let Some(t) = db.find_ticket(&id)? else {
            continue;
        };
        let link = db.link(&id)?;
        let text_ok = needle.is_empty()
            || t.id.to_lowercase().contains(&needle)
            || field_text(&t, "title").to_lowercase().contains(&needle);
        let sev_ok =
            q.severity.is_empty() || field_text(&t, "severity").eq_ignore_ascii_case(&q.severity);
        let link_ok = match q.linked.as_str() {
            "yes" => link.is_some(),
            "no" => link.is_none(),
            _ => true,
        };
        if text_ok && sev_ok && link_ok {
            out.push((t, link));
        }
    }
    Ok(out)
}

/// The work item state the link last saw, from the plugin's sync state
/// when it records `System.State` (display only).
fn known_state(sync_state: &str) -> Option<String> {
    fn walk(v: &Value) -> Option<String> {
        match v {
            Value::Object(m) => m
                .get("System.State")
                .and_then(Value::as_str)
                .map(String::from)
                .or_else(|| m.values().find_map(walk)),
            Value::Array(a) => a.iter().find_map(walk),
            _ => None,
        }
    }
    walk(&serde_json::from_str(sync_state).ok()?)
}

/// The outegrations whose button this ticket shows (visibility per the rules file).
fn offered(app: &App, rules: Option<&host::platform::rules::Rules>, t: &Ticket) -> Vec<String> {
    store::outegrations(&app.options)
        .into_iter()
        .filter(|name| {
            let Ok(path) = store::outegration_path(&app.options, name) else {
                return false;
            };
            let key = host::platform::lifecycle::outegration_key(&path);
            rules.is_none_or(|r| {
                host::platform::visibility::check(r, &key, t, time::OffsetDateTime::now_utc())
                    .is_ok()
            })
        })
        .collect()
}

fn row(
    app: &App,
    rules: Option<&host::platform::rules::Rules>,
    t: &Ticket,
    link: Option<&host::state::db::StoredLink>,
) -> Value {
    json!({
        "id": t.id,
        "title": field_text(t, "title"),
        "severity": field_text(t, "severity"),
        "status": field_text(t, "status"),
        "findings": t.findings.len(),
        "link": link.map(|l| json!({
            "work_item_id": l.link.work_item_id,
            "web_url": l.link.web_url,
            "rev": l.link.rev,
            "type": l.link.work_item_type,
            "state": known_state(&l.link.sync_state),
        })),
        "offered": if link.is_none() { offered(app, rules, t) } else { vec![] },
    })
}

/// `GET /tickets`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    headers: HeaderMap,
    Query(q): Query<TicketQuery>,
) -> Response {
    let (app2, q2) = (app.clone(), q.clone());
    let rows = blocking(move || {
        let db = Db::open(&app2.options.state)?;
        let rules = store::rules(&app2.options)?;
        Ok(find(&db, &q2)?
            .iter()
            .map(|(t, l)| row(&app2, rules.as_ref(), t, l.as_ref()))
            .collect::<Vec<_>>())
    })
    .await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => {
            return app
                .views
                .error(&sess, StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}"));
        }
    };
    // htmx asks for the rows alone as the search is typed.
    let name = if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        "ticket_rows.html"
    } else {
        "tickets.html"
    };
    app.views.page(
        name,
        &sess,
        context! { rows => ser(&rows), q => ser(&q), nav => "tickets" },
    )
}

/// `GET /tickets/{id}`: the drawer.
pub async fn drawer(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    Path(id): Path<String>,
) -> Response {
    let state = app.options.state.clone();
    let loaded = blocking(move || {
        let db = Db::open(&state)?;
        Ok((db.find_ticket(&id)?, db.link(&id)?))
    })
    .await;
    let (t, link) = match loaded {
        Ok((Some(t), l)) => (t, l),
        Ok((None, _)) => {
            return app
                .views
                .error(&sess, StatusCode::NOT_FOUND, "no such ticket");
        }
        Err(e) => {
            return app
                .views
                .error(&sess, StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}"));
        }
    };
    let field_rows = |fields: &[host::Field]| -> Vec<Value> {
        fields
            .iter()
            .map(|f| json!({"name": f.name, "value": match host::state::ticket_file::value_json(&f.value) { Value::String(s) => s, other => other.to_string() }}))
            .collect()
    };
    let ctx = json!({
        "id": t.id,
        "url": t.url,
        "fields": field_rows(&t.fields),
        "findings": t.findings.iter().map(|f| json!({"id": f.id, "status": f.status, "fields": field_rows(&f.fields)})).collect::<Vec<_>>(),
        "comments": t.comments.iter().map(|c| json!({"id": c.id, "author": c.author, "created": c.created, "text": c.text, "from_ado": c.id.starts_with("ado-")})).collect::<Vec<_>>(),
        "link": link.map(|l| json!({"work_item_id": l.link.work_item_id, "web_url": l.link.web_url, "rev": l.link.rev, "outegration": l.outegration})),
    });
    app.views.page(
        "drawer.html",
        &sess,
        context! { t => ser(&ctx), nav => "tickets" },
    )
}

/// `POST /tickets/{id}/dispatch` (`outegration=<name>`): the visibility
/// check and the dispatch `ticketing-host dispatch --outegration` runs, as
/// an outbox job.
pub async fn dispatch(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FormData>,
) -> Response {
    let (app2, name) = (app.clone(), f.get("outegration").to_string());
    let done = blocking(move || {
        let o = &app2.options;
        let path = store::outegration_path(o, &name)?;
        let conn = store::connection(o)?;
        let db = Db::open(&o.state)?;
        if let Some(rules) = store::rules(o)? {
            let key = host::platform::lifecycle::outegration_key(&path);
            host::platform::visibility::check(
                &rules,
                &key,
                &db.ticket(&id)?,
                time::OffsetDateTime::now_utc(),
            )?;
        }
        let mut lc = host::platform::lifecycle::Lifecycle::new(app2.host, &db, &conn);
        lc.retry.max_attempts = o.max_attempts;
        let d = lc.dispatch(&id, &path)?;
        Ok(d.link().work_item_id)
    })
    .await;
    match done {
        Ok(_) => Redirect::to("/tickets").into_response(),
        Err(e) => {
            let f = failure(&e);
            app.views.error(
                &sess,
                StatusCode::UNPROCESSABLE_ENTITY,
                f["message"].as_str().unwrap_or("the dispatch failed"),
            )
        }
    }
}
