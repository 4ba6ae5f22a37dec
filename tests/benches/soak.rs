//! The soak test of the reliability issue: thousands of tickets dispatched,
//! synced and updated back from Azure DevOps through the real host process
//! while the emulator injects faults (5% 503, 5% 429, 2% answers lost after
//! the write committed, 3% of writes committed then answered 502/503/504
//! and 3% committed then held past the host's deadline; webhook deliveries
//! failed, duplicated and reordered) and the host is killed (SIGKILL)
//! and started again at random points. Then it checks what a user would: every ticket has exactly one
//! work item, every field and comment arrived exactly once, every ADO edit
//! reached its ticket exactly once, and the outbox holds nothing but the
//! dead letters it reports.
//!
//! The host runs as a child process: this binary started again with
//! `--as-host`, which runs `ticketing_host::cli::run` exactly as the
//! `ticketing-host` binary does, so a kill is a real crash of the host.
//!
//! `cargo bench -p ticketing-tests --bench soak` runs 2,000 tickets (or
//! `SOAK_TICKETS`); `cargo test --workspace` runs 40 as a smoke run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ado_emulator::faults::Faults;
use ado_emulator::hooks::HookSettings;
use ado_emulator::{Emulator, EmulatorConfig};
use clap::Parser as _;
use common::seed;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde_json::json;
use ticketing_host::state::db::{Db, JobState};
use ticketing_host::state::ticket_edit;
use ticketing_host::state::ticket_file;
use ticketing_runtime::{FieldValue, Ticket};

/// The host's per-call deadline in the soak (`--deadline`): short, so a
/// held answer costs seconds, not the default 30.
const HOST_DEADLINE_SECS: u64 = 10;

/// The REST faults of the dispatch and sync phases: the front door's
/// faults (a write committed, then a gateway error or no answer in time)
/// on top of 503s and 429s before the request runs and lost answers.
fn rest_faults(seed: u64) -> Faults {
    Faults {
        seed,
        error_rate: 0.05,
        throttle_rate: 0.05,
        drop_after_commit_rate: 0.02,
        error_after_commit_rate: 0.03,
        timeout_after_commit_rate: 0.03,
        timeout_hold_ms: (HOST_DEADLINE_SECS + 1) * 1000,
        ..Faults::default()
    }
}

/// The webhook faults of the ADO → ticket phase.
fn hook_faults(seed: u64) -> Faults {
    Faults {
        seed,
        hook_failure_rate: 0.05,
        hook_duplicate_rate: 0.05,
        hook_reorder_rate: 0.05,
        ..Faults::default()
    }
}

struct Soak {
    dir: PathBuf,
    emu: Emulator,
    ids: Vec<String>,
    rng: StdRng,
    restarts: usize,
    kills_per_phase: usize,
    port: u16,
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

impl Soak {
    fn new(n: usize, kills_per_phase: usize) -> Soak {
        let emu = Emulator::start(EmulatorConfig {
            // ADO's schedule (1 s doubling to 60 s) shortened 10×: a
            // subscription delivers in order, so every injected failure
            // holds up the ones behind it by the wait.
            hooks: HookSettings {
                allow_local_urls: true,
                transient_retries: [100, 200, 400, 800, 1600, 3200, 6000, 6000]
                    .map(Duration::from_millis)
                    .to_vec(),
                ..HookSettings::fast(Duration::from_secs(2))
            },
            ..Default::default()
        })
        .expect("the emulator starts");
        let dir = common::fresh_dir("soak");
        common::cli_env::write_pat_files(&dir, &emu.org_url());
        std::fs::write(dir.join("soak.json"), common::agile_bug_config()).unwrap();
        let template = ticket_file::load(
            &ticketing_tests::workspace_root().join("examples/tickets/SEC-101.json"),
        )
        .unwrap();
        let db = Db::open(&dir.join("state.db")).unwrap();
        let ids: Vec<String> = (0..n)
            .map(|i| {
                let id = format!("SOAK-{i}");
                let t = ticket_edit::set(
                    Ticket {
                        id: id.clone(),
                        url: format!("https://secops.example/tickets/{id}"),
                        ..template.clone()
                    },
                    &[
                        "severity=HIGH".to_string(),
                        format!("title=Soak ticket {i}"),
                    ],
                )
                .unwrap();
                db.put_ticket(&t).unwrap();
                id
            })
            .collect();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Soak {
            dir,
            emu,
            ids,
            rng: StdRng::seed_from_u64(42),
            restarts: 0,
            kills_per_phase,
            port,
        }
    }

