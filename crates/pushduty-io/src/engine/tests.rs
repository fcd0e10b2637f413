//! Every status transition, run through the real executors, waiting on channels (no sleeps).

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use pushduty_platform::process::State;

use super::*;
use crate::config::Config;
use crate::runbook::vars::Now;
use crate::session::journal::{self, Transition};
use crate::session::{SessionState, read_state};

/// The step transitions of a journal, with who made each.
fn transitions(path: &Path) -> Vec<(String, Transition)> {
    journal::read(path)
        .unwrap()
        .entries
        .into_iter()
        .filter_map(|e| match e.event {
            journal::Event::Step(t) => Some((e.operator, t)),
            _ => None,
        })
        .collect()
}

const WAIT: Duration = Duration::from_secs(10);

fn fixture(name: &str) -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join("tests/fixtures/runbooks/valid")
        .join(name);
    match crate::runbook::load(Some(&p), &[]) {
        Ok(l) => l,
        Err(d) => panic!("{d}"),
    }
}

fn vars(loaded: &Loaded) -> Vars {
    let d = chrono::NaiveDate::from_ymd_opt(2015, 9, 8).unwrap();
    Vars::compute(
        loaded,
        &Config::default(),
        Now::Date(d),
        "tester",
        "run",
        &crate::git::tags::checkout_release_tags,
    )
    .unwrap()
}

struct Rig {
    engine: Engine,
    rx: mpsc::Receiver<Event>,
}

fn rig(name: &str, state_dir: Option<&Path>) -> Rig {
    let loaded = fixture(name);
    let v = vars(&loaded);
    let fresh = SessionState::new(&loaded.runbook, &v, "tester");
    let session = match state_dir {
        Some(d) => Session::open(d, fresh, &loaded.runbook).unwrap().0,
        None => Session::in_memory(fresh),
    };
    let (tx, rx) = mpsc::channel();
    let notify: Notify = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    let engine = Engine::new(loaded, v, session, "tester", Arc::new(NoEdit), notify).unwrap();
    Rig { engine, rx }
}

impl Rig {
    /// A shell step of the fixture, to change for one test.
    fn shell_step(&mut self, id: &str) -> &mut crate::runbook::model::ShellStep {
        match self.engine.loaded.runbook.step_mut(id).map(|s| &mut s.kind) {
            Some(crate::runbook::model::StepKind::Shell(sh)) => sh,
            _ => panic!("the fixture has no shell step {id}"),
        }
    }

    /// Runs a step to its end; returns the progress lines.
    fn run(&mut self, id: &str, inputs: &[(&str, &str)]) -> Vec<String> {
        let inputs = inputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.engine.start(id, inputs, None).unwrap();
        assert!(matches!(self.engine.status(id), Status::Running { .. }));
        let mut lines = Vec::new();
        loop {
            match self
                .rx
                .recv_timeout(WAIT)
                .expect("step did not finish in time")
            {
                Event::Progress { line, .. } => lines.push(line),
                Event::Checkpoint { step, values, ack } => {
                    self.engine.checkpoint(&step, values, &ack).unwrap()
                }
                Event::Finished { step, result } => {
                    assert_eq!(step, id);
                    self.engine.finish(&step, result).unwrap();
                    return lines;
                }
                Event::LogWritten => self.engine.log_back(),
            }
        }
    }
}

#[test]
fn manual_step_ticks_off_with_note_and_outputs() {
    let mut r = rig("engine.toml", None);
    assert_eq!(r.engine.status("hello"), Status::Pending);
    let specs = r.engine.inputs("hello").unwrap();
    assert_eq!(
        specs.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
        ["note", "blockers"]
    );
    assert!(
        r.engine.start("hello", Inputs::new(), None).is_err(),
        "a declared output is required"
    );
    r.run(
        "hello",
        &[("note", "swapped with kumar"), ("blockers", "none")],
    );
    assert!(matches!(r.engine.status("hello"), Status::Done { .. }));
    let st = &r.engine.session.state.steps["hello"];
    assert_eq!(st.note.as_deref(), Some("swapped with kumar"));
    assert_eq!(st.outputs["blockers"], "none");
    assert_eq!(r.engine.context()["blockers"], "none");
    assert!(
        r.engine.refusal("hello").is_some(),
        "done steps do not run again"
    );
}

