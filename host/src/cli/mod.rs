//! The command line of `ticketing-host`.

pub mod commands;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::cli::commands::TicketCommand;
use crate::connect::config::{HostConfig, connection};
use crate::state::db::Db;
use crate::platform::lifecycle::Lifecycle;
use crate::connect::secrets::Secrets;
use crate::{CallError, Connection, Host, Limits};

/// Reference host of the Azure DevOps ticketing connector.
#[derive(Debug, Parser)]
#[command(name = "ticketing-host", version)]
pub struct Cli {
    /// Host config file (TOML with a [connection] table).
    #[arg(long, global = true, default_value = "host.toml")]
    pub config: PathBuf,
    /// Secrets file (TOML: pat, access_token, client_secret, refresh_token); else environment variables.
    #[arg(long, global = true)]
    pub secrets: Option<PathBuf>,
    /// The connector component; else $TICKETING_PLUGIN, else target/wasm32-wasip2/release/ado_connector_plugin.wasm.
    #[arg(long, global = true)]
    pub plugin: Option<PathBuf>,
    /// Per-call deadline in seconds.
    #[arg(long, global = true, default_value_t = 30)]
    pub deadline: u64,
    /// State database (SQLite): tickets, links, dispatch attempts.
    #[arg(long, global = true, default_value = "state.db")]
    pub state: PathBuf,
    /// Where the compiled plugin is kept between runs; else
    /// $XDG_CACHE_HOME/ticketing-host or ~/.cache/ticketing-host.
    #[arg(long, global = true, env = "TICKETING_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile the plugin at every start (no compilation cache).
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// A new plugin instance for every call, instead of reusing one whose
    /// last call ended cleanly (slower; for the strictest isolation).
    #[arg(long, global = true)]
    pub fresh_instances: bool,
    /// Attempts of a dispatch, sync, close or reopen before it becomes a
    /// dead letter (`jobs`); transient failures only are retried.
    #[arg(long, global = true, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Ticketing rules file (TOML): grouping, outegrations and their
    /// dispatch visibility, rules. Used by `ingest`, `rules` and `dispatch`.
    #[arg(long, global = true, env = "TICKETING_RULES")]
    pub rules: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks the connection and says how to fix it when it fails.
    TestConnection,
    /// Reads the project's work item schema.
    Schema {
        #[command(subcommand)]
        what: SchemaCommand,
    },
    /// Checks an outegration config file.
    ValidateConfig { file: PathBuf },
    /// Prints the JSON Schema of the outegration config.
    ConfigSchema,
    /// Prints the default outegration config of a work item type, for the
    /// project's process template (read with a connection test).
    DefaultConfig {
        /// Work item type, e.g. `Bug`.
        #[arg(long = "type")]
        work_item_type: String,
        /// Process template; read from the project when absent.
        #[arg(long)]
        process: Option<String>,
    },
    /// Shows the exact request a dispatch would send, and every problem.
    Preview {
        #[arg(long)]
        outegration: PathBuf,
        ticket: PathBuf,
        /// Also let Azure DevOps validate it (validateOnly=true).
        #[arg(long)]
        validate_remote: bool,
    },
    /// The tickets in the state database.
    Ticket {
        #[command(subcommand)]
        what: TicketCommand,
    },
    /// Creates a work item for each ticket (stored ids, or files imported first)
    /// and stores the links.
    Dispatch {
        #[arg(long)]
        outegration: PathBuf,
        /// Project to create the work items in; else the host config's.
        #[arg(long)]
        project: Option<String>,
        /// Tickets dispatched at once (at most 64), with progress and a summary.
        #[arg(long, short = 'j', default_value_t = 1)]
        jobs: usize,
        #[arg(required = true)]
        tickets: Vec<String>,
    },
    /// Pushes the tickets' changes since their last sync to their work items.
    Sync {
        ids: Vec<String>,
        /// Every linked ticket.
        #[arg(long)]
        all: bool,
    },
    /// Closes the tickets' work items.
    Close {
        ids: Vec<String>,
        /// Every linked ticket.
        #[arg(long)]
        all: bool,
        /// One bulk call for all of them (across projects and processes).
        #[arg(long)]
        bulk: bool,
        #[arg(long, default_value = "closed from the SecOps platform")]
        reason: String,
    },
    /// Reopens a ticket's work item.
    Reopen {
        id: String,
        #[arg(long, default_value = "reopened from the SecOps platform")]
        reason: String,
    },
    /// Lists the links: ticket, work item, rev, project, type, web URL.
    Links,
    /// The outbox: open jobs, dead letters and failed jobs; `run`, `retry`, `discard`.
    Jobs {
        #[command(subcommand)]
        what: Option<crate::platform::jobs::JobsCommand>,
        /// List finished jobs too.
        #[arg(long)]
        all: bool,
    },
    /// Runs the webhook receiver: `GET /health`, `POST /hooks/{name}` per
    /// outegration (config file stem), with the durable inbox and its worker.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Public base URL ADO reaches this server at (printed with the endpoints).
        #[arg(long)]
        public_url: Option<String>,
        /// Outegration configs to serve besides those in the state database.
        #[arg(long)]
        outegration: Vec<PathBuf>,
        /// Largest accepted body in bytes.
        #[arg(long, default_value_t = crate::server::serve::DEFAULT_BODY_LIMIT)]
        body_limit: usize,
    },
    /// Creates the ADO service-hook subscriptions of an outegration, pointing
    /// at PUBLIC_URL/hooks/{name} with generated basic-auth credentials.
    Subscribe {
        #[arg(long)]
        outegration: PathBuf,
        /// Public base URL of `serve`.
        #[arg(long)]
        public_url: String,
    },
    /// Lists the stored subscriptions with their status in ADO; fails when
    /// one is not enabled.
    Subscriptions {
        /// Enable again the ones ADO put on probation or disabled, and
        /// subscribe again an outegration with one ADO no longer has.
        #[arg(long)]
        repair: bool,
    },
    /// Deletes the subscriptions of an outegration (or all) in ADO and forgets them.
    Unsubscribe {
        #[arg(long)]
        outegration: Option<PathBuf>,
    },
    /// Ingests findings (SARIF, or the JSON/CSV finding format), grouped
    /// into tickets; then, with --rules, runs the ticketing rules.
    Ingest(crate::platform::rules::command::IngestArgs),
    /// The ticketing rules (--rules FILE): `check` shows the plan, `run` applies it.
    Rules {
        #[command(subcommand)]
        what: crate::platform::rules::command::RulesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Work item types of the project.
    Types,
    /// Fields of a work item type.
    Fields { work_item_type: String },
    /// States of a work item type, with categories and initial states.
    States { work_item_type: String },
}

