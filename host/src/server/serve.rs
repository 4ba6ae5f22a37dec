//! `ticketing-host serve`: the webhook receiver.
//!
//! Routes: `GET /health`, and `POST /hooks/{name}` for each outegration (the
//! config file's stem names its endpoint). A delivery is authenticated by the
//! plugin (`webhook.inspect`, constant time) with the outegration's stored
//! credentials, then written to the durable inbox in the state database in a
//! committed transaction (deliveries arriving together share one commit:
//! `inbox_writer`), and only then acknowledged (200). A body that is not
//! JSON gets 415, one past the limit 413 (`intake`: the limit follows ADO's
//! documented field sizes), malformed ones 400, unauthenticated ones 401,
//! each with nothing stored and a log line naming the endpoint, the size
//! and the subscription. Nothing logged carries a header value or a secret.
//!
//! Inbox workers, one per core, apply the inbox (`inbox_worker`): each the
//! deliveries of its share of the work items, in order, through the
//! plugin's `webhook.handle`. At start the pending rows are processed
//! first, so a host stopped between acknowledgement and processing
//! finishes the work.
//!
//! With a connection, a second thread drains the outbox (`jobs`): jobs a
//! killed command left and retries that fall due run here, one attempt at a
//! time, so a retry waiting for its backoff never holds up a delivery.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use crate::platform::lifecycle::outegration_key;
use crate::server::inbox_worker::{self, Wake};
use crate::server::inbox_writer::InboxWriter;
use crate::state::db::Db;
use crate::state::db::NewDelivery;
use crate::{CallError, ConnectorError, DeliveryAuth, DeliveryRequest, Host};

pub use crate::server::inbox_worker::{process_pending, process_row};
use crate::server::intake;
pub use crate::server::intake::DEFAULT_BODY_LIMIT;

/// What the server needs. Its `Debug` names the connection's kind of
/// credentials only (`Connection`'s own `Debug` redacts the secrets).
#[derive(Clone)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// The state database.
    pub state: PathBuf,
    /// Outegration configs to serve besides those the state database knows.
    pub outegrations: Vec<PathBuf>,
    /// Largest accepted body, in bytes.
    pub body_limit: usize,
    /// Whether the inbox worker runs (off: deliveries are only accepted).
    pub process: bool,
    /// The connection outbox jobs run with; none: the outbox is left alone.
    pub outbox: Option<(crate::Connection, crate::platform::outbox::RetryPolicy)>,
    /// How long delivered inbox rows and finished jobs are kept; the inbox
    /// worker prunes older ones at start and every hour (see `retention`).
    pub retention: Duration,
    /// Deliveries handled at once; one more is answered 503 (`saturation`).
    pub max_deliveries: usize,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("listen", &self.listen)
            .field("state", &self.state)
            .field("outegrations", &self.outegrations)
            .field("body_limit", &self.body_limit)
            .field("process", &self.process)
            .field("retention", &self.retention)
            .field("max_deliveries", &self.max_deliveries)
            .field(
                "outbox",
                &self.outbox.as_ref().map(|(c, retry)| {
                    let auth = match &c.credentials {
                        crate::Credentials::Pat(_) => "pat",
                        crate::Credentials::AccessToken(_) => "access-token",
                        crate::Credentials::ClientCredentials(_) => "client-credentials",
                        crate::Credentials::RefreshToken(_) => "refresh-token",
                    };
                    (&c.base_url, &c.project, auth, retry)
                }),
            )
            .finish()
    }
}

impl ServeOptions {
    /// Listen on `listen` with the state at `state`; defaults for the rest.
    pub fn new(listen: SocketAddr, state: impl Into<PathBuf>) -> ServeOptions {
        ServeOptions {
            listen,
            state: state.into(),
            outegrations: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            process: true,
            outbox: None,
            retention: crate::state::db::retention::DEFAULT_RETENTION,
            max_deliveries: super::saturation::MAX_CONCURRENT_DELIVERIES,
        }
    }
}

