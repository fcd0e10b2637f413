//! Everything `check` can know before a push: names that must exist, values that must parse,
//! templates that must compile and read only defined variables.

use std::collections::HashMap;

use super::load::{Doc, Seg, closest};
use super::model::*;
use super::schedule::{parse_date, parse_tz, parse_weekday};
use crate::diag::{Diagnostic, Diagnostics};
use crate::tags::TagFormat;
use crate::templates::Base;
use crate::templates::refs::{self, TemplateError};

/// Variables every session has.
pub const BUILTINS: &[&str] = &[
    "runbook",
    "summary",
    "push_date",
    "tag_date",
    "next_push_date",
    "today",
    "now",
    "tag",
    "previous_tag",
    "compare_url",
    "hero",
    "next_hero",
    "operator",
    "mode",
    "people",
    "repos",
    "links",
    "vars",
    "version",
    // Added by the engine while a push runs: when each done step happened, and what a step
    // goes on from.
    "done_at",
    "resume",
];
/// What `repos.NAME.*` holds.
pub const REPO_FIELDS: &[&str] = &[
    "name",
    "tag",
    "previous_tag",
    "compare_url",
    "github",
    "branch",
    "remote",
    "path",
    "migrations",
];

/// What `schedule.version` may not read: it is computed before these.
const VERSION_CANNOT_READ: &[&str] = &[
    "tag",
    "previous_tag",
    "compare_url",
    "repos",
    "links",
    "version",
    "done_at",
    "resume",
];

const SMTP_SECURITY: &[&str] = super::model::SmtpSecurity::NAMES;

/// Who defines a step-made variable (a choice's `var` or an output), by step index.
type Defs = HashMap<String, usize>;

struct Checker<'a> {
    doc: &'a Doc,
    rb: &'a Runbook,
    base: &'a Base,
    defs: Defs,
    diags: Diagnostics,
    /// Each step id's position (the first, if repeated): `after` is checked per step, and a
    /// scan of all steps each time made `check` cost the square of the runbook's length.
    positions: std::collections::HashMap<&'a str, usize>,
}

pub fn validate(doc: &Doc, rb: &Runbook, base: &Base) -> Diagnostics {
    let mut c = Checker {
        doc,
        rb,
        base,
        defs: Defs::new(),
        diags: Diagnostics::default(),
        positions: std::collections::HashMap::new(),
    };
    for (i, s) in rb.steps.iter().enumerate() {
        c.positions.entry(s.id.as_str()).or_insert(i);
    }
    c.schedule();
    c.file_vars();
    c.repos();
    c.services();
    c.sections();
    c.steps();
    c.templates();
    c.diags.sorted()
}

/// What a step kind's rules see (`Kind::check`): the runbook, the step and its place, and
/// where to report a problem, at the key it is about.
pub struct Rules<'c, 'a> {
    c: &'c mut Checker<'a>,
    i: usize,
    step: &'a Step,
}

impl<'a> Rules<'_, 'a> {
    pub fn runbook(&self) -> &'a Runbook {
        self.c.rb
    }

    /// The step's position among the runbook's steps.
    pub fn index(&self) -> usize {
        self.i
    }

    /// A problem with the step's key `key`.
    pub fn err(&mut self, key: &'static str, message: impl Into<String>) {
        let path = [Seg::Key("steps"), Seg::Index(self.i), Seg::Key(key)];
        self.c.err(&path, message);
    }

    /// A problem at a line and column inside the step's string `key` (a template's).
    pub fn err_in(&mut self, key: &'static str, e: &TemplateError) {
        let path = [Seg::Key("steps"), Seg::Index(self.i), Seg::Key(key)];
        self.c.inline_error(&path, e);
    }

    /// A problem with entry `j` of the step's list `key`.
    pub fn err_item(&mut self, key: &'static str, j: usize, message: impl Into<String>) {
        let path = [
            Seg::Key("steps"),
            Seg::Index(self.i),
            Seg::Key(key),
            Seg::Index(j),
        ];
        self.c.err(&path, message);
    }

    /// The step's key `key` names `dep`, which must be a step before this one.
    pub fn earlier_step(&mut self, key: &'static str, dep: &str) {
        let path = [Seg::Key("steps"), Seg::Index(self.i), Seg::Key(key)];
        self.c.earlier_step(self.i, dep, &path);
    }

    /// The step sets the variable `name`, written at its key `key`.
    pub fn define(&mut self, key: &'static str, name: &str) {
        let path = [Seg::Key("steps"), Seg::Index(self.i), Seg::Key(key)];
        self.c.define(self.i, name, &path, self.step);
    }
}

