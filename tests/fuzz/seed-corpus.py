"""Refreshes the fuzz targets' seed corpora from the simulator's real answers.

    /usr/bin/python3 tests/fuzz/seed-corpus.py --evident build/evident

Runs a collection of the demo-org and broken-org scenarios against the simulator (the bodies
of every answer are kept in the snapshot as observations), provokes error answers in each
protocol's shape with unsigned and badly signed requests, and writes one seed per distinct
(service, action, shape) into tests/fuzz/corpus/<target>/sim-*:

  xml          every XML answer (query, ec2, rest-xml), success and error
  aws_error    error answers, prefixed with the fuzz target's mode byte (0 XML, 1 JSON, 2 JSON
               with the x-amzn-ErrorType header on the first line)
  credreport   the credential reports' CSV, base64-decoded from GetCredentialReport
  http_headers the answers' raw header blocks as the transport receives them
  manifest     the snapshot's manifest.json

Seeds are capped at 64 KiB each so a fuzz run stays fast; the file names are stable, so a
refresh shows in git only where an answer changed.
"""

import argparse
import base64
import glob
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SIM = os.path.join(TOP, "tests", "simulator")
MAX_SEED = 64 * 1024

CONFIG = """[agent]
log_level = error
concurrency = 8
snapshot_dir = {snaps}
signing_key = {key}
[aws]
region = us-east-1
[accounts]
source = organization
role_name = evident-audit
external_id = {external_id}
regions = all
"""


def write_seed(target, name, data):
    if not data:
        return False
    data = data[:MAX_SEED]
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    path = os.path.join(folder, "sim-" + safe)
    with open(path, "wb") as handle:
        handle.write(data)
    return True


