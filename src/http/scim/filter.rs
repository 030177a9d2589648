//! SCIM filters (RFC 7644, 3.4.2.2) and PATCH paths (3.5.2), parsed into a small tree whose
//! attribute paths are still text: `mapping.rs` resolves them. The parser is bounded: at most
//! [`MAX_FILTER_BYTES`] of text, [`MAX_DEPTH`] levels of parentheses, `not` and `[...]`, and
//! [`MAX_LEAVES`] comparisons, so no filter costs more than a few microseconds to parse or a
//! large statement to run.

use crate::domain::scim::query::{CompareOp, Literal};

pub const MAX_FILTER_BYTES: usize = 4096;
pub const MAX_DEPTH: usize = 16;
pub const MAX_LEAVES: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(String, CompareOp, Literal),
    Present(String),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`, whose paths are
    /// `attr`'s sub-attributes.
    Values(String, Box<Expr>),
}

/// A PATCH path: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`, `attr` possibly
/// URN-qualified.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: String,
    pub filter: Option<Expr>,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Str(String),
    Word(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => { out.push(Token::Open); i += 1; }
            b')' => { out.push(Token::Close); i += 1; }
            b'[' => { out.push(Token::OpenBracket); i += 1; }
            b']' => { out.push(Token::CloseBracket); i += 1; }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("unterminated string".into()),
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                let s: String = serde_json::from_str(&text[start..i]).map_err(|_| "bad escape in a string".to_string())?;
                out.push(Token::Str(s));
            }
            _ => {
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'[' | b']' | b'"') {
                    i += 1;
                }
                out.push(Token::Word(text[start..i].to_string()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    leaves: usize,
}

fn op(word: &str) -> Option<CompareOp> {
    Some(match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    })
}

/// An attribute path: letters, digits, `$`, `-`, `_`, `.` and `:` (URNs), starting with a letter.
fn is_path(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "$-_.:".contains(c))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("the filter nests deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.at += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            self.at += 1;
            if self.next() != Some(Token::Open) {
                return Err("`not` must be followed by a parenthesised filter".into());
            }
            return Ok(Expr::Not(Box::new(self.group()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            return self.group();
        }
        self.attribute()
    }

    /// The rest of `( filter )`, after the opening parenthesis.
    fn group(&mut self) -> Result<Expr, String> {
        self.enter()?;
        let inner = self.or()?;
        if self.next() != Some(Token::Close) {
            return Err("a parenthesis is not closed".into());
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn attribute(&mut self) -> Result<Expr, String> {
        let path = match self.next() {
            Some(Token::Word(w)) if is_path(&w) => w,
            Some(Token::Word(w)) => return Err(format!("{w:?} is not an attribute path")),
            Some(_) | None => return Err("an attribute path was expected".into()),
        };
        if self.peek() == Some(&Token::OpenBracket) {
            self.at += 1;
            self.enter()?;
            let inner = self.or()?;
            if self.next() != Some(Token::CloseBracket) {
                return Err("a `[` is not closed".into());
            }
            self.depth -= 1;
            let values = Expr::Values(path.clone(), Box::new(inner));
            // Entra ID writes `emails[type eq "work"].value eq "x"`: a comparison on a
            // sub-attribute of the values the brackets select.
            if let Some(Token::Word(w)) = self.peek()
                && let Some(sub) = w.strip_prefix('.')
            {
                let sub = sub.to_string();
                self.at += 1;
                let cmp = self.comparison(sub)?;
                return Ok(Expr::Values(path, Box::new(Expr::And(Box::new(values_inner(values)), Box::new(cmp)))));
            }
            return Ok(values);
        }
        self.comparison(path)
    }

    fn comparison(&mut self, path: String) -> Result<Expr, String> {
        self.leaves += 1;
        if self.leaves > MAX_LEAVES {
            return Err(format!("the filter has more than {MAX_LEAVES} comparisons"));
        }
        let word = match self.next() {
            Some(Token::Word(w)) => w,
            _ => return Err(format!("an operator was expected after {path:?}")),
        };
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Expr::Present(path));
        }
        let op = op(&word).ok_or_else(|| format!("{word:?} is not a comparison operator"))?;
        let value = match self.next() {
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => Literal::Num(serde_json::from_str::<serde_json::Number>(&w).map_err(|_| format!("{w:?} is not a value (strings are quoted)"))?),
            },
            _ => return Err(format!("a value was expected after {path:?} {word}")),
        };
        Ok(Expr::Compare(path, op, value))
    }
}

fn values_inner(e: Expr) -> Expr {
    match e {
        Expr::Values(_, inner) => *inner,
        other => other,
    }
}

fn check_size(text: &str) -> Result<(), String> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(format!("the filter is longer than {MAX_FILTER_BYTES} bytes"));
    }
    if text.trim().is_empty() {
        return Err("the filter is empty".into());
    }
    Ok(())
}

