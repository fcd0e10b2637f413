//! Release tag names, and how they order. Two families:
//!
//! - date tags: `<push date in the runbook's tag format>[-N]` (`2015.09.10`, `2015.09.10-1`): a
//!   weekly push is tagged with its push date;
//! - version tags: `<prefix><X.Y.Z>[-N]` (`v0.2.0`): a release is tagged with its version.
//!
//! Either way a re-tag of the same push (after cherry-picks) gets the next revision suffix and
//! never moves an existing tag, and release tags order by what they name (date or version, then
//! revision), never by when they were made.

use std::cmp::Ordering;
use std::fmt;

use chrono::NaiveDate;

/// A release version, `MAJOR.MINOR.PATCH`; ordered numerically (`0.10.0` after `0.9.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// Strictly `X.Y.Z` in decimal, without leading zeros: what a tag can be read back as.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{text}` is not a version of the form MAJOR.MINOR.PATCH (e.g. `0.2.0`; pre-release and build suffixes are not supported)"
            )
        };
        let parts: Vec<&str> = text.split('.').collect();
        let [major, minor, patch] = parts.as_slice() else {
            return Err(bad());
        };
        let number = |p: &str| {
            let plain = !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p == "0" || !p.starts_with('0'));
            plain.then(|| p.parse::<u64>().ok()).flatten()
        };
        match (number(major), number(minor), number(patch)) {
            (Some(major), Some(minor), Some(patch)) => Ok(Self {
                major,
                minor,
                patch,
            }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What a release tag names: a push date or a version. Dates and versions never meet in one
/// runbook (its tag format is one or the other), so their mutual order is only for totality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TagKey {
    Date(NaiveDate),
    Version(Version),
}

/// A push date is the key of a date tag (so callers with a date need not wrap it).
impl From<NaiveDate> for TagKey {
    fn from(d: NaiveDate) -> Self {
        TagKey::Date(d)
    }
}

impl fmt::Display for TagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagKey::Date(d) => write!(f, "{d}"),
            TagKey::Version(v) => write!(f, "{v}"),
        }
    }
}

/// A tag that names a release: what it names and its revision (0 for the plain tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseTag {
    pub name: String,
    pub key: TagKey,
    pub revision: u32,
}

impl Ord for ReleaseTag {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.key, self.revision, &self.name).cmp(&(other.key, other.revision, &other.name))
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

/// How a runbook names its tags: a chrono `strftime` pattern of the push date (`%Y.%m.%d`), or
/// a prefix before the version (`v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagFormat {
    Date { pattern: String },
    Version { prefix: String },
}

