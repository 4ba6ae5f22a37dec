//! The demo: the ADO emulator in process, then the real plugin through this
//! host: connection test, schema, and dispatch of the sample tickets; then
//! the lifecycle of tickets through the state database
//! ([`lifecycle`]).

use std::path::Path;
use std::time::Instant;

mod lifecycle;

use ado_emulator::{Emulator, EmulatorConfig, seed};
use anyhow::Context as _;

use ticketing_runtime::{CallError, Connection, Credentials, Host, HostOptions, Limits};

fn show(e: &CallError) -> String {
    e.to_string().replace('\n', "\n    ")
}

/// Runs the demo with the plugin at `plugin` and the examples under `root`.
pub fn run(plugin: &Path, root: &Path) -> anyhow::Result<()> {
    let emulator =
        Emulator::start(EmulatorConfig::default()).context("starting the ADO emulator")?;
    println!(
        "== Azure DevOps emulator listening at {}",
        emulator.org_url()
    );

    let started = Instant::now();
    // Leaked: the webhook server of the lifecycle demo runs on its own threads.
    let host: &'static Host = Box::leak(Box::new(Host::load_with(
        plugin,
        Limits::default(),
        &HostOptions {
            cache_dir: HostOptions::default_cache_dir(),
            ..Default::default()
        },
    )?));
    println!(
        "== Plugin {} compiled in {:.2?}",
        plugin.display(),
        started.elapsed()
    );

    let connection = Connection {
        base_url: emulator.org_url(),
        project: seed::PROJECT.into(),
        credentials: Credentials::Pat(seed::PAT.into()),
    };

    println!("\n== Connection test (PAT)");
    match host.test_connection(&connection) {
        Ok(info) => println!(
            "  ok: {} ({}) in organization `{}`, project `{}` [{}], process {}",
            info.user.display_name,
            info.user.id,
            info.organization,
            info.project_name,
            info.project_id,
            info.process_template.as_deref().unwrap_or("unknown")
        ),
        Err(e) => println!("  failed: {}", show(&e)),
    }
    println!("\n== Connection test with a wrong PAT (what a person sees)");
    let wrong = Connection {
        credentials: Credentials::Pat("not-a-valid-pat".into()),
        ..connection.clone()
    };
    match host.test_connection(&wrong) {
        Ok(_) => println!("  unexpectedly accepted"),
        Err(e) => println!("  {}", show(&e)),
    }

    println!("\n== Work item types");
    for t in host.work_item_types(&connection)? {
        println!("  {:<14} {}", t.name, t.reference_name);
    }
    println!("\n== Fields of Bug (required ones and pick lists)");
    for f in host.fields(&connection, "Bug")? {
        if f.required || !f.allowed_values.is_empty() {
            println!(
                "  {:<36} {:<16} {}{}",
                f.reference_name,
                ticketing_runtime::names::input_type(f.input_type),
                if f.required { "required " } else { "" },
                if f.allowed_values.is_empty() {
                    String::new()
                } else {
                    format!("allowed: {}", f.allowed_values.join(" | "))
                }
            );
        }
    }
    println!("\n== States of Bug");
    let initial = host.initial_states(&connection, "Bug")?;
    for s in host.states(&connection, "Bug")? {
        println!(
            "  {:<10} {:<12}{}",
            s.name,
            ticketing_runtime::names::state_category(&s.category),
            if initial.contains(&s.name) {
                "  (initial)"
            } else {
                ""
            }
        );
    }

    let config_path = root.join("examples/outegrations/agile-bug.json");
    let config = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    host.validate_config(&config)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config_path.display()))?;
    let mut tickets: Vec<_> = std::fs::read_dir(root.join("examples/tickets"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    tickets.sort();

    println!("\n== Dispatch of examples/tickets with examples/outegrations/agile-bug.json");
    let mut created = Vec::new();
    for path in &tickets {
        let ticket = ticketing_host::state::ticket_file::load(path)?;
        match host.create(&connection, &config, &ticket) {
            Ok(link) => {
                println!(
                    "  {} -> work item {} (rev {}) {}",
                    ticket.id, link.work_item_id, link.rev, link.web_url
                );
                created.push(link);
            }
            Err(e) => println!("  {} -> {}", ticket.id, show(&e)),
        }
    }

    println!("\n== Work items as stored in the emulator");
    for link in &created {
        let Some(item) = emulator.work_item(link.work_item_id) else {
            continue;
        };
        let f = &item["fields"];
        println!(
            "  #{} {:?}\n      State={} Priority={} Severity={} Tags={:?}\n      Hyperlink={}",
            link.work_item_id,
            f["System.Title"].as_str().unwrap_or_default(),
            f["System.State"],
            f["Microsoft.VSTS.Common.Priority"],
            f["Microsoft.VSTS.Common.Severity"],
            f["System.Tags"].as_str().unwrap_or_default(),
            item["relations"][0]["url"],
        );
        let relations = item["relations"].as_array().cloned().unwrap_or_default();
        for file in relations.iter().filter(|r| r["rel"] == "AttachedFile") {
            let a = &file["attributes"];
            println!(
                "      Attachment={} ({} bytes)",
                a["name"].as_str().unwrap_or_default(),
                a["resourceSize"]
            );
        }
    }
    println!(
        "\n== Requests served by the emulator: {}",
        emulator.request_count()
    );
    lifecycle::run(host, root)
}