#[test]
fn choice_makes_later_steps_apply_or_not() {
    let mut r = rig("engine.toml", None);
    assert_eq!(r.engine.status("if-master"), Status::Pending);
    assert!(
        r.engine
            .start(
                "strategy",
                [("strategy".to_string(), "nope".to_string())].into(),
                None
            )
            .is_err()
    );
    r.run("strategy", &[("strategy", "2")]);
    assert_eq!(r.engine.session.state.values["strategy"], "cherry_pick");
    assert_eq!(r.engine.status("if-master"), Status::NotApplicable);
    assert_eq!(r.engine.status("if-cherry"), Status::Pending);
    assert!(r.engine.refusal("if-master").is_some());
}

#[test]
fn gate_records_who_and_when() {
    let mut r = rig("engine.toml", None);
    let specs = r.engine.inputs("qa").unwrap();
    assert!(specs[0].prompt.contains("krupa"), "{specs:?}");
    r.run("qa", &[("approved_by", "krupa")]);
    let out = &r.engine.session.state.steps["qa"].outputs;
    assert_eq!(out["approved_by"], "krupa");
    assert!(out["approved_at"].as_str().unwrap().starts_with("20"));
}

#[test]
fn template_renders_into_the_session_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig("engine.toml", Some(dir.path()));
    r.run("strategy", &[("strategy", "master")]);
    r.run("notes", &[]);
    let out = r.engine.session.state.steps["notes"].outputs["rendered_path"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(out.starts_with(dir.path().to_str().unwrap()), "{out}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "# Push 2015.09.10\nHero: ana. Strategy: master.\n"
    );
}

#[test]
fn shell_streams_output_and_records_exit_code() {
    let mut r = rig("engine.toml", None);
    let lines = r.run("echo", &[]);
    assert!(
        lines.contains(&"one".to_string()) && lines.contains(&"two".to_string()),
        "{lines:?}"
    );
    assert_eq!(r.engine.session.state.steps["echo"].outputs["exit_code"], 0);
}

#[test]
fn shell_cancel_kills_the_process_group() {
    let mut r = rig("engine.toml", None);
    // A command whose child would outlive a plain kill of the shell.
    let pidfile = tempfile::NamedTempFile::new().unwrap();
    let sh = r.shell_step("echo");
    {
        sh.command = format!(
            "sleep 30 & echo $! > {}; echo started; wait",
            pidfile.path().display()
        );
    }
    r.engine.start("echo", Inputs::new(), None).unwrap();
    // Wait until the command says it started, then cancel.
    loop {
        match r.rx.recv_timeout(WAIT).unwrap() {
            Event::Progress { line, .. } if line == "started" => break,
            Event::Checkpoint { step, values, ack } => {
                r.engine.checkpoint(&step, values, &ack).unwrap();
            }
            Event::Progress { .. } | Event::LogWritten => {}
            Event::Finished { result, .. } => panic!("finished early: {result:?}"),
        }
    }
    r.engine.cancel("echo");
    let result = loop {
        if let Event::Finished { result, .. } = r.rx.recv_timeout(WAIT).unwrap() {
            break result;
        }
    };
    let err = result.clone().unwrap_err();
    assert!(err.contains("cancelled"), "{err}");
    r.engine.finish("echo", result).unwrap();
    assert!(matches!(r.engine.status("echo"), Status::Failed { .. }));
    let pid: u32 = std::fs::read_to_string(pidfile.path())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The grandchild got SIGKILL with its group; it is reaped by init shortly after.
    let deadline = std::time::Instant::now() + WAIT;
    while pushduty_platform::process::alive(pid) && !is_zombie(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "sleep {pid} survived the cancel"
        );
        std::thread::yield_now();
    }
}

