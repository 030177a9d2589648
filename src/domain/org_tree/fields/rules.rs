//! The rules of a department's fields: how each kind of value is checked, read from the wire,
//! shown, and what a new department holds when it is not given. The field list
//! (`entity::with_department_fields!`) names one rule per field.

use serde_json::Value;

use crate::{
    domain::validate,
    error::{AppError, AppResult},
};

/// The shape of a field's value, for formats that only hold text (CSV cells, SCIM strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Boolean,
    /// A JSON object (CSV and SCIM carry it as JSON text).
    Object,
}

/// A value as the wire carries it: read from JSON (a request, a file row; files give text for
/// everything) and shown as JSON.
pub trait WireValue: Sized + Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    const KIND: Kind;

    /// `Ok(None)` when the JSON leaves the value as it is: null, as the SDKs send every
    /// parameter they declare, set or not. An empty text (or `{}`, see the rules) clears.
    fn read(field: &str, value: &Value) -> AppResult<Option<Self>>;

    fn show(&self) -> Value;
}

fn scalar_text(field: &str, value: &Value) -> AppResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(_) | Value::Bool(_) => Ok(Some(value.to_string())),
        _ => Err(AppError::invalid(field, format!("{field} must be a string"))),
    }
}

impl WireValue for String {
    const KIND: Kind = Kind::Text;

    fn read(field: &str, value: &Value) -> AppResult<Option<Self>> {
        scalar_text(field, value)
    }

    fn show(&self) -> Value {
        Value::from(self.as_str())
    }
}

impl WireValue for Option<String> {
    const KIND: Kind = Kind::Text;

    fn read(field: &str, value: &Value) -> AppResult<Option<Self>> {
        Ok(scalar_text(field, value)?.map(Some))
    }

    fn show(&self) -> Value {
        self.as_deref().map_or(Value::Null, Value::from)
    }
}

impl WireValue for Option<i64> {
    const KIND: Kind = Kind::Integer;

    fn read(field: &str, value: &Value) -> AppResult<Option<Self>> {
        let wrong = || AppError::invalid(field, format!("{field} must be an integer"));
        match value {
            Value::Null => Ok(None),
            Value::Number(n) => n.as_i64().map(|n| Some(Some(n))).ok_or_else(wrong),
            Value::String(s) if s.trim().is_empty() => Ok(Some(None)),
            Value::String(s) => s.trim().parse().map(|n| Some(Some(n))).map_err(|_| wrong()),
            _ => Err(wrong()),
        }
    }

    fn show(&self) -> Value {
        self.map_or(Value::Null, Value::from)
    }
}

impl WireValue for bool {
    const KIND: Kind = Kind::Boolean;

    fn read(field: &str, value: &Value) -> AppResult<Option<Self>> {
        match value {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            // Query strings and CSV cells; Python's `requests` sends `True`.
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(AppError::invalid(field, format!("{field} must be true or false, got {s:?}"))),
            },
            Value::Number(n) if n.as_i64() == Some(1) => Ok(Some(true)),
            Value::Number(n) if n.as_i64() == Some(0) => Ok(Some(false)),
            other => Err(AppError::invalid(field, format!("{field} must be true or false, got {other}"))),
        }
    }

    fn show(&self) -> Value {
        Value::Bool(*self)
    }
}

impl WireValue for Option<Value> {
    const KIND: Kind = Kind::Object;

    fn read(field: &str, value: &Value) -> AppResult<Option<Self>> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(Some(None)),
            // JSON text: CSV cells, SCIM strings, clients that send the object encoded.
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(v) => Ok(Some(Some(v))),
                Err(e) => Err(AppError::invalid(field, format!("{field} is not valid JSON: {e}"))),
            },
            other => Ok(Some(Some(other.clone()))),
        }
    }

    fn show(&self) -> Value {
        self.clone().unwrap_or(Value::Null)
    }
}

/// How one field's values are checked and shown.
pub trait Rule {
    type Value: WireValue;

    /// Normalise and check a value a client gives (trimmed; an empty text clears).
    fn check(field: &str, value: Self::Value) -> AppResult<Self::Value>;

    /// A new department's value when it is not given; `None`: the field is required.
    fn initial() -> Option<Self::Value>;

    fn read(field: &str, value: &Value) -> AppResult<Option<Self::Value>> {
        Self::Value::read(field, value)
    }

    fn show(value: &Self::Value) -> Value {
        value.show()
    }
}

/// Optional values start empty.
macro_rules! optional {
    () => {
        fn initial() -> Option<Self::Value> {
            Some(None)
        }
    };
}

/// A department's name: 1 to 255 characters.
pub struct Name;

impl Rule for Name {
    type Value = String;

    fn check(field: &str, value: String) -> AppResult<String> {
        validate::required_text(field, &value, validate::MAX_TEXT)
    }

    fn initial() -> Option<String> {
        None
    }
}

/// An optional text of up to `MAX` characters.
pub struct BoundedText<const MAX: usize>;

