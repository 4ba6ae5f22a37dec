//! `ticketing-host console`: serves the web console on the files the other
//! commands use (`--config`, `--secrets`, `--state`, `--rules`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::Host;
use crate::server::console::{ConsoleOptions, new_token, spawn};

/// Where the login token comes from when no file is given.
const TOKEN_ENV: &str = "TICKETING_CONSOLE_TOKEN";

/// `console ...`.
#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Folder of the outegration configs the wizard saves (`<name>.json`).
    #[arg(long, default_value = "outegrations")]
    pub outegrations: PathBuf,
    /// File holding the login token; else $TICKETING_CONSOLE_TOKEN; else a
    /// new token is printed at start.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// The URL people reach the console at; an https URL (TLS ended by a
    /// proxy in front) makes the session cookie `Secure`.
    #[arg(long)]
    pub public_url: Option<String>,
}

/// The login token and whether it was generated (and must be shown).
fn token(args: &ConsoleArgs) -> anyhow::Result<(String, bool)> {
    if let Some(path) = &args.token_file {
        let t = std::fs::read_to_string(path)
            .with_context(|| format!("reading the console token file {}", path.display()))?;
        let t = t.trim().to_string();
        anyhow::ensure!(
            t.len() >= 16,
            "the console token in {} is shorter than 16 characters",
            path.display()
        );
        return Ok((t, false));
    }
    match std::env::var(TOKEN_ENV) {
        Ok(t) if t.trim().len() >= 16 => Ok((t.trim().to_string(), false)),
        Ok(_) => anyhow::bail!("{TOKEN_ENV} is shorter than 16 characters"),
        Err(_) => Ok((new_token(), true)),
    }
}

/// Serves the console until the process ends. Secrets typed into it go to
/// `--secrets`, else `secrets.toml` beside the host config.
pub fn run(
    cli: &super::Cli,
    args: &ConsoleArgs,
    host: &'static Host,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (token, generated) = token(args)?;
    let secrets = cli.secrets.clone().unwrap_or_else(|| {
        cli.config
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("secrets.toml")
    });
    let options = ConsoleOptions {
        listen: args.listen,
        token,
        config: cli.config.clone(),
        secrets,
        state: cli.state.clone(),
        outegrations: args.outegrations.clone(),
        rules: cli.rules.clone(),
        secure_cookies: args
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        max_attempts: cli.max_attempts,
    };
    let (secrets_file, token) = (options.secrets.clone(), options.token.clone());
    let handle = spawn(host, options)?;
    writeln!(out, "console on {}", handle.url())?;
    if generated {
        // The one place the token is shown: whoever started the console.
        writeln!(out, "login token: {token}")?;
    }
    writeln!(
        out,
        "secrets typed in are stored in {} (pass it as --secrets to the other commands)",
        secrets_file.display()
    )?;
    handle.wait();
    Ok(())
}
