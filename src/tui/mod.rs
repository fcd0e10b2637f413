//! The interactive push: a checklist, the selected step's details, live panes, and a
//! confirm-to-execute engine. `App` owns the state; the loop blocks on one channel (input,
//! engine, sources) and redraws only when something arrived, ticking only while a step runs.

pub mod action;
pub mod app;
pub mod desk;
pub mod event;
pub mod keys;
pub mod links;
pub mod logbuf;
pub mod pane;
pub mod picker;
pub mod theme;
pub mod ui;

use std::io::{Write, stdout};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::layout::Rect;

use crate::engine::{self, Console};
use app::App;
use event::InputReader;
use pane::SourceUpdate;

/// Everything the loop waits for.
pub enum Msg {
    Input(Event),
    Engine(engine::Event),
    Source(SourceUpdate),
    /// A step's confirmation (checks, the action resolved), read off the UI thread for its
    /// open dialog.
    Confirmation {
        step: String,
        read: engine::Confirmation,
    },
    /// What to do by hand instead of a step, read off the UI thread for its open dialog.
    ByHand {
        step: String,
        shown: Result<engine::ByHand, String>,
    },
    /// A step done by hand, to tick off with `note`: what it was `shown`, and what to do by
    /// hand as read again off the UI thread (it must not have changed).
    TickOff {
        step: String,
        note: String,
        shown: engine::ByHand,
        again: Result<engine::ByHand, String>,
    },
    /// Previews computed off the UI thread, for the views of `generation`.
    Previews {
        generation: u64,
        previews: Vec<String>,
    },
    /// The team's push log as its source read it (only when this push changed there).
    Followed(Box<crate::sources::follow::Update>),
    /// Something a helper on another thread (the link opener) has to say in the log.
    Said(String),
    /// A step's start, written to the team's push log off the UI thread.
    Claimed(Box<engine::LogClaim>),
    /// SIGTERM, SIGHUP or SIGINT from outside: interrupt, restore, exit with `code`.
    Signal {
        name: &'static str,
        code: u8,
    },
    /// An executor wants the operator's editor.
    Edit {
        text: String,
        name: String,
        /// The step's: its cancel ends the editor.
        cancel: engine::Cancel,
        reply: Sender<Result<String>>,
    },
}

/// The console the TUI lends executors: an edit request goes to the loop, which leaves the
/// screen, pauses input, runs the editor and comes back.
pub struct TuiConsole(pub Sender<Msg>);

impl Console for TuiConsole {
    fn edit(&self, text: &str, name: &str, cancel: &engine::Cancel) -> Result<String> {
        let (reply, rx) = mpsc::channel();
        self.0
            .send(Msg::Edit {
                text: text.to_string(),
                name: name.to_string(),
                cancel: cancel.clone(),
                reply,
            })
            .map_err(|_| anyhow!("the TUI has stopped"))?;
        rx.recv().map_err(|_| anyhow!("the TUI has stopped"))?
    }
}

/// Engine events into the loop's channel.
pub fn notifier(tx: Sender<Msg>) -> engine::Notify {
    std::sync::Arc::new(move |e| {
        let _ = tx.send(Msg::Engine(e));
    })
}

/// Restores the terminal however the loop ends (`ratatui::init` covers panics).
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        HOLDING_SCREEN.store(false, Ordering::SeqCst);
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Whether the TUI holds the terminal: until then, and after, a panic anywhere is said on
/// stderr as usual.
static HOLDING_SCREEN: AtomicBool = AtomicBool::new(false);

/// While a step runs the screen ticks once a second (its elapsed time); idle, never.
const TICK: Duration = Duration::from_secs(1);

pub struct Editing {
    pub editor: String,
    /// Where the file being edited is kept (the session's folder).
    pub dir: PathBuf,
    /// Set by a stopping signal: the loop is busy with the editor then, so the editor is
    /// ended on this rather than on the signal's message.
    pub stopping: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The opener, the notifications, the mouse and the hyperlinks as the config says.
    pub desk: desk::Desk,
}

fn draw(terminal: &mut ratatui::DefaultTerminal, app: &mut App, desk: &desk::Desk) -> Result<()> {
    let size = terminal.size().context("reading the terminal size")?;
    app.area = Rect::new(0, 0, size.width, size.height);
    let mut out = stdout();
    // Synchronized updates: the terminal shows the whole frame at once, no flicker.
    let _ = execute!(out, BeginSynchronizedUpdate);
    let r = terminal
        .draw(|f| ui::draw(f, app))
        .map(|frame| {
            if !desk.hyperlinks {
                return Vec::new();
            }
            let known = links::known(app);
            links::hyperlinks(frame.buffer, &known)
                .into_iter()
                .map(|l| {
                    let cells: Vec<_> = (l.x..l.x + l.width)
                        .map(|x| (x, l.y, frame.buffer[(x, l.y)].clone()))
                        .collect();
                    (l.url, cells)
                })
                .collect()
        })
        .and_then(|linked| hyperlink(terminal, &linked));
    let _ = execute!(out, EndSynchronizedUpdate);
    r.context("drawing")?;
    Ok(())
}