/// The write-ahead for a command: when its process group reaches the journal, the command
/// has not run anything yet (its shell is stopped), and it runs only after the line is in.
#[test]
fn a_command_does_nothing_until_its_process_group_is_journaled() {
    let mut r = rig("engine.toml", None);
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    r.shell_step("echo").command = format!("touch {}", marker.display());
    r.engine.start("echo", Inputs::new(), None).unwrap();
    let (pgid, ack) = loop {
        match r.rx.recv_timeout(WAIT).unwrap() {
            Event::Checkpoint { values, ack, .. } => {
                break (values[shell::PGID].as_u64().unwrap(), ack);
            }
            Event::Progress { .. } | Event::LogWritten => {}
            Event::Finished { result, .. } => panic!("finished unjournaled: {result:?}"),
        }
    };
    // Held at the journal: stopped, and nothing done.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let state = pushduty_platform::process::state(pgid);
    assert_eq!(state, Some(State::Stopped), "not stopped");
    assert!(
        !marker.exists(),
        "the command ran before its group was journaled"
    );
    ack.reply(&Ok(()));
    let result = loop {
        if let Event::Finished { result, .. } = r.rx.recv_timeout(WAIT).unwrap() {
            break result;
        }
    };
    assert!(result.is_ok(), "{result:?}");
    assert!(marker.exists());
}

/// A journal that cannot take the group's line means the command never runs.
#[test]
fn a_command_whose_group_cannot_be_journaled_never_runs() {
    let mut r = rig("engine.toml", None);
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    r.shell_step("echo").command = format!("touch {}", marker.display());
    r.engine.start("echo", Inputs::new(), None).unwrap();
    let result = loop {
        match r.rx.recv_timeout(WAIT).unwrap() {
            Event::Checkpoint { ack, .. } => ack.reply(&Err(anyhow::anyhow!("disk full"))),
            Event::Progress { .. } | Event::LogWritten => {}
            Event::Finished { result, .. } => break result,
        }
    };
    let err = result.unwrap_err();
    assert!(
        err.contains("disk full") && err.contains("not run"),
        "{err}"
    );
    assert!(!marker.exists(), "the command ran unjournaled");
}

/// A zombie, or gone (its state cannot be read).
fn is_zombie(pid: u32) -> bool {
    pushduty_platform::process::state(u64::from(pid)).is_none_or(|s| s == State::Zombie)
}

#[test]
fn a_service_step_without_credentials_fails_plainly_and_can_be_retried_or_skipped() {
    let mut r = rig("engine.toml", None);
    r.run("deploy", &[]);
    match r.engine.status("deploy") {
        Status::Failed { error } => {
            assert_eq!(
                error,
                "service `ci` has no user: set `services.ci.user` in your config"
            )
        }
        other => panic!("{other:?}"),
    }
    // Retry is allowed from failed, and fails the same way.
    assert!(r.engine.refusal("deploy").is_none());
    r.run("deploy", &[]);
    assert!(matches!(r.engine.status("deploy"), Status::Failed { .. }));
    assert!(
        r.engine.skip("deploy", " ").is_err(),
        "a reason is required"
    );
    r.engine.skip("deploy", "ops deployed by hand").unwrap();
    assert_eq!(
        r.engine.status("deploy"),
        Status::Skipped {
            reason: "ops deployed by hand".into()
        }
    );
}