/// The workspace root (`host/..`), where `examples/` and `target/` live.
pub fn workspace_root() -> PathBuf {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    host.parent().unwrap_or(host).to_path_buf()
}

fn plugin_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    let path = cli
        .plugin
        .clone()
        .or_else(|| std::env::var_os("TICKETING_PLUGIN").map(PathBuf::from))
        .unwrap_or_else(|| {
            workspace_root().join("target/wasm32-wasip2/release/ado_connector_plugin.wasm")
        });
    if !path.exists() {
        bail!(
            "the plugin component {} does not exist: build it with `cargo build --release --target wasm32-wasip2 -p ado-connector-plugin`, or pass --plugin / set TICKETING_PLUGIN",
            path.display()
        );
    }
    Ok(path)
}

fn load_connection(cli: &Cli) -> anyhow::Result<Connection> {
    let config = HostConfig::load(&cli.config)?;
    let secrets = match &cli.secrets {
        Some(p) => Secrets::load(p)?,
        None => Secrets::default(),
    };
    connection(&config.connection, &secrets, &|v| std::env::var(v).ok())
}

fn fail(e: CallError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Runs the command line, writing to standard output.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let limits = Limits {
        call_deadline: std::time::Duration::from_secs(cli.deadline.max(1)),
        ..Limits::default()
    };
    let mut stdout = std::io::stdout().lock();
    match &cli.command {
        // These need no plugin.
        Command::Ticket { what } => {
            crate::cli::commands::ticket(&Db::open(&cli.state)?, what, &mut stdout)
        }
        Command::Links => crate::cli::commands::links(&Db::open(&cli.state)?, &mut stdout),
        Command::Jobs { what: None, all } => {
            crate::platform::jobs::list(&Db::open(&cli.state)?, *all, &mut stdout)
        }
        // Without rules to run, neither needs the plugin.
        Command::Ingest(args) if cli.rules.is_none() || args.no_rules => {
            let rules = crate::platform::rules::command::load(cli.rules.as_deref())?;
            crate::platform::rules::command::ingest(
                &Db::open(&cli.state)?,
                rules.as_ref(),
                args,
                None,
                &mut stdout,
            )
        }
        Command::Rules {
            what: what @ crate::platform::rules::command::RulesCommand::Check,
        } => {
            let rules = crate::platform::rules::command::required(cli.rules.as_deref())?;
            crate::platform::rules::command::rules(&Db::open(&cli.state)?, &rules, what, None, &mut stdout)
        }
        Command::Serve {
            listen,
            public_url,
            outegration,
            body_limit,
        } => {
            let host: &'static Host = Box::leak(Box::new(load_host(&cli, limits)?));
            // Without a connection the webhook receiver still runs; only
            // the outbox waits for a command that has one.
            let outbox = match load_connection(&cli) {
                Ok(conn) => {
                    let retry = crate::platform::outbox::RetryPolicy {
                        max_attempts: cli.max_attempts,
                        ..Default::default()
                    };
                    Some((conn, retry))
                }
                Err(e) => {
                    tracing::warn!("the outbox is not drained by this server: {e:#}");
                    None
                }
            };
            let options = crate::server::serve::ServeOptions {
                outbox,
                outegrations: outegration.clone(),
                body_limit: *body_limit,
                ..crate::server::serve::ServeOptions::new(*listen, cli.state.clone())
            };
            let handle = crate::server::serve::spawn(host, options)?;
            writeln!(stdout, "listening on {}", handle.url())?;
            let base = public_url.clone().unwrap_or_else(|| handle.url());
            for name in handle.endpoints() {
                writeln!(
                    stdout,
                    "endpoint {}/hooks/{name}",
                    base.trim_end_matches('/')
                )?;
            }
            drop(stdout);
            handle.wait();
            Ok(())
        }
        _ => run_with(&cli, &load_host(&cli, limits)?, &mut stdout),
    }
}

