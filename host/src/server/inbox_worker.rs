//! The inbox workers of `serve`: they apply accepted deliveries to tickets.
//!
//! Deliveries of one work item are applied in arrival order, by one worker:
//! the rows are split among the workers by work item (`work_item_id` modulo
//! their number), so two workers never hold the same ticket, and the
//! plugin's `handle` of one delivery runs while another worker commits the
//! previous one. One worker per core (at most [`MAX_WORKERS`]): a single
//! worker applied about half the deliveries the server acknowledged on two
//! cores (BENCHMARKS.md, webhook ingest).
//!
//! A worker finds the link of the work item, asks the plugin
//! (`webhook.handle`) what the delivery means, and applies the ticket
//! update, the updated link and the row's `done` mark in one transaction.
//! At start the pending rows are processed first, so a host stopped between
//! acknowledgement and processing finishes the work.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::state::db::{Db, InboxRow};
use crate::{DeliveryRequest, Host, Outcome};

/// Most inbox workers, whatever the cores.
pub const MAX_WORKERS: usize = 4;

/// How often the inbox is pruned past the retention.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How long an idle worker sleeps before it looks at the inbox anyway.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Wakes every worker: a generation counter under a condition variable, so
/// a delivery stored while a worker was busy is not missed.
#[derive(Debug, Default)]
pub struct Wake {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Wake {
    /// Tells the workers there is something new (or that they must stop).
    pub fn notify(&self) {
        if let Ok(mut g) = self.generation.lock() {
            *g = g.wrapping_add(1);
            self.changed.notify_all();
        }
    }

    /// Waits until a notification after generation `seen`, or `timeout`;
    /// the generation now.
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let Ok(g) = self.generation.lock() else {
            return seen;
        };
        match self.changed.wait_timeout_while(g, timeout, |g| *g == seen) {
            Ok((g, _)) => *g,
            Err(_) => seen,
        }
    }

    fn current(&self) -> u64 {
        self.generation.lock().map_or(0, |g| *g)
    }
}

/// Which rows a worker applies: those whose work item id is `index`
/// modulo `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: u32,
    pub of: u32,
}

impl Part {
    /// Every row (one worker).
    pub const ALL: Part = Part { index: 0, of: 1 };
}

/// How many workers: one per core, at most [`MAX_WORKERS`].
pub fn worker_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
}

/// Starts the workers, each with its own connection to the state; they run
/// until `stop` is set and `wake` notified.
pub fn spawn(
    host: &'static Host,
    state: &Path,
    retention: Duration,
    wake: &Arc<Wake>,
    stop: &Arc<AtomicBool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    let of = worker_count() as u32;
    (0..of)
        .map(|index| {
            let (state, wake, stop) = (state.to_path_buf(), wake.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("inbox-worker-{index}"))
                .spawn(move || {
                    let part = Part { index, of };
                    // One worker prunes for all.
                    let retention = (index == 0).then_some(retention);
                    run_worker(host, &state, retention, part, &wake, &stop)
                })
        })
        .collect()
}

fn run_worker(
    host: &Host,
    state: &Path,
    retention: Option<Duration>,
    part: Part,
    wake: &Wake,
    stop: &AtomicBool,
) {
    let db = match Db::open(state) {
        Ok(db) => db,
        Err(e) => {
            tracing::error!("the inbox worker cannot open the state: {e:#}");
            return;
        }
    };
    let mut pruned_at: Option<std::time::Instant> = None;
    let mut seen = wake.current();
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if let Some(retention) = retention
            && pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY)
        {
            match db.prune(retention) {
                Ok(p) => tracing::info!(
                    inbox_rows = p.inbox_rows,
                    jobs = p.jobs,
                    "pruned past the retention"
                ),
                Err(e) => tracing::error!("pruning the state database failed: {e:#}"),
            }
            pruned_at = Some(std::time::Instant::now());
        }
        if let Err(e) = process_part(host, &db, part, Some(stop)) {
            tracing::error!("inbox processing failed: {e:#}");
        }
        seen = wake.wait(seen, IDLE_POLL);
    }
}

