//! The Sentry client against the Sentry stand-in: pages followed while Sentry says there are
//! more, the cap, counts sent as strings, events per minute, and every failure said with what
//! to do and without the token.

use std::sync::Once;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pushduty::secret::Secret;
use pushduty::services::http::{block_on, is_transient};
use pushduty::services::sentry::{self as client, Issues, rate_limited};

use crate::support;
use crate::support::sentry::{Config, Fault, Issue, Sentry, iso, now_secs};

const TOKEN: &str = "sntrys_s3cret";
/// 2015-09-10T12:00:00Z: the push.
const SINCE: i64 = 1_441_886_400;

/// The shared HTTP client reads its time limit once per process: set it before any test
/// makes one, short enough for the hang test, long enough for the rest on a loaded machine.
/// This binary's other modules never use that client (see main.rs).
pub(crate) fn setup() {
    static ONCE: Once = Once::new();
    // SAFETY: every test here calls this first, and `Once` makes the others wait until it is
    // set; the other modules in this binary read the environment only through std (running the
    // binary), whose lock keeps those reads apart from this write.
    ONCE.call_once(|| unsafe { std::env::set_var("PUSHDUTY_HTTP_TIMEOUT", "2") });
}

fn since() -> DateTime<Utc> {
    DateTime::from_timestamp(SINCE, 0).unwrap()
}

/// `n` new issues, one a minute after the push (ids 1..=n), and ones that are no concern:
/// older, resolved, another environment.
fn seeded(n: u64) -> Config {
    let mut issues: Vec<Issue> = (1..=n)
        .map(|i| Issue::new(i, &format!("TypeError #{i}"), SINCE + 60 * i as i64))
        .collect();
    issues.push(Issue::new(9001, "old", SINCE - 3600));
    issues.push(Issue::new(9002, "just before", SINCE - 1));
    issues.push(Issue {
        status: "resolved".into(),
        ..Issue::new(9003, "fixed already", SINCE + 30)
    });
    issues.push(Issue {
        environment: Some("stage".into()),
        ..Issue::new(9004, "stage only", SINCE + 30)
    });
    Config {
        issues,
        ..Config::default()
    }
}

fn client_for(s: &Sentry, token: &str) -> client::Sentry {
    setup();
    client::Sentry::new(
        s.url(),
        "mozilla",
        "addons-server",
        Some("production".into()),
        Secret::new(token),
    )
}

fn new_issues(c: &client::Sentry, extra: Option<&str>, cap: usize) -> anyhow::Result<Issues> {
    block_on(c.new_issues(since(), extra, cap)).unwrap()
}

fn issue_requests(s: &Sentry) -> Vec<support::sentry::Seen> {
    s.seen()
        .into_iter()
        .filter(|r| r.path == "/api/0/organizations/mozilla/issues/")
        .collect()
}

#[test]
fn follows_every_page_while_sentry_says_there_are_results() {
    let s = Sentry::start(seeded(250));
    let got = new_issues(&client_for(&s, TOKEN), None, 1000).unwrap();
    assert!(!got.more);
    let ids: Vec<&str> = got.items.iter().map(|i| i.id.as_str()).collect();
    let want: Vec<String> = (1..=250).rev().map(|i| i.to_string()).collect();
    assert_eq!(ids, want, "every new issue once, newest first");

    let asked = issue_requests(&s);
    assert_eq!(asked.len(), 3, "{:?}", s.requests());
    let cursors: Vec<Option<&str>> = asked.iter().map(|r| r.param("cursor")).collect();
    assert_eq!(cursors, [None, Some("0:100:0"), Some("0:200:0")]);
    for r in &asked {
        assert_eq!(
            r.param("query"),
            Some("is:unresolved firstSeen:>=2015-09-10T12:00:00Z")
        );
        assert_eq!(r.param("sort"), Some("new"));
        assert_eq!(r.param("limit"), Some("100"));
        assert_eq!(r.param("project"), Some("addons-server"));
        assert_eq!(r.param("environment"), Some("production"));
        assert_eq!(r.authorization.as_deref(), Some("Bearer sntrys_s3cret"));
        assert_eq!(r.method, "GET");
    }
}

#[test]
fn a_small_page_is_followed_too() {
    let s = Sentry::start(Config {
        page_max: 7,
        ..seeded(30)
    });
    let got = new_issues(&client_for(&s, TOKEN), None, 1000).unwrap();
    assert_eq!((got.items.len(), got.more), (30, false));
    assert_eq!(issue_requests(&s).len(), 5);
}