/// Cells the frame drew, by the link they show.
type Linked = Vec<(String, Vec<(u16, u16, ratatui::buffer::Cell)>)>;

/// Draws the frame's links again, each between the escapes that make it a hyperlink (OSC 8):
/// ratatui writes cell by cell and knows no links, so the cells it wrote are written once
/// more, the same, inside the link. The addresses were checked (`links::valid`) and the
/// cells scrubbed: nothing from outside reaches the terminal as an escape.
fn hyperlink(terminal: &mut ratatui::DefaultTerminal, linked: &Linked) -> std::io::Result<()> {
    use ratatui::backend::Backend;
    use ratatui::crossterm::cursor::{RestorePosition, SavePosition};
    if linked.is_empty() {
        return Ok(());
    }
    let backend = terminal.backend_mut();
    // Where the frame left the cursor (a prompt's) is where it stays.
    ratatui::crossterm::queue!(backend, SavePosition)?;
    for (url, cells) in linked {
        backend.write_all(links::osc8_open(url).as_bytes())?;
        backend.draw(cells.iter().map(|(x, y, c)| (*x, *y, c)))?;
        backend.write_all(links::OSC8_CLOSE.as_bytes())?;
    }
    ratatui::crossterm::queue!(backend, RestorePosition)?;
    Backend::flush(backend)
}

/// Carries out what the app queued: a link opened, a text copied, the operator called.
fn effects(app: &mut App, desk: &desk::Desk, tx: &Sender<Msg>) {
    for e in std::mem::take(&mut app.effects) {
        match e {
            desk::Effect::Open(url) => {
                let tx = tx.clone();
                desk::open(desk, &url, move |said| {
                    let _ = tx.send(Msg::Said(said));
                });
            }
            desk::Effect::Copy(text) => {
                if let Err(e) = desk::write_escape(&mut stdout(), &desk::osc52(&text)) {
                    app.log(app::Level::Warn, format!("could not copy: {e}"));
                }
            }
            desk::Effect::Notify { title, body } => {
                let term = std::env::var("TERM").unwrap_or_default();
                let escapes = desk::notify_escapes(desk.notify, &title, &body, &term);
                let _ = desk::write_escape(&mut stdout(), &escapes);
                if matches!(
                    desk.notify,
                    crate::config::Notify::Desktop | crate::config::Notify::Both
                ) {
                    desk::notify_send(&title, &body);
                }
            }
        }
    }
}

fn edit(
    terminal: &mut ratatui::DefaultTerminal,
    input: &InputReader,
    editing: &Editing,
    text: &str,
    name: &str,
    cancel: &engine::Cancel,
) -> Result<String> {
    input.pause();
    let mut out = stdout();
    let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen);
    let _ = disable_raw_mode();
    let _ = out.flush();
    let stop =
        || cancel.is_cancelled() || editing.stopping.load(std::sync::atomic::Ordering::SeqCst);
    let result = engine::editor::run_editor(&editing.editor, text, name, &editing.dir, &stop);
    let back = enable_raw_mode()
        .and_then(|()| execute!(out, EnterAlternateScreen))
        .and_then(|()| {
            if editing.desk.mouse {
                execute!(out, EnableMouseCapture)
            } else {
                Ok(())
            }
        })
        .and_then(|()| terminal.clear());
    input.resume();
    back.context("restoring the screen after the editor")?;
    result
}

/// How a screen ended.
#[derive(Debug, Default)]
pub struct Ended {
    /// A signal's exit code, when one ended it.
    pub exit_code: Option<u8>,
    /// The follower asked for the driver's seat, with this reason.
    pub take_over: Option<String>,
}

