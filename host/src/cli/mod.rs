//! The command line of `ticketing-host`: the arguments ([`Cli`]) and the
//! dispatch of each command to its group's module, the top layer of the
//! host (nothing below it uses it):
//! - [`connection`]: `test-connection`, `schema`, `validate-config`,
//!   `config-schema`, `default-config`, `preview`;
//! - [`commands`]: `ticket ...`, `links`;
//! - [`work_items`]: `dispatch`, `sync`, `close`, `reopen`;
//! - [`webhooks`]: `serve`, `subscribe`, `subscriptions`, `unsubscribe`;
//! - [`jobs`]: `jobs [run | retry | discard]`;
//! - [`findings`]: `ingest`, `rules check | run`;
//! - [`console`]: the web console.
//!
//! With `--json` a command prints one JSON document ([`output`]). Exit
//! codes (set by `main`): 0 success, 1 the command failed (or any ticket or
//! job in it did), 2 a usage error.

pub mod commands;
pub mod connection;
pub mod console;
pub mod findings;
pub mod jobs;
pub mod output;
pub mod webhooks;
pub mod work_items;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Parser, Subcommand};

pub use crate::cli::commands::TicketCommand;
pub use crate::cli::connection::SchemaCommand;
use crate::connect::config::{HostConfig, connection as host_connection};
use crate::connect::secrets::Secrets;
use crate::platform::lifecycle::Lifecycle;
use crate::state::db::Db;
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
    /// The connector component; else $TICKETING_PLUGIN, else the pre-initialised build, target/guest/wasm32-wasip2/guest/ado_connector_plugin.pre.wasm.
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
    /// Which compiler makes the plugin's code when the cache lacks it:
    /// `tiered` answers at once with the baseline compiler's code and
    /// switches to the optimising compiler's when ready (stored in the
    /// cache; the command waits for it at exit); `optimizing` waits for the
    /// optimising compiler before the first call; `baseline` never
    /// optimises.
    #[arg(long, global = true, value_enum, default_value_t = CompilerChoice::Tiered)]
    pub compiler: CompilerChoice,
    /// Attempts of a dispatch, sync, close or reopen before it becomes a
    /// dead letter (`jobs`); transient failures only are retried.
    #[arg(long, global = true, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Ticketing rules file (TOML): grouping, outegrations and their
    /// dispatch visibility, rules. Used by `ingest`, `rules` and `dispatch`.
    #[arg(long, global = true, env = "TICKETING_RULES")]
    pub rules: Option<PathBuf>,
    /// Print one JSON document on standard output instead of text (see
    /// README, "Machine-readable output"); errors still go to standard
    /// error and the exit code says whether the command succeeded.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// `db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Deletes delivered inbox rows and finished jobs older than the
    /// retention; pending rows and open, dead or failed jobs are kept.
    Prune {
        /// Keep what is younger than this many days.
        #[arg(long, default_value_t = 7)]
        older_than_days: u64,
    },
}

fn days(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n.saturating_mul(24 * 3600))
}

/// `db prune`: no plugin needed.
fn db(cli: &Cli, what: &DbCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let DbCommand::Prune { older_than_days } = what;
    let pruned = Db::open(&cli.state)?.prune(days(*older_than_days))?;
    writeln!(
        out,
        "pruned {} delivered inbox row(s) and {} finished job(s) older than {older_than_days} day(s)",
        pruned.inbox_rows, pruned.jobs
    )?;
    Ok(())
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
    /// Checks an outegration config file; with the host config's connection
    /// (when `--config` exists), its area and iteration paths are also
    /// looked up in the project's trees.
    ValidateConfig {
        file: PathBuf,
        /// Checks the file alone: no connection, no network.
        #[arg(long)]
        offline: bool,
    },
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
    /// The state database: `prune` deletes delivered inbox rows and
    /// finished jobs past the retention (`serve` does it every hour).
    Db {
        #[command(subcommand)]
        what: DbCommand,
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
        /// Days delivered inbox rows and finished jobs are kept.
        #[arg(long, default_value_t = 7)]
        retention_days: u64,
    },
    /// Serves the web console: the outegration wizard, the tickets and the
    /// operations pages, behind a login token.
    Console(crate::cli::console::ConsoleArgs),
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
        /// Replace each outegration's webhook password by a new random one:
        /// ADO's subscriptions are replaced by ones sending it, the old one
        /// stops working at `serve`. The password is never printed.
        #[arg(long, conflicts_with = "repair")]
        rotate: bool,
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

/// A command line clap accepts but the command cannot honour (`--json` on
/// a command without a JSON shape): exit code 2, like clap's own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code of a command's result: 0 success, 2 a [`UsageError`], 1
/// any other failure (clap exits with 2 itself on a usage error it finds).
pub fn exit_code(result: &anyhow::Result<()>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) if e.downcast_ref::<UsageError>().is_some() => 2,
        Err(_) => 1,
    }
}