def scenario_external_id(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    match = re.search(r'"external_id"\s*:\s*"([^"]+)"', text)
    return match.group(1) if match else "evident-demo-7d1f"


def collect(evident, scenario, work):
    """Runs `evident collect` against a fresh simulator; returns the snapshot dir."""
    snaps = os.path.join(work, "snaps")
    key = os.path.join(work, "seed.key")
    ini = os.path.join(work, "seed.ini")
    if not os.path.exists(key):
        subprocess.run([evident, "keygen", "--out", key], check=True,
                       stdout=subprocess.DEVNULL)
    with open(ini, "w", encoding="utf-8") as handle:
        handle.write(CONFIG.format(snaps=snaps, key=key,
                                   external_id=scenario_external_id(scenario)))
    probe = os.path.join(work, "provoke.sh")
    with open(probe, "w", encoding="utf-8") as handle:
        handle.write('"$1" --config "$2" collect >/dev/null 2>&1\n'
                     '/usr/bin/python3 "$3" --provoke "$4"\n')
    subprocess.run(["sh", os.path.join(SIM, "run-with-sim"), scenario, "--", "sh", probe,
                    evident, ini, os.path.abspath(__file__), work], check=False)
    found = sorted(glob.glob(os.path.join(snaps, "*", "manifest.json")))
    if not found:
        sys.exit(f"seed-corpus: no snapshot from {scenario}")
    return os.path.dirname(found[-1])


def from_snapshot(snapshot, tag):
    counts = {}
    seen = set()

    def add(target, name, data):
        if write_seed(target, name, data):
            counts[target] = counts.get(target, 0) + 1

    with open(os.path.join(snapshot, "manifest.json"), "rb") as handle:
        add("manifest", f"{tag}-manifest.json", handle.read())
    for part in sorted(glob.glob(os.path.join(snapshot, "accounts", "*.json"))):
        with open(part, encoding="utf-8") as handle:
            doc = json.load(handle)
        for obs in doc.get("observations", []):
            body = obs.get("body") or {}
            if body.get("encoding") != "text" or not body.get("data"):
                continue
            data = body["data"].encode("utf-8")
            shape = "error" if obs.get("error_code") else "ok"
            key = (obs["service"], obs["action"], shape)
            if key in seen:
                continue
            seen.add(key)
            name = f"{tag}-{obs['service']}-{obs['action']}-{shape}"
            if data.lstrip().startswith(b"<"):
                add("xml", name, data)
                if shape == "error":
                    add("aws_error", name, b"\x00" + data)
            elif shape == "error":
                add("aws_error", name, b"\x01" + data)
            if obs["action"] == "GetCredentialReport" and shape == "ok":
                content = ET.fromstring(data).find(".//{*}Content")
                if content is not None and content.text:
                    add("credreport", f"{tag}-report.csv", base64.b64decode(content.text))
    return counts


def provoke(work):
    """Run inside run-with-sim: error answers and raw headers straight from the simulator."""
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    ca = os.environ.get("AWS_CA_BUNDLE")
    host = endpoint.split("://", 1)[1].rstrip("/")
    context = ssl.create_default_context(cafile=ca)
    requests = [
        ("iam", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
         b"Action=ListUsers&Version=2010-05-08"),
        ("ec2", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
         b"Action=DescribeInstances&Version=2016-11-15"),
        ("cloudtrail", "POST", "/", {"Content-Type": "application/x-amz-json-1.1",
                                     "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101."
                                                     "CloudTrail_20131101.DescribeTrails"}, b"{}"),
        ("config", "POST", "/", {"Content-Type": "application/x-amz-json-1.1",
                                 "X-Amz-Target": "StarlingDoveService.DescribeConfigRules"}, b"{}"),
        ("lambda", "GET", "/2015-03-31/functions/", {}, b""),
        ("s3", "GET", "/some-bucket?location", {}, b""),
        ("sts", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
         b"Action=GetCallerIdentity&Version=2011-06-15"),
    ]
    out = os.path.join(work, "provoked")
    os.makedirs(out, exist_ok=True)
    for service, method, path, headers, body in requests:
        conn = http.client.HTTPSConnection(host, context=context, timeout=10)
        sent = dict(headers)
        sent["Authorization"] = ("AWS4-HMAC-SHA256 Credential=AKIAFUZZSEED0000/20250101/"
                                 f"us-east-1/{service}/aws4_request, SignedHeaders=host, "
                                 "Signature=" + "0" * 64)
        sent["X-Amz-Date"] = "20250101T000000Z"
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        data = resp.read()
        raw = [f"HTTP/1.1 {resp.status} {resp.reason}\r\n".encode()]
        raw += [f"{k}: {v}\r\n".encode() for k, v in resp.getheaders()]
        raw.append(b"\r\n")
        with open(os.path.join(out, f"{service}.headers"), "wb") as handle:
            handle.write(b"".join(raw))
        error_type = resp.getheader("x-amzn-ErrorType")
        with open(os.path.join(out, f"{service}.body"), "wb") as handle:
            if data.lstrip().startswith(b"<"):
                handle.write(b"\x00" + data)
            elif error_type:
                handle.write(b"\x02" + error_type.encode() + b"\n" + data)
            else:
                handle.write(b"\x01" + data)
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evident", help="the evident binary")
    parser.add_argument("--scenario", action="append",
                        help="scenario files (default: demo-org and broken-org)")
    parser.add_argument("--provoke", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.provoke:
        provoke(args.provoke)
        return 0
    if not args.evident:
        parser.error("--evident is required")
    scenarios = args.scenario or [os.path.join(SIM, "scenarios", "demo-org.json"),
                                  os.path.join(SIM, "scenarios", "broken-org.json")]
    totals = {}
    for scenario in scenarios:
        tag = os.path.splitext(os.path.basename(scenario))[0]
        work = tempfile.mkdtemp(prefix="evident-seed.")
        try:
            snapshot = collect(os.path.abspath(args.evident), scenario, work)
            for target, n in from_snapshot(snapshot, tag).items():
                totals[target] = totals.get(target, 0) + n
            provoked = os.path.join(work, "provoked")
            for path in sorted(glob.glob(os.path.join(provoked, "*"))):
                name, kind = os.path.splitext(os.path.basename(path))
                with open(path, "rb") as handle:
                    data = handle.read()
                target = "http_headers" if kind == ".headers" else "aws_error"
                if write_seed(target, f"{tag}-unsigned-{name}", data):
                    totals[target] = totals.get(target, 0) + 1
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for target in sorted(totals):
        print(f"seed-corpus: {target}: {totals[target]} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
