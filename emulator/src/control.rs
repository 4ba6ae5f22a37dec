//! The in-process control API of a running emulator, for tests: faults,
//! request counts, service hook subscriptions and their deliveries. The
//! same controls are served over HTTP under `/_emulator` (`routes::admin`).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Emulator;
use crate::faults::Faults;
use crate::hooks::Delivery;
use crate::requests::RequestCounts;

impl Emulator {
    /// Replaces the injected faults (and reseeds their RNG).
    ///
    /// # Panics
    /// When a rate is outside 0..=1.
    pub fn set_faults(&self, faults: Faults) {
        if let Err(m) = faults.validate() {
            panic!("invalid faults: {m}");
        }
        self.emu.faults.set(faults);
    }

    /// The injected faults in force.
    pub fn faults(&self) -> Faults {
        self.emu.faults.get()
    }

    /// REST calls so far, by route and status (admin calls not counted).
    pub fn request_counts(&self) -> RequestCounts {
        self.emu.counts.snapshot()
    }

    /// Every webhook HTTP attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.emu.hooks.deliveries()
    }

    /// Waits until no event or notification is waiting for delivery
    /// (retries included); false when `timeout` passes first.
    pub fn wait_for_hooks(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if self.emu.hooks.pending() == 0 {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A subscription as `GET _apis/hooks/subscriptions/{id}` returns it.
    pub fn subscription(&self, id: &str) -> Option<Value> {
        let s = self.emu.hooks.subscription(id)?;
        Some(crate::hooks::subscriptions::to_json(&self.emu, &s))
    }
}
