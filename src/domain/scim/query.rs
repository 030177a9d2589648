//! Filters over users and groups, as SQL: SCIM's `filter` parameter is parsed by the surface
//! (`http::scim::filter`) and its attribute paths mapped to the fields below; here each field
//! knows its column, and the whole filter becomes one `WHERE` clause with bound values, so a
//! lookup such as `userName eq "bob"` reads one row through an index instead of every user.
//!
//! Every leaf compiles to a condition that is never NULL (a missing value is "false"), so `not`
//! and `ne` behave as SCIM says even on absent attributes.

use sea_orm::{DatabaseBackend, Value};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// Whether `a op s` holds for two strings the caller has already case-folded (SCIM compares
    /// strings case-insensitively).
    pub fn holds_for_str(self, a: &str, s: &str) -> bool {
        match self {
            CompareOp::Eq => a == s,
            CompareOp::Ne => a != s,
            CompareOp::Co => a.contains(s),
            CompareOp::Sw => a.starts_with(s),
            CompareOp::Ew => a.ends_with(s),
            CompareOp::Gt => a > s,
            CompareOp::Ge => a >= s,
            CompareOp::Lt => a < s,
            CompareOp::Le => a <= s,
        }
    }
}

/// A literal of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Num(serde_json::Number),
    Null,
}

/// A filter over fields `F`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter<F> {
    And(Box<Filter<F>>, Box<Filter<F>>),
    Or(Box<Filter<F>>, Box<Filter<F>>),
    Not(Box<Filter<F>>),
    Compare(F, CompareOp, Literal),
    Present(F),
    /// Known without looking at any row (e.g. `emails[type eq "work"]`: every stored e-mail is
    /// the work one).
    Const(bool),
}

/// How a field is stored, which decides how it compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text compared case-insensitively (SCIM `caseExact: false`).
    Text,
    /// Text compared exactly (`id`, `externalId`).
    ExactText,
    /// A time; compared as one, given as ISO 8601.
    Time,
    /// The user's `active`: its status is `Activated`.
    Active,
    /// Membership of a user (its id) in the group's node: `eq` only.
    Member,
}

/// A filterable field: its SQL expression (trusted text, never from the request) and kind.
pub trait Field: Copy {
    fn sql(self, backend: DatabaseBackend) -> String;
    fn kind(self) -> Kind;
}

/// The SQL of a filter: a condition using `$first`, `$first+1`, ... and their values.
pub struct Compiled {
    pub sql: String,
    pub values: Vec<Value>,
}

pub fn compile<F: Field>(filter: &Filter<F>, backend: DatabaseBackend, first: usize) -> AppResult<Compiled> {
    let mut c = Compiler { backend, values: Vec::new(), first };
    let sql = c.condition(filter)?;
    Ok(Compiled { sql, values: c.values })
}

struct Compiler {
    backend: DatabaseBackend,
    values: Vec<Value>,
    first: usize,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::invalid("filter", message)
}

