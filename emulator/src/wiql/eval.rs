//! Evaluates a parsed query over work items: field names resolve to the
//! organization's fields (reference or display name), values compare by
//! the field's type, text without case. Dates compare by day unless
//! `timePrecision=true` [unverified: README's reading of the spec flag].

use std::cmp::Ordering;

use serde_json::Value;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::ast::{Expr, Literal, Op, Operand, Query};
use super::error::WiqlError;
use crate::identities::display;
use crate::model::{Identity, StoredItem};
use crate::process::FieldDef;
use crate::variants::TagMatch;

/// What a query runs against besides the items.
#[derive(Debug)]
pub struct Context<'a> {
    /// Every field of the organization.
    pub fields: &'a [FieldDef],
    /// The project of the route, for `@project`.
    pub project: Option<&'a str>,
    /// The caller, for `@me`.
    pub me: &'a Identity,
    pub today: Date,
    pub time_precision: bool,
    /// How CONTAINS matches tags (`variants::TagMatch`).
    pub tags: crate::variants::TagMatch,
}

/// A value of a field or a literal, typed for comparison.
#[derive(Debug, Clone)]
enum V {
    Null,
    Num(f64),
    Text(String),
    Date(OffsetDateTime),
    Bool(bool),
    /// The names an identity answers to.
    Who(Vec<String>),
}

