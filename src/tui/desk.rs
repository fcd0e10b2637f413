//! What the screen asks of the world outside it: open a link with the operator's opener,
//! copy a text to the clipboard (OSC 52), call the operator (the bell, a desktop
//! notification). `App` only queues [`Effect`]s; the loop carries them out here, off the
//! UI thread where a child process is involved.

use std::io::Write;

use crate::config::Notify;

/// Something for the loop to do outside the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Open this address (checked by [`super::links::valid`]).
    Open(String),
    /// Put this text on the clipboard.
    Copy(String),
    /// Call the operator: `title` and one line of `body`.
    Notify { title: String, body: String },
}

/// A step that ran at least this long calls the operator when it ends: they have looked away.
pub const DEFAULT_LONG_STEP_SECS: i64 = 60;

/// The operator's settings for the desk, from the config.
#[derive(Debug, Clone)]
pub struct Desk {
    /// The opener as the config names it (words, `%s` for the link).
    pub opener: Option<String>,
    pub notify: Notify,
    /// A step that ran at least this long calls the operator when it ends.
    pub long_step_secs: i64,
    pub mouse: bool,
    pub hyperlinks: bool,
}

impl Desk {
    pub fn from_config(c: &crate::config::Config) -> Self {
        Desk {
            opener: c.opener.clone(),
            notify: c.notify.unwrap_or_default(),
            long_step_secs: c.notify_after_secs.map_or(DEFAULT_LONG_STEP_SECS, |s| {
                i64::try_from(s).unwrap_or(i64::MAX)
            }),
            mouse: c.mouse.unwrap_or(true),
            hyperlinks: c.hyperlinks.unwrap_or(true),
        }
    }
}

/// The program and its arguments that open `url`: the config's opener, else `$BROWSER`,
/// else the system's (`xdg-open`, `open` on macOS).
pub use pushduty_platform::desktop::opener_argv;

/// Starts the opener on its own thread (it is waited for there, so it leaves no zombie);
/// what it says goes nowhere near the screen. An opener that cannot start is reported.
pub fn open(desk: &Desk, url: &str, said: impl FnOnce(String) + Send + 'static) {
    let browser = std::env::var("BROWSER").ok();
    let argv = opener_argv(desk.opener.as_deref(), browser.as_deref(), url);
    let spawned = std::thread::Builder::new()
        .name("opener".into())
        .spawn(move || {
            if let Err(e) = pushduty_platform::desktop::run_opener(&argv) {
                said(e);
            }
        });
    if spawned.is_err() {
        tracing::warn!("could not start a thread for the opener");
    }
}

/// The escape that puts `text` on the clipboard (OSC 52), for terminals that allow it.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

/// What the terminal gets to call the operator: the bell, and/or a notification escape
/// (OSC 777 for foot and rxvt-likes, OSC 9 for the others: iTerm2, kitty, WezTerm).
pub fn notify_escapes(mode: Notify, title: &str, body: &str, term: &str) -> String {
    let mut out = String::new();
    if matches!(mode, Notify::Bell | Notify::Both) {
        out.push('\x07');
    }
    if matches!(mode, Notify::Desktop | Notify::Both) {
        let title = plain(title);
        let body = plain(body);
        if term.starts_with("foot") || term.starts_with("rxvt") {
            out.push_str(&format!("\x1b]777;notify;{title};{body}\x1b\\"));
        } else {
            out.push_str(&format!("\x1b]9;{title}: {body}\x1b\\"));
        }
    }
    out
}

/// Sends a desktop notification (`notify-send`, `osascript` on macOS) on its own thread;
/// none shown is no error: the escape may have done it.
pub fn notify_send(title: &str, body: &str) {
    let (title, body) = (plain(title), plain(body));
    let _ = std::thread::Builder::new()
        .name("notify".into())
        .spawn(move || {
            if let Err(e) = pushduty_platform::desktop::notify(&title, &body) {
                tracing::debug!("no desktop notification: {e}");
            }
        });
}

/// A notification's text: one line of printable characters, no `;` (it separates the
/// escape's fields), not too long.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || crate::sanitize::is_hostile(c) || c == ';' {
                ' '
            } else {
                c
            }
        })
        .take(200)
        .collect()
}

/// Writes the terminal's part of an effect (the clipboard, the bell) to `out`.
pub fn write_escape(out: &mut impl Write, escape: &str) -> std::io::Result<()> {
    out.write_all(escape.as_bytes())?;
    out.flush()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64("pushing 2015.09.10 ✓".as_bytes()),
            "cHVzaGluZyAyMDE1LjA5LjEwIOKckw=="
        );
    }

    #[test]
    fn notifications_carry_no_control_character_or_field_separator() {
        let e = notify_escapes(Notify::Desktop, "pushduty", "done;\x1b]52;c;x\x07", "foot");
        assert_eq!(e, "\x1b]777;notify;pushduty;done  ]52 c x \x1b\\");
        assert_eq!(notify_escapes(Notify::Bell, "t", "b", "xterm"), "\x07");
        assert_eq!(notify_escapes(Notify::Off, "t", "b", "xterm"), "");
    }
}
