//! A Graphite render-API stand-in (SERVICES.md): `GET /render?target=..&from=..&until=..
//! &format=json` answers `[{"target", "datapoints": [[value, ts], ...]}]` for the targets it
//! knows, `[]` for others, HTTP 400 for an expression whose parentheses do not pair.
//! `GET /metrics/find?query=` lists the known targets. Each series is a level with a little
//! steady wobble, computed from the time asked about (any window, last week's included), and
//! may jump by a factor from a moment on: an error spike after a push.

use crate::Server;
use crate::http::{Conn, Json, Request, Response, form, object};
use serde_json::json;
use std::sync::{Mutex, MutexGuard};

/// One series: its target expression as the runbook writes it, and its level.
#[derive(Clone, Debug)]
pub struct Series {
    pub target: String,
    /// The usual value.
    pub level: f64,
    /// The wobble around it, as a fraction of the level (0.05: ±5 %).
    pub wobble: f64,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The loopback port to listen on; 0 (or a taken one): any free port.
    pub port: u16,
    pub series: Vec<Series>,
    /// Seconds between points (Graphite's retention step).
    pub step_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            series: Vec::new(),
            step_secs: 60,
        }
    }
}

pub struct Graphite {
    server: Server<Shared>,
}

struct Shared {
    cfg: Config,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per target: from when (unix seconds) it is multiplied by how much.
    spikes: Vec<(String, i64, f64)>,
    requests: Vec<String>,
}

impl Graphite {
    /// On a free loopback port; for tests, where a stand-in that cannot start ends the test.
    #[cfg(any(test, feature = "testing"))]
    pub fn start(cfg: Config) -> Self {
        super::started("Graphite", Self::try_start(cfg))
    }

    /// On a free loopback port.
    pub fn try_start(cfg: Config) -> std::io::Result<Self> {
        let port = cfg.port;
        Server::start_http(
            port,
            |_| Shared {
                cfg,
                state: Mutex::new(State::default()),
            },
            serve,
        )
        .map(|server| Self { server })
    }

    /// "http://127.0.0.1:PORT", no trailing slash.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// Plays `fault` on every request instead of the API, whatever it is asked (see
    /// [`crate::http::WireFault`]); `WireFault::None` ends it.
    pub fn set_wire_fault(&self, fault: crate::http::WireFault) {
        self.server.set_wire_fault(fault);
    }

    /// From `from` (unix seconds) on, `target` is `factor` times its level.
    pub fn spike(&self, target: &str, from: i64, factor: f64) {
        self.server
            .shared
            .lock()
            .spikes
            .push((target.to_string(), from, factor));
    }

    /// The spikes begun so far, as JSON; a stand-in started later takes them up with
    /// [`Graphite::restore`].
    pub fn snapshot(&self) -> serde_json::Value {
        let st = self.server.shared.lock();
        let spikes: Vec<_> = st
            .spikes
            .iter()
            .map(|(target, from, factor)| json!({"target": target, "from": from, "factor": factor}))
            .collect();
        json!({ "spikes": spikes })
    }

