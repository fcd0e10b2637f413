//! The finding: a hero without the pad's API key or the list's SMTP login could only skip the
//! hand-over steps. A whole push of the bundled runbook with neither secret, nor a token for
//! the team's channel, walks to the end: each hand-over step shows exactly what to do (the pad
//! lines, the whole email and a `mailto:`, the message for the channel), is ticked off with
//! what was done, and the report says which steps were done by hand. Nothing reaches the pad,
//! a mail server or the channel.

use crate::support::cli::{stderr, stdout};
use crate::whole_push::{Outside, WholePush, forty_minutes_ago, steady_graphite};

/// The secrets this hero does not have.
const NOT_HELD: &[&str] = &[
    "PUSHDUTY_ETHERPAD_KEY",
    "PUSHDUTY_SMTP_PASSWORD",
    "PUSHDUTY_MATRIX_TOKEN",
];

/// The steps done by hand, in the runbook's order.
const BY_HAND: &[&str] = &[
    "compare-tell",
    "notes-compare",
    "verify-stage-tell",
    "notes-blockers",
    "production-push-tell",
    "next-notes",
    "next-notes-tell",
    "announce",
    "announce-tell",
];

#[test]
fn a_push_without_the_pad_key_or_smtp_login_ends_with_its_hand_overs_done_by_hand() {
    let pushed_at = forty_minutes_ago();
    let graphite = steady_graphite(pushed_at);
    // No mail server at all: nothing may be sent.
    let push = WholePush::start(Outside {
        graphite: &graphite.url,
        mail_port: 9,
        issues: Vec::new(),
        extra_step: "",
        pushed_at,
    });
    let approved = format!("approved_at={}", push.pushed());
    let run = |today: &str, args: &[&str]| {
        let mut c = push.cmd(today);
        for name in NOT_HELD {
            c.env_remove(name);
        }
        c.args(args).output().unwrap()
    };
    let by_hand = |today: &str, id: &str, note: &str| {
        let out = run(today, &["do", id, "--by-hand", "--note", note, "--yes"]);
        assert!(out.status.success(), "{id}: {}", stderr(&out));
        out
    };
    // Each step as `do STEP ARGS --yes`, on its day.
    let done = |steps: &[(&str, &[&str])]| {
        for (today, step) in steps {
            let mut args = vec!["do"];
            args.extend_from_slice(step);
            args.push("--yes");
            let out = run(today, &args);
            assert!(out.status.success(), "{step:?}: {}", stderr(&out));
        }
    };
    done(&[
        ("2015-09-08", &["check-rotation", "--note", "my week"]),
        ("2015-09-08", &["fetch"]),
        ("2015-09-08", &["strategy", "--input", "strategy=master"]),
        ("2015-09-08", &["tag-master"]),
        ("2015-09-08", &["push-tag"]),
        ("2015-09-08", &["compare"]),
    ]);
    // Without a token the channel's post says what is missing, and what to do instead.
    let refused = run("2015-09-08", &["do", "compare-tell", "--yes"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("has no Matrix access token"),
        "{}",
        stderr(&refused)
    );
    let out = by_hand("2015-09-08", "compare-tell", "posted in the channel");
    assert!(
        stdout(&out).starts_with("pushing 2015.09.10 on 2015-09-10: https://github.com/"),
        "the message to post: {}",
        stdout(&out)
    );
    // Without the key the step itself says what is missing.
    let refused = run("2015-09-08", &["do", "notes-compare", "--yes"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("has no Etherpad API key"),
        "{}",
        stderr(&refused)
    );
    let out = by_hand("2015-09-08", "notes-compare", "pasted into the pad");
    let said = stderr(&out);
    assert!(said.contains("notes-compare: by hand:"), "{said}");
    assert!(
        said.contains(&format!("open: {}/p/amo-2015-09-10", push.pad.url())),
        "{said}"
    );
    assert!(
        stdout(&out).contains("2015.09.10"),
        "the lines to paste: {}",
        stdout(&out)
    );
    done(&[
        ("2015-09-08", &["deploy-stage"][..]),
        ("2015-09-08", &["verify-stage"]),
    ]);
    by_hand("2015-09-08", "verify-stage-tell", "told QA");
    done(&[("2015-09-09", &["blockers"])]);
    by_hand("2015-09-09", "notes-blockers", "pasted: no blockers");
    done(&[
        (
            "2015-09-10",
            &["qa-approval", "--input", "approved_by=krupa"][..],
        ),
        (
            "2015-09-10",
            &[
                "production-push",
                "--input",
                "approved_by=jason",
                "--input",
                &approved,
            ],
        ),
    ]);
    by_hand("2015-09-10", "production-push-tell", "told the channel");
    done(&[
        ("2015-09-10", &["watch-sentry"][..]),
        ("2015-09-10", &["watch-graphite"]),
    ]);
    by_hand("2015-09-10", "next-notes", "made the pad from the text");
    by_hand("2015-09-10", "next-notes-tell", "set the topic");
    let mail = by_hand("2015-09-10", "announce", "sent from my mail client");
    let text = stdout(&mail);
    assert!(
        text.starts_with("From: push-hero@mozilla.org\nTo: dev-addons@mozilla.org\nSubject: AMO push 2015.09.10 is done\n\n"),
        "{text}"
    );
    assert!(
        stderr(&mail).contains(
            "open: mailto:dev-addons@mozilla.org?subject=AMO%20push%202015.09.10%20is%20done&body="
        ),
        "{}",
        stderr(&mail)
    );
    by_hand("2015-09-10", "announce-tell", "told the channel it is done");
    // The push is complete, and what was done by hand is said as such.
    let shown = run("2015-09-10", &["show", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    for st in shown["steps"].as_array().unwrap() {
        let ok = st["status"] == "done" || st["status"] == "not_applicable";
        assert!(ok, "{}: {}", st["id"], st["status"]);
        let hand = BY_HAND.contains(&st["id"].as_str().unwrap());
        assert_eq!(st["by_hand"], hand, "{st}");
        assert_eq!(st["by_hand_shown"].is_string(), hand, "{st}");
    }
    let report = stdout(&run("2015-09-10", &["report"]));
    let listed: Vec<String> = BY_HAND.iter().map(|id| format!("`{id}`")).collect();
    assert!(
        report.contains(&format!("- **Done by hand:** {}", listed.join(", "))),
        "{report}"
    );
    assert_eq!(
        report.matches("*(done by hand)*").count(),
        BY_HAND.len(),
        "{report}"
    );
    assert!(
        report.contains("  - what was done: sent from my mail client"),
        "{report}"
    );
    // Nothing went to the pad: the hero did it.
    assert_eq!(
        push.pad.pad("amo-2015-09-10").as_deref().map(str::trim_end),
        Some("Notes of this push")
    );
    assert!(push.pad.pad("amo-2015-09-17").is_none());
    assert!(push.room.messages().is_empty() && push.room.topic().is_none());
}
