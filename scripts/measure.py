#!/usr/bin/env python3
"""Measures a terminal program in a 120x40 pseudo-terminal (not part of the tests).

    measure.py [options] -- PROGRAM ARGS...

Prints one JSON object (all times from exec):
- first_frame_ms: until the screen shows --marker (default "Checklist");
- filled_ms: until it shows --filled (e.g. a line the git pane prints), if given;
- idle_cpu_s: CPU time (user + system, every thread) over --idle seconds without input;
- key_ms: with --keys N, N presses of --key-seq alternately, each timed from the write to the
  first byte of the redrawn screen (median and worst);
- peak_rss_mib: VmHWM just before quitting, after some navigation (real use's peak).
--env K=V (repeatable) adds to a minimal environment (PATH, TERM, HOME in a temp dir).
"""
import argparse
import fcntl
import json
import os
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time


class Pty:
    def __init__(self, argv, env, cwd):
        self.t0 = time.monotonic()
        self.pid, self.fd = os.forkpty()
        if self.pid == 0:
            if cwd:
                os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.out = b""

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not r:
            return b""
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the program ended: its terminal is gone
            return b""
        self.out += chunk
        # Keep only a tail: markers are short, and the screen is redrawn often.
        self.out = self.out[-262144:]
        return chunk

    def wait_for(self, text, seconds):
        """Milliseconds from exec until `text` appeared, or None."""
        end = time.monotonic() + seconds
        while text not in self.out:
            left = end - time.monotonic()
            if left <= 0 or (not self.read(left) and time.monotonic() >= end):
                return None
        return (time.monotonic() - self.t0) * 1000

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.read(left)
        self.out = b""

    def cpu_ticks(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime of every thread

    def hwm_mib(self):
        with open(f"/proc/{self.pid}/status") as f:
            kb = next(line for line in f if line.startswith("VmHWM")).split()[1]
        return int(kb) / 1024

    def quit(self, keys):
        for k in keys:
            try:
                os.write(self.fd, k.encode())
            except OSError:
                break
            self.drain(0.2)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return
            self.drain(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--marker", default="Checklist")
    ap.add_argument("--filled")
    ap.add_argument("--idle", type=float, default=0.0)
    ap.add_argument("--keys", type=int, default=0)
    ap.add_argument("--key-seq", default="jk", help="keys pressed in turn for --keys")
    ap.add_argument("--nav", default="jjjjjjjjkkkkkkkk", help="keys pressed before the RSS reading")
    ap.add_argument("--quit", default="q", help="keys that quit, in turn")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--cwd")
    ap.add_argument("argv", nargs="+")
    a = ap.parse_args()

    home = tempfile.mkdtemp(prefix="measure-")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "TERM": "xterm-256color",
           "LANG": "C.UTF-8"}
    env.update(kv.split("=", 1) for kv in a.env)
    result = {}
    p = Pty(a.argv, env, a.cwd)
    try:
        result["first_frame_ms"] = p.wait_for(a.marker.encode(), 10)
        if result["first_frame_ms"] is None:
            sys.exit(f"{a.marker!r} never appeared; screen tail: {p.out[-400:]!r}")
        if a.filled:
            result["filled_ms"] = p.wait_for(a.filled.encode(), 10)
        p.drain(1.0)
        if a.idle:
            before = p.cpu_ticks()
            p.drain(a.idle)
            result["idle_cpu_s"] = (p.cpu_ticks() - before) / os.sysconf("SC_CLK_TCK")
            result["idle_s"] = a.idle
        if a.keys:
            lat = []
            for i in range(a.keys):
                t = time.monotonic()
                os.write(p.fd, a.key_seq[i % len(a.key_seq)].encode())
                r, _, _ = select.select([p.fd], [], [], 2)
                if r:
                    lat.append((time.monotonic() - t) * 1000)
                    p.read(0)
                p.drain(0.05)
            lat.sort()
            result["key_presses"] = a.keys
            result["key_answered"] = len(lat)
            if lat:
                result["key_ms_median"] = statistics.median(lat)
                result["key_ms_worst"] = lat[-1]
        for k in a.nav:
            os.write(p.fd, k.encode())
            p.drain(0.02)
        result["peak_rss_mib"] = p.hwm_mib()
    finally:
        p.quit(a.quit)
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
