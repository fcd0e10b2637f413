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

    // Cleaning
}