/// The workspace root (`host/..`), where `examples/` and `target/` live.
pub fn workspace_root() -> PathBuf {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    host.parent().unwrap_or(host).to_path_buf()
}

/// Where `cargo build --workspace` writes the pre-initialised plugin.
const DEFAULT_PLUGIN: &str = "target/guest/wasm32-wasip2/guest/ado_connector_plugin.pre.wasm";

fn plugin_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    let path = cli
        .plugin
        .clone()
        .or_else(|| std::env::var_os("TICKETING_PLUGIN").map(PathBuf::from))
        .unwrap_or_else(|| {
            // What `cargo build --workspace` leaves (tests/build.rs): the
            // guest profile's build with its start-up snapshotted, the
            // component the tests run.
            workspace_root().join(DEFAULT_PLUGIN)
        });
    if !path.exists() {
        bail!(
            "the plugin component {} does not exist: build it with `cargo build --workspace` (it is built and pre-initialised into {DEFAULT_PLUGIN}), or pass --plugin / set TICKETING_PLUGIN",
            path.display()
        );
    }
    Ok(path)
}

pub(crate) fn load_connection(cli: &Cli) -> anyhow::Result<Connection> {
    let config = HostConfig::load(&cli.config)?;
    let secrets = match &cli.secrets {
        Some(p) => Secrets::load(p)?,
        None => Secrets::default(),
    };
    host_connection(&config.connection, &secrets, &|v| std::env::var(v).ok())
}

/// `--compiler`: the runtime's [`ticketing_runtime::Compiler`] by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompilerChoice {
    /// Baseline code at once, optimised code when ready.
    Tiered,
    /// Optimised code from the first call.
    Optimizing,
    /// Baseline code only.
    Baseline,
}

impl From<CompilerChoice> for ticketing_runtime::Compiler {
    fn from(choice: CompilerChoice) -> Self {
        match choice {
            CompilerChoice::Tiered => Self::Tiered,
            CompilerChoice::Optimizing => Self::Optimizing,
            CompilerChoice::Baseline => Self::Baseline,
        }
    }
}

pub(crate) fn fail(e: CallError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Loads the plugin with the compilation cache and compiler the options name.
fn load_host(cli: &Cli, limits: Limits) -> anyhow::Result<Host> {
    Host::load_with(&plugin_path(cli)?, limits, &host_options(cli))
}

/// The engine options the command line names.
pub fn host_options(cli: &Cli) -> crate::HostOptions {
    crate::HostOptions {
        cache_dir: if cli.no_cache {
            None
        } else {
            cli.cache_dir
                .clone()
                .or_else(crate::HostOptions::default_cache_dir)
        },
        fresh_instances: cli.fresh_instances,
        compiler: cli.compiler.into(),
        ..Default::default()
    }
}

/// The lifecycle of a command, with the `--max-attempts` retry policy.
pub(crate) fn lifecycle<'a>(
    cli: &Cli,
    host: &'a Host,
    db: &'a Db,
    conn: &'a Connection,
) -> Lifecycle<'a> {
    let mut lc = Lifecycle::new(host, db, conn);
    lc.retry.max_attempts = cli.max_attempts;
    lc
}

/// Refuses `--json` on the commands that have no JSON shape.
fn check_json(cli: &Cli) -> anyhow::Result<()> {
    let name = match &cli.command {
        Command::Ingest(_) => "ingest",
        Command::Rules {
            what: crate::platform::rules::command::RulesCommand::Run,
        } => "rules run",
        Command::Serve { .. } => "serve",
        Command::Console(_) => "console",
        Command::Db { .. } => "db",
        _ => return Ok(()),
    };
    if cli.json {
        return Err(UsageError(format!("`{name}` has no --json output")).into());
    }
    Ok(())
}

/// The whole `ticketing-host` program: logging to standard error, the
/// command line parsed and run, the error printed, the exit code. Kept here
/// so that the binary and the tests' copy of it (`host-under-test`, which
/// the tests crate can name with `CARGO_BIN_EXE_*`) are one program.
pub fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // On a usage error clap prints it and exits with 2 (0 for --help).
    let cli = Cli::parse();
    let result = run(cli);
    if let Err(e) = &result {
        eprintln!("error: {e:#}");
    }
    std::process::ExitCode::from(exit_code(&result))
}

