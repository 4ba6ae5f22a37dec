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
//! A worker takes the pending rows in batches: it finds the link of each
//! work item, takes the leases of the batch's tickets in one transaction,
//! asks the plugin (`webhook.handle`) what each delivery means, a ticket's
//! deliveries in order, each from the link the one before left, and writes
//! the tickets, their links, every row's `done` mark and result, and the
//! leases' release in one more. At start the pending rows are processed first, so a host stopped between
//! acknowledgement and processing finishes the work.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::state::db::{Db, InboxRow, Lease};
use crate::{DeliveryRequest, Host, Link, Outcome, TicketUpdate};

/// A handled row as [`Db::inbox_apply_handled`] takes it.
type HandledRow = (i64, String, Option<TicketUpdate>);

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
///
/// The rows go in batches of at most [`BATCH_ROWS`], two commits a batch
/// (leases taken; rows applied and leases released) and the outegration
/// config read once, where one row at a time took three commits (lease,
/// apply, release) and a read of the config.
pub fn process_part(
    host: &Host,
    db: &Db,
    part: Part,
    stop: Option<&AtomicBool>,
) -> anyhow::Result<usize> {
    let mut queues = by_work_item(db.inbox_pending_part(part.index, part.of)?);
    let mut n = 0;
    loop {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            break;
        }
        let (taken, groups) = take_batch(&mut queues);
        if groups.is_empty() {
            break;
        }
        let items: Vec<i32> = groups.iter().map(|g| g[0].work_item_id).collect();
        let handled = process_batch(host, db, groups)?;
        for (row, result) in &handled.done {
            tracing::info!(row = row.id, event = %row.event_id, work_item = row.work_item_id, "{result}");
        }
        n += handled.done.len();
        // A work item whose rows wait (its ticket held by a command, or
        // its link changed meanwhile) keeps its later rows too: deliveries
        // of one work item are applied in arrival order. The worker's next
        // pass picks them up.
        for (g, why) in handled.waiting {
            tracing::debug!(work_item = items[g], "{}", why.describe());
            queues[taken[g]].clear();
        }
    }
    Ok(n)
}

/// Processes one inbox row; what it did, or `None` when a command holds
/// the linked ticket's lease (the row stays pending). A row already done is
/// left alone.
pub fn process_row(host: &Host, db: &Db, row: &InboxRow) -> anyhow::Result<Option<String>> {
    // Should the link change between the plugin's answer and the write
    // (a lease that expired), the row is handled again from the new one.
    for _ in 0..5 {
        if db.inbox_done(row.id)? {
            return Ok(Some("done already".into()));
        }
        let handled = process_batch(host, db, vec![vec![row.clone()]])?;
        if let Some((_, result)) = handled.done.into_iter().next() {
            return Ok(Some(result));
        }
        if handled.waiting.iter().any(|(_, why)| *why == Wait::Busy) {
            return Ok(None);
        }
    }
    anyhow::bail!(
        "inbox row {}: the link of work item {} kept changing; left pending",
        row.id,
        row.work_item_id
    )
}

/// Rows handled under one set of leases and written in one transaction, at
/// most. A batch costs two commits whatever its size; a larger one holds
/// its tickets' leases longer, shows its results later, and keeps the
/// inbox writer (whose commit an acknowledgement waits for) waiting longer
/// for the write lock. In the ingest bench a batch held 16 rows on average.
const BATCH_ROWS: usize = 64;

/// The pending rows of each work item (of an outegration), in arrival
/// order; the work items in the order of their first row.
fn by_work_item(rows: Vec<InboxRow>) -> Vec<VecDeque<InboxRow>> {
    let mut index: HashMap<(String, i32), usize> = HashMap::new();
    let mut queues: Vec<VecDeque<InboxRow>> = Vec::new();
    for row in rows {
        let key = (row.outegration.clone(), row.work_item_id);
        let i = *index.entry(key).or_insert_with(|| {
            queues.push(VecDeque::new());
            queues.len() - 1
        });
        queues[i].push_back(row);
    }
    queues
}