pub use crate::platform::subscriptions::endpoint_name;

struct App {
    host: &'static Host,
    inbox: InboxWriter,
    endpoints: super::endpoints::Endpoints,
    wake: Arc<Wake>,
    body_limit: usize,
    bound: super::saturation::Bound,
}

/// A running server; stops when [`ServeHandle::stop`] is called or it is dropped.
pub struct ServeHandle {
    addr: SocketAddr,
    endpoints: Vec<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    wake: Arc<Wake>,
    workers: Vec<std::thread::JoinHandle<()>>,
    outbox_worker: Option<std::thread::JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for ServeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeHandle")
            .field("addr", &self.addr)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

impl ServeHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The endpoint names served (`/hooks/{name}`).
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Stops accepting, lets the worker finish the row it is on, and waits.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    /// Blocks until the server stops (it runs until the process ends).
    pub fn wait(mut self) {
        if let Some(s) = self.server.take() {
            let _ = s.join();
        }
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let _ = s.join();
        }
        self.wake.notify();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        if let Some(w) = self.outbox_worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for ServeHandle {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// Binds, starts the worker (pending rows first) and the server, and returns
/// once the server accepts connections.
pub fn spawn(host: &'static Host, options: ServeOptions) -> anyhow::Result<ServeHandle> {
    let db = Db::open(&options.state)?;
    let mut keys: Vec<String> = options
        .outegrations
        .iter()
        .map(|p| outegration_key(p))
        .collect();
    keys.extend(db.outegrations()?);
    keys.sort();
    keys.dedup();
    // The endpoints read the credentials again while serving (a rotated
    // password takes over): a connection of their own.
    let endpoints = super::endpoints::Endpoints::load(Db::open(&options.state)?, &keys)?;
    let names = endpoints.names();

    let listener = std::net::TcpListener::bind(options.listen)
        .with_context(|| format!("listening on {}", options.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;

    let wake = Arc::new(Wake::default());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers = if options.process {
        inbox_worker::spawn(host, &options.state, options.retention, &wake, &stop)?
    } else {
        Vec::new()
    };
    let outbox_worker = match options.outbox.clone() {
        Some((conn, retry)) => {
            let (state, stop) = (options.state.clone(), stop.clone());
            Some(
                std::thread::Builder::new()
                    .name("outbox-worker".into())
                    .spawn(move || {
                        crate::platform::jobs::worker(host, &state, &conn, retry, &stop)
                    })?,
            )
        }
        None => None,
    };

    let app = Arc::new(App {
        host,
        inbox: {
            // An acknowledged delivery is never sent again: its commit must
            // survive power loss.
            db.sync_every_commit()?;
            InboxWriter::spawn(db)?
        },
        endpoints,
        wake: wake.clone(),
        body_limit: options.body_limit,
        bound: super::saturation::Bound::new(options.max_deliveries),
    });
    let router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/hooks/{name}", post(receive))
        // `receive` reads the body itself, to log what it refuses.
        .layer(DefaultBodyLimit::disable())
        // Every 503 (saturated, busy) carries Retry-After.
        .layer(axum::middleware::from_fn(super::saturation::retry_after))
        .with_state(app);
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<()>>();
    let server = std::thread::Builder::new()
        .name("webhook-server".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.into()));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let served = axum::serve(listener, router).with_graceful_shutdown(async {
                    let _ = shutdown_rx.await;
                });
                if let Err(e) = served.await {
                    tracing::error!("webhook server stopped: {e}");
                }
            });
        })?;
    ready_rx
        .recv()
        .context("the webhook server thread ended before it started")??;
    tracing::info!(%addr, endpoints = ?names, "webhook server listening");
    Ok(ServeHandle {
        addr,
        endpoints: names,
        shutdown: Some(shutdown_tx),
        server: Some(server),
        wake,
        workers,
        outbox_worker,
        stop,
    })
}