/// `%`, `_` and `\` taken literally in a LIKE pattern (with `ESCAPE '\'`).
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl Compiler {
    fn bind(&mut self, v: Value) -> String {
        self.values.push(v);
        format!("${}", self.first + self.values.len() - 1)
    }

    fn condition<F: Field>(&mut self, f: &Filter<F>) -> AppResult<String> {
        Ok(match f {
            Filter::And(a, b) => format!("({} AND {})", self.condition(a)?, self.condition(b)?),
            Filter::Or(a, b) => format!("({} OR {})", self.condition(a)?, self.condition(b)?),
            Filter::Not(a) => format!("(NOT {})", self.condition(a)?),
            Filter::Const(true) => "(1 = 1)".into(),
            Filter::Const(false) => "(1 = 0)".into(),
            Filter::Present(field) => self.present(*field),
            Filter::Compare(field, op, lit) => self.compare(*field, *op, lit)?,
        })
    }

    fn present<F: Field>(&mut self, field: F) -> String {
        let col = field.sql(self.backend);
        match field.kind() {
            Kind::Text | Kind::ExactText => format!("({col} IS NOT NULL AND {col} <> '')"),
            Kind::Time | Kind::Active => format!("({col} IS NOT NULL)"),
            Kind::Member => format!("EXISTS (SELECT 1 FROM membership pm WHERE pm.node_id = {col})"),
        }
    }

    fn compare<F: Field>(&mut self, field: F, op: CompareOp, lit: &Literal) -> AppResult<String> {
        if *lit == Literal::Null {
            // `x eq null` is "x has no value"; `x ne null` is "x has one".
            return match op {
                CompareOp::Eq => Ok(format!("(NOT {})", self.present(field))),
                CompareOp::Ne => Ok(self.present(field)),
                _ => Err(invalid("null can only be compared with eq or ne")),
            };
        }
        if op == CompareOp::Ne {
            let eq = self.compare(field, CompareOp::Eq, lit)?;
            return Ok(format!("(NOT {eq})"));
        }
        let col = field.sql(self.backend);
        match field.kind() {
            Kind::Active => {
                let Literal::Bool(b) = lit else { return Err(invalid("active is compared with true or false")) };
                if op != CompareOp::Eq {
                    return Err(invalid("active can only be compared with eq or ne"));
                }
                Ok(if *b { format!("({col} = 'Activated')") } else { format!("({col} <> 'Activated')") })
            }
            Kind::Member => {
                let Literal::Str(id) = lit else { return Err(invalid("members are compared with a user id")) };
                if op != CompareOp::Eq {
                    return Err(invalid("members.value can only be compared with eq or ne"));
                }
                let p = self.bind(id.clone().into());
                Ok(format!("EXISTS (SELECT 1 FROM membership pm WHERE pm.node_id = {col} AND pm.user_id = {p})"))
            }
            Kind::Time => {
                let Literal::Str(s) = lit else { return Err(invalid("times are compared with an ISO 8601 string")) };
                let t = crate::domain::validate::timestamp("filter", s)?
                    .ok_or_else(|| invalid("times are compared with an ISO 8601 string"))?;
                let sql_op = match op {
                    CompareOp::Eq => "=",
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                    CompareOp::Lt => "<",
                    CompareOp::Le => "<=",
                    _ => return Err(invalid("times compare with eq, ne, gt, ge, lt or le")),
                };
                if self.backend == DatabaseBackend::Sqlite {
                    // SQLite keeps times as text whose layout need not be the bound value's:
                    // compare them as times.
                    let p = self.bind(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).into());
                    return Ok(format!("({col} IS NOT NULL AND julianday({col}) {sql_op} julianday({p}))"));
                }
                let p = self.bind(t.into());
                Ok(format!("({col} IS NOT NULL AND {col} {sql_op} {p})"))
            }
            Kind::Text | Kind::ExactText => {
                let text = match lit {
                    Literal::Str(s) => s.clone(),
                    // An employee number sent as 42 is the text "42".
                    Literal::Num(n) => n.to_string(),
                    Literal::Bool(_) | Literal::Null => return Err(invalid("this attribute is compared with a string")),
                };
                let exact = field.kind() == Kind::ExactText;
                let (lhs, text) = if exact { (col.clone(), text) } else { (format!("LOWER({col})"), text.to_lowercase()) };
                let cond = match op {
                    // (`ne` was rewritten as `not eq` above.)
                    CompareOp::Eq | CompareOp::Ne => {
                        let p = self.bind(text.into());
                        format!("{lhs} = {p}")
                    }
                    CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                        let e = like_escape(&text);
                        let pattern = match op {
                            CompareOp::Co => format!("%{e}%"),
                            CompareOp::Sw => format!("{e}%"),
                            _ => format!("%{e}"),
                        };
                        let p = self.bind(pattern.into());
                        format!("{lhs} LIKE {p} ESCAPE '\\'")
                    }
                    CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                        let sql_op = match op { CompareOp::Gt => ">", CompareOp::Ge => ">=", CompareOp::Lt => "<", _ => "<=" };
                        let p = self.bind(text.into());
                        format!("{lhs} {sql_op} {p}")
                    }
                };
                Ok(format!("({col} IS NOT NULL AND {cond})"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum T {
        Name,
        Id,
        Active,
    }

    impl Field for T {
        fn sql(self, _: DatabaseBackend) -> String {
            match self { T::Name => "u.name".into(), T::Id => "u.id".into(), T::Active => "u.status".into() }
        }
        fn kind(self) -> Kind {
            match self { T::Name => Kind::Text, T::Id => Kind::ExactText, T::Active => Kind::Active }
        }
    }

    #[test]
    fn leaves_are_never_null_and_values_are_bound() {
        let f = Filter::Or(
            Box::new(Filter::Compare(T::Name, CompareOp::Ne, Literal::Str("Bob".into()))),
            Box::new(Filter::And(
                Box::new(Filter::Compare(T::Id, CompareOp::Sw, Literal::Str("a%_".into()))),
                Box::new(Filter::Compare(T::Active, CompareOp::Eq, Literal::Bool(true))),
            )),
        );
        let c = compile(&f, DatabaseBackend::Sqlite, 2).unwrap();
        assert_eq!(
            c.sql,
            "((NOT (u.name IS NOT NULL AND LOWER(u.name) = $2)) OR ((u.id IS NOT NULL AND u.id LIKE $3 ESCAPE '\\') AND (u.status = 'Activated')))"
        );
        assert_eq!(c.values, vec![Value::from("bob".to_string()), Value::from("a\\%\\_%".to_string())]);
    }

    #[test]
    fn type_mismatches_are_refused() {
        let f = Filter::Compare(T::Active, CompareOp::Co, Literal::Bool(true));
        assert!(compile(&f, DatabaseBackend::Postgres, 1).is_err());
        let f = Filter::Compare(T::Name, CompareOp::Eq, Literal::Bool(true));
        assert!(compile(&f, DatabaseBackend::Postgres, 1).is_err());
    }
}
