//! Release tag names: `<date in the runbook's tag format>[-N]`, and how they order.
//!
//! A push is tagged with its push date; every re-tag of the same push (after cherry-picks) gets
//! the next revision suffix and never moves an existing tag.

use std::cmp::Ordering;
use std::fmt;

use anyhow::{Context, Result};
use chrono::NaiveDate;

/// A tag that names a release: the push date and its revision (0 for the plain date tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseTag {
    pub name: String,
    pub date: NaiveDate,
    pub revision: u32,
}

impl Ord for ReleaseTag {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.date, self.revision, &self.name).cmp(&(other.date, other.revision, &other.name))
    }
}

impl PartialOrd for ReleaseTag {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ReleaseTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The runbook's tag format (a chrono `strftime` pattern such as `%Y.%m.%d`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFormat {
    pattern: String,
}

impl TagFormat {
    /// Accepts a pattern only if it round-trips a date, so that every tag it makes parses back.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let probe = NaiveDate::from_ymd_opt(2015, 9, 10).ok_or("bad probe date")?;
        let mut text = String::new();
        {
            use std::fmt::Write;
            write!(text, "{}", probe.format(pattern))
                .map_err(|_| format!("`{pattern}` is not a valid date format"))?;
        }
        match NaiveDate::parse_from_str(&text, pattern) {
            Ok(back) if back == probe => Ok(Self {
                pattern: pattern.to_string(),
            }),
            _ => Err(format!(
                "`{pattern}` does not name a whole date (it needs year, month and day, e.g. `%Y.%m.%d`)"
            )),
        }
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The tag name for a push date and revision: `2015.09.10`, `2015.09.10-1`, ...
    pub fn name(&self, date: NaiveDate, revision: u32) -> String {
        let base = date.format(&self.pattern).to_string();
        if revision == 0 {
            base
        } else {
            format!("{base}-{revision}")
        }
    }

    /// Parses a tag name made by [`TagFormat::name`]; anything else is not a release tag.
    pub fn parse(&self, name: &str) -> Option<ReleaseTag> {
        let whole = |base: &str, revision: u32| {
            NaiveDate::parse_from_str(base, &self.pattern)
                .ok()
                .filter(|d| self.name(*d, 0) == base)
                .map(|date| ReleaseTag {
                    name: name.to_string(),
                    date,
                    revision,
                })
        };
        if let Some(tag) = whole(name, 0) {
            return Some(tag);
        }
        let (base, suffix) = name.rsplit_once('-')?;
        if suffix.is_empty()
            || !suffix.bytes().all(|b| b.is_ascii_digit())
            || suffix.starts_with('0')
        {
            return None;
        }
        whole(base, suffix.parse().ok()?)
    }
}

/// The release tags among `names`, newest first.
pub fn release_tags<'a>(
    format: &TagFormat,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<ReleaseTag> {
    let mut tags: Vec<ReleaseTag> = names.into_iter().filter_map(|n| format.parse(n)).collect();
    tags.sort_by(|a, b| b.cmp(a));
    tags
}

/// The first free tag name for a push date: the plain date, else the next `-N` after the
/// highest revision already taken.
pub fn next_free(format: &TagFormat, tags: &[ReleaseTag], push_date: NaiveDate) -> String {
    let taken = tags
        .iter()
        .filter(|t| t.date == push_date)
        .map(|t| t.revision)
        .max();
    match taken {
        None => format.name(push_date, 0),
        Some(rev) => format.name(push_date, rev + 1),
    }
}

/// The newest release tag of a push before `push_date` (the one production runs now).
pub fn previous(tags: &[ReleaseTag], push_date: NaiveDate) -> Option<&ReleaseTag> {
    tags.iter().filter(|t| t.date < push_date).max()
}

/// The release tags of a repository, newest first.
pub fn repo_release_tags(repo: &git2::Repository, format: &TagFormat) -> Result<Vec<ReleaseTag>> {
    let names = repo_tag_names(repo)?;
    Ok(release_tags(format, names.iter().map(String::as_str)))
}

/// Tag names of a repository (lightweight and annotated alike).
pub fn repo_tag_names(repo: &git2::Repository) -> Result<Vec<String>> {
    let names = repo.tag_names(None).context("listing tags")?;
    // Names that are not UTF-8 cannot be release tags; they are left out.
    Ok(names
        .iter()
        .filter_map(|n| n.ok().flatten().map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_plain_and_suffixed_tags() {
        let f = TagFormat::new("%Y.%m.%d").unwrap();
        assert_eq!(f.parse("2015.09.10").unwrap().revision, 0);
        assert_eq!(f.parse("2015.09.10-2").unwrap().revision, 2);
        assert!(f.parse("2015.09.10-").is_none());
        assert!(f.parse("2015.09.10-01").is_none());
        assert!(f.parse("2015.9.10").is_none(), "not what the format makes");
        assert!(f.parse("v1.0").is_none());
        assert!(f.parse("2015.13.10").is_none());
    }

    #[test]
    fn suffixes_order_after_the_plain_tag() {
        let f = TagFormat::new("%Y.%m.%d").unwrap();
        let tags = release_tags(
            &f,
            [
                "2015.09.10-1",
                "2015.09.03",
                "2015.09.10-2",
                "2015.09.10",
                "x",
            ],
        );
        let names: Vec<_> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["2015.09.10-2", "2015.09.10-1", "2015.09.10", "2015.09.03"]
        );
        assert!(f.parse("2015.09.10-10").unwrap() > f.parse("2015.09.10-9").unwrap());
    }

    #[test]
    fn next_free_and_previous() {
        let f = TagFormat::new("%Y.%m.%d").unwrap();
        let none = release_tags(&f, []);
        assert_eq!(next_free(&f, &none, d(2015, 9, 10)), "2015.09.10");
        let tags = release_tags(&f, ["2015.09.03", "2015.09.10"]);
        assert_eq!(next_free(&f, &tags, d(2015, 9, 10)), "2015.09.10-1");
        let tags = release_tags(&f, ["2015.09.03", "2015.09.10", "2015.09.10-1"]);
        assert_eq!(next_free(&f, &tags, d(2015, 9, 10)), "2015.09.10-2");
        assert_eq!(previous(&tags, d(2015, 9, 10)).unwrap().name, "2015.09.03");
        let tags = release_tags(&f, ["2015.09.03", "2015.09.03-1"]);
        assert_eq!(
            previous(&tags, d(2015, 9, 10)).unwrap().name,
            "2015.09.03-1"
        );
    }

    #[test]
    fn rejects_formats_without_a_whole_date() {
        assert!(TagFormat::new("%Y.%m").is_err());
        assert!(TagFormat::new("release").is_err());
        assert!(TagFormat::new("v%Y%m%d").is_ok());
    }
}
