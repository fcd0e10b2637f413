//! The statistics of a health check, one implementation for the judge's verdict and the
//! panes' numbers, so that what the screen shows and what the step decides cannot disagree.
//! Missing and non-finite points are dropped, never read as zero.

/// The usable points: missing and non-finite values are dropped, never read as zero.
pub fn clean(values: &[Option<f64>]) -> Vec<f64> {
    values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect()
}

/// The median of the values that are there; `None` when there are none.
pub fn median_of(values: &[Option<f64>]) -> Option<f64> {
    median(&clean(values))
}

/// The median of finite values; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// Change from `baseline` to `soak` in percent of the baseline's size; `None` from a zero
/// baseline to anything else.
pub fn change_percent(baseline: f64, soak: f64) -> Option<f64> {
    if baseline == 0.0 {
        (soak == 0.0).then_some(0.0)
    } else {
        Some((soak - baseline) / baseline.abs() * 100.0)
    }
}

/// Mann-Whitney U test of `a` against `b`: the U statistic of `a` and the two-sided p-value.
///
/// Ties take the average of their ranks; the p-value comes from the normal approximation
/// with the tie correction of the variance and a continuity correction of 1/2. Non-finite
/// values are left out. `None` when either side is empty; p = 1 when every value is tied.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| (v, true))
        .chain(b.iter().filter(|v| v.is_finite()).map(|&v| (v, false)))
        .collect();
    let na = all.iter().filter(|(_, in_a)| *in_a).count();
    let nb = all.len() - na;
    if na == 0 || nb == 0 {
        return None;
    }
    all.sort_by(|x, y| x.0.total_cmp(&y.0));

    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < all.len() {
        let mut end = start + 1;
        while end < all.len() && all[end].0 == all[start].0 {
            end += 1;
        }
        // Ranks are 1-based: the group covers ranks start+1 ..= end.
        let rank = (start + 1 + end) as f64 / 2.0;
        let in_a = all[start..end].iter().filter(|(_, in_a)| *in_a).count();
        rank_sum_a += rank * in_a as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }

    let (na, nb) = (na as f64, nb as f64);
    let n = na + nb;
    let u = rank_sum_a - na * (na + 1.0) / 2.0;
    let mean = na * nb / 2.0;
    let variance = na * nb / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 || !variance.is_finite() {
        return Some((u, 1.0));
    }
    let z = ((u - mean).abs() - 0.5) / variance.sqrt();
    let p = erfc(z / std::f64::consts::SQRT_2).clamp(0.0, 1.0);
    Some((u, p))
}

/// The mean of finite values; `None` when there are none.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The spread of a sample as a normal standard deviation, robustly: 1.4826 times the median
/// absolute deviation (a few outliers do not inflate it); the plain standard deviation when
/// more than half the values are equal (the MAD is then 0). `None` for fewer than 2 values.
pub fn spread(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
    let mad = median(&deviations)? * 1.4826;
    if mad > 0.0 {
        return Some(mad);
    }
    let mu = mean(values)?;
    let var = values.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
    Some(var.sqrt())
}

/// The power the minimum detectable effect is computed for: a change of that size is seen
/// at least four times in five.
pub const POWER: f64 = 0.8;

