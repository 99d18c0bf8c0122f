"""The Debian package: `cpack -G DEB` in the build directory, then what
dpkg-deb says of it (fields, dependencies, files with their modes and
owners, conffiles, maintainer scripts), its contents unpacked into a scratch
root with `dpkg -x` (the files are the sources', the binary runs from
there), and the maintainer scripts run against that root with the commands
that would change the system (adduser, chown, systemctl, ...) replaced by
stubs that record how they were called."""

import glob
import gzip
import os
import re
import shutil
import stat
import subprocess

from common import Checker, arguments, need, run

# Every file of the package, with its mode; all owned by root.
FILES = {
    "./usr/bin/evident": "-rwxr-xr-x",
    "./etc/evident/evident.ini": "-rw-r-----",
    "./lib/systemd/system/evident.service": "-rw-r--r--",
    "./lib/systemd/system/evident-snapshot.service": "-rw-r--r--",
    "./lib/systemd/system/evident-snapshot.timer": "-rw-r--r--",
    "./usr/share/evident/controls.json": "-rw-r--r--",
    "./usr/share/man/man1/evident.1.gz": "-rw-r--r--",
    "./usr/share/man/man5/evident.ini.5.gz": "-rw-r--r--",
    "./usr/share/bash-completion/completions/evident": "-rw-r--r--",
    "./usr/share/doc/evident/README.md": "-rw-r--r--",
    "./usr/share/doc/evident/LICENSE": "-rw-r--r--",
}
# Where each packaged file comes from in the source tree (.gz: compressed).
SOURCES = {
    "etc/evident/evident.ini": "config/evident.ini",
    "lib/systemd/system/evident.service": "packaging/systemd/evident.service",
    "lib/systemd/system/evident-snapshot.service":
        "packaging/systemd/evident-snapshot.service",
    "lib/systemd/system/evident-snapshot.timer":
        "packaging/systemd/evident-snapshot.timer",
    "usr/share/evident/controls.json": "config/controls.json",
    "usr/share/man/man1/evident.1.gz": "packaging/man/evident.1",
    "usr/share/man/man5/evident.ini.5.gz": "packaging/man/evident.ini.5",
    "usr/share/bash-completion/completions/evident":
        "packaging/completion/evident.bash",
    "usr/share/doc/evident/README.md": "README.md",
    "usr/share/doc/evident/LICENSE": "LICENSE",
}
DEPENDS = ("adduser", "libc6", "libcurl4", "libssl3", "libjansson4",
           "libexpat1", "libinih1", "zlib1g")
SCRIPTS = ("postinst", "prerm", "postrm")

# Stand-ins for the commands the maintainer scripts use to change the
# system: each appends its name and arguments to $STUB_LOG. getent and
# dpkg-statoverride answer as $STUB_USER_EXISTS and $STUB_OVERRIDE say.
STUBS = {
    "adduser": "", "deluser": "", "delgroup": "", "chown": "",
    "systemctl": "",
    "getent": '[ "$STUB_USER_EXISTS" = 1 ] && exit 0; exit 2',
    "dpkg-statoverride": '[ "$STUB_OVERRIDE" = 1 ] && exit 0; exit 1',
}


def read(path, mode="r"):
    if mode == "rb":
        with open(path, "rb") as f:
            return f.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def control_fields(deb):
    _, out, _ = run(["dpkg-deb", "-f", deb])
    fields = {}
    key = None
    for line in out.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
            continue
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def contents(deb):
    """{path: (mode string, owner/group)} from dpkg-deb -c."""
    _, out, _ = run(["dpkg-deb", "-c", deb])
    files = {}
    for line in out.splitlines():
        parts = line.split(None, 5)
        files[parts[5]] = (parts[0], parts[1])
    return files