#[test]
fn every_transition_is_journaled_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig("engine.toml", Some(dir.path()));
    r.run("hello", &[("blockers", "none"), ("note", "all quiet")]);
    r.run("strategy", &[("strategy", "master")]);
    r.engine.skip("qa", "no QA this week").unwrap();
    let path = r.engine.session.dir().unwrap().join("journal.jsonl");
    let entries = transitions(&path);
    let seen: Vec<String> = entries
        .iter()
        .map(|(_, e)| format!("{} {}>{}", e.step, e.from, e.to))
        .collect();
    assert_eq!(
        seen,
        [
            "hello pending>running",
            "hello running>done",
            "strategy pending>running",
            "strategy running>done",
            "if-cherry pending>not_applicable",
            "qa pending>skipped",
        ]
    );
    assert!(entries.iter().all(|(op, _)| op == "tester"));
    let e = |i: usize| &entries[i].1;
    assert_eq!(e(1).outputs["blockers"], "none");
    assert_eq!(e(0).note.as_deref(), Some("all quiet"));
    assert_eq!(e(1).note.as_deref(), Some("all quiet"));
    assert_eq!(e(3).note, None);
    // What each did, and why a step was skipped, are in the journal itself.
    assert_eq!(e(0).action.as_deref(), Some("tick off \"Say hello\""));
    assert_eq!(e(5).reason.as_deref(), Some("no QA this week"));
    // The state file says the same.
    let st = read_state(&r.engine.session.dir().unwrap().join("session.json")).unwrap();
    assert_eq!(st, r.engine.session.state);
}

/// Journals step `id` as started, as the engine does before it acts.
fn start(s: &mut Session, id: &str) -> Result<()> {
    let running = Status::Running {
        since: String::new(),
    };
    s.record(id, running, "tester", Transition::new("", "", ""))
}

#[test]
fn a_session_whose_lock_was_deleted_writes_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = fixture("engine.toml");
    let v = vars(&loaded);
    let fresh = || SessionState::new(&loaded.runbook, &v, "tester");
    let (mut first, _) = Session::open(dir.path(), fresh(), &loaded.runbook).unwrap();
    let sdir = first.dir().unwrap().to_path_buf();
    let done = || Status::Done { at: String::new() };
    first
        .record("hello", done(), "tester", Transition::new("", "", ""))
        .unwrap();
    // Someone cleans up the "stale" lock; a second pushduty opens the same push.
    std::fs::remove_file(sdir.join("lock")).unwrap();
    let (mut second, _) = Session::open(dir.path(), fresh(), &loaded.runbook).unwrap();
    let before = transitions(&sdir.join("journal.jsonl")).len();
    let refused = start(&mut first, "echo").unwrap_err().to_string();
    assert!(refused.contains("was deleted or replaced"), "{refused}");
    assert_eq!(transitions(&sdir.join("journal.jsonl")).len(), before);
    // The one that holds the lock at its path goes on.
    start(&mut second, "echo").unwrap();
    assert_eq!(transitions(&sdir.join("journal.jsonl")).len(), before + 1);
}

#[test]
fn resume_after_a_crash_mid_step_shows_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = fixture("engine.toml");
    let v = vars(&loaded);
    let sdir = {
        // A process that dies mid-step: its journal says `echo` is running.
        let fresh = SessionState::new(&loaded.runbook, &v, "tester");
        let (mut s, _) = Session::open(dir.path(), fresh, &loaded.runbook).unwrap();
        s.record(
            "hello",
            Status::Done { at: String::new() },
            "tester",
            Transition::new("", "", ""),
        )
        .unwrap();
        start(&mut s, "echo").unwrap();
        s.dir().unwrap().to_path_buf()
    };
    let since = match read_state(&sdir.join("session.json")).unwrap().steps["echo"]
        .status
        .clone()
    {
        Status::Running { since } => since,
        other => panic!("{other:?}"),
    };
    let fresh = SessionState::new(&loaded.runbook, &v, "someone-else");
    let (session, opened) = Session::open(dir.path(), fresh, &loaded.runbook).unwrap();
    assert!(opened.resumed);
    assert_eq!(opened.interrupted, ["echo"]);
    assert!(opened.changes.is_empty());
    assert!(matches!(session.status("hello"), Some(Status::Done { .. })));
    assert_eq!(session.status("echo"), Some(&Status::Interrupted { since }));
    assert_eq!(
        session.state.operator, "tester",
        "the session keeps who began it"
    );
    let last = transitions(&sdir.join("journal.jsonl")).pop().unwrap().1;
    assert_eq!(
        (last.from.as_str(), last.to.as_str()),
        ("running", "interrupted")
    );
    assert!(
        last.reason
            .unwrap()
            .contains("stopped while this step was running")
    );
    drop(session);
    // An interrupted step may run again once the operator confirms it.
    let mut r = rig("engine.toml", Some(dir.path()));
    assert!(r.engine.refusal("echo").is_none());
    r.run("echo", &[]);
    assert!(matches!(r.engine.status("echo"), Status::Done { .. }));
}

