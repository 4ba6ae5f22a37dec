//! The outbox end to end: the real plugin against the emulator with faults,
//! driven through the CLI. Transient failures are retried and then kept as
//! dead letters that `jobs retry` completes; permanent ones are not retried;
//! a job a killed host left behind is completed by `jobs run` without a
//! duplicate work item or comment.

use crate::common;

use ado_emulator::faults::Faults;
use common::cli_env::{Env, example};
use common::seed;
use ticketing_host::state::db::{JobState, new_holder};

fn agile() -> String {
    example("outegrations/agile-bug.json")
}

fn job_state(env: &Env, id: i64) -> (JobState, u32, String) {
    let j = env.db().job(id).unwrap().expect("the job is kept");
    (j.state, j.attempts, j.last_error.unwrap_or_default())
}

fn only_job(env: &Env, kind: &str) -> i64 {
    let jobs: Vec<_> = env
        .db()
        .jobs(&[])
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == kind)
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs[0].id
}

#[test]
fn a_dispatch_failing_transiently_past_its_attempts_is_a_dead_letter_that_retry_completes_once() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-101.json")]);
    env.emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let (ok, out) = env.run(&[
        "--max-attempts",
        "2",
        "dispatch",
        "--outegration",
        &agile(),
        "SEC-101",
    ]);
    assert!(!ok, "{out}");
    assert!(out.contains("gave up after 2 attempts"), "{out}");
    let id = only_job(&env, "dispatch");
    let (state, attempts, error) = job_state(&env, id);
    assert_eq!((state, attempts), (JobState::Dead, 2));
    assert!(
        error.contains("503") || error.contains("unavailable"),
        "{error}"
    );
    let listed = env.ok(&["jobs"]);
    assert!(
        listed.contains("dead") && listed.contains("SEC-101"),
        "{listed}"
    );

    env.emu.set_faults(Faults::default());
    let out = env.ok(&["jobs", "retry", &id.to_string()]);
    assert!(out.contains("SEC-101 -> work item"), "{out}");
    assert_eq!(job_state(&env, id).0, JobState::Done);
    assert_eq!(
        common::ids_with_tag(&env.emu, seed::PROJECT, "secops:SEC-101").len(),
        1,
        "one work item, whatever the 503s let through"
    );
    assert!(env.ok(&["jobs"]).contains("the outbox is empty"));
}

#[test]
fn a_permanent_failure_is_not_retried_and_says_why() {
    let env = Env::new();
    let before = env.emu.request_count();
    // SEC-103 lacks the severity the config requires: a validation failure.
    let (ok, out) = env.run(&[
        "dispatch",
        "--outegration",
        &agile(),
        &example("tickets/SEC-103.json"),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("not retried, the failure is permanent"),
        "{out}"
    );
    let id = only_job(&env, "dispatch");
    assert_eq!(job_state(&env, id).0, JobState::Failed);
    assert_eq!(job_state(&env, id).1, 1, "one attempt only");
    let after = env.emu.request_count();
    let (ok, _) = env.run(&["jobs", "run"]);
    assert!(ok, "a failed job is not run again by `jobs run`");
    assert_eq!(
        env.emu.request_count(),
        after,
        "no request for a failed job"
    );
    assert!(after > before);
    let listed = env.ok(&["jobs"]);
    assert!(listed.contains("failed"), "{listed}");
}

#[test]
fn throttling_and_server_errors_are_ridden_out_by_retries() {
    let env = Env::new();
    env.emu.set_faults(Faults {
        seed: 7,
        error_rate: 0.3,
        throttle_rate: 0.3,
        ..Faults::default()
    });
    for t in ["SEC-101", "SEC-102"] {
        env.ok(&["ticket", "import", &example(&format!("tickets/{t}.json"))]);
        let out = env.ok(&[
            "--max-attempts",
            "10",
            "dispatch",
            "--outegration",
            &agile(),
            t,
        ]);
        assert!(out.contains("-> work item"), "{out}");
    }
    env.emu.set_faults(Faults::default());
    for t in ["SEC-101", "SEC-102"] {
        assert_eq!(
            common::ids_with_tag(&env.emu, seed::PROJECT, &format!("secops:{t}")).len(),
            1
        );
    }
}

#[test]
fn a_dispatch_left_running_by_a_killed_host_is_adopted_by_jobs_run() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-101.json")]);
    let config = std::fs::read_to_string(agile()).unwrap();
    // What a host killed right after ADO committed the create leaves: an
    // open job claimed by a process that is gone, the dispatch attempt, and
    // a work item whose link was never stored.
    let db = env.db();
    let spec = format!(
        r#"{{"kind":"dispatch","ticket":"SEC-101","outegration":"{}"}}"#,
        agile()
    );
    let id = db
        .enqueue_job("dispatch", "SEC-101", "dispatch:SEC-101", &spec)
        .unwrap();
    // This machine's name, and a pid above the kernel's pid_max.
    let holder = new_holder();
    let gone = format!("{}:9999999:x", holder.split(':').next().unwrap());
    db.claim_job(id, &gone, 600_000).unwrap().expect("claimed");
    db.record_attempt("SEC-101", &agile()).unwrap();
    let lost = common::host()
        .create(
            &common::pat_connection(&env.emu),
            &config,
            &db.ticket("SEC-101").unwrap(),
        )
        .expect("created");

    let out = env.ok(&["jobs", "run"]);
    assert!(out.contains("adopted"), "{out}");
    assert!(out.contains("1 job(s) done"), "{out}");
    assert_eq!(
        env.db().link("SEC-101").unwrap().unwrap().link.work_item_id,
        lost.work_item_id
    );
    assert_eq!(
        common::ids_with_tag(&env.emu, seed::PROJECT, "secops:SEC-101").len(),
        1
    );
    assert_eq!(job_state(&env, id).0, JobState::Done);
}

