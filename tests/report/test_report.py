"""`evident report` and `evident diff` on real snapshots: the simulator's
demo organization collected twice, then its broken organization into the
same snapshot directory (a chain in which much changes). Every format is
checked against the snapshot's own files: json and ocsf parse and count the
findings, csv has one row per finding and no formula, md has the tables,
html has the verdict table in a real headless Chromium. Then diff, a
tampered snapshot and an untrusted key.

Run: /usr/bin/python3 tests/report/test_report.py --evident BIN --workdir DIR
"""

import argparse
import csv
import glob
import html.parser
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOP = os.path.dirname(TESTS)
RUN_WITH_SIM = os.path.join(TESTS, "simulator", "run-with-sim")
SCENARIOS = os.path.join(TESTS, "simulator", "scenarios")
CHROMIUM = os.environ.get("EV_CHROMIUM", "/usr/bin/chromium")
EVIDENT = None
WORKDIR = None


def run(*args, check_rc=None, timeout=300):
    env = dict(os.environ)
    env.pop("EVIDENT_LOG_LEVEL", None)
    r = subprocess.run([EVIDENT] + list(args), capture_output=True,
                       timeout=timeout, env=env)
    if check_rc is not None and r.returncode != check_rc:
        raise AssertionError("evident %s: exit %d, wanted %d\n%s" % (
            " ".join(args), r.returncode, check_rc,
            r.stderr.decode(errors="replace")))
    return r


def external_id(scenario):
    with open(os.path.join(SCENARIOS, scenario)) as f:
        text = f.read()
    key = '"external_id": "'
    at = text.index(key) + len(key)
    return text[at:text.index('"', at)]


def write_config(path, snaps, key, scenario):
    with open(path, "w") as f:
        f.write("[agent]\nlog_level = warn\nconcurrency = 8\n"
                "snapshot_dir = %s\nsigning_key = %s\n\n"
                "[aws]\nregion = us-east-1\n\n"
                "[accounts]\nsource = organization\n"
                "role_name = evident-audit\nexternal_id = %s\n"
                "regions = all\n" % (snaps, key, external_id(scenario)))


def collect(config, scenario):
    env = dict(os.environ)
    env.pop("EVIDENT_LOG_LEVEL", None)
    r = subprocess.run([RUN_WITH_SIM, os.path.join(SCENARIOS, scenario),
                        "--", EVIDENT, "--config", config, "collect",
                        "--no-progress"],
                       capture_output=True, timeout=600, env=env)
    # 0 met, 1 not met, 3 incomplete: each wrote a snapshot.
    if r.returncode not in (0, 1, 3):
        raise AssertionError("collect %s: exit %d\n%s" % (
            scenario, r.returncode, r.stderr.decode(errors="replace")))
    # Snapshot names have a one-second resolution.
    time.sleep(1.1)


def findings_on_disk(snapdir):
    """Every finding of a snapshot, read from its account parts."""
    out = []
    for path in sorted(glob.glob(os.path.join(snapdir, "accounts",
                                              "*.json"))):
        with open(path) as f:
            part = json.load(f)
        for x in part["findings"]:
            out.append((x["probe"], part["account"]["id"],
                        x["region"] or "", x["resource"], x["status"]))
    return out


