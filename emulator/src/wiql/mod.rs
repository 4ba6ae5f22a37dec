//! WIQL, the Work Item Query Language: a tokenizer (`lexer`), a recursive
//! descent parser into a small syntax tree (`parser`, `ast`) and an
//! evaluator over stored work items (`eval`). It covers flat queries
//! (`FROM WorkItems`): field comparisons, `AND`/`OR`/`NOT` with
//! parentheses, `CONTAINS [WORDS]`, `IN`, `UNDER` (each with `NOT`),
//! `@project`, `@me`, `@today [- n]`, `ORDER BY` and `ASOF`.

pub mod ast;
pub mod error;
pub mod eval;
pub mod lexer;
pub mod parser;

pub use error::WiqlError;
pub use parser::parse;
