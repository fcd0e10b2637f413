//! Words for numbers: "1 commit", "2 commits", never "1 commits" or "commit(s)".

/// `n` and the noun, singular for one: `count(1, "commit")` is "1 commit". Only regular
/// plurals (add an s): every noun pushduty counts has one.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u32, "commit"), "1 commit");
        assert_eq!(count(0u32, "commit"), "0 commits");
        assert_eq!(count(12u64, "new issue"), "12 new issues");
    }
}
