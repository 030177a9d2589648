//! The department's listed fields (`entity::with_department_fields!`) in GraphQL: each rule's
//! types on `Node` and in the arguments of the mutations that set them, and `NodeFields`, the
//! fields themselves, flattened into `Node`.

use std::sync::Arc;

use async_graphql::{InputType, Json, Object, OutputType};
use entity::node;
use serde_json::Value;

use crate::domain::org_tree::fields::rules::{self, Rule};

/// How a rule's values look in GraphQL.
pub trait GraphqlRule: Rule {
    /// The field's type on `Node`.
    type Output: OutputType;
    /// An argument that changes the field (`updateNode`: left out or null keeps it).
    type Input: InputType;
    /// An argument that sets the field of a new department (`addNode`, `createOrg`).
    type NewInput: InputType;

    fn output(value: &Self::Value) -> Self::Output;
    fn input(value: Self::Input) -> Self::Value;
    /// `None`: the department takes the field's initial value.
    fn new_input(value: Self::NewInput) -> Option<Self::Value>;
}

impl GraphqlRule for rules::Name {
    type Output = String;
    type Input = String;
    type NewInput = String;

    fn output(value: &String) -> String {
        value.clone()
    }

    fn input(value: String) -> String {
        value
    }

    fn new_input(value: String) -> Option<String> {
        Some(value)
    }
}

/// Optional texts: an empty text clears them.
macro_rules! optional_text {
    ($($rule:ident),*) => {$(
        impl GraphqlRule for rules::$rule {
            type Output = Option<String>;
            type Input = String;
            type NewInput = Option<String>;

            fn output(value: &Option<String>) -> Option<String> {
                value.clone()
            }

            fn input(value: String) -> Option<String> {
                Some(value)
            }

            fn new_input(value: Option<String>) -> Option<Option<String>> {
                value.map(Some)
            }
        }
    )*};
}
optional_text!(Text, LongText, I18nText, Code, OpenId);

impl GraphqlRule for rules::Order {
    type Output = Option<i64>;
    type Input = i64;
    type NewInput = Option<i64>;

    fn output(value: &Option<i64>) -> Option<i64> {
        *value
    }

    fn input(value: i64) -> Option<i64> {
        Some(value)
    }

    fn new_input(value: Option<i64>) -> Option<Option<i64>> {
        value.map(Some)
    }
}

impl GraphqlRule for rules::JsonObject {
    type Output = Option<Json<Value>>;
    type Input = Json<Value>;
    type NewInput = Option<Json<Value>>;

    fn output(value: &Option<Value>) -> Option<Json<Value>> {
        value.clone().map(Json)
    }

    fn input(value: Json<Value>) -> Option<Value> {
        Some(value.0)
    }

    fn new_input(value: Option<Json<Value>>) -> Option<Option<Value>> {
        value.map(|v| Some(v.0))
    }
}

impl GraphqlRule for rules::CustomData {
    /// `{}` when there are none.
    type Output = Json<Value>;
    type Input = Json<Value>;
    type NewInput = Option<Json<Value>>;

    fn output(value: &Option<Value>) -> Json<Value> {
        Json(Self::show(value))
    }

    fn input(value: Json<Value>) -> Option<Value> {
        Some(value.0)
    }

    fn new_input(value: Option<Json<Value>>) -> Option<Option<Value>> {
        value.map(|v| Some(v.0))
    }
}

macro_rules! flag {
    ($($rule:ident),*) => {$(
        impl GraphqlRule for rules::$rule {
            type Output = bool;
            type Input = bool;
            type NewInput = Option<bool>;

            fn output(value: &bool) -> bool {
                *value
            }

            fn input(value: bool) -> bool {
                value
            }

            fn new_input(value: Option<bool>) -> Option<bool> {
                value
            }
        }
    )*};
}
flag!(Flag, Enabled);

/// The listed fields of a department, flattened into `Node`.
pub struct NodeFields(pub Arc<node::Model>);

macro_rules! node_fields_object {
    ($($(#[doc = $doc:literal])* $field:ident : $ty:ty = $name:literal $v3:literal $rule:ident,)*) => {
        #[Object(name = "NodeFields")]
        impl NodeFields {
            $(
                $(#[doc = $doc])*
                #[graphql(name = $name)]
                async fn $field(&self) -> <rules::$rule as GraphqlRule>::Output {
                    <rules::$rule as GraphqlRule>::output(&self.0.$field)
                }
            )*
        }
    };
}
entity::with_department_fields!(node_fields_object);
