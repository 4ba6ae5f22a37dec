//! `script` rules: a Starlark (Python dialect) function computes the value.
//!
//! The script is hermetic: no `load`, no I/O (Starlark has none), `print`
//! goes nowhere. It must define `main`, which the connector calls with the
//! rule's inputs (the ticket and its findings, or the work item's fields) as
//! plain dicts and lists. The script's top level runs once per instance
//! and its globals are then frozen (Starlark's rule for a loaded module):
//! `main` may read them, and changing one is an error, so nothing carries
//! over from one ticket to the next. A budget of ticks (function calls and loop
//! iterations), a heap limit, a call-depth limit and a wall-clock deadline
//! stop runaway scripts with an error naming the line; the host's per-call
//! deadline and memory limit stay the outer net (a single huge allocation,
//! e.g. `"x" * 2000000000`, is only caught there).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::Value;
use starlark::PrintHandler;
use starlark::codemap::{CodeMap, FileSpanRef, Span};
use starlark::environment::{FrozenModule, Globals, Module};
use starlark::eval::{BeforeStmtFunc, BeforeStmtFuncDyn, Evaluator};
use starlark::syntax::{AstModule, Dialect};

/// Statements a script may execute: the step budget.
pub const MAX_STEPS: u64 = 100_000;
/// Ticks (function calls plus loop iterations), a second net behind the steps.
pub const MAX_TICKS: u64 = 200_000;
/// Starlark heap a script may use, best effort (checked periodically).
pub const MAX_HEAP_BYTES: usize = 32 * 1024 * 1024;
/// Call depth: Starlark forbids recursion only by convention.
pub const MAX_CALL_DEPTH: usize = 64;
/// Wall-clock budget, for slow built-ins the tick count does not see.
pub const MAX_DURATION: Duration = Duration::from_secs(2);
/// Largest value a script may return, as JSON text.
pub const MAX_RESULT_BYTES: usize = 256 * 1024;

/// Why a script gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// `script-syntax`, `script-error` or `script-budget`.
    pub rule: &'static str,
    /// 1-based line and column, when known.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Counts statements and remembers where the script is, so a budget error
/// can name the line. starlark-rust offers this hook for its debugger
/// (`before_stmt_for_dap`); the crate is pinned to an exact version for it.
struct Steps {
    left: u64,
    at: Rc<Cell<Option<Span>>>,
}

#[derive(Debug)]
struct OutOfSteps;

impl std::fmt::Display for OutOfSteps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the script exceeded its step budget of {MAX_STEPS} statements"
        )
    }
}

impl std::error::Error for OutOfSteps {}

impl<'e> BeforeStmtFuncDyn<'e> for Steps {
    fn call<'v>(
        &mut self,
        span: FileSpanRef,
        _: bool,
        _: &mut Evaluator<'v, '_, 'e>,
    ) -> starlark::Result<()> {
        self.at.set(Some(span.span));
        if self.left == 0 {
            return Err(starlark::Error::new_other(OutOfSteps));
        }
        self.left -= 1;
        Ok(())
    }
}

struct Silent;

impl PrintHandler for Silent {
    fn println(&self, _: &str) -> starlark::Result<()> {
        Ok(())
    }
}

fn dialect() -> Dialect {
    Dialect {
        enable_load: false,
        ..Dialect::Standard
    }
}

fn located(e: &starlark::Error) -> Option<(usize, usize)> {
    let span = e.span().cloned().or_else(|| {
        e.call_stack()
            .frames
            .iter()
            .rev()
            .find_map(|f| f.location.clone())
    })?;
    let begin = span.resolve_span().begin;
    Some((begin.line + 1, begin.column + 1))
}

