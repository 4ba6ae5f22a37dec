//! The `ingest` and `rules check | run` commands: their arguments, and the
//! glue from the command line to [`crate::platform::ingest`] and [`super::run`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use time::OffsetDateTime;

use super::Rules;
use crate::platform::ingest::apply::{Settings, ingest_file};
use crate::platform::ingest::{Format, IngestSummary, Options};
use crate::platform::lifecycle::Lifecycle;
use crate::state::db::Db;

/// `ingest FILE...`
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// SARIF 2.1.0 logs, Microsoft Defender for Cloud sub-assessments, or
    /// files in the host's JSON or CSV finding format.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The format; else from the extension (.sarif, .csv, .json), then the
    /// content (sub-assessment ids or types: Defender for Cloud).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Reconcile against this scope instead of each scanner's name: the
    /// scope's stored findings missing from the files are fixed.
    #[arg(long)]
    pub scope: Option<String>,
    /// The asset of findings whose input names none (e.g. the repository).
    #[arg(long)]
    pub asset: Option<String>,
    /// A tag of the scanned asset (`prod`); repeatable.
    #[arg(long = "asset-tag")]
    pub asset_tags: Vec<String>,
    /// Do not run the ticketing rules after the ingest.
    #[arg(long)]
    pub no_rules: bool,
}

/// `rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Prints what a run would do, without sending or storing anything.
    Check,
    /// Applies the rules to every ticket: dispatch, update, close, reopen.
    Run,
}

/// Loads the rules file given with `--rules`, if any.
pub fn load(path: Option<&Path>) -> anyhow::Result<Option<Rules>> {
    Ok(path.map(Rules::load).transpose()?)
}

/// The rules file, required.
pub fn required(path: Option<&Path>) -> anyhow::Result<Rules> {
    load(path)?.ok_or_else(|| {
        anyhow::anyhow!("give the rules file with --rules FILE (or $TICKETING_RULES)")
    })
}

/// `ingest`: each file in its own transaction (a bad file fails alone, and
/// stores nothing), then — with rules and a lifecycle — a rules run.
pub fn ingest(
    db: &Db,
    rules: Option<&Rules>,
    args: &IngestArgs,
    lc: Option<&Lifecycle<'_>>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let settings = Settings {
        options: Options {
            scope: args.scope.clone(),
            asset: args.asset.clone(),
            asset_tags: args.asset_tags.clone(),
            format: args.format,
        },
        grouping: rules.map(|r| r.grouping.clone()).unwrap_or_default(),
        statuses: rules.map(|r| r.statuses.clone()).unwrap_or_default(),
    };
    let now = crate::state::db::now();
    let bar = indicatif::ProgressBar::new(args.files.len() as u64);
    let mut total = IngestSummary::default();
    let mut failed = 0;
    for file in &args.files {
        bar.set_message(file.display().to_string());
        let line = match ingest_file(db, file, &settings, &now) {
            Ok(s) => {
                total.add(&s);
                format!("{}: {s}", file.display())
            }
            Err(e) => {
                failed += 1;
                format!("{}: failed: {e:#}", file.display())
            }
        };
        bar.suspend(|| writeln!(out, "{line}"))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    writeln!(out, "ingest: {} file(s), {total}", args.files.len())?;
    if failed > 0 {
        anyhow::bail!("{failed} of {} file(s) were not ingested", args.files.len());
    }
    if let (Some(rules), Some(lc), false) = (rules, lc, args.no_rules) {
        super::run::run(lc, rules, OffsetDateTime::now_utc(), out)?;
    }
    Ok(())
}

/// `rules check` (no lifecycle needed) or `rules run`.
pub fn rules(
    db: &Db,
    rules: &Rules,
    what: &RulesCommand,
    lc: Option<&Lifecycle<'_>>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match (what, lc) {
        (RulesCommand::Check, _) => {
            super::run::check(db, rules, now, out)?;
        }
        (RulesCommand::Run, Some(lc)) => {
            super::run::run(lc, rules, now, out)?;
        }
        (RulesCommand::Run, None) => anyhow::bail!("`rules run` needs the plugin and a connection"),
    }
    Ok(())
}
