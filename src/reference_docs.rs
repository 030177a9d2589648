//! The generated reference pages: `docs/reference/cli.md` and `configuration.md` from the clap
//! definitions, `docs/reference/graphql.md` from the schema. Written from the code so they can
//! never drift from it: a test regenerates them and fails when the checked-in files differ
//! (`UPDATE_DOCS=1 cargo test --test api docs` rewrites them).

use std::fmt::{self, Write as _};

use async_graphql::parser::types::{
    FieldDefinition, InputValueDefinition, TypeDefinition, TypeKind, TypeSystemDefinition,
};
use clap::{Arg, ArgAction, Command, CommandFactory as _};

use crate::{cli::Cli, graphql};

/// Every generated page: its path under the repository's root and its text.
pub fn pages() -> anyhow::Result<Vec<(&'static str, String)>> {
    Ok(vec![
        ("docs/reference/cli.md", cli()?),
        ("docs/reference/configuration.md", configuration()?),
        ("docs/reference/graphql.md", graphql()?),
    ])
}

const GENERATED: &str = "<!-- Generated from the code by `UPDATE_DOCS=1 cargo test --test api docs`: do not edit. -->";

/// The command line as clap builds it, with environment values hidden: the help must not show
/// whatever the environment of the process that generates it holds.
fn command() -> Command {
    fn hide_env_values(cmd: Command) -> Command {
        cmd.mut_args(|a| a.hide_env_values(true)).mut_subcommands(hide_env_values)
    }
    let mut cmd = hide_env_values(Cli::command());
    cmd.build();
    cmd
}

/// `docs/reference/cli.md`: every subcommand's `--help`, and a table of its own options.
pub fn cli() -> anyhow::Result<String> {
    let mut root = command();
    let mut out = String::new();
    writeln!(out, "{GENERATED}\n")?;
    writeln!(out, "# Command line\n")?;
    // Where the server's options may be written depends on whether clap declares them global.
    let global = options(&root).iter().all(|a| a.is_global_set());
    let placement = if global {
        "may come before or after a subcommand (`orgraph pool list --database-url postgres://…`)"
    } else {
        "come **before** a subcommand (`orgraph --database-url postgres://… pool list`)"
    };
    writeln!(
        out,
        "`orgraph` is one binary. Without a subcommand it runs the server (`orgraph serve`). The \
         server's options (listen address, database, limits, webhooks: see \
         [configuration](configuration.md)) belong to `orgraph` itself, so they {placement}, or \
         come from their environment variables (`DATABASE_URL=postgres://… orgraph pool list`). The \
         operator commands open the database directly and need no running server.\n"
    )?;
    writeln!(out, "| command | what it does |\n|---|---|")?;
    let mut paths = Vec::new();
    for (path, cmd) in walk(&root) {
        writeln!(out, "| [`{path}`](#{}) | {} |", slug(&path), cell(&about(cmd)))?;
        paths.push(path);
    }
    writeln!(out)?;
    for path in paths {
        let names: Vec<&str> = path.split(' ').skip(1).collect();
        let Some(cmd) = find_mut(&mut root, &names) else { continue };
        let help = cmd.render_long_help().to_string();
        let help: Vec<&str> = help.lines().map(str::trim_end).collect();
        writeln!(out, "## `{path}`\n")?;
        writeln!(out, "```text\n{}\n```\n", help.join("\n").trim_end())?;
        let own = if names.is_empty() { Vec::new() } else { options(cmd) };
        if !own.is_empty() {
            writeln!(out, "| argument | default | description |\n|---|---|---|")?;
            for a in own {
                writeln!(out, "| {} | {} | {} |", cell(&spelling(a)), default_of(a), cell(&help_of(a)))?;
            }
            writeln!(out)?;
        }
    }
    Ok(out)
}