fn classify(
    e: starlark::Error,
    deadline_hit: bool,
    source: &str,
    last: Option<Span>,
) -> ScriptError {
    let message = e.without_diagnostic().to_string();
    let message = message.trim().trim_start_matches("error: ").to_string();
    let over_budget = deadline_hit
        || [
            "step budget",
            "ticks",
            "heap",
            "stack overflow",
            "call stack",
        ]
        .iter()
        .any(|m| message.contains(m));
    let at = located(&e).or_else(|| {
        last.map(|span| {
            let begin = CodeMap::new("script.star".into(), source.to_string())
                .resolve_span(span)
                .begin;
            (begin.line + 1, begin.column + 1)
        })
    });
    let (rule, message) = if deadline_hit {
        (
            "script-budget",
            format!(
                "the script ran longer than {} s and was stopped",
                MAX_DURATION.as_secs()
            ),
        )
    } else if message.contains("step budget") {
        ("script-budget", message)
    } else if over_budget {
        (
            "script-budget",
            format!(
                "{message} (budget: {MAX_STEPS} statements, {MAX_TICKS} ticks, {} MiB, call depth {MAX_CALL_DEPTH})",
                MAX_HEAP_BYTES >> 20
            ),
        )
    } else {
        ("script-error", message)
    };
    ScriptError { rule, at, message }
}

fn parse(source: &str) -> Result<AstModule, ScriptError> {
    AstModule::parse("script.star", source.to_string(), &dialect()).map_err(|e| ScriptError {
        rule: "script-syntax",
        at: located(&e),
        message: e.without_diagnostic().to_string().trim().to_string(),
    })
}

/// Parses the script and checks that it defines a function `main`, without
/// calling it (top-level statements run, within the same budget).
pub fn check(source: &str) -> Result<(), ScriptError> {
    load(source).map(|_| ())
}

/// Calls the script's `main` with `args` and returns what it returned, as JSON.
pub fn run(source: &str, args: &[Value]) -> Result<Value, ScriptError> {
    let loaded = load(source)?;
    call_main(source, &loaded, args)
}

/// Starlark's standard built-ins, built once per instance instead of at
/// every script run. Frozen, so no script can change what the next one
/// sees. The component builds them in its pre-initialisation snapshot
/// ([`prepare`]).
fn standard_globals() -> &'static Globals {
    static GLOBALS: std::sync::OnceLock<Globals> = std::sync::OnceLock::new();
    GLOBALS.get_or_init(Globals::standard)
}

/// Builds what a first script run would otherwise build in every instance:
/// the standard globals and the method tables of strings, lists and dicts,
/// which Starlark builds at their first use. Each parses the doc comment of
/// every built-in with regular expressions, compiled on the way: about 3.6
/// ms of a fresh instance's first script (the `host` bench's "component,
/// fresh" preview: 5.75 ms without, 2.13 ms with). The component calls
/// this when it is pre-initialised at build time, so the snapshot holds
/// them. It reads no clock and does no I/O; the only import it reaches is
/// the hash seed of `std`'s hash maps (`tests/build/preinit.rs`).
pub fn prepare() {
    let globals = standard_globals();
    // Touching one method of each type builds that type's table.
    let warm = "_ = ('a'.upper, [].append, {}.get)";
    let ast = AstModule::parse("prepare.star", warm.to_owned(), &Dialect::Standard)
        .expect("the fixed warm-up script parses");
    Module::with_temp_heap(|module| {
        let mut eval = Evaluator::new(&module);
        eval.eval_module(ast, globals).map(drop)
    })
    .expect("the fixed warm-up script runs");
}

/// Scripts [`load`] keeps per instance.
const LOADED_SCRIPTS: usize = 16;