/// Runs the command line, writing to standard output.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    check_json(&cli)?;
    let limits = Limits {
        call_deadline: std::time::Duration::from_secs(cli.deadline.max(1)),
        ..Limits::default()
    };
    // Not locked for the whole run: `serve` and `console` run until the
    // process ends, and their threads may print.
    let mut stdout = std::io::stdout();
    match &cli.command {
        // These need no plugin.
        Command::Ticket { what } => {
            commands::ticket(&Db::open(&cli.state)?, what, cli.json, &mut stdout)
        }
        Command::Links => commands::links(&Db::open(&cli.state)?, cli.json, &mut stdout),
        Command::Db { what } => db(&cli, what, &mut stdout),
        Command::Jobs { what: None, all } => {
            jobs::list(&Db::open(&cli.state)?, *all, cli.json, &mut stdout)
        }
        // Without rules to run, neither needs the plugin.
        Command::Ingest(args) if cli.rules.is_none() || args.no_rules => {
            findings::ingest(&cli, None, args, &mut stdout)
        }
        Command::Rules {
            what: what @ crate::platform::rules::command::RulesCommand::Check,
        } => findings::rules(&cli, None, what, &mut stdout),
        Command::Serve {
            listen,
            public_url,
            outegration,
            body_limit,
            retention_days,
        } => {
            let host: &'static Host = Box::leak(Box::new(load_host(&cli, limits)?));
            let args = webhooks::ServeArgs {
                listen: *listen,
                public_url: public_url.as_deref(),
                outegrations: outegration,
                body_limit: *body_limit,
                retention: days(*retention_days),
            };
            webhooks::serve(&cli, host, args, &mut stdout)
        }
        Command::Console(args) => {
            let host: &'static Host = Box::leak(Box::new(load_host(&cli, limits)?));
            console::run(&cli, args, host, &mut stdout)
        }
        _ => run_with(&cli, &load_host(&cli, limits)?, &mut stdout),
    }
}

/// Runs a command with an already loaded plugin, writing to `out` (what
/// `run` does after loading it; tests call this to share one compiled host).
pub fn run_with(cli: &Cli, host: &Host, out: &mut dyn Write) -> anyhow::Result<()> {
    check_json(cli)?;
    let open = || Db::open(&cli.state);
    match &cli.command {
        Command::TestConnection => connection::test_connection(cli, host, out),
        Command::Schema { what } => connection::schema(cli, host, what, out),
        Command::ValidateConfig { file, offline } => {
            connection::validate_config(cli, host, file, *offline, out)
        }
        Command::ConfigSchema => connection::config_schema(host, out),
        Command::DefaultConfig {
            work_item_type,
            process,
        } => connection::default_config(cli, host, work_item_type, process.as_deref(), out),
        Command::Preview {
            outegration,
            ticket,
            validate_remote,
        } => connection::preview(cli, host, outegration, ticket, *validate_remote, out),
        Command::Ticket { what } => commands::ticket(&open()?, what, cli.json, out),
        Command::Links => commands::links(&open()?, cli.json, out),
        Command::Dispatch {
            outegration,
            project,
            jobs,
            tickets,
        } => work_items::dispatch(
            cli,
            host,
            outegration,
            project.as_deref(),
            *jobs,
            tickets,
            out,
        ),
        Command::Sync { ids, all } => {
            let (db, conn) = (open()?, load_connection(cli)?);
            work_items::sync(&lifecycle(cli, host, &db, &conn), ids, *all, cli.json, out)
        }
        Command::Close {
            ids,
            all,
            bulk,
            reason,
        } => {
            let (db, conn) = (open()?, load_connection(cli)?);
            let lc = lifecycle(cli, host, &db, &conn);
            work_items::close(&lc, ids, *all, *bulk, reason, cli.json, out)
        }
        Command::Reopen { id, reason } => {
            let (db, conn) = (open()?, load_connection(cli)?);
            work_items::reopen(&lifecycle(cli, host, &db, &conn), id, reason, cli.json, out)
        }
        Command::Jobs { what, all } => {
            let (db, conn) = (open()?, load_connection(cli)?);
            let lc = lifecycle(cli, host, &db, &conn);
            jobs::command(&lc, what.as_ref(), *all, cli.json, out)
        }
        Command::Subscribe {
            outegration,
            public_url,
        } => webhooks::subscribe(cli, host, outegration, public_url, out),
        Command::Subscriptions { repair, rotate } => {
            webhooks::subscriptions(cli, host, *repair, *rotate, out)
        }
        Command::Unsubscribe { outegration } => {
            webhooks::unsubscribe(cli, host, outegration.as_deref(), out)
        }
        Command::Ingest(args) => findings::ingest(cli, Some(host), args, out),
        Command::Rules { what } => findings::rules(cli, Some(host), what, out),
        Command::Db { what } => db(cli, what, out),
        Command::Serve { .. } => {
            bail!("`serve` runs through `cli::run`, or `serve::spawn` in a library")
        }
        Command::Console(_) => {
            bail!("`console` runs through `cli::run`, or `server::console::spawn` in a library")
        }
    }
}
