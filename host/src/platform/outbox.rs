//! Runs lifecycle operations as outbox jobs: the job is written first, then
//! attempted; a transient failure (timeout, connection reset, 5xx, 429, a
//! stale revision, a busy ticket) is retried with exponential backoff and
//! full jitter, never sooner than Azure DevOps' `Retry-After`, up to
//! [`RetryPolicy::max_attempts`], after which the job is a dead letter. A
//! permanent failure (validation, credentials, a missing work item) is not
//! retried and says so.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::state::db::{Db, Job, JobClaim, JobState, LeaseBusy, epoch_ms, new_holder};
use crate::{CallError, ConnectorError};

/// How failed jobs are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before a job becomes a dead letter (at least 1).
    pub max_attempts: u32,
    /// The first backoff's ceiling; each later one doubles it.
    pub base: Duration,
    /// The largest backoff ceiling.
    pub cap: Duration,
    /// Wait out the backoff and try again in this call (commands); else
    /// leave the job pending for whoever drains the outbox next (`serve`).
    pub inline: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            inline: true,
        }
    }
}

impl RetryPolicy {
    /// Kept rather than `backon` or `backoff`: those drive a retry loop in
    /// the process (and `backoff` is unmaintained), while an outbox job's
    /// next attempt is a time stored in the database that must survive the
    /// process; and their jitter is added to the delay, not AWS's "full
    /// jitter" below. What is left is this one formula.
    ///
    /// The wait before attempt `attempts + 1`: uniform in
    /// `0..=min(cap, base * 2^(attempts-1))` ("full jitter", so that many
    /// workers failing together do not retry together), and at least
    /// `retry_after`.
    pub fn backoff(&self, attempts: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
            .min(self.cap);
        let ceiling = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX);
        // uuid's v4 draws from the OS's random source.
        let draw = uuid::Uuid::new_v4().as_u64_pair().0;
        let jittered = Duration::from_millis(draw % ceiling.saturating_add(1));
        jittered.max(retry_after.unwrap_or_default())
    }
}

/// Whether a failure may go away by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Worth another attempt, not before `retry_after` when ADO said so.
    Transient { retry_after: Option<Duration> },
    /// Will fail the same way until someone changes something.
    Permanent,
}

/// Sorts a lifecycle failure into transient or permanent.
pub fn classify(e: &anyhow::Error) -> Failure {
    let transient = Failure::Transient { retry_after: None };
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<CallError>() {
            return match c {
                CallError::Deadline(_) | CallError::Busy(_) => transient,
                CallError::Memory | CallError::Trap(_) => Failure::Permanent,
                CallError::Connector(c) => match c {
                    ConnectorError::RateLimited(secs) => Failure::Transient {
                        retry_after: Some(Duration::from_secs(u64::from(*secs))),
                    },
                    ConnectorError::Transport(_) | ConnectorError::Conflict(_) => transient,
                    ConnectorError::Remote(r)
                        if r.status >= 500 || matches!(r.status, 408 | 429) =>
                    {
                        transient
                    }
                    _ => Failure::Permanent,
                },
            };
        }
        if cause.downcast_ref::<LeaseBusy>().is_some() {
            return transient;
        }
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = cause.downcast_ref::<rusqlite::Error>()
            && matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            )
        {
            return transient;
        }
    }
    Failure::Permanent
}

/// What a job does, with its arguments; stored as the job's `args`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum JobSpec {
    /// Create the work item of a ticket.
    Dispatch {
        ticket: String,
        /// The outegration config's path as stored with the link.
        outegration: String,
        /// Config text that differs from the file (a ticketing rule's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<String>,
    },
    /// Push a ticket's changes.
    Sync {
        ticket: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<String>,
    },
    /// Close a ticket's work item.
    Close { ticket: String, reason: String },
    /// Reopen a ticket's work item.
    Reopen { ticket: String, reason: String },
    /// Close many work items in one call.
    BulkClose {
        tickets: Vec<String>,
        reason: String,
    },
}

impl JobSpec {
    /// The stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::Dispatch { .. } => "dispatch",
            JobSpec::Sync { .. } => "sync",
            JobSpec::Close { .. } => "close",
            JobSpec::Reopen { .. } => "reopen",
            JobSpec::BulkClose { .. } => "bulk-close",
        }
    }

    /// The ticket the job is listed under (a bulk close: its first).
    pub fn ticket(&self) -> &str {
        match self {
            JobSpec::Dispatch { ticket, .. }
            | JobSpec::Sync { ticket, .. }
            | JobSpec::Close { ticket, .. }
            | JobSpec::Reopen { ticket, .. } => ticket,
            JobSpec::BulkClose { tickets, .. } => {
                tickets.first().map(String::as_str).unwrap_or_default()
            }
        }
    }

    /// One open job per operation on a ticket: the same command repeated
    /// (after a crash, by a rule run) joins it.
    pub fn idempotency_key(&self) -> String {
        match self {
            JobSpec::BulkClose { tickets, .. } => format!("bulk-close:{}", tickets.join(",")),
            other => format!("{}:{}", other.kind(), other.ticket()),
        }
    }

    /// Reads a stored job's arguments.
    pub fn from_job(job: &Job) -> anyhow::Result<JobSpec> {
        serde_json::from_str(&job.args).map_err(|e| {
            anyhow::anyhow!("job {} has unreadable arguments ({e}); discard it", job.id)
        })
    }
}

