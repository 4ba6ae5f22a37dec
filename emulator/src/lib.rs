//! `ado-emulator` is an Azure DevOps Services REST emulator, as Azurite is for
//! Azure Storage: an Entra ID token endpoint, `connectionData`, projects, work
//! item types with their fields, states and transitions (the Agile process,
//! from Microsoft's samples), and work items with ADO's validation rules and
//! error envelope. It serves on 127.0.0.1 only.
//!
//! It follows Azure DevOps' documented behaviour, never a client's
//! convenience, and depends on nothing of ours.

// Handlers return ADO's error response as the `Err` of a `Result`: it is
// built once per failed request, so its size does not matter.
#![allow(clippy::result_large_err)]

mod auth;
mod background;
mod casefold;
mod classification;
mod commit;
mod control;
mod data;
mod dates;
mod errors;
pub mod events;
pub mod faults;
pub mod hooks;
mod identities;
mod layers;
mod model;
mod net;
pub mod opaque;
mod patch;
pub mod process;
pub mod ratelimit;
pub mod recorder;
mod requests;
mod routes;
mod rules;
pub mod seed;
pub mod server;
pub mod setup;
mod site;
mod state;
mod store;
pub mod variants;
mod views;
mod wiql;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

use crate::data::Data;
use crate::model::{App, Identity, Project, Scope};
use crate::process::Process;
use crate::site::Site;
use crate::state::Emu;

/// A project to create at start.
#[derive(Debug, Clone)]
pub struct ProjectSeed {
    pub id: String,
    pub name: String,
    pub process: Arc<Process>,
}

/// What the emulator starts with.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub organization: String,
    pub tenant_id: String,
    pub projects: Vec<ProjectSeed>,
    /// Lifetime of issued access tokens.
    pub token_lifetime: Duration,
    /// Service hook retry schedule and URL rules.
    pub hooks: hooks::HookSettings,
    /// Per-identity rate limit; `None` (the default) turns it off.
    pub rate_limit: Option<ratelimit::RateLimit>,
    /// Faults in force at start (none by default).
    pub faults: faults::Faults,
    /// Settings for behaviours no ADO source decides (`variants`).
    pub variants: variants::Variants,
    /// Azure DevOps Server mode (`EmulatorConfig::server`); `None` is Services.
    pub server: Option<server::ServerMode>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            organization: seed::ORGANIZATION.into(),
            tenant_id: seed::TENANT_ID.into(),
            // One project per system process, side by side.
            projects: vec![
                ProjectSeed {
                    id: seed::PROJECT_ID.into(),
                    name: seed::PROJECT.into(),
                    process: Arc::new(Process::agile()),
                },
                ProjectSeed {
                    id: seed::PROJECT_BASIC_ID.into(),
                    name: seed::PROJECT_BASIC.into(),
                    process: Arc::new(Process::basic()),
                },
                ProjectSeed {
                    id: seed::PROJECT_SCRUM_ID.into(),
                    name: seed::PROJECT_SCRUM.into(),
                    process: Arc::new(Process::scrum()),
                },
                ProjectSeed {
                    id: seed::PROJECT_CMMI_ID.into(),
                    name: seed::PROJECT_CMMI.into(),
                    process: Arc::new(Process::cmmi()),
                },
            ],
            token_lifetime: Duration::from_secs(3599),
            hooks: hooks::HookSettings::default(),
            rate_limit: None,
            faults: faults::Faults::default(),
            variants: variants::Variants::from_env(),
            server: None,
        }
    }
}

impl EmulatorConfig {
    /// These settings with service-hook receivers on loopback and private
    /// addresses accepted, which ADO refuses: for tests and the demo, whose
    /// receivers run on 127.0.0.1.
    pub fn with_local_receivers(mut self) -> Self {
        self.hooks = self.hooks.with_local_receivers();
        self
    }

    /// These settings under `variants` (`variants::Variants`).
    pub fn with_variants(mut self, variants: variants::Variants) -> Self {
        self.variants = variants;
        self
    }