impl Checker<'_> {
    /// Where `path` stands in the file (a told step's keys are its `tell`'s).
    fn span(&self, path: &[Seg]) -> std::ops::Range<usize> {
        self.doc.span(&super::tell::place(&self.rb.steps, path))
    }

    fn err(&mut self, path: &[Seg], message: impl Into<String>) {
        let span = self.span(path);
        self.diags.push(self.doc.source.diag(&span, message));
    }

    fn schedule(&mut self) {
        let s = &self.rb.schedule;
        let sched = |k| [Seg::Key("schedule"), Seg::Key(k)];
        if s.on_demand {
            // A release made when someone starts it has no weekdays, cycle or rotation.
            let weekly_only: [(&'static str, bool); 4] = [
                ("push_day", s.push_day.is_some()),
                ("tag_day", s.tag_day.is_some()),
                ("every_weeks", s.every_weeks != 1),
                ("skip", !s.skip.is_empty()),
            ];
            for (key, given) in weekly_only {
                if given {
                    self.err(
                        &sched(key),
                        format!("`{key}` is for weekly schedules; an on-demand schedule (`on_demand = true`) has none"),
                    );
                }
            }
            if self.rb.rotation.is_some() {
                self.err(
                    &[Seg::Key("rotation")],
                    "an on-demand schedule has no rotation: whoever starts the release does it",
                );
            }
        } else {
            for (key, day) in [("push_day", &s.push_day), ("tag_day", &s.tag_day)] {
                match day {
                    None => self.err(
                        &[Seg::Key("schedule")],
                        format!("missing key `{key}` in [schedule] (or `on_demand = true` for releases without a push day)"),
                    ),
                    Some(d) => {
                        if let Err(e) = parse_weekday(d) {
                            self.err(&sched(key), e);
                        }
                    }
                }
            }
        }
        if let Err(e) = parse_tz(&s.timezone) {
            self.err(&sched("timezone"), e);
        }
        match &s.version {
            Some(_) => {
                if s.tag_format.is_some() {
                    self.err(
                        &sched("tag_format"),
                        "`tag_format` names date tags; with `version` the tag is `tag_prefix` then the version",
                    );
                }
                if let Err(e) = TagFormat::version(s.tag_prefix.as_deref().unwrap_or("")) {
                    self.err(&sched("tag_prefix"), format!("invalid tag prefix: {e}"));
                }
            }
            None => {
                if s.tag_prefix.is_some() {
                    self.err(
                        &sched("tag_prefix"),
                        "`tag_prefix` goes with `version` (version tags); a date tag's prefix belongs in `tag_format`, e.g. `v%Y.%m.%d`",
                    );
                }
                if let Some(f) = &s.tag_format
                    && let Err(e) = TagFormat::new(f)
                {
                    self.err(&sched("tag_format"), format!("invalid tag format: {e}"));
                }
            }
        }
        if s.every_weeks == 0 {
            self.err(&sched("every_weeks"), "`every_weeks` must be 1 or more");
        }
        for (i, d) in s.skip.iter().enumerate() {
            if let Err(e) = parse_date(d) {
                self.err(&[Seg::Key("schedule"), Seg::Key("skip"), Seg::Index(i)], e);
            }
        }
        let Some(r) = &self.rb.rotation else {
            return;
        };
        if r.people.is_empty() {
            self.err(
                &[Seg::Key("rotation"), Seg::Key("people")],
                "the rotation needs at least one person",
            );
        }
        match parse_date(&r.start) {
            Err(e) => self.err(&[Seg::Key("rotation"), Seg::Key("start")], e),
            Ok(start) => {
                if let Some(push_day) = &s.push_day
                    && let Ok(wd) = parse_weekday(push_day)
                {
                    use chrono::Datelike;
                    if start.weekday() != wd {
                        self.err(
                            &[Seg::Key("rotation"), Seg::Key("start")],
                            format!(
                                "rotation start {start} is a {:?}, not the push day ({push_day})",
                                start.weekday(),
                            ),
                        );
                    }
                }
            }
        }
    }

    /// `[vars]` read from files: a relative path inside a runbook repo, and a key to read.
    fn file_vars(&mut self) {
        for (name, v) in &self.rb.vars {
            let VarValue::File(f) = v else {
                continue;
            };
            let at = |k: &'static str| [Seg::Key("vars"), Seg::Key(name.as_str()), Seg::Key(k)];
            if let Err(e) = super::files::relative_inside(&f.toml) {
                self.err(&at("toml"), e);
            }
            if f.key.split('.').any(str::is_empty) {
                self.err(
                    &at("key"),
                    format!("`{}` is not a dotted key such as `package.version`", f.key),
                );
            }
            match &f.repo {
                Some(repo) if !self.rb.repos.contains_key(repo) => {
                    let m = undefined("repo", repo, self.rb.repos.keys());
                    self.err(&at("repo"), m);
                }
                None if self.rb.repos.is_empty() => self.err(
                    &[Seg::Key("vars"), Seg::Key(name.as_str())],
                    "a value read from a file needs a repo to read it from: add [repos] or `repo`",
                ),
                _ => {}
            }
        }
    }

    fn repos(&mut self) {
        for (name, repo) in &self.rb.repos {
            if !is_owner_repo(&repo.github) {
                self.err(
                    &[Seg::Key("repos"), Seg::Key(name), Seg::Key("github")],
                    format!("`{}` is not a GitHub `owner/repo`", repo.github),
                );
            }
            for (i, pattern) in repo.migrations.iter().enumerate() {
                if let Some(why) = crate::migrations::pattern_problem(pattern) {
                    let at = [
                        Seg::Key("repos"),
                        Seg::Key(name),
                        Seg::Key("migrations"),
                        Seg::Index(i),
                    ];
                    self.err(&at, why);
                }
            }
        }
    }

    fn services(&mut self) {
        for (name, svc) in &self.rb.services {
            let at = |k: &'static str| [Seg::Key("services"), Seg::Key(name.as_str()), Seg::Key(k)];
            let secrets: Vec<(&'static str, &SecretRef)> = match svc {
                Service::Jenkins(s) => vec![("token", &s.token)],
                Service::Sentry(s) => vec![("token", &s.token)],
                Service::Etherpad(s) => vec![("key", &s.key)],
                Service::Smtp(s) => vec![("password", &s.password)],
                Service::Github(s) => vec![("token", &s.token)],
                Service::GithubActions(s) => vec![("token", &s.token)],
                Service::Matrix(s) => vec![("token", &s.token)],
                Service::Slack(s) => vec![("token", &s.token), ("webhook", &s.webhook)],
                _ => vec![],
            };
            for (field, secret) in secrets {
                if secret.env.is_some() && secret.keyring.is_some() {
                    self.err(
                        &at(field),
                        "name the secret once: `env` or `keyring`, not both",
                    );
                }
            }
            match svc {
                Service::Smtp(s) => {
                    if !SMTP_SECURITY.contains(&s.security.as_str()) {
                        self.err(
                            &at("security"),
                            unknown("SMTP security", &s.security, SMTP_SECURITY),
                        );
                    }
                    for (i, to) in s.to.iter().enumerate() {
                        if !looks_like_address(to) {
                            self.err(
                                &[
                                    Seg::Key("services"),
                                    Seg::Key(name),
                                    Seg::Key("to"),
                                    Seg::Index(i),
                                ],
                                format!("`{to}` is not an email address"),
                            );
                        }
                    }
                    if !looks_like_address(&s.from) {
                        self.err(&at("from"), format!("`{}` is not an email address", s.from));
                    }
                }
                Service::MarkdownNotes(s) => {
                    if let Some(repo) = &s.repo
                        && !self.rb.repos.contains_key(repo)
                    {
                        let m = undefined("repo", repo, self.rb.repos.keys());
                        self.err(&at("repo"), m);
                    }
                }
                Service::GithubActions(s) => {
                    if !is_owner_repo(&s.repo) {
                        self.err(
                            &at("repo"),
                            format!("`{}` is not a GitHub `owner/repo`", s.repo),
                        );
                    }
                    if s.workflow.is_empty() || s.workflow.contains('/') {
                        self.err(
                            &at("workflow"),
                            format!(
                                "`{}` is not a workflow file name: give the file in `.github/workflows`, e.g. `deploy-stage.yml`",
                                s.workflow
                            ),
                        );
                    }
                }
                Service::Matrix(s) if !is_room_id(&s.room) => {
                    self.err(
                        &at("room"),
                        format!(
                            "`{}` is not a Matrix room id: give the id that starts with `!` \
                             (the room's settings show it), not its `#alias`",
                            s.room
                        ),
                    );
                }
                Service::Slack(s) => {
                    if s.token == SecretRef::default() && s.webhook == SecretRef::default() {
                        self.err(
                            &at("token"),
                            "a Slack service needs a bot `token` or a `webhook` (each as \
                             `{ env = \"NAME\" }` or `{ keyring = \"service/user\" }`)",
                        );
                    }
                    if s.token != SecretRef::default() && s.channel.is_none() {
                        self.err(
                            &at("channel"),
                            "the Web API posts to a channel by id: add `channel = \"C...\"`",
                        );
                    }
                }
                Service::Graphite(GraphiteService { series, .. })
                | Service::Prometheus(PrometheusService { series, .. }) => {
                    if series.is_empty() {
                        self.err(&at("series"), "a metrics service needs at least one series");
                    }
                    for (j, one) in series.iter().enumerate() {
                        if let Some(m) = series_problem(one) {
                            let path = [
                                Seg::Key("services"),
                                Seg::Key(name),
                                Seg::Key("series"),
                                Seg::Index(j),
                            ];
                            self.err(&path, m);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn sections(&mut self) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, s) in self.rb.sections.iter().enumerate() {
            if let Some(first) = seen.insert(&s.id, i) {
                let line = self.line_of(&[Seg::Key("sections"), Seg::Index(first)]);
                self.err(
                    &[Seg::Key("sections"), Seg::Index(i), Seg::Key("id")],
                    format!(
                        "duplicate section id `{}` (first defined on line {line})",
                        s.id
                    ),
                );
            }
        }
    }

    fn line_of(&self, path: &[Seg]) -> usize {
        self.doc.source.line_col(self.span(path).start).0
    }

    fn steps(&mut self) {
        let rb = self.rb;
        let section_ids: Vec<&str> = rb.sections.iter().map(|s| s.id.as_str()).collect();
        for (i, step) in rb.steps.iter().enumerate() {
            let at = |k: &'static str| [Seg::Key("steps"), Seg::Index(i), Seg::Key(k)];
            if !is_identifier(&step.id) {
                self.err(
                    &at("id"),
                    format!("step id `{}` must be letters, digits, `_` or `-`", step.id),
                );
            } else if step.id.starts_with(ITEM_PREFIX) {
                // Sessions name ad-hoc items so; a runbook step of that name would meet one.
                self.err(
                    &at("id"),
                    format!(
                        "step id `{}`: ids beginning with `{}` are kept for ad-hoc items",
                        step.id, ITEM_PREFIX
                    ),
                );
            }
            if !section_ids.contains(&step.section.as_str()) {
                let m = undefined("section", &step.section, section_ids.iter());
                self.err(&at("section"), m);
            }
            if let Some(day) = &step.day
                && day != "tag_day"
                && day != "push_day"
                && parse_weekday(day).is_err()
            {
                self.err(
                    &at("day"),
                    format!(
                        "`{day}` is not a day; expected `tag_day`, `push_day` or a weekday name"
                    ),
                );
            }
            if let Some(repo) = step.kind.repo()
                && !self.rb.repos.contains_key(repo)
            {
                let m = undefined("repo", repo, self.rb.repos.keys());
                self.err(&at("repo"), m);
            }
            if let Some((name, kinds)) = step.kind.service() {
                match self.rb.services.get(name) {
                    None => {
                        let m = undefined("service", name, self.rb.services.keys());
                        self.err(&at("service"), m);
                    }
                    Some(svc) if !kinds.contains(&svc.kind()) => {
                        let m = format!(
                            "service `{name}` is a {} service; a `{}` step needs one of: {}",
                            svc.kind(),
                            step.kind.name(),
                            kinds.join(", ")
                        );
                        self.err(&at("service"), m);
                    }
                    Some(_) => {}
                }
            }
            for (j, dep) in step.after.iter().enumerate() {
                let path = [
                    Seg::Key("steps"),
                    Seg::Index(i),
                    Seg::Key("after"),
                    Seg::Index(j),
                ];
                self.earlier_step(i, dep, &path);
            }
            step.kind.check(&mut Rules { c: self, i, step });
            self.outputs(i, step);
        }
    }

    /// `dep` must name a step that comes before step `i`.
    fn earlier_step(&mut self, i: usize, dep: &str, path: &[Seg]) {
        match self.positions.get(dep).copied() {
            None => {
                let ids: Vec<&String> = self.rb.steps.iter().map(|s| &s.id).collect();
                let m = undefined("step", dep, ids);
                self.err(path, m);
            }
            Some(k) if k >= i => {
                self.err(path, format!("step `{dep}` does not come before this one"));
            }
            Some(_) => {}
        }
    }

    fn outputs(&mut self, i: usize, step: &Step) {
        let info = step.kind.info();
        for (j, name) in step.outputs.iter().enumerate() {
            let path = [
                Seg::Key("steps"),
                Seg::Index(i),
                Seg::Key("outputs"),
                Seg::Index(j),
            ];
            if let Some(allowed) = info.outputs
                && !allowed.contains(&name.as_str())
            {
                let m = if allowed.is_empty() {
                    format!("a `{}` step has no outputs", info.name)
                } else {
                    format!(
                        "a `{}` step has no output `{name}`; it can give: {}",
                        info.name,
                        allowed.join(", ")
                    )
                };
                self.err(&path, m);
                continue;
            }
            self.define(i, name, &path, step);
        }
    }

    /// Records a step-made variable; names must be identifiers and not shadow anything.
    fn define(&mut self, i: usize, name: &str, path: &[Seg], step: &Step) {
        if !is_identifier(name) || name.contains('-') {
            self.err(
                path,
                format!("`{name}` is not a variable name (letters, digits and `_`)"),
            );
        } else if BUILTINS.contains(&name) {
            self.err(
                path,
                format!("`{name}` is a built-in variable; choose another name"),
            );
        } else if let Some(&first) = self.defs.get(name) {
            // Branches may set the same name: both steps must then be conditional. Steps of
            // different repos may too: each repo's outputs are also `repos.NAME.*`.
            let both_branches = step.only_if.is_some() && self.rb.steps[first].only_if.is_some();
            let other_repo = matches!(
                (step.kind.repo(), self.rb.steps[first].kind.repo()),
                (Some(a), Some(b)) if a != b
            );
            if !both_branches && !other_repo {
                let other = self.rb.steps[first].id.clone();
                self.err(path, format!("`{name}` is already set by step `{other}`"));
            }
        } else {
            self.defs.insert(name.to_string(), i);
        }
    }

    /// Every templated string: it must compile and read only variables that exist by then.
    fn templates(&mut self) {
        let rb = self.rb;
        for (k, v) in &rb.links {
            self.template(&[Seg::Key("links"), Seg::Key(k)], v, None);
        }
        for (k, v) in &rb.vars {
            if let VarValue::Text(v) = v {
                self.template(&[Seg::Key("vars"), Seg::Key(k)], v, None);
            }
        }
        if let Some(v) = &rb.schedule.version {
            let path = [Seg::Key("schedule"), Seg::Key("version")];
            self.template(&path, v, None);
            // The version names the tag, so it is read before any tag or repo is known.
            let late: Vec<String> = refs::variables(v)
                .unwrap_or_default()
                .into_iter()
                .filter(|r| {
                    let root = r.split('.').next().unwrap_or(r);
                    VERSION_CANNOT_READ.contains(&root)
                })
                .collect();
            if let Some(r) = late.first() {
                self.err(
                    &path,
                    format!("`schedule.version` cannot read `{r}`: the version is known before the tags, repos and links (use `vars.*` and the dates)"),
                );
            }
        }
        for (name, svc) in &rb.services {
            for (field, text) in service_strings(svc) {
                self.template(
                    &[Seg::Key("services"), Seg::Key(name), Seg::Key(field)],
                    text,
                    None,
                );
            }
        }
        for (i, step) in rb.steps.iter().enumerate() {
            for (field, text) in step_strings(step) {
                let path = [Seg::Key("steps"), Seg::Index(i), Seg::Key(field)];
                self.template(&path, text, Some(i));
            }
            if let Some(cond) = &step.only_if {
                let path = [Seg::Key("steps"), Seg::Index(i), Seg::Key("only_if")];
                match refs::condition_variables(cond) {
                    Ok(vars) => self.references(&path, &vars, Some(i)),
                    Err(e) => self.inline_error(&path, &e),
                }
            }
            if let Some(file) = step.kind.template_file() {
                self.template_file(i, file);
            }
        }
    }

    fn template(&mut self, path: &[Seg], text: &str, step: Option<usize>) {
        match refs::variables(text) {
            Ok(vars) => self.references(path, &vars, step),
            Err(e) => self.inline_error(path, &e),
        }
    }

    fn template_file(&mut self, i: usize, file: &str) {
        let path = [Seg::Key("steps"), Seg::Index(i), Seg::Key("template")];
        let (name, text) = match self.base.read(file) {
            Ok(found) => found,
            Err(e) => {
                self.err(&path, format!("{e:#}"));
                return;
            }
        };
        let src = crate::diag::Source::new(name, text);
        match refs::variables(&src.text) {
            Ok(vars) => {
                for v in vars {
                    if let Some(problem) = self.reference_problem(&v, Some(i)) {
                        // Problems inside a template file point into that file.
                        let off = src.text.find(v.as_str()).unwrap_or(0);
                        self.diags.push(src.diag(&(off..off), problem));
                    }
                }
            }
            Err(e) => {
                let off = offset_of(&src.text, e.line, e.col);
                self.diags.push(src.diag(&(off..off), e.message));
            }
        }
    }

    fn references(&mut self, path: &[Seg], vars: &[String], step: Option<usize>) {
        for v in vars {
            if let Some(problem) = self.reference_problem(v, step) {
                self.err(path, problem);
            }
        }
    }

    /// Why a variable reference is wrong, if it is.
    fn reference_problem(&self, var: &str, step: Option<usize>) -> Option<String> {
        let mut parts = var.split('.');
        let root = parts.next().unwrap_or(var);
        let sub = parts.next();
        let defined_names = || {
            BUILTINS
                .iter()
                .map(|s| s.to_string())
                .chain(self.defs.keys().cloned())
                .collect::<Vec<_>>()
        };
        match (root, sub) {
            ("repos", Some(name)) => {
                if !self.rb.repos.contains_key(name) {
                    return Some(undefined("repo", name, self.rb.repos.keys()));
                }
                // A repo's own fields, and the outputs of its steps that come before this one
                // (`repos.server.shipping_compare_url`).
                let before = step.map_or(self.rb.steps.len(), |i| i.min(self.rb.steps.len()));
                let outputs: Vec<&str> = self.rb.steps[..before]
                    .iter()
                    .filter(|s| s.kind.repo() == Some(name))
                    .flat_map(|s| s.outputs.iter().map(String::as_str))
                    .collect();
                match parts.next() {
                    Some(field)
                        if !REPO_FIELDS.contains(&field)
                            && field != "made_tags"
                            && !outputs.contains(&field) =>
                    {
                        let mut known: Vec<&str> = REPO_FIELDS.to_vec();
                        known.extend(outputs);
                        Some(format!(
                            "`{var}`: a repo has no `{field}`; expected one of: {} (a repo step's outputs count once that step comes earlier)",
                            known.join(", ")
                        ))
                    }
                    _ => None,
                }
            }
            ("links", Some(name)) if !self.rb.links.contains_key(name) => {
                Some(undefined("link", name, self.rb.links.keys()))
            }
            ("vars", Some(name)) if !self.rb.vars.contains_key(name) => {
                Some(undefined("var", name, self.rb.vars.keys()))
            }
            _ if BUILTINS.contains(&root) => None,
            _ => match self.defs.get(root) {
                None => {
                    let names = defined_names();
                    let hint = closest(root, names.iter().map(String::as_str))
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    Some(format!("undefined variable `{root}`{hint}"))
                }
                Some(&def) => match step {
                    Some(i) if def >= i => Some(format!(
                        "`{root}` is set by step `{}`, which does not come before this one",
                        self.rb.steps[def].id
                    )),
                    _ => None,
                },
            },
        }
    }

    /// A syntax error inside a TOML string: point at the spot within the string when we can.
    fn inline_error(&mut self, path: &[Seg], e: &TemplateError) {
        let span = self.span(path);
        let text = &self.doc.source.text;
        let start = span.start.min(text.len());
        let open = text[start..]
            .chars()
            .take_while(|c| *c == '"' || *c == '\'')
            .count()
            .min(3);
        let mut body = start + open;
        if open == 3 && text[body..].starts_with('\n') {
            body += 1;
        }
        let inner = &text[body.min(text.len())..span.end.min(text.len()).max(body.min(text.len()))];
        let off = body + offset_of(inner, e.line, e.col);
        let d: Diagnostic = self.doc.source.diag(&(off..off), e.message.clone());
        self.diags.push(d);
    }
}

/// Byte offset of a 1-based line and column in a text (clamped to the text).
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            let within: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return off + within;
        }
        off += l.len();
    }
    off.min(text.len())
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `owner/repo`: two non-empty parts.
fn is_owner_repo(s: &str) -> bool {
    matches!(s.split_once('/'), Some((o, r)) if !o.is_empty() && !r.is_empty() && !r.contains('/'))
}

pub(crate) fn looks_like_address(s: &str) -> bool {
    let addr = s
        .rsplit_once('<')
        .map_or(s, |(_, a)| a.trim_end_matches('>'));
    matches!(addr.split_once('@'), Some((user, host)) if !user.is_empty() && host.contains('.') && !addr.contains(' '))
}

pub(crate) fn unknown(what: &str, word: &str, options: &[&str]) -> String {
    format!(
        "unknown {what} `{word}`; expected one of: {}",
        options.join(", ")
    )
}

pub(crate) fn undefined<'a, S: AsRef<str> + 'a>(
    what: &str,
    name: &str,
    defined: impl IntoIterator<Item = &'a S>,
) -> String {
    let names: Vec<&str> = defined.into_iter().map(AsRef::as_ref).collect();
    if names.is_empty() {
        return format!("undefined {what} `{name}`: the runbook defines no {what}s");
    }
    let hint = closest(name, names.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    format!(
        "undefined {what} `{name}`{hint}; defined: {}",
        names.join(", ")
    )
}

/// Templated string fields of a step (besides its template file and `only_if`).
pub fn step_strings(step: &Step) -> Vec<(&'static str, &str)> {
    let mut out = vec![("title", step.title.as_str()), ("doc", step.doc.as_str())];
    out.extend(step.kind.strings());
    out
}

/// Templated string fields of a service.
pub fn service_strings(svc: &Service) -> Vec<(&'static str, &str)> {
    match svc {
        Service::Etherpad(e) => vec![("pad", e.pad.as_str())],
        Service::MarkdownNotes(m) => vec![("path", m.path.as_str())],
        Service::Sentry(s) => s
            .environment
            .as_deref()
            .map(|e| vec![("environment", e)])
            .unwrap_or_default(),
        _ => vec![],
    }
}

/// A Matrix room id as the API takes it: `!opaque:server`, or `!opaque` alone in the room
/// versions that dropped the server part.
fn is_room_id(room: &str) -> bool {
    room.strip_prefix('!')
        .is_some_and(|r| !r.is_empty() && !r.starts_with(':') && !r.contains(char::is_whitespace))
}

/// What is wrong with a metric series' limits, if anything.
fn series_problem(s: &MetricSeries) -> Option<String> {
    let misplaced = match s.direction {
        Direction::Increase if s.max_drop_percent.is_some() => Some("max_drop_percent"),
        Direction::Decrease if s.max_rise_percent.is_some() => Some("max_rise_percent"),
        _ => None,
    };
    if let Some(field) = misplaced {
        let dir = match s.direction {
            Direction::Increase => "increase",
            Direction::Decrease => "decrease",
        };
        return Some(format!(
            "series `{}`: `{field}` has no effect with `direction = \"{dir}\"` (only a change in the harmful direction is judged)",
            s.name
        ));
    }
    if s.alpha.is_some_and(|a| !(a > 0.0 && a < 1.0)) {
        return Some(format!(
            "series `{}`: `alpha` is a significance level between 0 and 1, e.g. 0.05",
            s.name
        ));
    }
    let negative = [s.max_rise_percent, s.max_drop_percent]
        .into_iter()
        .flatten()
        .any(|p| p.is_nan() || p < 0.0);
    negative.then(|| format!("series `{}`: percents must be 0 or more", s.name))
}
