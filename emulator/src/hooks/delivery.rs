//! Delivering notifications: the dispatcher matches each committed change
//! against the subscriptions; one worker per subscription POSTs its
//! notifications in order.
//!
//! Failures follow ADO's documented rules (service hooks troubleshooting):
//! 410 is terminal (the subscription is disabled at once); 408, 502, 503
//! and 504 are transient (retried up to 8 times, ~1 s doubling to 60 s);
//! anything else, or transient retries exhausted, is enduring: the
//! subscription goes on probation and the notification is retried up to 7
//! more times (~20 min doubling to 15 h) before the subscription becomes
//! `disabledBySystem`. A success ends probation [unverified: any 2xx, or
//! with `probation-ends=200` (`variants`) only 200]. [unverified] that a
//! connection failure counts as transient (enduring with
//! `connection-failure=enduring`), and that later notifications wait
//! behind one being retried, on probation too ("limited in the number of
//! notifications it can send"; with `probation-holds=no` a notification on
//! probation is retried on its own and the later ones go out).
//!
//! Injected faults (`faults`): a delivery that fails without calling the
//! receiver, one sent twice, two swapped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::events::{EventKind, WorkItemEvent};
use crate::faults::FaultState;
use crate::hooks::subscriptions::{
    Notification, NotificationResult, NotificationStatus, Status, Subscription, header_lines,
};
use crate::hooks::{Delivery, Hooks, Outcome, Queued, payload};
use crate::site::Site;
use crate::variants::Variants;

/// One notification for a worker.
#[derive(Debug)]
pub struct Job {
    pub notification_id: i32,
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub body: Value,
}

/// Per-subscription delivery queues, owned by the dispatcher.
type Workers = HashMap<String, mpsc::UnboundedSender<Job>>;

/// What deliveries need of the emulator they run in (`Emu` is one): its
/// site for the payloads' URLs, the settings, the injected faults and the
/// hooks' own state.
pub trait Host: Send + Sync + 'static {
    fn site(&self) -> &Site;
    fn hooks(&self) -> &Hooks;
    fn variants(&self) -> &Variants;
    fn faults(&self) -> &FaultState;
}

/// How long a worker told to swap two deliveries waits for the second.
const REORDER_WAIT: Duration = Duration::from_millis(300);

/// Starts the dispatcher; `None` when one already runs for this emulator.
pub fn spawn(emu: Arc<dyn Host>) -> Option<tokio::task::JoinHandle<()>> {
    let rx = emu.hooks().take_receiver()?;
    Some(tokio::spawn(dispatch(emu, rx)))
}

async fn dispatch(emu: Arc<dyn Host>, mut rx: mpsc::UnboundedReceiver<Queued>) {
    let mut workers: Workers = Workers::new();
    while let Some(q) = rx.recv().await {
        let jobs = plan(&*emu, &q);
        // Count the notifications before the event is done, so `pending`
        // never drops to zero in between.
        emu.hooks().add_pending(jobs.len());
        emu.hooks().done();
        for job in jobs {
            let id = job.subscription_id.clone();
            let tx = workers
                .entry(id.clone())
                .or_insert_with(|| start_worker(emu.clone()));
            if let Err(mpsc::error::SendError(job)) = tx.send(job) {
                let fresh = start_worker(emu.clone());
                let _ = fresh.send(job);
                workers.insert(id, fresh);
            }
        }
    }
}

fn start_worker(emu: Arc<dyn Host>) -> mpsc::UnboundedSender<Job> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(worker(emu, rx));
    tx
}

