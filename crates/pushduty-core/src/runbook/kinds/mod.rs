//! Step kinds, one table each: what a runbook may write for the kind (its fields, whose doc
//! comments are the JSON Schema's help), its rules, its preview, and what it gives the
//! session. The list at the bottom of this file is the only list of kinds: the [`StepKind`]
//! enum, loading, the schema, validation and previews are all built from it, and so is the
//! executor registry of `pushduty-io`.
//!
//! # Adding a step kind
//!
//! 1. A module here (or a row in the module of its family, e.g. `git`): the kind's fields as
//!    a struct deriving `Serialize`, `Deserialize` and `JsonSchema` with
//!    `#[serde(deny_unknown_fields)]`; a marker type; and `impl Kind for` the marker:
//!    - `INFO`: its name as runbooks write it, whether it changes anything (which decides
//!      whether it is confirmed), the outputs it can give, a one-line summary;
//!    - `check`: its rules, reported through [`Rules`] at the field they are about;
//!    - `strings`: its templated fields, which `check` compiles and resolves;
//!    - `describe`: its preview, values filled in where they are known;
//!    - where they apply, `repo`, `service`, `template_file` and `action` (the text journaled
//!      with a run, when it is not the preview).
//! 2. One line in [`for_each_step_kind!`] below: `Variant => module::Marker,`.
//! 3. In `pushduty-io`, `impl Execute for module::Marker` beside its executor.
//!
//! The compiler holds each part to account: `Kind` has no defaults for `INFO`, `check`,
//! `strings` or `describe`, every dispatch is an exhaustive match generated from the list,
//! and the registry asks every listed kind for its `Execute`. A kind with a part missing does
//! not build:
//!
//! ```compile_fail,E0046
//! use pushduty_core::preview::Filler;
//! use pushduty_core::runbook::kinds::{Kind, KindInfo, Rules};
//! use pushduty_core::runbook::model::{Runbook, Step};
//!
//! struct Wave;
//! impl Kind for Wave {
//!     type Fields = pushduty_core::runbook::kinds::manual::ManualStep;
//!     const INFO: KindInfo = KindInfo {
//!         name: "wave",
//!         side_effect: false,
//!         outputs: Some(&[]),
//!         summary: "wave at the team",
//!     };
//!     fn strings(_: &Self::Fields) -> Vec<(&'static str, &str)> {
//!         Vec::new()
//!     }
//!     fn describe(_: &Self::Fields, _: &Step, _: &Runbook, _: &Filler<'_>) -> String {
//!         "wave".into()
//!     }
//!     // No `check`: the rules of a kind are never left out by accident.
//! }
//! ```
//!
//! while the same kind with its rules does:
//!
//! ```
//! use pushduty_core::preview::Filler;
//! use pushduty_core::runbook::kinds::{Kind, KindInfo, Rules};
//! use pushduty_core::runbook::model::{Runbook, Step};
//!
//! struct Wave;
//! impl Kind for Wave {
//!     type Fields = pushduty_core::runbook::kinds::manual::ManualStep;
//!     const INFO: KindInfo = KindInfo {
//!         name: "wave",
//!         side_effect: false,
//!         outputs: Some(&[]),
//!         summary: "wave at the team",
//!     };
//!     fn check(_: &Self::Fields, _: &mut Rules<'_, '_>) {}
//!     fn strings(_: &Self::Fields) -> Vec<(&'static str, &str)> {
//!         Vec::new()
//!     }
//!     fn describe(_: &Self::Fields, _: &Step, _: &Runbook, _: &Filler<'_>) -> String {
//!         "wave".into()
//!     }
//! }
//! ```

pub mod blockers;
pub mod chat;
pub mod choice;
pub mod email;
pub mod gate;
pub mod git;
pub mod http_check;
pub mod jenkins;
pub mod manual;
pub mod notes;
pub mod release;
pub mod shell;
pub mod template;
pub mod watch;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::load::{Doc, Value};
use super::model::{Runbook, Step};
pub use super::validate::Rules;
use crate::diag::Diagnostics;
use crate::preview::Filler;

