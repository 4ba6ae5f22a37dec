//! A rules run: for every stored ticket, the plan (create, update, close,
//! reopen, unchanged, skip) and, for `rules run`, carrying it out through
//! the lifecycle — dispatch through the plugin, close and reopen through the
//! sync push with the rule's auto-close settings. A ticket whose document
//! equals the snapshot last sent is unchanged and costs no call, so a
//! second run changes nothing.

use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;

use super::{Rule, Rules};
use crate::Ticket;
use crate::platform::lifecycle::{Dispatched, Lifecycle};
use crate::state::db::{Db, RuleDispatch};

/// What a run does to one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Dispatch a new work item.
    Create,
    /// Push the ticket's changes (no state change expected).
    Update,
    /// Push; all findings are remediated now, so the item closes.
    Close,
    /// Push; a finding is open again, so the item reopens.
    Reopen,
    /// Nothing changed since the last push.
    Unchanged,
    /// A matching rule would dispatch it, but it has nothing open.
    Skip(String),
}

/// One ticket's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub ticket_id: String,
    /// The rule that manages the ticket.
    pub rule: String,
    pub action: Action,
}

/// The counts a run (or a check) ends with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub created: usize,
    pub updated: usize,
    pub closed: usize,
    pub reopened: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Tickets no rule manages.
    pub unmatched: usize,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} closed, {} reopened, {} unchanged, {} skipped, {} failed, {} not matched by any rule",
            self.created,
            self.updated,
            self.closed,
            self.reopened,
            self.unchanged,
            self.skipped,
            self.failed,
            self.unmatched
        )
    }
}

fn statuses(t: &Ticket) -> impl Iterator<Item = &str> {
    t.findings.iter().map(|f| f.status.as_str())
}

/// Whether the rule counts the ticket as done (all findings remediated).
fn done(rules: &Rules, rule: &Rule, t: &Ticket) -> bool {
    rules
        .statuses
        .all_done(statuses(t), !rule.ignore_temporary_statuses)
}

/// The plan for every stored ticket, in id order; tickets no rule manages
/// are left out (and counted in `unmatched`).
pub fn plan(db: &Db, rules: &Rules, now: OffsetDateTime) -> anyhow::Result<(Vec<Planned>, usize)> {
    let mut planned = Vec::new();
    let mut unmatched = 0;
    for id in db.ticket_ids()? {
        let ticket = db.ticket(&id)?;
        let Some(stored) = db.link(&id)? else {
            match rules.first_match(&ticket, now) {
                None => unmatched += 1,
                Some(rule) => {
                    // Temporary statuses count here whatever the rule says:
                    // nobody wants a new work item for an accepted risk.
                    let action = if rules.statuses.all_done(statuses(&ticket), true) {
                        Action::Skip("no open finding".into())
                    } else {
                        Action::Create
                    };
                    planned.push(Planned {
                        ticket_id: id,
                        rule: rule.name.clone(),
                        action,
                    });
                }
            }
            continue;
        };
        // The rule that dispatched the ticket keeps managing it (its
        // condition may no longer hold once findings are fixed); a ticket
        // dispatched by hand is managed by the first matching rule of its
        // outegration.
        let by_record = db
            .rule_dispatch(&id)?
            .and_then(|d| rules.rule(&d.rule))
            .filter(|r| {
                rules
                    .outegration(&r.outegration)
                    .is_some_and(|o| o.key == stored.outegration)
            });
        let rule = by_record.or_else(|| {
            rules.rules.iter().find(|r| {
                rules
                    .outegration(&r.outegration)
                    .is_some_and(|o| o.key == stored.outegration)
                    && r.when.check(&ticket, now).is_ok()
            })
        });
        let Some(rule) = rule else {
            unmatched += 1;
            continue;
        };
        let action = if ticket == stored.synced {
            Action::Unchanged
        } else {
            let (before, after) = (
                done(rules, rule, &stored.synced),
                done(rules, rule, &ticket),
            );
            match (before, after) {
                (false, true) if rule.auto_close => Action::Close,
                (true, false) if rule.auto_close => Action::Reopen,
                _ => Action::Update,
            }
        };
        planned.push(Planned {
            ticket_id: id,
            rule: rule.name.clone(),
            action,
        });
    }
    Ok((planned, unmatched))
}

fn progress(len: usize, what: &str) -> ProgressBar {
    // Drawn on standard error, and only on a terminal (indicatif hides it
    // otherwise), so piped output and the summary stay clean.
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what.to_string());
    bar
}