#[test]
fn the_cap_stops_paging_and_says_there_is_more() {
    let s = Sentry::start(seeded(250));
    let c = client_for(&s, TOKEN);
    let cases = [
        // (cap, issues, more, requests)
        (150, 150, true, 2),
        (100, 100, true, 1),
        (250, 250, false, 3),
        (1, 1, true, 1),
    ];
    for (cap, n, more, requests) in cases {
        let before = issue_requests(&s).len();
        let got = new_issues(&c, None, cap).unwrap();
        assert_eq!(got.items.len(), n, "cap {cap}");
        assert_eq!(got.more, more, "cap {cap}");
        assert_eq!(issue_requests(&s).len() - before, requests, "cap {cap}");
        assert_eq!(got.items[0].id, "250");
    }
    // Exactly a page's worth with nothing after: the next link says results="false".
    let s = Sentry::start(seeded(200));
    let got = new_issues(&client_for(&s, TOKEN), None, 200).unwrap();
    assert_eq!((got.items.len(), got.more), (200, false));
    assert_eq!(issue_requests(&s).len(), 2);
}

#[test]
fn an_extra_query_narrows_the_search() {
    let mut cfg = seeded(5);
    for (n, issue) in cfg.issues.iter_mut().enumerate().take(2) {
        issue.first_release = Some(format!("2015.09.1{n}"));
    }
    let s = Sentry::start(cfg);
    let got = new_issues(
        &client_for(&s, TOKEN),
        Some("  firstRelease:2015.09.10 "),
        100,
    )
    .unwrap();
    let ids: Vec<&str> = got.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["1"]);
    assert_eq!(
        issue_requests(&s)[0].param("query"),
        Some("is:unresolved firstSeen:>=2015-09-10T12:00:00Z firstRelease:2015.09.10")
    );
}

#[test]
fn counts_come_as_strings_and_optional_fields_may_be_missing() {
    let s = Sentry::start(Config {
        issues: vec![Issue {
            count: "1234".into(),
            user_count: 7,
            last_seen: None,
            level: "fatal".into(),
            ..Issue::new(17, "KeyError: 'addon'", SINCE + 5)
        }],
        ..Config::default()
    });
    let got = new_issues(&client_for(&s, TOKEN), None, 10).unwrap();
    let i = &got.items[0];
    assert_eq!(i.id, "17");
    assert_eq!(i.short_id, "ADDONS-SERVER-17");
    assert_eq!(i.title, "KeyError: 'addon'");
    assert_eq!(
        (i.level.as_str(), i.status.as_str()),
        ("fatal", "unresolved")
    );
    assert_eq!((i.count, i.user_count), (1234, 7));
    assert_eq!(i.first_seen.as_deref(), Some("2015-09-10T12:00:05Z"));
    assert_eq!(i.last_seen, None);
    assert_eq!(
        i.permalink.as_deref(),
        Some(format!("{}/organizations/mozilla/issues/17/", s.url()).as_str())
    );

    s.add_issue(Issue {
        count: "lots".into(),
        ..Issue::new(18, "odd", SINCE + 9)
    });
    let e = new_issues(&client_for(&s, TOKEN), None, 10).unwrap_err();
    let text = format!("{e:#}");
    assert!(
        text.contains("ADDONS-SERVER-18") && text.contains("lots"),
        "{text}"
    );
    assert!(text.contains("not a number"), "{text}");
}

#[test]
fn a_new_error_shows_on_the_next_check() {
    let s = Sentry::start(seeded(3));
    let c = client_for(&s, TOKEN);
    assert_eq!(new_issues(&c, None, 100).unwrap().items.len(), 3);
    s.add_issue(Issue::new(77, "ValueError", now_secs()));
    let got = new_issues(&c, None, 100).unwrap();
    assert_eq!(got.items.len(), 4);
    assert_eq!(got.items[0].title, "ValueError");
    let first_seen = got.items[0].first_seen.as_deref().unwrap_or_default();
    let now = iso(now_secs());
    assert!(
        first_seen <= now.as_str() && first_seen > "2015-09-10",
        "{first_seen}"
    );
}