/// `docs/reference/configuration.md`: the server's options, each with its variable and default.
pub fn configuration() -> anyhow::Result<String> {
    let root = command();
    let mut out = String::new();
    writeln!(out, "{GENERATED}\n")?;
    writeln!(out, "# Configuration\n")?;
    writeln!(
        out,
        "Every option of the server is a command-line flag and an environment variable of the same \
         meaning (the flag wins when both are given). They are options of `orgraph` itself, so the \
         [operator commands](cli.md) (`orgraph pool …`, `orgraph import …`) read the same ones: the \
         database above all. Defaults suit a single server on one machine with an embedded SQLite \
         file. The [limits](limits.md) page explains the limits below and what a refused request \
         gets. The variables that shape the build itself (the GraphQL playground) are in \
         [getting started](../getting-started.md#building-without-nodejs).\n"
    )?;
    writeln!(out, "| flag | environment variable | default | description |\n|---|---|---|---|")?;
    for a in options(&root) {
        let env = a.get_env().map(|e| format!("`{}`", e.to_string_lossy())).unwrap_or_default();
        writeln!(out, "| `--{}` | {env} | {} | {} |", long_of(a), default_of(a), cell(&help_of(a)))?;
    }
    writeln!(out)?;
    Ok(out)
}

/// The command's path (`orgraph pool create`) and the command, for it and every visible
/// subcommand below it, depth first, in declaration order.
fn walk(cmd: &Command) -> Vec<(String, &Command)> {
    fn go<'a>(cmd: &'a Command, path: String, out: &mut Vec<(String, &'a Command)>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let path = format!("{path} {}", sub.get_name());
            out.push((path.clone(), sub));
            go(sub, path, out);
        }
    }
    let mut out = vec![(cmd.get_name().to_string(), cmd)];
    go(cmd, cmd.get_name().to_string(), &mut out);
    out
}

fn find_mut<'a>(cmd: &'a mut Command, names: &[&str]) -> Option<&'a mut Command> {
    match names.split_first() {
        None => Some(cmd),
        Some((first, rest)) => find_mut(cmd.find_subcommand_mut(first)?, rest),
    }
}

fn about(cmd: &Command) -> String {
    cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
}

/// The arguments a user passes (not `--help`, `--version` or hidden ones).
fn options(cmd: &Command) -> Vec<&Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_action(), ArgAction::Help | ArgAction::HelpLong | ArgAction::Version))
        .collect()
}

fn long_of(a: &Arg) -> String {
    a.get_long().map(str::to_string).unwrap_or_else(|| a.get_id().to_string())
}

/// How the argument is written: `--pool <POOL>`, `<PATH>`, `--repair`.
fn spelling(a: &Arg) -> String {
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
    if a.is_positional() {
        return format!("`<{value}>`");
    }
    let mut s = format!("`--{}", long_of(a));
    if a.get_action().takes_values() {
        write!(s, " <{value}>").ok();
    }
    s.push('`');
    if a.is_required_set() {
        s.push_str(" (required)");
    }
    s
}

fn default_of(a: &Arg) -> String {
    if !a.get_action().takes_values() {
        return "off".to_string();
    }
    let values: Vec<String> = a.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
    if values.is_empty() { "none".to_string() } else { format!("`{}`", values.join(",")) }
}

/// The argument's whole help text, with its choices when it has a fixed set.
fn help_of(a: &Arg) -> String {
    let mut text = a.get_long_help().or(a.get_help()).map(|h| h.to_string()).unwrap_or_default();
    let choices: Vec<String> = a.get_possible_values().iter().filter(|p| !p.is_hide_set()).map(|p| format!("`{}`", p.get_name())).collect();
    if !choices.is_empty() && a.get_action().takes_values() && !matches!(a.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
        let said = text.trim().trim_end_matches('.').to_string();
        text = if said.is_empty() { String::new() } else { format!("{said}. ") };
        write!(text, "One of {}.", choices.join(", ")).ok();
    }
    text.trim().to_string()
}

/// Text for one cell of a Markdown table: one line, no column breaks.
fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

/// The anchor GitHub gives a heading: lower case, spaces to dashes, other punctuation dropped.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// `docs/reference/graphql.md`: every operation and type of the schema, from its SDL.
pub fn graphql() -> anyhow::Result<String> {
    let sdl = graphql::sdl(&graphql::bare_schema());
    let doc = async_graphql::parser::parse_schema(&sdl)?;
    let mut types: Vec<&TypeDefinition> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some(&t.node),
            _ => None,
        })
        .collect();
    types.sort_by(|a, b| a.name.node.as_str().cmp(b.name.node.as_str()));
    let documented: Vec<&str> = types.iter().map(|t| t.name.node.as_str()).collect();
    let mut out = String::new();
    render_graphql(&mut out, &types, &documented)?;
    Ok(out)
}

