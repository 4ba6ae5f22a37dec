//! Storing a parsed scan: each finding matched by fingerprint against the
//! stored ones ([`super::merge`] decides its status), the scope's missing
//! findings marked fixed, and every ticket they touch rebuilt
//! ([`crate::platform::grouping`]), all in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::platform::grouping::{self, Grouping, Member, finding_id};
use crate::platform::ingest::merge::{self, Change};
use crate::platform::ingest::{IngestSummary, Options, Parsed, Statuses, parse_file, scope_of};
use crate::state::db::{Db, FindingRow, IngestTx};
use crate::{FieldValue, Ticket};

/// What an ingest needs besides the file.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub options: Options,
    pub grouping: Grouping,
    pub statuses: Statuses,
}

/// Parses `path` and stores its findings; `now` is the RFC 3339 time
/// recorded as first/last seen.
pub fn ingest_file(
    db: &Db,
    path: &Path,
    settings: &Settings,
    now: &str,
) -> anyhow::Result<IngestSummary> {
    let (format, parsed) = parse_file(path, &settings.options)?;
    let file = path.display().to_string();
    let scopes = parsed.scopes.clone();
    db.ingest_tx(|tx| {
        let summary = store(tx, parsed, settings, now)?;
        tx.record_scan(&file, format.name(), &scopes, &summary.to_string())?;
        Ok(summary)
    })
}

/// The tickets read so far in this transaction (a person may have changed a
/// finding's status in the ticket since the last ingest: that status wins).
struct Tickets<'a, 'b> {
    tx: &'a IngestTx<'b>,
    cache: HashMap<String, Option<Ticket>>,
}

impl Tickets<'_, '_> {
    fn get(&mut self, id: &str) -> anyhow::Result<Option<&Ticket>> {
        if !self.cache.contains_key(id) {
            let t = self.tx.ticket(id)?;
            self.cache.insert(id.to_string(), t);
        }
        Ok(self.cache.get(id).and_then(Option::as_ref))
    }

    /// The finding's status: the ticket's when the ticket holds it, else the row's.
    fn status(&mut self, row: &FindingRow) -> anyhow::Result<String> {
        let id = finding_id(&row.fingerprint);
        Ok(self
            .get(&row.ticket_id)?
            .and_then(|t| t.findings.iter().find(|f| f.id == id))
            .map(|f| f.status.clone())
            .unwrap_or_else(|| row.status.clone()))
    }
}