impl TagFormat {
    /// A date format; accepted only if it round-trips a date, so every tag it makes parses back.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let probe = NaiveDate::from_ymd_opt(2015, 9, 10).ok_or("bad probe date")?;
        let mut text = String::new();
        {
            use std::fmt::Write;
            write!(text, "{}", probe.format(pattern))
                .map_err(|_| format!("`{pattern}` is not a valid date format"))?;
        }
        match NaiveDate::parse_from_str(&text, pattern) {
            Ok(back) if back == probe => Ok(TagFormat::Date {
                pattern: pattern.to_string(),
            }),
            _ => Err(format!(
                "`{pattern}` does not name a whole date (it needs year, month and day, e.g. `%Y.%m.%d`)"
            )),
        }
    }

    /// A version format: `prefix` then `X.Y.Z`. The prefix must be usable in a tag name and
    /// must not end in a digit or a dot (`v1` + `2.0.0` would read back as another version).
    pub fn version(prefix: &str) -> Result<Self, String> {
        let bad_char = prefix
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(*c));
        if let Some(c) = bad_char {
            return Err(format!("`{}` cannot be in a tag name", c.escape_default()));
        }
        if prefix.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
            return Err(format!(
                "`{prefix}` ends in a digit or a dot, so its tags would not read back as one version"
            ));
        }
        if prefix.starts_with(['-', '.', '/']) || prefix.contains("..") {
            return Err(format!("`{prefix}` cannot begin a tag name"));
        }
        Ok(TagFormat::Version {
            prefix: prefix.to_string(),
        })
    }

    /// The pattern (`%Y.%m.%d`) or the version pattern (`v{X.Y.Z}`), for people to read.
    pub fn pattern(&self) -> String {
        match self {
            TagFormat::Date { pattern } => pattern.clone(),
            TagFormat::Version { prefix } => format!("{prefix}X.Y.Z"),
        }
    }

    pub fn is_version(&self) -> bool {
        matches!(self, TagFormat::Version { .. })
    }

    /// The tag name for what a push releases and a revision: `2015.09.10`, `2015.09.10-1`,
    /// `v0.2.0`, ...
    pub fn name(&self, key: &TagKey, revision: u32) -> String {
        let base = match (self, key) {
            (TagFormat::Date { pattern }, TagKey::Date(d)) => d.format(pattern).to_string(),
            (TagFormat::Version { prefix }, k) => format!("{prefix}{k}"),
            (TagFormat::Date { .. }, k) => k.to_string(),
        };
        if revision == 0 {
            base
        } else {
            format!("{base}-{revision}")
        }
    }

    /// What a plain tag name (no `-N`) names, if this format made it.
    fn key_of(&self, base: &str) -> Option<TagKey> {
        match self {
            TagFormat::Date { pattern } => NaiveDate::parse_from_str(base, pattern)
                .ok()
                .map(TagKey::Date),
            TagFormat::Version { prefix } => Version::parse(base.strip_prefix(prefix.as_str())?)
                .ok()
                .map(TagKey::Version),
        }
        .filter(|k| self.name(k, 0) == base)
    }

    /// Parses a tag name made by [`TagFormat::name`]; anything else is not a release tag.
    pub fn parse(&self, name: &str) -> Option<ReleaseTag> {
        let whole = |base: &str, revision: u32| {
            self.key_of(base).map(|key| ReleaseTag {
                name: name.to_string(),
                key,
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

/// The first free tag name for a push: the plain name, else the next `-N` after the highest
/// revision already taken.
pub fn next_free(format: &TagFormat, tags: &[ReleaseTag], key: impl Into<TagKey>) -> String {
    let key = key.into();
    let taken = tags
        .iter()
        .filter(|t| t.key == key)
        .map(|t| t.revision)
        .max();
    match taken {
        None => format.name(&key, 0),
        Some(rev) => format.name(&key, rev + 1),
    }
}

/// The tag a session starts with. A date names a push, and a session that begins after that
/// push was tagged (a re-run on the push day) takes its next free revision. A version names
/// content: a session always starts from the plain `v0.2.0`, so a release that was tagged
/// already is found done at the same commit, and one at another commit is refused (bump the
/// version) rather than quietly released as `v0.2.0-1`.
pub fn session_tag(format: &TagFormat, tags: &[ReleaseTag], key: TagKey) -> String {
    match format {
        TagFormat::Date { .. } => next_free(format, tags, key),
        TagFormat::Version { .. } => format.name(&key, 0),
    }
}

/// The newest release tag before `key` (the one production runs now, the last release).
pub fn previous(tags: &[ReleaseTag], key: impl Into<TagKey>) -> Option<&ReleaseTag> {
    let key = key.into();
    tags.iter().filter(|t| t.key < key).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> TagKey {
        TagKey::Date(NaiveDate::from_ymd_opt(y, m, day).unwrap())
    }

    fn v(text: &str) -> TagKey {
        TagKey::Version(Version::parse(text).unwrap())
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

    #[test]
    fn version_tags_order_by_version_not_by_text() {
        let f = TagFormat::version("v").unwrap();
        let tags = release_tags(
            &f,
            [
                "v0.9.3",
                "v0.10.0",
                "v0.2.0",
                "v0.10.0-1",
                "0.11.0",
                "v1.0",
                "v01.0.0",
                "2015.09.10",
                "v1.0.0-rc1",
            ],
        );
        let names: Vec<_> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["v0.10.0-1", "v0.10.0", "v0.9.3", "v0.2.0"]);
        assert_eq!(previous(&tags, v("0.10.0")).unwrap().name, "v0.9.3");
        assert_eq!(previous(&tags, v("0.11.0")).unwrap().name, "v0.10.0-1");
        assert!(previous(&tags, v("0.2.0")).is_none(), "the first release");
        assert_eq!(f.name(&v("0.2.0"), 0), "v0.2.0");
        assert_eq!(next_free(&f, &tags, v("0.10.0")), "v0.10.0-2");
        assert_eq!(
            session_tag(&f, &tags, v("0.10.0")),
            "v0.10.0",
            "a version is never quietly re-tagged at session start"
        );
        let bare = TagFormat::version("").unwrap();
        assert_eq!(bare.parse("1.2.3").unwrap().key, v("1.2.3"));
        assert!(bare.parse("v1.2.3").is_none());
    }

    #[test]
    fn versions_and_prefixes_are_checked() {
        assert!(
            Version::parse("0.2")
                .unwrap_err()
                .contains("MAJOR.MINOR.PATCH")
        );
        assert!(Version::parse("0.2.0-beta").is_err());
        assert!(Version::parse("00.2.0").is_err());
        assert!(Version::parse("").is_err());
        assert!(TagFormat::version("v").is_ok());
        assert!(TagFormat::version("release-").is_ok());
        assert!(
            TagFormat::version("v1")
                .unwrap_err()
                .contains("ends in a digit")
        );
        assert!(TagFormat::version("v ").is_err());
        assert!(TagFormat::version("-v").is_err());
    }
}
