//! fmt.rs - text the shell prints that is worth testing on its own: task
//! state names and the `ps` table. Pure logic, host-tested.

use crate::abi::*;
use crate::ks::name_str;
use core::fmt::{self, Write};

/// The `ps` STATE column (docs/protocols.md).
pub fn state_name(state: u32) -> &'static str {
    match state {
        TASK_STATE_RUNNABLE => "run",
        TASK_STATE_BLOCKED_SEND => "send",
        TASK_STATE_BLOCKED_RECV => "recv",
        TASK_STATE_STOPPED => "stopped",
        TASK_STATE_KILLED => "killed",
        TASK_STATE_EXITED => "exited",
        _ => "?",
    }
}

pub const PS_HEADER: &str = "TID NAME STATE PRIO CH PAGES TICKS RESTARTS";

/// One `ps` row, in the header's column order, single-space separated.
/// `restarts`: how often init restarted a supervised task's program
/// (INIT_STATUS); `-` for a task init does not supervise.
pub fn ps_row(w: &mut impl Write, t: &KsTaskInfo, restarts: Option<u32>) -> fmt::Result {
    write!(
        w,
        "{} {} {} {} {} {} {} ",
        t.tid,
        name_str(&t.name),
        state_name(t.state),
        t.prio,
        t.channels,
        t.pages,
        t.cpu_ticks
    )?;
    match restarts {
        Some(n) => write!(w, "{}", n),
        None => w.write_str("-"),
    }
}

/// Pages to KiB.
pub fn kib(pages: u64, page_size: u64) -> u64 {
    pages.saturating_mul(page_size) / 1024
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn states() {
        assert_eq!(state_name(TASK_STATE_RUNNABLE), "run");
        assert_eq!(state_name(TASK_STATE_BLOCKED_RECV), "recv");
        assert_eq!(state_name(TASK_STATE_EXITED), "exited");
        assert_eq!(state_name(77), "?");
    }

    #[test]
    fn row() {
        let mut name = [0u8; 32];
        name[..5].copy_from_slice(b"shell");
        let t = KsTaskInfo { tid: 6, state: 3, prio: 3, channels: 4, pages: 30, cpu_ticks: 2, name };
        let mut s = String::new();
        ps_row(&mut s, &t, Some(2)).unwrap();
        assert_eq!(s, "6 shell recv 3 4 30 2 2");
        assert_eq!(s.split(' ').count(), PS_HEADER.split(' ').count());
        s.clear();
        ps_row(&mut s, &t, None).unwrap();
        assert_eq!(s, "6 shell recv 3 4 30 2 -");
    }

    #[test]
    fn kib_conversion() {
        assert_eq!(kib(3, 4096), 12);
        assert_eq!(kib(u64::MAX, 4096), u64::MAX / 1024);
    }
}
