//! `dispatch --jobs N` end to end: the workers share the type's schema that
//! the first dispatch read, instead of each reading it when they start
//! together.

use crate::common;

use common::cli_env::{Env, dispatch_copies};

const TICKETS: usize = 24;

#[test]
fn workers_started_together_read_the_type_schema_once() {
    let env = Env::new();
    let (result, out) = dispatch_copies(&env, common::host(), "BULK", TICKETS, 8);
    assert!(result.is_ok(), "{out}\n{result:?}");
    assert_eq!(env.db().links().unwrap().len(), TICKETS);

    let counts = env.emu.request_counts();
    let creates: u64 = counts
        .by_route
        .iter()
        .filter(|(route, _)| route.starts_with("POST ") && route.contains("/_apis/wit/workitems/$"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(creates, TICKETS as u64, "{:#?}", counts.by_route);
    // The schema: the project, the type, its fields, the organization's
    // fields. Each read once, by the first dispatch.
    let reads: Vec<_> = counts
        .by_route
        .iter()
        .filter(|(route, _)| route.starts_with("GET "))
        .collect();
    assert!(
        reads.len() >= 3,
        "the first dispatch read the schema: {:#?}",
        counts.by_route
    );
    for (route, n) in reads {
        assert_eq!(*n, 1, "{route} read {n} times: {:#?}", counts.by_route);
    }
}
