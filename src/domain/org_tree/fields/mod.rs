//! A department's fields, listed once in `entity::with_department_fields!`. From that list come
//! the table every surface iterates ([`FIELDS`]: each field's names, kind and how it shows) and
//! the [`DepartmentPatch`] every surface fills (GraphQL arguments, v3 parameters, SCIM
//! attributes, file rows) and the service applies with each field's rule ([`rules`]).
//! The columns around them (ids, parent, depth, counts, times) are written out once, in the
//! entity and in `docs::NodeDoc`.

pub mod rules;

use entity::node;
use sea_orm::ActiveValue::Set;
use serde_json::{Map, Value};

use rules::{Kind, Rule, WireValue};

use crate::error::{AppError, AppResult};

/// Which names a surface gives the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// GraphQL, the v2 documents and events, SCIM and the export files.
    Standard,
    /// The GenAuth v3 API.
    V3,
}

/// One field of the list.
pub struct Field {
    /// The `node` column (and entity field).
    pub column: &'static str,
    pub name: &'static str,
    pub v3_name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
    show: fn(&node::Model) -> Value,
}

impl Field {
    pub fn name_in(&self, names: Names) -> &'static str {
        match names {
            Names::Standard => self.name,
            Names::V3 => self.v3_name,
        }
    }

    /// The field's value in `n`, as every JSON surface shows it.
    pub fn show(&self, n: &node::Model) -> Value {
        (self.show)(n)
    }
}

/// The listed fields of `n` as a JSON object, named for `names`, in the list's order.
pub fn to_json(n: &node::Model, names: Names) -> Map<String, Value> {
    FIELDS.iter().map(|f| (f.name_in(names).to_string(), f.show(n))).collect()
}

