#!/usr/bin/env python3
"""Measures pushduty in a pseudo-terminal: time from exec to the first frame, CPU used while
idle, peak RSS. Usage: measure.py BINARY [IDLE_SECONDS] -- ARGS...  (not part of the tests)"""
import fcntl
import os
import select
import struct
import sys
import tempfile
import termios
import time


def main():
    binary = sys.argv[1]
    idle = float(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "--" else 30.0
    args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else ["learn"]
    state = tempfile.mkdtemp()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": state, "TERM": "xterm-256color",
           "PUSHDUTY_STATE_DIR": state + "/state", "PUSHDUTY_CONFIG": "/dev/null"}
    t0 = time.monotonic()
    pid, fd = os.forkpty()
    if pid == 0:
        os.execve(binary, [binary, "--now", "2015-09-08", *args], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    out = b""
    first = None
    while first is None:
        r, _, _ = select.select([fd], [], [], 10)
        if not r:
            sys.exit("no frame within 10 s")
        out += os.read(fd, 65536)
        if b"Checklist" in out:
            first = time.monotonic() - t0

    def cpu_ticks():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def drain(seconds):
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            r, _, _ = select.select([fd], [], [], left)
            if r:
                os.read(fd, 65536)

    drain(0.5)
    before = cpu_ticks()
    drain(idle)
    after = cpu_ticks()
    # Some navigation, to see the peak memory of real use.
    for key in [b"j"] * 16 + [b"\r", b"\x1b"] + [b"k"] * 16 + [b"?", b"\x1b"]:
        os.write(fd, key)
        drain(0.02)
    with open(f"/proc/{pid}/status") as f:
        hwm = next(line for line in f if line.startswith("VmHWM")).split()[1]
    os.write(fd, b"q")
    os.waitpid(pid, 0)
    hz = os.sysconf("SC_CLK_TCK")
    print(f"first frame: {first * 1000:.0f} ms")
    print(f"cpu while idle {idle:.0f} s: {(after - before) / hz * 1000:.0f} ms")
    print(f"peak RSS (VmHWM): {int(hwm) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