/// The script's module after its top-level statements ran, frozen. A
/// config's scripts run for every ticket; parsing, compiling and running
/// their top level each time was most of a script rule's cost, so the
/// frozen module is kept per instance, by source text. Frozen, it cannot
/// carry anything from one ticket to the next: `main` runs in a module of
/// its own, and changing a global is an error, as Starlark's frozen values
/// require.
fn load(source: &str) -> Result<FrozenModule, ScriptError> {
    // Process-wide, never dropped: a thread-local would drop its modules
    // after Starlark's own per-thread allocator is gone (an abort at thread
    // exit). An instance is one thread; a native process keeps a few.
    static LOADED: std::sync::Mutex<Vec<(String, FrozenModule)>> =
        std::sync::Mutex::new(Vec::new());
    let known = LOADED.lock().ok().and_then(|loaded| {
        loaded
            .iter()
            .find(|(seen, _)| seen == source)
            .map(|(_, module)| module.clone())
    });
    if let Some(module) = known {
        return Ok(module);
    }
    let ast = parse(source)?;
    // Built before the clock starts: the first build in an instance is not
    // the script's time.
    let globals = standard_globals();
    let frozen = Module::with_temp_heap(|module| {
        let budget = Budget::new();
        {
            let mut eval = Evaluator::new(&module);
            budget.apply(&mut eval)?;
            eval.eval_module(ast, globals)
                .map_err(|e| budget.classify(e, source))?;
        }
        let Some(main) = module.get("main") else {
            return Err(ScriptError {
                rule: "script-error",
                at: None,
                message: "the script must define `def main(...)`".into(),
            });
        };
        if main.get_type() != "function" {
            return Err(ScriptError {
                rule: "script-error",
                at: None,
                message: format!("`main` is a {}, not a function", main.get_type()),
            });
        }
        module.freeze().map_err(|e| ScriptError {
            rule: "script-error",
            at: None,
            message: format!("the script's globals cannot be frozen: {e:?}"),
        })
    })?;
    if let Ok(mut loaded) = LOADED.lock() {
        if loaded.len() >= LOADED_SCRIPTS {
            loaded.remove(0);
        }
        loaded.push((source.to_string(), frozen.clone()));
    }
    Ok(frozen)
}

/// Calls `main` of a loaded script in a module of its own, under a budget
/// of its own.
fn call_main(source: &str, loaded: &FrozenModule, args: &[Value]) -> Result<Value, ScriptError> {
    let main = loaded.get("main").map_err(|e| ScriptError {
        rule: "script-error",
        at: None,
        message: e.to_string(),
    })?;
    Module::with_temp_heap(|module| {
        // The call's heap keeps a reference to the loaded module's heap, so
        // `main` lives as long as this call needs it.
        let main = module.heap().access_owned_frozen_value(&main);
        let budget = Budget::new();
        let mut eval = Evaluator::new(&module);
        budget.apply(&mut eval)?;
        let heap = module.heap();
        let values: Vec<_> = args.iter().map(|a| heap.alloc(a)).collect();
        let result = eval
            .eval_function(main, &values, &[])
            .map_err(|e| budget.classify(e, source))?;
        let json = result.to_json_value().map_err(|e| ScriptError {
            rule: "script-error",
            at: None,
            message: format!(
                "`main` returned a {} that is not a plain value: {e}",
                result.get_type()
            ),
        })?;
        if json.to_string().len() > MAX_RESULT_BYTES {
            return Err(ScriptError {
                rule: "too-long",
                at: None,
                message: format!("the script's value exceeds {MAX_RESULT_BYTES} bytes"),
            });
        }
        Ok(json)
    })
}

