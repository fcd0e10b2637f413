//! Linux: what a process is, read from `/proc/PID/stat`.

use super::State;

fn stat(pid: u64) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()
}

/// The fields after the command name (field 2), which may hold spaces and parentheses: they
/// are counted from its closing parenthesis. Field 3 (state) comes first.
fn after_name(stat: &str) -> Option<&str> {
    stat.get(stat.rfind(')')? + 2..)
}

/// Field 22: clock ticks since boot.
pub fn started(pid: u64) -> Option<u64> {
    after_name(&stat(pid)?)?.split(' ').nth(19)?.parse().ok()
}

fn state_of(field: &str) -> State {
    match field {
        "Z" => State::Zombie,
        "T" | "t" => State::Stopped,
        _ => State::Live,
    }
}

pub fn state(pid: u64) -> Option<State> {
    Some(state_of(after_name(&stat(pid)?)?.split(' ').next()?))
}

/// Whether some process of group `pgid` is more than a zombie. Without `/proc` to read,
/// every member counts: better a step that waits than a second copy.
pub fn has_live_member(pgid: u64) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    let mut read_any = false;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let Some(stat) = stat(pid) else {
            continue;
        };
        read_any = true;
        // After the command name: state, ppid, pgrp.
        let Some(rest) = after_name(&stat) else {
            continue;
        };
        let mut fields = rest.split(' ');
        let st = fields.next().map(state_of);
        if fields.nth(1).and_then(|g| g.parse::<u64>().ok()) == Some(pgid)
            && st != Some(State::Zombie)
        {
            return true;
        }
    }
    !read_any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_is_skipped() {
        let line = "42 (a) b (c) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 98765 0 0";
        let rest = after_name(line).unwrap();
        assert_eq!(state_of(rest.split(' ').next().unwrap()), State::Live);
        assert_eq!(rest.split(' ').nth(19), Some("98765"));
        assert_eq!(after_name("7 (x)"), None);
    }
}
