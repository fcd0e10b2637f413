//! The operator's desktop: the program that opens a link, and desktop notifications
//! (`notify-send` on Linux, AppleScript's `display notification` through `osascript` on
//! macOS). Every value reaches the program as an argument of its own, never as part of a
//! shell line or a script's text.

use std::io;
use std::process::{Command, ExitStatus, Stdio};

/// The system's own opener, used when neither the config nor `$BROWSER` names one.
#[cfg(target_os = "linux")]
pub const SYSTEM_OPENER: &str = "xdg-open";
#[cfg(target_os = "macos")]
pub const SYSTEM_OPENER: &str = "open";

/// The program and its arguments that open `url`: the config's opener, else `$BROWSER`
/// (its first entry: it may list several, `:`-separated), else [`SYSTEM_OPENER`]. Words,
/// never a shell line: the link reaches the program as one argument.
pub fn opener_argv(configured: Option<&str>, browser: Option<&str>, url: &str) -> Vec<String> {
    let line = configured
        .map(str::to_string)
        .or_else(|| {
            browser
                .and_then(|b| b.split(':').find(|s| !s.trim().is_empty()))
                .map(str::to_string)
        })
        .unwrap_or_else(|| SYSTEM_OPENER.to_string());
    let mut argv: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    if argv.iter().any(|w| w.contains("%s")) {
        for w in &mut argv {
            *w = w.replace("%s", url);
        }
    } else {
        argv.push(url.to_string());
    }
    argv
}

/// Runs `argv` with nothing of ours on its standard streams and waits for it.
fn quiet(argv: &[String]) -> io::Result<ExitStatus> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no program to run"))?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
}

/// Runs an opener's `argv` (from [`opener_argv`]) to its end. The error says what went wrong
/// and what to set instead.
pub fn run_opener(argv: &[String]) -> Result<(), String> {
    let program = argv.first().map_or("", String::as_str);
    match quiet(argv) {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!(
            "the opener `{program}` ended with {s}: set `opener` in your config (or $BROWSER)"
        )),
        Err(e) => Err(format!(
            "could not start the opener `{program}`: {e}; set `opener` in your config (or $BROWSER)"
        )),
    }
}

/// `notify-send`'s arguments: the title and body after `--`, so neither is read as an option.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn notify_send_argv(title: &str, body: &str) -> Vec<String> {
    ["notify-send", "--app-name=pushduty", "--", title, body]
        .map(String::from)
        .to_vec()
}

/// `osascript`'s arguments: a fixed script that takes the title and body from its argument
/// list (after `--`), so no text of theirs is ever parsed as AppleScript.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
fn osascript_argv(title: &str, body: &str) -> Vec<String> {
    [
        "osascript",
        "-e",
        "on run argv",
        "-e",
        "display notification (item 2 of argv) with title (item 1 of argv)",
        "-e",
        "end run",
        "--",
        title,
        body,
    ]
    .map(String::from)
    .to_vec()
}

/// The command that shows a desktop notification on this system.
pub fn notify_argv(title: &str, body: &str) -> Vec<String> {
    #[cfg(target_os = "linux")]
    return notify_send_argv(title, body);
    #[cfg(target_os = "macos")]
    return osascript_argv(title, body);
}

/// Shows a desktop notification and waits for the program that shows it. An error when the
/// program is missing or fails (the caller may have called the operator otherwise already).
pub fn notify(title: &str, body: &str) -> io::Result<()> {
    let argv = notify_argv(title, body);
    let status = quiet(&argv)?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "`{}` ended with {status}",
            argv[0]
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A program that writes each argument it gets on a line of `out`.
    fn recorder(dir: &std::path::Path, name: &str) -> (String, std::path::PathBuf) {
        let out = dir.join(format!("{name}.args"));
        let script = dir.join(name);
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {}\n",
                out.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        (script.display().to_string(), out)
    }

    #[test]
    fn a_browser_gets_the_link_as_one_argument() {
        let dir = tempfile::tempdir().unwrap();
        let (browser, out) = recorder(dir.path(), "browser");
        let url = "https://a.example/x?y=1&z=$(touch pwned) ;b `c`";
        // $BROWSER may list several; the first is used.
        let argv = opener_argv(None, Some(&format!("{browser}:other")), url);
        run_opener(&argv).unwrap();
        assert_eq!(std::fs::read_to_string(out).unwrap(), format!("{url}\n"));
        assert!(!dir.path().join("pwned").exists());
        assert!(!std::path::Path::new("pwned").exists());
    }

    #[test]
    fn the_configured_opener_comes_first_and_may_place_the_link() {
        let url = "https://a.example/";
        assert_eq!(
            opener_argv(Some("firefox --new-tab"), Some("chromium"), url),
            ["firefox", "--new-tab", url]
        );
        assert_eq!(
            opener_argv(None, Some("w3m %s -dump:lynx"), url),
            ["w3m", url, "-dump"]
        );
        assert_eq!(opener_argv(None, None, url), [SYSTEM_OPENER, url]);
    }

    #[test]
    fn an_opener_that_fails_or_is_missing_says_what_to_set() {
        let e = run_opener(&["false".into(), "u".into()]).unwrap_err();
        assert!(
            e.contains("`false` ended with") && e.contains("set `opener`"),
            "{e}"
        );
        let e = run_opener(&["/nonexistent/opener".into()]).unwrap_err();
        assert!(e.contains("could not start"), "{e}");
    }

    #[test]
    fn notification_text_is_never_an_option_or_script() {
        let title = "-t 0";
        let body = "\" & do shell script \"touch pwned";
        let linux = notify_send_argv(title, body);
        assert_eq!(&linux[linux.len() - 3..], ["--", title, body]);
        let mac = osascript_argv(title, body);
        assert_eq!(&mac[mac.len() - 3..], ["--", title, body]);
        assert!(mac[..mac.len() - 3].iter().all(|a| !a.contains("pwned")));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn notify_send_gets_title_and_body_as_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let (_, out) = recorder(dir.path(), "notify-send");
        let path = format!("{}:/usr/bin:/bin", dir.path().display());
        let argv = notify_argv("pushduty", "step done; next");
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .env("PATH", path)
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            std::fs::read_to_string(out).unwrap(),
            "--app-name=pushduty\n--\npushduty\nstep done; next\n"
        );
    }
}
