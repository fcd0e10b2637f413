//! Real Graphite and Prometheus servers for the metrics client tests, started through the
//! project's scripts/services/*.sh with the series a test seeds.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// A series to seed: its name and its points (unix seconds, value; `None` writes no sample).
pub type Seed<'a> = (&'a str, Vec<(i64, Option<f64>)>);

/// A running server; dropping it stops it and waits until it is gone.
pub struct Server {
    /// "http://127.0.0.1:PORT".
    pub url: String,
    pid: i32,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        super::daemon::stop(self.pid);
    }
}

pub fn graphite(seed: &[Seed]) -> Server {
    start("graphite", seed)
}

pub fn prometheus(seed: &[Seed]) -> Server {
    start("prometheus", seed)
}

/// `n` points a minute apart from `from`'s minute, valued `f(i)`.
pub fn minutes(from: i64, n: usize, f: impl Fn(usize) -> Option<f64>) -> Vec<(i64, Option<f64>)> {
    let start = from - from.rem_euclid(60);
    (0..n).map(|i| (start + 60 * i as i64, f(i))).collect()
}

fn start(kind: &str, seed: &[Seed]) -> Server {
    let dir = tempfile::tempdir().expect("a temp dir for the server");
    let seed_file = dir.path().join("seed");
    let mut out = std::fs::File::create(&seed_file).expect("create the seed file");
    for (name, points) in seed {
        for (t, v) in points {
            let v = v.map_or_else(|| "null".to_string(), |v| v.to_string());
            writeln!(out, "{name} {t} {v}").expect("write the seed file");
        }
    }
    drop(out);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scripts/services/{kind}.sh"));
    // A free port may be taken between our look and the server's bind: one more try then.
    let mut last_err = String::new();
    for attempt in 0..2 {
        let port = free_port();
        let work = dir.path().join(format!("work-{attempt}"));
        let run = Command::new(&script)
            .arg(port.to_string())
            .arg(&work)
            .arg(&seed_file)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        if run.status.success() {
            let pid = String::from_utf8_lossy(&run.stdout)
                .trim()
                .parse()
                .unwrap_or_else(|_| {
                    panic!(
                        "{kind}.sh printed no PID: {:?}",
                        String::from_utf8_lossy(&run.stdout)
                    )
                });
            return Server {
                url: format!("http://127.0.0.1:{port}"),
                pid,
                _dir: dir,
            };
        }
        last_err = String::from_utf8_lossy(&run.stderr).into_owned();
    }
    panic!("{kind}.sh failed twice; its stderr:\n{last_err}");
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("the port's address").port()
}
