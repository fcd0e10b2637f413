//! Picking an input's answer from a list: one of a choice's options, or any of the commits a
//! cherry-pick can take. The prompt's text stays the answer (what Enter submits): moving and
//! toggling edit it, and typing into it moves the marks, so the two never disagree.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// One option: arrows highlight, Enter takes the highlighted one (or the typed number).
    One,
    /// Any number of items: Space toggles the highlighted one.
    Many,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What the answer holds: an option's value, a commit's sha.
    pub value: String,
    pub label: String,
    /// A third column (a commit's author).
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    pub pick: Pick,
    pub items: Vec<Item>,
    /// The highlighted item.
    pub cursor: usize,
}

impl Picker {
    pub fn new(pick: Pick, items: Vec<Item>) -> Self {
        Picker {
            pick,
            items,
            cursor: 0,
        }
    }

    pub fn down(&mut self) {
        if self.cursor + 1 < self.items.len() {
            self.cursor += 1;
        }
    }

    pub fn up(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// The option `answer` names (its number or its value), for a single choice.
    pub fn named(&self, answer: &str) -> Option<usize> {
        let a = answer.trim();
        if let Ok(n) = a.parse::<usize>() {
            return n.checked_sub(1).filter(|i| *i < self.items.len());
        }
        self.items.iter().position(|i| i.value == a)
    }

    /// The row to highlight: the option typed, else the cursor.
    pub fn highlighted(&self, answer: &str) -> usize {
        match self.pick {
            Pick::One => self.named(answer).unwrap_or(self.cursor),
            Pick::Many => self.cursor,
        }
    }

    /// Which items `answer` picks.
    pub fn chosen(&self, answer: &str) -> Vec<bool> {
        match self.pick {
            Pick::One => {
                let named = self.named(answer);
                (0..self.items.len()).map(|i| Some(i) == named).collect()
            }
            Pick::Many => {
                let words = words(answer);
                self.items
                    .iter()
                    .map(|item| words.iter().any(|w| same_commit(w, &item.value)))
                    .collect()
            }
        }
    }

    /// The answer with the highlighted item toggled: picked items in list order (oldest
    /// first for commits), then whatever else was typed, as it was.
    pub fn toggle(&self, answer: &str) -> String {
        if self.cursor >= self.items.len() {
            return answer.to_string();
        }
        let mut chosen = self.chosen(answer);
        chosen[self.cursor] = !chosen[self.cursor];
        let typed: Vec<&str> = words(answer)
            .into_iter()
            .filter(|w| !self.items.iter().any(|i| same_commit(w, &i.value)))
            .collect();
        self.items
            .iter()
            .zip(&chosen)
            .filter(|(_, on)| **on)
            .map(|(i, _)| i.value.as_str())
            .chain(typed)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The words of an answer, split as the cherry-pick step splits them.
fn words(answer: &str) -> Vec<&str> {
    answer
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect()
}

/// A typed sha (any length from 4, or a GitHub commit link) naming the listed short sha.
fn same_commit(word: &str, sha: &str) -> bool {
    let word = word.rsplit('/').next().unwrap_or(word);
    word.len() >= 4
        && (sha.starts_with(word) || word.starts_with(sha))
        && word.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(v: &str) -> Item {
        Item {
            value: v.into(),
            label: format!("label of {v}"),
            note: String::new(),
        }
    }

    #[test]
    fn a_choice_is_named_by_number_or_value_else_the_cursor_is_highlighted() {
        let mut p = Picker::new(Pick::One, vec![item("master"), item("cherry_pick")]);
        assert_eq!(p.highlighted(""), 0);
        p.down();
        p.down();
        assert_eq!(p.highlighted(""), 1, "the cursor stops at the last option");
        assert_eq!(p.highlighted("1"), 0);
        assert_eq!(p.highlighted("cherry_pick"), 1);
        assert_eq!(p.highlighted("7"), 1, "not an option: the cursor");
        assert_eq!(p.chosen("2"), [false, true]);
    }

    #[test]
    fn toggling_commits_edits_the_answer_in_list_order() {
        let mut p = Picker::new(
            Pick::Many,
            vec![item("aaaa111"), item("bbbb222"), item("cccc333")],
        );
        p.cursor = 2;
        let a = p.toggle("");
        assert_eq!(a, "cccc333");
        p.cursor = 0;
        let a = p.toggle(&a);
        assert_eq!(
            a, "aaaa111 cccc333",
            "oldest first, whatever order they were picked"
        );
        let a = p.toggle(&a);
        assert_eq!(a, "cccc333");
        // Typed shas are marked, full or short, and words not in the list are kept.
        let typed = "bbbb2229f00d, https://github.com/o/r/commit/cccc333 deadbeef";
        assert_eq!(p.chosen(typed), [false, true, true]);
        p.cursor = 0;
        assert_eq!(p.toggle(typed), "aaaa111 bbbb222 cccc333 deadbeef");
    }
}
