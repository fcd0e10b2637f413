//! What a tera template refers to: parse it and collect the variables it reads, so `check` can
//! name an undefined variable before a push ever renders it.

use std::collections::HashSet;

use tera::ast::{Expr, ExprVal, Node};

/// A template's syntax error, with its 1-based line and column inside the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Parses a template; returns the dotted variable paths it reads (`repos.olympia.tag`), in order.
pub fn variables(text: &str) -> Result<Vec<String>, TemplateError> {
    let tpl = tera::Template::new("t", None, text).map_err(parse_error)?;
    let mut out = Vec::new();
    let mut scope = Vec::new();
    nodes(&tpl.ast, &mut scope, &mut out);
    let mut seen = HashSet::new();
    out.retain(|v| seen.insert(v.clone()));
    Ok(out)
}

/// Parses an `only_if` expression (`strategy == 'master'`) and returns what it reads.
pub fn condition_variables(expr: &str) -> Result<Vec<String>, TemplateError> {
    // Wrapped the same way the engine evaluates it; `{% if` is 6 characters before the text.
    variables(&condition_template(expr)).map_err(|mut e| {
        if e.line == 1 {
            e.col = e.col.saturating_sub(6).max(1);
        }
        e
    })
}

/// The template that renders `true` when the condition holds.
pub fn condition_template(expr: &str) -> String {
    format!("{{% if {expr} %}}true{{% endif %}}")
}

fn parse_error(e: tera::Error) -> TemplateError {
    // tera's parse error text carries a pest report: ` --> L:C`, the line, and `= message`.
    let mut text = String::new();
    let mut cur: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = cur {
        text.push_str(&err.to_string());
        text.push('\n');
        cur = err.source();
    }
    let (mut line, mut col) = (1, 1);
    if let Some(pos) = text.split("--> ").nth(1) {
        let pos = pos.lines().next().unwrap_or("");
        let mut it = pos.split(':').map(|n| n.trim().parse::<usize>().ok());
        line = it.next().flatten().unwrap_or(1);
        col = it.next().flatten().unwrap_or(1);
    }
    let message = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .map(str::to_string)
        .unwrap_or_else(|| e.to_string());
    TemplateError {
        line,
        col,
        message: format!("template syntax error: {message}"),
    }
}

fn nodes(ast: &[Node], scope: &mut Vec<String>, out: &mut Vec<String>) {
    // `set` without a block adds to the current scope until the template ends.
    for node in ast {
        match node {
            Node::VariableBlock(_, e) => expr(e, scope, out),
            Node::Set(_, set) => {
                expr(&set.value, scope, out);
                scope.push(set.key.clone());
            }
            Node::FilterSection(_, fs, _) => {
                for a in fs.filter.args.values() {
                    expr(a, scope, out);
                }
                nodes(&fs.body, scope, out);
            }
            Node::Block(_, b, _) => nodes(&b.body, scope, out),
            Node::Forloop(_, f, _) => {
                expr(&f.container, scope, out);
                let depth = scope.len();
                scope.push(f.value.clone());
                scope.push("loop".into());
                if let Some(k) = &f.key {
                    scope.push(k.clone());
                }
                nodes(&f.body, scope, out);
                scope.truncate(depth);
                if let Some(empty) = &f.empty_body {
                    nodes(empty, scope, out);
                }
            }
            Node::If(i, _) => {
                for (_, cond, body) in &i.conditions {
                    expr(cond, scope, out);
                    nodes(body, scope, out);
                }
                if let Some((_, body)) = &i.otherwise {
                    nodes(body, scope, out);
                }
            }
            Node::MacroDefinition(_, m, _) => {
                let depth = scope.len();
                scope.extend(m.args.keys().cloned());
                nodes(&m.body, scope, out);
                scope.truncate(depth);
            }
            _ => {}
        }
    }
}

fn expr(e: &Expr, scope: &[String], out: &mut Vec<String>) {
    for f in &e.filters {
        for a in f.args.values() {
            expr(a, scope, out);
        }
    }
    val(&e.val, scope, out);
}

fn val(v: &ExprVal, scope: &[String], out: &mut Vec<String>) {
    match v {
        ExprVal::Ident(name) => ident(name, scope, out),
        ExprVal::Math(m) => {
            expr(&m.lhs, scope, out);
            expr(&m.rhs, scope, out);
        }
        ExprVal::Logic(l) => {
            expr(&l.lhs, scope, out);
            expr(&l.rhs, scope, out);
        }
        ExprVal::Test(t) => {
            // `x is defined` asks whether it exists; that is not a use.
            if t.name != "defined" && t.name != "undefined" {
                ident(&t.ident, scope, out);
            }
            for a in &t.args {
                expr(a, scope, out);
            }
        }
        ExprVal::MacroCall(m) => m.args.values().for_each(|a| expr(a, scope, out)),
        ExprVal::FunctionCall(f) => f.args.values().for_each(|a| expr(a, scope, out)),
        ExprVal::Array(items) => items.iter().for_each(|a| expr(a, scope, out)),
        ExprVal::StringConcat(c) => c.values.iter().for_each(|a| val(a, scope, out)),
        ExprVal::In(i) => {
            expr(&i.lhs, scope, out);
            expr(&i.rhs, scope, out);
        }
        ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => {}
    }
}

fn ident(name: &str, scope: &[String], out: &mut Vec<String>) {
    // Indexing (`a[0]`, `a["b"]`) is cut off: only the dotted prefix is checked.
    let path = name.split('[').next().unwrap_or(name);
    let root = path.split('.').next().unwrap_or(path);
    if !scope.iter().any(|s| s == root) {
        out.push(path.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_variables_outside_local_scopes() {
        let v = variables("{{ tag }} {% for c in commits %}{{ c.sha }} {{ loop.index }}{% endfor %}{{ repos.olympia.tag | upper }}").unwrap();
        assert_eq!(v, ["tag", "commits", "repos.olympia.tag"]);
        let v =
            variables("{% set x = hero %}{{ x }}{% if next_hero is defined %}{{ y }}{% endif %}")
                .unwrap();
        assert_eq!(v, ["hero", "y"]);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = variables("line one\n{{ tag }").unwrap_err();
        assert_eq!((e.line, e.col), (2, 8), "{e:?}");
        assert!(
            e.message.starts_with("template syntax error"),
            "{}",
            e.message
        );
    }

    #[test]
    fn conditions_read_variables() {
        assert_eq!(
            condition_variables("strategy == 'master'").unwrap(),
            ["strategy"]
        );
        assert!(condition_variables("strategy ==").is_err());
    }
}
