//! Who holds a lease or runs a job: `host:pid:nonce`. A holder whose process
//! is gone from this machine lets go at once instead of after its TTL, so a
//! host killed mid-command blocks nothing when it is started again.

use std::path::Path;

/// This machine's name as the kernel knows it; empty where unknown. Read
/// once per process: every lease and job claim names its holder.
fn machine() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default()
    })
}

/// A fresh holder name for this process.
pub fn new_holder() -> String {
    format!(
        "{}:{}:{}",
        machine(),
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Whether `holder` names a process of this machine that no longer runs.
/// Only provable where `/proc` exists and the machine is named; anywhere
/// else the holder is presumed alive and its TTL decides.
pub fn holder_gone(holder: &str) -> bool {
    let mut parts = holder.splitn(3, ':');
    let (Some(host), Some(pid), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    let here = machine();
    if here.is_empty() || host != here || !Path::new("/proc/self").exists() {
        return false;
    }
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Milliseconds since the Unix epoch.
pub fn epoch_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_never_gone_and_a_dead_pid_is() {
        assert!(!holder_gone(&new_holder()));
        // Above the kernel's pid_max (4194304): no process can have it.
        let dead = format!("{}:{}:x", machine(), 9_999_999);
        assert_eq!(holder_gone(&dead), Path::new("/proc/self").exists());
        assert!(!holder_gone("elsewhere:1:x"), "another machine's holder");
        assert!(!holder_gone("garbage"));
    }
}