impl<'a> Context<'a> {
    /// The field a query name means.
    pub fn field(&self, name: &str) -> Result<&'a FieldDef, WiqlError> {
        self.fields
            .iter()
            .find(|f| f.reference_name.eq_ignore_ascii_case(name))
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|f| f.name.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| WiqlError::unknown_field(name))
    }

    /// Checks every field of the query exists before anything runs.
    pub fn check(&self, q: &Query) -> Result<(), WiqlError> {
        if !q.source.eq_ignore_ascii_case("WorkItems") {
            // [unverified] link queries are not emulated.
            return Err(WiqlError::other(format!(
                "TF51006: The query statement is not valid. Only FROM WorkItems is supported, not {}.",
                q.source
            )));
        }
        for name in q.columns.iter().chain(q.order.iter().map(|(f, _)| f)) {
            self.field(name)?;
        }
        match &q.condition {
            Some(e) => self.check_expr(e),
            None => Ok(()),
        }
    }

    fn check_expr(&self, e: &Expr) -> Result<(), WiqlError> {
        match e {
            Expr::And(a, b) | Expr::Or(a, b) => self.check_expr(a).and(self.check_expr(b)),
            Expr::Not(a) => self.check_expr(a),
            Expr::Compare { field, value, .. } => {
                let def = self.field(field)?;
                match value {
                    Operand::Field(other) => self.field(other).map(|_| ()),
                    Operand::Literal(l) => self.literal(def, l).map(|_| ()),
                    Operand::List(list) => list
                        .iter()
                        .try_for_each(|l| self.literal(def, l).map(|_| ())),
                }
            }
        }
    }

    fn literal(&self, def: &FieldDef, l: &Literal) -> Result<V, WiqlError> {
        Ok(match l {
            Literal::Macro { name, offset } => match name.as_str() {
                "today" => V::Date(
                    PrimitiveDateTime::new(self.today + Duration::days(*offset), Time::MIDNIGHT)
                        .assume_utc(),
                ),
                "me" => V::Who(names(self.me)),
                // [unverified] code and text when @project has no project.
                "project" => V::Text(
                    self.project
                        .ok_or_else(|| {
                            WiqlError::other(
                                "TF51011: The @project macro needs a project in the request URL.",
                            )
                        })?
                        .to_string(),
                ),
                other => {
                    return Err(WiqlError::other(format!(
                        "TF51011: The macro @{other} is not supported."
                    )));
                }
            },
            Literal::Number(n) => V::Num(*n),
            Literal::Bool(b) => V::Bool(*b),
            Literal::Text(t) if def.kind == "dateTime" => {
                V::Date(parse_date(t).ok_or_else(|| {
                    WiqlError::other(format!(
                        "TF51018: The value '{t}' for field {} is not a date.",
                        def.name
                    ))
                })?)
            }
            Literal::Text(t) if matches!(def.kind.as_str(), "integer" | "double") => {
                V::Num(t.trim().parse().map_err(|_| {
                    WiqlError::other(format!(
                        "TF51018: The value '{t}' for field {} is not a number.",
                        def.name
                    ))
                })?)
            }
            Literal::Text(t) => V::Text(t.clone()),
        })
    }

    fn value(&self, item: &StoredItem, def: &FieldDef) -> V {
        if def.reference_name == "System.Id" {
            return V::Num(f64::from(item.id));
        }
        let Some(raw) = item.fields.get(&def.reference_name) else {
            return V::Null;
        };
        match raw {
            Value::Null => V::Null,
            Value::Number(n) => V::Num(n.as_f64().unwrap_or_default()),
            Value::Bool(b) => V::Bool(*b),
            Value::Object(o) => V::Who(
                [o.get("displayName"), o.get("uniqueName")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .chain(
                        match (
                            o.get("displayName").and_then(Value::as_str),
                            o.get("uniqueName").and_then(Value::as_str),
                        ) {
                            (Some(d), Some(u)) => Some(format!("{d} <{u}>")),
                            _ => None,
                        },
                    )
                    .collect(),
            ),
            Value::String(s) if def.kind == "dateTime" => {
                parse_date(s).map(V::Date).unwrap_or(V::Text(s.clone()))
            }
            Value::String(s) if def.is_identity => V::Who(vec![s.clone()]),
            Value::String(s) => V::Text(s.clone()),
            other => V::Text(other.to_string()),
        }
    }

    /// Whether an item matches a (checked) condition.
    pub fn matches(&self, item: &StoredItem, e: &Expr) -> Result<bool, WiqlError> {
        Ok(match e {
            Expr::And(a, b) => self.matches(item, a)? && self.matches(item, b)?,
            Expr::Or(a, b) => self.matches(item, a)? || self.matches(item, b)?,
            Expr::Not(a) => !self.matches(item, a)?,
            Expr::Compare { field, op, value } => {
                let def = self.field(field)?;
                let left = self.value(item, def);
                let rights = match value {
                    Operand::Literal(l) => vec![self.literal(def, l)?],
                    Operand::List(list) => list
                        .iter()
                        .map(|l| self.literal(def, l))
                        .collect::<Result<_, _>>()?,
                    Operand::Field(other) => vec![self.value(item, self.field(other)?)],
                };
                let tags = def.reference_name == "System.Tags";
                let any = |f: &dyn Fn(&V) -> bool| rights.iter().any(f);
                match op {
                    Op::Eq | Op::In | Op::Ever => any(&|r| self.equal(&left, r)),
                    Op::Ne | Op::NotIn | Op::NotEver => !any(&|r| self.equal(&left, r)),
                    Op::Gt => any(&|r| self.order(&left, r) == Some(Ordering::Greater)),
                    Op::Lt => any(&|r| self.order(&left, r) == Some(Ordering::Less)),
                    Op::Ge => any(&|r| {
                        matches!(
                            self.order(&left, r),
                            Some(Ordering::Greater | Ordering::Equal)
                        )
                    }),
                    Op::Le => any(&|r| {
                        matches!(self.order(&left, r), Some(Ordering::Less | Ordering::Equal))
                    }),
                    Op::Contains => any(&|r| contains(&left, r, tags, false, self.tags)),
                    Op::NotContains => !any(&|r| contains(&left, r, tags, false, self.tags)),
                    Op::ContainsWords => any(&|r| contains(&left, r, tags, true, self.tags)),
                    Op::NotContainsWords => !any(&|r| contains(&left, r, tags, true, self.tags)),
                    Op::Under => any(&|r| under(&left, r)),
                    Op::NotUnder => !any(&|r| under(&left, r)),
                }
            }
        })
    }

    fn equal(&self, a: &V, b: &V) -> bool {
        match (a, b) {
            (V::Who(names), V::Text(t)) | (V::Text(t), V::Who(names)) => {
                names.iter().any(|n| n.eq_ignore_ascii_case(t.trim()))
            }
            (V::Who(x), V::Who(y)) => x
                .iter()
                .any(|n| y.iter().any(|m| m.eq_ignore_ascii_case(n))),
            (V::Null, V::Text(t)) | (V::Text(t), V::Null) => t.is_empty(),
            _ => self.order(a, b) == Some(Ordering::Equal),
        }
    }

    /// Typed order; `None` when the values do not compare.
    fn order(&self, a: &V, b: &V) -> Option<Ordering> {
        match (a, b) {
            (V::Num(x), V::Num(y)) => x.partial_cmp(y),
            (V::Date(x), V::Date(y)) if self.time_precision => Some(x.cmp(y)),
            (V::Date(x), V::Date(y)) => Some(x.date().cmp(&y.date())),
            (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
            (V::Text(x), V::Text(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
            (V::Who(x), V::Text(y)) => x.first().map(|n| n.to_lowercase().cmp(&y.to_lowercase())),
            _ => None,
        }
    }

    /// Sorts by the `ORDER BY` keys; empty values first when ascending.
    pub fn sort(
        &self,
        items: &mut [StoredItem],
        order: &[(String, bool)],
    ) -> Result<(), WiqlError> {
        let keys: Vec<(&FieldDef, bool)> = order
            .iter()
            .map(|(f, d)| self.field(f).map(|def| (def, *d)))
            .collect::<Result<_, _>>()?;
        let ctx = Context {
            time_precision: true,
            ..*self
        };
        items.sort_by(|x, y| {
            for (def, desc) in &keys {
                let (a, b) = (ctx.value(x, def), ctx.value(y, def));
                let o = match (&a, &b) {
                    (V::Null, V::Null) => Ordering::Equal,
                    (V::Null, _) => Ordering::Less,
                    (_, V::Null) => Ordering::Greater,
                    (V::Who(p), V::Who(q)) => p.first().cmp(&q.first()),
                    _ => ctx.order(&a, &b).unwrap_or(Ordering::Equal),
                };
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        Ok(())
    }
}

fn names(i: &Identity) -> Vec<String> {
    vec![i.display_name.clone(), i.unique_name.clone(), display(i)]
}

fn contains(left: &V, right: &V, tags: bool, words: bool, how: TagMatch) -> bool {
    let (V::Text(text), V::Text(needle)) = (left, right) else {
        return matches!((left, right), (V::Null, V::Text(n)) if n.is_empty());
    };
    let (text, needle) = (text.to_lowercase(), needle.to_lowercase());
    if tags {
        // [unverified] whole tag or part of one: a setting (`variants`).
        return text.split(';').any(|t| match how {
            TagMatch::WholeTag => t.trim() == needle.trim(),
            TagMatch::Substring => t.contains(needle.trim()),
        });
    }
    if !words {
        return text.contains(&needle);
    }
    text.match_indices(&needle).any(|(i, m)| {
        let before = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + m.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

fn under(left: &V, right: &V) -> bool {
    let (V::Text(path), V::Text(root)) = (left, right) else {
        return false;
    };
    let (path, root) = (path.to_lowercase(), root.to_lowercase());
    path == root || path.starts_with(&format!("{root}\\"))
}

/// ISO 8601 dates as WIQL accepts them: full timestamps or plain days.
fn parse_date(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.to_offset(UtcOffset::UTC));
    }
    let day = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(s.get(..10)?, &day) {
        return Some(PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc());
    }
    None
}
