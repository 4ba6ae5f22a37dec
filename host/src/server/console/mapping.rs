//! The mapping step: one row per writable field of the work item type, its
//! schema on the right (required, input type, allowed values, default) and
//! its value editor on the left (Field, Dictionary, Smart Text or Script);
//! mandatory ticket fields; the findings attachment. Smart Text is checked
//! as it is typed by the plugin's own `validate-config`.

use std::sync::Arc;

use crate as host;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde_json::{Map, Value, json};

use ticketing_runtime::FieldInfo;

use super::App;
use super::draft::{FormData, join_list, split_list, typed_value};
use super::session::Sess;
use super::tickets::ticket_field_names;
use super::view::ser;
use super::wizard::{draft, put_draft, step_bar, typed_draft};
use super::work::{blocking, failure};

const METHODS: [&str; 4] = ["field", "dictionary", "template", "script"];

fn rule_row(i: usize, f: &FieldInfo, rule: Option<&Value>) -> Value {
    let method = rule
        .and_then(|r| r.get("method"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut pairs: Vec<Value> = rule
        .and_then(|r| r.get("map"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| json!({"key": k, "val": v.as_str().map(String::from).unwrap_or_else(|| v.to_string())}))
                .collect()
        })
        .unwrap_or_default();
    pairs.push(json!({"key": "", "val": ""}));
    let s = |k: &str| {
        rule.and_then(|r| r.get(k))
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    // ADO fills these itself: the state from `initial_state`, the area and
    // iteration ids from their paths (the project's root when none is given).
    let filled_by_ado = matches!(
        f.reference_name.as_str(),
        "System.State" | "System.AreaId" | "System.IterationId"
    );
    let required = f.required && !filled_by_ado;
    json!({
        "i": i,
        "reference_name": f.reference_name,
        "name": f.name,
        "required": required,
        "input_type": ticketing_runtime::names::input_type(f.input_type),
        "allowed_values": f.allowed_values,
        "default": f.default_value,
        "method": method,
        "field": s("field"),
        "template": s("template"),
        "format": s("format"),
        "script": s("script"),
        "pairs": pairs,
        "unmapped": rule.and_then(|r| r.get("unmapped")).and_then(Value::as_str).unwrap_or("skip"),
        "dict_default": s("default"),
        "flagged": required && method.is_empty() && f.default_value.is_none(),
    })
}

/// `GET /wizard/mapping`.
pub async fn page(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    let (d, ty, conn) = match typed_draft(&app, &sess) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let (host, state) = (app.host, app.options.state.clone());
    let loaded = blocking(move || {
        let fields = host.fields(&conn, &ty).map_err(anyhow::Error::new)?;
        let names = ticket_field_names(&host::state::db::Db::open(&state)?)?;
        Ok((fields, names))
    })
    .await;
    let (fields, names) = match loaded {
        Ok(x) => x,
        Err(e) => {
            return app
                .views
                .error(&sess, StatusCode::BAD_GATEWAY, &format!("{e:#}"));
        }
    };
    let rules = d.rules("dispatch");
    let rows: Vec<Value> = fields
        .iter()
        .filter(|f| !f.read_only)
        .enumerate()
        .map(|(i, f)| {
            let rule = rules.iter().find(|r| {
                r.get("target").and_then(Value::as_str) == Some(f.reference_name.as_str())
            });
            rule_row(i, f, rule)
        })
        .collect();
    let attachment = d.config.get("attachment");
    let ctx = json!({
        "rows": rows,
        "methods": METHODS,
        "ticket_fields": names,
        "mandatory": join_list(d.config.get("mandatory_fields")),
        "attachment_format": attachment.and_then(|a| a.get("format")).and_then(Value::as_str).unwrap_or(""),
        "attachment_columns": attachment.map(|a| columns_text(a.get("columns"))).unwrap_or_default(),
        "attachment_on_sync": attachment.and_then(|a| a.get("on_sync")).and_then(Value::as_str).unwrap_or("add"),
        "flagged": rows_flagged(&rows),
    });
    app.views.page(
        "mapping.html",
        &sess,
        context! { steps => step_bar("mapping"), m => ser(&ctx), name => d.name.clone(), work_item_type => d.work_item_type() },
    )
}

fn rows_flagged(rows: &[Value]) -> Vec<Value> {
    rows.iter()
        .filter(|r| r["flagged"] == json!(true))
        .map(|r| r["reference_name"].clone())
        .collect()
}

fn columns_text(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| match c {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The rule a row of the form describes; `None` when the row maps nothing.
fn row_rule(f: &FormData, i: usize, previous: Option<&Value>) -> Option<Value> {
    let target = f.get(&format!("target.{i}")).trim();
    let method = f.get(&format!("method.{i}"));
    if target.is_empty() || !METHODS.contains(&method) {
        return None;
    }
    // Members this form does not show (`labels`, notes) stay.
    let mut r: Map<String, Value> = previous
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let previous_format = r.get("format").cloned();
    for k in [
        "field", "map", "unmapped", "default", "template", "format", "script",
    ] {
        r.remove(k);
    }
    r.insert("target".into(), json!(target));
    r.insert("method".into(), json!(method));
    let get = |k: &str| f.get(&format!("{k}.{i}")).to_string();
    match method {
        "field" => drop(r.insert("field".into(), json!(get("field").trim()))),
        "dictionary" => {
            r.insert("field".into(), json!(get("field").trim()));
            let mut map = Map::new();
            for k in f.rows(&format!("dkey.{i}")) {
                let key = f.get(&format!("dkey.{i}.{k}")).trim();
                if !key.is_empty() {
                    map.insert(
                        key.into(),
                        typed_value(f.get(&format!("dval.{i}.{k}")).trim()),
                    );
                }
            }
            r.insert("map".into(), Value::Object(map));
            let unmapped = get("unmapped");
            r.insert("unmapped".into(), json!(unmapped));
            if unmapped == "default" {
                r.insert("default".into(), typed_value(get("ddefault").trim()));
            }
        }
        "template" => {
            r.insert("template".into(), json!(get("template")));
            // The box says Markdown or not; another format a config named stays.
            if get("format") == "markdown" {
                r.insert("format".into(), json!("markdown"));
            } else if let Some(f) = previous_format.filter(|f| f != "markdown") {
                r.insert("format".into(), f);
            }
        }
        _ => drop(r.insert("script".into(), json!(get("script")))),
    }
    Some(Value::Object(r))
}

/// `POST /wizard/mapping`: the rows into the config's `dispatch` rules (in
/// place; rules of fields the form does not list stay), mandatory fields,
/// attachment.
pub async fn post(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    axum::Form(f): axum::Form<FormData>,
) -> Response {
    let mut d = draft(&app, &sess);
    let previous = d.rules("dispatch");
    let target_of = |r: &Value| r.get("target").and_then(Value::as_str).map(String::from);
    let mut posted: Vec<(String, Option<Value>)> = Vec::new();
    for i in f.rows("target") {
        let target = f.get(&format!("target.{i}")).trim().to_string();
        let prev = previous
            .iter()
            .find(|r| target_of(r).as_deref() == Some(&target));
        posted.push((target, row_rule(&f, i, prev)));
    }
    let mut rules: Vec<Value> = Vec::new();
    for r in &previous {
        match posted
            .iter()
            .find(|(t, _)| Some(t) == target_of(r).as_ref())
        {
            Some((_, Some(new))) => rules.push(new.clone()),
            Some((_, None)) => {}
            None => rules.push(r.clone()),
        }
    }
    for (t, rule) in &posted {
        if let Some(rule) = rule
            && !previous.iter().any(|r| target_of(r).as_ref() == Some(t))
        {
            rules.push(rule.clone());
        }
    }
    let mandatory = split_list(f.get("mandatory_fields"));
    let format = f.get("attachment_format").to_string();
    let attachment = (!format.is_empty()).then(|| {
        let mut a = d
            .config
            .get("attachment")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        a.insert("format".into(), json!(format));
        let columns = split_list(f.get("attachment_columns"));
        if columns.is_empty() {
            a.remove("columns");
        } else {
            a.insert("columns".into(), Value::Array(columns));
        }
        a.insert("on_sync".into(), json!(f.get("attachment_on_sync")));
        Value::Object(a)
    });
    let o = d.object();
    o.insert("dispatch".into(), Value::Array(rules));
    if mandatory.is_empty() {
        o.remove("mandatory_fields");
    } else {
        o.insert("mandatory_fields".into(), Value::Array(mandatory));
    }
    match attachment {
        Some(a) => drop(o.insert("attachment".into(), a)),
        None => drop(o.remove("attachment")),
    }
    put_draft(&app, &sess, d);
    let next = if f.get("action") == "stay" {
        "/wizard/mapping"
    } else {
        "/wizard/preview"
    };
    Redirect::to(next).into_response()
}

/// `POST /wizard/mapping/check`: the Smart Text of one row, checked by the
/// plugin's `validate-config` as the person types (htmx swaps the answer in).
pub async fn check(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    headers: axum::http::HeaderMap,
    axum::Form(f): axum::Form<FormData>,
) -> Response {
    // htmx posts the whole form and names the textarea typed in.
    let typed_in = headers
        .get("hx-trigger-name")
        .and_then(|v| v.to_str().ok())
        .and_then(|n| n.strip_prefix("template.")?.parse::<usize>().ok());
    let Some(i) = typed_in.or_else(|| f.rows("template").into_iter().next()) else {
        return app.views.page("template_check.html", &sess, context! {});
    };
    let mut d = draft(&app, &sess);
    let rule = json!({
        "target": f.get(&format!("target.{i}")),
        "method": "template",
        "template": f.get(&format!("template.{i}")),
    });
    // The draft with this one rule: its issues are the template's.
    let o = d.object();
    o.insert("version".into(), json!(2));
    o.insert("dispatch".into(), json!([rule]));
    let (host, text) = (app.host, d.text());
    let checked = blocking(move || host.validate_config(&text).map_err(anyhow::Error::new)).await;
    let issues: Vec<Value> = match &checked {
        Ok(()) => vec![],
        Err(e) => failure(e)
            .get("issues")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter(|i| {
                        i["path"]
                            .as_str()
                            .is_some_and(|p| p.contains("dispatch[0]"))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
    };
    app.views.page(
        "template_check.html",
        &sess,
        context! { issues => ser(&issues), checked => true },
    )
}
