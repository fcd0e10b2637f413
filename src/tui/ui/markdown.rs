//! A step's Markdown doc as terminal lines: headings, emphasis, inline code, code blocks,
//! links (text underlined, address after it), bullet and numbered lists.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::tui::theme::Theme;

struct Builder<'t> {
    theme: &'t Theme,
    lines: Vec<Line<'static>>,
    current: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// One entry per open list: the next number, or `None` for bullets.
    lists: Vec<Option<u64>>,
    links: Vec<String>,
    in_code_block: bool,
}

impl Builder<'_> {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or(self.theme.text)
    }

    fn push_style(&mut self, s: Style) {
        let base = self.style();
        self.styles.push(base.patch(s));
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            self.lines
                .push(Line::from(std::mem::take(&mut self.current)));
        }
    }

    fn blank(&mut self) {
        self.flush();
        if self.lines.last().is_some_and(|l| !l.spans.is_empty()) {
            self.lines.push(Line::default());
        }
    }

    fn text(&mut self, t: &str) {
        let style = self.style();
        self.current.push(Span::styled(t.to_string(), style));
    }
}

pub fn render(md: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut b = Builder {
        theme,
        lines: Vec::new(),
        current: Vec::new(),
        styles: Vec::new(),
        lists: Vec::new(),
        links: Vec::new(),
        in_code_block: false,
    };
    for ev in Parser::new(md) {
        match ev {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => {
                    b.blank();
                    let mark = match level {
                        HeadingLevel::H1 => "# ",
                        HeadingLevel::H2 => "## ",
                        _ => "### ",
                    };
                    b.push_style(theme.heading);
                    b.text(mark);
                }
                Tag::Paragraph if b.lists.is_empty() => b.blank(),
                Tag::Emphasis => b.push_style(Style::new().add_modifier(Modifier::ITALIC)),
                Tag::Strong => b.push_style(Style::new().add_modifier(Modifier::BOLD)),
                Tag::Link { dest_url, .. } => {
                    b.links.push(dest_url.to_string());
                    b.push_style(theme.link);
                }
                Tag::CodeBlock(_) => {
                    b.blank();
                    b.in_code_block = true;
                    b.push_style(theme.code);
                }
                Tag::List(start) => {
                    if b.lists.is_empty() {
                        b.blank();
                    } else {
                        b.flush();
                    }
                    b.lists.push(start);
                }
                Tag::Item => {
                    b.flush();
                    let depth = b.lists.len().saturating_sub(1);
                    let marker = match b.lists.last_mut() {
                        Some(Some(n)) => {
                            let m = format!("{n}. ");
                            *n += 1;
                            m
                        }
                        _ => "• ".to_string(),
                    };
                    b.current.push(Span::styled(
                        format!("{}{marker}", "  ".repeat(depth)),
                        theme.dim,
                    ));
                }
                Tag::BlockQuote(_) => {
                    b.blank();
                    b.push_style(theme.dim);
                }
                _ => {}
            },
            Event::End(end) => match end {
                TagEnd::Heading(_) | TagEnd::BlockQuote(_) => {
                    b.styles.pop();
                    b.flush();
                }
                TagEnd::Paragraph | TagEnd::Item => b.flush(),
                TagEnd::Emphasis | TagEnd::Strong => {
                    b.styles.pop();
                }
                TagEnd::Link => {
                    b.styles.pop();
                    if let Some(url) = b.links.pop() {
                        b.current.push(Span::styled(format!(" <{url}>"), theme.dim));
                    }
                }
                TagEnd::CodeBlock => {
                    b.styles.pop();
                    b.in_code_block = false;
                    b.flush();
                }
                TagEnd::List(_) => {
                    b.lists.pop();
                    b.flush();
                }
                _ => {}
            },
            Event::Text(t) => {
                if b.in_code_block {
                    for line in t.lines() {
                        b.text(&format!("    {line}"));
                        b.flush();
                    }
                } else {
                    b.text(&t);
                }
            }
            Event::Code(c) => {
                let style = b.style().patch(theme.code);
                b.current.push(Span::styled(c.to_string(), style));
            }
            Event::SoftBreak => b.text(" "),
            Event::HardBreak => b.flush(),
            Event::Rule => {
                b.blank();
                b.lines.push(Line::styled("────────", theme.dim));
            }
            _ => {}
        }
    }
    b.flush();
    while b.lines.first().is_some_and(|l| l.spans.is_empty()) {
        b.lines.remove(0);
    }
    b.lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn renders_headings_lists_code_and_links() {
        let t = Theme::color();
        let md = "# Title\n\nSome **bold** and `code`, see [docs](https://x.test).\n\n- one\n- two\n\n1. first\n2. second\n\n```\n$ git tag\n```\n";
        let lines = render(md, &t);
        assert_eq!(
            plain(&lines),
            [
                "# Title",
                "",
                "Some bold and code, see docs <https://x.test>.",
                "",
                "• one",
                "• two",
                "",
                "1. first",
                "2. second",
                "",
                "    $ git tag",
            ]
        );
        let bold = lines[2].spans.iter().find(|s| s.content == "bold").unwrap();
        assert!(bold.style.add_modifier.contains(Modifier::BOLD));
        let code = lines[2].spans.iter().find(|s| s.content == "code").unwrap();
        assert_eq!(code.style.fg, t.code.fg);
        let link = lines[2].spans.iter().find(|s| s.content == "docs").unwrap();
        assert!(link.style.add_modifier.contains(Modifier::UNDERLINED));
    }
}
