//! The Graphite and Prometheus clients against the real servers (Debian's packages, started by
//! scripts/services/*.sh), plus the failures no real server plays on demand: no answer, no
//! listener, a 5xx, a body that is not the API's.

use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushduty::services::graphite::Graphite;
use pushduty::services::http::{block_on, is_transient};
use pushduty::services::metrics::{Point, is_bad_query};
use pushduty::services::prometheus::Prometheus;

use crate::support::jenkins::read_request;
use crate::support::metrics_servers::{self, minutes};

const WEEK: i64 = 7 * 24 * 3600;

/// The start of the minute an hour ago: recent, and whole minutes as both servers keep them.
fn hour_ago() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now - now % 60 - 3600
}

fn graphite(g: &Graphite, q: &str, from: i64, until: i64) -> anyhow::Result<Vec<Point>> {
    block_on(g.range(q, from, until)).unwrap()
}

fn prometheus(p: &Prometheus, q: &str, from: i64, until: i64) -> anyhow::Result<Vec<Point>> {
    block_on(p.range(q, from, until)).unwrap()
}

/// The error's text, when it is a bad query; panics on success or another kind of error.
fn bad_query(r: anyhow::Result<Vec<Point>>) -> String {
    match r {
        Ok(points) => panic!("expected a bad query, got {points:?}"),
        Err(e) => {
            assert!(is_bad_query(&e), "not a BadQuery: {e:#}");
            assert!(
                !is_transient(&e),
                "a bad query is not worth retrying: {e:#}"
            );
            e.to_string()
        }
    }
}

fn transient(r: anyhow::Result<Vec<Point>>) -> String {
    match r {
        Ok(points) => panic!("expected a transient error, got {points:?}"),
        Err(e) => {
            assert!(is_transient(&e), "not Transient: {e:#}");
            assert!(!is_bad_query(&e), "{e:#}");
            e.to_string()
        }
    }
}

#[test]
fn graphite_answers_what_was_seeded() {
    let t0 = hour_ago();
    let old = t0 - WEEK;
    // A gap at minute 4: stored as nothing, answered as null.
    let errors = minutes(t0, 10, |i| (i != 4).then_some(i as f64));
    let ok = minutes(t0, 10, |i| Some(100.0 + i as f64));
    let last_week = minutes(old, 10, |i| Some(i as f64 / 2.0));
    let nulls = minutes(t0, 10, |_| None);
    let server = metrics_servers::graphite(&[
        ("amo.responses.500", errors.clone()),
        ("amo.responses.200", ok.clone()),
        ("amo.old", last_week.clone()),
        ("amo.nulls", nulls.clone()),
    ]);
    let g = Graphite::new(&server.url);
    let end = t0 + 9 * 60;

    assert_eq!(graphite(&g, "amo.responses.500", t0, end).unwrap(), errors);
    assert_eq!(
        graphite(&g, "amo.old", old, old + 9 * 60).unwrap(),
        last_week
    );
    // A series of nulls only exists: every minute of it is a gap.
    assert_eq!(graphite(&g, "amo.nulls", t0, end).unwrap(), nulls);

    // A function over a glob, sent through the query builder's encoding (`*`, `(`, `,`, `"`).
    let total = graphite(
        &g,
        r#"alias(sumSeries(amo.responses.*),"all")"#,
        t0,
        t0 + 2 * 60,
    )
    .unwrap();
    assert_eq!(
        total,
        vec![
            (t0, Some(100.0)),
            (t0 + 60, Some(102.0)),
            (t0 + 120, Some(104.0))
        ]
    );

    // Both ends are included; a window off the minute starts at the next whole one.
    let inner = graphite(&g, "amo.responses.200", t0 + 30, t0 + 180).unwrap();
    assert_eq!(inner, ok[1..4].to_vec());
}