#[test]
fn runbook_changes_are_listed_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = fixture("engine.toml");
    let v = vars(&loaded);
    // The session began with an older runbook: no `qa`, another `hello`, a step `gone`.
    let mut old = loaded.runbook.clone();
    old.steps.retain(|s| s.id != "qa");
    old.step_mut("hello").unwrap().common.title = "Say hello (old)".into();
    let mut gone = old.steps[0].clone();
    gone.common.id = "gone".into();
    old.steps.push(gone);
    drop(Session::open(dir.path(), SessionState::new(&old, &v, "tester"), &old).unwrap());
    let fresh = SessionState::new(&loaded.runbook, &v, "tester");
    let (session, opened) = Session::open(dir.path(), fresh, &loaded.runbook).unwrap();
    assert_eq!(opened.changes.added, ["qa"]);
    assert_eq!(opened.changes.removed, ["gone"]);
    assert_eq!(opened.changes.changed, ["hello"]);
    let ids: Vec<_> = session.state.steps.keys().cloned().collect();
    let want: Vec<_> = loaded.runbook.steps.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, want, "runbook order kept");
    // The journal says so too: a rebuild gives the same steps.
    let rebuilt = crate::session::load(session.dir().unwrap()).unwrap().state;
    assert_eq!(rebuilt.steps, session.state.steps);
}

#[test]
fn a_second_open_of_the_same_push_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = rig("two-manual.toml", Some(dir.path()));
    let loaded = fixture("two-manual.toml");
    let v = vars(&loaded);
    let fresh = SessionState::new(&loaded.runbook, &v, "tester");
    match Session::open(dir.path(), fresh, &loaded.runbook) {
        Err(crate::session::lock::LockError::Held(Some(h))) => {
            assert_eq!(h.pid, std::process::id())
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened twice"),
    }
}

#[test]
fn history_summarises_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig("two-manual.toml", Some(dir.path()));
    r.run("first", &[]);
    let h = crate::session::history(dir.path()).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].done, h[0].total), (1, 2));
    assert_eq!(h[0].outcome, "in progress");
    assert_eq!(h[0].push_date, "2015-09-10");
    r.run("second", &[]);
    assert_eq!(
        crate::session::history(dir.path()).unwrap()[0].outcome,
        "complete"
    );
}

struct Shout;

impl Console for Shout {
    fn edit(&self, text: &str, _name: &str, _cancel: &Cancel) -> anyhow::Result<String> {
        Ok(text.to_uppercase())
    }
}

#[test]
fn template_goes_through_the_console_when_editing() {
    use crate::runbook::model::StepKind;
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig("engine.toml", Some(dir.path()));
    r.engine.console = Arc::new(Shout);
    let Some(StepKind::Template(t)) = r
        .engine
        .loaded
        .runbook
        .step_mut("notes")
        .map(|s| &mut s.kind)
    else {
        panic!("the fixture has no step notes of that kind");
    };
    {
        t.edit = true;
        t.output = "out/{{ tag }}.md".into();
    }
    r.run("strategy", &[("strategy", "master")]);
    let lines = r.run("notes", &[]);
    assert!(lines.iter().any(|l| l == "edited"), "{lines:?}");
    let out = r.engine.session.dir().unwrap().join("out/2015.09.10.md");
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        "# PUSH 2015.09.10\nHERO: ANA. STRATEGY: MASTER.\n"
    );
}