fn status_of(e: &CallError) -> StatusCode {
    match e {
        CallError::Connector(ConnectorError::Unauthorized(_) | ConnectorError::Forbidden(_)) => {
            StatusCode::UNAUTHORIZED
        }
        CallError::Connector(_) => StatusCode::BAD_REQUEST,
        // Transient: the sender retries (with Retry-After, see `saturation`).
        CallError::Busy(_) | CallError::Deadline(_) => StatusCode::SERVICE_UNAVAILABLE,
        CallError::Memory | CallError::Trap(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn receive(
    State(app): State<Arc<App>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, &'static str) {
    let presents = |auth: &DeliveryAuth| super::saturation::presents(&headers, auth);
    let Some(endpoint) = app.endpoints.get(&name, presents) else {
        tracing::warn!(endpoint = %name, "delivery to an unknown endpoint");
        return (StatusCode::NOT_FOUND, "unknown endpoint");
    };
    // A flood of wrong credentials costs no plugin call and no slot; past the
    // bound a delivery is 503, before its body is read (`saturation`).
    if !presents(&endpoint.auth) {
        return (StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let Some(_permit) = app.bound.try_enter() else {
        tracing::warn!(endpoint = %name, "saturated: delivery answered 503");
        return (StatusCode::SERVICE_UNAVAILABLE, "busy: retry later");
    };
    let declared = intake::declared_length(&headers);
    let read = match intake::check_json(&headers) {
        Ok(()) => intake::read_limited(body, declared, app.body_limit).await,
        Err(refused) => Err(refused),
    };
    let body = match read {
        Ok(body) => body,
        Err(refused) => {
            let (status, answer) = match refused {
                intake::Refusal::NotJson { .. } => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "deliveries are JSON (application/json)",
                ),
                intake::Refusal::TooLarge { .. } => {
                    (StatusCode::PAYLOAD_TOO_LARGE, "delivery too large")
                }
                intake::Refusal::Broken(_) => (StatusCode::BAD_REQUEST, "unreadable delivery"),
            };
            tracing::warn!(endpoint = %name, outegration = %endpoint.outegration, bytes = declared, "{}", refused.describe());
            return (status, answer);
        }
    };
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let app2 = app.clone();
    let done =
        tokio::task::spawn_blocking(move || accept(&app2, &name, &endpoint, headers, body)).await;
    match done {
        Ok(answer) => answer,
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

/// Authenticates a delivery, and stores it in the inbox before answering.
fn accept(
    app: &App,
    name: &str,
    endpoint: &super::endpoints::Endpoint,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> (StatusCode, &'static str) {
    let request = DeliveryRequest { headers, body };
    let delivery = match app.host.inspect(&endpoint.auth, &request) {
        Ok(d) => d,
        Err(e) => {
            let status = status_of(&e);
            // The plugin's errors never carry the credentials; the headers are not logged.
            tracing::warn!(endpoint = %name, status = status.as_u16(), bytes = request.body.len(), "delivery refused: {e}");
            return match status {
                StatusCode::UNAUTHORIZED => (status, "unauthorized"),
                StatusCode::BAD_REQUEST => (status, "malformed delivery"),
                StatusCode::SERVICE_UNAVAILABLE => (status, "busy: retry later"),
                _ => (status, "internal error"),
            };
        }
    };
    let stored = app.inbox.store(NewDelivery {
        outegration: endpoint.outegration.clone(),
        event_id: delivery.event_id.clone(),
        event_type: delivery.event_type.clone(),
        work_item_id: delivery.work_item_id,
        headers: request.headers,
        body: request.body,
    });
    match stored {
        Ok(id) => {
            tracing::info!(endpoint = %name, row = id, event = %delivery.event_id, event_type = %delivery.event_type, work_item = delivery.work_item_id, "delivery accepted");
            app.wake.notify();
            (StatusCode::OK, "accepted")
        }
        Err(e) => {
            tracing::error!(endpoint = %name, "the inbox refused a delivery: {e:#}");
            (StatusCode::SERVICE_UNAVAILABLE, "not stored")
        }
    }
}