    /// Takes up a [`Graphite::snapshot`]: its spikes replace this stand-in's.
    pub fn restore(&self, saved: &serde_json::Value) -> Result<(), String> {
        use crate::saved::{f64_of, i64_of, list, str_of};
        let spikes = list(saved, "spikes")
            .and_then(|all| {
                all.iter()
                    .map(|v| {
                        Ok((
                            str_of(v, "target")?,
                            i64_of(v, "from")?,
                            f64_of(v, "factor")?,
                        ))
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .map_err(|e| format!("the Graphite state: {e}"))?;
        self.server.shared.lock().spikes = spikes;
        Ok(())
    }

    /// "METHOD TARGET" of every request, in order.
    pub fn requests(&self) -> Vec<String> {
        self.server.shared.lock().requests.clone()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    /// The value of `s` at `t`: its level, wobbling steadily, times any spike begun by then.
    fn value(&self, st: &State, s: &Series, t: i64) -> f64 {
        let wobble = s.wobble * s.level * (wave(t) - 0.5) * 2.0;
        let factor = st
            .spikes
            .iter()
            .filter(|(target, from, _)| *target == s.target && t >= *from)
            .map(|(_, _, f)| *f)
            .fold(1.0, f64::max);
        ((s.level + wobble) * factor * 100.0).round() / 100.0
    }

    fn render(&self, query: &str) -> Response {
        let params = form(query.as_bytes());
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let now = chrono::Utc::now().timestamp();
        let Some(from) = get("from").map_or(Some(now - 86_400), |v| time(v, now)) else {
            return bad("Invalid `from`");
        };
        let Some(until) = get("until").map_or(Some(now), |v| time(v, now)) else {
            return bad("Invalid `until`");
        };
        let step = self.cfg.step_secs.max(1);
        let st = self.lock();
        let mut out = Vec::new();
        for (_, target) in params.iter().filter(|(k, _)| k == "target") {
            if !balanced(target) {
                return bad(&format!(
                    "Invalid target: unbalanced parentheses in {target}"
                ));
            }
            let Some(s) = self.cfg.series.iter().find(|s| s.target == *target) else {
                continue;
            };
            // Whisper: the first point is the first step after `from`, the last at or
            // before `until`, never in the future.
            let first = (from / step + 1) * step;
            let last = until.min(now);
            let points: Vec<_> = (0..)
                .map(|i| first + i * step)
                .take_while(|t| *t <= last)
                .map(|t| json!([self.value(&st, s, t), t]))
                .collect();
            out.push(object! {
                "target": target,
                "tags": json!({ "name": target }),
                "datapoints": json!(points),
            });
        }
        json_answer(Json::array(out))
    }

    fn find(&self, query: &str) -> Response {
        let params = form(query.as_bytes());
        let q = params
            .iter()
            .find(|(k, _)| k == "query")
            .map_or("*", |(_, v)| v.as_str());
        let prefix = q.trim_end_matches('*');
        let found = self
            .cfg
            .series
            .iter()
            .filter(|s| s.target.starts_with(prefix))
            .map(|s| {
                object! {
                    "text": &s.target,
                    "id": &s.target,
                    "leaf": 1,
                    "expandable": 0,
                    "allowChildren": 0,
                }
            });
        json_answer(Json::array(found))
    }
}

fn json_answer(body: Json) -> Response {
    Response::new(200, "application/json", body)
}

fn text(status: u16, body: &str) -> Response {
    Response::new(status, "text/plain", body)
}

fn bad(why: &str) -> Response {
    text(400, why)
}

/// A number in [0, 1) that moves with `t` without a pattern a test could mistake for a trend.
fn wave(t: i64) -> f64 {
    let mut x = t as u64 ^ 0x9e37_79b9_7f4a_7c15;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x % 10_000) as f64 / 10_000.0
}

/// Graphite's time forms the client and people use: unix seconds, `now`, `-30min`, `-1h`,
/// `-2d`, `-10s`.
fn time(v: &str, now: i64) -> Option<i64> {
    if v == "now" {
        return Some(now);
    }
    if let Ok(t) = v.parse::<i64>() {
        return Some(t);
    }
    let rel = v.strip_prefix('-')?;
    let digits = rel.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = rel.split_at(digits);
    let n: i64 = n.parse().ok()?;
    let secs = match unit {
        "s" | "sec" | "seconds" => 1,
        "min" | "minutes" => 60,
        "h" | "hours" => 3600,
        "d" | "days" => 86_400,
        "w" | "weeks" => 7 * 86_400,
        _ => return None,
    };
    Some(now - n * secs)
}

fn balanced(expr: &str) -> bool {
    let mut depth = 0i32;
    for c in expr.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

fn serve(sh: &Shared, req: Request, mut conn: Conn) {
    sh.lock().requests.push(req.line());
    conn.send(&route(sh, &req));
}

fn route(sh: &Shared, req: &Request) -> Response {
    let (path, query) = req.path_and_query();
    if req.method != "GET" {
        return text(405, "Method Not Allowed");
    }
    match path.trim_end_matches('/') {
        "/render" => sh.render(query),
        "/metrics/find" => sh.find(query),
        _ => text(404, "Not Found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> (u16, String) {
        crate::http::get(url, &[])
    }

    fn graphite() -> Graphite {
        Graphite::start(Config {
            series: vec![Series {
                target: "sumSeries(stats.5*)".into(),
                level: 100.0,
                wobble: 0.05,
            }],
            step_secs: 10,
            ..Config::default()
        })
    }

    #[test]
    fn render_gives_points_on_the_step_within_the_window_and_the_wobble() {
        let g = graphite();
        let now = chrono::Utc::now().timestamp();
        let from = now - 600;
        let (status, body) = get(&format!(
            "{}/render?target=sumSeries%28stats.5%2A%29&from={from}&until={now}&format=json",
            g.url()
        ));
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v[0]["target"], "sumSeries(stats.5*)");
        let points = v[0]["datapoints"].as_array().unwrap();
        assert!((59..=60).contains(&points.len()), "{}", points.len());
        for p in points {
            let (value, t) = (p[0].as_f64().unwrap(), p[1].as_i64().unwrap());
            assert!(t > from && t <= now && t % 10 == 0);
            assert!((95.0..=105.0).contains(&value), "{value}");
        }
    }

    #[test]
    fn a_spike_multiplies_the_series_from_its_moment_on() {
        let g = graphite();
        let now = chrono::Utc::now().timestamp();
        g.spike("sumSeries(stats.5*)", now - 100, 5.0);
        let (_, body) = get(&format!(
            "{}/render?target=sumSeries%28stats.5%2A%29&from=-10min&until=now&format=json",
            g.url()
        ));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        for p in v[0]["datapoints"].as_array().unwrap() {
            let (value, t) = (p[0].as_f64().unwrap(), p[1].as_i64().unwrap());
            if t >= now - 100 {
                assert!(value >= 475.0, "{t}: {value}");
            } else {
                assert!(value <= 105.0, "{t}: {value}");
            }
        }
    }

    #[test]
    fn unknown_targets_give_nothing_and_unbalanced_ones_a_400() {
        let g = graphite();
        let (status, body) = get(&format!("{}/render?target=nope&format=json", g.url()));
        assert_eq!((status, body.as_str()), (200, "[]"));
        let (status, _) = get(&format!(
            "{}/render?target=sumSeries%28a&format=json",
            g.url()
        ));
        assert_eq!(status, 400);
        let (status, body) = get(&format!("{}/metrics/find?query=sum*", g.url()));
        assert_eq!(status, 200);
        assert!(body.contains(r#""leaf":1"#), "{body}");
    }
}