#[test]
fn graphite_says_what_to_fix_in_a_query() {
    let t0 = hour_ago();
    let server = metrics_servers::graphite(&[
        ("amo.responses.500", minutes(t0, 3, |_| Some(1.0))),
        ("amo.responses.200", minutes(t0, 3, |_| Some(2.0))),
    ]);
    let g = Graphite::new(&server.url);
    let end = t0 + 120;

    let unknown = bad_query(graphite(&g, "amo.responses.404", t0, end));
    assert!(
        unknown.contains("no series matches `amo.responses.404`"),
        "{unknown}"
    );
    assert!(unknown.contains("/metrics/find"), "{unknown}");

    let several = bad_query(graphite(&g, "amo.responses.*", t0, end));
    assert!(several.contains("matches 2 series"), "{several}");
    assert!(
        several.contains("amo.responses.200, amo.responses.500"),
        "{several}"
    );
    assert!(several.contains("sumSeries(amo.responses.*)"), "{several}");

    // A 400 carries Graphite's own message.
    let unknown_fn = bad_query(graphite(&g, "nosuchfn(amo.responses.500)", t0, end));
    assert!(
        unknown_fn.contains("unknown function: nosuchfn"),
        "{unknown_fn}"
    );
    assert!(unknown_fn.contains("check the expression"), "{unknown_fn}");

    // Graphite 1.1 reads an unclosed call as a metric name and finds nothing (HTTP 200, `[]`).
    let unclosed = bad_query(graphite(&g, "sumSeries(", t0, end));
    assert!(
        unclosed.contains("parentheses do not pair up"),
        "{unclosed}"
    );

    // ... and answers a stray `)` with a 500 and a traceback: still the query's fault.
    let stray = bad_query(graphite(&g, ")", t0, end));
    assert!(stray.contains("ParseException"), "{stray}");
}

