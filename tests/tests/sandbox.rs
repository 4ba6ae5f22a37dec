//! The host's sandbox, proven with components: the deadline, the memory
//! limit, the egress allow-list, and typed `unsupported` answers.

mod common;

use common::*;
use ticketing_host::{CallError, ConnectorError, Host, Limits};

fn misbehaving(limits: Limits) -> Host {
    Host::load_with(
        ticketing_tests::misbehaving_wasm(),
        limits,
        &ticketing_tests::host_options(),
    )
    .expect("the fixture loads")
}

#[test]
fn a_plugin_call_that_never_returns_is_stopped_by_the_deadline() {
    let emu = emulator();
    let host = misbehaving(short_deadline());
    match host.test_connection(&pat_connection(&emu)) {
        Err(CallError::Deadline(d)) => assert_eq!(d, short_deadline().call_deadline),
        other => panic!("expected the deadline to stop the call, got {other:?}"),
    }
    // The same host keeps serving after a stopped call.
    match host.work_item_types(&pat_connection(&emu)) {
        Err(CallError::Connector(ConnectorError::Denied(_))) => {}
        other => panic!("expected the next call to run, got {other:?}"),
    }
}

#[test]
fn a_plugin_that_allocates_without_bound_hits_the_memory_limit() {
    let host = misbehaving(Limits {
        memory_bytes: 64 << 20,
        ..short_deadline()
    });
    match host.config_schema() {
        Err(CallError::Memory) | Err(CallError::Trap(_)) => {}
        other => panic!("expected the memory limit to stop the call, got {other:?}"),
    }
}

#[test]
fn a_request_outside_the_allow_list_is_denied_not_sent() {
    let emu = emulator();
    let host = misbehaving(short_deadline());
    match host.work_item_types(&pat_connection(&emu)) {
        Err(CallError::Connector(ConnectorError::Denied(reason))) => {
            assert!(reason.contains("exfiltrate.example"), "{reason}");
        }
        other => panic!("expected denied, got {other:?}"),
    }
}
