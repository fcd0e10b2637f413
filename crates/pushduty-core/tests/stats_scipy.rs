//! The judge's statistics against SciPy on generated samples: the Mann-Whitney U and p-value
//! (SciPy's asymptotic method with the continuity correction, ties included), the normal
//! quantile, and the minimum detectable shift, whose claimed power SciPy's own test measures
//! on 4000 simulated soaks per size. Needs a `python3` with SciPy; without one the test says
//! it was skipped and passes (the unit tests of `stats` still check known values).

use std::io::Write;
use std::process::{Command, Stdio};

use pushduty_core::health::stats::{POWER, mann_whitney, min_detectable_shift, normal_quantile};
use serde_json::{Value, json};

const SCRIPT: &str = r#"
import json, sys
import numpy as np
from scipy import stats
req = json.load(sys.stdin)
out = {"mw": [], "ppf": [], "power": []}
for a, b in req["pairs"]:
    r = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    out["mw"].append([float(r.statistic), float(r.pvalue)])
out["ppf"] = [float(stats.norm.ppf(p)) for p in req["quantiles"]]
rng = np.random.default_rng(20261206)
for n_base, n_soak, alpha, shift in req["power"]:
    base = rng.normal(100.0, 10.0, size=(4000, n_base))
    soak = rng.normal(100.0 + shift, 10.0, size=(4000, n_soak))
    p = stats.mannwhitneyu(base, soak, axis=1, alternative="two-sided", method="asymptotic").pvalue
    out["power"].append(float(np.mean(p < alpha)))
json.dump(out, sys.stdout)
"#;

fn scipy_available() -> bool {
    Command::new("python3")
        .args(["-c", "import scipy, numpy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Deterministic samples: a linear congruential generator, values rounded to halves so that
/// some tie.
fn sample(seed: &mut u64, n: usize, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (*seed >> 11) as f64 / (1u64 << 53) as f64;
            ((u * 40.0 + shift) * 2.0).round() / 2.0
        })
        .collect()
}

#[test]
fn the_judge_statistics_agree_with_scipy() {
    if !scipy_available() {
        // As the other tests of outside programs: skipped with why, but never under CI.
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "no python3 with SciPy and NumPy: scripts/deps.sh installs them"
        );
        eprintln!("skipped: no python3 with SciPy and NumPy here (scripts/deps.sh installs them)");
        return;
    }
    let mut seed = 7;
    let pairs: Vec<(Vec<f64>, Vec<f64>)> = [
        (5, 5, 0.0),
        (10, 10, 8.0),
        (30, 60, 3.0),
        (7, 25, 15.0),
        (60, 30, -5.0),
    ]
    .iter()
    .map(|&(na, nb, shift)| (sample(&mut seed, na, 0.0), sample(&mut seed, nb, shift)))
    .collect();
    let quantiles = [0.001, 0.025, 0.2, 0.5, 0.8, 0.95, 0.975, 0.9995];
    let sizes = [
        (10usize, 10usize, 0.05),
        (60, 30, 0.05),
        (20, 8, 0.01),
        (30, 30, 0.1),
    ];
    let shifts: Vec<f64> = sizes
        .iter()
        .map(|&(nb, ns, alpha)| min_detectable_shift(nb, ns, alpha, 10.0).expect("detectable"))
        .collect();
    let request = json!({
        "pairs": pairs,
        "quantiles": quantiles,
        "power": sizes.iter().zip(&shifts).map(|(&(nb, ns, a), s)| json!([nb, ns, a, s])).collect::<Vec<_>>(),
    });

    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("the request is written");
    let out = child.wait_with_output().expect("python3 ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scipy: Value = serde_json::from_slice(&out.stdout).expect("SciPy's answer is JSON");

    for ((a, b), expected) in pairs.iter().zip(scipy["mw"].as_array().expect("mw")) {
        let (u, p) = mann_whitney(a, b).expect("both sides have points");
        let (su, sp) = (expected[0].as_f64().unwrap(), expected[1].as_f64().unwrap());
        assert_eq!(u, su, "U for sizes {}/{}", a.len(), b.len());
        // The erfc fit is good to 1.2e-7 relative.
        assert!(
            (p - sp).abs() <= 1e-6 * sp.max(1e-3),
            "p for sizes {}/{}: {p} vs SciPy {sp}",
            a.len(),
            b.len()
        );
    }
    for (q, expected) in quantiles.iter().zip(scipy["ppf"].as_array().expect("ppf")) {
        let e = expected.as_f64().unwrap();
        assert!(
            (normal_quantile(*q) - e).abs() < 1e-8,
            "quantile {q}: {} vs {e}",
            normal_quantile(*q)
        );
    }
    // At the minimum detectable shift SciPy's test sees the change at least as often as
    // promised, and not so much more often that the figure would mislead.
    for ((size, shift), power) in sizes
        .iter()
        .zip(&shifts)
        .zip(scipy["power"].as_array().expect("power"))
    {
        let power = power.as_f64().unwrap();
        assert!(
            (POWER - 0.03..=0.95).contains(&power),
            "sizes {size:?}: shift {shift} seen in {power} of SciPy's tests"
        );
    }
}
