#!/usr/bin/env python3
"""pushduty against gitui and the git command line on the big benchmark repository; prints
one table. Run through benches/vs-gitui.sh, which builds and installs what this needs.

    vs_gitui.py PUSHDUTY GITUI WORK_DIR     (environment: RUNS=5 IDLE=60 KEYS=60)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MEASURE = os.path.join(HERE, "..", "scripts", "measure.py")
RUNS = int(os.environ.get("RUNS", "5"))
IDLE = float(os.environ.get("IDLE", "60"))
KEYS = int(os.environ.get("KEYS", "60"))
STATUS_RUNBOOK = os.path.join(HERE, "..", "tests", "fixtures", "runbooks", "valid", "git-push.toml")
# gitui's tab bar, drawn on its first frame.
GITUI_MARKER = "Status [1]"


def standin(mode):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "standins.py"), mode],
                         stdout=subprocess.PIPE, text=True)
    return p, p.stdout.readline().strip()


def measure(argv, *opts, env=(), cwd=None):
    cmd = [sys.executable, MEASURE, *opts]
    for kv in env:
        cmd += ["--env", kv]
    if cwd:
        cmd += ["--cwd", cwd]
    out = subprocess.run(cmd + ["--", *argv], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(argv)}: {out.stderr.strip()}")
    return json.loads(out.stdout)


class Pushduty:
    def __init__(self, binary, work):
        self.binary = binary
        self.tmp = tempfile.mkdtemp(prefix="vs-gitui-")
        self.config = os.path.join(self.tmp, "config.toml")
        with open(self.config, "w") as f:
            f.write(f'[repos.olympia]\npath = "{work}"\n')

    def env(self, config, run):
        return [f"PUSHDUTY_CONFIG={config}", f"PUSHDUTY_STATE_DIR={self.tmp}/state{run}",
                "PUSHDUTY_JENKINS_TOKEN=t0k", "PUSHDUTY_SENTRY_TOKEN=t0k",
                "PUSHDUTY_GITHUB_TOKEN=t0k", "PUSHDUTY_HTTP_TIMEOUT=120"]

    def argv(self, url, command):
        sets = []
        if url:
            for k in ["services.stage-deploy.url", "services.sentry.url",
                      "services.graphite.url", "services.github.api_url"]:
                sets += ["--set", f"{k}={url}"]
            sets += ["--set", "services.stage-deploy.user=andym"]
        return [self.binary, *sets, command]


def spread(values, fmt="{:.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    lo, mid, hi = min(values), statistics.median(values), max(values)
    if len(values) == 1:
        return fmt.format(mid)
    return f"{fmt.format(mid)} ({fmt.format(lo)}-{fmt.format(hi)})"


def timed(argv, cwd, runs, shell=False):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, shell=shell, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
    return times


def main():
    binary, gitui, work = (os.path.abspath(a) if a else a for a in sys.argv[1:4])
    pd = Pushduty(binary, work)
    # The git pane's first line, "olympia master @ SHA ...", cut to the pane's width: nothing
    # else on the first screens shows HEAD's sha. (A marker must have no space: the screen is
    # drawn as a diff, so a blank cell that stays blank is skipped, not written.)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, check=True,
                          capture_output=True, text=True).stdout.strip()
    filled = head[:5]
    ok, ok_url = standin("answer")
    hung, hung_url = standin("hang")
    rows = {}
    try:
        learn = [measure([binary, "learn"], env=pd.env("/dev/null", f"l{i}"))
                 for i in range(RUNS)]
        run = [measure(pd.argv(ok_url, "run"), "--filled", filled, env=pd.env(pd.config, f"r{i}"),
                       cwd=work) for i in range(RUNS)]
        run_idle = measure(pd.argv(ok_url, "run"), "--filled", filled, "--idle", str(IDLE),
                           env=pd.env(pd.config, "idle"), cwd=work)
        run_keys = measure(pd.argv(hung_url, "run"), "--filled", filled, "--keys", str(KEYS),
                           env=pd.env(pd.config, "keys"), cwd=work)
        gi = None
        if gitui:
            gi = [measure([gitui], "--marker", GITUI_MARKER, "--nav", "", cwd=work)
                  for i in range(RUNS)]
            gi_live = measure([gitui], "--marker", GITUI_MARKER, "--idle", str(IDLE), "--keys",
                              str(KEYS), "--key-seq", "\x1b[B\x1b[A", "--nav", "", cwd=work)

        # `status --json` against the git command line doing the same work, interleaved.
        cli = ("t=$(git describe --tags --abbrev=0) && git rev-list --count $t..HEAD"
               " && git status --porcelain && git rev-list --left-right --count HEAD...@{u}")
        # A runbook with the repo and no service: only the git work is compared.
        st_config = os.path.join(pd.tmp, "status.toml")
        with open(st_config, "w") as f:
            f.write(f'[repos.app]\npath = "{work}"\n')
        st_argv = [binary, "--runbook", STATUS_RUNBOOK, "status", "--json"]
        st_env = dict(os.environ, PUSHDUTY_CONFIG=st_config,
                      PUSHDUTY_STATE_DIR=f"{pd.tmp}/state-status")
        pd_times, git_times = [], []
        for _ in range(max(RUNS, 10)):
            t = time.perf_counter()
            subprocess.run(st_argv, env=st_env, check=True, stdout=subprocess.DEVNULL)
            pd_times.append((time.perf_counter() - t) * 1000)
            git_times += timed(cli, work, 1, shell=True)
    finally:
        ok.kill()
        hung.kill()
        shutil.rmtree(pd.tmp, ignore_errors=True)

    def col(results, key, fmt="{:.0f}"):
        return spread([r.get(key) for r in results], fmt) if results else "-"

    def cpu(r):
        if not r or "idle_cpu_s" not in r:
            return "-"
        return f"{r['idle_cpu_s']:.2f} s ({100 * r['idle_cpu_s'] / r['idle_s']:.3f}%)"

    def keys(r):
        if not r or "key_ms_median" not in r:
            return "-"
        return f"{r['key_ms_median']:.1f} / {r['key_ms_worst']:.1f} ({r['key_answered']}/{r['key_presses']})"

    ff_run = statistics.median(r["first_frame_ms"] for r in run)
    ff_learn = statistics.median(r["first_frame_ms"] for r in learn)
    fills = [r["filled_ms"] for r in run if r.get("filled_ms") is not None]
    filled_ms = statistics.median(fills) if fills else None
    rss = max(r["peak_rss_mib"] for r in [*run, run_idle, run_keys])
    ratio = statistics.median(pd_times) / statistics.median(git_times)
    k = run_keys.get("key_ms_median")
    c = run_idle.get("idle_cpu_s", 0) / max(run_idle.get("idle_s", 1), 1)
    met = lambda b: "yes" if b else "NO"  # noqa: E731
    print(f"{RUNS} runs each (median (min-max)), 120x40 pty, idle {IDLE:.0f} s, {KEYS} keys\n")
    print("| measure | pushduty run, big repo | reference | gitui | goal | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| first frame, ms | {col(run, 'first_frame_ms')} | learn, no repo: "
          f"{col(learn, 'first_frame_ms')} | {col(gi, 'first_frame_ms')} | <= learn | "
          f"{met(ff_run <= ff_learn)} |")
    print(f"| git pane filled, ms | {col(run, 'filled_ms')} | - | (loads in the background) "
          f"| < 30 | {met(filled_ms is not None and filled_ms < 30)} |")
    print(f"| peak RSS, MiB | {col([*run, run_idle, run_keys], 'peak_rss_mib', '{:.1f}')} | "
          f"learn: {col(learn, 'peak_rss_mib', '{:.1f}')} | {col(gi, 'peak_rss_mib', '{:.1f}')} "
          f"| < 16 | {met(rss < 16)} |")
    print(f"| CPU over {IDLE:.0f} s idle, every pane polling | {cpu(run_idle)} | - | "
          f"{cpu(gi_live if gitui else None)} | < 0.1% | {met(c < 0.001)} |")
    print(f"| key to frame, ms, median / worst, services hang | {keys(run_keys)} | - | "
          f"{keys(gi_live if gitui else None)} | < 16 | {met(k is not None and k < 16)} |")
    print(f"| `status --json` vs git CLI, ms | {spread(pd_times, '{:.1f}')} | git: "
          f"{spread(git_times, '{:.1f}')} | - | <= 0.5x | {met(ratio <= 0.5)} ({ratio:.2f}x) |")


if __name__ == "__main__":
    main()
