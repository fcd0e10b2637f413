//! Links on the screen: which addresses a step or a pane row offers (`o` opens them, `c`
//! copies them), and where the drawn frame shows them, so the loop can make each visible
//! piece a terminal hyperlink (OSC 8) to the whole address. Pure: no I/O here.

use ratatui::buffer::Buffer;

use super::app::{App, Focus, Modal};

/// An address with what it is, as the picker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// Longest address taken: a `mailto:` carrying a whole email is long, not endless.
const LONGEST: usize = 16 * 1024;

/// Whether `url` may go to the terminal or an opener: http, https or mailto only, printable
/// ASCII only (an escape in an address would end the link's escape sequence and write
/// whatever follows to the terminal; a placeholder such as `⟨olympia.previous_tag⟩` is not
/// an address yet; a look-alike letter is not the address it looks like).
pub fn valid(url: &str) -> bool {
    let scheme = ["https://", "http://", "mailto:"]
        .iter()
        .find(|s| url.len() > s.len() && url[..s.len()].eq_ignore_ascii_case(s));
    scheme.is_some() && url.len() <= LONGEST && url.bytes().all(|b| b.is_ascii_graphic())
}

/// The addresses in a text, in order, without the punctuation around them.
pub fn find(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')) {
        let start = ["https://", "http://", "mailto:"]
            .iter()
            .filter_map(|s| word.find(s))
            .min();
        let Some(start) = start else {
            continue;
        };
        let url = trim_end(&word[start..]);
        if valid(url) && !out.iter().any(|u| u == url) {
            out.push(url.to_string());
        }
    }
    out
}

/// Sentence punctuation after an address is not part of it; a closing parenthesis is only
/// when the address opened one (a Markdown link ends with one it did not open).
fn trim_end(url: &str) -> &str {
    let mut u = url;
    loop {
        let Some(last) = u.chars().last() else {
            return u;
        };
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | ']' | '*' | '…' => true,
            ')' => u.matches('(').count() < u.matches(')').count(),
            _ => false,
        };
        if !strip {
            return u;
        }
        u = &u[..u.len() - last.len_utf8()];
    }
}

/// What `o` and `c` act on where the operator is: the open by-hand dialog's page; the
/// focused pane's rows; else the selected step's links (its outputs, then what its text
/// and preview name), or the runbook's own links when the step has none.
pub fn offered(app: &App) -> Vec<Link> {
    if let Modal::ByHand { shown: Some(s), .. } = &app.modal {
        return s
            .link
            .iter()
            .filter(|u| valid(u))
            .map(|u| Link {
                label: "the page to open".into(),
                url: u.clone(),
            })
            .collect();
    }
    if app.focus == Focus::Panes && app.modal == Modal::None {
        return app
            .panes
            .get(app.pane_selected)
            .map(pane_links)
            .unwrap_or_default();
    }
    app.selected_id()
        .map_or_else(Vec::new, |id| step_links(app, &id))
}

/// Each row of a pane with an address in it.
pub fn pane_links(pane: &super::pane::Pane) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    for line in &pane.lines {
        for url in find(line) {
            if !out.iter().any(|l| l.url == url) {
                out.push(Link {
                    label: crate::sanitize::clean_line(line.trim()).into_owned(),
                    url,
                });
            }
        }
    }
    out
}

/// The step's links ([`own_links`]); the runbook's links when it has none.
pub fn step_links(app: &App, id: &str) -> Vec<Link> {
    let mut out = own_links(app, id);
    if out.is_empty() {
        for (name, url) in &app.procedure.links {
            if valid(url) {
                add(&mut out, name, url.clone());
            }
        }
    }
    out
}

fn add(out: &mut Vec<Link>, label: &str, url: String) {
    if !out.iter().any(|l| l.url == url) {
        out.push(Link {
            label: label.to_string(),
            url,
        });
    }
}

/// The step's own links: recorded outputs that are addresses (a compare link, a build, the
/// pad), then the addresses its doc and preview name.
pub fn own_links(app: &App, id: &str) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    if let Some(state) = app.engine.session.state.steps.get(id) {
        for (name, value) in &state.outputs {
            if let Some(s) = value.as_str() {
                for url in find(s) {
                    add(&mut out, name, url);
                }
            }
        }
    }
    let view = app.view(id);
    for url in find(&view.doc).into_iter().chain(find(&view.preview)) {
        add(&mut out, "in the step's text", url);
    }
    out
}

