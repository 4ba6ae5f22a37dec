//! Recursive descent parser of flat WIQL queries:
//!
//! ```text
//! query   := SELECT columns FROM word [WHERE or] [ORDER BY order {, order}] [ASOF text]
//! columns := field {, field} | *
//! or      := and {OR and}
//! and     := unary {AND unary}
//! unary   := NOT unary | ( or ) | field op operand
//! op      := = | <> | != | < | > | <= | >= | [NOT] CONTAINS [WORDS] | [NOT] IN
//!          | [NOT] UNDER | [NOT] EVER
//! operand := literal | ( literal {, literal} ) | field
//! literal := text | [-]number | TRUE | FALSE | @macro [(+|-) number]
//! ```

use super::ast::{Expr, Literal, Op, Operand, Query};
use super::error::WiqlError;
use super::lexer::{Token, tokenize};

/// Parses a WIQL query.
pub fn parse(input: &str) -> Result<Query, WiqlError> {
    let tokens = tokenize(input)?;
    let mut p = Parser { tokens, pos: 0 };
    let query = p.query()?;
    match p.peek() {
        None => Ok(query),
        Some(t) => Err(WiqlError::syntax("end of query", &t.text())),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn found(&self) -> String {
        self.peek()
            .map(Token::text)
            .unwrap_or_else(|| "end of query".into())
    }

    /// Whether the next token is the keyword `kw`.
    fn at(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat(&mut self, kw: &str) -> bool {
        let hit = self.at(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, kw: &str) -> Result<(), WiqlError> {
        if self.eat(kw) {
            Ok(())
        } else {
            Err(WiqlError::syntax(kw, &self.found()))
        }
    }

    fn query(&mut self) -> Result<Query, WiqlError> {
        self.expect("SELECT")?;
        let mut columns = Vec::new();
        if matches!(self.peek(), Some(Token::Star)) {
            self.pos += 1;
        } else {
            columns.push(self.field()?);
            while matches!(self.peek(), Some(Token::Comma)) {
                self.pos += 1;
                columns.push(self.field()?);
            }
        }
        self.expect("FROM")?;
        let source = match self.next() {
            Some(Token::Word(w)) => w,
            other => {
                return Err(WiqlError::syntax(
                    "WorkItems",
                    &other
                        .map(|t| t.text())
                        .unwrap_or_else(|| "end of query".into()),
                ));
            }
        };
        let condition = if self.eat("WHERE") {
            Some(self.or()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat("ORDER") {
            self.expect("BY")?;
            loop {
                let field = self.field()?;
                let descending = if self.eat("DESC") {
                    true
                } else {
                    self.eat("ASC");
                    false
                };
                order.push((field, descending));
                if !matches!(self.peek(), Some(Token::Comma)) {
                    break;
                }
                self.pos += 1;
            }
        }
        let as_of = if self.eat("ASOF") {
            match self.next() {
                Some(Token::Text(t)) => Some(t),
                other => {
                    return Err(WiqlError::syntax(
                        "a date",
                        &other.map(|t| t.text()).unwrap_or_default(),
                    ));
                }
            }
        } else {
            None
        };
        Ok(Query {
            columns,
            source,
            condition,
            order,
            as_of,
        })
    }

    /// `[Field Name]` or a bare reference name; keywords are not fields.
    fn field(&mut self) -> Result<String, WiqlError> {
        const KEYWORDS: &[&str] = &[
            "SELECT", "FROM", "WHERE", "ORDER", "BY", "AND", "OR", "NOT", "ASC", "DESC", "ASOF",
        ];
        match self.peek() {
            Some(Token::Field(f)) => {
                let f = f.clone();
                self.pos += 1;
                Ok(f)
            }
            Some(Token::Word(w)) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(WiqlError::syntax("a field name", &self.found())),
        }
    }

    fn or(&mut self) -> Result<Expr, WiqlError> {
        let mut left = self.and()?;
        while self.eat("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, WiqlError> {
        let mut left = self.unary()?;
        while self.eat("AND") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, WiqlError> {
        if self.eat("NOT") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Some(Token::LParen)) {
            self.pos += 1;
            let inner = self.or()?;
            return match self.next() {
                Some(Token::RParen) => Ok(inner),
                other => Err(WiqlError::syntax(
                    ")",
                    &other
                        .map(|t| t.text())
                        .unwrap_or_else(|| "end of query".into()),
                )),
            };
        }
        let field = self.field()?;
        let op = self.op()?;
        let value = self.operand(op)?;
        Ok(Expr::Compare { field, op, value })
    }

    fn op(&mut self) -> Result<Op, WiqlError> {
        if let Some(Token::Compare(c)) = self.peek() {
            let op = match c.as_str() {
                "=" => Op::Eq,
                "<>" | "!=" => Op::Ne,
                "<" => Op::Lt,
                ">" => Op::Gt,
                "<=" => Op::Le,
                _ => Op::Ge,
            };
            self.pos += 1;
            return Ok(op);
        }
        let negated = self.eat("NOT");
        let op = if self.eat("CONTAINS") {
            match (self.eat("WORDS"), negated) {
                (true, false) => Op::ContainsWords,
                (true, true) => Op::NotContainsWords,
                (false, false) => Op::Contains,
                (false, true) => Op::NotContains,
            }
        } else if self.eat("IN") {
            if self.at("GROUP") {
                return Err(WiqlError::other(
                    "TF51006: The query statement is not valid. IN GROUP is not supported by the emulator.",
                ));
            }
            if negated { Op::NotIn } else { Op::In }
        } else if self.eat("UNDER") {
            if negated { Op::NotUnder } else { Op::Under }
        } else if self.eat("EVER") {
            if negated { Op::NotEver } else { Op::Ever }
        } else {
            return Err(WiqlError::syntax("a comparison operator", &self.found()));
        };
        Ok(op)
    }

    fn operand(&mut self, op: Op) -> Result<Operand, WiqlError> {
        if matches!(op, Op::In | Op::NotIn) {
            if !matches!(self.next(), Some(Token::LParen)) {
                return Err(WiqlError::syntax("(", &self.found()));
            }
            let mut list = vec![self.literal()?];
            loop {
                match self.next() {
                    Some(Token::Comma) => list.push(self.literal()?),
                    Some(Token::RParen) => break,
                    other => {
                        return Err(WiqlError::syntax(
                            ", or )",
                            &other
                                .map(|t| t.text())
                                .unwrap_or_else(|| "end of query".into()),
                        ));
                    }
                }
            }
            return Ok(Operand::List(list));
        }
        if let Some(Token::Field(f)) = self.peek() {
            let f = f.clone();
            self.pos += 1;
            return Ok(Operand::Field(f));
        }
        Ok(Operand::Literal(self.literal()?))
    }

    fn literal(&mut self) -> Result<Literal, WiqlError> {
        match self.next() {
            Some(Token::Text(t)) => Ok(Literal::Text(t)),
            Some(Token::Number(n)) => Ok(Literal::Number(n)),
            Some(Token::Minus) => match self.next() {
                Some(Token::Number(n)) => Ok(Literal::Number(-n)),
                other => Err(WiqlError::syntax(
                    "a number",
                    &other.map(|t| t.text()).unwrap_or_default(),
                )),
            },
            Some(Token::Word(w))
                if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") =>
            {
                Ok(Literal::Bool(w.eq_ignore_ascii_case("true")))
            }
            Some(Token::Macro(name)) => {
                let sign = match self.peek() {
                    Some(Token::Plus) => 1,
                    Some(Token::Minus) => -1,
                    _ => return Ok(Literal::Macro { name, offset: 0 }),
                };
                self.pos += 1;
                match self.next() {
                    Some(Token::Number(n)) if n.fract() == 0.0 => Ok(Literal::Macro {
                        name,
                        offset: sign * n as i64,
                    }),
                    other => Err(WiqlError::syntax(
                        "a whole number",
                        &other.map(|t| t.text()).unwrap_or_default(),
                    )),
                }
            }
            other => Err(WiqlError::syntax(
                "a value",
                &other
                    .map(|t| t.text())
                    .unwrap_or_else(|| "end of query".into()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: &str, op: Op, value: Literal) -> Expr {
        Expr::Compare {
            field: field.into(),
            op,
            value: Operand::Literal(value),
        }
    }

    #[test]
    fn parses_the_microsoft_sample_query() {
        let q = parse("Select [System.Id], [System.Title], [System.State] From WorkItems Where [System.WorkItemType] = 'Task' AND [State] <> 'Closed' AND [State] <> 'Removed' order by [Microsoft.VSTS.Common.Priority] asc, [System.CreatedDate] desc").unwrap();
        assert_eq!(q.columns, ["System.Id", "System.Title", "System.State"]);
        assert_eq!(q.source, "WorkItems");
        assert_eq!(
            q.order,
            [
                ("Microsoft.VSTS.Common.Priority".to_string(), false),
                ("System.CreatedDate".to_string(), true)
            ]
        );
        let expected = Expr::And(
            Box::new(Expr::And(
                Box::new(cmp(
                    "System.WorkItemType",
                    Op::Eq,
                    Literal::Text("Task".into()),
                )),
                Box::new(cmp("State", Op::Ne, Literal::Text("Closed".into()))),
            )),
            Box::new(cmp("State", Op::Ne, Literal::Text("Removed".into()))),
        );
        assert_eq!(q.condition, Some(expected));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_override() {
        let q = parse("SELECT [System.Id] FROM WorkItems WHERE [A] = 1 OR [B] = 2 AND [C] = 3")
            .unwrap();
        assert!(matches!(q.condition, Some(Expr::Or(_, ref r)) if matches!(**r, Expr::And(_, _))));
        let q = parse("SELECT [System.Id] FROM WorkItems WHERE ([A] = 1 OR [B] = 2) AND [C] = 3")
            .unwrap();
        assert!(matches!(q.condition, Some(Expr::And(ref l, _)) if matches!(**l, Expr::Or(_, _))));
    }

    #[test]
    fn reads_operators_lists_and_macros() {
        let q = parse("select [System.Id] from workitems where [System.Tags] not contains 'x' and [System.State] not in ('Done', \"Removed\") and [System.ChangedDate] >= @today - 7 and [System.AssignedTo] = @Me and [System.AreaPath] under 'P\\A' and [Microsoft.VSTS.Common.Priority] <= -1").unwrap();
        let text = format!("{:?}", q.condition.unwrap());
        for needle in [
            "NotContains",
            "NotIn",
            "Macro { name: \"today\", offset: -7 }",
            "Macro { name: \"me\", offset: 0 }",
            "Under",
            "Number(-1.0)",
            "Le",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
    }

    #[test]
    fn doubled_quotes_stand_for_a_quote() {
        let q =
            parse("SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'O''Brien'").unwrap();
        assert_eq!(
            q.condition,
            Some(cmp("System.Title", Op::Eq, Literal::Text("O'Brien".into())))
        );
    }

    #[test]
    fn malformed_queries_answer_expecting_text_with_no_code() {
        for bad in [
            "",
            "SELECT FROM WorkItems",
            "SELECT [System.Id] WorkItems",
            "SELECT [System.Id] FROM WorkItems WHERE [System.State] = ",
            "SELECT [System.Id] FROM WorkItems WHERE ([System.State] = 'New'",
            "SELECT [System.Id] FROM WorkItems WHERE [System.State] 'New'",
            "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'unterminated",
            "SELECT [System.Id] FROM WorkItems ORDER [System.Id]",
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN 1, 2",
            "SELECT [System.Id] FROM WorkItems extra",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                err.message.starts_with("Expecting ")
                    && err.message.contains(". The error is caused by «"),
                "{bad}: {}",
                err.message
            );
        }
    }
}