/// The field named `name` (standard names).
pub fn field(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

macro_rules! department_fields {
    ($($(#[doc = $doc:literal])* $field:ident : $ty:ty = $name:literal $v3:literal $rule:ident,)*) => {
        /// Every listed field, in the list's order.
        pub static FIELDS: &[Field] = &[$(
            Field {
                column: stringify!($field),
                name: $name,
                v3_name: $v3,
                kind: <<rules::$rule as Rule>::Value as WireValue>::KIND,
                doc: concat!($($doc, "\n",)*),
                show: |n: &node::Model| <rules::$rule as Rule>::show(&n.$field),
            },
        )*];

        /// Changes to a department's fields, or the fields of a new one: `None` keeps a value
        /// (a new department takes the field's initial value). Values are checked by the
        /// field's rule when applied (or by [`DepartmentPatch::check`]).
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct DepartmentPatch {
            $( $(#[doc = $doc])* pub $field: Option<$ty>, )*
        }

        impl DepartmentPatch {
            /// A department named `name`, its other fields left to their initial values.
            pub fn named(name: impl Into<String>) -> Self {
                Self { name: Some(name.into()), ..Self::default() }
            }

            /// The fields `value` (given a field's name in `names`) has a value for. JSON null
            /// or an empty text clear an optional field.
            pub fn read<'a>(names: Names, mut value: impl FnMut(&str) -> Option<&'a Value>) -> AppResult<Self> {
                let mut patch = Self::default();
                $(
                    let name = match names { Names::Standard => $name, Names::V3 => $v3 };
                    if let Some(v) = value(name) {
                        patch.$field = <rules::$rule as Rule>::read(name, v)?;
                    }
                )*
                Ok(patch)
            }

            /// Every given value checked and normalised by its rule.
            pub fn check(self) -> AppResult<Self> {
                Ok(Self { $( $field: self.$field.map(|v| <rules::$rule as Rule>::check($name, v)).transpose()?, )* })
            }

            /// Set the given values on `row`, checked.
            pub fn apply(self, row: &mut node::ActiveModel) -> AppResult<()> {
                $(
                    if let Some(v) = self.$field {
                        row.$field = Set(<rules::$rule as Rule>::check($name, v)?);
                    }
                )*
                Ok(())
            }

            /// Set every field of a new department on `row`: the given values, checked, and
            /// the others' initial values; a required field not given is refused.
            pub fn apply_new(self, row: &mut node::ActiveModel) -> AppResult<()> {
                $(
                    let value = match self.$field {
                        Some(v) => <rules::$rule as Rule>::check($name, v)?,
                        None => <rules::$rule as Rule>::initial()
                            .ok_or_else(|| AppError::invalid($name, concat!($name, " is required")))?,
                    };
                    row.$field = Set(value);
                )*
                Ok(())
            }

            /// Every field of `n`, given.
            pub fn of(n: &node::Model) -> Self {
                Self { $( $field: Some(n.$field.clone()), )* }
            }

            /// Only the values that differ from `n`'s (compare checked values).
            pub fn differences(self, n: &node::Model) -> Self {
                Self { $( $field: self.$field.filter(|v| v != &n.$field), )* }
            }

            /// Whether the patch changes nothing.
            pub fn is_empty(&self) -> bool {
                $( self.$field.is_none() && )* true
            }
        }
    };
}
entity::with_department_fields!(department_fields);

#[cfg(test)]
mod tests {
    use sea_orm::{Iterable, IdenStatic};

    use super::rules::Kind;

    use super::*;

    /// Every `node` column is structural (written out in the entity and `NodeDoc`) or a listed
    /// field: a column outside both would be shown by no surface.
    #[test]
    fn every_node_column_is_structural_or_listed() {
        for column in node::Column::iter() {
            let listed = FIELDS.iter().any(|f| f.column == column.as_str());
            let structural = node::STRUCTURAL.iter().any(|s| s.as_str() == column.as_str());
            assert!(listed != structural, "node column {} must be either structural or in the field list, once", column.as_str());
        }
        assert_eq!(node::Column::iter().count(), node::STRUCTURAL.len() + FIELDS.len());
    }

    #[test]
    fn names_are_unique() {
        for names in [Names::Standard, Names::V3] {
            let mut seen = std::collections::HashSet::new();
            for f in FIELDS {
                assert!(seen.insert(f.name_in(names)), "{} appears twice", f.name_in(names));
            }
        }
    }

    /// A row's structural columns.
    fn structural() -> node::ActiveModel {
        let now = chrono::Utc::now();
        node::ActiveModel {
            id: Set("n".into()),
            user_pool_id: Set("p".into()),
            org_id: Set("o".into()),
            parent_id: Set(None),
            leader_user_id: Set(None),
            depth: Set(0),
            member_count: Set(0),
            subtree_member_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    }

    /// A department with every field set (to a value other than a new department's), as a row.
    fn department() -> node::Model {
        use sea_orm::TryIntoModel;
        let mut row = structural();
        // A value for every field, found by trying samples of its kind against its rule (so a
        // field added to the list needs nothing here).
        let mut given = Map::new();
        for f in FIELDS {
            let samples = match f.kind {
                Kind::Text => vec![serde_json::json!("Sales-1"), serde_json::json!(r#"{"en-US":"Sales"}"#)],
                Kind::Integer => vec![serde_json::json!(4)],
                Kind::Boolean => vec![serde_json::json!(true), serde_json::json!(false)],
                Kind::Object => vec![serde_json::json!({ "name": { "en-US": { "enabled": true, "value": "Sales" } } })],
            };
            let fits = |v: &Value| {
                let one: Map<String, Value> = [(f.name.to_string(), v.clone())].into_iter().collect();
                let patch = DepartmentPatch::read(Names::Standard, |k| one.get(k)).and_then(DepartmentPatch::check);
                patch.is_ok_and(|p| p != DepartmentPatch::default() && to_json_patch(&p, f.name) != f.show(&empty()))
            };
            let sample = samples.into_iter().find(|v| fits(v)).unwrap_or_else(|| panic!("no sample fits {}", f.name));
            given.insert(f.name.to_string(), sample);
        }
        let fields = DepartmentPatch::read(Names::Standard, |k| given.get(k)).unwrap();
        fields.apply_new(&mut row).unwrap();
        row.try_into_model().unwrap()
    }

    /// A department with only a name.
    fn empty() -> node::Model {
        use sea_orm::TryIntoModel;
        let mut row = structural();
        DepartmentPatch::named("x").apply_new(&mut row).unwrap();
        row.try_into_model().unwrap()
    }

    /// How field `name` of a department made of `patch` shows.
    fn to_json_patch(patch: &DepartmentPatch, name: &str) -> Value {
        use sea_orm::TryIntoModel;
        let mut row = structural();
        DepartmentPatch { name: patch.name.clone().or(Some("x".into())), ..patch.clone() }.apply_new(&mut row).unwrap();
        let n = row.try_into_model().unwrap();
        field(name).map(|f| f.show(&n)).unwrap_or(Value::Null)
    }

    /// What a surface shows, read back, is the department again: in both dialects, from JSON
    /// values and from the text a CSV cell holds.
    #[test]
    fn what_a_department_shows_reads_back_as_the_same_fields() {
        let n = department();
        for names in [Names::Standard, Names::V3] {
            let shown = to_json(&n, names);
            let read = DepartmentPatch::read(names, |k| shown.get(k)).and_then(DepartmentPatch::check).unwrap();
            assert_eq!(read, DepartmentPatch::of(&n), "{names:?}");
            let cells: Map<String, Value> = shown
                .iter()
                .map(|(k, v)| (k.clone(), match v {
                    Value::String(s) => Value::String(s.clone()),
                    other => Value::String(other.to_string()),
                }))
                .collect();
            let read = DepartmentPatch::read(names, |k| cells.get(k)).and_then(DepartmentPatch::check).unwrap();
            assert_eq!(read, DepartmentPatch::of(&n), "{names:?} as text");
        }
        assert!(DepartmentPatch::default().is_empty());
        assert!(DepartmentPatch::default().apply_new(&mut node::ActiveModel::default()).is_err(), "a name is required");
        assert_eq!(DepartmentPatch::of(&n).differences(&n), DepartmentPatch::default());
    }
}