const ROOTS: [(&str, &str); 3] = [("Query", "Queries"), ("Mutation", "Mutations"), ("Subscription", "Subscriptions")];

/// The other types, by kind: each section's title and which kinds it holds.
type KindFilter = fn(&TypeKind) -> bool;
const GROUPS: [(&str, KindFilter); 6] = [
    ("Objects", |k| matches!(k, TypeKind::Object(_))),
    ("Input objects", |k| matches!(k, TypeKind::InputObject(_))),
    ("Enums", |k| matches!(k, TypeKind::Enum(_))),
    ("Scalars", |k| matches!(k, TypeKind::Scalar)),
    ("Interfaces", |k| matches!(k, TypeKind::Interface(_))),
    ("Unions", |k| matches!(k, TypeKind::Union(_))),
];

fn render_graphql(out: &mut String, types: &[&TypeDefinition], documented: &[&str]) -> fmt::Result {
    writeln!(out, "{GENERATED}\n")?;
    writeln!(out, "# GraphQL reference\n")?;
    writeln!(
        out,
        "Every operation and type of orgraph's GraphQL schema, with the descriptions the schema \
         carries. The same schema answers `POST /graphql` and `POST /graphql/v2`, and subscriptions \
         on `GET /graphql/ws`; its SDL is [`schema.graphql`](../../schema.graphql) (also printed by \
         `orgraph schema`). Every operation but `accessToken` needs `Authorization: Bearer <access \
         token>` (see [authentication](authentication.md)); errors are described in \
         [errors](errors.md) and the document limits in [limits](limits.md).\n"
    )?;
    let is_root = |t: &&&TypeDefinition| ROOTS.iter().any(|(name, _)| t.name.node.as_str() == *name);

    writeln!(out, "## Contents\n")?;
    for (root, title) in ROOTS {
        if let Some(t) = types.iter().find(|t| t.name.node.as_str() == root) {
            let n = fields_of(t).len();
            writeln!(out, "- [{title}](#{}) ({n} field{})", slug(title), if n == 1 { "" } else { "s" })?;
        }
    }
    for (title, wanted) in GROUPS {
        let n = types.iter().filter(|t| wanted(&t.kind)).filter(|t| !is_root(t)).count();
        if n > 0 {
            writeln!(out, "- [{title}](#{}) ({n})", slug(title))?;
        }
    }
    writeln!(out)?;

    for (root, title) in ROOTS {
        let Some(t) = types.iter().find(|t| t.name.node.as_str() == root) else { continue };
        writeln!(out, "## {title}\n")?;
        if let Some(d) = &t.description {
            writeln!(out, "{}\n", d.node.trim())?;
        }
        for f in fields_of(t) {
            let f = &f.node;
            writeln!(out, "### {root}.{}\n", f.name.node)?;
            writeln!(out, "```graphql\n{}\n```\n", signature(f))?;
            if let Some(d) = &f.description {
                writeln!(out, "{}\n", d.node.trim())?;
            }
            if let Some(reason) = deprecation(&f.directives) {
                writeln!(out, "**Deprecated:** {reason}\n")?;
            }
            writeln!(out, "Returns {}.\n", type_link(&f.ty.node.to_string(), documented))?;
        }
    }

    for (title, wanted) in GROUPS {
        let members: Vec<&&TypeDefinition> = types.iter().filter(|t| wanted(&t.kind)).filter(|t| !is_root(t)).collect();
        if members.is_empty() {
            continue;
        }
        writeln!(out, "## {title}\n")?;
        for t in members {
            render_type(out, t, documented)?;
        }
    }
    Ok(())
}

fn fields_of(t: &TypeDefinition) -> &[async_graphql::Positioned<FieldDefinition>] {
    match &t.kind {
        TypeKind::Object(o) => &o.fields,
        TypeKind::Interface(i) => &i.fields,
        _ => &[],
    }
}

