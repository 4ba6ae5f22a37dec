//! End to end against the emulator with 30 ms of added latency per request
//! (rate limiting off), like for like: `ticketing-host dispatch --jobs 16`
//! of N tickets, run as its own process (start, compile-cache load and all),
//! against Microsoft's Python client creating the same work items from a
//! pool of 16 threads (`python/threaded_dispatch.py`). For each: the wall
//! time against the latency floor (N × 30 ms ÷ 16) and the CPU time (user +
//! sys of the process, from the kernel's account of waited-for children)
//! per dispatch. The sequential client of issue 10
//! (`python/baseline_dispatch.py`, one create after the other as
//! Microsoft's samples do) runs too, labelled as what it is. Also the
//! requests each operation costs, counted by the emulator: dispatch,
//! dispatch with a findings attachment, sync of one field, close, and bulk
//! close of all N.
//!
//! `cargo bench --workspace --bench dispatch` runs N = 1,000;
//! `cargo test --workspace` runs N = 10 as a smoke run. The Python client
//! comes from `ADO_PYTHON`, `target-py/venv`, or the virtualenv the
//! emulator's tests make (`target/tmp/ado-python-7.1.0b4`).

#[path = "../tests/common/mod.rs"]
mod common;

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
        common::cli_env::write_pat_files(&dir, &emu.org_url());
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
            &ticketing_tests::steady_host_options(),
        )
        .expect("loads");
        Bench { dir, emu, host }
    }

    /// The global options: config, secrets file, state.
    fn argv(&self) -> Vec<String> {
        vec![
            "--config".into(),
            path(&self.dir.join("host.toml")).into(),
            "--secrets".into(),
            path(&self.dir.join("secrets.toml")).into(),
            "--state".into(),
            path(&self.dir.join("state.db")).into(),
        ]
    }

    fn run(&self, args: &[&str]) -> String {
        let mut argv = vec!["ticketing-host".to_string()];
        argv.extend(self.argv());
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
            let root = ticketing_tests::workspace_root();
            [
                root.join("target-py/venv/bin/python"),
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("ado-python-7.1.0b4/venv/bin/python"),
            ]
            .into_iter()
            .find(|p| p.exists())
        })
}

/// CPU time (user + sys) of this process's waited-for children so far:
/// `cutime` and `cstime` of `/proc/self/stat`, in clock ticks of 10 ms
/// (`USER_HZ` is 100 in Linux's ABI). The kernel adds a child's time when
/// it is reaped, all its threads included.
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name, which is in parentheses: field 3 first.
    let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [13, 14]
        .iter()
        .map(|&i| fields[i].parse::<u64>().unwrap())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// What one process did: its wall time from spawn to exit, its CPU time,
/// and what it printed.
struct Run {
    wall: Duration,
    cpu: Duration,
    stdout: String,
}

fn measure(cmd: &mut Command) -> Run {
    let cpu = children_cpu();
    let started = Instant::now();
    let output = cmd.output().expect("the process runs");
    let wall = started.elapsed();
    let cpu = children_cpu() - cpu;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Run { wall, cpu, stdout }
}

/// The same creates from `JOBS` threads of a bare HTTP client (ureq, an
/// agent per thread, nothing but the request and its JSON patch): how close
/// to the latency floor any client gets against this emulator on this
/// machine. Wall time only: it runs inside the bench process, with the
/// emulator.
fn bare_run(emu: &Emulator, n: usize) -> Duration {
    use base64::Engine as _;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{}", seed::PAT))
    );
    let url = format!(
        "{}/{}/_apis/wit/workitems/$Bug?api-version=7.1",
        emu.org_url(),
        seed::PROJECT.replace(' ', "%20")
    );
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..JOBS {
            s.spawn(|| {
                let agent = ureq::Agent::new_with_defaults();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let patch = serde_json::json!([
                        {"op": "add", "path": "/fields/System.Title", "value": format!("Critical OpenSSL vulnerability {i}")},
                        {"op": "add", "path": "/fields/Microsoft.VSTS.TCM.ReproSteps", "value": format!("<p>SecOps ticket BARE-{i}</p>")},
                        {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 1},
                        {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Severity", "value": "1 - Critical"},
                        {"op": "add", "path": "/fields/System.Tags", "value": format!("secops; secops:BARE-{i}")},
                    ]);
                    let response = agent
                        .post(&url)
                        .header("Authorization", &auth)
                        .header("Content-Type", "application/json-patch+json")
                        .send(patch.to_string().as_bytes())
                        .expect("the create is answered");
                    assert_eq!(response.status().as_u16(), 200, "the create succeeds");
                }
            });
        }
    });
    started.elapsed()
}

/// A Python client's run of `script` with `args` after the org URL, the
/// PAT, the project and `n`; `None` without an interpreter.
fn python_run(emu: &Emulator, script: &str, n: usize, args: &[&str]) -> Option<Run> {
    let python = python()?;
    let script = ticketing_tests::workspace_root()
        .join("tests/benches/python")
        .join(script);
    let cache =
        std::env::temp_dir().join(format!("ticketing-bench-pycache-{}", std::process::id()));
    let run = measure(
        Command::new(python)
            .arg(script)
            .arg(emu.org_url())
            .arg(seed::PAT)
            .arg(seed::PROJECT)
            .arg(n.to_string())
            .args(args)
            .env("AZURE_DEVOPS_CACHE_DIR", &cache),
    );
    let _ = std::fs::remove_dir_all(&cache);
    assert!(
        run.stdout.contains(&format!("created {n}")),
        "{}",
        run.stdout
    );
    Some(run)
}

