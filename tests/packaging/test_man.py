"""The man pages evident(1) and evident.ini(5): groff and man find nothing
to warn about, and they keep up with the program. Every command of
`evident --help` has its section in evident(1), naming every option of
`evident COMMAND --help`, and no option the command does not take; every
section and key the configuration parser accepts (its own key table, printed
by config_keys) and every key config/evident.ini shows has its paragraph in
evident.ini(5), which documents no other; every environment variable the
agent reads is in evident(1); the configuration examples of evident.ini(5)
load."""

import os
import re
import shutil

from common import (Checker, arguments, command_help, command_options,
                    commands, global_options, need, options, roff_text, run)


def sections(text, macro):
    """{heading: body} for each .SH or .SS heading of a roff text."""
    out = {}
    parts = re.split(r"^\.%s (.*)$" % macro, text, flags=re.M)
    for i in range(1, len(parts), 2):
        out[parts[i].strip().strip('"')] = parts[i + 1]
    return out


def subsections(text):
    """The .SS parts of a roff text, each ending at the next .SS or .SH."""
    out = {}
    for m in re.finditer(r'^\.SS "?([^"\n]*)"?\n(.*?)(?=^\.S[SH] |\Z)', text,
                         flags=re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out


def documented_keys(text):
    """{(section, key)} from the ".TP" paragraphs of the "[x] SECTION"
    parts of evident.ini(5)."""
    keys = set()
    for heading, body in sections(text, "SH").items():
        m = re.match(r"^\[([a-z0-9_]+)\] SECTION$", heading)
        if not m:
            continue
        for k in re.findall(r"^\.TP\n\.B[IR]? ([a-z_0-9]+)\b", body,
                            flags=re.M):
            keys.add((m.group(1), k))
    return keys


def example_keys(path):
    """{(section, key)} config/evident.ini shows (commented out or not),
    and its sections in order."""
    keys, order = set(), []
    section = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\[([a-z0-9_]+)\]\s*$", line)
            if m:
                section = m.group(1)
                order.append(section)
                continue
            m = re.match(r"^[#;]?([a-z][a-z0-9_]*)\s*[=:]", line)
            if m and section:
                keys.add((section, m.group(1)))
    return keys, order


def lint(c, page, workdir):
    rc, out, err = run(["groff", "-man", "-t", "-ww", "-z", page],
                       check=False)
    c.check(rc == 0 and not (out + err).strip(),
            "groff -man -ww: no warnings in %s:\n%s%s" % (page, out, err))
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", LANG="C.UTF-8")
    rc, out, err = run(["man", "--warnings", "-l", page], check=False,
                       env=env)
    c.check(rc == 0 and not err.strip() and "NAME" in out,
            "man --warnings -l: no warnings in %s:\n%s" % (page, err))
    with open(os.path.join(workdir, os.path.basename(page) + ".txt"), "w",
              encoding="utf-8") as f:
        f.write(out)


def check_evident1(c, a, text):
    secs = sections(text, "SH")
    for name in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS",
                 "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"):
        c.check(name in secs, "evident.1 has a %s section" % name)

    documented = {h.split()[0]: (h, body)
                  for h, body in subsections(secs.get("COMMANDS", "")).items()}
    have = commands(a.evident)
    for cmd in have:
        c.check(cmd in documented, "evident.1 documents command " + cmd)
        if cmd not in documented:
            continue
        heading, body = documented[cmd]
        takes = command_options(a.evident, cmd)
        for opt in sorted(takes - {"--help"}):
            c.check(opt in body or opt in heading,
                    "evident.1 %s section names %s" % (cmd, opt))
        # Options the section offers as its own (in .TP tags and the
        # heading) are ones the command takes.
        offered = options(heading) | options(" ".join(
            re.findall(r"^\.TP\n(.*)$", body, flags=re.M)))
        for opt in sorted(offered - takes):
            c.check(False, "evident.1 %s section offers %s, which `evident "
                    "%s --help` does not name" % (cmd, opt, cmd))
        # The command's own synopsis in its help and the heading agree on
        # the positional words too (SERVICE ACTION, DIR, ...).
        usage = command_help(a.evident, cmd).splitlines()[0]
        for word in re.findall(r"\b[A-Z][A-Z_/]*[A-Z]\b", usage):
            c.check(word in heading or word in body,
                    "evident.1 %s section names %s" % (cmd, word))
    for cmd in sorted(set(documented) - set(have)):
        print("NOTE: evident.1 documents '%s', which this binary does not "
              "have yet" % cmd)

    opts = secs.get("OPTIONS", "")
    for opt in sorted(global_options(a.evident)):
        c.check(opt in opts, "evident.1 OPTIONS names " + opt)
    for flag in ("-v", "-q", "-h"):
        c.check(re.search(r"\.BR %s " % re.escape(flag), opts) is not None,
                "evident.1 OPTIONS names " + flag)
    codes = re.findall(r"^\.TP\n\.B (\d)$", secs.get("EXIT STATUS", ""),
                       flags=re.M)
    c.check(codes == ["0", "1", "2", "3", "4"],
            "evident.1 EXIT STATUS lists 0 to 4 (%s)" % codes)

    # Every variable the agent reads by name.
    names = set()
    for d in ("agent", "probes"):
        for f in os.listdir(os.path.join(a.source, d)):
            if f.endswith(".c"):
                with open(os.path.join(a.source, d, f),
                          encoding="utf-8") as src:
                    names |= set(re.findall(r'"((?:AWS|EVIDENT)_[A-Z0-9_]+)"',
                                            src.read()))
    env = secs.get("ENVIRONMENT", "")
    for name in sorted(names):
        c.check(re.search(r"\b%s\b" % name, env) is not None,
                "evident.1 ENVIRONMENT names " + name)
    c.check("AWS_ENDPOINT_URL_" in env,
            "evident.1 ENVIRONMENT names AWS_ENDPOINT_URL_<SERVICE>")