fn render_type(out: &mut String, t: &TypeDefinition, documented: &[&str]) -> fmt::Result {
    writeln!(out, "### {}\n", t.name.node)?;
    if let Some(d) = &t.description {
        writeln!(out, "{}\n", d.node.trim())?;
    }
    match &t.kind {
        TypeKind::Object(_) | TypeKind::Interface(_) => {
            if let TypeKind::Object(o) = &t.kind
                && !o.implements.is_empty()
            {
                let names: Vec<String> = o.implements.iter().map(|i| type_link(i.node.as_str(), documented)).collect();
                writeln!(out, "Implements {}.\n", names.join(", "))?;
            }
            writeln!(out, "| field | type | description |\n|---|---|---|")?;
            for f in fields_of(t) {
                let f = &f.node;
                let mut name = format!("`{}`", f.name.node);
                if !f.arguments.is_empty() {
                    let args: Vec<String> = f.arguments.iter().map(|a| argument(&a.node)).collect();
                    write!(name, " ({})", args.join(", "))?;
                }
                let mut text = f.description.as_ref().map(|d| d.node.clone()).unwrap_or_default();
                if let Some(reason) = deprecation(&f.directives) {
                    write!(text, " Deprecated: {reason}")?;
                }
                writeln!(out, "| {} | {} | {} |", cell(&name), type_link(&f.ty.node.to_string(), documented), cell(&text))?;
            }
        }
        TypeKind::InputObject(i) => {
            writeln!(out, "| field | type | default | description |\n|---|---|---|---|")?;
            for f in &i.fields {
                let f = &f.node;
                let default = f.default_value.as_ref().map(|v| format!("`{}`", v.node)).unwrap_or_default();
                let text = f.description.as_ref().map(|d| d.node.clone()).unwrap_or_default();
                writeln!(out, "| `{}` | {} | {} | {} |", f.name.node, type_link(&f.ty.node.to_string(), documented), cell(&default), cell(&text))?;
            }
        }
        TypeKind::Enum(e) => {
            writeln!(out, "| value | description |\n|---|---|")?;
            for v in &e.values {
                let v = &v.node;
                let mut text = v.description.as_ref().map(|d| d.node.clone()).unwrap_or_default();
                if let Some(reason) = deprecation(&v.directives) {
                    write!(text, " Deprecated: {reason}")?;
                }
                writeln!(out, "| `{}` | {} |", v.value.node, cell(&text))?;
            }
        }
        TypeKind::Union(u) => {
            let names: Vec<String> = u.members.iter().map(|m| type_link(m.node.as_str(), documented)).collect();
            writeln!(out, "One of {}.", names.join(", "))?;
        }
        TypeKind::Scalar => {}
    }
    writeln!(out)
}

/// `name(arg: Type = default, ...): Type`, as the SDL writes a field.
fn signature(f: &FieldDefinition) -> String {
    let args: Vec<String> = f.arguments.iter().map(|a| argument(&a.node)).collect();
    if args.is_empty() {
        format!("{}: {}", f.name.node, f.ty.node)
    } else {
        format!("{}({}): {}", f.name.node, args.join(", "), f.ty.node)
    }
}

fn argument(a: &InputValueDefinition) -> String {
    match &a.default_value {
        Some(v) => format!("{}: {} = {}", a.name.node, a.ty.node, v.node),
        None => format!("{}: {}", a.name.node, a.ty.node),
    }
}

fn deprecation(directives: &[async_graphql::Positioned<async_graphql::parser::types::ConstDirective>]) -> Option<String> {
    let d = directives.iter().find(|d| d.node.name.node.as_str() == "deprecated")?;
    Some(d.node.get_argument("reason").map(|r| r.node.to_string().trim_matches('"').to_string()).unwrap_or_else(|| "yes".to_string()))
}

/// A type as written (`[User!]!`), linked to its section when the page documents it.
fn type_link(ty: &str, documented: &[&str]) -> String {
    let base = ty.trim_matches(|c| c == '[' || c == ']' || c == '!');
    if documented.contains(&base) { format!("[`{ty}`](#{})", slug(base)) } else { format!("`{ty}`") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_githubs_rule() {
        assert_eq!(slug("Query.accessToken"), "queryaccesstoken");
        assert_eq!(slug("orgraph scim-token create"), "orgraph-scim-token-create");
        assert_eq!(slug("Input objects"), "input-objects");
    }

    #[test]
    fn a_cell_is_one_line_without_column_breaks() {
        assert_eq!(cell("a |\n  b"), "a \\| b");
    }
}
