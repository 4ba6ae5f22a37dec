//! The web console (`ticketing-host console`): what the CLI and the JSON
//! files do, in a browser. A wizard creates or edits an outegration
//! (authentication with a connection test, settings from the live schema,
//! mapping with the schema beside it, preview on stored tickets, sync), and
//! saves the same JSON the CLI reads; the tickets page dispatches through
//! the outbox; the operations page shows jobs, subscriptions and webhook
//! deliveries.
//!
//! Every action goes through the plugin's exports on the [`Host`] and the
//! host's lifecycle, outbox and state database, exactly as the CLI does: the
//! console holds no connector logic of its own. Pages are rendered on the
//! server (minijinja templates embedded in the binary) and work without
//! JavaScript; htmx and one small module only make them quicker to use.
//!
//! Security: a login token, a session cookie (`HttpOnly`, `SameSite=Strict`,
//! `Secure` behind an https public URL), a CSRF token on every form, a
//! Content-Security-Policy without inline scripts, and secrets that are
//! written to the secrets file and never shown back.

mod draft;
mod mapping;
mod operations;
mod preview;
mod session;
mod store;
mod tickets;
mod view;
mod wizard;
mod work;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use ticketing_runtime::Host;

pub use session::new_token;

/// What the console needs: where it listens and the files it works on.
#[derive(Clone)]
pub struct ConsoleOptions {
    /// Address to listen on (127.0.0.1 by default in the CLI; port 0: any free port).
    pub listen: SocketAddr,
    /// The login token; whoever has it can use the console.
    pub token: String,
    /// The host config file (`--config`): the console writes `[connection]` there.
    pub config: PathBuf,
    /// The secrets file (`--secrets`): secrets typed in are written there (0600).
    pub secrets: PathBuf,
    /// The state database (`--state`).
    pub state: PathBuf,
    /// The folder the outegration configs are saved in (`<name>.json`).
    pub outegrations: PathBuf,
    /// The rules file holding each outegration's dispatch visibility.
    pub rules: Option<PathBuf>,
    /// The cookie gets `Secure` (the console is reached over https).
    pub secure_cookies: bool,
    /// Attempts of a dispatch before it becomes a dead letter.
    pub max_attempts: u32,
}

impl std::fmt::Debug for ConsoleOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleOptions")
            .field("listen", &self.listen)
            .field("token", &"***")
            .field("config", &self.config)
            .field("secrets", &self.secrets)
            .field("state", &self.state)
            .field("outegrations", &self.outegrations)
            .field("rules", &self.rules)
            .field("secure_cookies", &self.secure_cookies)
            .finish()
    }
}

impl ConsoleOptions {
    /// Options with the files of a host working directory; a fresh token.
    pub fn new(listen: SocketAddr, dir: &std::path::Path) -> ConsoleOptions {
        ConsoleOptions {
            listen,
            token: new_token(),
            config: dir.join("host.toml"),
            secrets: dir.join("secrets.toml"),
            state: dir.join("state.db"),
            outegrations: dir.join("outegrations"),
            rules: None,
            secure_cookies: false,
            max_attempts: 5,
        }
    }
}

/// What every handler shares.
pub(crate) struct App {
    pub host: &'static Host,
    pub options: ConsoleOptions,
    pub sessions: session::Sessions,
    pub views: view::Views,
}

/// A running console; stops when dropped or on [`ConsoleHandle::stop`].
pub struct ConsoleHandle {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ConsoleHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ConsoleHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    /// Blocks until the server stops.
    pub fn wait(mut self) {
        if let Some(s) = self.server.take() {
            let _ = s.join();
        }
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let _ = s.join();
        }
    }
}

impl Drop for ConsoleHandle {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(wizard::home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/assets/{name}", get(view::asset))
        .route("/outegrations/{name}/edit", post(wizard::edit))
        .route("/wizard/new", post(wizard::new_draft))
        .route(
            "/wizard/auth",
            get(wizard::auth_page).post(wizard::auth_post),
        )
        .route(
            "/wizard/settings",
            get(wizard::settings_page).post(wizard::settings_post),
        )
        .route("/wizard/settings/states", get(wizard::states_fragment))
        .route("/wizard/mapping", get(mapping::page).post(mapping::post))
        .route("/wizard/mapping/check", post(mapping::check))
        .route("/wizard/preview", get(preview::page))
        .route("/wizard/preview/validate", post(preview::validate))
        .route(
            "/wizard/sync",
            get(wizard::sync_page).post(wizard::sync_post),
        )
        .route("/wizard/save", post(wizard::save))
        .route("/tickets", get(tickets::page))
        .route("/tickets/{id}", get(tickets::drawer))
        .route("/tickets/{id}/dispatch", post(tickets::dispatch))
        .route("/operations", get(operations::page))
        .route(
            "/operations/jobs/{id}/{action}",
            post(operations::job_action),
        )
        .route("/operations/subscriptions/repair", post(operations::repair))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            session::guard,
        ))
        .with_state(app)
}

/// Binds and serves the console on its own thread; returns once it accepts connections.
pub fn spawn(host: &'static Host, options: ConsoleOptions) -> anyhow::Result<ConsoleHandle> {
    std::fs::create_dir_all(&options.outegrations)?;
    let listener = std::net::TcpListener::bind(options.listen)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let app = Arc::new(App {
        host,
        options,
        sessions: session::Sessions::default(),
        views: view::Views::new()?,
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::Builder::new()
        .name("console".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("the console's runtime did not start: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("the console's listener: {e}");
                        return;
                    }
                };
                let served = axum::serve(listener, router(app))
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!("the console stopped: {e}");
                }
            });
        })?;
    Ok(ConsoleHandle {
        addr,
        shutdown: Some(tx),
        server: Some(server),
    })
}