def run_script(root, stubs, script, args, user_exists, override=False):
    log = os.path.join(stubs, "log")
    if os.path.exists(log):
        os.unlink(log)
    env = dict(os.environ, DPKG_ROOT=root, STUB_LOG=log,
               PATH=stubs + ":" + os.environ["PATH"],
               STUB_USER_EXISTS="1" if user_exists else "0",
               STUB_OVERRIDE="1" if override else "0")
    r = subprocess.run(["sh", "-e", script] + args, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    calls = read(log).splitlines() if os.path.exists(log) else []
    return r.returncode, calls


def check_scripts(c, scripts, root, workdir):
    stubs = os.path.join(workdir, "stubs")
    os.makedirs(stubs)
    for name, answer in STUBS.items():
        path = os.path.join(stubs, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write('#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\n%s\n' % (
                name, answer))
        os.chmod(path, 0o755)
    ini = os.path.join(root, "etc/evident/evident.ini")
    state = os.path.join(root, "var/lib/evident")
    postinst = os.path.join(scripts, "postinst")
    prerm = os.path.join(scripts, "prerm")
    postrm = os.path.join(scripts, "postrm")

    # First install: the user, the configuration's group and mode, the
    # state directory.
    os.chmod(ini, 0o644)
    rc, calls = run_script(root, stubs, postinst, ["configure", ""], False)
    c.check(rc == 0, "postinst configure exits 0")
    c.check("adduser --system --group --home /var/lib/evident "
            "--no-create-home --quiet evident" in calls,
            "postinst creates the system user: %s" % calls)
    c.check("chown root:evident %s" % ini in calls,
            "postinst gives the configuration to group evident")
    c.check(stat.S_IMODE(os.stat(ini).st_mode) == 0o640,
            "postinst leaves the configuration 0640 (is %o)"
            % stat.S_IMODE(os.stat(ini).st_mode))
    c.check(os.path.isdir(state) and
            stat.S_IMODE(os.stat(state).st_mode) == 0o750 and
            "chown evident:evident %s" % state in calls,
            "postinst makes /var/lib/evident evident:evident 0750")
    c.check(not any(x.startswith("systemctl") for x in calls),
            "postinst into another root leaves systemd alone")

    # Upgrade, the user there, a stat override set by the administrator.
    os.chmod(ini, 0o600)
    rc, calls = run_script(root, stubs, postinst, ["configure", "0.0.9-1"],
                           True, override=True)
    c.check(rc == 0 and not any(x.startswith("adduser") for x in calls),
            "postinst on upgrade does not add the user again: %s" % calls)
    c.check(not any(x.startswith("chown root:evident") for x in calls) and
            stat.S_IMODE(os.stat(ini).st_mode) == 0o600,
            "postinst respects dpkg-statoverride")

    rc, calls = run_script(root, stubs, prerm, ["remove"], True)
    c.check(rc == 0 and any(
        x.startswith("systemctl --root=%s disable" % root) and
        "evident.service" in x and "evident-snapshot.timer" in x
        for x in calls), "prerm remove disables the units: %s" % calls)
    rc, calls = run_script(root, stubs, prerm, ["upgrade", "0.1.0-1"], True)
    c.check(rc == 0 and not calls, "prerm upgrade touches nothing: %s"
            % calls)

    rc, calls = run_script(root, stubs, postrm, ["remove"], True)
    c.check(rc == 0 and not any(x.startswith("deluser") for x in calls),
            "postrm remove keeps the user: %s" % calls)
    rc, calls = run_script(root, stubs, postrm, ["purge"], True)
    c.check(rc == 0 and "deluser --system --quiet evident" in calls,
            "postrm purge removes the user: %s" % calls)
    c.check(os.path.isdir(state), "postrm purge keeps the snapshots")
    rc, calls = run_script(root, stubs, postrm, ["purge"], False)
    c.check(rc == 0 and not any(x.startswith("deluser") for x in calls),
            "postrm purge without the user is quiet: %s" % calls)


def main():
    a = arguments(__doc__)
    need("cpack", "dpkg-deb", "dpkg", "readelf", "man", "sh")
    c = Checker("packaging/deb")
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)

    run(["cpack", "-G", "DEB", "--config",
         os.path.join(a.build, "CPackConfig.cmake"), "-B", a.workdir])
    debs = glob.glob(os.path.join(a.workdir, "*.deb"))
    c.check(len(debs) == 1, "cpack wrote one .deb: %s" % debs)
    deb = debs[0]

    _, version_out, _ = run([a.evident, "--version"])
    version = version_out.split()[-1]
    _, arch, _ = run(["dpkg", "--print-architecture"])
    arch = arch.strip()
    c.check(os.path.basename(deb) == "evident_%s-1_%s.deb" % (version, arch),
            "file name evident_<version>-1_<arch>.deb: " + deb)

    f = control_fields(deb)
    c.check(f.get("Package") == "evident", "Package: evident")
    c.check(f.get("Version") == version + "-1", "Version: %s-1 (is %s)"
            % (version, f.get("Version")))
    c.check(f.get("Architecture") == arch, "Architecture: " + arch)
    c.check(f.get("Section") == "admin" and f.get("Priority") == "optional",
            "Section admin, Priority optional")
    c.check(bool(re.match(r".+ <[^@ ]+@[^> ]+>$", f.get("Maintainer", ""))),
            "Maintainer is 'name <address>'")
    c.check(f.get("Description", "").startswith(
        "evidence collection agent for AWS accounts\n "),
            "Description: a summary line and a long description")
    depends = {d.split()[0] for d in f.get("Depends", "").split(", ")}
    for dep in DEPENDS:
        c.check(dep in depends, "Depends on %s: %s" % (dep, f.get("Depends")))
    c.check(f.get("Recommends") == "ca-certificates",
            "Recommends: ca-certificates (TLS to AWS)")
    c.check("libcurl4-gnutls" not in f.get("Depends", "") and
            "libcurl3" not in f.get("Depends", ""),
            "libcurl4 is the OpenSSL flavour")

    files = contents(deb)
    regular = {p: m for p, (m, _) in files.items() if not m.startswith("d")}
    c.check(set(regular) == set(FILES),
            "the package holds exactly the expected files: extra %s, "
            "missing %s" % (sorted(set(regular) - set(FILES)),
                            sorted(set(FILES) - set(regular))))
    for path, mode in FILES.items():
        c.check(regular.get(path) == mode, "%s %s (is %s)"
                % (path, mode, regular.get(path)))
    c.check(all(o == "root/root" for _, o in files.values()),
            "every entry owned by root/root")
    c.check("./var/lib/evident/" not in files,
            "the state directory is made by postinst and systemd, not "
            "shipped")

    # Control archive: conffiles and the scripts, as in the source.
    control = os.path.join(a.workdir, "control")
    run(["dpkg-deb", "-e", deb, control])
    c.check(read(os.path.join(control, "conffiles")).split() ==
            ["/etc/evident/evident.ini"], "conffiles: /etc/evident/evident.ini")
    for name in SCRIPTS:
        path = os.path.join(control, name)
        c.check(os.path.isfile(path) and read(path) == read(
            os.path.join(a.source, "packaging/debian", name)),
                "%s is packaging/debian/%s" % (name, name))
        c.check(stat.S_IMODE(os.stat(path).st_mode) == 0o755,
                name + " mode 0755")
        rc, _, err = run(["sh", "-n", path], check=False)
        c.check(rc == 0, name + " parses: " + err)
    _, info, _ = run(["dpkg-deb", "-I", deb])
    for name in SCRIPTS + ("conffiles", "md5sums"):
        c.check(re.search(r"\s%s\s" % name, info) is not None,
                "dpkg-deb -I lists " + name)

    # Unpacked: the files are the sources', the binary runs.
    root = os.path.join(a.workdir, "root")
    run(["dpkg", "-x", deb, root])
    for packaged, source in SOURCES.items():
        data = read(os.path.join(root, packaged), "rb")
        if packaged.endswith(".gz"):
            data = gzip.decompress(data)
        c.check(data == read(os.path.join(a.source, source), "rb"),
                "/%s is %s" % (packaged, source))
    binary = os.path.join(root, "usr/bin/evident")
    rc, out, err = run([binary, "--version"], check=False)
    c.check(rc == 0 and out == "evident %s\n" % version,
            "the unpacked evident --version prints 'evident %s' (%r %r)"
            % (version, out, err))
    rc, out, _ = run([binary, "--help"], check=False)
    c.check(rc == 0 and "commands:" in out, "the unpacked evident --help")
    _, sections, _ = run(["readelf", "-S", binary])
    c.check(".debug_info" not in sections, "the packaged binary is stripped")
    for page in ("usr/share/man/man1/evident.1.gz",
                 "usr/share/man/man5/evident.ini.5.gz"):
        rc, out, err = run(["man", "--warnings", "-l",
                            os.path.join(root, page)], check=False,
                           env=dict(os.environ, MANWIDTH="80",
                                    MANPAGER="cat"))
        c.check(rc == 0 and "NAME" in out and not err.strip(),
                "man -l /%s renders: %s" % (page, err))

    check_scripts(c, control, root, a.workdir)
    c.done()


if __name__ == "__main__":
    main()
