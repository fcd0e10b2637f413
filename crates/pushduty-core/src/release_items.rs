//! One-off items in a release body: the bullets under its "Before we start", "Before we
//! promote" and "After we're done" headings, and their outcomes written back as ticks.
//!
//! The convention: a Markdown heading (any level) whose text is one of the three phases,
//! then bullets (`- ` or `* `, with or without a `[ ]` box). A bullet whose text holds a
//! backticked span is a command; any other is a manual item. Another heading ends the phase.
//!
//! Outcomes are written into the body as GitHub reads it now, bullet by bullet: a bullet is
//! found by its text, so edits made on GitHub to other bullets or other parts are kept, and
//! a bullet that changed or went away since it was read is a conflict, said, never ticked.

/// When an item is done, by the heading it sits under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    BeforeWeStart,
    BeforeWePromote,
    AfterWeAreDone,
}

impl Phase {
    /// The phase a heading's text names, if any (case and a closing colon do not matter).
    fn of_heading(text: &str) -> Option<Phase> {
        let t = text
            .trim()
            .trim_end_matches(':')
            .replace('’', "'")
            .to_lowercase();
        match t.as_str() {
            "before we start" => Some(Phase::BeforeWeStart),
            "before we promote" => Some(Phase::BeforeWePromote),
            "after we're done" | "after we are done" => Some(Phase::AfterWeAreDone),
            _ => None,
        }
    }
}

/// One bullet of a phase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BodyItem {
    pub phase: Phase,
    /// The bullet's text without its marker, box or tick note: what finds it again.
    pub text: String,
    /// The first backticked span, when there is one: a command to run.
    pub command: Option<String>,
    /// Ticked (`[x]`) in the body.
    pub done: bool,
}

/// The heading text of a Markdown heading line.
fn heading(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let rest = t.trim_start_matches('#');
    (rest.len() < t.len() && rest.starts_with(' ')).then(|| rest.trim())
}

/// A bullet line, split: its text and whether it is ticked.
fn bullet(line: &str) -> Option<(String, bool)> {
    let t = line.trim_start();
    let rest = t.strip_prefix("- ").or_else(|| t.strip_prefix("* "))?;
    let (done, text) = if let Some(r) = rest.strip_prefix("[ ] ") {
        (false, r)
    } else if let Some(r) = rest
        .strip_prefix("[x] ")
        .or_else(|| rest.strip_prefix("[X] "))
    {
        (true, r)
    } else {
        (false, rest)
    };
    let text = match text.rfind(TICK_NOTE) {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => text,
    };
    let text = text.trim();
    (!text.is_empty()).then(|| (text.to_string(), done))
}

/// What starts the note of a tick: ` (done by WHO, WHEN)`.
const TICK_NOTE: &str = " (done by ";

fn command(text: &str) -> Option<String> {
    let start = text.find('`')? + 1;
    let len = text[start..].find('`')?;
    let cmd = text[start..start + len].trim();
    (!cmd.is_empty()).then(|| cmd.to_string())
}

/// The items of a release body, in the order written.
pub fn items(body: &str) -> Vec<BodyItem> {
    items_by_line(body).into_iter().map(|(_, it)| it).collect()
}

/// One outcome to write back: the item's text as it was read, who did it, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub text: String,
    pub by: String,
    pub at: String,
}

/// A tick that could not be written, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub text: String,
    pub why: String,
}

/// The body as it is now with `ticks` written in, bullet by bullet; the ticks that could not
/// be written are conflicts (the bullet was edited or removed on GitHub). A bullet ticked on
/// GitHub already keeps its tick and note.
pub fn tick(now: &str, ticks: &[Tick]) -> (String, Vec<Conflict>) {
    let mut lines: Vec<String> = now.lines().map(str::to_string).collect();
    let found = items_by_line(now);
    let mut conflicts = Vec::new();
    for t in ticks {
        match found.iter().find(|(_, it)| it.text == t.text) {
            Some((_, it)) if it.done => {}
            Some((i, _)) => lines[*i] = ticked(&lines[*i], t),
            None => conflicts.push(Conflict {
                text: t.text.clone(),
                why: "the release body no longer has this item (edited or removed on GitHub \
                      since it was read): not ticked; tick it there by hand"
                    .into(),
            }),
        }
    }
    let mut out = lines.join("\n");
    if now.ends_with('\n') {
        out.push('\n');
    }
    (out, conflicts)
}

