//! `ingest` and `rules check | run`: findings in, tickets and work items
//! out, through [`crate::platform::rules::command`]. `rules check --json`
//! prints the plan as one document.

use std::io::Write;

use serde::Serialize;

use crate::Host;
use crate::cli::{Cli, lifecycle, load_connection, output};
use crate::platform::rules::command::{self as rules_command, IngestArgs, RulesCommand};
use crate::platform::rules::run::{Action, plan};
use crate::state::db::Db;

/// `ingest`; with a rules file (and not `--no-rules`) the rules run after
/// it, with the plugin.
pub fn ingest(
    cli: &Cli,
    host: Option<&Host>,
    args: &IngestArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let db = Db::open(&cli.state)?;
    let rules = rules_command::load(cli.rules.as_deref())?;
    match host {
        Some(host) if rules.is_some() && !args.no_rules => {
            let conn = load_connection(cli)?;
            let lc = lifecycle(cli, host, &db, &conn);
            rules_command::ingest(&db, rules.as_ref(), args, Some(&lc), out)
        }
        _ => rules_command::ingest(&db, rules.as_ref(), args, None, out),
    }
}

/// One ticket of `rules check --json`.
#[derive(Serialize)]
struct PlannedJson {
    ticket_id: String,
    rule: String,
    /// `create`, `update`, `close`, `reopen`, `unchanged` or `skip`.
    action: &'static str,
    /// The outegration a `create` would dispatch to.
    outegration: Option<String>,
    /// Why a `skip` skips.
    reason: Option<String>,
}

#[derive(Serialize, Default)]
struct Summary {
    create: usize,
    update: usize,
    close: usize,
    reopen: usize,
    unchanged: usize,
    skip: usize,
    /// Tickets no rule manages.
    unmatched: usize,
}

#[derive(Serialize)]
struct Plan {
    plan: Vec<PlannedJson>,
    summary: Summary,
}

/// `rules check --json`: the plan of every managed ticket, nothing sent.
fn check_json(
    db: &Db,
    rules: &crate::platform::rules::Rules,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (planned, unmatched) = plan(db, rules, time::OffsetDateTime::now_utc())?;
    let mut summary = Summary {
        unmatched,
        ..Summary::default()
    };
    let plan = planned
        .into_iter()
        .map(|p| {
            let (action, count, reason) = match p.action {
                Action::Create => ("create", &mut summary.create, None),
                Action::Update => ("update", &mut summary.update, None),
                Action::Close => ("close", &mut summary.close, None),
                Action::Reopen => ("reopen", &mut summary.reopen, None),
                Action::Unchanged => ("unchanged", &mut summary.unchanged, None),
                Action::Skip(why) => ("skip", &mut summary.skip, Some(why)),
            };
            *count += 1;
            let outegration = (action == "create")
                .then(|| rules.rule(&p.rule).map(|r| r.outegration.clone()))
                .flatten();
            PlannedJson {
                ticket_id: p.ticket_id,
                rule: p.rule,
                action,
                outegration,
                reason,
            }
        })
        .collect();
    output::print(out, &Plan { plan, summary })
}

/// `rules check` (no plugin needed: `host` may be absent) or `rules run`.
pub fn rules(
    cli: &Cli,
    host: Option<&Host>,
    what: &RulesCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let rules = rules_command::required(cli.rules.as_deref())?;
    let db = Db::open(&cli.state)?;
    match (what, host) {
        (RulesCommand::Check, _) if cli.json => check_json(&db, &rules, out),
        (RulesCommand::Check, _) | (RulesCommand::Run, None) => {
            rules_command::rules(&db, &rules, what, None, out)
        }
        (RulesCommand::Run, Some(host)) => {
            let conn = load_connection(cli)?;
            let lc = lifecycle(cli, host, &db, &conn);
            rules_command::rules(&db, &rules, what, Some(&lc), out)
        }
    }
}
