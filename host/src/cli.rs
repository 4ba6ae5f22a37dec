//! The command line of `ticketing-host`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::config::{HostConfig, connection};
use crate::secrets::Secrets;
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
    /// Creates a work item for each ticket.
    Dispatch {
        #[arg(long)]
        outegration: PathBuf,
        #[arg(required = true)]
        tickets: Vec<PathBuf>,
    },
    /// Runs the demo against an in-process ADO emulator.
    Demo,
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
        .unwrap_or_else(|| workspace_root().join("target/wasm32-wasip2/release/ado_connector_plugin.wasm"));
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

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let limits = Limits { call_deadline: std::time::Duration::from_secs(cli.deadline.max(1)), ..Limits::default() };
    if let Command::Demo = cli.command {
        return crate::demo::run(&plugin_path(&cli)?, &workspace_root());
    }
    let host = Host::load(&plugin_path(&cli)?, limits)?;
    match &cli.command {
        Command::Demo => unreachable!("handled above"),
        Command::ConfigSchema => println!("{}", host.config_schema().map_err(fail)?),
        Command::DefaultConfig { work_item_type, process } => {
            let process = match process {
                Some(p) => p.clone(),
                None => {
                    let info = host.test_connection(&load_connection(&cli)?).map_err(fail)?;
                    info.process_template.context("the project's process template is not readable; pass --process")?
                }
            };
            println!("{}", host.default_config(&process, work_item_type).map_err(fail)?);
        }
        Command::ValidateConfig { file } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            host.validate_config(&text).map_err(fail)?;
            println!("{}: valid", file.display());
        }
        Command::TestConnection => {
            let info = host.test_connection(&load_connection(&cli)?).map_err(fail)?;
            println!("identity:         {} ({})", info.user.display_name, info.user.id);
            println!("organization:     {} ({})", info.organization, match info.deployment { crate::Deployment::Services => "Azure DevOps Services", crate::Deployment::Server => "Azure DevOps Server" });
            println!("project:          {} ({})", info.project_name, info.project_id);
            println!("process template: {}", info.process_template.as_deref().unwrap_or("unknown"));
        }
        Command::Schema { what } => {
            let conn = load_connection(&cli)?;
            match what {
                SchemaCommand::Types => {
                    println!("{:<24} reference name", "name");
                    for t in host.work_item_types(&conn).map_err(fail)? {
                        println!("{:<24} {}{}", t.name, t.reference_name, if t.is_disabled { " (disabled)" } else { "" });
                    }
                }
                SchemaCommand::Fields { work_item_type } => {
                    println!("{:<40} {:<16} {:<9} {:<9} {:<14} allowed values", "reference name", "input type", "required", "read-only", "default");
                    for f in host.fields(&conn, work_item_type).map_err(fail)? {
                        println!(
                            "{:<40} {:<16} {:<9} {:<9} {:<14} {}",
                            f.reference_name,
                            crate::display::input_type(f.input_type),
                            f.required,
                            f.read_only,
                            f.default_value.unwrap_or_default(),
                            f.allowed_values.join(" | ")
                        );
                    }
                }
                SchemaCommand::States { work_item_type } => {
                    let initial = host.initial_states(&conn, work_item_type).map_err(fail)?;
                    println!("{:<16} {:<12} initial", "state", "category");
                    for s in host.states(&conn, work_item_type).map_err(fail)? {
                        println!("{:<16} {:<12} {}", s.name, crate::display::state_category(&s.category), if initial.contains(&s.name) { "yes" } else { "" });
                    }
                }
            }
        }
        Command::Preview { outegration, ticket, validate_remote } => {
            let config = std::fs::read_to_string(outegration).with_context(|| format!("reading {}", outegration.display()))?;
            let ticket = crate::ticket_file::load(ticket)?;
            let p = host.preview(&load_connection(&cli)?, &config, &ticket, *validate_remote).map_err(fail)?;
            println!("{} {}\n{}", p.method, p.url, p.body);
            for i in &p.problems {
                println!("problem: {} [{}]: {}", i.path, i.rule, i.message);
            }
            if !p.problems.is_empty() {
                bail!("{} problem(s) would stop this dispatch", p.problems.len());
            }
        }
        Command::Dispatch { outegration, tickets } => {
            let config = std::fs::read_to_string(outegration).with_context(|| format!("reading {}", outegration.display()))?;
            let conn = load_connection(&cli)?;
            let mut failed = 0;
            for path in tickets {
                let ticket = crate::ticket_file::load(path)?;
                match host.create(&conn, &config, &ticket) {
                    Ok(link) => println!("{} -> work item {} rev {} {}", ticket.id, link.work_item_id, link.rev, link.web_url),
                    Err(e) => {
                        failed += 1;
                        eprintln!("{} -> {e}", ticket.id);
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} of {} ticket(s) were not dispatched", tickets.len());
            }
        }
    }
    Ok(())
}