/// The next batch: up to [`BATCH_ROWS`] rows from the front of the queues,
/// in their order; for each group, the queue it came from.
fn take_batch(queues: &mut [VecDeque<InboxRow>]) -> (Vec<usize>, Vec<Vec<InboxRow>>) {
    let (mut taken, mut groups) = (Vec::new(), Vec::new());
    let mut room = BATCH_ROWS;
    for (i, q) in queues.iter_mut().enumerate() {
        if room == 0 {
            break;
        }
        if q.is_empty() {
            continue;
        }
        let k = q.len().min(room);
        room -= k;
        taken.push(i);
        groups.push(q.drain(..k).collect());
    }
    (taken, groups)
}

/// Why a work item's rows were left pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// A command holds the ticket's lease.
    Busy,
    /// The ticket's link changed (or went) since its rows were handled, or
    /// one of them was done meanwhile: they are handled again.
    Changed,
}

impl Wait {
    fn describe(self) -> &'static str {
        match self {
            Wait::Busy => "ticket busy; the delivery waits",
            Wait::Changed => "the ticket's link changed; the delivery is handled again",
        }
    }
}

/// What a batch did: the rows done with their result, and the groups
/// (by index) left pending.
#[derive(Default)]
struct Handled {
    done: Vec<(InboxRow, String)>,
    waiting: Vec<(usize, Wait)>,
}

/// Handles a batch: `groups` are the rows of distinct work items, each in
/// arrival order.
fn process_batch(host: &Host, db: &Db, groups: Vec<Vec<InboxRow>>) -> anyhow::Result<Handled> {
    let mut out = Handled::default();
    // The ticket of each work item, before its lease; rows of a work item
    // without one are only marked done.
    let mut finished: Vec<(i64, String)> = Vec::new();
    let mut unlinked: Vec<(usize, String)> = Vec::new();
    let mut linked: Vec<(usize, String)> = Vec::new();
    for (g, rows) in groups.iter().enumerate() {
        let first = &rows[0];
        match db.link_by_work_item(&first.outegration, first.work_item_id)? {
            None => {
                let result = format!("no ticket is linked to work item {}", first.work_item_id);
                finished.extend(rows.iter().map(|r| (r.id, result.clone())));
                unlinked.push((g, result));
            }
            // Two work items linked to one ticket: the second one's rows
            // wait for the next pass.
            Some(peek) if linked.iter().any(|(_, t)| *t == peek.ticket_id) => {
                out.waiting.push((g, Wait::Changed))
            }
            Some(peek) => linked.push((g, peek.ticket_id)),
        }
    }
    let (leases, leased) = take_leases(db, linked, &mut out.waiting)?;

    // Under the leases: each ticket's rows handled in order, each from the
    // link the one before left.
    let mut groups: Vec<Option<Vec<InboxRow>>> = groups.into_iter().map(Some).collect();
    let mut configs: HashMap<String, Result<String, String>> = HashMap::new();
    let mut tickets: Vec<(Link, Vec<HandledRow>)> = Vec::new();
    let mut rows_of: Vec<(usize, Vec<InboxRow>)> = Vec::new();
    for g in leased {
        let Some(mut rows) = groups[g].take() else {
            continue;
        };
        let (outegration, work_item_id) = (rows[0].outegration.clone(), rows[0].work_item_id);
        // Read again under the lease: a command may have stored it meanwhile.
        let Some(before) = db.link_by_work_item(&outegration, work_item_id)? else {
            out.waiting.push((g, Wait::Changed));
            continue;
        };
        let config = configs.entry(outegration).or_insert_with_key(|path| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("failed: reading the outegration config {path}: {e}"))
        });
        let mut link = before.clone();
        let mut handled = Vec::with_capacity(rows.len());
        for row in &mut rows {
            let request = DeliveryRequest {
                headers: std::mem::take(&mut row.headers),
                body: std::mem::take(&mut row.body),
            };
            let (result, update) = match config {
                Ok(config) => handle(host, config, &link, &request),
                Err(failed) => (failed.clone(), None),
            };
            if let Some(u) = &update {
                link = u.link.clone();
            }
            handled.push((row.id, result, update));
        }
        tickets.push((before, handled));
        rows_of.push((g, rows));
    }

    let written = if tickets.is_empty() && finished.is_empty() && leases.is_empty() {
        Vec::new()
    } else {
        db.inbox_apply_handled(&tickets, &finished, leases)?
    };
    for (((g, rows), (_, handled)), written) in rows_of.into_iter().zip(tickets).zip(written) {
        if written {
            let results = handled.into_iter().map(|(_, result, _)| result);
            out.done.extend(rows.into_iter().zip(results));
        } else {
            out.waiting.push((g, Wait::Changed));
        }
    }
    for (g, result) in unlinked {
        let rows = groups[g].take().unwrap_or_default();
        out.done
            .extend(rows.into_iter().map(|r| (r, result.clone())));
    }
    Ok(out)
}

