//! The CLI commands over the stored tickets (`--state`): `ticket ...` and
//! `links`. They need no plugin.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde::Serialize;

use crate::cli::output::{self, LinkJson};
use crate::state::db::Db;
use crate::{platform::report, state::ticket_edit, state::ticket_file};

/// `ticket ...`: the tickets in the state database.
#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Imports ticket files (replacing stored tickets with the same id).
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Prints a ticket as JSON.
    Show { id: String },
    /// Lists the stored tickets.
    List,
    /// Applies an RFC 6902 JSON Patch (a file, or `-` for standard input).
    Patch { id: String, patch: String },
    /// Replaces fields: `name=value` (value read as JSON when it parses, else text).
    Set {
        id: String,
        #[arg(required = true)]
        assignments: Vec<String>,
    },
    /// Adds a comment.
    Comment {
        id: String,
        #[arg(long)]
        author: String,
        text: String,
    },
    /// Changes a finding's status.
    Finding {
        id: String,
        finding: String,
        #[arg(long)]
        status: String,
    },
}

/// `ticket import --json`.
#[derive(Serialize)]
struct Imported {
    imported: Vec<ImportedTicket>,
}

#[derive(Serialize)]
struct ImportedTicket {
    ticket_id: String,
    file: String,
}

/// `ticket list --json`.
#[derive(Serialize)]
struct TicketList {
    tickets: Vec<TicketRow>,
}

#[derive(Serialize)]
struct TicketRow {
    id: String,
    title: Option<serde_json::Value>,
    work_item_id: Option<i32>,
}

/// A ticket edit with `--json`: the ticket as stored after it.
#[derive(Serialize)]
struct Edited {
    ticket_id: String,
    ticket: serde_json::Value,
}

fn edited(out: &mut dyn Write, t: &crate::Ticket) -> anyhow::Result<()> {
    output::print(
        out,
        &Edited {
            ticket_id: t.id.clone(),
            ticket: serde_json::from_str(&ticket_file::to_json(t))?,
        },
    )
}

/// Runs a `ticket` command; `json` prints one JSON document instead of lines.
pub fn ticket(db: &Db, cmd: &TicketCommand, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        TicketCommand::Import { files } => {
            let mut imported = Vec::new();
            for f in files {
                let t = ticket_file::load(f)?;
                db.put_ticket(&t)?;
                if !json {
                    writeln!(out, "{}: imported from {}", t.id, f.display())?;
                }
                imported.push(ImportedTicket {
                    ticket_id: t.id,
                    file: f.display().to_string(),
                });
            }
            if json {
                output::print(out, &Imported { imported })?;
            }
        }
        // The ticket file format is JSON already: the same document either way.
        TicketCommand::Show { id } => writeln!(out, "{}", ticket_file::to_json(&db.ticket(id)?))?,
        TicketCommand::List => {
            let mut rows = Vec::new();
            for id in db.ticket_ids()? {
                let t = db.ticket(&id)?;
                let title = t
                    .fields
                    .iter()
                    .find(|f| f.name == "title")
                    .map(|f| ticket_file::value_json(&f.value));
                let work_item_id = db.link(&id)?.map(|l| l.link.work_item_id);
                rows.push(TicketRow {
                    id,
                    title,
                    work_item_id,
                });
            }
            if json {
                return output::print(out, &TicketList { tickets: rows });
            }
            for r in rows {
                let title = r.title.map(|v| v.to_string()).unwrap_or_default();
                let link = r
                    .work_item_id
                    .map(|w| format!("work item {w}"))
                    .unwrap_or_else(|| "not dispatched".into());
                writeln!(out, "{:<12} {link:<18} {title}", r.id)?;
            }
        }
        TicketCommand::Patch { id, patch } => {
            let text = if patch == "-" {
                std::io::read_to_string(std::io::stdin())
                    .context("reading the patch from standard input")?
            } else {
                std::fs::read_to_string(patch)
                    .with_context(|| format!("reading the patch {patch}"))?
            };
            let t = db.update_ticket(id, |t| ticket_edit::patch(t, &text))?;
            if json {
                return edited(out, &t);
            }
            writeln!(out, "{id}: patched")?;
        }
        TicketCommand::Set { id, assignments } => {
            let t = db.update_ticket(id, |t| ticket_edit::set(t, assignments))?;
            if json {
                return edited(out, &t);
            }
            writeln!(out, "{id}: set {}", assignments.join(", "))?;
        }
        TicketCommand::Comment { id, author, text } => {
            let t = db.update_ticket(id, |t| {
                ticket_edit::comment(t, author, text, &crate::state::db::now())
            })?;
            if json {
                return edited(out, &t);
            }
            writeln!(
                out,
                "{id}: comment {} added",
                t.comments.last().map(|c| c.id.as_str()).unwrap_or_default()
            )?;
        }
        TicketCommand::Finding {
            id,
            finding,
            status,
        } => {
            let t = db.update_ticket(id, |t| ticket_edit::finding_status(t, finding, status))?;
            if json {
                return edited(out, &t);
            }
            writeln!(out, "{id}: finding {finding} is now {status}")?;
        }
    }
    Ok(())
}

/// `links --json`.
#[derive(Serialize)]
struct Links {
    links: Vec<StoredLinkJson>,
}

#[derive(Serialize)]
struct StoredLinkJson {
    #[serde(flatten)]
    link: LinkJson,
    /// The outegration config the ticket was dispatched with.
    outegration: String,
}

/// Prints the links.
pub fn links(db: &Db, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let stored = db.links()?;
    if json {
        let links = stored
            .iter()
            .map(|s| StoredLinkJson {
                link: LinkJson::from(&s.link),
                outegration: s.outegration.clone(),
            })
            .collect();
        return output::print(out, &Links { links });
    }
    let rows: Vec<_> = stored
        .into_iter()
        .map(|s| (s.link.ticket_id.clone(), s.link))
        .collect();
    for line in report::links_table(&rows) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
