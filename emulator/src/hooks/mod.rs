//! Service hooks: `tfs` work item events delivered to `webHooks`
//! subscriptions over HTTP, as Azure DevOps does.
//!
//! `Journal::publish` (`commit`) hands every committed work item change to
//! [`Hooks::enqueue`], which only pushes it on a channel (it runs with the
//! data lock held, so it must stay cheap). A dispatcher task matches the
//! event against the subscriptions and queues one notification per match;
//! one worker task per subscription delivers its notifications in order,
//! with ADO's documented retry, probation and disable rules (`delivery`).
//!
//! Everything here lives behind its own lock, never the data lock.

pub mod catalog;
pub mod delivery;
pub mod payload;
pub mod subscriptions;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::events::WorkItemEvent;
use subscriptions::{Notification, Subscription};

/// How deliveries are retried; the defaults are ADO's documented schedule
/// (service hooks troubleshooting page). Tests shorten them.
#[derive(Debug, Clone)]
pub struct HookSettings {
    /// Waits before each retry of a transient failure (408, 502, 503, 504):
    /// ~1, 2, 4, 8, 16, 32, 60, 60 seconds.
    pub transient_retries: Vec<Duration>,
    /// Waits before each retry while on probation (an enduring failure):
    /// ~20 min doubling to 15 h, 7 retries; then `disabledBySystem`.
    pub probation_retries: Vec<Duration>,
    /// How long one HTTP attempt may take. [unverified] ADO's timeout.
    pub request_timeout: Duration,
    /// ADO refuses a webhook URL on a loopback or special-range address
    /// ("Webhooks can't target localhost (loopback) or special range
    /// IPv4/IPv6 addresses") and basic auth over plain HTTP ("You must use
    /// HTTPS for basic authentication"; plain HTTP is otherwise allowed):
    /// Microsoft Learn, service-hooks/services/webhooks. Off by default, as
    /// in ADO; a test whose receiver runs on 127.0.0.1 opts in with
    /// `with_local_receivers`.
    pub allow_local_urls: bool,
}

impl Default for HookSettings {
    fn default() -> Self {
        let s = Duration::from_secs;
        HookSettings {
            transient_retries: [1, 2, 4, 8, 16, 32, 60, 60].map(s).to_vec(),
            probation_retries: [
                20 * 60,
                40 * 60,
                80 * 60,
                160 * 60,
                320 * 60,
                640 * 60,
                900 * 60,
            ]
            .map(s)
            .to_vec(),
            request_timeout: s(20),
            allow_local_urls: false,
        }
    }
}

impl HookSettings {
    /// The same rules, but receivers on loopback and private addresses are
    /// accepted (the tests' receivers run on 127.0.0.1), unlike in ADO.
    pub fn with_local_receivers(self) -> Self {
        HookSettings {
            allow_local_urls: true,
            ..self
        }
    }

    /// The same rules with every wait shortened to `wait`, for tests.
    pub fn fast(wait: Duration) -> Self {
        let d = HookSettings::default();
        HookSettings {
            transient_retries: vec![wait; d.transient_retries.len()],
            probation_retries: vec![wait; d.probation_retries.len()],
            request_timeout: Duration::from_secs(5),
            ..d
        }
    }
}

/// What became of one HTTP attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "detail")]
pub enum Outcome {
    /// The receiver answered with this status.
    Status(u16),
    /// No answer: connection refused, reset, timeout.
    Transport(String),
    /// A fault injected by the emulator: the receiver was not called.
    Injected,
}

/// One HTTP attempt of a notification, as `Emulator::deliveries` reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub subscription_id: String,
    pub notification_id: i32,
    /// The event id (`id` of the payload), the same for every subscription.
    pub event_id: String,
    pub event_type: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub url: String,
    pub outcome: Outcome,
    /// The payload sent.
    pub body: Value,
}

/// Subscriptions, notification history and the delivery log.
#[derive(Debug, Default)]
pub struct HookData {
    pub subscriptions: Vec<Subscription>,
    pub notifications: Vec<Notification>,
    pub next_notification_id: i32,
    pub deliveries: Vec<Delivery>,
}

/// A committed change waiting for the dispatcher.
#[derive(Debug)]
pub struct Queued {
    pub event: WorkItemEvent,
    pub at: Instant,
    /// ISO time of the change, the payload's `createdDate`.
    pub date: String,
}

/// The service hooks of one emulator.
#[derive(Debug)]
pub struct Hooks {
    pub settings: HookSettings,
    pub data: Mutex<HookData>,
    sender: mpsc::UnboundedSender<Queued>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Queued>>>,
    /// Events and notifications not yet finished, for `wait_idle`.
    pending: AtomicUsize,
    /// `account` of the payloads' resource containers.
    pub account_id: String,
    pub client: reqwest::Client,
}

impl Hooks {
    /// `follow_redirects`: whether a delivery follows a receiver's 3xx, which
    /// no source says (`variants`, `hook-redirects`; refused by default).
    pub fn new(settings: HookSettings, follow_redirects: bool) -> Hooks {
        let (sender, receiver) = mpsc::unbounded_channel();
        let redirects = if follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        };
        let client = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .redirect(redirects)
            .build()
            .unwrap_or_default();
        Hooks {
            settings,
            data: Mutex::new(HookData::default()),
            sender,
            receiver: Mutex::new(Some(receiver)),
            pending: AtomicUsize::new(0),
            account_id: uuid::Uuid::new_v4().to_string(),
            client,
        }
    }

    pub fn data(&self) -> std::sync::MutexGuard<'_, HookData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a committed change for delivery. Called with the data lock
    /// held: no lock taken, no work done beyond the channel push.
    pub fn enqueue(&self, event: WorkItemEvent) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let queued = Queued {
            event,
            at: Instant::now(),
            date: crate::dates::event_date(),
        };
        if self.sender.send(queued).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The receiving end, taken once by the dispatcher.
    pub(crate) fn take_receiver(&self) -> Option<mpsc::UnboundedReceiver<Queued>> {
        self.receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    pub(crate) fn add_pending(&self, n: usize) {
        self.pending.fetch_add(n, Ordering::SeqCst);
    }

    pub(crate) fn done(&self) {
        self.pending.fetch_sub(1, Ordering::SeqCst);
    }

    /// Events queued or notifications being delivered (retries included).
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Every HTTP attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.data().deliveries.clone()
    }

    /// The subscription with this id, without case.
    pub fn subscription(&self, id: &str) -> Option<Subscription> {
        self.data()
            .subscriptions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
            .cloned()
    }
}
