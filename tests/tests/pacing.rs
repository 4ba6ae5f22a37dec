//! Rate-limit pacing end to end: a bulk dispatch with 8 workers against an
//! emulator enforcing a per-identity limit. Paced by the host (the
//! default), the identity is never blocked; the same run with pacing off
//! is, which is what makes the first assertion mean something.

use crate::common;

use std::time::Duration;

use ado_emulator::ratelimit::RateLimit;
use ado_emulator::{Emulator, EmulatorConfig};
use common::cli_env::{Env, dispatch_copies};
use ticketing_runtime::{Host, HostOptions, Limits};

const TICKETS: usize = 40;

fn limited() -> Emulator {
    Emulator::start(EmulatorConfig {
        rate_limit: Some(RateLimit {
            limit: 20,
            warn_at: 10,
            block_at: 30,
            window: Duration::from_secs(2),
            delay: Duration::from_millis(10),
        }),
        ..Default::default()
    })
    .expect("the emulator starts")
}

/// Dispatches `TICKETS` copies of SEC-101 with 8 workers through `host`;
/// returns how many answers were 429 and how many work items exist.
fn bulk_dispatch(host: &Host) -> (u64, usize) {
    let env = Env::with(limited());
    let (result, out) = dispatch_copies(&env, host, "PACE", TICKETS, 8);
    let counts = env.emu.request_counts();
    let throttled = counts.by_status.get("429").copied().unwrap_or(0);
    let linked = env.db().links().unwrap().len();
    if throttled == 0 {
        assert!(result.is_ok(), "{out}\n{result:?}");
    }
    (throttled, linked)
}

#[test]
fn a_paced_bulk_dispatch_is_never_blocked_and_an_unpaced_one_is() {
    let (throttled, linked) = bulk_dispatch(common::host());
    assert_eq!(throttled, 0, "the paced run met the block");
    assert_eq!(linked, TICKETS);

    let unpaced = Host::load_with(
        ticketing_tests::plugin_wasm(),
        Limits::default(),
        &HostOptions {
            no_pacing: true,
            ..ticketing_tests::host_options()
        },
    )
    .unwrap();
    let (throttled, _) = bulk_dispatch(&unpaced);
    assert!(throttled > 0, "without pacing the same run is blocked");
}
