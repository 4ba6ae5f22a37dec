//! Cost of the finding attachments: generates each format for a ticket with
//! 10,000 findings and reports wall time (median of several runs), output
//! size and peak heap bytes allocated while generating (a counting global
//! allocator), each also as a ratio to the JSONL baseline of the same run.
//!
//! `cargo bench -p ado-connector-core --bench attachments` runs it in full
//! (`cargo bench` passes `--bench`); without `--bench` (e.g. `cargo test
//! --benches`) it is a quick smoke run over 200 findings.

// The counting allocator implements `GlobalAlloc`, an unsafe trait.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ado_connector_core::attachments::{AttachmentFormat, AttachmentOptions, generate};
use ado_connector_core::model::{Field, FieldValue, Finding, Ticket};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let now = CURRENT.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn text(s: String) -> FieldValue {
    FieldValue::Text(s)
}

/// A ticket like a busy real one: mixed severities, CJK and Hebrew in some
/// titles, descriptions of a few hundred characters.
fn ticket(findings: usize) -> Ticket {
    let severities = ["Critical", "High", "Medium", "Low", "Info"];
    let field = |name: &str, value: FieldValue| Field {
        name: name.into(),
        value,
    };
    let findings = (0..findings)
        .map(|i| Finding {
            id: format!("F-{i}"),
            status: "open".into(),
            fields: vec![
                field("severity", text(severities[i % severities.len()].into())),
                field("title", text(match i % 10 {
                    3 => format!("远程代码执行漏洞 {i}"),
                    7 => format!("פגיעות {i} in the login form"),
                    _ => format!("Outdated OpenSSL on host {i}"),
                })),
                field("cve", text(format!("CVE-2026-{:05}", i % 100_000))),
                field("component_name", text("openssl".into())),
                field("asset_name", text(format!("host-{i}.corp.example"))),
                field("asset_operating_system", text("Debian GNU/Linux 12 (bookworm)".into())),
                field("optimal_fix", text("Upgrade openssl to 3.0.15-1~deb12u1 or later and restart dependent services.".into())),
                field("description", text(
                    "The installed version is affected by several vulnerabilities, including a use-after-free in the TLS \
                     handshake that a remote attacker can trigger with a crafted certificate chain. "
                        .repeat(2),
                )),
                field("sources", FieldValue::TextList(vec!["Qualys".into(), "Tenable".into()])),
                field("cvss", FieldValue::Number(7.5)),
                field("first_seen", FieldValue::DateTime("2026-11-01T08:00:00Z".into())),
            ],
        })
        .collect();
    Ticket {
        id: "SEC-10000".into(),
        url: "https://secops.example/tickets/SEC-10000".into(),
        fields: vec![
            field("title", text("10,000 findings".into())),
            field("severity", text("HIGH".into())),
        ],
        findings,
        comments: Vec::new(),
    }
}

struct Measure {
    format: AttachmentFormat,
    median: Duration,
    peak: usize,
    size: usize,
}

fn measure(ticket: &Ticket, format: AttachmentFormat, runs: usize) -> Measure {
    let options = AttachmentOptions::new(format);
    let labels = BTreeMap::new();
    let mut times = Vec::with_capacity(runs);
    let mut peak = 0;
    let mut size = 0;
    for _ in 0..runs {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        let file = black_box(generate(
            black_box(ticket),
            &options,
            &labels,
            1_795_167_000,
        ))
        .expect("generates");
        times.push(start.elapsed());
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
        size = file.bytes.len();
    }
    times.sort();
    Measure {
        format,
        median: times[times.len() / 2],
        peak,
        size,
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (findings, runs) = if full { (10_000, 5) } else { (200, 1) };
    let ticket = ticket(findings);
    println!("attachments: {findings} findings, default columns, median of {runs} run(s)");
    let results: Vec<Measure> = [
        AttachmentFormat::Jsonl,
        AttachmentFormat::Csv,
        AttachmentFormat::Xlsx,
        AttachmentFormat::Pdf,
    ]
    .into_iter()
    .map(|f| measure(&ticket, f, runs))
    .collect();
    let base = &results[0];
    println!(
        "{:<6} {:>10} {:>8} {:>14} {:>8} {:>11}",
        "format", "time ms", "x jsonl", "peak heap MiB", "x jsonl", "output MiB"
    );
    for m in &results {
        println!(
            "{:<6} {:>10.1} {:>8.1} {:>14.1} {:>8.1} {:>11.2}",
            m.format.to_string(),
            m.median.as_secs_f64() * 1000.0,
            m.median.as_secs_f64() / base.median.as_secs_f64(),
            mib(m.peak),
            m.peak as f64 / base.peak as f64,
            mib(m.size),
        );
    }
}
