//! Where in a POSIX shell script a substituted value lands. A value is data only where the
//! shell takes a word as it is: outside every kind of quote, heredoc and expansion. Inside
//! double quotes, backticks, `${ }`, `$(( ))` or a heredoc, the shell reads the text again,
//! so a value there could run as code; inside single quotes it would not be expanded at all.

use std::collections::VecDeque;

/// A piece of a script: text as written, or a value substituted into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Value,
}

/// Where one value lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A word (or part of one) outside every quote: the value is passed as data.
    Word,
    /// After `#`: nothing runs.
    Comment,
    SingleQuotes,
    DoubleQuotes,
    AnsiQuotes,
    Backticks,
    Heredoc,
    HeredocDelimiter,
    Expansion,
    Arithmetic,
    AfterBackslash,
    AfterDollar,
}

impl Place {
    /// Whether a value may land here.
    pub fn allowed(self) -> bool {
        matches!(self, Place::Word | Place::Comment)
    }

    /// Why a value may not land here and what to write instead; `shown` is the value's tag
    /// as the command has it (`{{ build_id }}`).
    pub fn refusal(self, shown: &str) -> String {
        let (where_, fix) = match self {
            Place::Word | Place::Comment => return String::new(),
            Place::SingleQuotes => (
                "inside single quotes",
                format!(
                    "close the quotes before it and reopen them after (`'deploying '{shown}' now'`)"
                ),
            ),
            Place::DoubleQuotes => (
                "inside double quotes, where the shell would read it again",
                format!(
                    "close the quotes before it and reopen them after (`\"deploying \"{shown}\" now\"`)"
                ),
            ),
            Place::AnsiQuotes => (
                "inside `$'...'`",
                "close the quotes before it and reopen them after".to_string(),
            ),
            Place::Backticks => (
                "inside backticks",
                format!("write the command substitution as `$(... {shown} ...)`"),
            ),
            Place::Heredoc => (
                "inside a heredoc",
                format!("pipe it in as an argument instead (`printf '%s\\n' {shown} | ...`)"),
            ),
            Place::HeredocDelimiter => (
                "as a heredoc's delimiter",
                "write the delimiter as plain text".to_string(),
            ),
            Place::Expansion => (
                "inside `${...}`",
                format!("assign it first (`v={shown}; echo \"${{v%.*}}\"`)"),
            ),
            Place::Arithmetic => (
                "inside `$((...))`",
                format!("assign it first and check it is a number (`n={shown}; ...`)"),
            ),
            Place::AfterBackslash => (
                "right after a backslash",
                "remove the backslash or put a space between them".to_string(),
            ),
            Place::AfterDollar => (
                "right after a `$`",
                "quote the dollar sign (`'$'`) or put a space between them".to_string(),
            ),
        };
        format!(
            "`{shown}` is {where_}: a value is passed to the command as one word of data, which \
             works only outside quotes; {fix}"
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    Value,
}

#[derive(Debug, Clone, Copy)]
enum Ctx {
    /// The script itself, or the inside of `$( )` with its open parentheses.
    Plain {
        parens: usize,
    },
    Double,
    Backtick,
    Param {
        braces: usize,
    },
    Arith {
        parens: usize,
    },
}

struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
}

/// The place of every value of a script, in order. Quoting is followed as POSIX `sh` reads
/// it; what this cannot follow (a `)` in a `case` pattern inside `$( )`) errs towards refusing.
pub fn places(pieces: &[Piece<'_>]) -> Vec<Place> {
    let toks: Vec<Tok> = pieces
        .iter()
        .flat_map(|p| -> Box<dyn Iterator<Item = Tok>> {
            match p {
                Piece::Text(t) => Box::new(t.chars().map(Tok::Char)),
                Piece::Value => Box::new(std::iter::once(Tok::Value)),
            }
        })
        .collect();
    let mut l = Lexer {
        toks,
        i: 0,
        stack: vec![Ctx::Plain { parens: 0 }],
        pending: VecDeque::new(),
        out: Vec::new(),
        word_start: true,
    };
    l.run();
    l.out
}

struct Lexer {
    toks: Vec<Tok>,
    i: usize,
    stack: Vec<Ctx>,
    pending: VecDeque<Heredoc>,
    out: Vec<Place>,
    /// Whether the next character starts a word (where `#` opens a comment).
    word_start: bool,
}

impl Lexer {
    fn at(&self, k: usize) -> Option<Tok> {
        self.toks.get(self.i + k).copied()
    }

    fn is(&self, k: usize, c: char) -> bool {
        self.at(k) == Some(Tok::Char(c))
    }

    fn run(&mut self) {
        while let Some(tok) = self.at(0) {
            let ctx = self
                .stack
                .last()
                .copied()
                .unwrap_or(Ctx::Plain { parens: 0 });
            match ctx {
                Ctx::Plain { .. } => self.plain(tok),
                Ctx::Double => self.double(tok),
                Ctx::Backtick => self.nested(tok, '`', Place::Backticks),
                Ctx::Param { .. } => self.param(tok),
                Ctx::Arith { .. } => self.arith(tok),
            }
        }
    }

    fn value(&mut self, place: Place) {
        self.out.push(place);
        self.i += 1;
    }

    /// `$(`, `$((`, `${`, `$'`: opens what the dollar starts; false when it starts nothing.
    fn dollar(&mut self) -> bool {
        if self.is(1, '(') && self.is(2, '(') {
            self.stack.push(Ctx::Arith { parens: 0 });
            self.i += 3;
        } else if self.is(1, '(') {
            self.stack.push(Ctx::Plain { parens: 0 });
            self.i += 2;
            self.word_start = true;
        } else if self.is(1, '{') {
            self.stack.push(Ctx::Param { braces: 0 });
            self.i += 2;
        } else {
            return false;
        }
        true
    }

    fn plain(&mut self, tok: Tok) {
        let Tok::Char(c) = tok else {
            let after_dollar = self.i > 0 && self.toks[self.i - 1] == Tok::Char('$');
            self.value(if after_dollar {
                Place::AfterDollar
            } else {
                Place::Word
            });
            self.word_start = false;
            return;
        };
        match c {
            '\\' => {
                if self.at(1) == Some(Tok::Value) {
                    self.i += 1;
                    self.value(Place::AfterBackslash);
                } else {
                    self.i += 2;
                }
            }
            '\'' => {
                self.i += 1;
                self.quoted('\'', false, Place::SingleQuotes);
            }
            '"' => {
                self.stack.push(Ctx::Double);
                self.i += 1;
            }
            '`' => {
                self.stack.push(Ctx::Backtick);
                self.i += 1;
            }
            '$' if self.is(1, '\'') => {
                self.i += 2;
                self.quoted('\'', true, Place::AnsiQuotes);
            }
            '$' if self.dollar() => {}
            '#' if self.word_start => self.comment(),
            '(' => {
                if let Some(Ctx::Plain { parens }) = self.stack.last_mut() {
                    *parens += 1;
                }
                self.i += 1;
            }
            ')' => {
                let top = self.stack.len() > 1;
                match self.stack.last_mut() {
                    Some(Ctx::Plain { parens }) if *parens > 0 => *parens -= 1,
                    Some(Ctx::Plain { .. }) if top => {
                        self.stack.pop();
                    }
                    _ => {}
                }
                self.i += 1;
            }
            '<' if self.is(1, '<') && !self.is(2, '<') => self.heredoc_operator(),
            '\n' => {
                self.i += 1;
                while let Some(h) = self.pending.pop_front() {
                    self.heredoc_body(&h);
                }
            }
            _ => self.i += 1,
        }
        self.word_start = c.is_whitespace() || ";&|()<>".contains(c);
    }

    fn double(&mut self, tok: Tok) {
        match tok {
            Tok::Value => self.value(Place::DoubleQuotes),
            Tok::Char('\\') => {
                if self.at(1) == Some(Tok::Value) {
                    self.i += 1;
                    self.value(Place::DoubleQuotes);
                } else {
                    self.i += 2;
                }
            }
            Tok::Char('"') => {
                self.stack.pop();
                self.i += 1;
            }
            Tok::Char('`') => {
                self.stack.push(Ctx::Backtick);
                self.i += 1;
            }
            Tok::Char('$') if self.dollar() => {}
            Tok::Char(_) => self.i += 1,
        }
    }

    /// A context closed by `close` with backslash escapes, whose values land at `place`.
    fn nested(&mut self, tok: Tok, close: char, place: Place) {
        match tok {
            Tok::Value => self.value(place),
            Tok::Char('\\') => {
                if self.at(1) == Some(Tok::Value) {
                    self.i += 1;
                    self.value(place);
                } else {
                    self.i += 2;
                }
            }
            Tok::Char(c) if c == close => {
                self.stack.pop();
                self.i += 1;
            }
            Tok::Char(_) => self.i += 1,
        }
    }

    fn param(&mut self, tok: Tok) {
        match tok {
            Tok::Value => self.value(Place::Expansion),
            Tok::Char('{') => {
                if let Some(Ctx::Param { braces }) = self.stack.last_mut() {
                    *braces += 1;
                }
                self.i += 1;
            }
            Tok::Char('}') => {
                match self.stack.last_mut() {
                    Some(Ctx::Param { braces }) if *braces > 0 => *braces -= 1,
                    _ => {
                        self.stack.pop();
                    }
                }
                self.i += 1;
            }
            Tok::Char('\\') => self.i += 2,
            Tok::Char(_) => self.i += 1,
        }
    }

    fn arith(&mut self, tok: Tok) {
        match tok {
            Tok::Value => self.value(Place::Arithmetic),
            Tok::Char('(') => {
                if let Some(Ctx::Arith { parens }) = self.stack.last_mut() {
                    *parens += 1;
                }
                self.i += 1;
            }
            Tok::Char(')') => {
                match self.stack.last_mut() {
                    Some(Ctx::Arith { parens }) if *parens > 0 => *parens -= 1,
                    _ => {
                        self.stack.pop();
                        // `))` closes it.
                        self.i += 1;
                    }
                }
                self.i += 1;
            }
            Tok::Char(_) => self.i += 1,
        }
    }

    /// Single quotes (no escapes) or `$'...'` (backslash escapes), already opened.
    fn quoted(&mut self, close: char, escapes: bool, place: Place) {
        while let Some(tok) = self.at(0) {
            match tok {
                Tok::Value => self.value(place),
                Tok::Char('\\') if escapes => {
                    if self.at(1) == Some(Tok::Value) {
                        self.i += 1;
                        self.value(place);
                    } else {
                        self.i += 2;
                    }
                }
                Tok::Char(c) => {
                    self.i += 1;
                    if c == close {
                        return;
                    }
                }
            }
        }
    }

    fn comment(&mut self) {
        while let Some(tok) = self.at(0) {
            match tok {
                Tok::Value => self.value(Place::Comment),
                Tok::Char('\n') => return,
                Tok::Char(_) => self.i += 1,
            }
        }
    }

    /// `<<WORD` or `<<-WORD`: the body starts at the next line.
    fn heredoc_operator(&mut self) {
        self.i += 2;
        let strip_tabs = self.is(0, '-');
        if strip_tabs {
            self.i += 1;
        }
        while self.is(0, ' ') || self.is(0, '\t') {
            self.i += 1;
        }
        let mut delimiter = String::new();
        while let Some(tok) = self.at(0) {
            match tok {
                Tok::Value => {
                    self.value(Place::HeredocDelimiter);
                    delimiter.push('\u{0}');
                }
                Tok::Char(c) if c.is_whitespace() || ";&|<>()".contains(c) => break,
                Tok::Char(c) => {
                    // Quoting the delimiter only turns off expansion in the body.
                    if !matches!(c, '\'' | '"' | '\\') {
                        delimiter.push(c);
                    }
                    self.i += 1;
                }
            }
        }
        self.pending.push_back(Heredoc {
            delimiter,
            strip_tabs,
        });
    }

    /// A heredoc's lines up to its delimiter line; every value in them is in the heredoc.
    fn heredoc_body(&mut self, h: &Heredoc) {
        loop {
            let mut line = String::new();
            let mut had_value = false;
            let mut ended = true;
            while let Some(tok) = self.at(0) {
                match tok {
                    Tok::Value => {
                        had_value = true;
                        self.value(Place::Heredoc);
                    }
                    Tok::Char('\n') => {
                        self.i += 1;
                        ended = false;
                        break;
                    }
                    Tok::Char(c) => {
                        line.push(c);
                        self.i += 1;
                    }
                }
            }
            let text = if h.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                &line
            };
            if (!had_value && text == h.delimiter) || ended {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `@` marks where a value lands.
    fn at(script: &str) -> Vec<Place> {
        let parts: Vec<&str> = script.split('@').collect();
        let mut pieces = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                pieces.push(Piece::Value);
            }
            pieces.push(Piece::Text(p));
        }
        places(&pieces)
    }

    #[test]
    fn words_outside_quotes_are_data() {
        use Place::*;
        assert_eq!(at("echo @"), [Word]);
        assert_eq!(at("echo v@.tar.gz --tag=@"), [Word, Word]);
        assert_eq!(at("echo \"a\"@'b'"), [Word]);
        assert_eq!(at("x=$(git log @ | wc -l); echo @"), [Word, Word]);
        assert_eq!(at("echo \"$(git log @)\""), [Word]);
        assert_eq!(at("echo hi # @ is fine"), [Comment]);
        assert_eq!(at("echo a#@"), [Word]);
        assert_eq!(at("cat <<EOF\nbody\nEOF\necho @"), [Word]);
        assert_eq!(at("cat <<-'EOF'\n\tbody\n\tEOF\necho @"), [Word]);
        assert_eq!(at("echo 'it''s' @ \"q\\\"\" @"), [Word, Word]);
        assert_eq!(at("echo $((1 + 2)) @ ${x:-y} @"), [Word, Word]);
    }

    #[test]
    fn values_inside_quotes_heredocs_and_expansions_are_found() {
        use Place::*;
        assert_eq!(at("echo \"deploying @\""), [DoubleQuotes]);
        assert_eq!(at("echo 'deploying @'"), [SingleQuotes]);
        assert_eq!(at("echo $'x @'"), [AnsiQuotes]);
        assert_eq!(at("echo `git log @`"), [Backticks]);
        assert_eq!(at("echo \"`git log @`\""), [Backticks]);
        assert_eq!(at("cat <<EOF\nsubject: @\nEOF\n"), [Heredoc]);
        assert_eq!(at("cat <<EOF | sh\nx\n@\nEOF"), [Heredoc]);
        assert_eq!(at("cat <<'EOF'\n@\nEOF"), [Heredoc]);
        assert_eq!(at("cat <<@\nx\n"), [HeredocDelimiter]);
        assert_eq!(at("echo ${x:-@}"), [Expansion]);
        assert_eq!(at("echo $((@ + 1))"), [Arithmetic]);
        assert_eq!(at("echo \\@"), [AfterBackslash]);
        assert_eq!(at("echo $@"), [AfterDollar]);
        assert_eq!(at("echo \"$(echo @)\" \"@\""), [Word, DoubleQuotes]);
        // A heredoc whose delimiter line never comes takes the rest of the script.
        assert_eq!(at("cat <<EOF\nno end\n@"), [Heredoc]);
        // An unclosed quote holds the rest.
        assert_eq!(at("echo \"@"), [DoubleQuotes]);
    }

    #[test]
    fn every_refusal_names_the_fix() {
        for p in [
            Place::SingleQuotes,
            Place::DoubleQuotes,
            Place::Heredoc,
            Place::Backticks,
        ] {
            let msg = p.refusal("{{ x }}");
            assert!(msg.contains("one word of data"), "{msg}");
            assert!(!p.allowed());
        }
        assert!(Place::Word.allowed() && Place::Comment.allowed());
    }
}
