//! The wizard's steps other than mapping and preview: the outegrations
//! list, authentication (with the connection test), settings (type,
//! initial state, visibility), sync, and save.

use std::sync::Arc;

use crate as host;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde_json::{Value, json};

use super::App;
use super::draft::{Draft, FormData, apply_sync, editable_sync_rule, join_list, map_text};
use super::session::Sess;
use super::store::{self, AuthForm, VisibilityForm};
use super::view::ser;
use super::work::{blocking, failure};

/// The session's draft (a new one if there is none).
pub(super) fn draft(app: &App, sess: &Sess) -> Draft {
    app.sessions
        .with(&sess.id, |s| {
            s.draft.get_or_insert_with(Draft::default).clone()
        })
        .unwrap_or_default()
}

/// Replaces the session's draft.
pub(super) fn put_draft(app: &App, sess: &Sess, d: Draft) {
    app.sessions.with(&sess.id, |s| s.draft = Some(d));
}

/// The step a page is, for the step bar.
fn steps(current: &str) -> Value {
    let names = [
        ("auth", "Authentication"),
        ("settings", "Settings"),
        ("mapping", "Mapping"),
        ("preview", "Preview"),
        ("sync", "Sync and save"),
    ];
    Value::Array(
        names
            .iter()
            .map(|(id, label)| json!({"id": id, "label": label, "current": *id == current}))
            .collect(),
    )
}

pub(super) fn step_bar(current: &str) -> minijinja::Value {
    ser(steps(current))
}

/// `GET /`: the saved outegrations and the connection.
pub async fn home(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    let o = &app.options;
    let conn = store::settings(o).map(|s| json!({"base_url": s.base_url, "project": s.project}));
    app.views.page(
        "home.html",
        &sess,
        context! { outegrations => store::outegrations(o), connection => ser(conn), dir => o.outegrations.display().to_string(), nav => "home" },
    )
}

/// `POST /wizard/new`: an empty draft.
pub async fn new_draft(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    put_draft(&app, &sess, Draft::default());
    Redirect::to("/wizard/auth").into_response()
}

/// `POST /outegrations/{name}/edit`: the saved config opens in the wizard.
pub async fn edit(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    Path(name): Path<String>,
) -> Response {
    let loaded = store::outegration_path(&app.options, &name).and_then(|p| {
        let text = std::fs::read_to_string(&p)?;
        Ok(serde_json::from_str::<Value>(&text)?)
    });
    match loaded {
        Ok(config) => {
            let visibility = store::visibility(&app.options, &name);
            put_draft(
                &app,
                &sess,
                Draft {
                    name,
                    config,
                    visibility,
                    process: None,
                },
            );
            Redirect::to("/wizard/auth").into_response()
        }
        Err(e) => app
            .views
            .error(&sess, StatusCode::NOT_FOUND, &format!("{e:#}")),
    }
}

fn auth_context(app: &App, form: Option<&AuthForm>) -> minijinja::Value {
    let o = &app.options;
    let stored = store::settings(o);
    let secrets = store::secrets(o).unwrap_or_default();
    let value = |typed: Option<&str>, saved: Option<String>| -> String {
        typed.map(String::from).or(saved).unwrap_or_default()
    };
    let s = stored.as_ref();
    let f = form;
    ser(json!({
        "base_url": value(f.map(|f| f.base_url.as_str()), s.map(|s| s.base_url.clone())),
        "project": value(f.map(|f| f.project.as_str()), s.map(|s| s.project.clone())),
        "auth": value(f.map(|f| f.auth.as_str()), s.map(|s| store::auth_name(s.auth).to_string())),
        "tenant_id": value(f.map(|f| f.tenant_id.as_str()), s.and_then(|s| s.tenant_id.clone())),
        "client_id": value(f.map(|f| f.client_id.as_str()), s.and_then(|s| s.client_id.clone())),
        "authority": value(f.map(|f| f.authority.as_str()), s.and_then(|s| s.authority.clone())),
        "stored": store::stored_kinds(&secrets),
        "secrets_file": o.secrets.display().to_string(),
        "config_file": o.config.display().to_string(),
    }))
}

/// `GET /wizard/auth`.
pub async fn auth_page(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    let d = draft(&app, &sess);
    app.views.page(
        "auth.html",
        &sess,
        context! { steps => step_bar("auth"), form => auth_context(&app, None), name => d.name.clone() },
    )
}