def check_evident_ini5(c, a, text, workdir):
    _, out, _ = run([a.config_keys])
    table = {tuple(l.split()) for l in out.splitlines() if l.strip()}
    c.check(len(table) > 20, "config_keys lists the key table (%d keys)"
            % len(table))
    example_path = os.path.join(a.source, "config/evident.ini")
    shown, order = example_keys(example_path)
    documented = documented_keys(text)
    for section in sorted({s for s, _ in table} | set(order)):
        c.check(re.search(r'^\.SH "\[%s\] SECTION"$' % section, text,
                          flags=re.M) is not None,
                "evident.ini.5 has a [%s] SECTION" % section)
    for key in sorted(table | shown):
        c.check(key in documented, "evident.ini.5 documents [%s] %s" % key)
    for key in sorted(documented - table):
        c.check(False, "evident.ini.5 documents [%s] %s, which the parser "
                "does not accept" % key)
    for key in sorted(shown - table):
        c.check(False, "config/evident.ini shows [%s] %s, which the parser "
                "does not accept" % key)

    with open(example_path, encoding="utf-8") as f:
        variables = set(re.findall(r"\b((?:AWS|EVIDENT)_[A-Z0-9_]+)\b",
                                   f.read()))
    env = sections(text, "SH").get("ENVIRONMENT", "")
    for name in sorted(variables):
        c.check(re.search(r"\b%s\b" % name, env) is not None,
                "evident.ini.5 ENVIRONMENT names " + name)

    # The examples are configurations the agent loads.
    examples = re.findall(r"^\.EX\n(.*?)^\.EE$", text, flags=re.M | re.S)
    c.check(len(examples) >= 2, "evident.ini.5 has examples")
    for i, ex in enumerate(examples):
        path = os.path.join(workdir, "example%d.ini" % i)
        with open(path, "w", encoding="utf-8") as f:
            f.write(ex)
        rc, out, err = run([a.evident, "--config", path, "policy"],
                           check=False)
        c.check(rc == 0, "evident.ini.5 example %d loads: %s" % (i, err))


def main():
    a = arguments(__doc__)
    if not a.config_keys:
        raise SystemExit("--config-keys is required")
    need("groff", "man")
    c = Checker("packaging/man")
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    man1 = os.path.join(a.source, "packaging/man/evident.1")
    man5 = os.path.join(a.source, "packaging/man/evident.ini.5")
    for page in (man1, man5):
        lint(c, page, a.workdir)
    check_evident1(c, a, roff_text(man1))
    check_evident_ini5(c, a, roff_text(man5), a.workdir)
    c.done()


if __name__ == "__main__":
    main()
