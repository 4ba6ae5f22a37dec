//! Embedding the Azure DevOps connector in a platform: load the component,
//! test the connection, preview a ticket, create its work item.
//!
//! ```sh
//! export ADO_BASE_URL=https://dev.azure.com/contoso ADO_PROJECT="Fabrikam Security"
//! read -rs ADO_PAT && export ADO_PAT      # from your secret store; never on a command line
//! cargo run --example embed -- ado_connector_plugin.wasm \
//!     examples/outegrations/agile-bug.json examples/tickets/SEC-102.json
//! ```

use std::path::Path;

use ticketing_runtime::model::ticket_json;
use ticketing_runtime::{Connection, Credentials, Host, HostOptions, Limits, Link};

/// Everything a platform does to dispatch one ticket.
pub fn run(plugin: &Path, conn: &Connection, config: &str, ticket: &str) -> anyhow::Result<Link> {
    // Compile once per process (cached on disk); share the `Host` across threads.
    let options = HostOptions {
        cache_dir: HostOptions::default_cache_dir(),
        ..HostOptions::default()
    };
    let host = Host::load_with(plugin, Limits::default(), &options)?;

    // A failed call is a typed `CallError`; its text says what is wrong and how to fix it.
    let info = host.test_connection(conn)?;
    println!(
        "connected as {} to {}",
        info.user.display_name, info.project_name
    );

    // Your platform's ticket, in the one ticket JSON format.
    let ticket = ticketing_runtime::convert::ticket_from_model(ticket_json::parse(ticket)?);

    // The exact request a dispatch would send, and every problem with it.
    let preview = host.preview(conn, config, &ticket, false)?;
    println!("{} {}", preview.method, preview.url);
    if let Some(p) = preview.problems.first() {
        anyhow::bail!(
            "{} problem(s), first: {} {}",
            preview.problems.len(),
            p.path,
            p.message
        );
    }

    // Create the work item; store the link (and its sync state) in your database.
    let link = host.create(conn, config, &ticket)?;
    println!(
        "created work item {} at {}",
        link.work_item_id, link.web_url
    );
    Ok(link)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [plugin, config, ticket] = args.as_slice() else {
        anyhow::bail!("usage: embed PLUGIN.wasm OUTEGRATION.json TICKET.json");
    };
    let env = |name: &str| {
        std::env::var(name).map_err(|_| anyhow::anyhow!("set {name} in the environment"))
    };
    let conn = Connection {
        base_url: env("ADO_BASE_URL")?,
        project: env("ADO_PROJECT")?,
        credentials: Credentials::Pat(env("ADO_PAT")?),
    };
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{p}: {e}"));
    run(Path::new(plugin), &conn, &read(config)?, &read(ticket)?)?;
    Ok(())
}
