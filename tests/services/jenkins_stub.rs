//! The Jenkins stand-in itself, spoken to over raw HTTP/1.1 so that its answers are checked
//! byte for byte rather than through the client under test.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support;
use crate::support::jenkins::{Config, Fault, Jenkins};

const JOB: &str = "/job/deploy/job/addons-stage";
/// "andym:t0k", encoded by hand so the stand-in's own encoder is not checking itself.
const AUTH: &str = "Basic YW5keW06dDBr";

fn config() -> Config {
    Config {
        queue_ms: 300,
        build_ms: 800,
        console_lines: vec!["Deploying".into(), "Migrating".into(), "Done".into()],
        ..Default::default()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        support::jenkins::header(&self.headers, name)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e} in {} body {:?}", self.status, self.body))
    }
}

fn connect(j: &Jenkins, method: &str, path: &str, auth: Option<&str>, body: &str) -> TcpStream {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", j.addr());
    if let Some(auth) = auth {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    if method == "POST" {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = TcpStream::connect(j.addr()).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

/// One request, read to the end (the stand-in closes every connection).
fn call(j: &Jenkins, method: &str, path: &str, auth: Option<&str>, body: &str) -> Reply {
    let mut stream = connect(j, method, path, auth, body);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| line.split_once(": ").expect("a header line"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let reply = Reply {
        status,
        headers,
        body: body.to_string(),
    };
    let length = reply.header("Content-Length").expect("Content-Length");
    assert_eq!(length.parse::<usize>().unwrap(), reply.body.len());
    assert_eq!(reply.header("Connection"), Some("close"));
    reply
}

fn get(j: &Jenkins, path: &str) -> Reply {
    call(j, "GET", path, Some(AUTH), "")
}

fn trigger(j: &Jenkins, form: &str) -> Reply {
    call(
        j,
        "POST",
        &format!("{JOB}/buildWithParameters"),
        Some(AUTH),
        form,
    )
}

/// Asks until `f` has an answer; fails after a few seconds.
fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(found) = f() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn queue_path(location: &str, j: &Jenkins) -> String {
    let path = location
        .strip_prefix(j.url())
        .expect("Location on this server");
    format!("{path}api/json")
}

/// Triggers and waits for the build number; returns the queue item's path too.
fn triggered_build(j: &Jenkins, form: &str) -> (String, u64) {
    let reply = trigger(j, form);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let queue = queue_path(reply.header("Location").unwrap(), j);
    let number = poll("the build to start", || {
        get(j, &queue).json()["executable"]["number"].as_u64()
    });
    (queue, number)
}

#[test]
fn trigger_queue_build_console_to_finished() {
    // Roomy times: a loaded machine must still see the item waiting and the build running.
    let j = Jenkins::start(Config {
        queue_ms: 1500,
        build_ms: 2500,
        ..config()
    });
    assert_eq!(get(&j, &format!("{JOB}/lastBuild/api/json")).status, 404);
    assert_eq!(j.last_build_number(), None);

    let reply = trigger(&j, "TAG=2015.09.10&NOTE=a+b%21");
    assert_eq!(reply.status, 201, "{}", reply.body);
    let location = reply.header("Location").unwrap();
    assert_eq!(location, format!("{}/queue/item/7/", j.url()));
    assert_eq!(j.triggers(), 1);
    let sent = [("TAG", "2015.09.10"), ("NOTE", "a b!")].map(|(k, v)| (k.into(), v.into()));
    assert_eq!(j.params(0), sent.to_vec());

    let queue = queue_path(location, &j);
    let waiting = get(&j, &queue).json();
    assert_eq!(waiting["id"], 7);
    assert_eq!(waiting["why"], "Waiting for next available executor");
    assert_eq!(waiting["cancelled"], false);
    assert!(waiting["executable"].is_null());

    let started = poll("the build to start", || {
        let item = get(&j, &queue).json();
        (!item["executable"].is_null()).then_some(item)
    });
    assert!(started["why"].is_null());
    let build_url = format!("{}/job/deploy/job/addons-stage/1/", j.url());
    assert_eq!(started["executable"]["number"], 1);
    assert_eq!(started["executable"]["url"], build_url.as_str());
    assert_eq!(j.last_build_number(), Some(1));

    let running = get(&j, &format!("{JOB}/1/api/json?tree=number,building")).json();
    assert_eq!(running["building"], true);
    assert!(running["result"].is_null());
    assert_eq!(running["duration"], 0);
    assert_eq!(running["estimatedDuration"], 2000);

    // Read the console as a client does: from the last offset until X-More-Data goes away.
    let (mut text, mut sizes) = (String::new(), Vec::new());
    poll("the console to finish", || {
        let path = format!("{JOB}/1/logText/progressiveText?start={}", text.len());
        let reply = get(&j, &path);
        text.push_str(&reply.body);
        let size: usize = reply.header("X-Text-Size").unwrap().parse().unwrap();
        assert_eq!(size, text.len());
        sizes.push(size);
        let more = reply.header("X-More-Data");
        assert!(matches!(more, None | Some("true")), "{more:?}");
        more.is_none().then_some(())
    });
    sizes.dedup();
    assert!(sizes.len() >= 3, "the console should grow, sizes {sizes:?}");
    let expected = "Started by user andym\nDeploying\nMigrating\nDone\nFinished: SUCCESS\n";
    assert_eq!(text, expected);

    let done = get(&j, &format!("{JOB}/1/api/json")).json();
    assert_eq!(done["building"], false);
    assert_eq!(done["result"], "SUCCESS");
    assert_eq!(done["duration"], 2500);
    assert_eq!(done["url"], build_url.as_str());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let timestamp = done["timestamp"].as_u64().unwrap();
    assert!(
        timestamp <= now_ms && now_ms - timestamp < 5000,
        "{timestamp}"
    );
    let params = &done["actions"][0]["parameters"];
    assert_eq!(params[0]["name"], "TAG");
    assert_eq!(params[0]["value"], "2015.09.10");
    assert_eq!(
        params.as_array().unwrap().len(),
        1,
        "undefined NOTE is dropped"
    );

    assert_eq!(
        get(&j, &format!("{JOB}/lastBuild/api/json")).json()["number"],
        1
    );
    let past = format!("{JOB}/1/logText/progressiveText?start={}", text.len());
    let past = get(&j, &past);
    assert_eq!((past.body.as_str(), past.header("X-More-Data")), ("", None));
    let requests = j.requests();
    assert_eq!(requests[1], format!("POST {JOB}/buildWithParameters"));
    assert_eq!(requests[2], "GET /queue/item/7/api/json");
}

#[test]
fn builds_list_newest_first() {
    let j = Jenkins::start(Config {
        queue_ms: 0,
        build_ms: 100,
        first_build: 41,
        ..config()
    });
    triggered_build(&j, "TAG=one");
    triggered_build(&j, "TAG=two");
    let job = get(&j, &format!("{JOB}/api/json?tree=builds[number,result]")).json();
    let builds = job["builds"].as_array().unwrap();
    let numbers: Vec<u64> = builds
        .iter()
        .map(|b| b["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [42, 41]);
    assert_eq!(builds[0]["actions"][0]["parameters"][0]["value"], "two");
    assert_eq!(job["lastBuild"]["number"], 42);
    assert_eq!(j.last_build_number(), Some(42));
}

#[test]
fn an_identical_request_gets_the_waiting_item_and_counts_once() {
    let j = Jenkins::start(Config {
        queue_ms: 5000,
        ..config()
    });
    let first = trigger(&j, "TAG=2015.09.10");
    assert_eq!(first.status, 201);
    // Current cores answer with the item already waiting; nothing new is queued.
    let again = trigger(&j, "TAG=2015%2E09%2E10");
    assert_eq!(again.status, 201);
    assert_eq!(again.header("Location"), first.header("Location"));
    assert_eq!(j.triggers(), 1);

    let other = trigger(&j, "TAG=2015.09.11");
    assert_eq!(other.status, 201);
    let location = format!("{}/queue/item/8/", j.url());
    assert_eq!(other.header("Location"), Some(location.as_str()));
    assert_eq!(j.triggers(), 2);

    // Older cores: a redirect to the job page, naming no item, whether queued or merged.
    j.set_fault(Fault::TriggerRedirect);
    for form in ["TAG=2015.09.12", "TAG=2015.09.12"] {
        let reply = trigger(&j, form);
        assert_eq!(reply.status, 302);
        assert_eq!(reply.header("Location"), Some(j.job_url().as_str()));
    }
    assert_eq!(j.triggers(), 3);
}

#[test]
fn the_queue_lists_the_jobs_waiting_items_with_their_parameters() {
    let j = Jenkins::start(Config {
        queue_ms: 5000,
        more_params: vec!["NOTE".into()],
        ..config()
    });
    assert_eq!(
        get(&j, "/queue/api/json").json()["items"],
        serde_json::json!([])
    );
    trigger(&j, "TAG=2015.09.10&NOTE=first");
    trigger(&j, "TAG=2015.09.11");
    let queue = get(
        &j,
        "/queue/api/json?tree=items[id,task[url],actions[parameters[name,value]]]",
    )
    .json();
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], 7);
    assert_eq!(items[0]["task"]["url"], j.job_url().as_str());
    assert_eq!(items[0]["why"], "Waiting for next available executor");
    assert_eq!(items[0]["params"], "\nTAG=2015.09.10\nNOTE=first");
    let params = &items[0]["actions"][0]["parameters"];
    assert_eq!(params[0]["name"], "TAG");
    assert_eq!(params[0]["value"], "2015.09.10");
    assert_eq!(params[1]["value"], "first");
    assert_eq!(
        items[1]["actions"][0]["parameters"][1]["value"], "",
        "the default"
    );
    // The item's own page carries them too.
    let item = get(&j, "/queue/item/8/api/json").json();
    assert_eq!(item["actions"][0]["parameters"][0]["value"], "2015.09.11");

    // Once started, an item leaves the queue.
    let j = Jenkins::start(Config {
        queue_ms: 0,
        ..config()
    });
    triggered_build(&j, "TAG=x");
    assert_eq!(
        get(&j, "/queue/api/json").json()["items"],
        serde_json::json!([])
    );
}

#[test]
fn a_slow_trigger_has_queued_its_item_before_it_answers() {
    let j = Jenkins::start(config());
    j.set_trigger_delay(Duration::from_millis(600));
    let started = Instant::now();
    let stream = connect(
        &j,
        "POST",
        &format!("{JOB}/buildWithParameters"),
        Some(AUTH),
        "TAG=x",
    );
    poll("the item to be queued", || {
        (j.triggers() == 1).then_some(())
    });
    assert!(started.elapsed() < Duration::from_millis(600));
    // The client gives up before the answer: the item stays queued all the same.
    stream.shutdown(std::net::Shutdown::Both).unwrap();
    assert_eq!(get(&j, "/queue/api/json").json()["items"][0]["id"], 7);
}

#[test]
fn a_rate_limited_trigger_says_when_to_come_back_and_queues_nothing() {
    let j = Jenkins::start(config());
    j.set_fault(Fault::TriggerRateLimited(30));
    let reply = trigger(&j, "TAG=x");
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("Retry-After"), Some("30"));
    assert_eq!(j.triggers(), 0);
    j.set_fault(Fault::ReadStatus(503));
    assert_eq!(get(&j, &format!("{JOB}/api/json")).status, 503);
    assert_eq!(trigger(&j, "TAG=x").status, 201, "reads only");
}

#[test]
fn queue_item_disappears_after_the_build_completes() {
    let j = Jenkins::start(Config {
        queue_ms: 50,
        build_ms: 200,
        ..config()
    });
    let (queue, number) = triggered_build(&j, "TAG=x");
    poll("the queue item to go", || {
        (get(&j, &queue).status == 404).then_some(())
    });
    let build = get(&j, &format!("{JOB}/{number}/api/json")).json();
    assert_eq!(
        build["building"], false,
        "gone only once the build completed"
    );

    // Remembered a while, when so configured.
    let j = Jenkins::start(Config {
        queue_ms: 50,
        build_ms: 200,
        queue_forget_ms: 1000,
        ..config()
    });
    let (queue, number) = triggered_build(&j, "TAG=x");
    poll("the build to complete", || {
        let build = get(&j, &format!("{JOB}/{number}/api/json")).json();
        (build["building"] == false).then_some(())
    });
    assert_eq!(get(&j, &queue).json()["executable"]["number"], number);
    poll("the queue item to go", || {
        (get(&j, &queue).status == 404).then_some(())
    });
}

#[test]
fn auth_is_required_and_checked() {
    let j = Jenkins::start(Config {
        viewer: Some(("ro".into(), "look".into())),
        ..config()
    });
    let path = format!("{JOB}/buildWithParameters");
    let none = call(&j, "POST", &path, None, "TAG=x");
    assert_eq!(none.status, 401);
    assert_eq!(
        none.header("WWW-Authenticate"),
        Some("Basic realm=\"Jenkins\"")
    );
    let wrong = call(&j, "POST", &path, Some("Basic YW5keW06bm9wZQ=="), "TAG=x");
    assert_eq!(wrong.status, 401);
    let api = format!("{JOB}/api/json");
    assert_eq!(call(&j, "GET", &api, None, "").status, 401);

    let viewer = support::jenkins::basic_auth("ro", "look");
    assert_eq!(call(&j, "POST", &path, Some(&viewer), "TAG=x").status, 403);
    assert_eq!(call(&j, "GET", &api, Some(&viewer), "").status, 200);
    assert_eq!(j.triggers(), 0);

    assert_eq!(j.auth_header(), AUTH);
    j.set_fault(Fault::Unauthorized);
    assert_eq!(get(&j, &api).status, 401);
    assert_eq!(trigger(&j, "TAG=x").status, 401);
    j.set_fault(Fault::None);
    assert_eq!(get(&j, &api).status, 200);
}

#[test]
fn unknown_job_and_paths_are_404() {
    let j = Jenkins::start(config());
    for path in [
        "/job/nope/buildWithParameters",
        "/job/deploy/job/addons-stage2/buildWithParameters",
        "/job/deploy/buildWithParameters",
    ] {
        assert_eq!(
            call(&j, "POST", path, Some(AUTH), "TAG=x").status,
            404,
            "{path}"
        );
    }
    assert_eq!(get(&j, "/job/deploy/job/other/api/json").status, 404);
    assert_eq!(get(&j, &format!("{JOB}/3/api/json")).status, 404);
    assert_eq!(get(&j, "/queue/item/99/api/json").status, 404);
    assert_eq!(get(&j, "/crumbIssuer/api/json").status, 404, "CSRF off");
    assert_eq!(j.triggers(), 0);
}

#[test]
fn trigger_without_parameters_is_refused() {
    let j = Jenkins::start(config());
    let reply = trigger(&j, "");
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("not parameterized"), "{}", reply.body);
    assert_eq!(j.triggers(), 0);
    let get_trigger = get(&j, &format!("{JOB}/buildWithParameters?TAG=x"));
    assert_eq!(get_trigger.status, 405);
    // Parameters in the query string count as Jenkins reads them too.
    let path = format!("{JOB}/buildWithParameters?TAG=q");
    assert_eq!(call(&j, "POST", &path, Some(AUTH), "").status, 201);
    assert_eq!(j.params(0), [("TAG".to_string(), "q".to_string())]);
}

#[test]
fn trigger_status_faults_answer_plain_text_and_queue_nothing() {
    let j = Jenkins::start(config());
    for status in [400, 404, 409, 500] {
        j.set_fault(Fault::TriggerStatus(status));
        let reply = trigger(&j, "TAG=x");
        assert_eq!(reply.status, status);
        assert!(
            reply
                .header("Content-Type")
                .unwrap()
                .starts_with("text/plain")
        );
        assert!(!reply.body.is_empty());
        assert_eq!(reply.header("Location"), None);
    }
    assert_eq!(j.triggers(), 0);
    j.set_fault(Fault::None);
    assert_eq!(trigger(&j, "TAG=x").status, 201);
    assert_eq!(j.triggers(), 1);
}

#[test]
fn malformed_json_fault_breaks_every_json_answer() {
    let j = Jenkins::start(Config {
        queue_ms: 0,
        ..config()
    });
    let (queue, number) = triggered_build(&j, "TAG=x");
    j.set_fault(Fault::MalformedJson);
    for path in [
        queue,
        format!("{JOB}/api/json"),
        format!("{JOB}/{number}/api/json"),
        format!("{JOB}/lastBuild/api/json"),
    ] {
        let reply = get(&j, &path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(!reply.body.is_empty(), "{path}");
        assert!(
            serde_json::from_str::<Value>(&reply.body).is_err(),
            "{path}"
        );
    }
    j.set_fault(Fault::None);
    assert_eq!(
        get(&j, &format!("{JOB}/api/json")).json()["builds"][0]["number"],
        1
    );
}

#[test]
fn hang_fault_times_out_a_client_without_blocking_others_or_shutdown() {
    let j = Jenkins::start(config());
    j.set_fault(Fault::Hang);
    let mut hung = connect(&j, "GET", &format!("{JOB}/api/json"), Some(AUTH), "");
    hung.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    let err = hung.read(&mut buf).expect_err("no answer while hanging");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );

    j.set_fault(Fault::None);
    assert_eq!(get(&j, &format!("{JOB}/api/json")).status, 200);
    assert_eq!(j.requests().len(), 2);

    // Dropping the server lets go of the hung connection promptly.
    let addr = j.addr();
    let dropped = Instant::now();
    drop(j);
    hung.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    assert_eq!(hung.read(&mut buf).unwrap(), 0);
    assert!(
        dropped.elapsed() < Duration::from_secs(1),
        "{:?}",
        dropped.elapsed()
    );
    assert!(TcpStream::connect(addr).is_err(), "no longer listening");
}

#[test]
fn queue_cancelled_fault_cancels_the_next_item_only() {
    let j = Jenkins::start(Config {
        queue_ms: 50,
        build_ms: 100,
        ..config()
    });
    j.set_fault(Fault::QueueCancelled);
    let reply = trigger(&j, "TAG=x");
    assert_eq!(reply.status, 201);
    assert_eq!(j.fault(), Fault::None);
    let cancelled = queue_path(reply.header("Location").unwrap(), &j);

    let (_, number) = triggered_build(&j, "TAG=x");
    assert_eq!(number, 1, "the cancelled item took no build number");
    let item = get(&j, &cancelled).json();
    assert_eq!(item["cancelled"], true);
    assert!(item["executable"].is_null());
    assert_eq!(j.triggers(), 2);
}