    fn db(&self) -> Db {
        Db::open(&self.dir.join("state.db")).unwrap()
    }

    /// Starts the host as a child process with `args`.
    fn spawn(&self, args: &[String]) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("host.log"))
            .unwrap();
        let cache = ticketing_tests::host_options()
            .cache_dir
            .expect("the tests' compilation cache");
        Command::new(std::env::current_exe().unwrap())
            .arg("--as-host")
            .args(["--config", path(&self.dir.join("host.toml"))])
            .args(["--secrets", path(&self.dir.join("secrets.toml"))])
            .args(["--state", path(&self.dir.join("state.db"))])
            .args(["--plugin", path(ticketing_tests::plugin_wasm())])
            .args(["--cache-dir", path(&cache)])
            .args(["--max-attempts", "8"])
            .args(["--deadline", &HOST_DEADLINE_SECS.to_string()])
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting the host")
    }

    /// Jobs the outbox has finished so far.
    fn done_jobs(&self) -> usize {
        self.db().jobs(&[JobState::Done]).unwrap().len()
    }

    /// Runs one host process per argument set at once. While kills remain
    /// in this phase, kills them all (the host crashing) once a random
    /// share of this round's `work` jobs are done, then runs `jobs run`
    /// (the recovery after the crash).
    fn run_killing(&mut self, arg_sets: &[Vec<String>], work: usize, kills_left: &mut usize) {
        let mut children: Vec<Child> = arg_sets.iter().map(|a| self.spawn(a)).collect();
        if *kills_left > 0 {
            let at = self.done_jobs() + work * self.rng.random_range(10..90) / 100;
            while children.iter_mut().any(|c| c.try_wait().unwrap().is_none()) {
                if self.done_jobs() >= at {
                    for c in &mut children {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                    self.restarts += 1;
                    *kills_left -= 1;
                    let recovered = self.spawn(&["jobs".into(), "run".into()]).wait().unwrap();
                    if !recovered.success() {
                        eprintln!("  `jobs run` after the crash left dead letters (see host.log)");
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        for c in &mut children {
            let _ = c.wait();
        }
    }

    /// Dispatches until every ticket is linked.
    fn dispatch(&mut self) {
        let mut kills = self.kills_per_phase;
        for _ in 0..30 {
            let db = self.db();
            let pending: Vec<String> = self
                .ids
                .iter()
                .filter(|id| db.link(id).unwrap().is_none())
                .cloned()
                .collect();
            if pending.is_empty() {
                return;
            }
            let mut args: Vec<String> = ["dispatch", "--jobs", "8", "--outegration"]
                .map(String::from)
                .to_vec();
            args.push(path(&self.dir.join("soak.json")).to_string());
            let work = pending.len();
            args.extend(pending);
            self.run_killing(&[args], work, &mut kills);
        }
        panic!("the dispatch did not converge in 30 rounds");
    }

    /// Changes every ticket (severity, a comment), then syncs until every
    /// link's snapshot is the ticket.
    fn sync(&mut self) {
        let db = self.db();
        for id in &self.ids {
            db.update_ticket(id, |t| {
                let t = ticket_edit::set(t, &["severity=CRITICAL".to_string()])?;
                ticket_edit::comment(
                    t,
                    "soak",
                    &format!("soak note {id}"),
                    "2026-11-30T00:00:00Z",
                )
            })
            .unwrap();
        }
        let mut kills = self.kills_per_phase;
        for _ in 0..30 {
            let db = self.db();
            let pending: Vec<String> = self
                .ids
                .iter()
                .filter(|id| {
                    let link = db.link(id).unwrap().expect("dispatched");
                    link.synced != db.ticket(id).unwrap()
                })
                .cloned()
                .collect();
            if pending.is_empty() {
                return;
            }
            // `sync` takes one ticket after the other: four processes at once.
            let work = pending.len();
            let sets: Vec<Vec<String>> = pending
                .chunks(work.div_ceil(4))
                .map(|chunk| {
                    let mut args = vec!["sync".to_string()];
                    args.extend(chunk.iter().cloned());
                    args
                })
                .collect();
            self.run_killing(&sets, work, &mut kills);
        }
        panic!("the sync did not converge in 30 rounds");
    }

    /// Subscribes, serves (killed and restarted now and then), edits every
    /// work item in ADO (state Active, a comment) and waits for the tickets.
    fn edits_in_ado(&mut self, seed: u64) -> Duration {
        let public = format!("http://127.0.0.1:{}", self.port);
        let subscribed = self
            .spawn(&[
                "subscribe".into(),
                "--outegration".into(),
                path(&self.dir.join("soak.json")).into(),
                "--public-url".into(),
                public,
            ])
            .wait()
            .unwrap();
        assert!(subscribed.success(), "subscribe failed (see host.log)");
        let serve_args = vec![
            "serve".to_string(),
            "--listen".into(),
            format!("127.0.0.1:{}", self.port),
        ];
        let mut serve = self.spawn(&serve_args);
        self.emu.set_faults(hook_faults(seed));
        let started = Instant::now();
        let db = self.db();
        let n = self.ids.len();
        let kill_every = (n / (self.kills_per_phase + 1)).max(1);
        for (i, id) in self.ids.iter().enumerate() {
            let wi = db.link(id).unwrap().unwrap().link.work_item_id;
            common::edit_in_ado(
                &self.emu,
                wi,
                json!([{"op": "add", "path": "/fields/System.State", "value": "Active"}]),
            );
            common::ado(
                &self.emu,
                "POST",
                &format!(
                    "{}/_apis/wit/workItems/{wi}/comments?api-version=7.1-preview.4",
                    seed::PROJECT.replace(' ', "%20")
                ),
                "application/json",
                Some(json!({ "text": format!("ado note {id}") })),
            );
            if i > 0 && i % kill_every == 0 {
                serve.kill().unwrap();
                let _ = serve.wait();
                self.restarts += 1;
                std::thread::sleep(Duration::from_millis(self.rng.random_range(50..400)));
                serve = self.spawn(&serve_args);
            }
        }
        // Wait while the tickets keep catching up; a minute without progress ends it.
        let (mut last, mut progress_at) = (0, Instant::now());
        while progress_at.elapsed() < Duration::from_secs(60) {
            let done = self
                .ids
                .iter()
                .filter(|id| {
                    let t = db.ticket(id).unwrap();
                    status(&t) == Some("IN_PROGRESS")
                        && t.comments.iter().any(|c| c.text.contains("ado note"))
                })
                .count();
            if done == n {
                break;
            }
            if done > last {
                (last, progress_at) = (done, Instant::now());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        serve.kill().unwrap();
        let _ = serve.wait();
        self.emu.set_faults(Faults::default());
        started.elapsed()
    }
}

fn status(t: &Ticket) -> Option<&str> {
    t.fields
        .iter()
        .find(|f| f.name == "status")
        .and_then(|f| match &f.value {
            FieldValue::Text(s) => Some(s.as_str()),
            _ => None,
        })
}

/// What the checks found.
#[derive(Debug, Default)]
struct Findings {
    duplicates: usize,
    lost: usize,
    wrong_fields: usize,
    comment_duplicates: usize,
    comments_lost: usize,
    ado_updates_lost: usize,
    ado_comment_duplicates: usize,
    open_jobs: usize,
    dead_letters: usize,
}

fn check(s: &Soak) -> Findings {
    let mut f = Findings::default();
    // Every work item in the emulator, by the ticket its tag names.
    let mut items: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    let mut misses = 0;
    let mut id = 1;
    while misses < 50 {
        match s.emu.work_item(id) {
            Some(item) => {
                misses = 0;
                let tags = item["fields"]["System.Tags"].as_str().unwrap_or_default();
                for tag in tags.split(';').map(str::trim) {
                    if let Some(t) = tag.strip_prefix("secops:") {
                        items.entry(t.to_string()).or_default().push(id);
                    }
                }
            }
            None => misses += 1,
        }
        id += 1;
    }
    let db = s.db();
    for t in &s.ids {
        let found = items.get(t).map(Vec::as_slice).unwrap_or_default();
        match found.len() {
            0 => f.lost += 1,
            1 => {}
            k => f.duplicates += k - 1,
        }
        let Some(link) = db.link(t).unwrap() else {
            continue;
        };
        let wi = link.link.work_item_id;
        let item = s.emu.work_item(wi).unwrap();
        if item["fields"]["Microsoft.VSTS.Common.Priority"] != 1 {
            f.wrong_fields += 1;
        }
        let texts: Vec<String> = common::comments_of(&s.emu, seed::PROJECT, wi)
            .iter()
            .map(|c| c["text"].as_str().unwrap_or_default().to_string())
            .collect();
        let note = format!("soak note {t}");
        match texts.iter().filter(|x| x.contains(&note)).count() {
            0 => f.comments_lost += 1,
            1 => {}
            k => f.comment_duplicates += k - 1,
        }
        let ticket = db.ticket(t).unwrap();
        if status(&ticket) != Some("IN_PROGRESS") {
            f.ado_updates_lost += 1;
        }
        let ado_note = format!("ado note {t}");
        match ticket
            .comments
            .iter()
            .filter(|c| c.text.contains(&ado_note))
            .count()
        {
            0 => f.ado_updates_lost += 1,
            1 => {}
            k => f.ado_comment_duplicates += k - 1,
        }
    }
    f.open_jobs = db
        .jobs(&[JobState::Pending, JobState::Running])
        .unwrap()
        .len();
    f.dead_letters = db.jobs(&[JobState::Dead, JobState::Failed]).unwrap().len();
    f
}

fn as_host(args: &[String]) -> std::process::ExitCode {
    let cli = ticketing_host::cli::Cli::parse_from(
        std::iter::once("ticketing-host".to_string()).chain(args.iter().cloned()),
    );
    match ticketing_host::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--as-host") {
        return as_host(&args[2..]);
    }
    let full = args.iter().any(|a| a == "--bench");
    let n = std::env::var("SOAK_TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 2000 } else { 40 });
    let kills = if full { 3 } else { 1 };
    let started = Instant::now();
    let mut soak = Soak::new(n, kills);
    soak.emu.set_faults(rest_faults(1));
    let t = Instant::now();
    soak.dispatch();
    let dispatch = t.elapsed();
    let t = Instant::now();
    soak.sync();
    let sync = t.elapsed();
    soak.emu.set_faults(Faults::default());
    let ado = soak.edits_in_ado(2);
    let counts = soak.emu.request_counts();
    let status = |s: &str| counts.by_status.get(s).copied().unwrap_or(0);
    let deliveries = soak.emu.deliveries().len();
    let f = check(&soak);
    println!(
        "soak: {n} tickets, {} host kills; dispatch {:.1} s, sync {:.1} s, ADO → ticket {:.1} s, total {:.1} s",
        soak.restarts,
        dispatch.as_secs_f64(),
        sync.as_secs_f64(),
        ado.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "  faults: {} REST requests, {} answered 503, {} answered 429, {} answered 502 or 504 (plus lost and held answers); {deliveries} webhook attempts",
        counts.total,
        status("503"),
        status("429"),
        status("502") + status("504")
    );
    println!("  {f:?}");
    let clean = f.duplicates
        + f.lost
        + f.wrong_fields
        + f.comment_duplicates
        + f.comments_lost
        + f.ado_updates_lost
        + f.ado_comment_duplicates
        + f.open_jobs
        == 0;
    if clean {
        let _ = std::fs::remove_dir_all(&soak.dir);
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!(
            "soak: duplicates or losses; the state and host.log are kept in {}",
            soak.dir.display()
        );
        std::process::ExitCode::FAILURE
    }
}
