//! The compilers a host runs the plugin with (`ticketing_runtime::Compiler`):
//! a host whose compile cache lacks the optimised artifact answers at once
//! with the baseline compiler's code, switches to the optimising compiler's
//! when it is ready, stores it, and the next start maps it; the baseline
//! code keeps the sandbox's deadline and memory limit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common;

use common::*;
use ticketing_runtime::{CallError, Compiler, Host, HostOptions, Limits, Tier};

/// Long enough for Cranelift to compile the plugin on a loaded CI machine.
const SETTLE: Duration = Duration::from_secs(600);

/// An empty cache directory of this test's own.
fn empty_cache() -> PathBuf {
    fresh_dir("ticketing-tiers")
}

fn artifacts(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            .count()
    })
}

fn plugin_with(options: &HostOptions) -> Host {
    Host::load_with(ticketing_tests::plugin_wasm(), Limits::default(), options)
        .expect("the plugin loads")
}

#[test]
fn without_the_optimised_artifact_a_host_answers_on_baseline_code_then_switches_and_stores_it() {
    let emu = emulator();
    let dir = empty_cache();
    let options = HostOptions {
        cache_dir: Some(dir.clone()),
        ..Default::default()
    };
    let host = plugin_with(&options);
    assert_eq!(
        host.tier(),
        Tier::Baseline,
        "no artifact yet: baseline code"
    );
    let first = host
        .test_connection(&pat_connection(&emu))
        .expect("the baseline code answers");
    assert_eq!(host.idle_instances(), 1, "the baseline instance is kept");

    assert_eq!(host.settle(SETTLE), Tier::Optimized);
    assert_eq!(artifacts(&dir), 1, "the optimised artifact is stored");
    assert_eq!(
        host.idle_instances(),
        0,
        "an instance of the replaced code is not kept for the next call"
    );
    let second = host
        .test_connection(&pat_connection(&emu))
        .expect("the optimised code answers");
    assert_eq!(host.idle_instances(), 1);
    assert_eq!(
        (first.organization, first.project_id, first.process_template),
        (
            second.organization,
            second.project_id,
            second.process_template
        ),
        "both codes give the same answer"
    );
    drop(host);

    let next = plugin_with(&options);
    assert_eq!(
        next.tier(),
        Tier::Optimized,
        "the next start maps the artifact"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_host_dropped_on_baseline_code_first_stores_the_optimised_code_for_the_next_start() {
    let dir = empty_cache();
    let options = HostOptions {
        cache_dir: Some(dir.clone()),
        ..Default::default()
    };
    let host = plugin_with(&options);
    assert_eq!(host.tier(), Tier::Baseline);
    host.config_schema().expect("the baseline code answers");
    drop(host);
    assert_eq!(
        artifacts(&dir),
        1,
        "the drop waited for the optimised compile"
    );
    assert_eq!(plugin_with(&options).tier(), Tier::Optimized);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_optimizing_compiler_alone_serves_optimised_code_from_the_first_call() {
    let host = plugin_with(&HostOptions {
        compiler: Compiler::Optimizing,
        ..Default::default()
    });
    assert_eq!(host.tier(), Tier::Optimized);
    host.config_schema().expect("answers");
    assert_eq!(host.settle(Duration::ZERO), Tier::Optimized);
}

fn misbehaving_on_baseline(limits: Limits) -> Host {
    let host = misbehaving_with(
        limits,
        &HostOptions {
            compiler: Compiler::Baseline,
            ..Default::default()
        },
    );
    assert_eq!(host.tier(), Tier::Baseline);
    host
}

#[test]
fn on_baseline_code_a_call_that_never_returns_is_stopped_by_the_deadline() {
    let emu = emulator();
    let host = misbehaving_on_baseline(short_deadline());
    match host.test_connection(&pat_connection(&emu)) {
        Err(CallError::Deadline(d)) => assert_eq!(d, short_deadline().call_deadline),
        other => panic!("expected the deadline to stop the call, got {other:?}"),
    }
    assert_eq!(
        host.settle(Duration::ZERO),
        Tier::Baseline,
        "never replaced"
    );
}

#[test]
fn on_baseline_code_a_plugin_that_allocates_without_bound_hits_the_memory_limit() {
    let host = misbehaving_on_baseline(Limits {
        memory_bytes: 64 << 20,
        ..short_deadline()
    });
    match host.config_schema() {
        Err(CallError::Memory) => {}
        other => panic!("expected the memory limit to stop the call, got {other:?}"),
    }
}

#[test]
fn the_command_line_chooses_the_compiler_and_names_an_unknown_one_with_the_choices() {
    use clap::Parser as _;
    use ticketing_host::cli::{Cli, host_options};
    let cli = Cli::parse_from([
        "ticketing-host",
        "--no-cache",
        "--compiler",
        "baseline",
        "config-schema",
    ]);
    let options = host_options(&cli);
    assert_eq!(options.compiler, Compiler::Baseline);
    assert_eq!(plugin_with(&options).tier(), Tier::Baseline);
    let default = Cli::parse_from(["ticketing-host", "config-schema"]);
    assert_eq!(host_options(&default).compiler, Compiler::Tiered);

    let refused = Cli::try_parse_from(["ticketing-host", "--compiler", "fast", "config-schema"])
        .expect_err("an unknown compiler is refused");
    let text = refused.to_string();
    assert!(
        text.contains("'fast'") && text.contains("tiered, optimizing, baseline"),
        "{text}"
    );
}

#[test]
fn baseline_and_optimised_code_preview_the_same_exact_request() {
    let emu = emulator();
    let mut t = ticket(
        "SEC-77",
        vec![
            text("title", "Vulnerable openssl on the order hosts"),
            text("severity", "HIGH"),
            text("description", "Upgrade **openssl** on every order host."),
        ],
    );
    t.findings = (1..=20)
        .map(|i| {
            finding(
                &format!("F-{i}"),
                "Open",
                &format!("CVE-2026-{i:04} in openssl"),
            )
        })
        .collect();
    let config = agile_bug_config();
    let conn = pat_connection(&emu);
    let baseline = plugin_with(&HostOptions {
        compiler: Compiler::Baseline,
        ..Default::default()
    });
    let optimized = common::host();
    assert_eq!(
        (baseline.tier(), optimized.settle(SETTLE)),
        (Tier::Baseline, Tier::Optimized)
    );
    let on_baseline = baseline
        .preview(&conn, &config, &t, true)
        .expect("previews");
    let on_optimized = optimized
        .preview(&conn, &config, &t, true)
        .expect("previews");
    assert!(
        on_optimized.attachment.is_some(),
        "the example attaches the findings, so the preview builds the file"
    );
    assert_eq!(on_baseline, on_optimized);
}
