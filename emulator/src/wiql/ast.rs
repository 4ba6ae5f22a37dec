//! The syntax tree of a flat WIQL query.

/// `SELECT columns FROM WorkItems [WHERE condition] [ORDER BY ...] [ASOF '...']`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Field names as written (reference or display names).
    pub columns: Vec<String>,
    /// `WorkItems` (or `WorkItemLinks`, which the emulator refuses).
    pub source: String,
    pub condition: Option<Expr>,
    /// Field name and whether it sorts descending.
    pub order: Vec<(String, bool)>,
    pub as_of: Option<String>,
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        field: String,
        op: Op,
        value: Operand,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Contains,
    NotContains,
    ContainsWords,
    NotContainsWords,
    In,
    NotIn,
    Under,
    NotUnder,
    Ever,
    NotEver,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Literal),
    List(Vec<Literal>),
    /// Another field: `[System.CreatedDate] = [System.ChangedDate]`.
    Field(String),
}

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
    /// `@project`, `@me`, `@today` (name lowercased), with `+ n` / `- n`.
    Macro {
        name: String,
        offset: i64,
    },
}
