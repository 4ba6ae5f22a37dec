//! `jobs [run | retry | discard]`: the outbox from the command line. The
//! work is [`crate::platform::jobs`]'s; this adds the `--json` documents.

use std::io::Write;

use serde::Serialize;

use crate::cli::output::{self, Results};
use crate::platform::jobs::{self as platform_jobs, JobsCommand};
use crate::platform::lifecycle::Lifecycle;
use crate::state::db::{Db, Job, JobState};

/// A job as `jobs --json` lists it.
#[derive(Serialize)]
struct JobJson {
    id: i64,
    kind: String,
    state: &'static str,
    ticket_id: String,
    attempts: u32,
    /// When a pending job is due, in milliseconds since the Unix epoch.
    next_at: i64,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&Job> for JobJson {
    fn from(j: &Job) -> Self {
        JobJson {
            id: j.id,
            kind: j.kind.clone(),
            state: j.state.as_str(),
            ticket_id: j.ticket_id.clone(),
            attempts: j.attempts,
            next_at: j.next_at,
            last_error: j.last_error.clone(),
            created_at: j.created_at.clone(),
            updated_at: j.updated_at.clone(),
        }
    }
}

#[derive(Serialize)]
struct JobList {
    jobs: Vec<JobJson>,
}

/// One job run by `jobs run` or `jobs retry`.
#[derive(Serialize)]
struct JobResult {
    job_id: i64,
    ok: bool,
    kind: Option<String>,
    ticket_id: Option<String>,
    /// The job's state after this run (`done`, `pending`, `dead`, `failed`).
    state: Option<&'static str>,
    /// The ticket's work item, once linked.
    work_item_id: Option<i32>,
    /// What the job did, as the human output says it.
    messages: Vec<String>,
    error: Option<String>,
}

impl JobResult {
    fn new(db: &Db, id: i64, r: &anyhow::Result<Vec<String>>) -> anyhow::Result<Self> {
        let job = db.job(id)?;
        let work_item_id = match &job {
            Some(j) => db.link(&j.ticket_id)?.map(|l| l.link.work_item_id),
            None => None,
        };
        Ok(JobResult {
            job_id: id,
            ok: r.is_ok(),
            kind: job.as_ref().map(|j| j.kind.clone()),
            ticket_id: job.as_ref().map(|j| j.ticket_id.clone()),
            state: job.as_ref().map(|j| j.state.as_str()),
            work_item_id,
            messages: r.as_ref().ok().cloned().unwrap_or_default(),
            error: r.as_ref().err().map(output::error_text),
        })
    }
}

/// `jobs run --json`: the results and what is left.
#[derive(Serialize)]
struct Drained {
    #[serde(flatten)]
    results: Results<JobResult>,
    /// Dead letters and failed jobs in the outbox after the run.
    dead_or_failed: usize,
}

#[derive(Serialize)]
struct Discarded {
    discarded: Vec<i64>,
}

/// `jobs` with no subcommand: needs only the state database.
pub fn list(db: &Db, all: bool, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    if !json {
        return platform_jobs::list(db, all, out);
    }
    let jobs = platform_jobs::listed(db, all)?;
    output::print(
        out,
        &JobList {
            jobs: jobs.iter().map(JobJson::from).collect(),
        },
    )
}

/// Runs a `jobs` command.
pub fn command(
    lc: &Lifecycle<'_>,
    what: Option<&JobsCommand>,
    all: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if !json {
        return platform_jobs::command(lc, what, all, out);
    }
    match what {
        None => list(lc.db, all, json, out),
        Some(JobsCommand::Run) => {
            let mut results = Vec::new();
            platform_jobs::drain_each(lc, &mut |id, r| {
                results.push(JobResult::new(lc.db, id, r)?);
                Ok(())
            })?;
            let dead_or_failed = lc.db.jobs(&[JobState::Dead, JobState::Failed])?.len();
            let doc = Drained {
                results: Results::new(results, |r| r.ok),
                dead_or_failed,
            };
            output::print(out, &doc)?;
            if doc.results.failed > 0 {
                anyhow::bail!("{} job(s) failed", doc.results.failed);
            }
            Ok(())
        }
        Some(JobsCommand::Retry { ids }) => {
            let mut results = Vec::new();
            for id in ids {
                let r = platform_jobs::retry(lc, *id);
                results.push(JobResult::new(lc.db, *id, &r)?);
            }
            let doc = Results::new(results, |r| r.ok);
            output::print(out, &doc)?;
            if doc.failed > 0 {
                anyhow::bail!("{} of {} job(s) failed again", doc.failed, ids.len());
            }
            Ok(())
        }
        Some(JobsCommand::Discard { ids }) => {
            for id in ids {
                lc.db.discard_job(*id)?;
            }
            output::print(
                out,
                &Discarded {
                    discarded: ids.clone(),
                },
            )
        }
    }
}
