//! Host start and call cost, and the cost of the plugin boundary, each
//! measured side by side in one run and reported as ratios:
//!
//! - **start**: `Host::load` + the first call, compiling the component:
//!   with the optimising compiler only and no cache; tiered (the default:
//!   the baseline compiler's code answers while the optimising compiler
//!   runs, `ticketing_runtime::Compiler`), with no cache (and the time until
//!   the optimised code serves) and with an empty cache; with a warm cache;
//! - **warm call**: one call of a trivial export on a loaded host: a fresh
//!   instance from the pooling allocator, one allocated on demand, and a
//!   reused instance (the host's default);
//! - **boundary**: a preview of a ticket with 50 findings through the
//!   `agile-bug` example (field, dictionary, template and script mappings),
//!   by the core linked natively and by the component, both with the schema
//!   cached (no HTTP request in the measured calls; checked).
//!
//! - **spin**: a preview request (the `agile-bug` example, with its script)
//!   to the Spin component in the Spin harness of the end-to-end tests (a
//!   new instance for every request, as Spin serves it): the shipped
//!   pre-initialised build against the same build without the snapshot.
//!
//! `cargo bench -p ticketing-tests --bench host` runs it in full (`cargo
//! bench` passes `--bench`); `cargo test --workspace` runs it as a quick smoke
//! run (few iterations), so it cannot rot.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

// The end-to-end tests' Spin harness; the bench uses a part of it.
#[allow(dead_code)]
#[path = "../tests/spin_support/mod.rs"]
mod spin_support;

use ado_connector_core::env::{Env, HttpError, HttpRequest, HttpResponse};
use ado_connector_core::model as core;
use ado_emulator::{Emulator, EmulatorConfig, seed};
use ticketing_runtime::{Compiler, Host, HostOptions, Limits, Tier};

struct Args {
    full: bool,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn time<R>(f: impl FnOnce() -> R) -> (Duration, R) {
    let start = Instant::now();
    let r = f();
    (start.elapsed(), r)
}

fn cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!("ticketing-bench-cache-{}", std::process::id()))
}

/// The trivial call: a config that is not JSON is refused at once.
fn trivial(host: &Host) {
    let refused = host.validate_config("not json");
    assert!(refused.is_err(), "the trivial call refuses bad JSON");
}

fn start(args: &Args) {
    let plugin = ticketing_tests::plugin_wasm();
    let runs = if args.full { 5 } else { 1 };
    let dir = cache_dir();
    let optimizing = HostOptions {
        compiler: Compiler::Optimizing,
        ..Default::default()
    };
    let tiered = HostOptions::default();
    let with_cache = HostOptions {
        cache_dir: Some(dir.clone()),
        ..Default::default()
    };
    let load_and_call = |options: &HostOptions, tier: Tier| {
        let (first_call, host) = time(|| {
            let host = Host::load_with(plugin, Limits::default(), options).expect("loads");
            trivial(&host);
            host
        });
        assert_eq!(host.tier(), tier, "the first call ran on {tier:?} code");
        (first_call, host)
    };
    let mut optimized_only = Vec::new();
    let mut baseline_first = Vec::new();
    let mut switched = Vec::new();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&dir);
        // Empty cache: baseline code first; the drop waits for the
        // optimising compile and stores it.
        let (first_call, host) = load_and_call(&with_cache, Tier::Baseline);
        cold.push(first_call);
        drop(host);
        warm.push(load_and_call(&with_cache, Tier::Optimized).0);
        // The smoke run spares itself two more compilations.
        if args.full {
            optimized_only.push(load_and_call(&optimizing, Tier::Optimized).0);
            // From the load to the optimised code serving new instances.
            let (to_optimized, ()) = time(|| {
                let (first_call, host) = load_and_call(&tiered, Tier::Baseline);
                baseline_first.push(first_call);
                assert_eq!(host.settle(Duration::from_secs(600)), Tier::Optimized);
            });
            switched.push(to_optimized);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = std::fs::metadata(plugin).map_or(0, |m| m.len());
    println!(
        "start: load + first call (median of {runs}); the component is {:.2} MB ({})",
        bytes as f64 / 1e6,
        plugin.display()
    );
    let (cold, warm) = (median(cold), median(warm));
    if args.full {
        let (optimized_only, baseline_first) = (median(optimized_only), median(baseline_first));
        println!(
            "  no cache, optimising compiler only {:>9.1} ms  (Compiler::Optimizing)",
            ms(optimized_only)
        );
        println!(
            "  no cache, tiered (default)     {:>9.1} ms  ({:.2}x: baseline code answers; optimised code in {:.1} ms)",
            ms(baseline_first),
            ratio(baseline_first, optimized_only),
            ms(median(switched))
        );
    }
    println!(
        "  empty cache, tiered            {:>9.1} ms  (baseline code answers; the drop stores the optimised code)",
        ms(cold)
    );
    println!(
        "  warm cache                     {:>9.1} ms  (optimised code mapped)",
        ms(warm)
    );
}