class DomTables(html.parser.HTMLParser):
    """Rows of the table with id="verdicts" in a DOM dump."""

    def __init__(self):
        super().__init__()
        self.depth = 0  # > 0 inside the verdicts table
        self.in_body = False
        self.rows = []
        self.found = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "verdicts":
            self.found = True
            self.depth = 1
            return
        if not self.depth:
            return
        if tag == "table":
            self.depth += 1
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body and self.depth == 1:
            self.rows.append(attrs.get("data-control"))

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag == "tbody":
            self.in_body = False


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORKDIR, ignore_errors=True)
        os.makedirs(WORKDIR)
        cls.key = os.path.join(WORKDIR, "signing.key")
        cls.snaps = os.path.join(WORKDIR, "snaps")
        run("keygen", "--out", cls.key, check_rc=0)
        cls.demo_ini = os.path.join(WORKDIR, "demo.ini")
        cls.broken_ini = os.path.join(WORKDIR, "broken.ini")
        write_config(cls.demo_ini, cls.snaps, cls.key, "demo-org.json")
        write_config(cls.broken_ini, cls.snaps, cls.key, "broken-org.json")
        collect(cls.demo_ini, "demo-org.json")
        collect(cls.demo_ini, "demo-org.json")
        collect(cls.broken_ini, "broken-org.json")
        cls.names = sorted(n for n in os.listdir(cls.snaps)
                           if not n.startswith("."))
        assert len(cls.names) == 3, cls.names
        cls.head = os.path.join(cls.snaps, cls.names[-1])
        cls.findings = findings_on_disk(cls.head)
        with open(os.path.join(cls.head, "manifest.json")) as f:
            cls.manifest = json.load(f)
        cls.controls = [c["id"] for c in
                        cls.manifest["controls"]["controls"]]

    def report(self, fmt, *extra, snapshot=None, rc=0):
        out = os.path.join(WORKDIR, "report." + fmt)
        r = run("--config", self.demo_ini, "report",
                snapshot or self.snaps, "--format", fmt, "--output", out,
                *extra, check_rc=rc)
        self.assertIn(b"wrote " + out.encode(), r.stderr)
        with open(out, "rb") as f:
            return f.read().decode()

    def test_json(self):
        doc = json.loads(self.report("json"))
        self.assertEqual(doc["snapshot"]["name"], self.names[-1])
        self.assertTrue(doc["verification"]["verified"])
        self.assertTrue(doc["verification"]["trusted_key"])
        self.assertEqual(len(doc["findings"]), len(self.findings))
        self.assertEqual([c["id"] for c in doc["controls"]], self.controls)
        mine = sorted((f["probe"], f["account"], f["region"] or "",
                       f["resource"], f["status"]) for f in doc["findings"])
        self.assertEqual(mine, sorted(self.findings))
        # Verdicts and counts as the manifest recorded them.
        for c, m in zip(doc["controls"], self.manifest["controls"]["controls"]):
            self.assertEqual(c["verdict"], m["verdict"])
            self.assertEqual(c["counts"], m["counts"])
        # The chain: three snapshots in the trend; every open finding of
        # the broken organization is new in the last one.
        self.assertEqual(doc["trend"]["snapshots"], self.names)
        for f in doc["findings"]:
            if f["status"] in ("fail", "error"):
                self.assertEqual(f["first_seen"]["snapshot"], self.names[-1])
                self.assertEqual(f["first_seen"]["bound"], "exact")
            else:
                self.assertIsNone(f["first_seen"])
        self.assertTrue(any(f["evidence"] for f in doc["findings"]))
        for f in doc["findings"]:
            for e in f["evidence"]:
                self.assertRegex(e["response_sha256"] or "0" * 64,
                                 "^[0-9a-f]{64}$")

    def test_first_seen_over_demo_runs(self):
        """The second demo snapshot: its open findings were open in the
        first, the first of the chain."""
        doc = json.loads(self.report(
            "json", snapshot=os.path.join(self.snaps, self.names[1])))
        open_ = [f for f in doc["findings"]
                 if f["status"] in ("fail", "error")]
        self.assertTrue(open_)
        for f in open_:
            self.assertEqual(f["first_seen"]["snapshot"], self.names[0])
            self.assertEqual(f["first_seen"]["bound"], "chain-start")
        self.assertEqual(doc["trend"]["snapshots"], self.names[:2])

    def test_ocsf(self):
        lines = self.report("ocsf").splitlines()
        self.assertEqual(len(lines), len(self.findings))
        uids = set()
        for line in lines:
            e = json.loads(line)
            self.assertEqual(e["class_uid"], 2003)
            self.assertEqual(e["category_uid"], 2)
            self.assertEqual(e["type_uid"], 200300 + e["activity_id"])
            self.assertEqual(e["metadata"]["version"], "1.3.0")
            self.assertEqual(e["metadata"]["product"]["name"], "evident")
            self.assertIsInstance(e["time"], int)
            self.assertTrue(e["compliance"]["standards"])
            self.assertIn(e["compliance"]["status_id"], (1, 2, 3, 99))
            self.assertEqual(e["cloud"]["provider"], "AWS")
            self.assertRegex(e["cloud"]["account"]["uid"], "^[0-9]{12}$")
            self.assertEqual(e["resources"][0]["owner"]["account"]["uid"],
                             e["cloud"]["account"]["uid"])
            uids.add(e["finding_info"]["uid"])
        self.assertEqual(len(uids), len(lines))
        # Stable identity: the same findings of the two demo snapshots
        # carry the same uids.
        a = {json.loads(l)["finding_info"]["uid"] for l in self.report(
            "ocsf", snapshot=os.path.join(self.snaps, self.names[0]))
            .splitlines()}
        b = {json.loads(l)["finding_info"]["uid"] for l in self.report(
            "ocsf", snapshot=os.path.join(self.snaps, self.names[1]))
            .splitlines()}
        self.assertEqual(a, b)
        self.assertFalse(a & uids)

    def test_csv(self):
        text = self.report("csv")
        self.assertTrue(text.startswith(
            "snapshot,account,region,probe,controls,status,resource,"
            "reason,error_code,request_id,first_seen\r\n"))
        rows = list(csv.reader(io.StringIO(text, newline="")))
        self.assertEqual(len(rows) - 1, len(self.findings))
        for row in rows[1:]:
            self.assertEqual(len(row), 11)
            self.assertEqual(row[0], self.names[-1])
            for cell in row:
                self.assertFalse(cell[:1] in ("=", "+", "-", "@"), row)
        got = sorted((r[3], r[1], r[2], r[6], r[5]) for r in rows[1:])
        self.assertEqual(got, sorted(self.findings))

    def test_md(self):
        text = self.report("md")
        self.assertIn("| Control | Title | Verdict |", text)
        for c in self.controls:
            self.assertIn("| " + c + " |", text)
        self.assertIn("## Controls not met", text)
        self.assertIn("signature verified by key sha256:", text)

    def test_html_in_chromium(self):
        page = self.report("html")
        self.assertIn('<table id="verdicts">', page)
        self.assertNotIn("<script", page)
        self.assertNotIn("http://", page.replace(
            "http-equiv", ""))
        if not os.path.exists(CHROMIUM):
            self.skipTest("%s is absent: the Chromium check needs Debian's "
                          "chromium (packaging/install-deps.sh installs "
                          "it)" % CHROMIUM)
        path = os.path.join(WORKDIR, "report.html")
        profile = tempfile.mkdtemp(prefix="ev-chromium-")
        flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-quic", "--no-first-run",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--user-data-dir=" + profile]
        try:
            r = subprocess.run(flags + ["--dump-dom", "file://" + path],
                               capture_output=True, timeout=180)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            dom = DomTables()
            dom.feed(r.stdout.decode(errors="replace"))
            self.assertTrue(dom.found, "no verdicts table in the DOM")
            self.assertEqual(dom.rows, self.controls)
            png = os.path.join(WORKDIR, "report.png")
            r = subprocess.run(flags + ["--screenshot=" + png,
                                        "--window-size=1280,2000",
                                        "file://" + path],
                               capture_output=True, timeout=180)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            with open(png, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def test_default_snapshot_from_config(self):
        r = run("--config", self.demo_ini, "report", "--format", "json",
                check_rc=0)
        self.assertEqual(json.loads(r.stdout)["snapshot"]["name"],
                         self.names[-1])

    def test_diff(self):
        old = os.path.join(self.snaps, self.names[1])
        r = run("--config", self.demo_ini, "diff", old, self.head,
                "--format", "json", check_rc=0)
        d = json.loads(r.stdout)
        self.assertEqual(d["old"]["snapshot"], self.names[1])
        self.assertEqual(d["new"]["snapshot"], self.names[-1])
        self.assertTrue(d["old"]["verified"] and d["new"]["verified"])
        # Another organization: every account left and entered.
        old_accounts = {a for a in glob.glob(os.path.join(
            old, "accounts", "*.json"))}
        self.assertTrue(d["coverage"]["accounts_entered"])
        self.assertTrue(d["coverage"]["accounts_left"])
        self.assertFalse(set(d["coverage"]["accounts_entered"]) &
                         set(d["coverage"]["accounts_left"]))
        self.assertLessEqual(len(d["coverage"]["accounts_left"]),
                             len(old_accounts))
        opened = {(f["probe"], f["account"], f["region"] or "",
                   f["resource"]) for f in d["findings"]["new"]}
        now_open = {f[:4] for f in self.findings
                    if f[4] in ("fail", "error")}
        self.assertEqual(opened, now_open)
        self.assertFalse(d["findings"]["still_open"])
        self.assertTrue(d["findings"]["resolved"])
        self.assertTrue(all(f["now"] is None
                            for f in d["findings"]["resolved"]))
        with open(os.path.join(old, "manifest.json")) as f:
            before = {c["id"]: c["verdict"]
                      for c in json.load(f)["controls"]["controls"]}
        after = {c["id"]: c["verdict"]
                 for c in self.manifest["controls"]["controls"]}
        want = {i: (before.get(i), after.get(i))
                for i in set(before) | set(after)
                if before.get(i) != after.get(i)}
        self.assertTrue(want)
        self.assertEqual({c["id"]: (c["from"], c["to"])
                          for c in d["controls"]}, want)

        # The two demo runs: nothing moved, everything still open.
        r = run("--config", self.demo_ini, "diff",
                os.path.join(self.snaps, self.names[0]), old, check_rc=0)
        text = r.stdout.decode()
        self.assertIn("controls whose verdict moved: 0", text)
        self.assertRegex(text, r"findings: 0 new, 0 resolved, [1-9][0-9]* "
                               r"still open")
        self.assertIn("accounts entered: 0", text)

    def test_tampered(self):
        copy = os.path.join(WORKDIR, "tampered")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self.snaps, copy)
        part = sorted(glob.glob(os.path.join(copy, self.names[-1],
                                             "accounts", "*.json")))[0]
        with open(part, "r+b") as f:
            data = bytearray(f.read())
            data[len(data) // 2] ^= 1
            f.seek(0)
            f.write(data)
        page = self.report("html", snapshot=copy, rc=4)
        self.assertIn("VERIFICATION FAILED", page)
        self.assertIn("part-changed", page)

    def test_untrusted_key(self):
        other = os.path.join(WORKDIR, "other.key")
        if not os.path.exists(other):
            run("keygen", "--out", other, check_rc=0)
        page = self.report("md", "--key", other + ".pub", rc=4)
        self.assertIn("WARNING: this snapshot did not verify", page)
        # No key at all: rendered, with the signer not established.
        r = run("report", self.snaps, "--format", "json", check_rc=0)
        doc = json.loads(r.stdout)
        self.assertTrue(doc["verification"]["verified"])
        self.assertFalse(doc["verification"]["trusted_key"])
        self.assertIn(b"not established", r.stderr)

    def test_usage(self):
        self.assertEqual(run("report", self.snaps, "--format", "pdf")
                         .returncode, 2)
        self.assertEqual(run("diff", self.snaps).returncode, 2)
        self.assertEqual(run("report", os.path.join(WORKDIR, "nowhere"))
                         .returncode, 2)


def main():
    global EVIDENT, WORKDIR
    p = argparse.ArgumentParser()
    p.add_argument("--evident", required=True)
    p.add_argument("--workdir", required=True)
    args, rest = p.parse_known_args()
    EVIDENT = os.path.abspath(args.evident)
    WORKDIR = os.path.abspath(args.workdir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
