//! The CLI commands over the state database (`--state`): `ticket ...`,
//! `dispatch`, `sync`, `close`, `reopen` and `links`. They write what they
//! did to `out`, one line per ticket, and fail (non-zero exit) when any
//! ticket failed, after doing the rest.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;

use crate::state::db::Db;
use crate::platform::lifecycle::Lifecycle;
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

/// Runs a `ticket` command.
pub fn ticket(db: &Db, cmd: &TicketCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match cmd {
        TicketCommand::Import { files } => {
            for f in files {
                let t = ticket_file::load(f)?;
                db.put_ticket(&t)?;
                writeln!(out, "{}: imported from {}", t.id, f.display())?;
            }
        }
        TicketCommand::Show { id } => writeln!(out, "{}", ticket_file::to_json(&db.ticket(id)?))?,
        TicketCommand::List => {
            for id in db.ticket_ids()? {
                let t = db.ticket(&id)?;
                let title = t
                    .fields
                    .iter()
                    .find(|f| f.name == "title")
                    .map(|f| report::value(&f.value))
                    .unwrap_or_default();
                let link = db
                    .link(&id)?
                    .map(|l| format!("work item {}", l.link.work_item_id))
                    .unwrap_or_else(|| "not dispatched".into());
                writeln!(out, "{id:<12} {link:<18} {title}")?;
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
            db.update_ticket(id, |t| ticket_edit::patch(t, &text))?;
            writeln!(out, "{id}: patched")?;
        }
        TicketCommand::Set { id, assignments } => {
            db.update_ticket(id, |t| ticket_edit::set(t, assignments))?;
            writeln!(out, "{id}: set {}", assignments.join(", "))?;
        }
        TicketCommand::Comment { id, author, text } => {
            let t = db.update_ticket(id, |t| {
                ticket_edit::comment(t, author, text, &crate::state::db::now())
            })?;
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
            db.update_ticket(id, |t| ticket_edit::finding_status(t, finding, status))?;
            writeln!(out, "{id}: finding {finding} is now {status}")?;
        }
    }
    Ok(())
}

/// Prints the links.
pub fn links(db: &Db, out: &mut dyn Write) -> anyhow::Result<()> {
    let rows: Vec<_> = db
        .links()?
        .into_iter()
        .map(|s| (s.link.ticket_id.clone(), s.link))
        .collect();
    for line in report::links_table(&rows) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A ticket argument: a ticket file (imported first) or a stored ticket id.
pub(crate) fn ticket_arg(db: &Db, arg: &str) -> anyhow::Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let t = ticket_file::load(path)?;
        db.put_ticket(&t)?;
        return Ok(t.id);
    }
    Ok(arg.to_string())
}

fn finish(failed: usize, total: usize, what: &str) -> anyhow::Result<()> {
    if failed > 0 {
        bail!("{failed} of {total} ticket(s) were not {what}");
    }
    Ok(())
}

/// `dispatch`: each ticket (file or id) in turn; `visible` refuses a
/// ticket the outegration's dispatch visibility does not offer it to.
pub fn dispatch(
    lc: &Lifecycle<'_>,
    outegration: &Path,
    tickets: &[String],
    visible: &dyn Fn(&crate::Ticket) -> anyhow::Result<()>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut failed = 0;
    for arg in tickets {
        let result = ticket_arg(lc.db, arg).and_then(|id| {
            visible(&lc.db.ticket(&id)?)?;
            lc.dispatch(&id, outegration).map(|d| (id, d))
        });
        match result {
            Ok((id, d)) => writeln!(out, "{}", report::dispatched(&id, &d))?,
            Err(e) => {
                failed += 1;
                writeln!(out, "{arg} -> {}", format!("{e:#}").replace('\n', "\n    "))?;
            }
        }
    }
    finish(failed, tickets.len(), "dispatched")
}

/// The ticket ids of a command: the given ones, or every linked ticket with `--all`.
pub fn selected(db: &Db, ids: &[String], all: bool) -> anyhow::Result<Vec<String>> {
    match (all, ids.is_empty()) {
        (true, true) => Ok(db.links()?.into_iter().map(|s| s.link.ticket_id).collect()),
        (true, false) => bail!("give ticket ids or --all, not both"),
        (false, true) => bail!("give ticket ids, or --all"),
        (false, false) => Ok(ids.to_vec()),
    }
}

/// `sync`: pushes each ticket's changes.
pub fn sync(lc: &Lifecycle<'_>, ids: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut failed = 0;
    for id in ids {
        match lc.sync(id) {
            Ok(o) => {
                for line in report::push(id, &o) {
                    writeln!(out, "{line}")?;
                }
            }
            Err(e) => {
                failed += 1;
                writeln!(
                    out,
                    "{id} -> failed: {}",
                    format!("{e:#}").replace('\n', "\n    ")
                )?;
            }
        }
    }
    finish(failed, ids.len(), "synced")
}

/// `close` (one call per ticket) or `close --bulk` (one bulk call).
pub fn close(
    lc: &Lifecycle<'_>,
    ids: &[String],
    bulk: bool,
    reason: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut failed = 0;
    if bulk {
        for (id, o) in lc.bulk_close(ids, reason)? {
            let (line, bad) = report::close_outcome(&id, &o);
            failed += usize::from(bad);
            writeln!(out, "{line}")?;
        }
    } else {
        for id in ids {
            match lc.close(id, reason) {
                Ok(c) => writeln!(out, "{}", report::state_change(id, "closed", &c))?,
                Err(e) => {
                    failed += 1;
                    writeln!(
                        out,
                        "{id} -> failed: {}",
                        format!("{e:#}").replace('\n', "\n    ")
                    )?;
                }
            }
        }
    }
    finish(failed, ids.len(), "closed")
}

/// `reopen`.
pub fn reopen(
    lc: &Lifecycle<'_>,
    id: &str,
    reason: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let c = lc.reopen(id, reason)?;
    writeln!(out, "{}", report::state_change(id, "reopened", &c))?;
    Ok(())
}