/// Loads the plugin with the compilation cache the options name.
fn load_host(cli: &Cli, limits: Limits) -> anyhow::Result<Host> {
    let options = crate::HostOptions {
        cache_dir: if cli.no_cache {
            None
        } else {
            cli.cache_dir
                .clone()
                .or_else(crate::HostOptions::default_cache_dir)
        },
        fresh_instances: cli.fresh_instances,
        ..Default::default()
    };
    Host::load_with(&plugin_path(cli)?, limits, &options)
}

/// The lifecycle of a command, with the `--max-attempts` retry policy.
fn lifecycle<'a>(cli: &Cli, host: &'a Host, db: &'a Db, conn: &'a Connection) -> Lifecycle<'a> {
    let mut lc = Lifecycle::new(host, db, conn);
    lc.retry.max_attempts = cli.max_attempts;
    lc
}

/// Runs a command with an already loaded plugin, writing to `out` (what
/// `run` does after loading it; tests call this to share one compiled host).
pub fn run_with(cli: &Cli, host: &Host, out: &mut dyn Write) -> anyhow::Result<()> {
    match &cli.command {
        Command::Ticket { what } => crate::cli::commands::ticket(&Db::open(&cli.state)?, what, out)?,
        Command::Links => crate::cli::commands::links(&Db::open(&cli.state)?, out)?,
        Command::Jobs { what, all } => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            crate::platform::jobs::command(&lifecycle(cli, host, &db, &conn), what.as_ref(), *all, out)?;
        }
        Command::Dispatch {
            outegration,
            project,
            jobs,
            tickets,
        } => {
            let mut conn = load_connection(cli)?;
            if let Some(p) = project {
                conn.project = p.clone();
            }
            let db = Db::open(&cli.state)?;
            let rules = crate::platform::rules::command::load(cli.rules.as_deref())?;
            let key = crate::platform::lifecycle::outegration_key(outegration);
            // The "Create Azure DevOps Ticket" button's setting, when a rules file gives one.
            let visible = |t: &crate::Ticket| -> anyhow::Result<()> {
                match &rules {
                    Some(r) => Ok(crate::platform::visibility::check(
                        r,
                        &key,
                        t,
                        time::OffsetDateTime::now_utc(),
                    )?),
                    None => Ok(()),
                }
            };
            if *jobs > 1 {
                return crate::platform::bulk_dispatch::dispatch(
                    crate::platform::bulk_dispatch::Workers {
                        host,
                        state: &cli.state,
                        conn: &conn,
                        jobs: *jobs,
                        retry: lifecycle(cli, host, &db, &conn).retry,
                    },
                    outegration,
                    tickets,
                    &visible,
                    out,
                );
            }
            crate::cli::commands::dispatch(
                &lifecycle(cli, host, &db, &conn),
                outegration,
                tickets,
                &visible,
                out,
            )?;
        }
        Command::Ingest(args) => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            let rules = crate::platform::rules::command::load(cli.rules.as_deref())?;
            let lc = lifecycle(cli, host, &db, &conn);
            crate::platform::rules::command::ingest(&db, rules.as_ref(), args, Some(&lc), out)?;
        }
        Command::Rules { what } => {
            let rules = crate::platform::rules::command::required(cli.rules.as_deref())?;
            let db = Db::open(&cli.state)?;
            match what {
                crate::platform::rules::command::RulesCommand::Check => {
                    crate::platform::rules::command::rules(&db, &rules, what, None, out)?
                }
                crate::platform::rules::command::RulesCommand::Run => {
                    let conn = load_connection(cli)?;
                    let lc = lifecycle(cli, host, &db, &conn);
                    crate::platform::rules::command::rules(&db, &rules, what, Some(&lc), out)?
                }
            }
        }
        Command::Sync { ids, all } => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            let ids = crate::cli::commands::selected(&db, ids, *all)?;
            crate::cli::commands::sync(&lifecycle(cli, host, &db, &conn), &ids, out)?;
        }
        Command::Close {
            ids,
            all,
            bulk,
            reason,
        } => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            let ids = crate::cli::commands::selected(&db, ids, *all)?;
            crate::cli::commands::close(&lifecycle(cli, host, &db, &conn), &ids, *bulk, reason, out)?;
        }
        Command::Reopen { id, reason } => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            crate::cli::commands::reopen(&lifecycle(cli, host, &db, &conn), id, reason, out)?;
        }
        Command::Subscribe {
            outegration,
            public_url,
        } => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            crate::platform::subscriptions::subscribe(host, &db, &conn, outegration, public_url, out)?;
        }
        Command::Subscriptions { repair } => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            crate::platform::subscriptions::subscriptions(host, &db, &conn, *repair, out)?;
        }
        Command::Unsubscribe { outegration } => {
            let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
            crate::platform::subscriptions::unsubscribe(host, &db, &conn, outegration.as_deref(), out)?;
        }
        Command::Serve { .. } => {
            bail!("`serve` runs through `cli::run`, or `serve::spawn` in a library")
        }
        Command::ConfigSchema => writeln!(out, "{}", host.config_schema().map_err(fail)?)?,
        Command::DefaultConfig {
            work_item_type,
            process,
        } => {
            let process = match process {
                Some(p) => p.clone(),
                None => {
                    let info = host.test_connection(&load_connection(cli)?).map_err(fail)?;
                    info.process_template
                        .context("the project's process template is not readable; pass --process")?
                }
            };
            writeln!(
                out,
                "{}",
                host.default_config(&process, work_item_type)
                    .map_err(fail)?
            )?;
        }
        Command::ValidateConfig { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            host.validate_config(&text).map_err(fail)?;
            writeln!(out, "{}: valid", file.display())?;
        }
        Command::TestConnection => {
            let info = host.test_connection(&load_connection(cli)?).map_err(fail)?;
            writeln!(
                out,
                "identity:         {} ({})",
                info.user.display_name, info.user.id
            )?;
            writeln!(
                out,
                "organization:     {} ({})",
                info.organization,
                match info.deployment {
                    ticketing_runtime::Deployment::Services => "Azure DevOps Services",
                    ticketing_runtime::Deployment::Server => "Azure DevOps Server",
                }
            )?;
            writeln!(
                out,
                "project:          {} ({})",
                info.project_name, info.project_id
            )?;
            writeln!(
                out,
                "process template: {}",
                info.process_template.as_deref().unwrap_or("unknown")
            )?;
        }
        Command::Schema { what } => {
            let conn = load_connection(cli)?;
            match what {
                SchemaCommand::Types => {
                    writeln!(out, "{:<24} reference name", "name")?;
                    for t in host.work_item_types(&conn).map_err(fail)? {
                        writeln!(
                            out,
                            "{:<24} {}{}",
                            t.name,
                            t.reference_name,
                            if t.is_disabled { " (disabled)" } else { "" }
                        )?;
                    }
                }
                SchemaCommand::Fields { work_item_type } => {
                    writeln!(
                        out,
                        "{:<40} {:<16} {:<9} {:<9} {:<14} allowed values",
                        "reference name", "input type", "required", "read-only", "default"
                    )?;
                    for f in host.fields(&conn, work_item_type).map_err(fail)? {
                        writeln!(
                            out,
                            "{:<40} {:<16} {:<9} {:<9} {:<14} {}",
                            f.reference_name,
                            ticketing_runtime::names::input_type(f.input_type),
                            f.required,
                            f.read_only,
                            f.default_value.unwrap_or_default(),
                            f.allowed_values.join(" | ")
                        )?;
                    }
                }
                SchemaCommand::States { work_item_type } => {
                    let initial = host.initial_states(&conn, work_item_type).map_err(fail)?;
                    writeln!(out, "{:<16} {:<12} initial", "state", "category")?;
                    for s in host.states(&conn, work_item_type).map_err(fail)? {
                        writeln!(
                            out,
                            "{:<16} {:<12} {}",
                            s.name,
                            ticketing_runtime::names::state_category(&s.category),
                            if initial.contains(&s.name) { "yes" } else { "" }
                        )?;
                    }
                }
            }
        }
        Command::Preview {
            outegration,
            ticket,
            validate_remote,
        } => {
            let config = std::fs::read_to_string(outegration)
                .with_context(|| format!("reading {}", outegration.display()))?;
            let ticket = crate::state::ticket_file::load(ticket)?;
            let p = host
                .preview(&load_connection(cli)?, &config, &ticket, *validate_remote)
                .map_err(fail)?;
            writeln!(out, "{} {}\n{}", p.method, p.url, p.body)?;
            for i in &p.problems {
                writeln!(out, "problem: {} [{}]: {}", i.path, i.rule, i.message)?;
            }
            if !p.problems.is_empty() {
                bail!("{} problem(s) would stop this dispatch", p.problems.len());
            }
        }
    }
    Ok(())
}