/// Every address the screen may show in part (cut or wrapped): a visible piece of one is
/// linked to the whole.
pub fn known(app: &App) -> Vec<String> {
    let mut out: Vec<String> = app
        .panes
        .iter()
        .flat_map(pane_links)
        .map(|l| l.url)
        .collect();
    if let Some(id) = app.selected_id() {
        out.extend(step_links(app, &id).into_iter().map(|l| l.url));
    }
    out.extend(offered(app).into_iter().map(|l| l.url));
    out.extend(
        app.procedure
            .links
            .iter()
            .map(|(_, u)| u)
            .filter(|u| valid(u))
            .cloned(),
    );
    // Once each: an address listed twice would read as two that a cut piece could be.
    let mut seen = std::collections::HashSet::new();
    out.retain(|u| seen.insert(u.clone()));
    out
}

/// A run of cells on one row that shows (part of) `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hyperlink {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub url: String,
}

/// Shortest piece of an address linked on its own: shorter ones (a word that happens to be
/// in an address) are linked only as the rest of an address wrapped from the row above.
const PIECE: usize = 12;

/// Where the drawn frame shows addresses: a whole one is linked to itself, a piece cut by
/// a border or an ellipsis to the known address it starts, and a piece wrapped onto the
/// next row to the address the row above ended with. Only cells are read: what the scrub
/// left (no control character) is what is linked.
pub fn hyperlinks(buf: &Buffer, known: &[String]) -> Vec<Hyperlink> {
    let area = buf.area;
    let mut out = Vec::new();
    // The address the row above ended with, and where in it that row stopped.
    let mut above: Option<(String, usize)> = None;
    for y in area.top()..area.bottom() {
        let mut row_last: Option<(String, usize)> = None;
        let mut x = area.left();
        while x < area.right() {
            if !url_cell(buf, x, y) {
                x += 1;
                continue;
            }
            let start = x;
            let mut text = String::new();
            while x < area.right() && url_cell(buf, x, y) {
                text.push_str(buf[(x, y)].symbol());
                x += 1;
            }
            let lead = text.len() - text.trim_start_matches(['(', '[', '\'']).len();
            let token = trim_end(&text[lead..]);
            let cut = x < area.right() && !buf[(x, y)].symbol().trim().is_empty();
            let target = target(token, cut, known, above.as_ref());
            if let Some((url, end)) = target {
                let width = u16::try_from(token.len()).unwrap_or(0);
                let at = start + u16::try_from(lead).unwrap_or(0);
                out.push(Hyperlink {
                    x: at,
                    y,
                    width,
                    url: url.clone(),
                });
                row_last = Some((url, end));
            } else {
                row_last = None;
            }
        }
        above = row_last.filter(|(url, end)| *end < url.len());
    }
    out
}

/// The address `token` shows, and where in it the token ends.
fn target(
    token: &str,
    cut: bool,
    known: &[String],
    above: Option<&(String, usize)>,
) -> Option<(String, usize)> {
    if token.is_empty() {
        return None;
    }
    if let Some((url, from)) = above
        && url.get(*from..).is_some_and(|rest| rest.starts_with(token))
    {
        return Some((url.clone(), from + token.len()));
    }
    if known.iter().any(|k| k == token) {
        return Some((token.to_string(), token.len()));
    }
    let starts_address = ["https://", "http://", "mailto:"]
        .iter()
        .any(|s| token.starts_with(s));
    // A cut piece that several known addresses start with (the builds of one job) could be
    // any of them: it is left unlinked rather than linked to the wrong one.
    if !starts_address {
        return None;
    }
    let mut longer = known
        .iter()
        .filter(|k| k.len() > token.len() && k.starts_with(token));
    match (longer.next(), longer.next()) {
        (Some(k), None) if cut || token.len() >= PIECE => Some((k.clone(), token.len())),
        (Some(_), _) if cut => None,
        // Whole as far as the screen shows: an address of its own. Cut and unknown: the
        // rest is not known, so it is no address to link.
        _ => (!cut && valid(token)).then(|| (token.to_string(), token.len())),
    }
}

