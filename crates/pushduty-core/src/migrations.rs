//! Which paths of a repository are database migrations (`repos.NAME.migrations`): a commit
//! that adds a file there needs ops to know before it ships, so a cherry-pick that adds one is
//! flagged.
//!
//! A pattern ending in `/` is a folder: every file under it. Any other pattern is matched
//! against the whole path. In both, `*` stands for any part of one name and `**` for any
//! number of folders.

/// Why a pattern cannot be used, if it cannot: paths are relative to the repository's root
/// and never leave it.
pub fn pattern_problem(pattern: &str) -> Option<String> {
    if pattern.trim().is_empty() {
        return Some("a migrations path cannot be empty".into());
    }
    if pattern.starts_with('/') {
        return Some(format!(
            "`{pattern}` starts with `/`: migrations paths are relative to the repository's root, e.g. \"migrations/\""
        ));
    }
    if pattern.split('/').any(|seg| seg == "..") {
        return Some(format!(
            "`{pattern}` has `..`: migrations paths stay inside the repository"
        ));
    }
    if pattern.contains('\\') {
        return Some(format!(
            "`{pattern}` has a `\\`: write paths with `/`, as git does"
        ));
    }
    None
}

/// Whether `path` (as git names it, `/`-separated) is under any of `patterns`.
pub fn is_migration(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| matches(p, path))
}

fn matches(pattern: &str, path: &str) -> bool {
    let names: Vec<&str> = path.split('/').collect();
    match pattern.strip_suffix('/') {
        // A folder: its names match the path's first ones, and a file is below them.
        Some(folder) => {
            let want: Vec<&str> = folder.split('/').collect();
            (1..names.len()).any(|n| segments(&want, &names[..n]))
        }
        None => segments(&pattern.split('/').collect::<Vec<_>>(), &names),
    }
}

/// Pattern names against path names; `**` takes any number of them.
fn segments(pattern: &[&str], names: &[&str]) -> bool {
    match pattern.split_first() {
        None => names.is_empty(),
        Some((&"**", rest)) => (0..=names.len()).any(|skip| segments(rest, &names[skip..])),
        Some((first, rest)) => names
            .split_first()
            .is_some_and(|(name, more)| name_matches(first, name) && segments(rest, more)),
    }
}

/// One name against a pattern name where `*` is any run of characters.
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| name_matches(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_folder_holds_every_file_below_it() {
        let p = pats(&["migrations/"]);
        assert!(is_migration(&p, "migrations/0042_add.sql"));
        assert!(is_migration(&p, "migrations/old/0001.sql"));
        assert!(!is_migration(&p, "migrations"));
        assert!(!is_migration(&p, "src/migrations/0001.sql"));
        assert!(!is_migration(&p, "migrations.txt"));
    }

    #[test]
    fn a_star_is_one_name_and_two_stars_any_depth() {
        let p = pats(&["src/olympia/*/migrations/"]);
        assert!(is_migration(&p, "src/olympia/addons/migrations/0042_x.py"));
        assert!(!is_migration(&p, "src/olympia/migrations/0042_x.py"));
        assert!(!is_migration(&p, "src/olympia/a/b/migrations/0042_x.py"));
        let p = pats(&["**/migrations/*.py"]);
        assert!(is_migration(&p, "migrations/1.py"));
        assert!(is_migration(&p, "a/b/migrations/1.py"));
        assert!(!is_migration(&p, "a/b/migrations/1.sql"));
        let p = pats(&["db/V*__*.sql"]);
        assert!(is_migration(&p, "db/V12__add_users.sql"));
        assert!(!is_migration(&p, "db/R12_add.sql"));
        assert!(is_migration(&pats(&["x/", "db/"]), "db/1.sql"));
    }

    #[test]
    fn patterns_stay_inside_the_repository() {
        assert!(pattern_problem("migrations/").is_none());
        assert!(pattern_problem("src/*/migrations/").is_none());
        assert!(pattern_problem("").is_some());
        assert!(pattern_problem("/migrations/").is_some());
        assert!(pattern_problem("../other/").is_some());
        assert!(pattern_problem("db\\migrations").is_some());
    }
}
