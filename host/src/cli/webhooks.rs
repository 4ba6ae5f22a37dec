//! `serve`, `subscribe`, `subscriptions [--repair | --rotate]` and `unsubscribe`: the
//! webhook receiver and the ADO service-hook subscriptions pointing at it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Host;
use crate::cli::{Cli, load_connection, output};
use crate::platform::subscriptions::{self as subs, SubscriptionRow};
use crate::state::db::Db;

/// `serve`'s arguments.
pub struct ServeArgs<'a> {
    pub listen: std::net::SocketAddr,
    pub public_url: Option<&'a str>,
    pub outegrations: &'a [PathBuf],
    pub body_limit: usize,
    pub retention: std::time::Duration,
}

/// `serve`: runs the webhook receiver (and, with a connection, the outbox
/// worker) until the process ends.
pub fn serve(
    cli: &Cli,
    host: &'static Host,
    args: ServeArgs<'_>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    // Without a connection the webhook receiver still runs; only the
    // outbox waits for a command that has one.
    let outbox = match load_connection(cli) {
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
        outegrations: args.outegrations.to_vec(),
        body_limit: args.body_limit,
        retention: args.retention,
        ..crate::server::serve::ServeOptions::new(args.listen, cli.state.clone())
    };
    let handle = crate::server::serve::spawn(host, options)?;
    let base = args
        .public_url
        .map(str::to_string)
        .unwrap_or_else(|| handle.url());
    let endpoints: Vec<String> = handle
        .endpoints()
        .iter()
        .map(|name| format!("{}/hooks/{name}", base.trim_end_matches('/')))
        .collect();
    writeln!(out, "listening on {}", handle.url())?;
    for e in endpoints {
        writeln!(out, "endpoint {e}")?;
    }
    out.flush()?;
    handle.wait();
    Ok(())
}

/// A subscription in `subscribe --json` and `subscriptions --json`.
#[derive(Serialize)]
struct SubscriptionJson {
    id: String,
    outegration: String,
    event_type: String,
    status: String,
    enabled: bool,
    url: String,
}

impl From<&SubscriptionRow> for SubscriptionJson {
    fn from(s: &SubscriptionRow) -> Self {
        SubscriptionJson {
            id: s.id.clone(),
            outegration: s.outegration.clone(),
            event_type: s.event_type.clone(),
            status: s.status.clone(),
            enabled: s.enabled(),
            url: s.url.clone(),
        }
    }
}

#[derive(Serialize)]
struct Subscriptions {
    subscriptions: Vec<SubscriptionJson>,
    /// Outegrations `--repair` subscribed again (one of theirs was missing in ADO).
    resubscribed: Vec<String>,
    /// How many are not enabled (the command fails when any is).
    not_enabled: usize,
}

#[derive(Serialize)]
struct Deleted {
    deleted: Vec<String>,
}

/// `subscribe`.
pub fn subscribe(
    cli: &Cli,
    host: &Host,
    outegration: &Path,
    public_url: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
    if !cli.json {
        return subs::subscribe(host, &db, &conn, outegration, public_url, out);
    }
    let rows = subs::subscribe_rows(host, &db, &conn, outegration, public_url)?;
    output::print(
        out,
        &Subscriptions {
            not_enabled: rows.iter().filter(|s| !s.enabled()).count(),
            subscriptions: rows.iter().map(SubscriptionJson::from).collect(),
            resubscribed: Vec::new(),
        },
    )
}

/// `subscriptions [--repair]`: fails when one is not enabled (after
/// printing them all). With `rotate`: `subscriptions --rotate`.
pub fn subscriptions(
    cli: &Cli,
    host: &Host,
    repair: bool,
    rotate: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
    if rotate {
        return rotated(cli, &subs::rotate(host, &db, &conn)?, out);
    }
    if !cli.json {
        return subs::subscriptions(host, &db, &conn, repair, out);
    }
    let checked = subs::check(host, &db, &conn, repair)?;
    let rows: Vec<&SubscriptionRow> = checked.iter().flat_map(|o| &o.subscriptions).collect();
    output::print(
        out,
        &Subscriptions {
            subscriptions: rows.iter().map(|s| SubscriptionJson::from(*s)).collect(),
            resubscribed: checked
                .iter()
                .filter(|o| o.resubscribed)
                .map(|o| o.outegration.clone())
                .collect(),
            not_enabled: rows.iter().filter(|s| !s.enabled()).count(),
        },
    )?;
    subs::not_enabled(&checked, repair)
}

/// What `subscriptions --rotate` did: per outegration, its new
/// subscriptions (the password itself is never printed).
fn rotated(
    cli: &Cli,
    rotated: &[subs::OutegrationStatus],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let rows: Vec<&SubscriptionRow> = rotated.iter().flat_map(|o| &o.subscriptions).collect();
    if cli.json {
        return output::print(
            out,
            &Subscriptions {
                subscriptions: rows.iter().map(|s| SubscriptionJson::from(*s)).collect(),
                resubscribed: rotated.iter().map(|o| o.outegration.clone()).collect(),
                not_enabled: rows.iter().filter(|s| !s.enabled()).count(),
            },
        );
    }
    if rotated.is_empty() {
        writeln!(out, "no subscriptions")?;
    }
    for o in rotated {
        writeln!(
            out,
            "{}: webhook password rotated; its subscriptions were replaced",
            o.outegration
        )?;
        for s in &o.subscriptions {
            s.write_line(out)?;
        }
    }
    Ok(())
}

/// `unsubscribe`.
pub fn unsubscribe(
    cli: &Cli,
    host: &Host,
    outegration: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (db, conn) = (Db::open(&cli.state)?, load_connection(cli)?);
    if !cli.json {
        return subs::unsubscribe(host, &db, &conn, outegration, out);
    }
    let deleted = subs::unsubscribe_ids(host, &db, &conn, outegration)?;
    output::print(out, &Deleted { deleted })
}
