//! The desk from inside the app: what `o` and `c` offer where the operator is, and when the
//! screen calls the operator (the effects the loop carries out).

use pushduty::tui::app::{Focus, Modal, Mode};
use pushduty::tui::desk::Effect;
use pushduty::tui::pane::SourceUpdate;
use ratatui::crossterm::event::KeyCode;

use crate::tui::{app, build_app, draw, key};

fn blockers(lines: &[&str]) -> SourceUpdate {
    SourceUpdate {
        pane: "blockers",
        result: Ok((
            "10:00".into(),
            lines.iter().map(|l| (*l).to_string()).collect(),
        )),
    }
}

const ONE: &str = "#7 Search is down (olympia) https://github.com/mozilla/olympia/issues/7";
const TWO: &str = "#9 Login loops (olympia) https://github.com/mozilla/olympia/issues/9";

#[test]
fn a_new_blocker_calls_the_operator_and_the_first_read_does_not() {
    let mut a = app(Mode::Run);
    a.on_source(blockers(&[ONE]));
    assert!(a.effects.is_empty(), "{:?}", a.effects);
    a.on_source(blockers(&[ONE]));
    assert!(a.effects.is_empty(), "{:?}", a.effects);
    a.on_source(blockers(&[ONE, TWO]));
    assert_eq!(
        a.effects,
        [Effect::Notify {
            title: "pushduty".into(),
            body: format!("new blocker: {TWO}"),
        }]
    );
}

/// A gate that waited past its `follow_up_after_minutes` (counted from when the steps it
/// follows were done) calls the operator once; learn mode calls no one.
#[test]
fn a_gate_waiting_past_its_follow_up_calls_the_operator_once() {
    let (mut a, _rx) = build_app(None, (2015, 9, 10), &["qa-approval"], Mode::Run);
    // Done at 10:00 UTC; the production push may wait two hours.
    let at = |hm: &str| {
        chrono::DateTime::parse_from_rfc3339(&format!("2015-09-08T{hm}:00Z"))
            .unwrap()
            .to_utc()
    };
    a.fixed_now = Some(at("11:59"));
    a.tick();
    assert!(a.effects.is_empty(), "{:?}", a.effects);
    a.fixed_now = Some(at("12:01"));
    a.tick();
    assert_eq!(
        a.effects,
        [Effect::Notify {
            title: "pushduty".into(),
            body: "production-push has waited 2h 01m: follow up with Jason".into(),
        }]
    );
    a.tick();
    assert_eq!(a.effects.len(), 1, "once: {:?}", a.effects);
    let (mut learn, _rx) = build_app(None, (2015, 9, 10), &["qa-approval"], Mode::Learn);
    learn.fixed_now = Some(at("15:00"));
    learn.tick();
    assert!(learn.effects.is_empty(), "{:?}", learn.effects);
}

#[test]
fn o_on_a_pane_with_several_links_asks_which_and_opens_the_one_picked() {
    let mut a = app(Mode::Learn);
    a.on_source(blockers(&[ONE, TWO, "https://evil.example/\x1b]52;c;x"]));
    a.focus = Focus::Panes;
    a.pane_selected = a.panes.iter().position(|p| p.name == "blockers").unwrap();
    key(&mut a, KeyCode::Char('o'));
    let Modal::Prompt(p) = &a.modal else {
        panic!("{:?}", a.modal)
    };
    // The address with an escape in it is not offered at all.
    assert_eq!(p.picker.as_ref().unwrap().items.len(), 2);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        a.effects,
        [Effect::Open(
            "https://github.com/mozilla/olympia/issues/9".into()
        )]
    );
}

#[test]
fn c_copies_the_steps_link_and_shows_it_whole() {
    let mut a = app(Mode::Learn);
    key(&mut a, KeyCode::Char('c'));
    let Some(Effect::Copy(text)) = a.effects.first() else {
        panic!("{:?}", a.effects)
    };
    assert!(
        text.starts_with("https://www.google.com/calendar/"),
        "{text}"
    );
    let Modal::Copied { text: shown } = &a.modal else {
        panic!("{:?}", a.modal)
    };
    assert_eq!(shown, text);
    let buf = draw(&mut a, 100, 30);
    let screen: String = buf.content.iter().map(|c| c.symbol()).collect();
    assert!(
        screen.contains("On the clipboard, if the terminal allows it"),
        "{screen}"
    );
}

#[test]
fn a_watch_giving_its_verdict_calls_the_operator_however_short() {
    let mut a = app(Mode::Run);
    a.on_engine(pushduty::engine::Event::Finished {
        step: "watch-sentry".into(),
        result: Err("2 new issues since the push".into()),
    });
    assert_eq!(
        a.effects,
        [Effect::Notify {
            title: "pushduty".into(),
            body: "watch-sentry failed".into(),
        }]
    );
    // An ordinary step that ended at once calls no one.
    a.effects.clear();
    a.on_engine(pushduty::engine::Event::Finished {
        step: "check-rotation".into(),
        result: Ok(Default::default()),
    });
    assert!(a.effects.is_empty(), "{:?}", a.effects);
}

#[test]
fn a_blockers_link_wrapped_in_the_open_pane_links_whole_and_no_escape_reaches_a_link() {
    let mut a = app(Mode::Run);
    a.on_source(blockers(&[
        ONE,
        "#8 Evil https://evil.example/\x1b]52;c;eA==\x07",
    ]));
    a.focus = Focus::Panes;
    a.pane_selected = a.panes.iter().position(|p| p.name == "blockers").unwrap();
    // Narrow: the open pane wraps the issue's address.
    let buf = draw(&mut a, 60, 30);
    let links = pushduty::tui::links::hyperlinks(&buf, &pushduty::tui::links::known(&a));
    let issue = "https://github.com/mozilla/olympia/issues/7";
    assert!(
        links.iter().filter(|l| l.url == issue).count() >= 2,
        "{links:?}"
    );
    // What goes into a link's escape is printable ASCII only: the escape in the text does
    // not (the row shows what is left of it), and `o` does not offer it at all.
    assert!(
        links
            .iter()
            .all(|l| l.url.bytes().all(|b| b.is_ascii_graphic())),
        "{links:?}"
    );
    let offered = pushduty::tui::links::offered(&a);
    assert_eq!(offered.len(), 1, "{offered:?}");
}

/// A post that cannot go (no token: its check fails) offers to be done by hand from its
/// confirmation: `h` shows what to post.
#[test]
fn h_in_a_confirmation_whose_check_failed_shows_the_step_by_hand() {
    let (mut a, _rx) = build_app(Some("chat.toml"), (2015, 9, 8), &[], Mode::Run);
    a.selected = a.step_ids().iter().position(|s| s == "tell-room").unwrap();
    key(&mut a, KeyCode::Enter);
    let screen: String = draw(&mut a, 100, 40)
        .content
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(screen.contains("[h] do it by hand"), "{screen}");
    key(&mut a, KeyCode::Char('h'));
    let Modal::ByHand {
        step,
        shown: Some(shown),
    } = &a.modal
    else {
        panic!("{:?}", a.modal)
    };
    assert_eq!(step, "tell-room");
    assert_eq!(
        shown.copy.as_deref(),
        Some("pushing 2015.09.10 on 2015-09-10, ana is the hero")
    );
}