/// `POST /wizard/auth`: `action=test` runs the connection test; `action=save`
/// runs it and, when it passes, stores the connection and goes on.
pub async fn auth_post(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    axum::Form(form): axum::Form<AuthForm>,
) -> Response {
    let app2 = app.clone();
    let save = form.action == "save";
    let result = {
        let stored = store::secrets(&app.options);
        let resolved = stored.and_then(|s| form.resolve(&s));
        match resolved {
            Err(e) => Err(e),
            Ok((settings, secrets)) => {
                let host = app.host;
                blocking(move || {
                    let conn = store::connection_of(&settings, &secrets)?;
                    let info = host.test_connection(&conn).map_err(anyhow::Error::new)?;
                    if save {
                        store::save_connection(&app2.options, &settings, &secrets)?;
                    }
                    Ok(info)
                })
                .await
            }
        }
    };
    match result {
        Ok(info) => {
            let mut d = draft(&app, &sess);
            d.process = info.process_template.clone();
            put_draft(&app, &sess, d.clone());
            if save {
                return Redirect::to("/wizard/settings").into_response();
            }
            let info = json!({
                "identity": info.user.display_name,
                "identity_id": info.user.id,
                "organization": info.organization,
                "project": info.project_name,
                "project_id": info.project_id,
                "process": info.process_template,
            });
            app.views.page(
                "auth.html",
                &sess,
                context! { steps => step_bar("auth"), form => auth_context(&app, Some(&form)), info => ser(info), name => d.name.clone() },
            )
        }
        Err(e) => {
            let mut resp = app.views.page(
                "auth.html",
                &sess,
                context! { steps => step_bar("auth"), form => auth_context(&app, Some(&form)), failure => ser(failure(&e)) },
            );
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
    }
}

/// The session's draft with its work item type and the stored connection;
/// else the answer that sends the person to the step providing them.
pub(super) fn typed_draft(
    app: &App,
    sess: &Sess,
) -> Result<(Draft, String, host::Connection), Box<Response>> {
    let d = draft(app, sess);
    let Some(ty) = d.work_item_type().map(String::from) else {
        return Err(Box::new(Redirect::to("/wizard/settings").into_response()));
    };
    match store::connection(&app.options) {
        Ok(c) => Ok((d, ty, c)),
        Err(e) => Err(Box::new(no_connection(app, sess, &e))),
    }
}

fn no_connection(app: &App, sess: &Sess, e: &anyhow::Error) -> Response {
    app.views.error(
        sess,
        StatusCode::CONFLICT,
        &format!("{e:#}\n\nStore a working connection in the Authentication step first."),
    )
}

#[derive(serde::Deserialize)]
pub struct TypeQuery {
    #[serde(default)]
    work_item_type: String,
    #[serde(default)]
    initial_state: String,
}

/// `GET /wizard/settings`.
pub async fn settings_page(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
) -> Response {
    let d = draft(&app, &sess);
    let conn = match store::connection(&app.options) {
        Ok(c) => c,
        Err(e) => return no_connection(&app, &sess, &e),
    };
    let host = app.host;
    let ty = d.work_item_type().map(String::from);
    let loaded = blocking(move || {
        let types = host.work_item_types(&conn).map_err(anyhow::Error::new)?;
        let ty = ty
            .or_else(|| {
                types
                    .iter()
                    .find(|t| t.name == "Bug")
                    .map(|t| t.name.clone())
            })
            .or_else(|| types.first().map(|t| t.name.clone()))
            .unwrap_or_default();
        let initial = host
            .initial_states(&conn, &ty)
            .map_err(anyhow::Error::new)?;
        Ok((types, ty, initial))
    })
    .await;
    match loaded {
        Ok((types, ty, initial)) => {
            let types: Vec<Value> = types
                .iter()
                .filter(|t| !t.is_disabled)
                .map(|t| json!({"name": t.name, "reference_name": t.reference_name}))
                .collect();
            let member = |k: &str| {
                d.config
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let chosen_state = member("initial_state");
            app.views.page(
                "settings.html",
                &sess,
                context! {
                    steps => step_bar("settings"), types => ser(types), work_item_type => ty,
                    states => initial, initial_state => chosen_state, name => d.name.clone(),
                    area_path => member("area_path"), iteration_path => member("iteration_path"),
                    visibility => ser(&d.visibility),
                    has_rules => app.options.rules.is_some(),
                },
            )
        }
        Err(e) => app.views.page(
            "settings.html",
            &sess,
            context! { steps => step_bar("settings"), failure => ser(failure(&e)), name => d.name.clone() },
        ),
    }
}

/// `GET /wizard/settings/states?work_item_type=T`: the initial states of a type (htmx swap).
pub async fn states_fragment(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    Query(q): Query<TypeQuery>,
) -> Response {
    let conn = match store::connection(&app.options) {
        Ok(c) => c,
        Err(e) => return no_connection(&app, &sess, &e),
    };
    let host = app.host;
    let ty = q.work_item_type.clone();
    match blocking(move || host.initial_states(&conn, &ty).map_err(anyhow::Error::new)).await {
        Ok(states) => app.views.page(
            "states.html",
            &sess,
            context! { states => states, initial_state => q.initial_state },
        ),
        Err(e) => app
            .views
            .error(&sess, StatusCode::BAD_GATEWAY, &format!("{e:#}")),
    }
}

/// `POST /wizard/settings`: name, type (a new type starts from the
/// plugin's default config of the project's process), initial state, visibility.
pub async fn settings_post(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    axum::Form(f): axum::Form<FormData>,
) -> Response {
    let mut d = draft(&app, &sess);
    let name = f.get("name").trim().to_string();
    if !store::valid_name(&name) {
        return app.views.error(
            &sess,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("`{name}` cannot name an outegration: use 1 to 64 letters, digits, `-` or `_` (it names the file and the webhook endpoint)"),
        );
    }
    d.name = name;
    let ty = f.get("work_item_type").trim().to_string();
    if d.work_item_type() != Some(ty.as_str()) {
        let host = app.host;
        let (process, conn) = (d.process.clone(), store::connection(&app.options));
        let t = ty.clone();
        let fresh = blocking(move || {
            let process = match process {
                Some(p) => p,
                None => host
                    .test_connection(&conn?)
                    .map_err(anyhow::Error::new)?
                    .process_template
                    .unwrap_or_else(|| "Agile".into()),
            };
            let text = host
                .default_config(&process, &t)
                .map_err(anyhow::Error::new)?;
            Ok(serde_json::from_str::<Value>(&text)?)
        })
        .await;
        match fresh {
            Ok(config) => d.config = config,
            Err(e) => {
                return app
                    .views
                    .error(&sess, StatusCode::BAD_GATEWAY, &format!("{e:#}"));
            }
        }
    }
    let state = f.get("initial_state").trim();
    if !state.is_empty() {
        d.object().insert("initial_state".into(), json!(state));
    }
    // Empty: the project's root (the member is left out, as the CLI's default).
    for key in ["area_path", "iteration_path"] {
        match f.get(key).trim() {
            "" => d.object().remove(key),
            path => d.object().insert(key.into(), json!(path)),
        };
    }
    d.visibility = VisibilityForm {
        visibility: f.get("visibility").to_string(),
        severity_at_least: f.get("severity_at_least").to_string(),
        scanner: f.get("scanner").to_string(),
        asset_tag: f.get("asset_tag").to_string(),
        cve_present: f.get("cve_present").to_string(),
        fields: f.get("fields").to_string(),
    };
    put_draft(&app, &sess, d);
    Redirect::to("/wizard/mapping").into_response()
}

/// `GET /wizard/sync`.
pub async fn sync_page(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    let (d, ty, conn) = match typed_draft(&app, &sess) {
        Ok(x) => x,
        Err(resp) => return *resp,
    };
    let (host, state) = (app.host, app.options.state.clone());
    let schema = blocking(move || {
        let states = host.states(&conn, &ty).map_err(anyhow::Error::new)?;
        let fields = host.fields(&conn, &ty).map_err(anyhow::Error::new)?;
        let names = super::tickets::ticket_field_names(&host::state::db::Db::open(&state)?)?;
        Ok((states, fields, names))
    })
    .await;
    let (states, fields, names) = match schema {
        Ok(s) => s,
        Err(e) => {
            return app
                .views
                .error(&sess, StatusCode::BAD_GATEWAY, &format!("{e:#}"));
        }
    };
    let sync = d.config.get("sync").cloned().unwrap_or_else(|| json!({}));
    let auto = sync.get("auto_close");
    let rows = |stage: &str| -> Vec<Value> {
        d.rules(stage)
            .iter()
            .filter(|r| editable_sync_rule(r))
            .map(|r| json!({"target": r["target"], "field": r["field"], "map": map_text(r.get("map"))}))
            .collect()
    };
    let fixed = |stage: &str| -> Vec<String> {
        d.rules(stage)
            .iter()
            .filter(|r| !editable_sync_rule(r))
            .map(|r| r.to_string())
            .collect()
    };
    let triggers: Vec<Value> = sync
        .get("triggers")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .map(|t| json!({"field": t["field"], "from": join_list(t.get("from")), "to": join_list(t.get("to")), "message": t.get("message")}))
                .collect()
        })
        .unwrap_or_default();
    let ctx = json!({
        "comments": sync.get("comments").and_then(Value::as_bool).unwrap_or(true),
        "conflicts": sync.get("conflicts").and_then(Value::as_str).unwrap_or("report"),
        "triggers": triggers,
        "auto_close": auto.is_some(),
        "close_state": auto.and_then(|a| a.get("state")).and_then(Value::as_str).unwrap_or("Closed"),
        "remediated": auto.map(|a| join_list(a.get("remediated"))).unwrap_or_else(|| "fixed, remediated, closed".into()),
        "temporary": auto.map(|a| join_list(a.get("temporary"))).unwrap_or_else(|| "mitigated, risk_accepted".into()),
        "close_on_temporary": auto.and_then(|a| a.get("close_on_temporary")).and_then(Value::as_bool).unwrap_or(false),
        "reopen": sync.get("reopen").and_then(|r| r.get("enabled")).and_then(Value::as_bool).unwrap_or(true),
        "to_ado": rows("to_ado"),
        "from_ado": rows("from_ado"),
        "to_fixed": fixed("to_ado"),
        "from_fixed": fixed("from_ado"),
        "ticket_fields": names,
        "states": states.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "fields": fields.iter().filter(|f| !f.read_only).map(|f| json!({"reference_name": f.reference_name, "name": f.name})).collect::<Vec<_>>(),
        "all_fields": fields.iter().map(|f| json!({"reference_name": f.reference_name, "name": f.name})).collect::<Vec<_>>(),
    });
    app.views.page(
        "sync.html",
        &sess,
        context! { steps => step_bar("sync"), s => ser(&ctx), name => d.name.clone(), json => d.text() },
    )
}

