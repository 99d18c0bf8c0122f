"""Shared by the packaging tests: running commands, reading the binary's
help (the reference the man pages and the completion are checked against),
and a small checker that reports every failure before exiting."""

import argparse
import os
import re
import subprocess
import sys

# Options main() takes before the command; a command's help may mention
# them ("--profile before the command") without taking them itself.
GLOBAL_OPTIONS = {"--config", "--profile", "--verbose", "--quiet",
                  "--log-format", "--version", "--help"}


def arguments(description, extra=()):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--evident", required=True, help="the built binary")
    p.add_argument("--source", required=True, help="the source tree")
    p.add_argument("--build", required=True, help="the build directory")
    p.add_argument("--workdir", required=True, help="scratch space")
    p.add_argument("--config-keys", help="the config_keys tool")
    for args, kwargs in extra:
        p.add_argument(*args, **kwargs)
    return p.parse_args()


def run(cmd, check=True, env=None, cwd=None, stdin=None):
    """Runs cmd, returning (exit status, stdout, stderr) as text."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, cwd=cwd, input=stdin, text=True)
    if check and r.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s%s" % (
            r.returncode, " ".join(cmd), r.stdout, r.stderr))
    return r.returncode, r.stdout, r.stderr


def need(*tools):
    """Fails with the missing Debian tool named, rather than skipping."""
    missing = [t for t in tools
               if not any(os.access(os.path.join(d, t), os.X_OK)
                          for d in os.environ.get("PATH", "").split(":"))]
    if missing:
        raise SystemExit("missing tools: %s (packaging/install-deps.sh)"
                         % " ".join(missing))


def commands(evident):
    """The commands `evident --help` lists."""
    _, out, _ = run([evident, "--help"])
    names = []
    listing = False
    for line in out.splitlines():
        if line.startswith("commands:"):
            listing = True
            continue
        if listing:
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s", line)
            if m:
                names.append(m.group(1))
            elif line.strip():
                listing = False
    if not names:
        raise SystemExit("no commands in evident --help:\n" + out)
    return names


def options(text):
    """The long options a help text names."""
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))


def command_help(evident, command):
    _, out, _ = run([evident, command, "--help"])
    return out


def command_options(evident, command):
    """A command's own options: those of the usage lines at the top of its
    --help and those that begin a line (the option list), plus --help.
    Options of other commands or programs its text quotes ("evident verify
    --key", "aws iam create-policy --policy-name") are not its own."""
    lines = command_help(evident, command).splitlines()
    own = set()
    for line in lines:
        if not line.strip():
            break
        own |= options(line)
    for line in lines:
        m = re.match(r"^\s*(--[a-z][a-z0-9-]*)", line)
        if m:
            own.add(m.group(1))
    return (own - GLOBAL_OPTIONS) | {"--help"}


def global_options(evident):
    _, out, _ = run([evident, "--help"])
    usage = out.split("commands:")[0]
    return options(usage) | {"--help"}


def roff_text(path):
    """A roff source as plain words: escapes for hyphens, quotes and fonts
    removed, so "\\-\\-shard" reads "--shard"."""
    with open(path, encoding="utf-8") as f:
        s = f.read()
    s = re.sub(r"\\f[BIRP]", "", s)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\%", "")
    s = s.replace("\\(aq", "'").replace("\\(lq", '"').replace("\\(rq", '"')
    return s


class Checker:
    """Collects failures so one run shows all of them."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
            print("FAIL: " + what, flush=True)
        return ok

    def done(self):
        for f in self.failures:
            print("  failed: " + f)
        print("%s: %d checks passed, %d failed" % (
            self.name, self.passed, len(self.failures)))
        sys.exit(1 if self.failures else 0)