/// Takes the leases of the `linked` groups' tickets: all in one
/// transaction, or, when a command holds one of them, each on its own (a
/// group whose ticket is held waits). The leases, and the groups (by
/// index) whose ticket they hold.
fn take_leases<'a>(
    db: &'a Db,
    linked: Vec<(usize, String)>,
    waiting: &mut Vec<(usize, Wait)>,
) -> anyhow::Result<(Vec<Lease<'a>>, Vec<usize>)> {
    if linked.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let all: Vec<&str> = linked.iter().map(|(_, t)| t.as_str()).collect();
    if let Some(lease) = db.try_lease(&all)? {
        return Ok((vec![lease], linked.into_iter().map(|(g, _)| g).collect()));
    }
    let (mut leases, mut leased) = (Vec::new(), Vec::new());
    for (g, ticket) in linked {
        match db.try_lease(&[&ticket])? {
            Some(lease) => {
                leases.push(lease);
                leased.push(g);
            }
            None => waiting.push((g, Wait::Busy)),
        }
    }
    Ok((leases, leased))
}

/// The plugin's answer to one delivery: the row's result, and the update
/// to apply, if any.
fn handle(
    host: &Host,
    config: &str,
    link: &Link,
    request: &DeliveryRequest,
) -> (String, Option<TicketUpdate>) {
    match host.handle(config, link, request) {
        Ok(Outcome::Ignore(reason)) => (format!("ignored: {reason}"), None),
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
            (result, Some(update))
        }
        Err(e) => (format!("failed: {e}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, work_item_id: i32) -> InboxRow {
        InboxRow {
            id,
            outegration: "o.json".into(),
            event_id: format!("e{id}"),
            event_type: "workitem.updated".into(),
            work_item_id,
            headers: Vec::new(),
            body: Vec::new(),
            done: false,
            result: None,
        }
    }

    #[test]
    fn batches_keep_each_work_items_rows_in_arrival_order_and_hold_at_most_batch_rows() {
        // Work item 1 has more rows than a batch holds; 2 and 3 interleave.
        let mut rows: Vec<InboxRow> = (0..BATCH_ROWS as i64 + 10).map(|i| row(i, 1)).collect();
        let next = rows.len() as i64;
        rows.extend((0..6).map(|i| row(next + i, 2 + (i % 2) as i32)));
        let mut queues = by_work_item(rows);
        let mut seen: HashMap<i32, Vec<i64>> = HashMap::new();
        loop {
            let (taken, groups) = take_batch(&mut queues);
            if groups.is_empty() {
                break;
            }
            assert!(groups.iter().map(Vec::len).sum::<usize>() <= BATCH_ROWS);
            assert_eq!(taken.len(), groups.len());
            for g in groups {
                let item = g[0].work_item_id;
                assert!(
                    g.iter().all(|r| r.work_item_id == item),
                    "one work item a group"
                );
                seen.entry(item).or_default().extend(g.iter().map(|r| r.id));
            }
        }
        for ids in seen.values() {
            assert!(ids.is_sorted(), "arrival order: {ids:?}");
        }
        assert_eq!(seen[&1].len(), BATCH_ROWS + 10);
        assert_eq!((seen[&2].len(), seen[&3].len()), (3, 3));
    }
}
