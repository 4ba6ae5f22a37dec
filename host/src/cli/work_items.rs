//! `dispatch`, `sync`, `close` and `reopen`: the tickets' work items through
//! the lifecycle. Each ticket's result is a line (or, with `--json`, an item
//! of one `results` document); the command fails (non-zero exit) when any
//! ticket failed, after doing the rest and printing every result.

use std::io::Write;
use std::path::Path;

use anyhow::bail;

use crate::Host;
use crate::cli::output::{self, DispatchResult, Results, StateResult, SyncResult};
use crate::cli::{Cli, lifecycle, load_connection};
use crate::platform::bulk_dispatch;
use crate::platform::lifecycle::Lifecycle;
use crate::platform::report;
use crate::state::db::Db;
use crate::state::ticket_file;

/// A ticket argument: a ticket file (imported first) or a stored ticket id.
fn ticket_arg(db: &Db, arg: &str) -> anyhow::Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let t = ticket_file::load(path)?;
        db.put_ticket(&t)?;
        return Ok(t.id);
    }
    Ok(arg.to_string())
}

/// The ticket ids of a command: the given ones, or every linked ticket with `--all`.
fn selected(db: &Db, ids: &[String], all: bool) -> anyhow::Result<Vec<String>> {
    match (all, ids.is_empty()) {
        (true, true) => Ok(db.links()?.into_iter().map(|s| s.link.ticket_id).collect()),
        (true, false) => bail!("give ticket ids or --all, not both"),
        (false, true) => bail!("give ticket ids, or --all"),
        (false, false) => Ok(ids.to_vec()),
    }
}

fn finish(failed: usize, total: usize, what: &str) -> anyhow::Result<()> {
    if failed > 0 {
        bail!("{failed} of {total} ticket(s) were not {what}");
    }
    Ok(())
}

/// An error's lines, the later ones indented under the first.
fn indented(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', "\n    ")
}

/// `dispatch`: each ticket (file or id), one at a time or with `jobs`
/// workers; a ticket the rules file's dispatch visibility does not offer
/// to the outegration fails alone.
pub fn dispatch(
    cli: &Cli,
    host: &Host,
    outegration: &Path,
    project: Option<&str>,
    jobs: usize,
    tickets: &[String],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut conn = load_connection(cli)?;
    if let Some(p) = project {
        conn.project = p.to_string();
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
    let lc = lifecycle(cli, host, &db, &conn);
    if jobs > 1 {
        let ids = tickets
            .iter()
            .map(|arg| ticket_arg(&db, arg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let workers = bulk_dispatch::Workers {
            host,
            state: &cli.state,
            conn: &conn,
            jobs,
            retry: lc.retry,
        };
        if !cli.json {
            return bulk_dispatch::dispatch(workers, outegration, &ids, &visible, out);
        }
        let results = bulk_dispatch::dispatch_all(workers, outegration, &ids, &visible, false)?;
        let results: Vec<_> = ids
            .iter()
            .zip(&results)
            .map(|(id, r)| DispatchResult::new(id, r))
            .collect();
        return json_results(out, results, |r| r.ok, "dispatched");
    }
    let (mut results, mut failed) = (Vec::new(), 0);
    for arg in tickets {
        // The ticket's id once its file is read; else the argument as given.
        let mut named = arg.clone();
        let result = ticket_arg(lc.db, arg).and_then(|id| {
            named.clone_from(&id);
            visible(&lc.db.ticket(&id)?)?;
            lc.dispatch(&id, outegration).map(|d| (id, d))
        });
        match result {
            Ok((id, d)) if cli.json => results.push(DispatchResult::new(&id, &Ok(d))),
            Err(e) if cli.json => results.push(DispatchResult::new(&named, &Err(e))),
            Ok((id, d)) => writeln!(out, "{}", report::dispatched(&id, &d))?,
            Err(e) => {
                failed += 1;
                writeln!(out, "{arg} -> {}", indented(&e))?;
            }
        }
    }
    if cli.json {
        return json_results(out, results, |r| r.ok, "dispatched");
    }
    finish(failed, tickets.len(), "dispatched")
}

/// Prints the `results` document, then fails when any result did.
fn json_results<T: serde::Serialize>(
    out: &mut dyn Write,
    results: Vec<T>,
    ok: impl Fn(&T) -> bool,
    what: &str,
) -> anyhow::Result<()> {
    let doc = Results::new(results, ok);
    output::print(out, &doc)?;
    finish(doc.failed, doc.results.len(), what)
}

/// Runs `op` on each ticket in turn: with `json`, each result becomes an
/// item (`to_json`) of `results`; else its `lines`, or a failure line. The
/// number of tickets that failed.
fn each<T, J>(
    ids: &[String],
    json: bool,
    results: &mut Vec<J>,
    out: &mut dyn Write,
    op: impl Fn(&str) -> anyhow::Result<T>,
    to_json: impl Fn(&str, &anyhow::Result<T>) -> J,
    lines: impl Fn(&str, &T) -> Vec<String>,
) -> anyhow::Result<usize> {
    let mut failed = 0;
    for id in ids {
        let r = op(id);
        failed += usize::from(r.is_err());
        if json {
            results.push(to_json(id, &r));
            continue;
        }
        match r {
            Ok(o) => {
                for line in lines(id, &o) {
                    writeln!(out, "{line}")?;
                }
            }
            Err(e) => writeln!(out, "{id} -> failed: {}", indented(&e))?,
        }
    }
    Ok(failed)
}

/// `sync`: pushes each ticket's changes (the given ids, or `--all` linked).
pub fn sync(
    lc: &Lifecycle<'_>,
    ids: &[String],
    all: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let ids = selected(lc.db, ids, all)?;
    let mut results = Vec::new();
    let failed = each(
        &ids,
        json,
        &mut results,
        out,
        |id| lc.sync(id),
        SyncResult::new,
        report::push,
    )?;
    if json {
        return json_results(out, results, |r| r.ok, "synced");
    }
    finish(failed, ids.len(), "synced")
}

/// `close` (one call per ticket) or `close --bulk` (one bulk call).
pub fn close(
    lc: &Lifecycle<'_>,
    ids: &[String],
    all: bool,
    bulk: bool,
    reason: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let ids = selected(lc.db, ids, all)?;
    let (mut results, mut failed) = (Vec::new(), 0);
    if bulk {
        for (id, o) in lc.bulk_close(&ids, reason)? {
            if json {
                results.push(StateResult::of_bulk(&id, &o));
                continue;
            }
            let (line, bad) = report::close_outcome(&id, &o);
            failed += usize::from(bad);
            writeln!(out, "{line}")?;
        }
    } else {
        failed = each(
            &ids,
            json,
            &mut results,
            out,
            |id| lc.close(id, reason),
            StateResult::new,
            |id, c| vec![report::state_change(id, "closed", c)],
        )?;
    }
    if json {
        return json_results(out, results, |r| r.ok, "closed");
    }
    finish(failed, ids.len(), "closed")
}

/// `reopen`.
pub fn reopen(
    lc: &Lifecycle<'_>,
    id: &str,
    reason: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let r = lc.reopen(id, reason);
    if json {
        return json_results(out, vec![StateResult::new(id, &r)], |r| r.ok, "reopened");
    }
    writeln!(out, "{}", report::state_change(id, "reopened", &r?))?;
    Ok(())
}