#[test]
fn events_sum_into_one_point_per_minute() {
    let m0 = (now_secs() - 3600).div_euclid(60) * 60;
    let s = Sentry::start(Config {
        events: vec![(m0, 60), (m0 + 60, 7), (m0 + 240, 1)],
        ..Config::default()
    });
    let c = client_for(&s, TOKEN);
    let got = block_on(c.event_counts(m0 - 25, m0 + 299, false))
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        [
            (m0 - 60, 0.0),
            (m0, 60.0),
            (m0 + 60, 7.0),
            (m0 + 120, 0.0),
            (m0 + 180, 0.0),
            (m0 + 240, 1.0),
        ]
    );
    let asked = s.seen();
    assert_eq!(asked.len(), 1);
    let r = &asked[0];
    assert_eq!(r.path, "/api/0/projects/mozilla/addons-server/stats/");
    assert_eq!(r.param("stat"), Some("received"));
    assert_eq!(r.param("resolution"), Some("10s"));
    let since = (m0 - 25).to_string();
    let until = (m0 + 299).to_string();
    assert_eq!(r.param("since"), Some(since.as_str()));
    assert_eq!(r.param("until"), Some(until.as_str()));
}

/// A short soak reads Sentry's 10-second counts as they are, as a rate a minute: a minute of
/// soak gives the judge six points instead of one.
#[test]
fn fine_counts_keep_every_ten_seconds_as_a_rate_a_minute() {
    let m0 = (now_secs() - 3600).div_euclid(60) * 60;
    let s = Sentry::start(Config {
        events: vec![(m0, 12), (m0 + 60, 7)],
        ..Config::default()
    });
    let c = client_for(&s, TOKEN);
    let got = block_on(c.event_counts(m0, m0 + 119, true))
        .unwrap()
        .unwrap();
    // The stand-in spreads a minute's events over its six buckets, the remainder first.
    let expected: Vec<(i64, f64)> = [2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1]
        .iter()
        .enumerate()
        .map(|(k, n)| (m0 + 10 * k as i64, f64::from(*n) * 6.0))
        .collect();
    assert_eq!(got, expected);
    let per_minute: f64 = got.iter().map(|(_, n)| n / 6.0).sum();
    assert_eq!(per_minute, 19.0, "no event lost or counted twice");
}

