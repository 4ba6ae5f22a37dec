//! Per-call sandbox limits.

use std::time::Duration;

/// What one plugin call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget of one export call, host calls included.
    pub call_deadline: Duration,
    /// Linear memory the plugin may grow to.
    pub memory_bytes: usize,
    /// Largest HTTP response body handed to the plugin.
    pub max_response_bytes: usize,
    /// Longest a call waits for an instance slot when
    /// `MAX_CONCURRENT_CALLS` are running, before it is refused as
    /// `CallError::Busy` (having sent nothing).
    pub queue_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_deadline: Duration::from_secs(30),
            memory_bytes: 256 << 20,
            max_response_bytes: 16 << 20,
            queue_wait: Duration::from_secs(30),
        }
    }
}

/// Refuses memory growth past the limit and remembers that it did, so the
/// resulting trap can be reported as what it is.
#[derive(Debug)]
pub struct MemoryLimiter {
    pub max_bytes: usize,
    pub hit: bool,
    /// The largest size a memory was allowed to grow to.
    pub grown_to: usize,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Ok(false);
        }
        self.grown_to = self.grown_to.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
