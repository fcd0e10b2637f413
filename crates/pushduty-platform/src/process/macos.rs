//! macOS: what a process is, from libproc (`proc_pidinfo` with `PROC_PIDTBSDINFO`, and
//! `proc_listpids` for the members of a group). There is no `/proc`.

use std::mem::size_of;

use super::State;

/// `PROC_PGRP_ONLY` from <sys/proc_info.h>: list the processes of one process group.
const PROC_PGRP_ONLY: u32 = 2;

fn bsdinfo(pid: u64) -> Option<libc::proc_bsdinfo> {
    let pid = libc::c_int::try_from(pid).ok().filter(|p| *p > 0)?;
    let size = libc::c_int::try_from(size_of::<libc::proc_bsdinfo>()).ok()?;
    // SAFETY: proc_bsdinfo is plain data, for which all zeroes is a valid value.
    let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is a proc_bsdinfo and its size is passed; nothing is kept.
    let n =
        unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDTBSDINFO, 0, (&raw mut info).cast(), size) };
    (n == size).then_some(info)
}

/// Microseconds since the epoch.
pub fn started(pid: u64) -> Option<u64> {
    let info = bsdinfo(pid)?;
    info.pbi_start_tvsec
        .checked_mul(1_000_000)?
        .checked_add(info.pbi_start_tvusec)
}

pub fn state(pid: u64) -> Option<State> {
    Some(match bsdinfo(pid)?.pbi_status {
        libc::SZOMB => State::Zombie,
        libc::SSTOP => State::Stopped,
        _ => State::Live,
    })
}

/// Whether some process of group `pgid` (which `kill` has just found) is more than a zombie.
/// When the list cannot be read, or a member's state cannot, it counts: better a step that
/// waits than a second copy.
pub fn has_live_member(pgid: u64) -> bool {
    let Ok(group) = u32::try_from(pgid) else {
        return false;
    };
    // A push's command rarely has more than a handful of processes; a full buffer is asked
    // again, bigger.
    let mut pids: Vec<libc::c_int> = vec![0; 256];
    let count = loop {
        let Ok(bytes) = libc::c_int::try_from(pids.len() * size_of::<libc::c_int>()) else {
            return true;
        };
        // SAFETY: the buffer holds `bytes` bytes of c_int; the kernel writes at most that.
        let n =
            unsafe { libc::proc_listpids(PROC_PGRP_ONLY, group, pids.as_mut_ptr().cast(), bytes) };
        // The byte count it filled; 0 is also how libproc reports an error, and the caller
        // has seen the group exist: so nothing listed is not taken for an empty group.
        let n = match usize::try_from(n) {
            Ok(n) if n > 0 => n,
            _ => return true,
        };
        let count = n / size_of::<libc::c_int>();
        if count < pids.len() {
            break count;
        }
        pids.resize(pids.len() * 4, 0);
    };
    pids[..count]
        .iter()
        .filter_map(|&p| u64::try_from(p).ok().filter(|p| *p > 0))
        .any(|p| state(p) != Some(State::Zombie))
}
