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
/// A template the renderer would refuse (too deep, recursive, reading the environment) is an
/// error here too, so `check` reports it before a push.
pub fn variables(text: &str) -> Result<Vec<String>, TemplateError> {
    let tpl = crate::templates::guard::parse(text)?;
    let mut out = reads(&tpl.ast).vars;
    let mut seen = HashSet::new();
    out.retain(|v| seen.insert(v.clone()));
    Ok(out)
}

/// What a parsed template reads and calls.
#[derive(Debug, Default)]
pub struct Reads {
    /// Dotted variable paths read outside local scopes, in order (may repeat).
    pub vars: Vec<String>,
    /// Names of the functions called (`range`, `get_env`, ...).
    pub functions: Vec<String>,
    /// Macro calls: the macro they sit in (`None`: the template body) and the macro called.
    pub calls: Vec<(Option<String>, String)>,
}

/// Walks a template's syntax tree once and collects what it reads and calls.
pub fn reads(ast: &[Node]) -> Reads {
    let mut w = Walk::default();
    w.nodes(ast);
    w.reads
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

pub(crate) fn parse_error(e: tera::Error) -> TemplateError {
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

#[derive(Default)]
struct Walk {
    /// Names bound locally (`set`, loop variables, macro arguments): not session variables.
    scope: Vec<String>,
    /// The macro whose body is being walked.
    in_macro: Option<String>,
    reads: Reads,
}

impl Walk {
    fn nodes(&mut self, ast: &[Node]) {
        // `set` without a block adds to the current scope until the template ends.
        for node in ast {
            match node {
                Node::VariableBlock(_, e) => self.expr(e),
                Node::Set(_, set) => {
                    self.expr(&set.value);
                    self.scope.push(set.key.clone());
                }
                Node::FilterSection(_, fs, _) => {
                    self.args(fs.filter.args.values());
                    self.nodes(&fs.body);
                }
                Node::Block(_, b, _) => self.nodes(&b.body),
                Node::Forloop(_, f, _) => {
                    self.expr(&f.container);
                    let depth = self.scope.len();
                    self.scope.push(f.value.clone());
                    self.scope.push("loop".into());
                    if let Some(k) = &f.key {
                        self.scope.push(k.clone());
                    }
                    self.nodes(&f.body);
                    self.scope.truncate(depth);
                    if let Some(empty) = &f.empty_body {
                        self.nodes(empty);
                    }
                }
                Node::If(i, _) => {
                    for (_, cond, body) in &i.conditions {
                        self.expr(cond);
                        self.nodes(body);
                    }
                    if let Some((_, body)) = &i.otherwise {
                        self.nodes(body);
                    }
                }
                Node::MacroDefinition(_, m, _) => {
                    let depth = self.scope.len();
                    self.scope.extend(m.args.keys().cloned());
                    let outer = self.in_macro.replace(m.name.clone());
                    self.nodes(&m.body);
                    self.in_macro = outer;
                    self.scope.truncate(depth);
                }
                _ => {}
            }
        }
    }

    fn args<'e>(&mut self, args: impl Iterator<Item = &'e Expr>) {
        args.for_each(|a| self.expr(a));
    }

    fn expr(&mut self, e: &Expr) {
        for f in &e.filters {
            self.args(f.args.values());
        }
        self.val(&e.val);
    }

    fn val(&mut self, v: &ExprVal) {
        match v {
            ExprVal::Ident(name) => self.ident(name),
            ExprVal::Math(m) => {
                self.expr(&m.lhs);
                self.expr(&m.rhs);
            }
            ExprVal::Logic(l) => {
                self.expr(&l.lhs);
                self.expr(&l.rhs);
            }
            ExprVal::Test(t) => {
                // `x is defined` asks whether it exists; that is not a use.
                if t.name != "defined" && t.name != "undefined" {
                    self.ident(&t.ident);
                }
                self.args(t.args.iter());
            }
            ExprVal::MacroCall(m) => {
                if m.namespace == "self" {
                    let from = self.in_macro.clone();
                    self.reads.calls.push((from, m.name.clone()));
                }
                self.args(m.args.values());
            }
            ExprVal::FunctionCall(f) => {
                self.reads.functions.push(f.name.clone());
                self.args(f.args.values());
            }
            ExprVal::Array(items) => self.args(items.iter()),
            ExprVal::StringConcat(c) => c.values.iter().for_each(|a| self.val(a)),
            ExprVal::In(i) => {
                self.expr(&i.lhs);
                self.expr(&i.rhs);
            }
            ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => {}
        }
    }

    fn ident(&mut self, name: &str) {
        // Indexing (`a[0]`, `a["b"]`) is cut off: only the dotted prefix is checked.
        let path = name.split('[').next().unwrap_or(name);
        let root = path.split('.').next().unwrap_or(path);
        if !self.scope.iter().any(|s| s == root) {
            self.reads.vars.push(path.to_string());
        }
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