    /// A Server `release` with one collection, `DefaultCollection`, under `/tfs`.
    pub fn server(release: server::ServerRelease) -> EmulatorConfig {
        EmulatorConfig {
            organization: server::COLLECTION.into(),
            server: Some(server::ServerMode {
                release,
                virtual_directory: server::VIRTUAL_DIRECTORY.into(),
            }),
            ..EmulatorConfig::default()
        }
    }
}

/// A running emulator; dropping it stops the server.
pub struct Emulator {
    emu: Arc<Emu>,
    addr: SocketAddr,
    _server: background::Background,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

fn user(id: &str, name: &str, unique: &str, member: bool) -> Identity {
    Identity {
        id: id.into(),
        display_name: name.into(),
        unique_name: unique.into(),
        member_of_org: member,
    }
}

fn build_state(config: &EmulatorConfig) -> Emu {
    let person = user(
        "d291b0c4-a05c-4ea6-8df1-4b41d5f39eff",
        seed::USER_NAME,
        seed::USER_EMAIL,
        true,
    );
    let mut data = Data::default();
    data.pats
        .insert(seed::PAT.into(), (person.clone(), Scope::Full));
    data.pats.insert(
        seed::PAT_NO_WORK_SCOPE.into(),
        (person.clone(), Scope::ProjectRead),
    );
    setup::seed_pats(&mut data, &person);
    data.refresh_tokens
        .insert(seed::REFRESH_TOKEN.into(), person);
    for p in &config.projects {
        let trees = classification::Trees::seed(&p.name, &mut data.next_node_id);
        data.trees.insert(p.id.clone(), trees);
    }
    Emu {
        site: Site {
            organization: config.organization.clone(),
            instance_id: uuid::Uuid::new_v4().to_string(),
            projects: config
                .projects
                .iter()
                .map(|p| Project {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    process: p.process.clone(),
                })
                .collect(),
            base_url: Mutex::new(String::new()),
        },
        tenant_id: config.tenant_id.clone(),
        apps: setup::with_apps(vec![
            App {
                client_id: seed::SP_CLIENT_ID.into(),
                secret: seed::SP_CLIENT_SECRET.into(),
                identity: user(
                    "5f1b7f0e-7a43-4d6c-9c1d-1f2a3b4c5d6e",
                    "SecOps Connector (service principal)",
                    seed::SP_CLIENT_ID,
                    true,
                ),
            },
            App {
                client_id: seed::SP_OUTSIDER_CLIENT_ID.into(),
                secret: seed::SP_OUTSIDER_CLIENT_SECRET.into(),
                identity: user(
                    "0e0e0e0e-1111-2222-3333-444444444444",
                    "Outsider app",
                    seed::SP_OUTSIDER_CLIENT_ID,
                    false,
                ),
            },
            App {
                client_id: "872cd9fa-d31f-45e0-9eab-6e460a02d1f1".into(),
                secret: String::new(),
                identity: user(
                    "d291b0c4-a05c-4ea6-8df1-4b41d5f39eff",
                    seed::USER_NAME,
                    seed::USER_EMAIL,
                    true,
                ),
            },
        ]),
        token_lifetime: config.token_lifetime,
        data: Mutex::new(data),
        requests: AtomicU64::new(0),
        sign_in_page_mode: AtomicBool::new(false),
        events: Mutex::new(Vec::new()),
        hooks: hooks::Hooks::new(config.hooks.clone(), config.variants.hook_redirects),
        faults: faults::FaultState::new(config.faults.clone()),
        limiter: ratelimit::Limiter::new(config.rate_limit.clone()),
        variants: config.variants,
        counts: requests::Counter::default(),
        server: config.server.clone(),
        setup: setup::Setup::seeded(
            config
                .projects
                .iter()
                .find(|p| p.name == seed::PROJECT_BASIC)
                .map(|p| p.id.as_str()),
        ),
    }
}

/// The router for an emulator state, counting every request. Around the
/// REST routes, outermost first: counting, faults, rate limiting; the
/// `/_emulator` admin routes bypass all three.
fn app(emu: Arc<Emu>) -> axum::Router {
    let counter = emu.clone();
    use axum::middleware::from_fn_with_state as with;
    let inner = routes::router(emu.clone())
        .layer(with(emu.clone(), layers::setup))
        .layer(with(emu.clone(), layers::rate_limit))
        .layer(with(emu.clone(), layers::faults))
        .layer(with(emu.clone(), layers::count))
        .merge(routes::admin::routes().with_state(emu.clone()))
        .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
        counter.requests.fetch_add(1, Ordering::Relaxed);
        // Never the Authorization header: it carries the caller's secret.
        tracing::debug!(target: "ado_emulator", method = %req.method(), path = %req.uri().path(), "request");
        next.run(req)
    }));
    // Outermost: resource segments are matched without case, as ADO does,
    // before any route is chosen.
    axum::Router::new()
        .fallback_service(inner)
        .layer(axum::middleware::map_request(casefold::layer))
        // A Server's virtual directory comes off the path.
        .layer(with(emu.clone(), layers::server))
        // Outside all: `errors=opaque` (`variants`) sees every answer.
        .layer(with(emu, layers::opaque))
}

