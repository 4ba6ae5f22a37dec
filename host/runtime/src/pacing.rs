//! Rate-limit pacing per identity, shared by every call of one host.
//!
//! Azure DevOps counts usage per identity and says so in its answers
//! (rate-limits page): `Retry-After` asks the caller to hold back that many
//! seconds; `X-RateLimit-Remaining` and `X-RateLimit-Reset` say how much of
//! the budget is left and when it refills. A bulk job runs many calls at
//! once, so a plugin call alone cannot honour them: the host does, before
//! each request leaves. After a `Retry-After`, nothing of that identity is
//! sent before it expires; while the remaining budget is low, requests are
//! spread evenly until the reset, so the budget never runs out and the
//! identity is never blocked.
//!
//! An identity is the request's origin and its `Authorization` value,
//! hashed: the pacer never holds a credential.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

/// Remaining budget below this share of the limit counts as low.
const LOW_SHARE: f64 = 0.25;

/// Longest spacing between two requests of one identity.
const MAX_SPACING: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, Copy)]
struct Pace {
    /// No request before this (a `Retry-After`).
    not_before: Option<Instant>,
    /// The next free slot while the budget is low.
    next_slot: Option<Instant>,
    /// Spacing between slots; zero when the budget is not low.
    spacing: Duration,
}

/// The pacing state of every identity a host talks to.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    inner: Arc<Mutex<HashMap<[u8; 32], Pace>>>,
    off: bool,
}

/// One identity, as the pacer keys it.
pub fn identity(url: &str, headers: &[(String, String)]) -> [u8; 32] {
    let origin = url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let auth = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update([0]);
    h.update(auth.as_bytes());
    h.finalize().into()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

impl Pacer {
    /// A pacer that never waits (for measurements without it).
    pub fn disabled() -> Pacer {
        Pacer {
            off: true,
            ..Pacer::default()
        }
    }

    /// How long a request of `who` must wait before it is sent; takes its
    /// slot, so concurrent callers line up instead of all going at once.
    pub fn reserve(&self, who: &[u8; 32]) -> Duration {
        if self.off {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(p) = map.get_mut(who) else {
            return Duration::ZERO;
        };
        let mut at = now;
        if let Some(nb) = p.not_before {
            at = at.max(nb);
        }
        if !p.spacing.is_zero() {
            at = at.max(p.next_slot.unwrap_or(now));
            p.next_slot = Some(at + p.spacing);
        }
        at.saturating_duration_since(now)
    }

    /// Learns from an answer's headers.
    pub fn observe(&self, who: &[u8; 32], headers: &[(String, String)]) {
        if self.off {
            return;
        }
        let now = Instant::now();
        let retry_after = header(headers, "retry-after")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.min(3600.0)));
        let remaining =
            header(headers, "x-ratelimit-remaining").and_then(|v| v.parse::<f64>().ok());
        let limit = header(headers, "x-ratelimit-limit").and_then(|v| v.parse::<f64>().ok());
        let reset = header(headers, "x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let p = map.entry(*who).or_default();
        if let Some(wait) = retry_after {
            let until = now + wait;
            p.not_before = Some(p.not_before.map_or(until, |nb| nb.max(until)));
        }
        p.spacing = match (remaining, limit) {
            (Some(r), Some(l)) if l > 0.0 && r < l * LOW_SHARE => {
                let now_epoch = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let until_reset = reset
                    .map(|r| r.saturating_sub(now_epoch).max(1))
                    .unwrap_or(1);
                Duration::from_secs(until_reset)
                    .div_f64(r.max(1.0))
                    .min(MAX_SPACING)
            }
            // No headers: usage is far from the limit again.
            _ => Duration::ZERO,
        };
        if p.spacing.is_zero() {
            p.next_slot = None;
        }
        if p.not_before.is_some_and(|nb| nb <= now) {
            p.not_before = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn retry_after_holds_back_every_request_of_that_identity_only() {
        let p = Pacer::default();
        let me = identity(
            "https://dev.azure.com/o/_apis",
            &h(&[("Authorization", "Basic a")]),
        );
        let other = identity(
            "https://dev.azure.com/o/_apis",
            &h(&[("Authorization", "Basic b")]),
        );
        assert_ne!(me, other);
        p.observe(&me, &h(&[("Retry-After", "2")]));
        let wait = p.reserve(&me);
        assert!(
            wait > Duration::from_millis(1500) && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
        assert_eq!(p.reserve(&other), Duration::ZERO);
    }

    #[test]
    fn a_low_budget_spreads_requests_until_the_reset() {
        let p = Pacer::default();
        let me = identity("https://dev.azure.com/o", &[]);
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 4;
        p.observe(
            &me,
            &h(&[
                ("X-RateLimit-Limit", "200"),
                ("X-RateLimit-Remaining", "10"),
                ("X-RateLimit-Reset", &reset.to_string()),
            ]),
        );
        let waits: Vec<Duration> = (0..4).map(|_| p.reserve(&me)).collect();
        // Slots 0.3-0.4 s apart (4 s or so over 10 remaining units).
        assert!(waits[0] < Duration::from_millis(50), "{waits:?}");
        for w in waits.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                gap >= Duration::from_millis(250) && gap <= Duration::from_millis(450),
                "{waits:?}"
            );
        }
        // Plenty left again: no more spacing.
        p.observe(
            &me,
            &h(&[
                ("X-RateLimit-Limit", "200"),
                ("X-RateLimit-Remaining", "150"),
            ]),
        );
        assert_eq!(p.reserve(&me), Duration::ZERO);
    }

    #[test]
    fn a_disabled_pacer_never_waits() {
        let p = Pacer::disabled();
        let me = identity("https://x", &[]);
        p.observe(&me, &h(&[("Retry-After", "30")]));
        assert_eq!(p.reserve(&me), Duration::ZERO);
    }
}