/// One evaluation's limits: steps, ticks, heap, call depth and the clock.
struct Budget {
    started: Instant,
    timed_out: Cell<bool>,
    at: Rc<Cell<Option<Span>>>,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            started: Instant::now(),
            timed_out: Cell::new(false),
            at: Rc::new(Cell::new(None)),
        }
    }

    fn apply<'e>(&'e self, eval: &mut Evaluator<'_, '_, 'e>) -> Result<(), ScriptError> {
        let setup = |e: starlark::Error| ScriptError {
            rule: "script-error",
            at: None,
            message: e.to_string(),
        };
        eval.set_max_tick_count(MAX_TICKS)
            .map_err(|e| setup(starlark::Error::new_other(e)))?;
        eval.set_max_heap_size(MAX_HEAP_BYTES)
            .map_err(|e| setup(starlark::Error::new_other(e)))?;
        eval.set_max_callstack_size(MAX_CALL_DEPTH)
            .map_err(|e| setup(starlark::Error::new_other(e)))?;
        eval.set_print_handler(&Silent);
        eval.before_stmt_for_dap(BeforeStmtFunc::from_dyn(Box::new(Steps {
            left: MAX_STEPS,
            at: self.at.clone(),
        })));
        eval.set_check_cancelled(Box::new(|| {
            let over = self.started.elapsed() > MAX_DURATION;
            if over {
                self.timed_out.set(true);
            }
            over
        }));
        Ok(())
    }

    fn classify(&self, e: starlark::Error, source: &str) -> ScriptError {
        classify(e, self.timed_out.get(), source, self.at.get())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn main_receives_the_ticket_and_its_findings() {
        let script = "def main(ticket, findings):\n    return '%s (%d findings)' % (ticket['title'].upper(), len(findings))\n";
        let v = run(
            script,
            &[
                json!({"title": "xss"}),
                json!([{"id": "F-1"}, {"id": "F-2"}]),
            ],
        )
        .unwrap();
        assert_eq!(v, json!("XSS (2 findings)"));
    }

    #[test]
    fn the_same_script_gives_each_ticket_its_own_answer() {
        let script = "PREFIX = 'T-'\ndef main(ticket):\n    return PREFIX + ticket['id']\n";
        let a = run(script, &[json!({"id": "1"})]).unwrap();
        let b = run(script, &[json!({"id": "2"})]).unwrap();
        assert_eq!((a, b), (json!("T-1"), json!("T-2")));
    }

    #[test]
    fn a_global_changed_by_main_is_refused_so_no_ticket_sees_another_tickets_state() {
        let script =
            "SEEN = []\ndef main(ticket):\n    SEEN.append(ticket['id'])\n    return len(SEEN)\n";
        for id in ["1", "2"] {
            let e = run(script, &[json!({ "id": id })]).unwrap_err();
            assert_eq!(e.rule, "script-error", "{e}");
            assert_eq!(e.at.map(|(line, _)| line), Some(3), "{e}");
        }
    }

    #[test]
    fn a_script_that_loops_forever_is_stopped_by_its_budget() {
        let script = "def main(ticket, findings):\n    n = 0\n    for i in range(1000000000):\n        n += i\n    return n\n";
        let started = Instant::now();
        let err = run(script, &[json!({}), json!([])]).unwrap_err();
        assert_eq!(err.rule, "script-budget", "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(err.at.map(|a| a.0), Some(4), "points into the loop: {err}");
    }

    #[test]
    fn deep_recursion_is_stopped() {
        let script =
            "def f(n):\n    return f(n + 1)\n\ndef main(ticket, findings):\n    return f(0)\n";
        let err = run(script, &[json!({}), json!([])]).unwrap_err();
        assert!(
            matches!(err.rule, "script-budget" | "script-error"),
            "{err:?}"
        );
    }

    #[test]
    fn a_script_that_raises_names_line_column_and_message() {
        let script = "def main(ticket, findings):\n    fail('no owner for ' + ticket['id'])\n";
        let err = run(script, &[json!({"id": "SEC-1"}), json!([])]).unwrap_err();
        assert_eq!(err.rule, "script-error");
        assert!(err.message.contains("no owner for SEC-1"), "{err}");
        assert_eq!(err.at, Some((2, 5)), "{err}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = check("def main(ticket, findings):\n    return (\n").unwrap_err();
        assert_eq!(err.rule, "script-syntax");
        assert!(err.at.is_some_and(|(line, _)| line >= 2), "{err:?}");
    }

    #[test]
    fn a_script_without_main_is_refused() {
        let err = check("def other():\n    return 1\n").unwrap_err();
        assert!(err.message.contains("main"), "{err}");
    }

    #[test]
    fn load_is_not_available() {
        let err = check("load('x.star', 'y')\ndef main(t, f):\n    return 1\n").unwrap_err();
        assert_eq!(err.rule, "script-syntax", "{err:?}");
    }

    #[test]
    fn print_is_not_available_and_lists_come_back() {
        assert!(
            run(
                "def main(t, f):\n    print('leak?')\n",
                &[json!({}), json!([])]
            )
            .is_err()
        );
        let v = run(
            "def main(t, f):\n    return sorted([2, 1])\n",
            &[json!({}), json!([])],
        )
        .unwrap();
        assert_eq!(v, json!([1, 2]));
    }

    #[test]
    fn huge_results_are_refused() {
        let err = run(
            "def main(t, f):\n    return 'x' * 300000\n",
            &[json!({}), json!([])],
        )
        .unwrap_err();
        assert_eq!(err.rule, "too-long");
    }
}