fn store(
    tx: &IngestTx<'_>,
    parsed: Parsed,
    settings: &Settings,
    now: &str,
) -> anyhow::Result<IngestSummary> {
    let mut summary = IngestSummary::default();
    let mut tickets = Tickets {
        tx,
        cache: HashMap::new(),
    };
    // Ticket id → grouping key, of every ticket to rebuild.
    let mut touched: BTreeMap<String, String> = BTreeMap::new();
    // A scanner may report one fingerprint twice (the same issue through
    // two paths): the last one stands, and it is one finding.
    let mut incoming: Vec<_> = Vec::new();
    let mut seen = HashSet::new();
    for f in parsed.findings.into_iter().rev() {
        if seen.insert(f.fingerprint.clone()) {
            incoming.push(f);
        }
    }
    incoming.reverse();
    summary.findings = incoming.len();
    for f in incoming {
        let existing = tx.finding(&f.fingerprint)?;
        let prev = match &existing {
            Some(row) => Some(tickets.status(row)?),
            None => None,
        };
        let prev_stated = existing.as_ref().and_then(|r| r.data.status.clone());
        let (status, change) = merge::present(
            prev.as_deref(),
            prev_stated.as_deref(),
            f.status.as_deref(),
            &settings.statuses,
        );
        summary.count(change);
        let key = settings.grouping.key(&f);
        let (ticket_id, first_seen) = match &existing {
            Some(row) => (row.ticket_id.clone(), row.first_seen.clone()),
            None => (settings.grouping.ticket_id(&key), now.to_string()),
        };
        touched.entry(ticket_id.clone()).or_insert(key);
        tx.put(&FindingRow {
            fingerprint: f.fingerprint.clone(),
            scope: scope_of(&f, &settings.options),
            ticket_id,
            status,
            first_seen,
            last_seen: now.to_string(),
            data: f,
        })?;
    }
    for scope in &parsed.scopes {
        for mut row in tx.in_scope(scope)? {
            if seen.contains(&row.fingerprint) {
                continue;
            }
            let prev = tickets.status(&row)?;
            match merge::absent(&prev, &settings.statuses) {
                Some(status) => {
                    summary.count(Change::Fixed);
                    row.status = status;
                    touched
                        .entry(row.ticket_id.clone())
                        .or_insert_with(|| settings.grouping.key(&row.data));
                    tx.put(&row)?;
                }
                None => summary.count(Change::Unchanged),
            }
        }
    }
    for (id, key) in touched {
        let rows = tx.of_ticket(&id)?;
        let existing = tickets.get(&id)?.cloned();
        // The key the ticket was created with stays its key.
        let key = existing
            .as_ref()
            .and_then(|t| match grouping::field(t, "group_key") {
                Some(FieldValue::Text(k)) => Some(k.clone()),
                _ => None,
            })
            .unwrap_or(key);
        let mut members: Vec<Member<'_>> = rows
            .iter()
            .map(|r| Member {
                status: &r.status,
                first_seen: &r.first_seen,
                data: &r.data,
            })
            .collect();
        let created = existing.is_none();
        let built = settings
            .grouping
            .ticket(&id, &key, &mut members, existing.clone());
        if existing.as_ref() != Some(&built) {
            tx.put_ticket(&built)?;
            if created {
                summary.tickets_created += 1;
            } else {
                summary.tickets_updated += 1;
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Tmp(std::path::PathBuf);

    impl Tmp {
        fn new() -> Tmp {
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "ingest-apply-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Tmp(dir)
        }

        fn file(&self, name: &str, text: &str) -> std::path::PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, text).unwrap();
            p
        }

        fn db(&self) -> Db {
            Db::open(&self.0.join("state.db")).unwrap()
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const HEADER: &str = "scanner,rule_id,title,severity,asset,cve\n";
    const A: &str = "Nessus,1,OpenSSL EOL,high,web-01,CVE-2023-0286\n";
    const B: &str = "Nessus,1,OpenSSL EOL,high,web-02,CVE-2023-0286\n";
    const C: &str = "Nessus,2,SMB signing off,medium,web-01,\n";

    fn ingest(tmp: &Tmp, db: &Db, rows: &[&str]) -> IngestSummary {
        let path = tmp.file("scan.csv", &format!("{HEADER}{}", rows.concat()));
        // A CSV file names its scanners only through its rows: the scope
        // makes an empty rescan mean "nothing found".
        let settings = Settings {
            options: Options {
                scope: Some("Nessus".into()),
                ..Options::default()
            },
            ..Settings::default()
        };
        ingest_file(db, &path, &settings, &crate::state::db::now()).unwrap()
    }

    fn statuses(db: &Db, id: &str) -> Vec<String> {
        db.ticket(id)
            .unwrap()
            .findings
            .iter()
            .map(|f| f.status.clone())
            .collect()
    }

    #[test]
    fn findings_are_grouped_into_one_ticket_per_vulnerability() {
        let tmp = Tmp::new();
        let db = tmp.db();
        let s = ingest(&tmp, &db, &[A, B, C]);
        assert_eq!((s.new, s.tickets_created), (3, 2));
        let ids = db.ticket_ids().unwrap();
        let cve = ids
            .iter()
            .find(|id| db.ticket(id).unwrap().findings.len() == 2)
            .expect("the CVE ticket has both assets");
        assert_eq!(statuses(&db, cve), ["open", "open"]);
    }

    #[test]
    fn reingesting_the_same_scan_updates_instead_of_duplicating() {
        let tmp = Tmp::new();
        let db = tmp.db();
        ingest(&tmp, &db, &[A, B, C]);
        let before: Vec<_> = db.ticket_ids().unwrap();
        let s = ingest(&tmp, &db, &[A, B, C]);
        assert_eq!((s.new, s.still_open, s.fixed), (0, 3, 0));
        assert_eq!(
            (s.tickets_created, s.tickets_updated),
            (0, 0),
            "nothing changed"
        );
        assert_eq!(db.ticket_ids().unwrap(), before);
        assert_eq!(db.findings().unwrap().len(), 3);
    }

    #[test]
    fn a_finding_missing_from_a_rescan_is_fixed_and_reappears_open() {
        let tmp = Tmp::new();
        let db = tmp.db();
        ingest(&tmp, &db, &[A, B, C]);
        let s = ingest(&tmp, &db, &[B, C]);
        assert_eq!((s.fixed, s.still_open, s.tickets_updated), (1, 2, 1));
        let fixed = db.findings().unwrap();
        let id = &fixed
            .iter()
            .find(|r| r.status == "fixed")
            .unwrap()
            .ticket_id;
        let mut now = statuses(&db, id);
        now.sort();
        assert_eq!(now, ["fixed", "open"]);
        let s = ingest(&tmp, &db, &[A, B, C]);
        assert_eq!((s.reappeared, s.still_open), (1, 2));
        assert_eq!(statuses(&db, id), ["open", "open"]);
    }

    #[test]
    fn a_persons_temporary_status_survives_a_rescan() {
        let tmp = Tmp::new();
        let db = tmp.db();
        ingest(&tmp, &db, &[C]);
        let id = db.ticket_ids().unwrap().remove(0);
        let finding = db.ticket(&id).unwrap().findings[0].id.clone();
        db.update_ticket(&id, |t| {
            crate::state::ticket_edit::finding_status(t, &finding, "mitigated")
        })
        .unwrap();
        ingest(&tmp, &db, &[C]);
        assert_eq!(statuses(&db, &id), ["mitigated"]);
        ingest(&tmp, &db, &[]);
        assert_eq!(statuses(&db, &id), ["fixed"], "gone from the scan: fixed");
    }

    #[test]
    fn a_bad_file_stores_nothing_and_names_the_line() {
        let tmp = Tmp::new();
        let db = tmp.db();
        ingest(&tmp, &db, &[A]);
        let path = tmp.file(
            "bad.csv",
            &format!("{HEADER}{B}Nessus,3,x,severe,web-03,\n"),
        );
        let e =
            ingest_file(&db, &path, &Settings::default(), &crate::state::db::now()).unwrap_err();
        assert!(
            format!("{e:#}").contains("line 3, column `severity`"),
            "{e:#}"
        );
        assert_eq!(db.findings().unwrap().len(), 1, "B was not stored either");
    }
}