/// A cell that can be part of an address: one printable ASCII character that is not a
/// space or a quote.
fn url_cell(buf: &Buffer, x: u16, y: u16) -> bool {
    let s = buf[(x, y)].symbol();
    s.len() == 1
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"<>`".contains(&b))
}

/// The escape that starts a hyperlink to `url` (already [`valid`]), and the one that ends it.
pub fn osc8_open(url: &str) -> String {
    format!("\x1b]8;;{url}\x1b\\")
}

pub const OSC8_CLOSE: &str = "\x1b]8;;\x1b\\";

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

    #[test]
    fn only_web_and_mail_addresses_without_control_characters_are_valid() {
        assert!(valid("https://example.com/a?b=c;d"));
        assert!(valid("mailto:dev@example.com?subject=x"));
        assert!(!valid("javascript:alert(1)"));
        assert!(!valid("file:///etc/passwd"));
        assert!(!valid("https://example.com/\x1b]8;;x"));
        assert!(!valid("https://example.com/\x07"));
        assert!(!valid("https://exa mple.com"));
        assert!(!valid("https://"));
        assert!(!valid(
            "https://github.com/o/r/compare/⟨previous_tag⟩...2015.09.10"
        ));
    }

    #[test]
    fn addresses_are_found_without_the_punctuation_around_them() {
        let text = "see https://a.example/x. Or (https://b.example/y), and [pad](https://c.example/p/1) <mailto:d@e.example>";
        assert_eq!(
            find(text),
            [
                "https://a.example/x",
                "https://b.example/y",
                "https://c.example/p/1",
                "mailto:d@e.example"
            ]
        );
        assert!(find("https://evil.example/\x1b]8;;x").is_empty());
    }

    fn drawn(text: &str, width: u16) -> Buffer {
        let area = Rect::new(0, 0, width, 6);
        let mut buf = Buffer::empty(area);
        Paragraph::new(text.to_string())
            .wrap(Wrap { trim: false })
            .block(Block::new().borders(Borders::ALL))
            .render(area, &mut buf);
        buf
    }

    #[test]
    fn an_address_wrapped_at_the_border_is_one_link_per_piece_to_the_whole() {
        let url = "https://github.com/mozilla/addons-server/compare/2015.09.03...2015.09.10";
        let buf = drawn(&format!("compare: {url}"), 40);
        let links = hyperlinks(&buf, &[url.to_string()]);
        assert!(links.len() >= 2, "{links:?}");
        assert!(links.iter().all(|l| l.url == url), "{links:?}");
        // The pieces, read back from the cells, are the whole address.
        let mut shown = String::new();
        for l in &links {
            for x in l.x..l.x + l.width {
                shown.push_str(buf[(x, l.y)].symbol());
            }
        }
        assert_eq!(shown, url);
    }

    #[test]
    fn a_cut_address_links_to_the_whole_and_an_unknown_one_to_itself() {
        let url = "https://sentry.example/organizations/amo/issues/4242/";
        let buf = drawn(&format!("{}… and https://x.example/a.", &url[..30]), 60);
        let links = hyperlinks(&buf, &[url.to_string()]);
        let urls: Vec<&str> = links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(urls, [url, "https://x.example/a"]);
    }

    #[test]
    fn a_cut_piece_that_could_be_several_addresses_is_not_linked() {
        let builds = [
            "https://ci.example/job/deploy/11/",
            "https://ci.example/job/deploy/12/",
        ];
        let known: Vec<String> = builds.iter().map(|b| b.to_string()).collect();
        // A pane's row is cut at its border, not wrapped.
        let area = Rect::new(0, 0, 33, 3);
        let mut buf = Buffer::empty(area);
        Paragraph::new(builds[1])
            .block(Block::new().borders(Borders::ALL))
            .render(area, &mut buf);
        assert!(hyperlinks(&buf, &known).is_empty());
        // Cut after the build's number, it is that build.
        let area = Rect::new(0, 0, 34, 3);
        let mut buf = Buffer::empty(area);
        Paragraph::new(builds[1])
            .block(Block::new().borders(Borders::ALL))
            .render(area, &mut buf);
        let urls: Vec<String> = hyperlinks(&buf, &known)
            .into_iter()
            .map(|l| l.url)
            .collect();
        assert_eq!(urls, [builds[1]]);
    }
}