#[test]
fn run_editor_returns_what_the_editor_saved() {
    let dir = tempfile::tempdir().unwrap();
    let out = editor::run_editor(
        "sed -i s/draft/final/",
        "a draft\n",
        "notes.md",
        dir.path(),
        &|| false,
    )
    .unwrap();
    assert_eq!(out, "a final\n");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "the copy is removed"
    );
    assert!(editor::run_editor("false", "x", "n.md", dir.path(), &|| false).is_err());
}

#[test]
fn not_applicable_steps_come_back_when_the_value_they_read_goes() {
    let mut r = rig("engine.toml", None);
    r.run("strategy", &[("strategy", "master")]);
    assert_eq!(r.engine.status("if-cherry"), Status::NotApplicable);
    // As after a resume whose runbook no longer sets the value: pending again, journaled.
    r.engine.session.state.values.remove("strategy");
    r.engine.refresh_applicability().unwrap();
    assert_eq!(r.engine.status("if-cherry"), Status::Pending);
    assert_eq!(r.engine.status("if-master"), Status::Pending);
}

#[test]
fn a_done_step_cannot_be_skipped_only_reopened() {
    let mut r = rig("two-manual.toml", None);
    r.run("first", &[]);
    let err = r.engine.skip("first", "oops").unwrap_err().to_string();
    assert!(err.contains("is done: reopen it instead"), "{err}");
    r.engine.skip("second", "not this week").unwrap();
    let why = r.engine.refusal("second").unwrap();
    assert!(why.contains("reopen it to run it after all"), "{why}");
    assert!(r.engine.start("second", Inputs::new(), None).is_err());
    assert!(r.engine.skip("second", "again").is_err(), "skipped already");
    r.engine.reopen("second", "we do it after all").unwrap();
    r.run("second", &[]);
    assert!(matches!(r.engine.status("second"), Status::Done { .. }));
}

#[test]
fn a_step_that_needs_a_value_not_set_yet_is_refused_naming_who_sets_it() {
    let mut r = rig("engine.toml", None);
    let sh = r.shell_step("echo");
    sh.command = "echo blockers: {{ blockers }}".into();
    let why = r.engine.refusal("echo").unwrap();
    assert_eq!(why, "`blockers` is not set yet (step `hello` sets it)");
    assert!(r.engine.start("echo", Inputs::new(), None).is_err());
    // The preview marks the value; it can never be run as it stands.
    let preview = r.engine.preview("echo").unwrap();
    assert!(preview.contains("\u{27e8}blockers\u{27e9}"), "{preview}");
    r.run("hello", &[("blockers", "it's <none> & $(whoami)")]);
    let lines = r.run("echo", &[]);
    assert!(
        lines.contains(&"blockers: it's <none> & $(whoami)".to_string()),
        "substituted as one quoted word: {lines:?}"
    );
}

