//! Values that feed on themselves. `{% set_global s = s ~ s %}` in a loop doubles `s` on every
//! pass without a filter or a write the fuel could stop, so it is refused before rendering:
//! a `set` whose variable is read by a `set` (its own or another) may read the template's
//! `set` variables only once (a read passed to a macro counts twice: its body may print it
//! any number of times). Building up one value a piece at a time stays allowed, and so
//! does a value read twice for output (`{% set v = a ~ a %}{{ v }}`), which the output cap
//! bounds.

use std::collections::BTreeSet;

use tera::ast::{Expr, ExprVal, Node, Set};

/// The first `set` that reads the template's own variables more than once: the `set`, which
/// of the template's `set`s of that name it is (from 0), and how many reads.
pub fn self_feeding(ast: &[Node]) -> Option<(&Set, usize, usize)> {
    let mut sets = Vec::new();
    collect(ast, &mut sets);
    let names: BTreeSet<&str> = sets.iter().map(|s| s.key.as_str()).collect();
    // Variables some `set` reads: only those can compound.
    let fed: BTreeSet<&str> = names
        .iter()
        .copied()
        .filter(|n| sets.iter().any(|s| reads(&s.value, &[*n]) > 0))
        .collect();
    let names: Vec<&str> = names.into_iter().collect();
    sets.iter()
        .enumerate()
        .filter(|(_, s)| fed.contains(s.key.as_str()))
        .map(|(i, s)| (*s, i, reads(&s.value, &names)))
        .find(|(_, _, n)| *n > 1)
        .map(|(s, i, n)| {
            let nth = sets[..i].iter().filter(|o| o.key == s.key).count();
            (s, nth, n)
        })
}

/// Every `set`, in template order, wherever it sits.
fn collect<'a>(ast: &'a [Node], out: &mut Vec<&'a Set>) {
    for node in ast {
        match node {
            Node::Set(_, s) => out.push(s),
            Node::FilterSection(_, fs, _) => collect(&fs.body, out),
            Node::Block(_, b, _) => collect(&b.body, out),
            Node::Forloop(_, f, _) => {
                collect(&f.body, out);
                if let Some(empty) = &f.empty_body {
                    collect(empty, out);
                }
            }
            Node::If(i, _) => {
                for (_, _, body) in &i.conditions {
                    collect(body, out);
                }
                if let Some((_, body)) = &i.otherwise {
                    collect(body, out);
                }
            }
            Node::MacroDefinition(_, m, _) => collect(&m.body, out),
            _ => {}
        }
    }
}

/// How many times `e` reads any of `names`, filter and call arguments included.
fn reads(e: &Expr, names: &[&str]) -> usize {
    let args: usize = e
        .filters
        .iter()
        .flat_map(|f| f.args.values())
        .map(|a| reads(a, names))
        .sum();
    args + val(&e.val, names)
}

fn val(v: &ExprVal, names: &[&str]) -> usize {
    let all = |es: &mut dyn Iterator<Item = &Expr>| es.map(|e| reads(e, names)).sum::<usize>();
    match v {
        ExprVal::Ident(name) => {
            let root = name.split(['.', '[']).next().unwrap_or(name);
            usize::from(names.contains(&root))
        }
        ExprVal::Math(m) => reads(&m.lhs, names) + reads(&m.rhs, names),
        ExprVal::Logic(l) => reads(&l.lhs, names) + reads(&l.rhs, names),
        ExprVal::In(i) => reads(&i.lhs, names) + reads(&i.rhs, names),
        ExprVal::Test(t) => all(&mut t.args.iter()),
        // A macro's body may print an argument many times: a read through it counts twice.
        ExprVal::MacroCall(m) => 2 * all(&mut m.args.values()),
        ExprVal::FunctionCall(f) => all(&mut f.args.values()),
        ExprVal::Array(items) => all(&mut items.iter()),
        ExprVal::StringConcat(c) => c.values.iter().map(|v| val(v, names)).sum(),
        ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => 0,
    }
}