/// An optional text of up to 255 characters.
pub type Text = BoundedText<{ validate::MAX_TEXT }>;
/// An optional text of up to 8,192 characters.
pub type LongText = BoundedText<{ validate::MAX_LONG_TEXT }>;

impl<const MAX: usize> Rule for BoundedText<MAX> {
    type Value = Option<String>;
    optional!();

    fn check(field: &str, value: Option<String>) -> AppResult<Option<String>> {
        Ok(value.map(|v| validate::optional_text(field, &v, MAX)).transpose()?.flatten())
    }
}

/// Texts per language kept as JSON text (`{"en-US": "..."}`), as Authing's v2 API has them.
pub struct I18nText;

impl Rule for I18nText {
    type Value = Option<String>;
    optional!();

    fn check(field: &str, value: Option<String>) -> AppResult<Option<String>> {
        let Some(value) = value else { return Ok(None) };
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() > validate::MAX_LONG_TEXT {
            return Err(AppError::invalid(field, format!("{field} is too long")));
        }
        match serde_json::from_str::<Value>(value) {
            Ok(Value::Object(_)) => Ok(Some(value.to_string())),
            _ => Err(AppError::invalid(field, format!("{field} must be a JSON object such as {{\"en-US\": \"...\"}}"))),
        }
    }

    /// Exports of Authing's console give the object itself.
    fn read(field: &str, value: &Value) -> AppResult<Option<Option<String>>> {
        match value {
            Value::Object(_) => Ok(Some(Some(value.to_string()))),
            other => Option::<String>::read(field, other),
        }
    }
}

/// A code: 1 to 64 ASCII letters, digits, `_`, `-` or `.` (unique within the org: the
/// service checks that).
pub struct Code;

impl Rule for Code {
    type Value = Option<String>;
    optional!();

    fn check(field: &str, value: Option<String>) -> AppResult<Option<String>> {
        let Some(code) = value else { return Ok(None) };
        let code = code.trim();
        if code.is_empty() {
            return Ok(None);
        }
        if code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
            return Err(AppError::invalid(field, format!("{field} must be 1 to 64 ASCII letters, digits, '_', '-' or '.'")));
        }
        Ok(Some(code.to_string()))
    }
}

/// The caller's own id of a department: 1 to 128 characters, no control characters.
pub struct OpenId;

impl Rule for OpenId {
    type Value = Option<String>;
    optional!();

    fn check(field: &str, value: Option<String>) -> AppResult<Option<String>> {
        let Some(value) = value else { return Ok(None) };
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if value.chars().count() > 128 || value.chars().any(char::is_control) {
            return Err(AppError::invalid(field, format!("{field} must have 1 to 128 characters and no control characters")));
        }
        Ok(Some(value.to_string()))
    }
}

/// Position among siblings, in [0, 2^32) as Authing has it; larger sorts first.
pub struct Order;

impl Rule for Order {
    type Value = Option<i64>;
    optional!();

    fn check(field: &str, value: Option<i64>) -> AppResult<Option<i64>> {
        match value {
            Some(o) if !(0..(1i64 << 32)).contains(&o) => Err(AppError::invalid(field, format!("{field} must be between 0 and 4294967295"))),
            other => Ok(other),
        }
    }
}

/// A JSON object of bounded size; null or `{}` clears it.
pub struct JsonObject;

impl Rule for JsonObject {
    type Value = Option<Value>;
    optional!();

    fn check(field: &str, value: Option<Value>) -> AppResult<Option<Value>> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) if m.is_empty() => Ok(None),
            Some(v @ Value::Object(_)) if v.to_string().len() > validate::MAX_LONG_TEXT => {
                Err(AppError::invalid(field, format!("{field} must be at most {} characters of JSON", validate::MAX_LONG_TEXT)))
            }
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(_) => Err(AppError::invalid(field, format!("{field} must be a JSON object"))),
        }
    }
}

/// Extended fields: a JSON object as [`JsonObject`], shown as `{}` when there are none, so
/// that clients read keys without a null check.
pub struct CustomData;

impl Rule for CustomData {
    type Value = Option<Value>;
    optional!();

    fn check(field: &str, value: Option<Value>) -> AppResult<Option<Value>> {
        JsonObject::check(field, value)
    }

    fn show(value: &Option<Value>) -> Value {
        value.clone().unwrap_or_else(|| Value::Object(Default::default()))
    }
}

/// A flag, `INITIAL` on a new department.
pub struct Switch<const INITIAL: bool>;

/// A flag that is off unless set.
pub type Flag = Switch<false>;
/// A flag that is on unless cleared (a new department is enabled).
pub type Enabled = Switch<true>;

impl<const INITIAL: bool> Rule for Switch<INITIAL> {
    type Value = bool;

    fn check(_: &str, value: bool) -> AppResult<bool> {
        Ok(value)
    }

    fn initial() -> Option<bool> {
        Some(INITIAL)
    }
}