#[test]
fn an_item_is_a_manual_step_that_outlives_a_runbook_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig("two-manual.toml", Some(dir.path()));
    let id = r.engine.add_item("Ask {{ hero }}", None, false).unwrap();
    assert_eq!(id, "item-1");
    assert!(r.engine.is_item(&id));
    let step = r.engine.step(&id).unwrap().clone();
    assert_eq!(step.kind.name(), "manual");
    // Its text is data: filled in, it is what was typed.
    assert_eq!(
        crate::preview::fill(&step.title, &r.engine.context()),
        "Ask {{ hero }}"
    );
    assert_eq!(r.engine.action(&id).unwrap(), "tick off \"Ask {{ hero }}\"");
    r.run(&id, &[]);
    assert!(matches!(r.engine.status(&id), Status::Done { .. }));
    assert_eq!(r.engine.session.state.progress(), (1, 3));
    drop(r);

    // The team drops `second` from the runbook: the item is not "removed" with it.
    let mut loaded = fixture("two-manual.toml");
    loaded.runbook.steps.retain(|s| s.id != "second");
    let v = vars(&loaded);
    let fresh = SessionState::new(&loaded.runbook, &v, "tester");
    let (session, opened) = Session::open(dir.path(), fresh, &loaded.runbook).unwrap();
    assert_eq!(opened.changes.removed, vec!["second".to_string()]);
    assert!(matches!(
        session.state.steps["item-1"].status,
        Status::Done { .. }
    ));
    let engine = Engine::new(
        loaded,
        v,
        session,
        "tester",
        Arc::new(NoEdit),
        Arc::new(|_| {}),
    )
    .unwrap();
    let ids: Vec<&str> = engine
        .loaded
        .runbook
        .steps
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["first", "item-1"]);
}

#[test]
fn item_texts_are_one_plain_bounded_line() {
    assert_eq!(item_text("  a\n\tb  ").unwrap(), "a b");
    assert!(item_text("a\u{1b}[2Jb").is_err());
    assert!(item_text("a\u{202e}b").is_err());
    assert!(item_text(" \n").is_err());
    assert!(item_text(&"é".repeat(ITEM_MAX_CHARS)).is_ok());
    assert!(item_text(&"é".repeat(ITEM_MAX_CHARS + 1)).is_err());
}

/// With a live clock (no `--now`), today is the wall clock's, not the day the session began:
/// a screen left open from Tuesday sees Thursday's steps come due on Thursday.
#[test]
fn a_live_clock_moves_today_on() {
    let mut r = rig("days.toml", None);
    let began = chrono::NaiveDate::from_ymd_opt(2015, 9, 8).unwrap();
    assert_eq!(r.engine.today(), Some(began));
    assert!(
        r.engine.too_early("ship").is_some(),
        "Thursday's step on Tuesday"
    );
    r.engine.live_clock = true;
    let now = chrono::Utc::now()
        .with_timezone(&r.engine.loaded.calendar.tz)
        .date_naive();
    assert_eq!(r.engine.today(), Some(now));
    assert!(
        r.engine.too_early("ship").is_none(),
        "years later, it is late"
    );
}

/// Marks `id` done with `outputs`, as if it had run (its executor needs no service here).
fn mark_done(r: &mut Rig, id: &str, outputs: serde_json::Value) {
    let st = r.engine.session.state.steps.get_mut(id).unwrap();
    st.status = Status::Done {
        at: "2015-09-08T10:00:00Z".into(),
    };
    st.outputs = outputs
        .as_object()
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default();
}

#[test]
fn a_blockers_fix_leads_to_the_choice_then_the_cherry_pick_once_the_push_is_tagged() {
    let mut r = rig("blocker-path.toml", None);
    r.run("strategy", &[("strategy", "master")]);
    assert_eq!(r.engine.status("pick"), Status::NotApplicable);
    // A fix recorded before the push is tagged ships with the tag: nothing to follow up.
    mark_done(
        &mut r,
        "blockers",
        serde_json::json!({ "blocker_commits": ["abc1234"] }),
    );
    assert_eq!(r.engine.blocker_follow_up(), None);

    // Tagged: the choice that turns the cherry-pick on is reopened, with the option to take.
    mark_done(
        &mut r,
        "tag-main",
        serde_json::json!({ "tag_name": "2015.09.10" }),
    );
    let f = r.engine.blocker_follow_up().unwrap();
    assert_eq!(
        f,
        FollowUp {
            step: "strategy".into(),
            reopen: true,
            choose: Some(("strategy".into(), "cherry_pick".into())),
            commits: vec!["abc1234".into()],
        }
    );
    assert_eq!(
        f.label(),
        "reopen strategy (O), choose cherry_pick: the blockers' fixes abc1234"
    );

    // Chosen: the cherry-pick itself is next.
    r.engine.reopen("strategy", "a blocker's fix").unwrap();
    r.run("strategy", &[("strategy", "cherry_pick")]);
    let f = r.engine.blocker_follow_up().unwrap();
    assert_eq!((f.step.as_str(), f.reopen, f.choose), ("pick", false, None));

    // Picked (its full sha named by the short one recorded): nothing waits any more.
    mark_done(
        &mut r,
        "pick",
        serde_json::json!({ "cherry_picks": { "applied": [
            { "original": "abc1234def5678abc1234def5678abc1234def56" }
        ] } }),
    );
    assert_eq!(r.engine.blocker_follow_up(), None);
}