#[test]
fn prometheus_answers_what_was_seeded() {
    let t0 = hour_ago();
    let old = t0 - WEEK;
    // No samples at minutes 5 to 11.
    let errors = minutes(t0, 20, |i| (!(5..12).contains(&i)).then_some(i as f64));
    let ok = minutes(t0, 20, |i| Some(100.0 + i as f64));
    let last_week = minutes(old, 10, |i| Some(i as f64 / 2.0));
    let server = metrics_servers::prometheus(&[
        (r#"amo_responses{code="500"}"#, errors.clone()),
        (r#"amo_responses{code="200"}"#, ok.clone()),
        ("amo_old", last_week.clone()),
        ("amo_nulls", minutes(t0, 10, |_| None)),
    ]);
    let p = Prometheus::new(&server.url, 60);
    let end = t0 + 19 * 60;

    assert_eq!(
        prometheus(&p, r#"amo_responses{code="200"}"#, t0, end).unwrap(),
        ok
    );
    assert_eq!(
        prometheus(&p, "amo_old", old, old + 9 * 60).unwrap(),
        last_week
    );

    // Prometheus carries the last sample forward for its lookback (5 minutes, both ends
    // included in 2.42): only the steps past that are gaps.
    let mut expected = errors.clone();
    for (i, point) in expected.iter_mut().enumerate().take(10).skip(5) {
        assert_eq!(point.1, None, "minute {i} was seeded empty");
        point.1 = Some(4.0);
    }
    assert_eq!(
        prometheus(&p, r#"amo_responses{code="500"}"#, t0, end).unwrap(),
        expected
    );
    assert_eq!(expected[10], (t0 + 600, None));

    // Every step of the window is there, the ones before any sample too.
    let before = prometheus(&p, r#"amo_responses{code="200"}"#, t0 - 180, t0 + 60).unwrap();
    assert_eq!(
        before,
        vec![
            (t0 - 180, None),
            (t0 - 120, None),
            (t0 - 60, None),
            (t0, Some(100.0)),
            (t0 + 60, Some(101.0)),
        ]
    );

    let total = prometheus(&p, "sum(amo_responses)", t0, t0 + 60).unwrap();
    assert_eq!(total, vec![(t0, Some(100.0)), (t0 + 60, Some(102.0))]);

    // A series seeded with nulls only has no samples: to Prometheus it does not exist.
    let nulls = bad_query(prometheus(&p, "amo_nulls", t0, end));
    assert!(nulls.contains("`amo_nulls` returns no series"), "{nulls}");
}

#[test]
fn prometheus_says_what_to_fix_in_a_query() {
    let t0 = hour_ago();
    let server = metrics_servers::prometheus(&[
        (
            r#"amo_responses{code="500"}"#,
            minutes(t0, 3, |_| Some(1.0)),
        ),
        (
            r#"amo_responses{code="200"}"#,
            minutes(t0, 3, |_| Some(2.0)),
        ),
    ]);
    let p = Prometheus::new(&server.url, 60);
    let end = t0 + 120;

    let unclosed = bad_query(prometheus(&p, "sum(", t0, end));
    assert!(unclosed.contains("bad_data"), "{unclosed}");
    assert!(
        unclosed.contains("parse error: unclosed left parenthesis"),
        "{unclosed}"
    );

    let unknown = bad_query(prometheus(&p, "amo_requests", t0, end));
    assert!(
        unknown.contains("`amo_requests` returns no series: check the metric name and labels"),
        "{unknown}"
    );

    let several = bad_query(prometheus(&p, "amo_responses", t0, end));
    assert!(several.contains("returns 2 series"), "{several}");
    assert!(
        several.contains(r#"amo_responses{code="200"}, amo_responses{code="500"}"#),
        "{several}"
    );
    assert!(several.contains("sum(amo_responses)"), "{several}");

    // Too many points for one query: the server's advice comes through.
    let fine = Prometheus::new(&server.url, 1);
    let too_many = bad_query(prometheus(&fine, "amo_responses", t0 - WEEK, t0));
    assert!(too_many.contains("11,000 points"), "{too_many}");
}

/// A port that accepts connections (the kernel completes them) and never answers.
fn silent() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (l, url)
}

/// A port nothing listens on.
fn refused() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

/// Answers one request with `status` and `body`, and hands back the request target.
fn answer_once(status: &'static str, body: &'static str) -> (String, mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let req = read_request(&mut s).unwrap();
        let _ = write!(
            s,
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tx.send(req.target);
    });
    (url, rx)
}

#[test]
fn no_answer_and_no_listener_are_transient() {
    let (_held, url) = silent();
    let limit = Duration::from_secs(1);
    let g = Graphite::new(&url).with_timeout(limit);
    let p = Prometheus::new(&url, 60).with_timeout(limit);
    let hung = transient(graphite(&g, "a.b", 0, 60));
    assert_eq!(
        hung,
        format!("Graphite at {url} is unreachable (no answer within 1s)")
    );
    let hung = transient(prometheus(&p, "up", 0, 60));
    assert_eq!(
        hung,
        format!("Prometheus at {url} is unreachable (no answer within 1s)")
    );

    let url = refused();
    let closed = transient(graphite(&Graphite::new(&url), "a.b", 0, 60));
    assert_eq!(
        closed,
        format!("Graphite at {url} is unreachable (cannot connect)")
    );
    let closed = transient(prometheus(&Prometheus::new(&url, 60), "up", 0, 60));
    assert_eq!(
        closed,
        format!("Prometheus at {url} is unreachable (cannot connect)")
    );
}

#[test]
fn server_failures_are_transient_and_foreign_bodies_are_neither() {
    let (url, sent) = answer_once("502 Bad Gateway", "upstream down\n");
    let failed = transient(graphite(&Graphite::new(&url), "a.b", 60, 120));
    assert!(
        failed.contains("HTTP 502 Bad Gateway: upstream down"),
        "{failed}"
    );
    assert_eq!(
        sent.recv().unwrap(),
        "/render?target=a.b&from=59&until=120&format=json"
    );

    let (url, sent) = answer_once(
        "503 Service Unavailable",
        r#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#,
    );
    let p = Prometheus::new(&url, 30);
    let failed = transient(prometheus(&p, r#"sum(x{a="b c"})"#, 60, 120));
    assert!(failed.contains("query timed out"), "{failed}");
    assert_eq!(
        sent.recv().unwrap(),
        "/api/v1/query_range?query=sum%28x%7Ba%3D%22b+c%22%7D%29&start=60&end=120&step=30"
    );

    let (url, _) = answer_once("200 OK", "<html>a login page</html>");
    let e = graphite(&Graphite::new(&url), "a.b", 60, 120).unwrap_err();
    assert!(!is_transient(&e) && !is_bad_query(&e), "{e:#}");
    assert!(e.to_string().contains("not the render API's JSON"), "{e}");

    let (url, _) = answer_once("200 OK", "<html>a login page</html>");
    let e = prometheus(&Prometheus::new(&url, 60), "up", 60, 120).unwrap_err();
    assert!(!is_transient(&e) && !is_bad_query(&e), "{e:#}");
    assert!(e.to_string().contains("not the API's JSON"), "{e}");
}