/// Whether a subscription's event type and publisher inputs select the change.
fn wants(s: &Subscription, e: &WorkItemEvent, variants: &Variants) -> bool {
    let ty = s.event_type.as_str();
    // A discussion comment is also an update of the item (a new revision
    // with System.History): both subscriptions hear it. Whether a
    // System.History write through PATCH is a comment event too is the
    // `history-commented` setting (`commit::publish`).
    let kind_ok = match e.kind {
        EventKind::Created => ty == "workitem.created",
        EventKind::Updated => ty == "workitem.updated",
        EventKind::Commented => ty == "workitem.commented" || ty == "workitem.updated",
        EventKind::Deleted => ty == "workitem.deleted",
        EventKind::Restored => ty == "workitem.restored",
    };
    if !kind_ok {
        return false;
    }
    let input = |k: &str| {
        s.publisher_inputs
            .get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let field = |name: &str| {
        e.item
            .fields
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if input("projectId").is_some_and(|p| !p.eq_ignore_ascii_case(&e.item.project_id)) {
        return false;
    }
    if input("workItemType").is_some_and(|t| !t.eq_ignore_ascii_case(&field("System.WorkItemType")))
    {
        return false;
    }
    if let Some(area) = input("areaPath") {
        // "Only items under this area path" [doc]: the node or below it.
        let path = field("System.AreaPath").to_lowercase();
        let area = area.to_lowercase();
        if path != area && !path.starts_with(&format!("{area}\\")) {
            return false;
        }
    }
    if ty == "workitem.updated"
        && let Some(list) = input("changedFields")
    {
        // [unverified] several fields separated by commas or semicolons;
        // with `changed-fields-separators=comma` (`variants`) by commas
        // only, a semicolon then being part of a (never matching) name.
        let before = e.previous.as_ref().map(|p| &p.fields);
        let separators: &[char] = if variants.changed_fields_semicolons {
            &[',', ';']
        } else {
            &[',']
        };
        let changed = list
            .split(separators)
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .any(|f| {
                let now = e
                    .item
                    .fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(f))
                    .map(|(_, v)| v);
                let then = before.and_then(|b| {
                    b.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(f))
                        .map(|(_, v)| v)
                });
                now != then
            });
        if !changed {
            return false;
        }
    }
    if ty == "workitem.commented"
        && let Some(pattern) = input("commentPattern")
    {
        // [unverified] case-insensitive "contains"; with
        // `comment-pattern=sensitive` (`variants`) with case.
        let text = e
            .comment
            .as_ref()
            .and_then(|c| c["text"].as_str().map(str::to_string))
            .unwrap_or_else(|| field("System.History"));
        let found = if variants.comment_pattern_ignores_case {
            text.to_lowercase().contains(&pattern.to_lowercase())
        } else {
            text.contains(pattern)
        };
        if !found {
            return false;
        }
    }
    true
}

/// The notifications one change makes, recorded as queued.
fn plan(emu: &dyn Host, q: &Queued) -> Vec<Job> {
    // Whether `suppressNotifications=true` also silences service hooks no
    // source says: by default such changes are not delivered; with
    // `suppress-hooks=no` (`variants`) they are.
    if q.event.suppress_notifications && emu.variants().suppress_hooks {
        return Vec::new();
    }
    // One event per change and event type: a comment is both a
    // `workitem.commented` and a `workitem.updated` event.
    let mut event_ids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut data = emu.hooks().data();
    let chosen: Vec<Subscription> = data
        .subscriptions
        .iter()
        .filter(|s| s.status.delivers() && s.since <= q.at && wants(s, &q.event, emu.variants()))
        .cloned()
        .collect();
    let mut jobs = Vec::with_capacity(chosen.len());
    for s in chosen {
        data.next_notification_id += 1;
        let id = data.next_notification_id;
        let event_id = event_ids
            .entry(s.event_type.clone())
            .or_insert_with(|| uuid::Uuid::new_v4().to_string())
            .clone();
        let body = payload::build(
            &payload::Ctx {
                site: emu.site(),
                variants: emu.variants(),
                account_id: &emu.hooks().account_id,
            },
            &q.event,
            &q.date,
            &event_id,
            &s,
            id,
        );
        let now = crate::dates::now();
        data.notifications.push(Notification {
            id,
            subscription_id: s.id.clone(),
            subscriber_id: s.created_by.id.clone(),
            event_id: event_id.clone(),
            event_type: s.event_type.clone(),
            created_date: now.clone(),
            modified_date: now,
            result: NotificationResult::Pending,
            status: NotificationStatus::Queued,
            event: body.clone(),
            request: None,
            response: None,
            error_message: None,
            request_attempts: 0,
            request_duration: 0.0,
        });
        jobs.push(Job {
            notification_id: id,
            subscription_id: s.id,
            event_id: event_id.clone(),
            event_type: s.event_type,
            body,
        });
    }
    jobs
}

