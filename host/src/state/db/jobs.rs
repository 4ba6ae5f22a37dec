//! The outbox: every dispatch, sync, close and reopen is written here as a
//! job before it runs, and marked done only after its result is stored. A
//! host killed at any point leaves the job open; the next `jobs run` (or
//! `serve`) claims it again. The plugin's operations are safe to repeat
//! (adoption for creates, reference markers for comments, digests for
//! attachments, already-closed for closes), so a repeat finishes the work
//! without a duplicate.

use anyhow::{Context as _, bail};
use rusqlite::{OptionalExtension as _, Row, params};

use super::conn::{Db, now};
use super::holder::{epoch_ms, holder_gone};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its first run or for its next attempt (`next_at`).
    Pending,
    /// Claimed by a holder until `claimed_until`.
    Running,
    /// Finished; kept as history.
    Done,
    /// A dead letter: transient failures until the attempts ran out.
    Dead,
    /// A permanent failure (validation, credentials): never retried on its own.
    Failed,
}

impl JobState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "pending" => JobState::Pending,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }
}

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    /// `dispatch`, `sync`, `close`, `reopen` or `bulk-close`.
    pub kind: String,
    pub ticket_id: String,
    /// At most one open job per key.
    pub idempotency_key: String,
    /// The operation's arguments, JSON.
    pub args: String,
    pub state: JobState,
    /// Attempts started so far.
    pub attempts: u32,
    /// When a pending job is due (ms since the epoch).
    pub next_at: i64,
    pub holder: Option<String>,
    pub claimed_until: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, kind, ticket_id, idempotency_key, args, state, attempts, next_at, holder, claimed_until, last_error, created_at, updated_at";

fn job_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let state: String = r.get(5)?;
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        ticket_id: r.get(2)?,
        idempotency_key: r.get(3)?,
        args: r.get(4)?,
        state: JobState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("unknown job state {state:?}").into(),
            )
        })?,
        attempts: r.get(6)?,
        next_at: r.get(7)?,
        holder: r.get(8)?,
        claimed_until: r.get(9)?,
        last_error: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

/// Job `id`, read on `conn` (or a transaction on it).
fn find_job(conn: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<Job>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))?
        .query_row([id], job_row)
        .optional()
}

impl Job {
    /// Whether a holder may claim it now: pending, or running under a
    /// claim that expired or a process that is gone.
    fn claimable(&self, now: i64) -> bool {
        match self.state {
            JobState::Pending => true,
            JobState::Running => {
                self.claimed_until.is_none_or(|u| u < now)
                    || self.holder.as_deref().is_none_or(holder_gone)
            }
            _ => false,
        }
    }
}

/// A running job as its holder claimed it, handed to the step that runs it:
/// the step's last transaction also settles the job done
/// ([`super::finish::Finish::commit`]), one commit less per operation.
#[derive(Debug)]
pub struct JobClaim {
    /// The job.
    pub id: i64,
    /// Who claimed it.
    pub holder: String,
    settled: std::cell::Cell<bool>,
}

impl JobClaim {
    /// The claim of job `id` by `holder`, not settled yet.
    pub fn new(id: i64, holder: &str) -> JobClaim {
        JobClaim {
            id,
            holder: holder.to_string(),
            settled: std::cell::Cell::new(false),
        }
    }

    /// Whether a step's committed transaction settled the job done.
    pub fn settled(&self) -> bool {
        self.settled.get()
    }

    pub(super) fn mark_settled(&self) {
        self.settled.set(true);
    }
}

/// [`Db::settle_job`] inside the caller's transaction.
pub(super) fn settle_in(
    conn: &rusqlite::Connection,
    id: i64,
    holder: &str,
    state: JobState,
    next_at: Option<i64>,
    error: Option<&str>,
) -> anyhow::Result<bool> {
    let n = conn.prepare_cached("UPDATE jobs SET state = ?3, next_at = COALESCE(?4, next_at), last_error = COALESCE(?5, last_error),
             holder = NULL, claimed_until = NULL, updated_at = ?6
         WHERE id = ?1 AND holder = ?2 AND state = 'running'")?.execute(params![id, holder, state.as_str(), next_at, error, now()],
    )?;
    if n == 1 && state == JobState::Done {
        // The same operation succeeded: its older dead letters are moot.
        conn.prepare_cached(
            "UPDATE jobs SET state = 'done', updated_at = ?2,
                 last_error = COALESCE(last_error, '') || ' (superseded by job ' || ?1 || ')'
             WHERE id < ?1 AND state IN ('dead', 'failed')
               AND idempotency_key = (SELECT idempotency_key FROM jobs WHERE id = ?1)",
        )?
        .execute(params![id, now()])?;
    }
    Ok(n == 1)
}

