//! The parameters of a v3 call, read the same way whether they came in the query string (GET) or
//! a JSON body (POST). The SDKs differ in how they encode them: Python's `requests` sends booleans
//! as `True`/`False` and arrays as repeated keys, Node's axios sends `true`/`false` and arrays as
//! `key[]=`; a JSON body has real types. Every accessor accepts each form.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    pub fn from_json(body: Map<String, Value>) -> Self {
        Params(body)
    }

    /// Query pairs as values: `k=v` a string, a repeated `k` or any `k[]` an array of strings.
    pub fn from_query(pairs: &[(String, String)]) -> Self {
        let mut map = Map::new();
        for (key, value) in pairs {
            let (name, bracketed) = match key.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (key.as_str(), false),
            };
            let value = Value::String(value.clone());
            match map.get_mut(name) {
                Some(Value::Array(items)) => items.push(value),
                Some(single) => *single = Value::Array(vec![single.take(), value]),
                None if bracketed => {
                    map.insert(name.to_string(), Value::Array(vec![value]));
                }
                None => {
                    map.insert(name.to_string(), value);
                }
            }
        }
        Params(map)
    }

    /// The raw value, unless absent or `null`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// A text parameter, as given (numbers and booleans as their text).
    pub fn text(&self, name: &str) -> AppResult<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(_) => Err(AppError::invalid(name, format!("{name} must be a string"))),
        }
    }

    /// A text parameter that must be there and not blank.
    pub fn required(&self, name: &str) -> AppResult<String> {
        match self.text(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(AppError::invalid(name, format!("{name} is required"))),
        }
    }

    /// A text parameter where blank means absent.
    pub fn optional(&self, name: &str) -> AppResult<Option<String>> {
        Ok(self.text(name)?.filter(|s| !s.trim().is_empty()))
    }

    /// A boolean: JSON `true`/`false`, or the text `true`/`false` in any case, or `1`/`0`.
    pub fn bool(&self, name: &str) -> AppResult<Option<bool>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(AppError::invalid(name, format!("{name} must be true or false, got {s:?}"))),
            },
            Some(_) => Err(AppError::invalid(name, format!("{name} must be true or false"))),
        }
    }

    pub fn flag(&self, name: &str) -> AppResult<bool> {
        Ok(self.bool(name)?.unwrap_or(false))
    }

    /// An integer: a JSON number or its text.
    pub fn int(&self, name: &str) -> AppResult<Option<i64>> {
        let bad = || AppError::invalid(name, format!("{name} must be an integer"));
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }

    /// A list of texts: a JSON array, repeated or bracketed query keys, or one text (split at
    /// commas, as some clients join lists).
    pub fn list(&self, name: &str) -> AppResult<Option<Vec<String>>> {
        let bad = || AppError::invalid(name, format!("{name} must be a list of strings"));
        match self.value(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(bad()),
                })
                .collect::<AppResult<Vec<_>>>()
                .map(Some),
            Some(Value::String(s)) => Ok(Some(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())),
            Some(_) => Err(bad()),
        }
    }

    /// A list that must be there and not empty.
    pub fn required_list(&self, name: &str) -> AppResult<Vec<String>> {
        match self.list(name)? {
            Some(list) if !list.is_empty() => Ok(list),
            _ => Err(AppError::invalid(name, format!("{name} is required (a non-empty list)"))),
        }
    }

    /// A structured parameter, read with serde; the error names the parameter.
    pub fn parse<T: DeserializeOwned>(&self, name: &str) -> AppResult<Option<T>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| AppError::invalid(name, format!("{name} is malformed: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(s: &str) -> Params {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(s.as_bytes()).into_owned().collect();
        Params::from_query(&pairs)
    }

    #[test]
    fn reads_both_sdks_query_forms() {
        let node = query("organizationCodeList%5B%5D=a&organizationCodeList%5B%5D=b&withCustomData=false&page=2");
        let python = query("organizationCodeList=a&organizationCodeList=b&withCustomData=True&keywords=a+b%26c");
        assert_eq!(node.list("organizationCodeList").unwrap(), Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(python.list("organizationCodeList").unwrap(), node.list("organizationCodeList").unwrap());
        assert_eq!(node.bool("withCustomData").unwrap(), Some(false));
        assert_eq!(python.bool("withCustomData").unwrap(), Some(true));
        assert_eq!(node.int("page").unwrap(), Some(2));
        assert_eq!(python.text("keywords").unwrap().as_deref(), Some("a b&c"));
        assert_eq!(query("ids%5B%5D=one").list("ids").unwrap(), Some(vec!["one".to_string()]));
        assert_eq!(query("ids=a,b").list("ids").unwrap(), Some(vec!["a".to_string(), "b".to_string()]));
        assert!(query("withPost=maybe").bool("withPost").is_err());
        assert!(query("page=x").int("page").is_err());
    }

    #[test]
    fn reads_json_bodies() {
        let Value::Object(body) = json!({ "ids": ["a", 1], "on": true, "n": 3, "name": " ", "obj": {} }) else { unreachable!() };
        let p = Params::from_json(body);
        assert_eq!(p.list("ids").unwrap(), Some(vec!["a".to_string(), "1".to_string()]));
        assert_eq!(p.bool("on").unwrap(), Some(true));
        assert_eq!(p.int("n").unwrap(), Some(3));
        assert!(p.required("name").is_err());
        assert!(p.text("obj").is_err());
        assert!(p.required("missing").is_err());
    }
}