#[test]
fn a_refused_token_says_what_to_fix() {
    let s = Sentry::start(seeded(3));
    let wrong = "sntrys_wr0ng_t0ken";
    let c = client_for(&s, wrong).named("errors");
    let e = new_issues(&c, None, 10).unwrap_err();
    let text = format!("{e:#}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("services.errors.token"), "{text}");
    assert!(text.contains("event:read"), "{text}");
    assert!(
        !text.contains(wrong),
        "the stand-in echoes the token; we must not: {text}"
    );
    assert!(!is_transient(&e) && rate_limited(&e).is_none());

    let e = block_on(c.event_counts(SINCE, SINCE + 60, false))
        .unwrap()
        .unwrap_err();
    let text = format!("{e:#}");
    assert!(
        text.contains("project:read") && !text.contains(wrong),
        "{text}"
    );
}

#[test]
fn an_unknown_org_or_project_says_to_check_the_runbook() {
    setup();
    let s = Sentry::start(seeded(3));
    let c = client::Sentry::new(
        s.url(),
        "mozzila",
        "addons-server",
        None,
        Secret::new(TOKEN),
    );
    let e = new_issues(&c, None, 10).unwrap_err();
    let text = format!("{e:#}");
    assert!(text.contains("HTTP 404"), "{text}");
    assert!(
        text.contains(&format!(
            "no organization `mozzila` or project `addons-server` at {}: check the runbook",
            s.url()
        )),
        "{text}"
    );
    let c = client::Sentry::new(s.url(), "mozilla", "addons", None, Secret::new(TOKEN));
    for e in [
        new_issues(&c, None, 10).unwrap_err(),
        block_on(c.event_counts(SINCE, SINCE + 60, false))
            .unwrap()
            .unwrap_err(),
    ] {
        let text = format!("{e:#}");
        assert!(
            text.contains("project `addons`") && text.contains("HTTP 404"),
            "{text}"
        );
        assert!(!is_transient(&e));
    }
}

#[test]
fn a_spent_rate_limit_says_when_to_come_back() {
    let s = Sentry::start(seeded(3));
    let c = client_for(&s, TOKEN);
    assert_eq!(c.remaining(), None, "nothing asked yet");
    s.set_fault(Fault::RateLimited(1));
    let e = new_issues(&c, None, 10).unwrap_err();
    let limited = rate_limited(&e).unwrap_or_else(|| panic!("not typed: {e:#}"));
    let wait = limited.retry_in.expect("the reset header gives a wait");
    let left = (s.window_end() - now_secs()) as f64;
    assert!(
        (left - 2.0..=left + 1.0).contains(&wait.as_secs_f64()),
        "{wait:?} vs {left}s to the window's end"
    );
    assert!(limited.text.contains("HTTP 429"), "{}", limited.text);
    assert!(limited.text.contains("try again in"), "{}", limited.text);
    assert!(!is_transient(&e));
    assert_eq!(c.remaining(), Some(0));

    // The fault was for one request: the next goes through and says what is left.
    assert_eq!(new_issues(&c, None, 10).unwrap().items.len(), 3);
    assert_eq!(c.remaining(), Some(1000 - 2));
}

#[test]
fn a_server_that_hangs_is_transient_within_the_time_limit() {
    let s = Sentry::start(seeded(3));
    let c = client_for(&s, TOKEN);
    s.set_fault(Fault::Hang);
    let started = Instant::now();
    let e = new_issues(&c, None, 10).unwrap_err();
    let took = started.elapsed();
    assert!(is_transient(&e), "{e:#}");
    assert!(format!("{e:#}").contains("no answer within 2s"), "{e:#}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

#[test]
fn server_errors_and_refused_connections_are_transient() {
    let s = Sentry::start(seeded(3));
    let c = client_for(&s, TOKEN);
    s.set_fault(Fault::ServerError);
    let e = new_issues(&c, None, 10).unwrap_err();
    assert!(is_transient(&e), "{e:#}");
    assert!(format!("{e:#}").contains("HTTP 500"), "{e:#}");

    // A port nobody listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = client::Sentry::new(
        &format!("http://127.0.0.1:{port}"),
        "mozilla",
        "addons-server",
        None,
        Secret::new(TOKEN),
    );
    let e = block_on(gone.event_counts(SINCE, SINCE + 60, false))
        .unwrap()
        .unwrap_err();
    assert!(is_transient(&e), "{e:#}");
    assert!(format!("{e:#}").contains("unreachable"), "{e:#}");
}

#[test]
fn malformed_json_says_it_is_not_what_was_asked() {
    let s = Sentry::start(seeded(3));
    let c = client_for(&s, TOKEN);
    s.set_fault(Fault::Malformed);
    let e = new_issues(&c, None, 10).unwrap_err();
    let text = format!("{e:#}");
    assert!(text.contains("not the issues list"), "{text}");
    assert!(
        text.contains("[{\"id\":\"3\""),
        "an excerpt of what came: {text}"
    );
    assert!(!is_transient(&e));
    let e = block_on(c.event_counts(SINCE, SINCE + 60, false))
        .unwrap()
        .unwrap_err();
    assert!(
        format!("{e:#}").contains("not a list of [time, count] points"),
        "{e:#}"
    );
}

#[test]
fn the_token_never_shows_in_an_error() {
    setup();
    // A token spelled like the project: every message that names the project would carry it.
    let secret = "addons-server";
    let s = Sentry::start(Config {
        token: secret.into(),
        ..seeded(3)
    });
    s.add_issue(Issue {
        count: "n/a".into(),
        ..Issue::new(5, "bad count", SINCE + 1)
    });
    let at =
        |org: &str| client::Sentry::new(s.url(), org, "addons-server", None, Secret::new(secret));
    let mut texts = Vec::new();
    // The bad count, then an unknown org.
    texts.push(format!(
        "{:#}",
        new_issues(&at("mozilla"), None, 10).unwrap_err()
    ));
    texts.push(format!(
        "{:#}",
        new_issues(&at("nobody"), None, 10).unwrap_err()
    ));
    for fault in [Fault::RateLimited(1), Fault::ServerError, Fault::Malformed] {
        s.set_fault(fault);
        texts.push(format!(
            "{:#}",
            new_issues(&at("mozilla"), None, 10).unwrap_err()
        ));
    }
    s.set_fault(Fault::None);
    let e = block_on(at("mozilla").event_counts(SINCE, SINCE - 60, false))
        .unwrap()
        .unwrap_err();
    texts.push(format!("{e:#}"));
    assert_eq!(texts.len(), 6);
    for text in &texts {
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