/// `rules check`: prints what a run would do; nothing is sent or stored.
pub fn check(
    db: &Db,
    rules: &Rules,
    now: OffsetDateTime,
    out: &mut dyn Write,
) -> anyhow::Result<RunSummary> {
    let (planned, unmatched) = plan(db, rules, now)?;
    let mut s = RunSummary {
        unmatched,
        ..RunSummary::default()
    };
    for p in &planned {
        let what = match &p.action {
            Action::Create => {
                s.created += 1;
                let o = rules
                    .rule(&p.rule)
                    .map(|r| r.outegration.as_str())
                    .unwrap_or("");
                format!("would create a work item (outegration `{o}`)")
            }
            Action::Update => {
                s.updated += 1;
                "would push its changes".to_string()
            }
            Action::Close => {
                s.closed += 1;
                "would close its work item: all findings remediated".to_string()
            }
            Action::Reopen => {
                s.reopened += 1;
                "would reopen its work item: a finding is open again".to_string()
            }
            Action::Unchanged => {
                s.unchanged += 1;
                continue;
            }
            Action::Skip(why) => {
                s.skipped += 1;
                format!("skipped: {why}")
            }
        };
        writeln!(out, "{} [{}] {what}", p.ticket_id, p.rule)?;
    }
    writeln!(out, "rules check: {s} (nothing was sent)")?;
    Ok(s)
}

/// `rules run`: carries the plan out; one line per ticket acted on, then
/// the summary. Fails (after doing the rest) when any ticket failed.
pub fn run(
    lc: &Lifecycle<'_>,
    rules: &Rules,
    now: OffsetDateTime,
    out: &mut dyn Write,
) -> anyhow::Result<RunSummary> {
    let (planned, unmatched) = plan(lc.db, rules, now)?;
    let mut s = RunSummary {
        unmatched,
        ..RunSummary::default()
    };
    let bar = progress(planned.len(), "rules");
    for p in &planned {
        bar.set_message(p.ticket_id.clone());
        let line = match apply(lc, rules, p, &mut s) {
            Ok(Some(line)) => Some(line),
            Ok(None) => None,
            Err(e) => {
                s.failed += 1;
                Some(format!(
                    "failed: {}",
                    format!("{e:#}").replace('\n', "\n    ")
                ))
            }
        };
        if let Some(line) = line {
            bar.suspend(|| writeln!(out, "{} [{}] {line}", p.ticket_id, p.rule))?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    writeln!(out, "rules run: {s}")?;
    if s.failed > 0 {
        anyhow::bail!("{} ticket(s) failed", s.failed);
    }
    Ok(s)
}

fn apply(
    lc: &Lifecycle<'_>,
    rules: &Rules,
    p: &Planned,
    s: &mut RunSummary,
) -> anyhow::Result<Option<String>> {
    let rule = rules
        .rule(&p.rule)
        .ok_or_else(|| anyhow::anyhow!("rule `{}` vanished", p.rule))?;
    match &p.action {
        Action::Unchanged => {
            s.unchanged += 1;
            Ok(None)
        }
        Action::Skip(why) => {
            s.skipped += 1;
            Ok(Some(format!("skipped: {why}")))
        }
        Action::Create => {
            let o = rules
                .outegration(&rule.outegration)
                .ok_or_else(|| anyhow::anyhow!("unknown outegration `{}`", rule.outegration))?;
            let config = rules.effective_config(rule)?;
            let d = lc.dispatch_with(&p.ticket_id, &o.key, &config)?;
            lc.db.record_rule_dispatch(
                &p.ticket_id,
                &RuleDispatch {
                    rule: rule.name.clone(),
                    outegration: o.key.clone(),
                },
            )?;
            s.created += 1;
            let how = match d {
                Dispatched::Created(_) => "created",
                Dispatched::Adopted(_) => "adopted",
            };
            Ok(Some(format!(
                "{how} work item {} ({})",
                d.link().work_item_id,
                d.link().web_url
            )))
        }
        Action::Update | Action::Close | Action::Reopen => {
            let config = rules.effective_config(rule)?;
            let o = lc.sync_with(&p.ticket_id, Some(&config))?;
            let id = o.link.work_item_id;
            Ok(Some(match &o.transition {
                Some(t) if done(rules, rule, &lc.db.ticket(&p.ticket_id)?) => {
                    s.closed += 1;
                    format!(
                        "closed work item {id}: {} -> {} ({})",
                        t.from, t.to, t.reason
                    )
                }
                Some(t) => {
                    s.reopened += 1;
                    format!(
                        "reopened work item {id}: {} -> {} ({})",
                        t.from, t.to, t.reason
                    )
                }
                None => {
                    s.updated += 1;
                    format!(
                        "updated work item {id}: {} field(s) sent",
                        o.fields_sent.len()
                    )
                }
            }))
        }
    }
}
