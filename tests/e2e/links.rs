//! The finding: no link could be opened or cleanly copied; URLs wrapped across bordered
//! lines and were retyped by hand. Through the binary in tmux, with everything it writes
//! recorded raw: the step's link is a terminal hyperlink (OSC 8) to the whole address, `o`
//! hands it to the opener named by `$BROWSER` as one argument, `c` puts it on the clipboard
//! (OSC 52) and shows it; the by-hand dialog opens and copies its page (the Jenkins form) the same way.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::e2e_tmux::{Tmux, need_tmux};
use crate::support::cli::Env;

/// The bundled runbook's team calendar, the first step's only link.
const CALENDAR: &str = "https://www.google.com/calendar/embed?src=mozilla.com_lr5jsh38i6dmr72uu4d1nv7dcc%40group.calendar.google.com";

/// An opener that writes each argument it gets on its own line to `log`.
fn fake_opener(env: &Env, log: &Path) -> String {
    let script = env.path().join("opener.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    script.display().to_string()
}

/// Polls `file` until it holds `text`; returns the whole file.
fn wait_in(file: &Path, text: &str) -> String {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let got = String::from_utf8_lossy(&std::fs::read(file).unwrap_or_default()).into_owned();
        if got.contains(text) {
            return got;
        }
        assert!(
            Instant::now() < end,
            "{text:?} never reached {}; it has:\n{got:?}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= c.len() {
                char::from(ABC[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn learn_mode_links_open_with_the_operators_opener_and_copy_with_osc52() {
    need_tmux();
    let env = Env::new();
    let opened = env.path().join("opened.txt");
    let raw = env.path().join("raw.out");
    let browser = format!("BROWSER={}", fake_opener(&env, &opened));
    let t = Tmux::new("links");
    let w = "links";
    t.start_with(&env, w, &[&browser], &["--now", "2015-09-08", "learn"]);
    t.wait_for(w, "READ-ONLY");
    t.record(w, &raw);
    // The first step's one link opens at once, handed over whole as one argument.
    t.keys(w, &["o"]);
    let got = wait_in(&opened, "\n");
    assert_eq!(got, format!("{CALENDAR}\n"));
    t.wait_for(w, "opening https://www.google.com/calendar");
    // `c` copies it and shows it, and what shows it is a hyperlink to the whole address
    // (the dialog wraps it: each piece links to all of it).
    t.keys(w, &["c"]);
    t.wait_for(w, "Copied");
    let out = wait_in(
        &raw,
        &format!("\x1b]52;c;{}\x07", base64(CALENDAR.as_bytes())),
    );
    assert!(
        out.contains(&format!("\x1b]8;;{CALENDAR}\x1b\\")),
        "no hyperlink to the calendar in {out:?}"
    );
    t.keys(w, &["Escape"]);
    t.wait_without(w, "Copied");
    t.keys(w, &["q"]);
    t.wait_exit(w, "0");
}

#[test]
fn the_by_hand_dialog_opens_and_copies_its_page() {
    need_tmux();
    let env = Env::new();
    let opened = env.path().join("opened.txt");
    let raw = env.path().join("raw.out");
    let browser = format!("BROWSER={}", fake_opener(&env, &opened));
    let t = Tmux::new("byhand-links");
    let w = "byhand";
    t.start_with(&env, w, &[&browser], &["--now", "2015-09-08", "learn"]);
    t.wait_for(w, "READ-ONLY");
    t.record(w, &raw);
    while !t.screen(w).contains("deploy-stage ·") {
        t.keys(w, &["j"]);
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(w, &["h"]);
    t.wait_for(w, "Do deploy-stage by hand");
    t.keys(w, &["o"]);
    let form = "https://ci.addons.allizom.org/job/addons-stage-deploy/build";
    assert_eq!(wait_in(&opened, "\n"), format!("{form}\n"));
    // Nothing to paste for a build: `c` copies the page.
    t.keys(w, &["c"]);
    wait_in(&raw, &format!("\x1b]52;c;{}\x07", base64(form.as_bytes())));
    // The dialog stays: its text is still there to select by hand.
    let s = t.wait_for(w, "Do deploy-stage by hand");
    assert!(s.contains(&format!("copied {form}")), "{s}");
    t.keys(w, &["Escape"]);
    t.keys(w, &["q"]);
    t.wait_exit(w, "0");
}

/// One shell step that takes a little while.
const NAP: &str = r#"name = "Nap"

[schedule]
push_day = "thursday"
tag_day = "tuesday"
timezone = "UTC"

[rotation]
people = ["ana", "bo"]
start = "2015-09-10"

[[sections]]
id = "only"
title = "Only section"

[[steps]]
id = "nap"
section = "only"
title = "A short nap"
kind = "shell"
command = "sleep 2; echo woke"
timeout_secs = 60
"#;

#[test]
fn a_long_step_ending_rings_the_bell_and_sends_a_desktop_notification() {
    need_tmux();
    let env = Env::new();
    let runbook = env.path().join("nap.toml");
    std::fs::write(&runbook, NAP).unwrap();
    std::fs::write(
        env.config(),
        "operator = \"tester\"\nnotify = \"both\"\nnotify_after_secs = 1\n",
    )
    .unwrap();
    // A `notify-send` first on PATH that records what it is asked to show.
    let bin = env.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sent = env.path().join("sent.txt");
    std::fs::rename(fake_opener(&env, &sent), bin.join("notify-send")).unwrap();
    let path = format!(
        "PATH={}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let raw = env.path().join("raw.out");
    let t = Tmux::new("notify");
    let w = "notify";
    let rb = format!("--runbook={}", runbook.display());
    t.start_with_path(&env, w, &path, &[&rb, "--now", "2015-09-08", "run"]);
    t.wait_for(w, "Checklist 0/1");
    t.record(w, &raw);
    t.keys(w, &["Enter"]);
    t.wait_for(w, "Run nap?");
    t.keys(w, &["y"]);
    t.wait_for(w, "done: nap");
    let got = wait_in(&sent, "nap done");
    assert_eq!(got, "--app-name=pushduty\n--\npushduty\nnap done\n");
    let out = wait_in(&raw, "\x1b]9;pushduty: nap done\x1b\\");
    assert!(out.contains('\x07'), "no bell in {out:?}");
    t.keys(w, &["q"]);
    t.wait_exit(w, "0");
}

#[test]
fn o_on_the_jenkins_pane_opens_the_build() {
    need_tmux();
    let env = Env::new();
    let jenkins = crate::support::jenkins::Jenkins::start(crate::support::jenkins::Config {
        build_ms: 100,
        ..Default::default()
    });
    let opened = env.path().join("opened.txt");
    let browser = format!("BROWSER={}", fake_opener(&env, &opened));
    let t = Tmux::new("jenkins-link");
    let w = "w";
    let set_url = format!("--set=services.stage.url={}", jenkins.url());
    let args = [
        "--runbook=tests/fixtures/runbooks/valid/deploy.toml",
        "--now",
        "2015-09-08",
        &set_url,
        "--set=services.stage.user=andym",
        "run",
    ];
    let vars = ["PUSHDUTY_JENKINS_TOKEN=t0k", &browser];
    t.start_with(&env, w, &vars, &args);
    t.wait_for(w, "Checklist 0/3");
    t.keys(w, &["Enter"]);
    t.wait_for(w, "Run deploy?");
    t.keys(w, &["y"]);
    t.wait_for(w, "done: deploy");
    t.wait_for(w, "#1 2015.09.10 SUCCESS");
    // The only pane, focused: `o` opens the build's page as Jenkins gave it.
    t.keys(w, &["Tab"]);
    t.keys(w, &["o"]);
    let got = wait_in(&opened, "\n");
    assert!(
        got.starts_with(jenkins.url()) && got.trim_end().ends_with("/1/"),
        "{got}"
    );
    t.keys(w, &["q"]);
    t.wait_exit(w, "0");
}

#[test]
fn mouse_false_leaves_the_mouse_to_the_terminal() {
    need_tmux();
    for (config, taken) in [("", true), ("mouse = false\n", false)] {
        let env = Env::new();
        std::fs::write(env.config(), format!("operator = \"tester\"\n{config}")).unwrap();
        let t = Tmux::new(if taken { "mouse-on" } else { "mouse-off" });
        t.start(&env, "w", &["--now", "2015-09-08", "learn"]);
        t.wait_for("w", "READ-ONLY");
        assert_eq!(t.mouse_on("w"), taken, "{config:?}");
        t.keys("w", &["q"]);
        t.wait_exit("w", "0");
    }
}