/// What each step kind is: its name, whether it changes anything, the outputs it can add to
/// the session, and a line that says what it does.
#[derive(Debug)]
pub struct KindInfo {
    pub name: &'static str,
    pub side_effect: bool,
    /// Outputs the executor produces; `None`: any name (the operator types the values).
    pub outputs: Option<&'static [&'static str]>,
    pub summary: &'static str,
}

/// One step kind's table (see the module docs for how to add one).
pub trait Kind {
    /// What a runbook writes for it besides the common keys (`id`, `title`, ...).
    type Fields: std::fmt::Debug + Clone + Serialize + DeserializeOwned + JsonSchema;
    const INFO: KindInfo;
    /// Its rules, beyond what its fields' types say.
    fn check(fields: &Self::Fields, rules: &mut Rules<'_, '_>);
    /// Its templated fields, by key (the title and doc are every step's).
    fn strings(fields: &Self::Fields) -> Vec<(&'static str, &str)>;
    /// What it will do, values filled in where known: the preview of `plan`, `render`, the
    /// details pane and the confirmation, when the executor has nothing more exact.
    fn describe(fields: &Self::Fields, step: &Step, rb: &Runbook, fl: &Filler<'_>) -> String;
    /// The text journaled with a run and compared later, when it is not the preview (which
    /// names paths and hosts that may differ between machines).
    fn action(_fields: &Self::Fields, _step: &Step, _fl: &Filler<'_>) -> Option<String> {
        None
    }
    /// The runbook repo it works on.
    fn repo(_fields: &Self::Fields) -> Option<&str> {
        None
    }
    /// The service it talks to, and the service kinds it accepts.
    fn service(_fields: &Self::Fields) -> Option<(&str, &'static [&'static str])> {
        None
    }
    /// The template file it reads, relative to the runbook.
    fn template_file(_fields: &Self::Fields) -> Option<&str> {
        None
    }
}

/// Hands the list of step kinds to a macro, as `Variant => path::Marker,` rows: the one list
/// of kinds. `pushduty-io` builds its executor registry with it.
#[macro_export]
macro_rules! for_each_step_kind {
    ($callback:ident) => {
        $callback! {
            Manual => $crate::runbook::kinds::manual::Manual,
            Choice => $crate::runbook::kinds::choice::Choice,
            Gate => $crate::runbook::kinds::gate::Gate,
            GitFetch => $crate::runbook::kinds::git::Fetch,
            GitTag => $crate::runbook::kinds::git::Tag,
            GitPushTag => $crate::runbook::kinds::git::PushTag,
            GitCherryPick => $crate::runbook::kinds::git::CherryPick,
            GitCompare => $crate::runbook::kinds::git::Compare,
            JenkinsBuild => $crate::runbook::kinds::jenkins::Build,
            HttpCheck => $crate::runbook::kinds::http_check::HttpCheck,
            SentryCheck => $crate::runbook::kinds::watch::SentryCheck,
            MetricsCheck => $crate::runbook::kinds::watch::MetricsCheck,
            Template => $crate::runbook::kinds::template::Template,
            NotesPublish => $crate::runbook::kinds::notes::Publish,
            NotesAppend => $crate::runbook::kinds::notes::Append,
            EmailSend => $crate::runbook::kinds::email::Send,
            Shell => $crate::runbook::kinds::shell::Shell,
            GithubBlockers => $crate::runbook::kinds::blockers::Blockers,
            ChatPost => $crate::runbook::kinds::chat::Post,
            GithubRelease => $crate::runbook::kinds::release::Release,
        }
    };
}

/// A step's kind and fields, as the runbook serialises it: `kind` first, then the fields.
#[derive(Serialize)]
struct Tagged<'a, T> {
    kind: &'static str,
    #[serde(flatten)]
    fields: &'a T,
}

