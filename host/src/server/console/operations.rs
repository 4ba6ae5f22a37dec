//! The operations page: open jobs, dead letters and failed jobs (retry,
//! discard), each service-hook subscription with its status in ADO
//! (repair), and the latest webhook deliveries with what they changed. Each
//! action runs the CLI's own code (`jobs retry|discard`, `subscriptions
//! [--repair]`) and shows what it printed.

use std::sync::Arc;

use crate as host;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde_json::{Value, json};

use host::platform::jobs::JobsCommand;
use host::platform::subscriptions::check;
use host::server::serve::endpoint_name;
use host::state::db::{Db, JobState, StoredSubscription};

use super::App;
use super::session::Sess;
use super::store;
use super::view::ser;
use super::work::blocking;

/// How many webhook deliveries the page shows.
const DELIVERIES: usize = 25;

/// The page, with `output` of the action just run (its lines and whether it failed).
async fn render(
    app: Arc<App>,
    sess: Sess,
    output: Option<(String, bool)>,
    check_subscriptions: bool,
) -> Response {
    let app2 = app.clone();
    let loaded = blocking(move || {
        let o = &app2.options;
        let db = Db::open(&o.state)?;
        let jobs: Vec<Value> = db
            .jobs(&[JobState::Pending, JobState::Running, JobState::Dead, JobState::Failed])?
            .iter()
            .map(|j| json!({
                "id": j.id, "kind": j.kind, "ticket": j.ticket_id, "state": j.state.as_str(),
                "attempts": j.attempts, "error": j.last_error, "updated": j.updated_at,
                "stuck": matches!(j.state, JobState::Dead | JobState::Failed),
            }))
            .collect();
        // Each subscription with its status in ADO, as `ticketing-host
        // subscriptions` checks it; a check that fails is shown, not fatal.
        let stored = db.subscriptions(None)?;
        let row = |s: &StoredSubscription, status: Option<&str>| {
            json!({
                "id": s.id, "outegration": endpoint_name(&s.outegration),
                "event_type": s.event_type, "url": s.url, "status": status,
                "enabled": status.is_some_and(|s| s.eq_ignore_ascii_case("enabled")),
            })
        };
        let checked = (check_subscriptions && !stored.is_empty()).then(|| {
            store::connection(o).and_then(|conn| check(app2.host, &db, &conn, false))
        });
        let (subs, status_error): (Vec<Value>, Option<String>) = match checked {
            Some(Ok(checked)) => {
                let rows = checked.iter().flat_map(|o| &o.subscriptions);
                let status = |s: &StoredSubscription| {
                    rows.clone()
                        .find(|r| r.id == s.id)
                        .map_or("missing in ADO", |r| r.status.as_str())
                        .to_string()
                };
                (stored.iter().map(|s| row(s, Some(&status(s)))).collect(), None)
            }
            other => (
                stored.iter().map(|s| row(s, None)).collect(),
                other.and_then(Result::err).map(|e| format!("{e:#}")),
            ),
        };
        let inbox = db.inbox()?;
        let deliveries: Vec<Value> = inbox
            .iter()
            .rev()
            .take(DELIVERIES)
            .map(|r| json!({
                "id": r.id, "outegration": endpoint_name(&r.outegration), "event_type": r.event_type,
                "work_item": r.work_item_id, "done": r.done, "result": r.result,
            }))
            .collect();
        Ok((jobs, subs, status_error, deliveries))
    })
    .await;
    match loaded {
        Ok((jobs, subs, status_error, deliveries)) => app.views.page(
            "operations.html",
            &sess,
            context! {
                jobs => ser(&jobs),
                subscriptions => ser(&subs),
                status_error => status_error,
                deliveries => ser(&deliveries),
                output => output.as_ref().map(|(t, _)| t.clone()),
                output_failed => output.as_ref().is_some_and(|(_, f)| *f),
                nav => "operations",
            },
        ),
        Err(e) => app
            .views
            .error(&sess, StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}")),
    }
}

/// `GET /operations`.
pub async fn page(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    render(app, sess, None, true).await
}

/// Runs `jobs <what>` as the CLI does; its output.
async fn jobs_command(app: &Arc<App>, what: JobsCommand) -> (String, bool) {
    let app2 = app.clone();
    let r = blocking(move || {
        let o = &app2.options;
        let (db, conn) = (Db::open(&o.state)?, store::connection(o)?);
        let mut lc = host::platform::lifecycle::Lifecycle::new(app2.host, &db, &conn);
        lc.retry.max_attempts = o.max_attempts;
        let mut out = Vec::new();
        let r = host::platform::jobs::command(&lc, Some(&what), false, &mut out);
        Ok((String::from_utf8_lossy(&out).into_owned(), r.err()))
    })
    .await;
    printed(r)
}

/// What a command printed, its error appended; and whether it failed.
fn printed(r: anyhow::Result<(String, Option<anyhow::Error>)>) -> (String, bool) {
    match r {
        Ok((text, None)) => (text, false),
        Ok((text, Some(e))) => (format!("{text}{e:#}\n"), true),
        Err(e) => (format!("{e:#}\n"), true),
    }
}

/// `POST /operations/jobs/{id}/retry` and `.../discard`.
pub async fn job_action(
    State(app): State<Arc<App>>,
    Extension(sess): Extension<Sess>,
    Path((id, action)): Path<(i64, String)>,
) -> Response {
    let what = match action.as_str() {
        "retry" => JobsCommand::Retry { ids: vec![id] },
        "discard" => JobsCommand::Discard { ids: vec![id] },
        _ => {
            return app
                .views
                .error(&sess, StatusCode::NOT_FOUND, "no such action");
        }
    };
    let out = jobs_command(&app, what).await;
    render(app, sess, Some(out), false).await
}

/// `POST /operations/subscriptions/repair`: `subscriptions --repair`.
pub async fn repair(State(app): State<Arc<App>>, Extension(sess): Extension<Sess>) -> Response {
    let app2 = app.clone();
    let r = blocking(move || {
        let o = &app2.options;
        let (db, conn) = (Db::open(&o.state)?, store::connection(o)?);
        let mut out = Vec::new();
        let r = host::platform::subscriptions::subscriptions(app2.host, &db, &conn, true, &mut out);
        Ok((String::from_utf8_lossy(&out).into_owned(), r.err()))
    })
    .await;
    render(app, sess, Some(printed(r)), true).await
}
