//! What one call's store holds, and the imports the plugin is granted.

use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::secops::ticketing::{store, types};
use crate::egress::Egress;
use crate::kv::Kv;
use crate::limits::MemoryLimiter;
use crate::pacing::Pacer;

/// The state of one call: a WASI context that grants nothing, the memory
/// limiter, and what the imports need.
pub struct CallState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: MemoryLimiter,
    pub egress: Egress,
    pub kv: Kv,
    pub agent: ureq::Agent,
    pub pacer: Pacer,
    pub deadline: Instant,
    pub max_response_bytes: usize,
}

impl CallState {
    pub fn new(
        egress: Egress,
        kv: Kv,
        agent: ureq::Agent,
        pacer: Pacer,
        deadline: Duration,
        memory_bytes: usize,
        max_response_bytes: usize,
    ) -> Self {
        // No preopened directories, no environment, no arguments, no network:
        // the plugin reaches the world through `http` and `store` only.
        let wasi = WasiCtx::builder()
            .inherit_stderr()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                max_bytes: memory_bytes,
                hit: false,
                grown_to: 0,
            },
            egress,
            kv,
            agent,
            pacer,
            deadline: Instant::now() + deadline,
            max_response_bytes,
        }
    }

    /// Readies a (possibly reused) state for a new call.
    pub fn begin(&mut self, egress: Egress, deadline: Duration) {
        self.egress = egress;
        self.deadline = Instant::now() + deadline;
        self.limiter.hit = false;
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for CallState {}

impl store::Host for CallState {
    fn get(&mut self, key: String) -> Option<String> {
        self.kv.get(&key)
    }

    fn set(&mut self, key: String, value: String, ttl_seconds: Option<u32>) {
        self.kv.set(
            &key,
            &value,
            ttl_seconds.map(|s| Duration::from_secs(u64::from(s))),
        );
    }

    fn delete(&mut self, key: String) {
        self.kv.delete(&key);
    }
}