async fn worker(emu: Arc<dyn Host>, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = rx.recv().await {
        if emu.faults().roll(|f| f.hook_reorder_rate)
            && let Ok(Some(next)) = tokio::time::timeout(REORDER_WAIT, rx.recv()).await
        {
            deliver(&emu, next).await;
        }
        deliver(&emu, job).await;
    }
}

/// How ADO classes an attempt's result.
enum Class {
    Success,
    Terminal,
    Transient,
    Enduring,
}

/// `connection_failure_transient`: the `connection-failure` setting (no
/// source classifies a failure to connect).
fn classify(outcome: &Outcome, connection_failure_transient: bool) -> Class {
    match outcome {
        Outcome::Status(s) if (200..300).contains(s) => Class::Success,
        Outcome::Status(410) => Class::Terminal,
        Outcome::Transport(_) if !connection_failure_transient => Class::Enduring,
        Outcome::Status(408 | 502 | 503 | 504) | Outcome::Transport(_) | Outcome::Injected => {
            Class::Transient
        }
        Outcome::Status(_) => Class::Enduring,
    }
}

/// One POST to the receiver: the outcome and the response text.
async fn send(emu: &dyn Host, sub: &Subscription, body: &Value) -> (Outcome, Option<String>) {
    if emu.faults().roll(|f| f.hook_failure_rate) {
        return (Outcome::Injected, None);
    }
    let inputs = &sub.consumer_inputs;
    let url = inputs.get("url").cloned().unwrap_or_default();
    // [unverified] the exact request headers ADO sends.
    let mut request = emu
        .hooks()
        .client
        .post(&url)
        .header("Content-Type", "application/json; charset=utf-8")
        .body(body.to_string());
    let user = inputs.get("basicAuthUsername").filter(|u| !u.is_empty());
    let password = inputs.get("basicAuthPassword").filter(|p| !p.is_empty());
    if user.is_some() || password.is_some() {
        request = request.basic_auth(user.cloned().unwrap_or_default(), password.cloned());
    }
    for (k, v) in inputs
        .get("httpHeaders")
        .and_then(|h| header_lines(h))
        .unwrap_or_default()
    {
        request = request.header(k, v);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            (
                Outcome::Status(status),
                Some(format!("HTTP {status}\r\n\r\n{text}")),
            )
        }
        // Never the request itself in the message: it may carry the password.
        Err(e) => (Outcome::Transport(without_url(&e)), None),
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// Updates the stored notification and subscription.
fn record(
    emu: &dyn Host,
    job: &Job,
    attempt: u32,
    outcome: &Outcome,
    response: Option<String>,
    started: Instant,
) {
    let url = emu
        .hooks()
        .subscription(&job.subscription_id)
        .and_then(|s| s.consumer_inputs.get("url").cloned())
        .unwrap_or_default();
    let mut data = emu.hooks().data();
    data.deliveries.push(Delivery {
        subscription_id: job.subscription_id.clone(),
        notification_id: job.notification_id,
        event_id: job.event_id.clone(),
        event_type: job.event_type.clone(),
        attempt,
        url: url.clone(),
        outcome: outcome.clone(),
        body: job.body.clone(),
    });
    if let Some(n) = data
        .notifications
        .iter_mut()
        .find(|n| n.id == job.notification_id)
    {
        n.request_attempts = attempt;
        n.request_duration = started.elapsed().as_secs_f64();
        n.status = NotificationStatus::RequestInProgress;
        n.request = Some(format!(
            "POST {url}\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{}",
            job.body
        ));
        n.response = response;
        n.error_message = match outcome {
            Outcome::Status(s) if (200..300).contains(s) => None,
            Outcome::Status(s) => Some(format!("The remote server returned an error: ({s}).")),
            Outcome::Transport(t) => Some(t.clone()),
            Outcome::Injected => Some("Delivery failed (fault injected by the emulator).".into()),
        };
        n.modified_date = crate::dates::now();
    }
}

fn finish(emu: &dyn Host, job: &Job, result: NotificationResult) {
    let mut data = emu.hooks().data();
    if let Some(n) = data
        .notifications
        .iter_mut()
        .find(|n| n.id == job.notification_id)
    {
        n.result = result;
        n.status = NotificationStatus::Completed;
        n.modified_date = crate::dates::now();
    }
    drop(data);
    emu.hooks().done();
}

fn set_status(emu: &dyn Host, id: &str, change: impl FnOnce(&mut Subscription)) {
    let mut data = emu.hooks().data();
    if let Some(s) = data.subscriptions.iter_mut().find(|s| s.id == id) {
        change(s);
    }
}

/// Where one notification's schedule stands.
#[derive(Clone, Copy)]
struct Progress {
    started: Instant,
    attempt: u32,
    transient: usize,
    probation: usize,
}

/// Delivers one notification with retries, probation and disabling; the
/// subscription's worker waits for it, so later notifications wait behind
/// one being retried, unless `probation-holds=no` lets a notification on
/// probation go on in a task of its own.
async fn deliver(emu: &Arc<dyn Host>, job: Job) {
    let progress = Progress {
        started: Instant::now(),
        attempt: 0,
        transient: 0,
        probation: 0,
    };
    attempts(emu.clone(), job, progress).await;
}

/// [`attempts`], boxed: it may spawn itself.
fn attempts_boxed(
    emu: Arc<dyn Host>,
    job: Job,
    progress: Progress,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(attempts(emu, job, progress))
}

async fn attempts(host: Arc<dyn Host>, job: Job, progress: Progress) {
    let emu = &*host;
    let settings = emu.hooks().settings.clone();
    let Progress {
        started,
        mut attempt,
        mut transient,
        mut probation,
    } = progress;
    loop {
        // The subscription may have been deleted or disabled meanwhile.
        let Some(sub) = emu.hooks().subscription(&job.subscription_id) else {
            return finish(emu, &job, NotificationResult::Filtered);
        };
        if !sub.status.delivers() {
            return finish(emu, &job, NotificationResult::Failed);
        }
        attempt += 1;
        let (outcome, response) = send(emu, &sub, &job.body).await;
        record(emu, &job, attempt, &outcome, response, started);
        let wait = match classify(&outcome, emu.variants().connection_failure_transient) {
            Class::Success => {
                let ends_probation = emu.variants().probation_ends_any_2xx
                    || matches!(outcome, Outcome::Status(200));
                set_status(emu, &sub.id, |s| {
                    if s.status == Status::OnProbation && ends_probation {
                        s.status = Status::Enabled;
                        s.probation_retries = 0;
                    }
                });
                if emu.faults().roll(|f| f.hook_duplicate_rate) {
                    let (again, response) = send(emu, &sub, &job.body).await;
                    record(emu, &job, attempt + 1, &again, response, started);
                }
                return finish(emu, &job, NotificationResult::Succeeded);
            }
            Class::Terminal => {
                set_status(emu, &sub.id, |s| s.status = Status::DisabledBySystem);
                return finish(emu, &job, NotificationResult::Failed);
            }
            Class::Transient if probation == 0 && transient < settings.transient_retries.len() => {
                transient += 1;
                settings.transient_retries[transient - 1]
            }
            Class::Transient | Class::Enduring => {
                if probation >= settings.probation_retries.len() {
                    set_status(emu, &sub.id, |s| s.status = Status::DisabledBySystem);
                    return finish(emu, &job, NotificationResult::Failed);
                }
                let first = probation == 0;
                set_status(emu, &sub.id, |s| {
                    s.status = Status::OnProbation;
                    if first {
                        s.probation_retries = 0;
                    } else {
                        s.probation_retries += 1;
                        s.last_probation_retry_date = Some(crate::dates::now());
                    }
                });
                probation += 1;
                let wait = settings.probation_retries[probation - 1];
                if !emu.variants().probation_holds {
                    // Not held: the rest of this schedule runs on its own
                    // and the worker goes on to the next notification.
                    let progress = Progress {
                        started,
                        attempt,
                        transient,
                        probation,
                    };
                    let host = host.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(wait).await;
                        attempts_boxed(host, job, progress).await;
                    });
                    return;
                }
                wait
            }
        };
        tokio::time::sleep(wait).await;
    }
}
