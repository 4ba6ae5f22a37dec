//! The shared state of one emulator, `Emu`: its site, its data, and the
//! parts with their own locks (service hooks, faults, rate limiting, request
//! counts, setup mistakes). It sits above all of them: the parts take what
//! they need of it, and the routes take it whole.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use crate::data::Data;
use crate::events::WorkItemEvent;
use crate::faults::FaultState;
use crate::hooks::Hooks;
use crate::model::App;
use crate::ratelimit::Limiter;
use crate::requests::Counter;
use crate::server::ServerMode;
use crate::setup::Setup;
use crate::site::Site;
use crate::variants::Variants;

/// Shared state of one emulator.
#[derive(Debug)]
pub struct Emu {
    /// Organization, URL and projects (`emu.organization`, `emu.project(..)`
    /// read through to it).
    pub site: Site,
    pub tenant_id: String,
    pub apps: Vec<App>,
    pub token_lifetime: Duration,
    pub data: Mutex<Data>,
    pub requests: AtomicU64,
    pub sign_in_page_mode: AtomicBool,
    /// Every committed work item change, in order (see `events`).
    pub events: Mutex<Vec<WorkItemEvent>>,
    /// Service hook subscriptions and deliveries (own lock).
    pub hooks: Hooks,
    /// Injected faults (own lock).
    pub faults: FaultState,
    /// Per-identity rate limiting (own lock).
    pub limiter: Limiter,
    /// Settings for behaviours no ADO source decides.
    pub variants: Variants,
    /// REST calls by route and status, for `/_emulator/requests`.
    pub counts: Counter,
    /// Azure DevOps Server mode, if on.
    pub server: Option<ServerMode>,
    /// The seeded setup mistakes (expired secret, project membership).
    pub setup: Setup,
}

// The site is read everywhere (URLs, project lookups); reading it through
// `Emu` keeps those reads short, and lets a `&Emu` stand for a `&Site`.
impl std::ops::Deref for Emu {
    type Target = Site;

    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Emu {
    pub fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl crate::commit::Journal for Emu {
    fn site(&self) -> &Site {
        &self.site
    }

    fn variants(&self) -> &Variants {
        &self.variants
    }

    fn publish(&self, event: WorkItemEvent) {
        // Only a channel push: the hooks' dispatcher task does the work.
        self.hooks.enqueue(event.clone());
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
}

impl crate::hooks::delivery::Host for Emu {
    fn site(&self) -> &Site {
        &self.site
    }

    fn hooks(&self) -> &Hooks {
        &self.hooks
    }

    fn variants(&self) -> &Variants {
        &self.variants
    }

    fn faults(&self) -> &FaultState {
        &self.faults
    }
}