fn warm_call(args: &Args) {
    let plugin = ticketing_tests::plugin_wasm();
    let n = if args.full { 5_000 } else { 50 };
    let cache_dir = ticketing_tests::steady_host_options().cache_dir;
    let setups = [
        ("fresh instance, pooling", false, true),
        ("fresh instance, on demand", true, true),
        ("reused instance (default)", false, false),
    ];
    let mut per_call = Vec::new();
    for (_, on_demand, fresh_instances) in setups {
        let options = HostOptions {
            on_demand,
            fresh_instances,
            cache_dir: cache_dir.clone(),
            compiler: Compiler::Optimizing,
            ..Default::default()
        };
        let host = Host::load_with(plugin, Limits::default(), &options).expect("loads");
        for _ in 0..n.min(200) {
            trivial(&host);
        }
        let rounds: Vec<Duration> = (0..5)
            .map(|_| time(|| (0..n).for_each(|_| trivial(black_box(&host)))).0 / n)
            .collect();
        per_call.push(median(rounds));
    }
    println!("warm call of a trivial export ({n} calls, median of 5 rounds)");
    for ((name, _, _), t) in setups.iter().zip(&per_call) {
        println!(
            "  {name:<27} {:>8.1} µs  ({:.2}x fresh instance, pooling)",
            us(*t),
            ratio(*t, per_call[0])
        );
    }
    let minimal = minimal_fresh_call(n, cache_dir);
    println!(
        "  fresh, without Starlark     {:>8.1} µs  (a component whose start runs no constructors: tests/fixtures/misbehaving-plugin)",
        us(minimal)
    );
}

/// A fresh instantiate-and-call of a component without the plugin's
/// dependencies, whose start-up (Starlark's `inventory` registrations)
/// runs at every instantiation: its `work-item-types` asks for a host the
/// allow-list refuses, so the call makes no request.
fn minimal_fresh_call(n: u32, cache_dir: Option<PathBuf>) -> Duration {
    let options = HostOptions {
        fresh_instances: true,
        cache_dir,
        compiler: Compiler::Optimizing,
        ..Default::default()
    };
    let host = Host::load_with(
        ticketing_tests::misbehaving_wasm(),
        Limits::default(),
        &options,
    )
    .expect("the fixture loads");
    let conn = ticketing_runtime::Connection {
        base_url: "http://127.0.0.1:9/org".into(),
        project: "p".into(),
        credentials: ticketing_runtime::Credentials::Pat("pat".into()),
    };
    let call = || {
        let denied = host.work_item_types(black_box(&conn));
        assert!(denied.is_err(), "the fixture's request is refused");
    };
    (0..n.min(200)).for_each(|_| call());
    median(
        (0..5)
            .map(|_| time(|| (0..n).for_each(|_| call())).0 / n)
            .collect(),
    )
}

/// The bench's native environment: the same services the host gives the
/// plugin (ureq for HTTP, a map for the store), linked directly.
struct NativeEnv {
    agent: ureq::Agent,
    store: Mutex<HashMap<String, String>>,
}