/// Another operator's line of the push, as a takeover takes it in.
fn theirs(event: journal::Event) -> journal::Entry {
    journal::Entry {
        time: "2015-09-10T14:00:00Z".into(),
        operator: "ann".into(),
        event,
    }
}

#[test]
fn lines_taken_in_come_all_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig("deploy.toml", Some(dir.path()));
    let journal_path = r.engine.session.dir().unwrap().join("journal.jsonl");
    let before = std::fs::read_to_string(&journal_path).unwrap();
    let running = theirs(journal::Event::Step(Transition::new(
        "deploy", "pending", "running",
    )));
    let stray = theirs(journal::Event::Step(Transition::new(
        "nope", "pending", "done",
    )));
    let err = r
        .engine
        .session
        .take_in(
            "tester",
            "the log",
            vec![running.clone(), stray],
            Default::default(),
        )
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("nothing was taken in"),
        "{err:#}"
    );
    assert_eq!(std::fs::read_to_string(&journal_path).unwrap(), before);
    assert_eq!(r.engine.status("deploy"), Status::Pending);
    r.engine
        .session
        .take_in("tester", "the log", vec![running], Default::default())
        .unwrap();
    let after = std::fs::read_to_string(&journal_path).unwrap();
    let added: Vec<&str> = after[before.len()..].lines().collect();
    assert_eq!(added.len(), 2, "{after}");
    assert!(added[0].contains("\"event\":\"imported\""), "{after}");
    assert!(added[1].contains("\"operator\":\"ann\""), "{after}");
    assert!(matches!(r.engine.status("deploy"), Status::Running { .. }));
}

#[test]
fn a_group_left_on_the_old_drivers_machine_is_refused_until_the_driver_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig("deploy.toml", Some(dir.path()));
    // This process's own group: alive here, yet not this machine's to judge once it is ann's.
    let pgid = u64::from(std::process::id());
    let values = Outputs::from([(shell::PGID.to_string(), serde_json::json!(pgid))]);
    let lines = vec![
        theirs(journal::Event::Step(Transition::new(
            "deploy", "pending", "running",
        ))),
        theirs(journal::Event::Checkpoint {
            step: "deploy".into(),
            values,
        }),
    ];
    r.engine
        .session
        .take_in("tester", "the log", lines, Default::default())
        .unwrap();
    let left = crate::teamlog::takein::Left {
        step: "deploy".into(),
        operator: "ann".into(),
        host: "laptop".into(),
        since: "2015-09-10T14:00:00Z".into(),
    };
    r.engine.interrupt_left(&left, "ann is ill").unwrap();
    assert!(matches!(
        r.engine.status("deploy"),
        Status::Interrupted { .. }
    ));
    assert_eq!(r.engine.still_running("deploy"), None);
    let why = r.engine.refusal("deploy").unwrap();
    assert!(
        why.contains(&format!(
            "may still be running elsewhere (on laptop: process group {pgid}"
        )),
        "{why}"
    );
    assert!(r.engine.skip("deploy", "").is_err());
    r.engine
        .reopen("deploy", "checked on ann's laptop")
        .unwrap();
    assert_eq!(r.engine.running_elsewhere("deploy"), None);
    assert_eq!(r.engine.refusal("deploy"), None);
}
