//! What a re-ingest does to each finding's status, as pure functions: a
//! finding the scan reports is new, still open or reappeared; one of the
//! same scope it no longer reports is fixed. Temporary statuses (a person
//! mitigated or accepted the risk) survive a rescan that still sees the
//! finding: the scanner cannot know about that decision.

/// Which finding statuses count as remediated and which as temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statuses {
    pub remediated: Vec<String>,
    pub temporary: Vec<String>,
}

impl Default for Statuses {
    /// The outegration config's `auto_close` defaults.
    fn default() -> Self {
        Statuses {
            remediated: vec!["fixed".into(), "remediated".into(), "closed".into()],
            temporary: vec!["mitigated".into(), super::RISK_ACCEPTED.into()],
        }
    }
}

impl Statuses {
    fn has(list: &[String], status: &str) -> bool {
        list.iter().any(|s| s.eq_ignore_ascii_case(status.trim()))
    }

    pub fn is_remediated(&self, status: &str) -> bool {
        Self::has(&self.remediated, status)
    }

    pub fn is_temporary(&self, status: &str) -> bool {
        Self::has(&self.temporary, status)
    }

    /// Whether a ticket with these finding statuses is done: every finding
    /// remediated, or temporary when those count. No findings: not done.
    pub fn all_done<'a>(
        &self,
        statuses: impl IntoIterator<Item = &'a str>,
        temporary_counts: bool,
    ) -> bool {
        let mut any = false;
        for s in statuses {
            any = true;
            if !(self.is_remediated(s) || (temporary_counts && self.is_temporary(s))) {
                return false;
            }
        }
        any
    }
}

/// What an ingest did to one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    New,
    StillOpen,
    Reappeared,
    Fixed,
    Unchanged,
}

/// The status of a finding the scan reports. `prev` is its stored status
/// (none: never seen), `prev_stated` the status the previous scan stated,
/// `stated` the status this input gives, if any.
pub fn present(
    prev: Option<&str>,
    prev_stated: Option<&str>,
    stated: Option<&str>,
    st: &Statuses,
) -> (String, Change) {
    let Some(prev) = prev else {
        return (stated.unwrap_or("open").to_string(), Change::New);
    };
    let next = match stated {
        Some(s) => s.to_string(),
        None if st.is_remediated(prev) => "open".to_string(),
        // The scanner put it there (a SARIF suppression) and took it back.
        None if prev_stated.is_some_and(|p| p.eq_ignore_ascii_case(prev)) => "open".to_string(),
        // Open, or temporary, or a platform's own status: keep it.
        None => prev.to_string(),
    };
    let change = match (st.is_remediated(prev), st.is_remediated(&next)) {
        (true, false) => Change::Reappeared,
        (false, true) => Change::Fixed,
        (true, true) => Change::Unchanged,
        (false, false) => Change::StillOpen,
    };
    (next, change)
}

/// The status of a finding of the scan's scope that it no longer reports:
/// `Some("fixed")`, or none when it was remediated already.
pub fn absent(prev: &str, st: &Statuses) -> Option<String> {
    (!st.is_remediated(prev)).then(|| "fixed".to_string())
}

/// The counts an ingest reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub findings: usize,
    pub new: usize,
    pub still_open: usize,
    pub reappeared: usize,
    pub fixed: usize,
    pub unchanged: usize,
    pub tickets_created: usize,
    pub tickets_updated: usize,
}

impl IngestSummary {
    pub fn count(&mut self, change: Change) {
        match change {
            Change::New => self.new += 1,
            Change::StillOpen => self.still_open += 1,
            Change::Reappeared => self.reappeared += 1,
            Change::Fixed => self.fixed += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    pub fn add(&mut self, o: &IngestSummary) {
        self.findings += o.findings;
        self.new += o.new;
        self.still_open += o.still_open;
        self.reappeared += o.reappeared;
        self.fixed += o.fixed;
        self.unchanged += o.unchanged;
        self.tickets_created += o.tickets_created;
        self.tickets_updated += o.tickets_updated;
    }
}

impl std::fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} finding(s): {} new, {} still open, {} fixed, {} reappeared, {} unchanged; tickets: {} created, {} updated",
            self.findings,
            self.new,
            self.still_open,
            self.fixed,
            self.reappeared,
            self.unchanged,
            self.tickets_created,
            self.tickets_updated
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_seen_again_is_still_open_or_reappeared() {
        let st = Statuses::default();
        assert_eq!(present(None, None, None, &st), ("open".into(), Change::New));
        assert_eq!(
            present(Some("open"), None, None, &st),
            ("open".into(), Change::StillOpen)
        );
        assert_eq!(
            present(Some("fixed"), None, None, &st),
            ("open".into(), Change::Reappeared)
        );
    }

    #[test]
    fn a_temporary_status_survives_a_rescan_that_still_sees_the_finding() {
        let st = Statuses::default();
        assert_eq!(
            present(Some("mitigated"), None, None, &st),
            ("mitigated".into(), Change::StillOpen)
        );
    }

    #[test]
    fn a_suppression_the_scanner_takes_back_reopens_the_finding() {
        let st = Statuses::default();
        assert_eq!(
            present(Some("risk_accepted"), Some("risk_accepted"), None, &st),
            ("open".into(), Change::StillOpen)
        );
    }

    #[test]
    fn a_stated_status_wins_and_a_stated_fix_counts_as_fixed() {
        let st = Statuses::default();
        assert_eq!(
            present(Some("open"), None, Some("fixed"), &st),
            ("fixed".into(), Change::Fixed)
        );
        assert_eq!(
            present(Some("open"), None, Some("risk_accepted"), &st),
            ("risk_accepted".into(), Change::StillOpen)
        );
    }

    #[test]
    fn a_finding_missing_from_the_scan_is_fixed_once() {
        let st = Statuses::default();
        assert_eq!(absent("open", &st).as_deref(), Some("fixed"));
        assert_eq!(absent("mitigated", &st).as_deref(), Some("fixed"));
        assert_eq!(absent("fixed", &st), None);
    }

    #[test]
    fn all_done_counts_temporary_statuses_only_when_asked() {
        let st = Statuses::default();
        assert!(st.all_done(["fixed", "closed"], false));
        assert!(!st.all_done(["fixed", "risk_accepted"], false));
        assert!(st.all_done(["fixed", "risk_accepted"], true));
        assert!(!st.all_done(["fixed", "open"], true));
        assert!(!st.all_done([], true), "no findings: nothing to close");
    }
}