/// The items with the index of their line.
fn items_by_line(body: &str) -> Vec<(usize, BodyItem)> {
    let mut phase = None;
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate() {
        if let Some(h) = heading(line) {
            phase = Phase::of_heading(h);
        } else if let (Some(p), Some((text, done))) = (phase, bullet(line)) {
            out.push((
                i,
                BodyItem {
                    phase: p,
                    command: command(&text),
                    text,
                    done,
                },
            ));
        }
    }
    out
}

/// A bullet line ticked, with who and when; its indent and marker kept.
fn ticked(line: &str, t: &Tick) -> String {
    let indent = &line[..line.len() - line.trim_start().len()];
    let marker = if line.trim_start().starts_with("* ") {
        "*"
    } else {
        "-"
    };
    format!(
        "{indent}{marker} [x] {}{TICK_NOTE}{}, {})",
        t.text, t.by, t.at
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "This week's push hero is @ana.\n\n## Blockers\n- bug 1 (not an item)\n\n## Before we start\n- [ ] update the secret of the frontend\n* run `./manage.py addnewversion firefox '109.0'`\n\n### Before we promote:\n- [x] ask QA about search (done by bo, 2026-01-13 10:00 UTC)\n\n## After we’re done\n  - tell support\n";

    #[test]
    fn bullets_under_the_three_headings_are_items_and_a_backticked_span_is_a_command() {
        let all = items(BODY);
        assert_eq!(all.len(), 4, "{all:?}");
        assert_eq!(all[0].phase, Phase::BeforeWeStart);
        assert_eq!(all[0].text, "update the secret of the frontend");
        assert_eq!(all[0].command, None);
        assert_eq!(
            all[1].command.as_deref(),
            Some("./manage.py addnewversion firefox '109.0'")
        );
        assert_eq!(all[2].phase, Phase::BeforeWePromote);
        assert!(all[2].done);
        assert_eq!(
            all[2].text, "ask QA about search",
            "the tick note is not the text"
        );
        assert_eq!(all[3].phase, Phase::AfterWeAreDone);
        assert_eq!(all[3].text, "tell support");
    }

    #[test]
    fn a_tick_is_written_into_the_body_as_it_is_now_keeping_edits_elsewhere() {
        let edited = BODY.replace("- bug 1 (not an item)", "- bug 1, bug 2");
        let (out, conflicts) = tick(
            &edited,
            &[Tick {
                text: "update the secret of the frontend".into(),
                by: "ana".into(),
                at: "2026-01-13 09:00 UTC".into(),
            }],
        );
        assert!(conflicts.is_empty());
        assert!(
            out.contains("- bug 1, bug 2\n"),
            "their edit is kept: {out}"
        );
        assert!(
            out.contains(
                "- [x] update the secret of the frontend (done by ana, 2026-01-13 09:00 UTC)\n"
            ),
            "{out}"
        );
        assert!(
            out.ends_with("  - tell support\n"),
            "indent and end kept: {out}"
        );
        assert_eq!(items(&out)[0].text, "update the secret of the frontend");
        assert!(items(&out)[0].done);
    }

    #[test]
    fn an_item_edited_on_github_is_a_conflict_and_one_ticked_there_keeps_its_note() {
        let edited = BODY.replace("tell support", "tell support and ops");
        let (out, conflicts) = tick(
            &edited,
            &[
                Tick {
                    text: "tell support".into(),
                    by: "ana".into(),
                    at: "t1".into(),
                },
                Tick {
                    text: "ask QA about search".into(),
                    by: "ana".into(),
                    at: "t2".into(),
                },
            ],
        );
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].text, "tell support");
        assert_eq!(out, edited, "nothing overwritten");
    }
}
