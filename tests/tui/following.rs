//! A screen that reads the team's push log: what the log's source sends it (the seat, a log
//! that cannot be read) and what the screen then says and refuses.

use pushduty::sources::follow::{Followed, Move};
use pushduty::teamlog::{Me, Seat};
use pushduty::tui::app::{App, Following, Mode};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;

use crate::tui::{app, draw, key};

fn me() -> Me {
    Me {
        operator: "tester".into(),
        host: "laptop".into(),
    }
}

/// An app that reads the log as `tester` on `laptop`, every 5 s.
fn following(mode: Mode) -> App {
    let mut a = app(mode);
    a.following = Some(Following::new(
        "branch `pushduty-log` of team.git".into(),
        5,
        me(),
    ));
    a
}

fn seat(operator: &str, host: &str, since: &str, reason: Option<&str>, from: Option<&str>) -> Seat {
    Seat {
        since: since.into(),
        operator: operator.into(),
        host: host.into(),
        reason: reason.map(str::to_string),
        from: from.map(str::to_string),
    }
}

fn seats(seats: Vec<Seat>) -> Followed {
    Followed {
        seen: None,
        moves: Vec::new(),
        seats,
    }
}

fn shown(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn logged(a: &App) -> String {
    a.log
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_run_screen_whose_seat_is_taken_turns_read_only_and_says_who_and_why() {
    let mut a = following(Mode::Run);
    let mine = seat("tester", "laptop", "2015-09-08T09:00:00Z", None, None);
    a.on_followed(Ok(seats(vec![mine.clone()])));
    assert_eq!(a.mode, Mode::Run, "the seat is still this operator's");
    let bob = seat(
        "bob",
        "desk",
        "2015-09-08T10:00:00Z",
        Some("tester is ill"),
        Some("tester on laptop"),
    );
    a.on_followed(Ok(seats(vec![mine, bob])));
    assert_eq!(a.mode, Mode::Learn);
    let screen = shown(&draw(&mut a, 120, 40));
    assert!(screen.contains("TAKEN OVER · READ-ONLY"), "{screen}");
    assert!(
        screen.contains("bob on desk took over from you at Tue 03:00: tester is ill"),
        "{screen}"
    );
    // A key that would act says why it does nothing; Enter still explains.
    key(&mut a, KeyCode::Char('s'));
    assert!(
        logged(&a).contains("tester is ill: this screen is read-only, nothing is started"),
        "{}",
        logged(&a)
    );
    assert!(!logged(&a).contains("learn mode"), "{}", logged(&a));
}

#[test]
fn a_run_screen_of_someone_who_never_drove_stays_as_it_is() {
    let mut a = following(Mode::Run);
    let bob = seat("bob", "desk", "2015-09-08T10:00:00Z", None, None);
    a.on_followed(Ok(seats(vec![bob])));
    assert_eq!(a.mode, Mode::Run);
    // The same name on another host is someone else.
    let mut a = following(Mode::Run);
    let other = seat("tester", "desk", "2015-09-08T10:00:00Z", None, None);
    a.on_followed(Ok(seats(vec![other])));
    assert_eq!(a.mode, Mode::Run);
}

#[test]
fn the_follow_screen_says_a_log_it_cannot_read_and_when_it_answers_again() {
    let mut a = following(Mode::Learn);
    a.on_followed(Err("the push log could not be reached: no route".into()));
    let screen = shown(&draw(&mut a, 120, 40));
    assert!(
        screen.contains("the team's push log cannot be read (trying again every 5s"),
        "{screen}"
    );
    assert!(screen.contains("FOLLOW · READ-ONLY"), "{screen}");
    assert!(screen.contains("r read the log now"), "{screen}");
    assert!(logged(&a).contains("no route"), "{}", logged(&a));
    // `r` asks the source for a read now.
    let (poke, asked) = std::sync::mpsc::channel();
    a.refresh.push((pushduty::tui::app::PUSH_LOG, poke));
    key(&mut a, KeyCode::Char('r'));
    assert!(asked.try_recv().is_ok());
    assert!(
        logged(&a).contains("reading the team's push log now"),
        "{}",
        logged(&a)
    );

    let ann = seat("ann", "desk", "2015-09-08T10:00:00Z", None, None);
    let mut back = seats(vec![ann]);
    back.moves = vec![Move {
        step: "fetch".into(),
        status: "not_applicable".into(),
        by: "ann on desk".into(),
        at: "2015-09-08T10:01:00Z".into(),
    }];
    a.on_followed(Ok(back.clone()));
    let screen = shown(&draw(&mut a, 120, 40));
    assert!(
        screen.contains("ann on desk drives since Tue 03:00"),
        "{screen}"
    );
    assert!(logged(&a).contains("answers again"), "{}", logged(&a));
    assert!(
        logged(&a).contains("ann on desk: fetch not applicable at Tue 03:01"),
        "{}",
        logged(&a)
    );

    // Read again but unreadable: what was read stays, and the banner says it may be old.
    a.on_followed(Err("the push log could not be reached: no route".into()));
    let screen = shown(&draw(&mut a, 120, 40));
    assert!(
        screen.contains("ann on desk drives since Tue 03:00 · as last read"),
        "{screen}"
    );
    // The same move read again is not said twice.
    a.on_followed(Ok(back));
    assert_eq!(logged(&a).matches("fetch not applicable").count(), 1);
}

/// `T` asks the follower why; Esc keeps following; an empty reason is refused; a reason ends
/// the screen with it, for `follow` to take the seat. Elsewhere `T` says where the seat is
/// taken and asks nothing.
#[test]
fn t_on_the_follow_screen_asks_why_and_ends_it_with_the_reason() {
    use pushduty::tui::app::{Modal, Purpose};
    // A screen that follows nothing, one not read yet, the driver's own: no question.
    let asks_nothing = |mut a: App, said: &str| {
        key(&mut a, KeyCode::Char('T'));
        assert_eq!(a.modal, Modal::None);
        assert!(logged(&a).contains(said), "{}", logged(&a));
    };
    asks_nothing(app(Mode::Learn), "no push is followed here");
    asks_nothing(following(Mode::Learn), "has not been read yet");
    let mine = seat("tester", "laptop", "2015-09-08T09:00:00Z", None, None);
    let mut driving = following(Mode::Run);
    driving.on_followed(Ok(seats(vec![mine.clone()])));
    asks_nothing(driving, "you drive this push on this screen");
    let mut own = following(Mode::Learn);
    own.on_followed(Ok(seats(vec![mine])));
    asks_nothing(own, "you drive this push already");

    let mut a = following(Mode::Learn);
    let ann = seat("ann", "desk", "2015-09-08T10:00:00Z", None, None);
    a.on_followed(Ok(seats(vec![ann])));
    key(&mut a, KeyCode::Char('T'));
    match &a.modal {
        Modal::Prompt(p) => {
            assert_eq!(p.title, "Take over the push from ann on desk");
            assert!(matches!(&p.purpose, Purpose::TakeOver { from } if from == "ann on desk"));
        }
        m => panic!("{m:?}"),
    }
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.modal, Modal::None);
    assert!(!a.quit && a.take_over.is_none());

    key(&mut a, KeyCode::Char('T'));
    key(&mut a, KeyCode::Enter);
    match &a.modal {
        Modal::Prompt(p) => assert_eq!(p.error.as_deref(), Some("a reason is required")),
        m => panic!("{m:?}"),
    }
    assert!(!a.quit);
    for c in "ann is ill".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    assert!(a.quit);
    assert_eq!(a.take_over.as_deref(), Some("ann is ill"));

    // A `run` screen whose seat was taken asks too: the seat back.
    let mut back = following(Mode::Run);
    let mine = seat("tester", "laptop", "2015-09-08T09:00:00Z", None, None);
    let ann = seat(
        "ann",
        "desk",
        "2015-09-08T10:00:00Z",
        Some("ill?"),
        Some("tester on laptop"),
    );
    back.on_followed(Ok(seats(vec![mine, ann])));
    assert!(
        logged(&back).contains("or `T` takes the seat back"),
        "{}",
        logged(&back)
    );
    key(&mut back, KeyCode::Char('T'));
    match &back.modal {
        Modal::Prompt(p) => assert_eq!(p.title, "Take over the push from ann on desk"),
        m => panic!("{m:?}"),
    }
}
