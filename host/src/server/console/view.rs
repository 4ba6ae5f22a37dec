//! The templates and assets, embedded in the binary (no build step), and
//! rendering: HTML-escaped by default (minijinja escapes `.html` templates).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};

use super::session::Sess;

/// The templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("home.html", include_str!("templates/home.html")),
    ("steps.html", include_str!("templates/steps.html")),
    ("auth.html", include_str!("templates/auth.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("states.html", include_str!("templates/states.html")),
    ("mapping.html", include_str!("templates/mapping.html")),
    (
        "template_check.html",
        include_str!("templates/template_check.html"),
    ),
    ("preview.html", include_str!("templates/preview.html")),
    ("sync.html", include_str!("templates/sync.html")),
    ("saved.html", include_str!("templates/saved.html")),
    ("tickets.html", include_str!("templates/tickets.html")),
    (
        "ticket_rows.html",
        include_str!("templates/ticket_rows.html"),
    ),
    ("drawer.html", include_str!("templates/drawer.html")),
    ("operations.html", include_str!("templates/operations.html")),
    ("error.html", include_str!("templates/error.html")),
];

/// The assets, by name: content type and bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/console.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/htmx.min.js"),
    ),
];

/// A serializable value (serde_json's, a form) for a template's context.
/// It goes through `serde_json::Value` by hand: with serde_json's
/// `arbitrary_precision` (on in this workspace) a number serializes as a
/// private map, which minijinja's serializer would show as such.
pub fn ser<T: serde::Serialize>(x: T) -> Value {
    from_json(&serde_json::to_value(x).unwrap_or_default())
}

fn from_json(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) => Value::from(f),
            _ => Value::from(n.to_string()),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(a) => Value::from(a.iter().map(from_json).collect::<Vec<_>>()),
        J::Object(m) => Value::from(
            m.iter()
                .map(|(k, v)| (k.clone(), from_json(v)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
    }
}

/// The template environment.
pub struct Views(Environment<'static>);

impl Views {
    pub fn new() -> anyhow::Result<Views> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Views(env))
    }

    fn render(&self, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
        self.0.get_template(name)?.render(ctx)
    }

    /// A page or a part of one (an htmx swap): `ctx` plus the session's CSRF token.
    pub fn page(&self, name: &str, sess: &Sess, ctx: Value) -> Response {
        match self.render(name, context! { csrf => sess.csrf.clone(), ..ctx }) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!("console: rendering {name}: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be rendered",
                )
                    .into_response()
            }
        }
    }

    /// An error page saying what went wrong (never a secret: the plugin's
    /// and the host's messages carry none).
    pub fn error(&self, sess: &Sess, status: StatusCode, message: &str) -> Response {
        let mut resp = self.page("error.html", sess, context! { message => message });
        *resp.status_mut() = status;
        resp
    }
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ty, bytes)) => (
            [
                (header::CONTENT_TYPE, *ty),
                (header::CACHE_CONTROL, "max-age=300"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