impl Env for NativeEnv {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        // Like the host: a GET carries no body (nor `Content-Length: 0`).
        let sent = if request.body.is_empty() {
            builder.body(()).map(|r| self.agent.run(r))
        } else {
            builder.body(request.body).map(|r| self.agent.run(r))
        };
        let mut response = sent
            .map_err(|e| HttpError::Other(e.to_string()))?
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
    fn store_get(&self, key: &str) -> Option<String> {
        self.store.lock().unwrap().get(key).cloned()
    }
    fn store_set(&self, key: &str, value: &str, _ttl: Option<Duration>) {
        self.store
            .lock()
            .unwrap()
            .insert(key.to_string(), value.to_string());
    }
    fn store_delete(&self, key: &str) {
        self.store.lock().unwrap().remove(key);
    }
    fn now_unix(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

const FINDINGS: usize = 50;

fn finding_fields(i: usize) -> Vec<(String, String)> {
    vec![
        ("title".into(), format!("OpenSSL buffer overflow {i}")),
        ("cve".into(), format!("CVE-2024-{:04}", 1000 + i)),
        ("asset".into(), format!("web-{:02}", i % 7)),
        ("severity".into(), "HIGH".into()),
    ]
}

fn ticket_fields() -> Vec<(String, String)> {
    vec![
        ("title".into(), "Critical OpenSSL vulnerabilities".into()),
        ("severity".into(), "CRITICAL".into()),
        (
            "description".into(),
            "Upgrade **OpenSSL** on the web tier.".into(),
        ),
        ("assignee".into(), "alex@contoso.example".into()),
    ]
}

fn core_ticket() -> core::Ticket {
    let field = |(name, v): (String, String)| core::Field {
        name,
        value: core::FieldValue::Text(v),
    };
    core::Ticket {
        id: "SEC-BENCH".into(),
        url: "https://secops.example/tickets/SEC-BENCH".into(),
        fields: ticket_fields().into_iter().map(field).collect(),
        findings: (0..FINDINGS)
            .map(|i| core::Finding {
                id: format!("F-{i}"),
                status: "open".into(),
                fields: finding_fields(i).into_iter().map(field).collect(),
            })
            .collect(),
        comments: Vec::new(),
    }
}

fn host_ticket() -> ticketing_runtime::Ticket {
    use ticketing_runtime::{Field, FieldValue, Finding};
    let field = |(name, v): (String, String)| Field {
        name,
        value: FieldValue::Text(v),
    };
    ticketing_runtime::Ticket {
        id: "SEC-BENCH".into(),
        url: "https://secops.example/tickets/SEC-BENCH".into(),
        fields: ticket_fields().into_iter().map(field).collect(),
        findings: (0..FINDINGS)
            .map(|i| Finding {
                id: format!("F-{i}"),
                status: "open".into(),
                fields: finding_fields(i).into_iter().map(field).collect(),
            })
            .collect(),
        comments: Vec::new(),
    }
}

fn boundary(args: &Args) {
    let emu = Emulator::start(EmulatorConfig::default()).expect("the emulator starts");
    let config = std::fs::read_to_string(
        ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json"),
    )
    .expect("the example config");
    let n = if args.full { 300 } else { 5 };

    let env = NativeEnv {
        agent: ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build(),
        ),
        store: Mutex::new(HashMap::new()),
    };
    let native_conn = core::Connection {
        base_url: emu.org_url(),
        project: seed::PROJECT.into(),
        credentials: core::Credentials::Pat(core::Secret(seed::PAT.into())),
    };
    let ticket = core_ticket();
    let native = || {
        let p = ado_connector_core::dispatch::preview(&env, &native_conn, &config, &ticket, false)
            .expect("native preview");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        black_box(p);
    };

    // Under valgrind the pooling allocator's reservation (64 slots of
    // guarded memory) does not fit: `TICKETING_BENCH_ON_DEMAND=1` allocates
    // instances on demand instead.
    let options = HostOptions {
        on_demand: std::env::var_os("TICKETING_BENCH_ON_DEMAND").is_some(),
        ..ticketing_tests::steady_host_options()
    };
    let host = Host::load_with(ticketing_tests::plugin_wasm(), Limits::default(), &options)
        .expect("loads");
    let fresh_host = Host::load_with(
        ticketing_tests::plugin_wasm(),
        Limits::default(),
        &HostOptions {
            fresh_instances: true,
            ..options.clone()
        },
    )
    .expect("loads");
    let conn = ticketing_runtime::Connection {
        base_url: emu.org_url(),
        project: seed::PROJECT.into(),
        credentials: ticketing_runtime::Credentials::Pat(seed::PAT.into()),
    };
    let host_ticket = host_ticket();
    let component = |host: &Host| {
        let p = host
            .preview(&conn, &config, &host_ticket, false)
            .expect("component preview");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        black_box(p);
    };

    // Warm both caches (project, schema), then check no request is made.
    native();
    component(&host);
    component(&fresh_host);
    let before = emu.request_count();
    let mut rounds_native = Vec::new();
    let mut rounds_component = Vec::new();
    let mut rounds_fresh = Vec::new();
    for _ in 0..5 {
        rounds_native.push(counted_native(n, native) / n);
        rounds_component.push(counted_component(n, || component(&host)) / n);
        rounds_fresh.push(time(|| (0..n).for_each(|_| component(&fresh_host))).0 / n);
    }
    let requests = emu.request_count() - before;
    let (native_t, component_t, fresh_t) = (
        median(rounds_native),
        median(rounds_component),
        median(rounds_fresh),
    );
    println!(
        "boundary: preview of a ticket with {FINDINGS} findings ({n} calls, median of 5 rounds, {requests} HTTP requests while measured)"
    );
    println!("  core, native        {:>10.1} µs", us(native_t));
    println!(
        "  component           {:>10.1} µs  (component = {:.2}x native)",
        us(component_t),
        ratio(component_t, native_t)
    );
    println!(
        "  component, fresh    {:>10.1} µs  ({:.2}x native: a new instance per call)",
        us(fresh_t),
        ratio(fresh_t, native_t)
    );
    assert_eq!(requests, 0, "the measured previews made no HTTP request");
}

/// `n` native previews. Its own function so that callgrind can count its
/// instructions alone: `--toggle-collect='*counted_native*'` (BENCHMARKS.md).
#[inline(never)]
fn counted_native(n: u32, preview: impl Fn()) -> Duration {
    time(|| (0..n).for_each(|_| preview())).0
}

/// `n` previews by the component on a reused instance; see [`counted_native`].
#[inline(never)]
fn counted_component(n: u32, preview: impl Fn()) -> Duration {
    time(|| (0..n).for_each(|_| preview())).0
}

/// The preview request per Spin request: the pre-initialised component
/// (what `build.rs` ships) and the same build before its snapshot, each
/// in its own app on one emulator, measured alternately.
fn spin(args: &Args) {
    use spin_support::harness::StoreFile;
    let shipped = ticketing_tests::spin_wasm().to_path_buf();
    let name = shipped
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let raw = shipped.with_file_name(name.replace(".pre.wasm", ".wasm"));
    assert!(
        name.ends_with(".pre.wasm") && raw.exists(),
        "the Spin component is shipped pre-initialised beside its raw build"
    );
    let n = if args.full { 100 } else { 3 };
    let emu = spin_support::emulator();
    let variables = spin_support::variables(&emu);
    let body = serde_json::json!({
        "config": spin_support::agile_bug(),
        "ticket": spin_support::example_ticket("SEC-101"),
    });
    let apps: Vec<_> = [&raw, &shipped]
        .iter()
        .map(|component| {
            let store = StoreFile::new();
            let app = spin_support::SpinApp::start_component(&variables, store.path(), component);
            (app, store)
        })
        .collect();
    let preview = |app: &spin_support::SpinApp| {
        let answer = spin_support::call(app, "POST", "/v1/preview", Some(&body));
        assert_eq!(answer.status, 200, "{}", answer.body);
    };
    // The first request of each app reads the type's schema from ADO.
    apps.iter().for_each(|(app, _)| preview(app));
    let mut rounds = [Vec::new(), Vec::new()];
    for _ in 0..5 {
        for (i, (app, _)) in apps.iter().enumerate() {
            rounds[i].push(time(|| (0..n).for_each(|_| preview(app))).0 / n);
        }
    }
    let [raw_t, pre_t] = rounds.map(median);
    println!(
        "spin: a preview request with a script ({n} requests, median of 5 rounds; a new instance per request)"
    );
    println!("  without the snapshot    {:>10.1} µs", us(raw_t));
    println!(
        "  pre-initialised         {:>10.1} µs  ({:.2}x without)",
        us(pre_t),
        ratio(pre_t, raw_t)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn main() {
    let args = Args {
        full: std::env::args().any(|a| a == "--bench"),
    };
    let only = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    if "spin".contains(&only) {
        spin(&args);
    }
    if "start".contains(&only) {
        start(&args);
    }
    if "warm-call".contains(&only) {
        warm_call(&args);
    }
    if "boundary".contains(&only) {
        boundary(&args);
    }
}
