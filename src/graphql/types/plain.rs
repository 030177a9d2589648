//! Plain selections: fields without arguments, directives or sub-selections, each response key
//! once, no fragments. A list whose selection is plain is rendered straight into values
//! (`org_nodes`, `user_list`) instead of through async-graphql's resolver per field and item.

use async_graphql::{
    Name,
    parser::types::{Field, Selection},
};

/// The response keys and field names of `field`'s selection, in order, when it is plain.
pub fn plain_fields(field: &Field) -> Option<Vec<(Name, Name)>> {
    let mut plan: Vec<(Name, Name)> = Vec::with_capacity(field.selection_set.node.items.len());
    for item in &field.selection_set.node.items {
        let Selection::Field(f) = &item.node else { return None };
        let f = &f.node;
        if !f.arguments.is_empty() || !f.directives.is_empty() || !f.selection_set.node.items.is_empty() {
            return None;
        }
        let key = f.response_key().node.clone();
        // The same key twice is merged by GraphQL's rules: left to the general path.
        if plan.iter().any(|(k, _)| *k == key) {
            return None;
        }
        plan.push((key, f.name.node.clone()));
    }
    Some(plan)
}