/// A job's claim outlives any one attempt (the call deadline plus a lease
/// wait); a holder that crashed is noticed sooner by its process id.
const CLAIM: Duration = Duration::from_secs(300);

/// Another holder runs the job right now.
#[derive(Debug, thiserror::Error)]
#[error("job {0} is running in another process; see `ticketing-host jobs`")]
pub struct JobBusy(pub i64);

/// Queues `spec` (or joins its open job) and runs it under `policy`.
/// `exec` gets the job's claim: a step whose last transaction settles the
/// job done ([`crate::state::db::Finish::commit`]) saves the outbox a commit.
pub fn submit<T>(
    db: &Db,
    policy: &RetryPolicy,
    spec: &JobSpec,
    exec: impl FnMut(&JobSpec, &JobClaim) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let args = serde_json::to_string(spec)?;
    let holder = new_holder();
    match db.enqueue_claimed(
        spec.kind(),
        spec.ticket(),
        &spec.idempotency_key(),
        &args,
        &holder,
        CLAIM.as_millis() as i64,
    )? {
        Ok(job) => attempts(db, policy, job, &holder, exec),
        Err(id) => Err(JobBusy(id).into()),
    }
}

/// Runs job `id` until it is done, buried, or (not inline) rescheduled.
pub fn run<T>(
    db: &Db,
    policy: &RetryPolicy,
    id: i64,
    exec: impl FnMut(&JobSpec, &JobClaim) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let holder = new_holder();
    match db.claim_job(id, &holder, CLAIM.as_millis() as i64)? {
        Some(job) => attempts(db, policy, job, &holder, exec),
        None => Err(JobBusy(id).into()),
    }
}

/// The attempts at a job `holder` has claimed.
fn attempts<T>(
    db: &Db,
    policy: &RetryPolicy,
    mut job: Job,
    holder: &str,
    mut exec: impl FnMut(&JobSpec, &JobClaim) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let id = job.id;
    loop {
        let spec = JobSpec::from_job(&job);
        let claim = JobClaim::new(id, holder);
        let result = spec.and_then(|s| exec(&s, &claim));
        let e = match result {
            Ok(v) => {
                if !claim.settled() {
                    db.settle_job(id, holder, JobState::Done, None, None)?;
                }
                return Ok(v);
            }
            Err(e) => e,
        };
        let message = format!("{e:#}");
        match classify(&e) {
            Failure::Transient { retry_after } if job.attempts < policy.max_attempts.max(1) => {
                let wait = policy.backoff(job.attempts, retry_after);
                let next_at = epoch_ms() + wait.as_millis() as i64;
                tracing::info!(
                    job = id,
                    attempt = job.attempts,
                    wait_ms = wait.as_millis() as u64,
                    "transient failure, retrying later"
                );
                db.settle_job(id, holder, JobState::Pending, Some(next_at), Some(&message))?;
                if !policy.inline {
                    return Err(e.context(format!(
                        "attempt {} of job {id} failed; it is retried in {} ms",
                        job.attempts,
                        wait.as_millis()
                    )));
                }
                std::thread::sleep(wait);
                job = match db.claim_job(id, holder, CLAIM.as_millis() as i64)? {
                    Some(j) => j,
                    None => return Err(JobBusy(id).into()),
                };
            }
            Failure::Transient { .. } => {
                db.settle_job(id, holder, JobState::Dead, None, Some(&message))?;
                return Err(e.context(format!(
                    "gave up after {} attempts: job {id} is a dead letter (`ticketing-host jobs retry {id}` tries again)",
                    job.attempts
                )));
            }
            Failure::Permanent => {
                db.settle_job(id, holder, JobState::Failed, None, Some(&message))?;
                return Err(e.context(format!(
                    "not retried, the failure is permanent: job {id} failed (fix the cause, then `ticketing-host jobs retry {id}`)"
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(250),
            inline: true,
        };
        for attempt in 1..10 {
            let ceiling = Duration::from_millis(100 * (1 << (attempt - 1))).min(p.cap);
            assert!(p.backoff(attempt, None) <= ceiling);
        }
        assert!(p.backoff(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    }

    #[test]
    fn jitter_spreads_the_retries() {
        let p = RetryPolicy::default();
        let draws: std::collections::BTreeSet<_> = (0..20).map(|_| p.backoff(4, None)).collect();
        assert!(draws.len() > 5, "{draws:?}");
    }

    #[test]
    fn throttling_and_server_errors_are_transient_validation_is_not() {
        let remote = |status| {
            anyhow::Error::new(CallError::Connector(ConnectorError::Remote(
                ticketing_runtime::RemoteError {
                    status,
                    code: None,
                    message: "x".into(),
                },
            )))
        };
        assert_eq!(
            classify(&remote(503)),
            Failure::Transient { retry_after: None }
        );
        assert_eq!(classify(&remote(400)), Failure::Permanent);
        assert_eq!(
            classify(&anyhow::Error::new(CallError::Connector(
                ConnectorError::RateLimited(7)
            ))),
            Failure::Transient {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        let validation =
            anyhow::Error::new(CallError::Connector(ConnectorError::Validation(vec![])));
        assert_eq!(
            classify(&validation.context("dispatching T-1")),
            Failure::Permanent
        );
        assert_eq!(
            classify(&anyhow::anyhow!("no such ticket")),
            Failure::Permanent
        );
    }
}