/// Runs the TUI until the operator quits, or a signal ends it (its exit code is returned).
pub fn run(mut app: App, tx: Sender<Msg>, rx: Receiver<Msg>, editing: Editing) -> Result<Ended> {
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            // It may have got as far as raw mode.
            ratatui::restore();
            return Err(anyhow::Error::new(e).context("starting the terminal UI"));
        }
    };
    // ratatui's hook restores raw mode and the screen; the mouse is ours to give back. A
    // panic on another thread (a pane's source, a step's worker) does not end the TUI: the
    // screen stays as it is, and the panic goes to the log file instead of over it.
    let restore_screen = std::panic::take_hook();
    let ui = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != ui && HOLDING_SCREEN.load(Ordering::SeqCst) {
            let thread = std::thread::current().name().unwrap_or("").to_string();
            tracing::error!(thread, %info, "a thread panicked");
            return;
        }
        let _ = execute!(stdout(), DisableMouseCapture);
        restore_screen(info);
    }));
    HOLDING_SCREEN.store(true, Ordering::SeqCst);
    let _guard = Guard;
    if editing.desk.mouse {
        execute!(stdout(), EnableMouseCapture).context("enabling the mouse")?;
    }
    let input = InputReader::spawn(tx.clone()).context("starting the input reader")?;
    draw(&mut terminal, &mut app, &editing.desk)?;
    app.first_frame_drawn();
    // What the held-back work changed at once (past durations read) shows without waiting for
    // a key, together with any source that answered while the first frame was drawn (the git
    // pane's first read, started before it); only the cells that changed are written.
    let mut backlog = Vec::new();
    while let Ok(m) = rx.try_recv() {
        match m {
            Msg::Source(u) => {
                app.on_source(u);
            }
            other => backlog.push(other),
        }
    }
    draw(&mut terminal, &mut app, &editing.desk)?;
    loop {
        let first = if !backlog.is_empty() {
            None
        } else if app.ticking() {
            match rx.recv_timeout(TICK) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            // Idle, the screen changes only when the header's clock turns a minute.
            match rx.recv_timeout(app::until_next_minute()) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        };
        let mut pending: Vec<Msg> = std::mem::take(&mut backlog);
        pending.extend(first);
        // Only a source's report can leave the screen as it was.
        let mut redraw = pending.is_empty();
        if redraw {
            app.tick();
        }
        // Take the whole burst before drawing once.
        while let Ok(m) = rx.try_recv() {
            pending.push(m);
        }
        // Set once a claim is answered: the rest of this burst goes after what was held.
        let mut answered = false;
        for m in pending {
            if !matches!(m, Msg::Source(_)) {
                redraw = true;
            }
            // While a step's start is written to the push log, what would journal or act
            // waits, in order: the journal must get the claimed line next. The screen
            // still draws, and the panes still read.
            if answered || (app.claiming() && app::waits_for_claim(&m)) {
                app.held.push(m);
                continue;
            }
            match m {
                Msg::Claimed(claim) => {
                    app.on_claimed(*claim);
                    answered = true;
                }
                Msg::Input(ev) => app.handle_event(&ev),
                Msg::Engine(ev) => app.on_engine(ev),
                Msg::Source(u) => redraw |= app.on_source(u),
                Msg::Signal { name, code } => app.on_signal(name, code),
                Msg::Previews {
                    generation,
                    previews,
                } => app.on_previews(generation, previews),
                Msg::Confirmation { step, read } => app.on_confirmation(&step, read),
                Msg::ByHand { step, shown } => app.on_by_hand(&step, shown),
                Msg::TickOff {
                    step,
                    note,
                    shown,
                    again,
                } => app.tick_off(&step, &note, &shown, again),
                Msg::Said(text) => app.log(app::Level::Warn, text),
                Msg::Followed(update) => app.on_followed(*update),
                Msg::Edit {
                    text,
                    name,
                    cancel,
                    reply,
                } => {
                    let r = edit(&mut terminal, &input, &editing, &text, &name, &cancel);
                    let _ = reply.send(r);
                }
            }
        }
        if !app.claiming() {
            backlog.append(&mut app.held);
        }
        effects(&mut app, &editing.desk, &tx);
        if app.quit {
            break;
        }
        if redraw {
            draw(&mut terminal, &mut app, &editing.desk)?;
        }
    }
    input.stop();
    // A step cancelled on quit gets to record how it ended.
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.engine.is_running() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Msg::Engine(ev)) => app.on_engine(ev),
            Ok(Msg::Edit { reply, .. }) => {
                let _ = reply.send(Err(anyhow!("quitting")));
            }
            Ok(Msg::Signal { name, code }) => app.on_signal(name, code),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    // The terminal is the operator's again before anything else is waited for.
    drop(_guard);
    // A result still on its way to the team's push log gets a moment to land; what does not
    // goes with the next write (the journal has it).
    if app.engine.log_away() {
        eprintln!("pushduty: sending the last lines to the team's push log (up to 10 s)…");
        app.engine.settle_log(Duration::from_secs(10));
    }
    for w in std::mem::take(&mut app.engine.log_warnings) {
        eprintln!("pushduty: warning: {}", crate::sanitize::clean(&w));
    }
    input.finish();
    Ok(Ended {
        exit_code: app.exit_code,
        take_over: app.take_over.take(),
    })
}