macro_rules! step_kinds {
    ($($variant:ident => $marker:path,)*) => {
        /// What a step does: one variant per kind, holding its fields.
        #[derive(Debug, Clone)]
        pub enum StepKind {
            $($variant(<$marker as Kind>::Fields),)*
        }

        /// Every kind, in the order of the list, for listings and "did you mean".
        pub const KINDS: &[KindInfo] = &[$(<$marker as Kind>::INFO,)*];

        impl StepKind {
            pub fn name(&self) -> &'static str {
                self.info().name
            }

            /// The kind's row in [`KINDS`].
            pub fn info(&self) -> &'static KindInfo {
                match self {
                    $(StepKind::$variant(_) => &<$marker as Kind>::INFO,)*
                }
            }

            pub(crate) fn check(&self, rules: &mut Rules<'_, '_>) {
                match self {
                    $(StepKind::$variant(f) => <$marker as Kind>::check(f, rules),)*
                }
            }

            /// Templated string fields of the kind (besides its template file).
            pub fn strings(&self) -> Vec<(&'static str, &str)> {
                match self {
                    $(StepKind::$variant(f) => <$marker as Kind>::strings(f),)*
                }
            }

            pub(crate) fn describe(&self, step: &Step, rb: &Runbook, fl: &Filler<'_>) -> String {
                match self {
                    $(StepKind::$variant(f) => <$marker as Kind>::describe(f, step, rb, fl),)*
                }
            }

            pub(crate) fn action(&self, step: &Step, fl: &Filler<'_>) -> Option<String> {
                match self {
                    $(StepKind::$variant(f) => <$marker as Kind>::action(f, step, fl),)*
                }
            }

            /// The repo a step works on, if any.
            pub fn repo(&self) -> Option<&str> {
                match self {
                    $(StepKind::$variant(f) => <$marker as Kind>::repo(f),)*
                }
            }

            /// The service a step talks to, with the service kinds it accepts.
            pub fn service(&self) -> Option<(&str, &'static [&'static str])> {
                match self {
                    $(StepKind::$variant(f) => <$marker as Kind>::service(f),)*
                }
            }

            /// Template files the step reads, relative to the runbook.
            pub fn template_file(&self) -> Option<&str> {
                match self {
                    $(StepKind::$variant(f) => <$marker as Kind>::template_file(f),)*
                }
            }
        }

        impl Serialize for StepKind {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(StepKind::$variant(f) => Tagged {
                        kind: <$marker as Kind>::INFO.name,
                        fields: f,
                    }
                    .serialize(s),)*
                }
            }
        }

        /// Reads the fields of the kind named `name`; `None` when no kind has that name.
        pub(crate) fn read(
            name: &str,
            doc: &Doc,
            fields: &Value,
            what: &str,
            diags: &mut Diagnostics,
        ) -> Option<Option<StepKind>> {
            $(
                if name == <$marker as Kind>::INFO.name {
                    return Some(super::load::de(doc, fields, what, diags).map(StepKind::$variant));
                }
            )*
            None
        }

        /// Each kind's name, summary and fields' schema, for `pushduty schema`.
        pub(crate) fn schemas(g: &mut SchemaGenerator) -> Vec<(&'static str, Option<&'static str>, Schema)> {
            vec![$((
                <$marker as Kind>::INFO.name,
                Some(<$marker as Kind>::INFO.summary),
                <<$marker as Kind>::Fields as JsonSchema>::json_schema(g),
            ),)*]
        }
    };
}

for_each_step_kind!(step_kinds);

pub fn kind_info(name: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_info_matches_the_variant() {
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        let gate = StepKind::Gate(gate::GateStep {
            waits_for: "QA".into(),
            who: None,
            follow_up_after_minutes: None,
        });
        assert_eq!(gate.info().name, "gate");
        let shell = StepKind::Shell(serde_json::from_str(r#"{"command": "true"}"#).unwrap());
        assert_eq!(shell.info().name, "shell");
        assert!(shell.info().side_effect);
    }
}
