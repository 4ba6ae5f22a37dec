//! `dispatch --jobs N`: many tickets dispatched by N workers at once.
//!
//! Each dispatch mostly waits for Azure DevOps, so a few workers divide the
//! wall time of a large batch by about their number. Each worker has its own
//! connection to the state database and calls the shared [`Host`] (each
//! call holds one sandboxed instance while it runs); the per-ticket lease
//! keeps two workers, or another command, off the same ticket. Progress goes to standard error
//! (only on a terminal), the results to `out` in the order given, and a
//! summary ends it.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::platform::lifecycle::{Dispatched, Lifecycle};
use crate::state::db::Db;
use crate::{Connection, Host, MAX_CONCURRENT_CALLS, platform::report};

/// Who dispatches: the plugin, the state database's file (each worker opens
/// its own connection), the connection, and how many workers.
#[derive(Clone, Copy)]
pub struct Workers<'a> {
    pub host: &'a Host,
    pub state: &'a Path,
    pub conn: &'a Connection,
    pub jobs: usize,
    /// Retries of each dispatch (an outbox job).
    pub retry: crate::platform::outbox::RetryPolicy,
}

/// Dispatches `ids` (stored tickets) with the workers; a ticket the
/// outegration does not offer (`visible`) fails alone. The results go to
/// `out`, one line each in the order given, then a summary.
pub fn dispatch(
    workers: Workers<'_>,
    outegration: &Path,
    ids: &[String],
    visible: &(dyn Fn(&crate::Ticket) -> anyhow::Result<()> + Sync),
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let results = dispatch_all(workers, outegration, ids, visible, true)?;
    let mut failed = 0;
    for (id, r) in ids.iter().zip(&results) {
        match r {
            Ok(d) => writeln!(out, "{}", report::dispatched(id, d))?,
            Err(e) => {
                failed += 1;
                writeln!(out, "{id} -> {}", format!("{e:#}").replace('\n', "\n    "))?;
            }
        }
    }
    writeln!(
        out,
        "{} dispatched, {failed} failed, in {:.1} s with {} worker(s)",
        ids.len() - failed,
        started.elapsed().as_secs_f64(),
        workers.jobs.clamp(1, MAX_CONCURRENT_CALLS as usize)
    )?;
    if failed > 0 {
        anyhow::bail!("{failed} of {} ticket(s) were not dispatched", ids.len());
    }
    Ok(())
}

/// The result of each ticket's dispatch, in the order of `ids`; `progress`
/// draws a bar on standard error (on a terminal only).
pub fn dispatch_all(
    workers: Workers<'_>,
    outegration: &Path,
    ids: &[String],
    visible: &(dyn Fn(&crate::Ticket) -> anyhow::Result<()> + Sync),
    progress: bool,
) -> anyhow::Result<Vec<anyhow::Result<Dispatched>>> {
    let Workers {
        host,
        state,
        conn,
        jobs,
        retry,
    } = workers;
    let jobs = jobs.clamp(1, MAX_CONCURRENT_CALLS as usize);
    let bar = if progress {
        ProgressBar::new(ids.len() as u64)
    } else {
        ProgressBar::hidden()
    }
    .with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} dispatched  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let first = FirstDone::default();
    let results: Mutex<Vec<Option<anyhow::Result<Dispatched>>>> =
        Mutex::new((0..ids.len()).map(|_| None).collect());
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..jobs.min(ids.len()))
            .map(|worker| {
                let (first, next, results, bar) = (&first, &next, &results, &bar);
                s.spawn(move || -> anyhow::Result<()> {
                    // The first dispatch of a type reads its schema (project,
                    // type, fields: four requests) and stores it for every
                    // instance. Workers starting together would each read it
                    // (the `dispatch` bench saw each route 16 times with 16
                    // workers), so the others wait for the first ticket, for
                    // a bounded time in case it is slow.
                    // The first worker releases the others when its first
                    // ticket is done (the guard taken below) or however it
                    // ends. `then`, not `then_some`: a guard built for
                    // another worker would be dropped at once and release
                    // them all.
                    let mut release = (worker == 0).then(|| ReleaseOnDrop(first));
                    if worker > 0 {
                        first.wait(FIRST_DISPATCH_WAIT);
                    }
                    let db = Db::open(state)?;
                    let lc = Lifecycle {
                        retry,
                        ..Lifecycle::new(host, &db, conn)
                    };
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(i) else {
                            return Ok(());
                        };
                        let r = db
                            .ticket(id)
                            .and_then(|t| visible(&t))
                            .and_then(|()| lc.dispatch(id, outegration));
                        drop(release.take());
                        if let Ok(mut all) = results.lock() {
                            all[i] = Some(r);
                        }
                        bar.inc(1);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a dispatch worker panicked"))??;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a dispatch worker panicked"))?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("not attempted"))))
        .collect())
}

/// How long the other workers wait for the first dispatch before starting
/// anyway: a first ticket held up by retries must not hold the batch.
const FIRST_DISPATCH_WAIT: Duration = Duration::from_secs(30);

/// Set once the first worker's first dispatch ended, or the worker stopped.
#[derive(Default)]
struct FirstDone {
    done: Mutex<bool>,
    changed: Condvar,
}

impl FirstDone {
    fn release(&self) {
        if let Ok(mut done) = self.done.lock() {
            *done = true;
        }
        self.changed.notify_all();
    }

    /// Waits until [`FirstDone::release`] or `limit`, whichever comes first.
    fn wait(&self, limit: Duration) {
        if let Ok(done) = self.done.lock() {
            let _ = self.changed.wait_timeout_while(done, limit, |done| !*done);
        }
    }
}

/// Releases the other workers however the first one ends (an error opening
/// the state database, a panic), so none waits out its limit for nothing.
struct ReleaseOnDrop<'a>(&'a FirstDone);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}