/// `POST /wizard/sync`: the sync settings into the draft; `action=save` saves too.
pub async fn sync_post(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    axum::Form(f): axum::Form<FormData>,
) -> Response {
    let mut d = draft(&app, &sess);
    apply_sync(&mut d, &f);
    put_draft(&app, &sess, d);
    if f.get("action") == "save" {
        return save(State(app), Extension(sess)).await;
    }
    Redirect::to("/wizard/sync").into_response()
}

/// `POST /wizard/save`: checks the config with the plugin's `validate-config`
/// (what `ticketing-host validate-config` runs: with the stored connection,
/// so an area or iteration path that names no node is refused) and writes
/// `<name>.json`, and its visibility into the rules file.
pub async fn save(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    let d = draft(&app, &sess);
    let (host, app2, d2) = (app.host, app.clone(), d.clone());
    let saved = blocking(move || {
        let text = d2.text();
        // With the stored connection the area and iteration paths are
        // looked up in the project's trees; without one, the file alone.
        let checked = match store::connection(&app2.options) {
            Ok(conn) => host.validate_config_with(&conn, &text),
            Err(_) => host.validate_config(&text),
        };
        checked.map_err(anyhow::Error::new)?;
        let path = store::save_outegration(&app2.options, &d2.name, &text)?;
        store::save_visibility(&app2.options, &d2.name, &path, &d2.visibility)?;
        Ok(path)
    })
    .await;
    match saved {
        Ok(path) => app.views.page(
            "saved.html",
            &sess,
            context! { name => d.name.clone(), path => path.display().to_string(), json => d.text() },
        ),
        Err(e) => {
            let mut resp = app.views.page(
                "saved.html",
                &sess,
                context! { name => d.name.clone(), failure => ser(failure(&e)), json => d.text() },
            );
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
    }
}