/// Serves an emulator on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: EmulatorConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let emu = Arc::new(build_state(&config));
    *emu.base_url.lock().unwrap_or_else(|e| e.into_inner()) = format!(
        "http://{}{}",
        listener.local_addr()?,
        server::path_prefix(config.server.as_ref())
    );
    let dispatching = emu.clone();
    net::serve(
        move || hooks::delivery::spawn(dispatching),
        listener,
        app(emu),
        shutdown,
    )
    .await?;
    Ok(())
}

impl Emulator {
    /// Starts on 127.0.0.1 in a background thread; returns once listening.
    pub fn start(config: EmulatorConfig) -> anyhow::Result<Emulator> {
        let std_listener =
            std::net::TcpListener::bind(("127.0.0.1", config.port)).context("binding 127.0.0.1")?;
        let addr = std_listener.local_addr()?;
        let emu = Arc::new(build_state(&config));
        *emu.base_url.lock().unwrap_or_else(|e| e.into_inner()) = format!(
            "http://{addr}{}",
            server::path_prefix(config.server.as_ref())
        );
        let router = app(emu.clone());
        let served = emu.clone();
        let server = background::Background::spawn(
            "ado-emulator",
            std_listener,
            move |listener, stop| async move {
                let _ = net::serve(
                    move || hooks::delivery::spawn(served),
                    listener,
                    router,
                    async {
                        let _ = stop.await;
                    },
                )
                .await;
            },
        )?;
        Ok(Emulator {
            emu,
            addr,
            _server: server,
        })
    }

    /// `http://127.0.0.1:PORT`; also the Entra authority.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The organization URL, `http://127.0.0.1:PORT/{org}`; in Server mode
    /// the collection URL, `http://127.0.0.1:PORT/tfs/DefaultCollection`.
    pub fn org_url(&self) -> String {
        format!("{}/{}", self.emu.base_url(), self.emu.organization)
    }

    /// A stored work item as GET with `$expand=relations` returns it.
    pub fn work_item(&self, id: i32) -> Option<serde_json::Value> {
        let item = self.emu.data().work_items.get(&id).cloned()?;
        Some(routes::workitems::item_json(&self.emu, &item, true))
    }

    /// Requests served so far.
    pub fn request_count(&self) -> u64 {
        self.emu.requests.load(Ordering::Relaxed)
    }

    /// When on, unauthenticated calls get the 203 sign-in page even with
    /// `X-TFS-FedAuthRedirect: Suppress` (as some endpoints do).
    pub fn set_sign_in_page_mode(&self, on: bool) {
        self.emu.sign_in_page_mode.store(on, Ordering::Relaxed);
    }

    /// Lowers the attachment upload limit (ADO's is 130 MB), so tests can
    /// exercise it without sending 130 MB.
    pub fn set_attachment_limit(&self, bytes: usize) {
        self.emu.data().store.attachment_limit = Some(bytes);
    }

    /// The id of a project by name.
    pub fn project_id(&self, name: &str) -> Option<String> {
        self.emu.project(name).map(|p| p.id.clone())
    }
}
