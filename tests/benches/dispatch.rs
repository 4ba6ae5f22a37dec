//! End to end against the emulator with 30 ms of added latency per request
//! (rate limiting off): `ticketing-host dispatch --jobs 16` of N tickets,
//! against the baseline a team would write instead — Microsoft's Python
//! client creating the same work items one after the other, as its samples
//! do (`python/baseline_dispatch.py`). Also the requests each operation
//! costs, counted by the emulator: dispatch, dispatch with a findings
//! attachment, sync of one field, close, and bulk close of all N.
//!
//! `cargo bench -p ticketing-tests --bench dispatch` runs N = 1,000;
//! `cargo test --workspace` runs N = 10 as a smoke run. The Python client
//! comes from `ADO_PYTHON` or `target-py/venv` (`.ci/run` creates it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ado_emulator::faults::Faults;
use ado_emulator::{Emulator, EmulatorConfig, seed};
use clap::Parser as _;
use ticketing_host::cli::{Cli, run_with};
use ticketing_host::state::db::Db;
use ticketing_runtime::{Field, FieldValue, Finding, Host, Limits, Ticket};

const JOBS: usize = 16;
const LATENCY_MS: u64 = 30;

struct Bench {
    dir: PathBuf,
    emu: Emulator,
    host: Host,
}

fn text(name: &str, value: &str) -> Field {
    Field {
        name: name.into(),
        value: FieldValue::Text(value.into()),
    }
}