/// The seconds a Python script timed its creates (its last line).
fn timed(run: &Run) -> f64 {
    run.stdout
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// `--as-host ARGS`: this binary is `ticketing-host ARGS` (the bench runs
/// the host as a process of its own, as an operator would).
fn as_host(args: impl Iterator<Item = String>) -> std::process::ExitCode {
    let argv = std::iter::once("ticketing-host".to_string()).chain(args);
    match ticketing_host::cli::run(Cli::parse_from(argv)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn per_dispatch(cpu: Duration, n: usize) -> f64 {
    cpu.as_secs_f64() * 1e3 / n as f64
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--as-host") {
        return as_host(args);
    }
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

    // N tickets with 30 ms per request: the host with JOBS workers, a
    // process of its own...
    let ids: Vec<String> = (0..n).map(|i| format!("BENCH-{i:04}")).collect();
    for id in &ids {
        b.put(&ticket(id, 0));
    }
    b.emu.set_faults(Faults {
        latency_ms: LATENCY_MS,
        ..Faults::default()
    });
    let before = b.emu.request_counts();
    let host = measure(
        Command::new(std::env::current_exe().expect("the bench binary"))
            .arg("--as-host")
            .args(b.argv())
            .args(["--plugin", path(ticketing_tests::plugin_wasm())])
            .args([
                "--cache-dir",
                path(&ticketing_tests::host_options().cache_dir.unwrap()),
            ])
            .args(["dispatch", "--jobs", &JOBS.to_string(), "--outegration"])
            .arg(b.config("plain.json"))
            .args(&ids),
    );
    let after = b.emu.request_counts();
    let host_requests = after.total - before.total;
    // Every request past one per ticket costs a worker a round trip: which
    // routes they are says where the wall time above the floor goes.
    let by_route: Vec<String> = after
        .by_route
        .iter()
        .map(|(route, n)| (route, n - before.by_route.get(route).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .map(|(route, n)| format!("{route} {n}"))
        .collect();
    assert!(
        host.stdout.contains(&format!("{n} dispatched, 0 failed")),
        "{}",
        host.stdout
    );
    // ...a bare client with as many threads (how near any client gets)...
    let bare = bare_run(&b.emu, n);
    // ...Microsoft's client with as many threads, and one after the other.
    let threads = JOBS.to_string();
    let threaded = python_run(&b.emu, "threaded_dispatch.py", n, &[&threads]);
    let sequential = python_run(&b.emu, "baseline_dispatch.py", n, &[]);
    b.emu.set_faults(Faults::default());

    let mut close_args = vec!["close", "--bulk"];
    close_args.extend(ids.iter().map(String::as_str));
    let bulk_close = b.requests(|| {
        b.run(&close_args);
    });

    let floor = Duration::from_millis(LATENCY_MS) * n as u32 / JOBS as u32;
    println!(
        "dispatch of {n} tickets, {LATENCY_MS} ms added to every request; latency floor \
         {n} x {LATENCY_MS} ms / {JOBS} = {:.3} s",
        floor.as_secs_f64()
    );
    println!(
        "  ticketing-host --jobs {JOBS} (process)  {:>7.3} s = {:>3.0}% of the floor  CPU {:.3} s = {:.3} ms/dispatch  ({host_requests} requests)",
        host.wall.as_secs_f64(),
        100.0 * floor.as_secs_f64() / host.wall.as_secs_f64(),
        host.cpu.as_secs_f64(),
        per_dispatch(host.cpu, n),
    );
    println!("    its requests by route: {}", by_route.join(", "));
    println!(
        "  bare HTTP client, {JOBS} threads      {:>7.3} s = {:>3.0}% of the floor  (the creates alone, in the bench process: the floor any client reaches here)",
        bare.as_secs_f64(),
        100.0 * floor.as_secs_f64() / bare.as_secs_f64(),
    );
    match &threaded {
        Some(p) => {
            println!(
                "  Python client, {JOBS} threads        {:>7.3} s = {:>3.0}% of the floor  CPU {:.3} s = {:.3} ms/dispatch  (creates alone {:.3} s)",
                p.wall.as_secs_f64(),
                100.0 * floor.as_secs_f64() / p.wall.as_secs_f64(),
                p.cpu.as_secs_f64(),
                per_dispatch(p.cpu, n),
                timed(p),
            );
            println!(
                "  like for like: wall {:.2}x, CPU per dispatch {:.2}x (Python / host)",
                p.wall.as_secs_f64() / host.wall.as_secs_f64(),
                p.cpu.as_secs_f64() / host.cpu.as_secs_f64().max(1e-3),
            );
        }
        None => println!("  Python client: not found (set ADO_PYTHON), baselines not run"),
    }
    if let Some(p) = &sequential {
        println!(
            "  Python client, sequential (not like for like)  {:>7.3} s  creates alone {:.3} s  CPU {:.3} ms/dispatch  (host {:.1}x faster)",
            p.wall.as_secs_f64(),
            timed(p),
            per_dispatch(p.cpu, n),
            p.wall.as_secs_f64() / host.wall.as_secs_f64()
        );
    }
    println!("requests per operation (warm schema)");
    println!("  dispatch                  {dispatch}");
    println!("  dispatch with attachment  {with_attachment}");
    println!("  sync of one field         {sync}");
    println!("  close                     {close}");
    println!("  bulk close of {n:<5}       {bulk_close}");
    std::process::ExitCode::SUCCESS
}