/// The smallest shift of the soak (in the baseline's units) that the two-sided Mann-Whitney
/// test at `alpha` would see with probability [`POWER`], for `n_base` and `n_soak` points and
/// a baseline spread `sigma`.
///
/// Noether's normal approximation of the test's power: it rejects when `U` is more than
/// `z(1-alpha/2) * sd(U)` from `n1*n2/2`, and does so with probability `POWER` when the
/// expected `U` is `z(POWER) * sd(U)` further out, i.e. when `P(soak point > baseline point)`
/// is `1/2 + (z(1-alpha/2) + z(POWER)) * sd(U) / (n1*n2)`. For a shift `d` of normal data with
/// spread `sigma` that probability is `Phi(d / (sigma*sqrt 2))`, which gives `d`. The
/// approximation errs on the safe side on small samples (at 10 against 10 the shift is seen
/// about 9 times in 10): it may call a pass thin that was not, never the other way round.
/// `None` when even complete separation would not be significant (too few points for any
/// change to be seen).
pub fn min_detectable_shift(n_base: usize, n_soak: usize, alpha: f64, sigma: f64) -> Option<f64> {
    if n_base == 0 || n_soak == 0 || !(alpha > 0.0 && alpha < 1.0) || !sigma.is_finite() {
        return None;
    }
    let (n1, n2) = (n_base as f64, n_soak as f64);
    let sd_u = (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    let needed =
        0.5 + ((normal_quantile(1.0 - alpha / 2.0) + normal_quantile(POWER)) * sd_u) / (n1 * n2);
    if needed >= 1.0 {
        return None;
    }
    Some(sigma.abs() * std::f64::consts::SQRT_2 * normal_quantile(needed))
}

/// The standard normal quantile (inverse CDF) for `0 < p < 1`, by Acklam's rational
/// approximation (relative error below 1.2e-9); infinite at 0 and 1, NaN outside.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Complementary error function, by the Chebyshev fit of Numerical Recipes (relative error
/// below 1.2e-7 everywhere): ample for p-values compared with a significance level.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * (-z * z + poly).exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn median_ignores_gaps() {
        assert_eq!(
            median_of(&[Some(1.0), None, Some(3.0), Some(2.0)]),
            Some(2.0)
        );
        assert_eq!(median_of(&[Some(1.0), Some(4.0)]), Some(2.5));
        assert_eq!(median_of(&[None, None]), None);
    }

    #[test]
    fn change_from_zero_has_no_percent() {
        assert_eq!(change_percent(0.0, 5.0), None);
        assert_eq!(change_percent(0.0, 0.0), Some(0.0));
        assert_eq!(change_percent(4.0, 5.0), Some(25.0));
        assert_eq!(change_percent(4.0, 2.0), Some(-50.0));
    }

    #[test]
    fn mann_whitney_matches_known_values() {
        // The example of SciPy's mannwhitneyu (method="asymptotic"): U = 17, p = 0.11134688653314.
        let males = [19.0, 22.0, 16.0, 29.0, 24.0];
        let females = [20.0, 11.0, 17.0, 12.0];
        let (u, p) = mann_whitney(&males, &females).expect("both sides have points");
        assert_eq!(u, 17.0);
        assert!(close(p, 0.111_346_886_533_14, 1e-6), "p = {p}");
        // Swapped, U is the other side's (n_a * n_b - U) and p is the same.
        let (u, p2) = mann_whitney(&females, &males).expect("both sides have points");
        assert_eq!(u, 3.0);
        assert!(close(p, p2, 1e-12));

        // Completely separated samples of 5: U = 0, z = (12.5 - 0.5) / sqrt(275/12).
        let (u, p) = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0])
            .expect("both sides have points");
        assert_eq!(u, 0.0);
        assert!(close(p, 0.012_185_780_355_34, 1e-6), "p = {p}");
    }

    #[test]
    fn mann_whitney_averages_tied_ranks_and_corrects_the_variance() {
        // Ranks by hand: 1 | 2,2,2 -> 3 | 3 x5 -> 7 | 4 x3 -> 11 | 5 x3 -> 14.
        // R_a = 1 + 2*3 + 3*7 + 11 = 39, U = 39 - 28 = 11; tie term 24+120+24+24 = 192.
        let a = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0];
        let b = [2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 5.0];
        let (u, p) = mann_whitney(&a, &b).expect("both sides have points");
        assert_eq!(u, 11.0);
        assert!(close(p, 0.049_238_967_838_55, 1e-6), "p = {p}");
    }

    #[test]
    fn mann_whitney_identical_and_all_tied_samples_give_p_one() {
        let a: Vec<f64> = (0..20).map(f64::from).collect();
        let (u, p) = mann_whitney(&a, &a).expect("both sides have points");
        assert_eq!(u, 200.0);
        assert!(p > 0.99, "p = {p}");
        assert_eq!(mann_whitney(&[3.0; 6], &[3.0; 4]), Some((12.0, 1.0)));
    }

    #[test]
    fn mann_whitney_shifted_samples_give_small_p_and_empty_gives_none() {
        let a: Vec<f64> = (0..30).map(|i| 100.0 + f64::from(i % 7)).collect();
        let b: Vec<f64> = (0..30).map(|i| 110.0 + f64::from(i % 5)).collect();
        let (u, p) = mann_whitney(&a, &b).expect("both sides have points");
        assert_eq!(u, 0.0);
        assert!(p < 0.001, "p = {p}");
        assert_eq!(mann_whitney(&[], &[1.0]), None);
        assert_eq!(mann_whitney(&[1.0], &[]), None);
        assert_eq!(mann_whitney(&[f64::NAN], &[1.0]), None);
    }

    #[test]
    fn normal_quantile_matches_known_values() {
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-8));
        assert!(close(normal_quantile(0.8), 0.841_621_233_572_914_3, 1e-8));
        assert!(close(normal_quantile(0.5), 0.0, 1e-12));
        assert!(close(
            normal_quantile(0.001),
            -3.090_232_306_167_813_5,
            1e-7
        ));
        assert!(close(normal_quantile(0.999), 3.090_232_306_167_813_5, 1e-7));
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan());
    }

    #[test]
    fn spread_ignores_a_few_outliers() {
        let mut v: Vec<f64> = (0..20).map(|i| 100.0 + f64::from(i % 5)).collect();
        let calm = spread(&v).expect("enough points");
        v[0] = 1e6;
        v[1] = 1e6;
        let with_outliers = spread(&v).expect("enough points");
        assert!(with_outliers <= calm * 2.0, "{calm} vs {with_outliers}");
        // Mostly equal values: the MAD is 0, the standard deviation is not.
        assert!(spread(&[5.0, 5.0, 5.0, 9.0]).expect("enough points") > 0.0);
        assert_eq!(spread(&[5.0]), None);
    }

    /// A small deterministic generator of normal samples (xorshift and Box-Muller): the
    /// power check must not depend on the run.
    struct Normal(u64);

    impl Normal {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        fn sample(&mut self, mean: f64, sd: f64, n: usize) -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let (u, v) = (self.uniform(), self.uniform());
                    mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
                })
                .collect()
        }
    }

    #[test]
    fn at_the_minimum_detectable_shift_the_test_sees_it_at_least_four_times_in_five() {
        let mut rng = Normal(0x9e37_79b9_7f4a_7c15);
        for (n_base, n_soak) in [(60, 30), (20, 8), (10, 10), (30, 30)] {
            let shift = min_detectable_shift(n_base, n_soak, 0.05, 10.0).expect("detectable");
            let trials = 2000;
            let seen = (0..trials)
                .filter(|_| {
                    let base = rng.sample(100.0, 10.0, n_base);
                    let soak = rng.sample(100.0 + shift, 10.0, n_soak);
                    mann_whitney(&base, &soak).is_some_and(|(_, p)| p < 0.05)
                })
                .count();
            let power = seen as f64 / f64::from(trials);
            assert!(
                (0.78..=0.95).contains(&power),
                "{n_base}/{n_soak}: shift {shift} seen in {power} of trials"
            );
        }
    }

    #[test]
    fn too_few_points_can_see_no_change() {
        // 3 against 3: even complete separation gives p = 0.08 > 0.05.
        assert_eq!(min_detectable_shift(3, 3, 0.05, 1.0), None);
        assert_eq!(min_detectable_shift(0, 10, 0.05, 1.0), None);
        let wide = min_detectable_shift(10, 10, 0.05, 1.0).expect("detectable");
        let narrow = min_detectable_shift(100, 100, 0.05, 1.0).expect("detectable");
        assert!(narrow < wide / 2.0, "{narrow} vs {wide}");
        assert_eq!(min_detectable_shift(10, 10, 0.05, 0.0), Some(0.0));
    }

    // Cleaning
}