fn ticket(id: &str, findings: usize) -> Ticket {
    Ticket {
        id: id.into(),
        url: format!("https://secops.example/tickets/{id}"),
        fields: vec![
            text("title", &format!("Critical OpenSSL vulnerability {id}")),
            text("severity", "CRITICAL"),
            text("description", "Upgrade **OpenSSL** on the web tier."),
        ],
        findings: (0..findings)
            .map(|i| Finding {
                id: format!("F-{i}"),
                status: "open".into(),
                fields: vec![text("title", "OpenSSL overflow"), text("asset", "web-01")],
            })
            .collect(),
        comments: Vec::new(),
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

impl Bench {
    fn new() -> Bench {
        let dir =
            std::env::temp_dir().join(format!("ticketing-dispatch-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let emu = Emulator::start(EmulatorConfig::default()).expect("the emulator starts");
        std::fs::write(
            dir.join("secrets.toml"),
            format!("pat = \"{}\"\n", seed::PAT),
        )
        .unwrap();
        std::fs::write(
            dir.join("host.toml"),
            format!(
                "[connection]\nbase_url = \"{}\"\nproject = \"{}\"\nauth = \"pat\"\n",
                emu.org_url(),
                seed::PROJECT
            ),
        )
        .unwrap();
        let example =
            ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json");
        let with_attachment = std::fs::read_to_string(example).unwrap();
        let mut plain: serde_json::Value = serde_json::from_str(&with_attachment).unwrap();
        plain.as_object_mut().unwrap().remove("attachment");
        std::fs::write(dir.join("attach.json"), &with_attachment).unwrap();
        std::fs::write(dir.join("plain.json"), plain.to_string()).unwrap();
        let host = Host::load_with(
            ticketing_tests::plugin_wasm(),
            Limits::default(),
            &ticketing_tests::host_options(),
        )
        .expect("loads");
        Bench { dir, emu, host }
    }

    fn run(&self, args: &[&str]) -> String {
        let mut argv: Vec<String> = ["ticketing-host", "--config"].map(String::from).to_vec();
        argv.push(path(&self.dir.join("host.toml")).into());
        argv.push("--secrets".into());
        argv.push(path(&self.dir.join("secrets.toml")).into());
        argv.push("--state".into());
        argv.push(path(&self.dir.join("state.db")).into());
        argv.extend(args.iter().map(|a| a.to_string()));
        let mut out = Vec::new();
        let result = run_with(&Cli::parse_from(&argv), &self.host, &mut out);
        let text = String::from_utf8(out).unwrap();
        if let Err(e) = result {
            panic!("`{}` failed: {e:#}\n{text}", args.join(" "));
        }
        text
    }

    fn put(&self, t: &Ticket) {
        Db::open(&self.dir.join("state.db"))
            .unwrap()
            .put_ticket(t)
            .unwrap();
    }

    /// Requests `f` makes, counted by the emulator.
    fn requests(&self, f: impl FnOnce()) -> u64 {
        let before = self.emu.request_count();
        f();
        self.emu.request_count() - before
    }

    fn config(&self, name: &str) -> String {
        path(&self.dir.join(name)).to_string()
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn python() -> Option<PathBuf> {
    std::env::var_os("ADO_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let venv = ticketing_tests::workspace_root().join("target-py/venv/bin/python");
            venv.exists().then_some(venv)
        })
}

/// The baseline's wall time for `n` creates.
fn baseline(emu: &Emulator, n: usize) -> Option<Duration> {
    let python = python()?;
    let script =
        ticketing_tests::workspace_root().join("tests/benches/python/baseline_dispatch.py");
    let cache =
        std::env::temp_dir().join(format!("ticketing-bench-pycache-{}", std::process::id()));
    let output = Command::new(python)
        .arg(script)
        .arg(emu.org_url())
        .arg(seed::PAT)
        .arg(seed::PROJECT)
        .arg(n.to_string())
        .env("AZURE_DEVOPS_CACHE_DIR", &cache)
        .output()
        .expect("python runs");
    let _ = std::fs::remove_dir_all(&cache);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the baseline failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("created {n}")), "{stdout}");
    let secs: f64 = stdout.lines().last()?.trim().parse().ok()?;
    Some(Duration::from_secs_f64(secs))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 1_000 } else { 10 };
    let b = Bench::new();

    // Requests per operation, no latency (schema warmed by the first dispatch).
    b.put(&ticket("WARM", 0));
    b.run(&["dispatch", "--outegration", &b.config("plain.json"), "WARM"]);
    b.put(&ticket("ONE", 0));
    let dispatch = b.requests(|| {
        b.run(&["dispatch", "--outegration", &b.config("plain.json"), "ONE"]);
    });
    b.put(&ticket("ATT", 3));
    let with_attachment = b.requests(|| {
        b.run(&["dispatch", "--outegration", &b.config("attach.json"), "ATT"]);
    });
    b.run(&["ticket", "set", "ONE", "title=Renamed"]);
    let sync = b.requests(|| {
        b.run(&["sync", "ONE"]);
    });
    let close = b.requests(|| {
        b.run(&["close", "ONE"]);
    });

    // N tickets with 30 ms per request: the host with JOBS workers...
    let ids: Vec<String> = (0..n).map(|i| format!("BENCH-{i:04}")).collect();
    for id in &ids {
        b.put(&ticket(id, 0));
    }
    b.emu.set_faults(Faults {
        latency_ms: LATENCY_MS,
        ..Faults::default()
    });
    let mut args = vec!["dispatch", "--jobs", "16", "--outegration"];
    let plain = b.config("plain.json");
    args.push(&plain);
    args.extend(ids.iter().map(String::as_str));
    let before = b.emu.request_count();
    let started = Instant::now();
    let out = b.run(&args);
    let host_time = started.elapsed();
    let host_requests = b.emu.request_count() - before;
    assert!(out.contains(&format!("{n} dispatched, 0 failed")), "{out}");
    // ...and the baseline, sequential.
    let python_time = baseline(&b.emu, n);
    b.emu.set_faults(Faults::default());

    let mut close_args = vec!["close", "--bulk"];
    close_args.extend(ids.iter().map(String::as_str));
    let bulk_close = b.requests(|| {
        b.run(&close_args);
    });

    println!("dispatch of {n} tickets, {LATENCY_MS} ms added to every request");
    println!(
        "  ticketing-host --jobs {JOBS}   {:>8.2} s  ({host_requests} requests)",
        host_time.as_secs_f64()
    );
    match python_time {
        Some(p) => println!(
            "  Python client, sequential {:>8.2} s  (host = {:.1}x faster)",
            p.as_secs_f64(),
            p.as_secs_f64() / host_time.as_secs_f64()
        ),
        None => println!("  Python client: not found (set ADO_PYTHON), baseline not run"),
    }
    println!("requests per operation (warm schema)");
    println!("  dispatch                  {dispatch}");
    println!("  dispatch with attachment  {with_attachment}");
    println!("  sync of one field         {sync}");
    println!("  close                     {close}");
    println!("  bulk close of {n:<5}       {bulk_close}");
}