/// Processes every pending inbox row, in order; how many were processed.
pub fn process_pending(host: &Host, db: &Db, stop: Option<&AtomicBool>) -> anyhow::Result<usize> {
    process_part(host, db, Part::ALL, stop)
}

/// Processes the pending inbox rows of `part`, in order; how many were
/// processed.
pub fn process_part(
    host: &Host,
    db: &Db,
    part: Part,
    stop: Option<&AtomicBool>,
) -> anyhow::Result<usize> {
    let mut n = 0;
    // A work item whose ticket a command holds waits, and so do its later
    // rows (deliveries of one work item are applied in arrival order); the
    // worker's next pass picks them up.
    let mut waiting: std::collections::HashSet<(String, i32)> = Default::default();
    for row in db.inbox_pending_part(part.index, part.of)? {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            break;
        }
        let key = (row.outegration.clone(), row.work_item_id);
        if waiting.contains(&key) {
            continue;
        }
        let Some(result) = process_row(host, db, &row)? else {
            tracing::debug!(
                row = row.id,
                work_item = row.work_item_id,
                "ticket busy; the delivery waits"
            );
            waiting.insert(key);
            continue;
        };
        tracing::info!(row = row.id, event = %row.event_id, work_item = row.work_item_id, "{result}");
        n += 1;
    }
    Ok(n)
}

/// Processes one inbox row; what it did, or `None` when a command holds
/// the linked ticket's lease (the row stays pending). A row already done is
/// left alone.
pub fn process_row(host: &Host, db: &Db, row: &InboxRow) -> anyhow::Result<Option<String>> {
    // The lease keeps commands off the ticket while the plugin handles the
    // delivery; should it have expired, the compare in `inbox_apply` still
    // refuses to overwrite a newer link, and the delivery is handled again.
    for _ in 0..5 {
        let Some(peek) = db.link_by_work_item(&row.outegration, row.work_item_id)? else {
            let result = format!("no ticket is linked to work item {}", row.work_item_id);
            db.inbox_finish(row.id, &result)?;
            return Ok(Some(result));
        };
        let Some(_lease) = db.try_lease(&[&peek.ticket_id])? else {
            return Ok(None);
        };
        // Read again under the lease: a command may have stored it meanwhile.
        let Some(link) = db.link_by_work_item(&row.outegration, row.work_item_id)? else {
            continue;
        };
        let config = match std::fs::read_to_string(&row.outegration) {
            Ok(c) => c,
            Err(e) => {
                let result = format!(
                    "failed: reading the outegration config {}: {e}",
                    row.outegration
                );
                db.inbox_finish(row.id, &result)?;
                return Ok(Some(result));
            }
        };
        let request = DeliveryRequest {
            headers: row.headers.clone(),
            body: row.body.clone(),
        };
        match host.handle(&config, &link, &request) {
            Ok(Outcome::Ignore(reason)) => {
                let result = format!("ignored: {reason}");
                db.inbox_finish(row.id, &result)?;
                return Ok(Some(result));
            }
            Ok(Outcome::Apply(update)) => {
                let result = format!(
                    "applied to {}: {} field(s), {} comment(s){}",
                    update.link.ticket_id,
                    update.fields.len(),
                    update.comments.len(),
                    match update.deleted {
                        Some(true) => ", work item deleted",
                        Some(false) => ", work item restored",
                        None => "",
                    }
                );
                if db.inbox_apply(row.id, &link, &update, &result)? {
                    return Ok(Some(result));
                }
            }
            Err(e) => {
                let result = format!("failed: {e}");
                db.inbox_finish(row.id, &result)?;
                return Ok(Some(result));
            }
        }
    }
    anyhow::bail!(
        "inbox row {}: the link of work item {} kept changing; left pending",
        row.id,
        row.work_item_id
    )
}
