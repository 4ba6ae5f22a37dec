//! `ticketing-host jobs`: the outbox seen and worked from the command line.
//! `jobs` lists the open jobs and the dead letters, `jobs run` drains the
//! outbox (what a host killed mid-command left, and retries that fell
//! due), `jobs retry ID` tries a dead or failed job again, `jobs discard
//! ID` gives one up.

use std::io::Write;
use std::time::Duration;

use anyhow::bail;
use clap::Subcommand;

use crate::platform::lifecycle::{Lifecycle, read_config};
use crate::platform::outbox::{self, JobBusy, JobSpec};
use crate::platform::report;
use crate::state::db::{Db, Job, JobClaim, JobState, epoch_ms};

/// `jobs ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum JobsCommand {
    /// Runs every open job until the outbox holds only dead letters and
    /// permanent failures, waiting for retries that are not due yet.
    Run,
    /// Puts dead or failed jobs back in the queue and runs them.
    Retry {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Deletes dead or failed jobs: their operations are given up.
    Discard {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

/// The lines a finished job reports.
fn execute(lc: &Lifecycle<'_>, spec: &JobSpec, job: &JobClaim) -> anyhow::Result<Vec<String>> {
    match spec {
        JobSpec::Dispatch {
            ticket,
            outegration,
            config,
        } => {
            // The host died after storing the link and before settling the job.
            if let Some(s) = lc.db.link(ticket)? {
                return Ok(vec![format!(
                    "{ticket} -> work item {} (already stored)",
                    s.link.work_item_id
                )]);
            }
            let config = match config {
                Some(c) => c.clone(),
                None => read_config(outegration)?,
            };
            let d = lc.dispatch_now(job, ticket, outegration, &config)?;
            Ok(vec![report::dispatched(ticket, &d)])
        }
        JobSpec::Sync { ticket, config } => {
            let o = lc.sync_now(job, ticket, config.as_deref())?;
            Ok(report::push(ticket, &o))
        }
        JobSpec::Close { ticket, reason } => {
            let c = lc.close_now(job, ticket, reason)?;
            Ok(vec![report::state_change(ticket, "closed", &c)])
        }
        JobSpec::Reopen { ticket, reason } => {
            let c = lc.reopen_now(job, ticket, reason)?;
            Ok(vec![report::state_change(ticket, "reopened", &c)])
        }
        JobSpec::BulkClose { tickets, reason } => Ok(lc
            .bulk_close_now(tickets, reason)?
            .iter()
            .map(|(id, o)| report::close_outcome(id, o).0)
            .collect()),
    }
}

/// Puts a dead or failed job back in the queue and runs it.
pub fn retry(lc: &Lifecycle<'_>, id: i64) -> anyhow::Result<Vec<String>> {
    lc.db.requeue_job(id).and_then(|()| run_job(lc, id))
}

/// Runs job `id` under the lifecycle's retry policy.
pub fn run_job(lc: &Lifecycle<'_>, id: i64) -> anyhow::Result<Vec<String>> {
    outbox::run(lc.db, &lc.retry, id, |spec, job| execute(lc, spec, job))
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Jobs that finished.
    pub done: usize,
    /// Jobs that failed this pass (buried, or rescheduled when not inline).
    pub failed: usize,
    /// Jobs left to another process that runs them now.
    pub busy: usize,
}

/// What is done with each job's result (its lines, or why it failed).
pub type OnResult<'a> = dyn FnMut(i64, &anyhow::Result<Vec<String>>) -> anyhow::Result<()> + 'a;

/// Writes one job's result: its lines, or why it failed.
fn write_result(
    out: &mut dyn Write,
    id: i64,
    r: &anyhow::Result<Vec<String>>,
) -> anyhow::Result<()> {
    match r {
        Ok(lines) => {
            for l in lines {
                writeln!(out, "job {id}: {l}")?;
            }
        }
        Err(e) => writeln!(
            out,
            "job {id}: {}",
            format!("{e:#}").replace('\n', "\n    ")
        )?,
    }
    Ok(())
}

/// Runs the jobs that are due now, once each (a failure is rescheduled or
/// buried by the policy); lines go to `out`.
pub fn run_due(lc: &Lifecycle<'_>, out: &mut dyn Write) -> anyhow::Result<(Drained, Option<i64>)> {
    run_due_each(lc, &mut |id, r| write_result(out, id, r))
}

/// [`run_due`], handing each job's result (not a busy one's) to `each`.
pub fn run_due_each(
    lc: &Lifecycle<'_>,
    each: &mut OnResult<'_>,
) -> anyhow::Result<(Drained, Option<i64>)> {
    let (due, later) = lc.db.due_jobs()?;
    let mut d = Drained::default();
    for id in due {
        let r = run_job(lc, id);
        match &r {
            Err(e) if e.downcast_ref::<JobBusy>().is_some() => {
                d.busy += 1;
                continue;
            }
            Ok(_) => d.done += 1,
            Err(_) => d.failed += 1,
        }
        each(id, &r)?;
    }
    Ok((d, later))
}

/// Drains the outbox: due jobs now, later ones when they fall due, until
/// no job is open (or only other processes' running ones are).
pub fn drain(lc: &Lifecycle<'_>, out: &mut dyn Write) -> anyhow::Result<Drained> {
    drain_each(lc, &mut |id, r| write_result(out, id, r))
}

/// [`drain`], handing each job's result to `each`.
pub fn drain_each(lc: &Lifecycle<'_>, each: &mut OnResult<'_>) -> anyhow::Result<Drained> {
    let mut total = Drained::default();
    loop {
        let (d, later) = run_due_each(lc, each)?;
        total.done += d.done;
        total.failed += d.failed;
        total.busy = d.busy;
        let nothing_ran = d.done + d.failed == 0;
        match later {
            Some(at) => {
                let wait = (at - epoch_ms()).clamp(0, 60_000) as u64;
                std::thread::sleep(Duration::from_millis(wait));
            }
            None if nothing_ran => return Ok(total),
            None => {}
        }
    }
}

fn line(j: &Job) -> String {
    let error = j
        .last_error
        .as_deref()
        .map(|e| format!("  {}", e.lines().next().unwrap_or_default()))
        .unwrap_or_default();
    format!(
        "{:>5}  {:<10} {:<8} {:<16} attempts {}  {}{error}",
        j.id,
        j.kind,
        j.state.as_str(),
        j.ticket_id,
        j.attempts,
        j.updated_at
    )
}

/// `jobs`: the open jobs, the dead letters and the failed jobs (with
/// `all`, the finished ones too).
pub fn list(db: &Db, all: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let jobs = listed(db, all)?;
    if jobs.is_empty() {
        writeln!(out, "the outbox is empty")?;
    }
    for j in &jobs {
        writeln!(out, "{}", line(j))?;
    }
    Ok(())
}

/// The jobs `jobs` lists: open, dead and failed ones (with `all`, every job).
pub fn listed(db: &Db, all: bool) -> anyhow::Result<Vec<Job>> {
    let states: &[JobState] = if all {
        &[]
    } else {
        &[
            JobState::Pending,
            JobState::Running,
            JobState::Dead,
            JobState::Failed,
        ]
    };
    db.jobs(states)
}

/// Runs a `jobs` subcommand (none: the list).
pub fn command(
    lc: &Lifecycle<'_>,
    what: Option<&JobsCommand>,
    all: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match what {
        None => list(lc.db, all, out),
        Some(JobsCommand::Run) => {
            let d = drain(lc, out)?;
            let left = lc.db.jobs(&[JobState::Dead, JobState::Failed])?.len();
            writeln!(
                out,
                "{} job(s) done, {} failed this run, {left} dead or failed in the outbox",
                d.done, d.failed
            )?;
            if d.failed > 0 {
                bail!("{} job(s) failed", d.failed);
            }
            Ok(())
        }
        Some(JobsCommand::Retry { ids }) => {
            let mut failed = 0;
            for id in ids {
                let r = retry(lc, *id);
                failed += usize::from(r.is_err());
                write_result(out, *id, &r)?;
            }
            if failed > 0 {
                bail!("{failed} of {} job(s) failed again", ids.len());
            }
            Ok(())
        }
        Some(JobsCommand::Discard { ids }) => {
            for id in ids {
                lc.db.discard_job(*id)?;
                writeln!(out, "job {id}: discarded")?;
            }
            Ok(())
        }
    }
}

/// `serve`'s outbox thread: every second, one attempt at each due job (a
/// failure is rescheduled, never waited out here), until `stop`.
pub fn worker(
    host: &crate::Host,
    state: &std::path::Path,
    conn: &crate::Connection,
    retry: crate::platform::outbox::RetryPolicy,
    stop: &std::sync::atomic::AtomicBool,
) {
    let db = match Db::open(state) {
        Ok(db) => db,
        Err(e) => {
            tracing::error!("the outbox worker cannot open the state: {e:#}");
            return;
        }
    };
    let lc = Lifecycle {
        retry: crate::platform::outbox::RetryPolicy {
            inline: false,
            ..retry
        },
        ..Lifecycle::new(host, &db, conn)
    };
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let mut lines = Vec::new();
        match run_due(&lc, &mut lines) {
            Ok((d, _)) if d.done + d.failed > 0 => {
                tracing::info!(done = d.done, failed = d.failed, "outbox jobs run");
                for l in String::from_utf8_lossy(&lines).lines() {
                    tracing::info!(target: "ticketing_host", "{l}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!("the outbox worker failed: {e:#}"),
        }
        for _ in 0..10 {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
