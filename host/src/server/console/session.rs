//! Login, sessions, CSRF and the security headers: one middleware in front
//! of every route.
//!
//! A session starts anonymous (at the login page, so the login form has a
//! CSRF token too) and is replaced by a new one when the token is right (no
//! session fixation). Every POST must carry the session's CSRF token, as the
//! `_csrf` form field or the `X-CSRF-Token` header htmx sends; a request
//! without it is refused with 403 before any handler runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq as _;

use super::App;
use super::draft::Draft;

/// The session cookie's name.
pub const COOKIE: &str = "console_session";

/// Largest form the console accepts (a mapping with long templates and scripts).
const FORM_LIMIT: usize = 2 << 20;

/// The Content-Security-Policy of every page: scripts and styles from the
/// console's own assets only, no inline script, no plugins, not framed.
/// Rendered work item text sits in sandboxed `srcdoc` frames, which inherit it.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A random 244-bit token (two version 4 UUIDs), hex.
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// One browser's session.
#[derive(Default)]
pub struct Session {
    /// The token every form of this session carries.
    pub csrf: String,
    /// Logged in with the console's token.
    pub authenticated: bool,
    /// The outegration being edited in the wizard.
    pub draft: Option<Draft>,
}

/// The sessions, by id.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn create(&self, authenticated: bool) -> (String, String) {
        let (id, csrf) = (new_token(), new_token());
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(
            id.clone(),
            Session {
                csrf: csrf.clone(),
                authenticated,
                draft: None,
            },
        );
        (id, csrf)
    }

    fn remove(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Runs `f` on the session `id`.
    pub fn with<T>(&self, id: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get_mut(id).map(f)
    }

    fn peek(&self, id: &str) -> Option<(String, bool)> {
        self.with(id, |s| (s.csrf.clone(), s.authenticated))
    }
}

/// The request's session, put in the request's extensions by [`guard`].
#[derive(Clone)]
pub struct Sess {
    pub id: String,
    pub csrf: String,
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(app: &App, id: &str) -> HeaderValue {
    let secure = if app.options.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn secure_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The CSRF token a request carries: the header, else the form's `_csrf`.
fn carried_csrf(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(v) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.into_owned())
}

/// Security headers on everything; a session for the login page; login
/// required elsewhere; the CSRF token checked on every POST.
pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut resp = check(app, req, next).await;
    secure_headers(&mut resp);
    resp
}

async fn check(app: Arc<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/assets/") {
        return next.run(req).await;
    }
    let existing = cookie_value(req.headers(), COOKIE)
        .and_then(|id| app.sessions.peek(&id).map(|(csrf, auth)| (id, csrf, auth)));
    let login_page = path == "/login";
    let (id, csrf, new_cookie) = match existing {
        Some((id, csrf, auth)) if auth || login_page => (id, csrf, false),
        _ if login_page => {
            let (id, csrf) = app.sessions.create(false);
            (id, csrf, true)
        }
        _ => return Redirect::to("/login").into_response(),
    };
    let (parts, body) = req.into_parts();
    let mut req = if parts.method == Method::POST {
        let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response();
        };
        match carried_csrf(&parts.headers, &bytes) {
            Some(t) if same(&t, &csrf) => {}
            _ => {
                tracing::warn!(
                    "console: a POST to {path} without the session's CSRF token was refused"
                );
                return (
                    StatusCode::FORBIDDEN,
                    "refused: the form does not carry this session's CSRF token",
                )
                    .into_response();
            }
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        Request::from_parts(parts, body)
    };
    req.extensions_mut().insert(Sess {
        id: id.clone(),
        csrf,
    });
    let mut resp = next.run(req).await;
    if new_cookie {
        resp.headers_mut()
            .append(header::SET_COOKIE, set_cookie(&app, &id));
    }
    resp
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `GET /login`.
pub async fn login_page(
    State(app): State<Arc<App>>,
    axum::Extension(sess): axum::Extension<Sess>,
) -> Response {
    app.views
        .page("login.html", &sess, minijinja::context! { error => false })
}

/// `POST /login`: a right token starts a new, authenticated session.
pub async fn login(
    State(app): State<Arc<App>>,
    axum::Extension(sess): axum::Extension<Sess>,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    if !same(form.token.trim(), &app.options.token) {
        tracing::warn!("console: a login with a wrong token");
        let mut resp = app
            .views
            .page("login.html", &sess, minijinja::context! { error => true });
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        return resp;
    }
    app.sessions.remove(&sess.id);
    let (id, _) = app.sessions.create(true);
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&app, &id));
    resp
}

/// `POST /logout`.
pub async fn logout(
    State(app): State<Arc<App>>,
    axum::Extension(sess): axum::Extension<Sess>,
) -> Response {
    app.sessions.remove(&sess.id);
    Redirect::to("/login").into_response()
}