impl Db {
    /// Queues a job, or joins the open job with the same key (whose
    /// arguments are replaced while it is only pending). Returns its id.
    pub fn enqueue_job(
        &self,
        kind: &str,
        ticket_id: &str,
        key: &str,
        args: &str,
    ) -> anyhow::Result<i64> {
        let tx = self.tx()?;
        let open: Option<(i64, String)> = tx.prepare_cached("SELECT id, state FROM jobs WHERE idempotency_key = ?1 AND state IN ('pending', 'running')")?.query_row([key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let id = match open {
            Some((id, state)) => {
                if state == "pending" {
                    tx.prepare_cached("UPDATE jobs SET args = ?2, updated_at = ?3 WHERE id = ?1")?
                        .execute(params![id, args, now()])?;
                }
                id
            }
            None => {
                let at = now();
                tx.prepare_cached("INSERT INTO jobs (kind, ticket_id, idempotency_key, args, state, attempts, next_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?6, ?6)")?.execute(params![kind, ticket_id, key, args, epoch_ms(), at],
                )
                .with_context(|| format!("queueing the {kind} job of ticket {ticket_id}"))?;
                tx.last_insert_rowid()
            }
        };
        tx.commit()?;
        Ok(id)
    }

    /// [`Self::enqueue_job`] and [`Self::claim_job`] in one transaction (one
    /// commit less per operation): the claimed job, or `Err(id)` of the open
    /// job with the same key that another live holder runs.
    pub fn enqueue_claimed(
        &self,
        kind: &str,
        ticket_id: &str,
        key: &str,
        args: &str,
        holder: &str,
        claim_ms: i64,
    ) -> anyhow::Result<Result<Job, i64>> {
        let tx = self.tx()?;
        let now_ms = epoch_ms();
        let at = now();
        let open = tx.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM jobs WHERE idempotency_key = ?1 AND state IN ('pending', 'running')"
                ))?.query_row([key],
                job_row,
            )
            .optional()?;
        let job = match open {
            Some(job) if !job.claimable(now_ms) => return Ok(Err(job.id)),
            Some(job) => {
                tx.prepare_cached(
                    "UPDATE jobs SET state = 'running', holder = ?2, claimed_until = ?3,
                         attempts = attempts + 1, args = ?4, updated_at = ?5 WHERE id = ?1",
                )?
                .execute(params![job.id, holder, now_ms + claim_ms, args, at])?;
                Job {
                    args: args.to_string(),
                    attempts: job.attempts + 1,
                    ..job
                }
            }
            None => {
                tx.prepare_cached("INSERT INTO jobs (kind, ticket_id, idempotency_key, args, state, attempts, next_at,
                         holder, claimed_until, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 'running', 1, ?5, ?6, ?7, ?8, ?8)")?.execute(params![kind, ticket_id, key, args, now_ms, holder, now_ms + claim_ms, at],
                )
                .with_context(|| format!("queueing the {kind} job of ticket {ticket_id}"))?;
                Job {
                    id: tx.last_insert_rowid(),
                    kind: kind.to_string(),
                    ticket_id: ticket_id.to_string(),
                    idempotency_key: key.to_string(),
                    args: args.to_string(),
                    state: JobState::Running,
                    attempts: 1,
                    next_at: now_ms,
                    holder: None,
                    claimed_until: None,
                    last_error: None,
                    created_at: at.clone(),
                    updated_at: at,
                }
            }
        };
        tx.commit()?;
        Ok(Ok(Job {
            state: JobState::Running,
            holder: Some(holder.to_string()),
            claimed_until: Some(now_ms + claim_ms),
            ..job
        }))
    }

    /// Claims job `id` for `holder` for `claim_ms`, counting an attempt;
    /// `None` when it is not claimable (done, buried, or another live
    /// holder runs it).
    pub fn claim_job(&self, id: i64, holder: &str, claim_ms: i64) -> anyhow::Result<Option<Job>> {
        let tx = self.tx()?;
        let now_ms = epoch_ms();
        let Some(job) = find_job(&tx, id)? else {
            bail!("there is no job {id}");
        };
        if !job.claimable(now_ms) {
            return Ok(None);
        }
        tx.prepare_cached(
            "UPDATE jobs SET state = 'running', holder = ?2, claimed_until = ?3,
                 attempts = attempts + 1, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![id, holder, now_ms + claim_ms, now()])?;
        tx.commit()?;
        Ok(Some(Job {
            state: JobState::Running,
            holder: Some(holder.to_string()),
            claimed_until: Some(now_ms + claim_ms),
            attempts: job.attempts + 1,
            ..job
        }))
    }

    /// Ends a claimed job: `Done` (which also settles the older dead or
    /// failed jobs of its key), `Dead` or `Failed` (with the error), or back
    /// to `Pending` until `next_at`. Nothing happens when `holder` no
    /// longer holds it (its claim was taken over).
    pub fn settle_job(
        &self,
        id: i64,
        holder: &str,
        state: JobState,
        next_at: Option<i64>,
        error: Option<&str>,
    ) -> anyhow::Result<bool> {
        let tx = self.tx()?;
        let settled = settle_in(&tx, id, holder, state, next_at, error)?;
        tx.commit()?;
        Ok(settled)
    }

    /// One job.
    pub fn job(&self, id: i64) -> anyhow::Result<Option<Job>> {
        Ok(find_job(&self.conn, id)?)
    }

    /// The jobs in `states` (all when empty), oldest first.
    pub fn jobs(&self, states: &[JobState]) -> anyhow::Result<Vec<Job>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM jobs ORDER BY id"))?;
        let rows = stmt.query_map([], job_row)?;
        let mut out = Vec::new();
        for r in rows {
            let j = r?;
            if states.is_empty() || states.contains(&j.state) {
                out.push(j);
            }
        }
        Ok(out)
    }

    /// Open jobs claimable now (due pending ones, abandoned running ones),
    /// oldest first, and the earliest time a pending one falls due later.
    pub fn due_jobs(&self) -> anyhow::Result<(Vec<i64>, Option<i64>)> {
        let now_ms = epoch_ms();
        let mut due = Vec::new();
        let mut later: Option<i64> = None;
        for j in self.jobs(&[JobState::Pending, JobState::Running])? {
            if j.state == JobState::Pending && j.next_at > now_ms {
                later = Some(later.map_or(j.next_at, |l| l.min(j.next_at)));
            } else if j.claimable(now_ms) {
                due.push(j.id);
            }
        }
        Ok((due, later))
    }

    /// Puts a dead or failed job back in the queue with fresh attempts.
    pub fn requeue_job(&self, id: i64) -> anyhow::Result<()> {
        let tx = self.tx()?;
        let Some(job) = find_job(&tx, id)? else {
            bail!("there is no job {id}");
        };
        if !matches!(job.state, JobState::Dead | JobState::Failed) {
            bail!(
                "job {id} is {}: only dead or failed jobs are retried by hand",
                job.state.as_str()
            );
        }
        tx.prepare_cached("UPDATE jobs SET state = 'pending', attempts = 0, next_at = ?2, updated_at = ?3 WHERE id = ?1")?.execute(params![id, epoch_ms(), now()],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                anyhow::anyhow!(
                    "job {id} cannot be retried: another {} job of ticket {} is open",
                    job.kind,
                    job.ticket_id
                )
            }
            e => e.into(),
        })?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes a dead or failed job (the operation is given up).
    pub fn discard_job(&self, id: i64) -> anyhow::Result<()> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM jobs WHERE id = ?1 AND state IN ('dead', 'failed')")?
            .execute([id])?;
        if n == 0 {
            bail!("job {id} is not a dead or failed job");
        }
        Ok(())
    }
}