/// Parse a `filter` parameter.
pub fn parse(text: &str) -> Result<Expr, String> {
    check_size(text)?;
    let mut p = Parser { tokens: tokens(text)?, at: 0, depth: 0, leaves: 0 };
    let expr = p.or()?;
    if p.at < p.tokens.len() {
        return Err("unexpected text after the end of the filter".into());
    }
    Ok(expr)
}

/// Parse a PATCH `path`.
pub fn parse_path(text: &str) -> Result<PatchPath, String> {
    check_size(text)?;
    let mut p = Parser { tokens: tokens(text)?, at: 0, depth: 0, leaves: 0 };
    let attr = match p.next() {
        Some(Token::Word(w)) if is_path(&w) => w,
        _ => return Err(format!("{text:?} is not an attribute path")),
    };
    let mut path = PatchPath { attr, filter: None, sub: None };
    if p.peek() == Some(&Token::OpenBracket) {
        p.at += 1;
        p.enter()?;
        path.filter = Some(p.or()?);
        if p.next() != Some(Token::CloseBracket) {
            return Err("a `[` is not closed".into());
        }
        match p.next() {
            None => {}
            Some(Token::Word(w)) if w.len() > 1 && w.starts_with('.') && is_path(&w[1..]) => path.sub = Some(w[1..].to_string()),
            Some(_) => return Err(format!("{text:?} is not an attribute path")),
        }
    }
    if p.at < p.tokens.len() {
        return Err(format!("{text:?} is not an attribute path"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Literal {
        Literal::Str(v.into())
    }

    #[test]
    fn precedence_and_grouping() {
        let e = parse(r#"userName eq "a" or name.givenName sw "B" and not (active eq false)"#).unwrap();
        assert_eq!(e, Expr::Or(
            Box::new(Expr::Compare("userName".into(), CompareOp::Eq, s("a"))),
            Box::new(Expr::And(
                Box::new(Expr::Compare("name.givenName".into(), CompareOp::Sw, s("B"))),
                Box::new(Expr::Not(Box::new(Expr::Compare("active".into(), CompareOp::Eq, Literal::Bool(false))))),
            )),
        ));
    }

    #[test]
    fn value_paths_and_entra_suffix() {
        let e = parse(r#"emails[type eq "work" and value co "@x.io"]"#).unwrap();
        assert!(matches!(e, Expr::Values(ref a, _) if a == "emails"));
        let e = parse(r#"emails[type eq "work"].value eq "a@x.io""#).unwrap();
        assert_eq!(e, Expr::Values("emails".into(), Box::new(Expr::And(
            Box::new(Expr::Compare("type".into(), CompareOp::Eq, s("work"))),
            Box::new(Expr::Compare("value".into(), CompareOp::Eq, s("a@x.io"))),
        ))));
        let e = parse(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7" and meta.lastModified gt "2026-01-01T00:00:00Z""#).unwrap();
        assert!(matches!(e, Expr::And(..)));
        assert_eq!(parse("title pr").unwrap(), Expr::Present("title".into()));
        assert_eq!(parse(r#"x eq "a \"q\" \u00e9""#).unwrap(), Expr::Compare("x".into(), CompareOp::Eq, s("a \"q\" é")));
    }

    #[test]
    fn bad_filters_are_refused_with_a_reason() {
        for bad in [
            "", "userName", "userName eq", "userName zz \"a\"", "userName eq bob", "(userName eq \"a\"",
            "userName eq \"a\" and", "emails[type eq \"work\"", "userName eq \"a", "not userName eq \"a\"",
            "\"a\" eq userName", "userName eq \"a\" )",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn limits_hold() {
        let deep = format!("{}userName eq \"a\"{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).unwrap_err().contains("deeper"));
        let ok = format!("{}userName eq \"a\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let wide = vec!["title pr"; MAX_LEAVES + 1].join(" or ");
        assert!(parse(&wide).unwrap_err().contains("comparisons"));
        assert!(parse(&format!("title eq \"{}\"", "x".repeat(MAX_FILTER_BYTES))).unwrap_err().contains("longer"));
    }

    #[test]
    fn patch_paths() {
        assert_eq!(parse_path("name.givenName").unwrap(), PatchPath { attr: "name.givenName".into(), filter: None, sub: None });
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr, "emails");
        assert_eq!(p.sub.as_deref(), Some("value"));
        assert!(p.filter.is_some());
        assert!(parse_path(r#"members[value eq "1"]"#).unwrap().sub.is_none());
        for bad in ["", "a b", "emails[type eq \"work\"]x", "1abc", "emails[type eq \"work\"].", "a)"] {
            assert!(parse_path(bad).is_err(), "{bad:?}");
        }
    }
}
