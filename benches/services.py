#!/usr/bin/env python3
"""The TUI with live services, measured in a pseudo-terminal (not part of the tests):

1. key to frame while every service hangs: a deploy is running against a Jenkins that accepts
   connections and never answers, the Jenkins pane's poll hangs too; then 60 presses of j/k,
   each timed from the write to the first byte of the redrawn screen;
2. idle CPU over 60 s with every pane polling a Jenkins that answers (no step running).

Usage: benches/services.py [IDLE_SECONDS]   (builds the release binary and the stand-in)
"""
import os
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import fcntl
import termios

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNBOOK = "tests/fixtures/runbooks/valid/deploy.toml"


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "pushduty",
                    "--example", "jenkins_standin"], cwd=ROOT, check=True)
    rel = os.path.join(ROOT, "target", "release")
    return os.path.join(rel, "pushduty"), os.path.join(rel, "examples", "jenkins_standin")


def standin(binary, mode):
    p = subprocess.Popen([binary, mode, "30"], stdout=subprocess.PIPE, text=True)
    return p, p.stdout.readline().strip()


def tui(binary, url):
    state = tempfile.mkdtemp()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": state, "TERM": "xterm-256color",
           "PUSHDUTY_STATE_DIR": state + "/state", "PUSHDUTY_CONFIG": "/dev/null",
           "PUSHDUTY_JENKINS_TOKEN": "t0k", "PUSHDUTY_HTTP_TIMEOUT": "120"}
    args = [binary, "--runbook", RUNBOOK, "--now", "2015-09-08",
            "--set", f"services.stage.url={url}", "--set", "services.stage.user=andym", "run"]
    pid, fd = os.forkpty()
    if pid == 0:
        os.chdir(ROOT)
        os.execve(binary, args, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    wait_for(fd, b"Checklist")
    return pid, fd


def wait_for(fd, text, seconds=10):
    out = b""
    end = time.monotonic() + seconds
    while text not in out:
        r, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
        if not r:
            sys.exit(f"{text!r} never appeared")
        out += os.read(fd, 65536)


def drain(fd, seconds):
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                os.read(fd, 65536)
            except OSError:  # the program ended: its terminal is gone
                return


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def quit(pid, fd, running):
    os.write(fd, b"q")
    if running:  # it asks first
        drain(fd, 0.3)
        os.write(fd, b"y")
    os.waitpid(pid, 0)


def main():
    idle = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    pushduty, standin_bin = build()

    hung, url = standin(standin_bin, "hang")
    pid, fd = tui(pushduty, url)
    os.write(fd, b"\r")
    wait_for(fd, b"Run deploy?")
    os.write(fd, b"y")
    wait_for(fd, b"POST ")
    drain(fd, 1.0)
    latencies = []
    for i in range(60):
        t0 = time.monotonic()
        os.write(fd, b"j" if i % 2 == 0 else b"k")
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            sys.exit("no frame within 5 s of a key")
        latencies.append((time.monotonic() - t0) * 1000)
        drain(fd, 0.05)
    quit(pid, fd, True)
    hung.kill()

    ok, url = standin(standin_bin, "SUCCESS")
    pid, fd = tui(pushduty, url)
    drain(fd, 1.0)
    before = cpu_ticks(pid)
    drain(fd, idle)
    used = (cpu_ticks(pid) - before) / os.sysconf("SC_CLK_TCK")
    quit(pid, fd, False)
    ok.kill()

    latencies.sort()
    print("| measure | value | goal |")
    print("| --- | --- | --- |")
    print(f"| key to frame while Jenkins hangs, median of 60 | {statistics.median(latencies):.2f} ms | < 16 ms |")
    print(f"| key to frame while Jenkins hangs, worst of 60 | {latencies[-1]:.2f} ms | |")
    print(f"| CPU over {idle:.0f} s idle, Jenkins pane polling | {used:.2f} s ({100 * used / idle:.3f}% of a core) | < 0.1% |")


if __name__ == "__main__":
    main()