#[test]
fn a_sync_whose_answer_was_lost_is_repeated_without_a_second_comment() {
    let env = Env::new();
    env.ok(&[
        "dispatch",
        "--outegration",
        &agile(),
        &example("tickets/SEC-102.json"),
    ]);
    let link = env.db().link("SEC-102").unwrap().unwrap().link;
    env.ok(&["ticket", "set", "SEC-102", "severity=CRITICAL"]);
    env.ok(&[
        "ticket",
        "comment",
        "SEC-102",
        "--author",
        "ana",
        "patched in 4.2",
    ]);
    // Every write's answer is lost after ADO committed it.
    env.emu.set_faults(Faults {
        drop_after_commit_rate: 1.0,
        ..Faults::default()
    });
    let (ok, out) = env.run(&["--max-attempts", "1", "sync", "SEC-102"]);
    assert!(!ok, "{out}");
    env.emu.set_faults(Faults::default());
    let id = only_job(&env, "sync");
    assert_eq!(job_state(&env, id).0, JobState::Dead);
    let out = env.ok(&["jobs", "retry", &id.to_string()]);
    assert!(out.contains("SEC-102"), "{out}");
    let comments = common::comments_of(&env.emu, seed::PROJECT, link.work_item_id);
    let texts: Vec<String> = comments
        .iter()
        .map(|c| c["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("patched in 4.2"))
            .count(),
        1,
        "{texts:#?}"
    );
    assert_eq!(
        texts.iter().filter(|t| t.contains("trigger")).count(),
        1,
        "one trigger comment: {texts:#?}"
    );
    let item = env.emu.work_item(link.work_item_id).unwrap();
    assert_eq!(item["fields"]["Microsoft.VSTS.Common.Priority"], 1);
}

#[test]
fn a_dead_letter_is_settled_when_the_same_operation_later_succeeds() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-101.json")]);
    env.emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let (ok, _) = env.run(&[
        "--max-attempts",
        "1",
        "dispatch",
        "--outegration",
        &agile(),
        "SEC-101",
    ]);
    assert!(!ok);
    env.emu.set_faults(Faults::default());
    env.ok(&["dispatch", "--outegration", &agile(), "SEC-101"]);
    assert!(env.ok(&["jobs"]).contains("the outbox is empty"));
    let all = env.ok(&["jobs", "--all"]);
    assert!(all.contains("superseded"), "{all}");
    let (ok, out) = env.run(&["jobs", "discard", "1"]);
    assert!(!ok && out.contains("not a dead or failed job"), "{out}");
}
