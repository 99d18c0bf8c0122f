"""The systemd units: the settings the service depends on, systemd-analyze
verify with no warning, the sandbox's exposure score, the timer's calendar.

The units are verified as `cmake --install` puts them in a scratch root
(DESTDIR), with one change: ExecStart names the scratch root's binary
instead of /usr/bin/evident, because verify insists the command exists and
this machine need not have evident installed. MANPATH points at the scratch
root's man pages, which verify looks up for Documentation=. Everything else
(the hardening, the other commands, the dependencies) is checked as
installed."""

import os
import re
import shutil

from common import Checker, arguments, commands, command_help, need, run

UNITS = ("evident.service", "evident-snapshot.service",
         "evident-snapshot.timer")

# What the service must say, as operators and the daemon rely on it.
HARDENING = {
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "", "AmbientCapabilities": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "yes", "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes", "ProtectClock": "yes",
    "ProtectHostname": "yes", "SystemCallArchitectures": "native",
    "UMask": "0077", "User": "evident", "Group": "evident",
    "StateDirectory": "evident", "ConfigurationDirectory": "evident",
}
SERVICE = {
    "Type": "simple",
    "ExecStart": "/usr/bin/evident --config /etc/evident/evident.ini daemon",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "TimeoutStopSec": "15", "Restart": "on-failure",
    "RestartPreventExitStatus": "2",
}
# Both services log with journald priorities.
LOGGING = {"Environment": "EVIDENT_LOG_FORMAT=journal",
           "EnvironmentFile": "-/etc/default/evident"}
SNAPSHOT = {
    "Type": "oneshot",
    "ExecStart": "/usr/bin/evident --config /etc/evident/evident.ini "
                 "collect --no-progress",
}
TIMER = {
    "OnCalendar": "*-*-* 00/6:00:00", "Persistent": "true",
    "Unit": "evident-snapshot.service",
}
SYSCALL_FILTER = ["@system-service", "~@privileged @resources"]


def parse_unit(path):
    """{section: {key: [values in order]}}; continuation lines joined."""
    sections = {}
    current = None
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            current = sections.setdefault(m.group(1), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def last(unit, section, key):
    values = unit.get(section, {}).get(key)
    return values[-1] if values else None


def check_settings(c, name, unit, section, expected):
    for key, value in expected.items():
        c.check(last(unit, section, key) == value,
                "%s [%s] %s=%r (is %r)" % (name, section, key, value,
                                          last(unit, section, key)))


def main():
    a = arguments(__doc__)
    need("systemd-analyze", "cmake")
    c = Checker("packaging/units")
    shutil.rmtree(a.workdir, ignore_errors=True)
    root = os.path.join(a.workdir, "root")
    env = dict(os.environ, DESTDIR=root)
    run(["cmake", "--install", a.build, "--prefix", "/usr"], env=env)
    unitdir = os.path.join(root, "lib/systemd/system")

    units = {}
    for name in UNITS:
        path = os.path.join(unitdir, name)
        c.check(os.path.isfile(path), "installed: /lib/systemd/system/" + name)
        with open(path, encoding="utf-8") as f, open(
                os.path.join(a.source, "packaging/systemd", name),
                encoding="utf-8") as g:
            c.check(f.read() == g.read(), name + " installed unchanged")
        units[name] = parse_unit(path)

    svc, snap, timer = (units[n] for n in UNITS)
    check_settings(c, "evident.service", svc, "Service", SERVICE)
    check_settings(c, "evident-snapshot.service", snap, "Service", SNAPSHOT)
    for name in ("evident.service", "evident-snapshot.service"):
        check_settings(c, name, units[name], "Service", HARDENING)
        check_settings(c, name, units[name], "Service", LOGGING)
        c.check(units[name]["Service"].get("SystemCallFilter") ==
                SYSCALL_FILTER, name + " SystemCallFilter")
    c.check(last(svc, "Install", "WantedBy") == "multi-user.target",
            "evident.service WantedBy=multi-user.target")
    c.check("Install" not in snap,
            "evident-snapshot.service has no [Install]: the timer starts it")
    check_settings(c, "evident-snapshot.timer", timer, "Timer", TIMER)
    c.check(bool(last(timer, "Timer", "RandomizedDelaySec")),
            "timer has RandomizedDelaySec")
    c.check(last(timer, "Install", "WantedBy") == "timers.target",
            "evident-snapshot.timer WantedBy=timers.target")

    # The calendar fires at 00, 06, 12 and 18 o'clock.
    _, out, _ = run(["systemd-analyze", "calendar", "--iterations=4",
                     TIMER["OnCalendar"]])
    hours = sorted(set(re.findall(r"\b(\d\d):00:00\b", out)))
    c.check(hours == ["00", "06", "12", "18"],
            "calendar fires at 00/06/12/18 (got %s)" % hours)

    # The commands the units run exist in this binary, with the options
    # they pass.
    have = commands(a.evident)
    c.check("collect" in have and "--no-progress" in
            command_help(a.evident, "collect"),
            "evident collect --no-progress exists")
    if "daemon" in have:
        c.check(True, "evident daemon exists")
    else:
        print("NOTE: this binary has no daemon command yet; "
              "evident.service runs it")

    with open(os.path.join(a.source, "agent/config.c"),
              encoding="utf-8") as f:
        c.check('"EVIDENT_LOG_FORMAT"' in f.read(),
                "the agent reads EVIDENT_LOG_FORMAT, which the units set")

    # Verify a copy whose ExecStart names the scratch root's binary.
    verify_dir = os.path.join(a.workdir, "verify")
    os.makedirs(verify_dir)
    binary = os.path.join(root, "usr/bin/evident")
    for name in UNITS:
        with open(os.path.join(unitdir, name), encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(verify_dir, name), "w", encoding="utf-8") as f:
            f.write(text.replace("/usr/bin/evident", binary))
    venv = dict(os.environ, MANPATH=os.path.join(root, "usr/share/man"))
    rc, out, err = run(["systemd-analyze", "verify", "--recursive-errors=yes"]
                       + list(UNITS), check=False, env=venv, cwd=verify_dir)
    c.check(rc == 0 and not out.strip() and not err.strip(),
            "systemd-analyze verify: no warnings (rc %d)\n%s%s" % (rc, out,
                                                                  err))

    # The same verify notices a broken unit, so its silence means something.
    bad = os.path.join(a.workdir, "bad")
    os.makedirs(bad)
    with open(os.path.join(verify_dir, "evident.service"),
              encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(bad, "evident.service"), "w",
              encoding="utf-8") as f:
        f.write(text.replace("ProtectSystem=strict", "ProtectSytem=strict"))
    rc, out, err = run(["systemd-analyze", "verify", "--recursive-errors=yes",
                        "evident.service"], check=False, env=venv, cwd=bad)
    c.check(rc != 0 and "ProtectSytem" in out + err,
            "verify reports a misspelt key (rc %d)" % rc)

    # The sandbox scores 2.0 or less (0 is fully sandboxed, 10 not at all).
    for name in ("evident.service", "evident-snapshot.service"):
        rc, out, err = run(["systemd-analyze", "security", "--offline=yes",
                            "--threshold=20", name], check=False, env=venv,
                           cwd=verify_dir)
        m = re.search(r"Overall exposure level for %s: ([0-9.]+)"
                      % re.escape(name), out + err)
        c.check(rc == 0 and m and float(m.group(1)) <= 2.0,
                "%s exposure <= 2.0 (%s)" % (name,
                                             m.group(1) if m else out + err))
    c.done()


if __name__ == "__main__":
    main()
