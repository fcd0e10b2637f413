#!/usr/bin/env python3
"""Times `check`, `plan`, `show` and `show --json` on generated runbooks of growing size.

    benches/runbook_size.py BINARY [N ...]      (default N: 1000 10000 100000)

Not a test: the figures go in docs/commands.md. Each runbook has one section per 100 steps
and cycles through manual steps (with outputs), choices, gates and shell steps whose
templates read earlier steps' values, with `after` and `only_if` on some, so every check
that looks back over earlier steps has work to do. Prints one row per N (seconds, wall
clock, one run each; `-` when a command took longer than TIMEOUT=300 seconds).
"""
import os
import subprocess
import sys
import tempfile
import time


def runbook(n):
    out = ['name = "generated"', 'summary = "A runbook made to be measured."', "",
           "[schedule]", "on_demand = true", 'timezone = "UTC"', ""]
    for s in range((n + 99) // 100):
        out += ["[[sections]]", f'id = "s{s}"', f'title = "Section {s}"', ""]
    for i in range(n):
        out += ["[[steps]]", f'id = "step-{i}"', f'section = "s{i // 100}"']
        k = i % 4
        if k == 0:
            out += [f'title = "Note {i}"', 'kind = "manual"', f'outputs = ["v{i}"]']
        elif k == 1:
            out += [f'title = "Pick {i} after {{{{ v{i - 1} }}}}"', 'kind = "choice"',
                    f'var = "c{i}"', 'options = [{ value = "a", label = "A" }, '
                    '{ value = "b", label = "B" }]', f'after = ["step-{i - 1}"]']
        elif k == 2:
            out += [f'title = "Wait {i}"', 'kind = "gate"', 'waits_for = "QA"', 'who = "qa"',
                    f"only_if = \"c{i - 1} == 'a'\""]
        else:
            out += [f'title = "Run {i}"', 'kind = "shell"',
                    f'command = "echo {{{{ v{i - 3} }}}}"', f'after = ["step-{i - 2}"]']
        out += [f'doc = "Step {i} reads {{{{ today }}}}."', ""]
    return "\n".join(out)


def timed(argv, env, limit):
    t = time.monotonic()
    try:
        p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=limit)
    except subprocess.TimeoutExpired:
        return "-"
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {p.stderr.decode(errors='replace')[:2000]}")
    return f"{time.monotonic() - t:.2f}"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    sizes = [int(a) for a in sys.argv[2:]] or [1000, 10000, 100000]
    limit = float(os.environ.get("TIMEOUT", "300"))
    commands = [["check"], ["plan", "--json"], ["show"],
                ["show", "--json"]]
    print("steps\t" + "\t".join(" ".join(c) for c in commands))
    with tempfile.TemporaryDirectory() as d:
        env = {"PATH": os.environ["PATH"], "HOME": d,
               "PUSHDUTY_CONFIG": os.path.join(d, "config.toml"),
               "PUSHDUTY_STATE_DIR": os.path.join(d, "state"), "PUSHDUTY_NOW": "2026-01-05"}
        open(env["PUSHDUTY_CONFIG"], "w").close()
        for n in sizes:
            path = os.path.join(d, f"rb{n}.toml")
            with open(path, "w") as f:
                f.write(runbook(n))
            # `show` reads a session: an ad-hoc item begins one (not timed).
            timed([binary, "--runbook", path, "add", "Begin the session"], env, limit)
            row = [timed([binary, "--runbook", path, *c], env, limit) for c in commands]
            print(f"{n}\t" + "\t".join(row), flush=True)


if __name__ == "__main__":
    main()
