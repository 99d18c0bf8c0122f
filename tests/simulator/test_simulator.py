#!/usr/bin/python3
"""The simulator's own tests: real AWS clients (boto3 and the Debian awscli) against it.

If botocore's parsers accept every answer and see the scenario's data, the simulator speaks
the real wire formats. Run: /usr/bin/python3 tests/simulator/test_simulator.py [-v]
"""

import csv
import ctypes
import io
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import botocore.awsrequest
import botocore.exceptions
import botocore.handlers
import botocore.parsers
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
SIMULATOR = os.path.join(HERE, "simulator.py")
SCENARIOS = os.path.join(HERE, "scenarios")
AWS_CLI = "/usr/bin/aws"
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5,
                  read_timeout=10)

DEMO_MGMT, DEMO_PROD, DEMO_SANDBOX, DEMO_SUSPENDED = \
    "111122223333", "444455556666", "777788889999", "222233334444"
DEMO_EXTERNAL_ID = "evident-demo-7d1f"


def _die_with_parent():
    """In the child: SIGTERM when the test process dies, so no simulator outlives a killed run."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Sim:
    """A running simulator process on one scenario (a file path or a dict)."""

    def __init__(self, scenario, clock_offset=None):
        self.dir = tempfile.mkdtemp(prefix="evident-simtest.")
        if isinstance(scenario, dict):
            path = os.path.join(self.dir, "scenario.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(scenario, handle)
            scenario = path
        self.state = os.path.join(self.dir, "state")
        args = [sys.executable, SIMULATOR, "--scenario", scenario, "--state-dir", self.state]
        if clock_offset is not None:
            args += ["--clock-offset", str(clock_offset)]
        started = time.monotonic()
        self.log = open(os.path.join(self.dir, "stderr"), "w+", encoding="utf-8")
        self.proc = subprocess.Popen(args, stderr=self.log, preexec_fn=_die_with_parent)
        while not os.path.exists(os.path.join(self.state, "ready")):
            if self.proc.poll() is not None or time.monotonic() - started > 10:
                self.log.seek(0)
                raise RuntimeError(f"simulator did not start: {self.log.read()}")
            time.sleep(0.02)
        self.startup = time.monotonic() - started
        self.endpoint = self._read("endpoint")
        self.metadata = self._read("metadata-endpoint")
        self.ca = os.path.join(self.state, "ca.pem")
        self.env = {}
        for line in self._read("env").splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            self.env[name] = value

    def _read(self, name):
        with open(os.path.join(self.state, name), encoding="utf-8") as handle:
            return handle.read().strip()

    def client(self, service, key=None, secret=None, token=None, region=None, config=NO_RETRY):
        if region is None:
            region = "us-east-1" if service in ("iam", "organizations") else \
                self.env["AWS_REGION"]
        return boto3.session.Session().client(
            service, region_name=region, endpoint_url=self.endpoint, verify=self.ca,
            aws_access_key_id=key or self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret or self.env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=token, config=config)

    def requests(self):
        with open(os.path.join(self.state, "requests.jsonl"), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]

    def wait_requests(self, predicate, count, timeout=3.0):
        """The log lines matching `predicate`, once there are `count` (a line is written
        just after its answer is sent, so a client can be a moment ahead of the log)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.requests() if predicate(r)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def control(self, path, doc):
        context = ssl.create_default_context(cafile=self.ca)
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(doc).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, context=context, timeout=5) as resp:
            return json.loads(resp.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def error_of(exc_info):
    err = exc_info.exception.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], \
        err["Error"].get("Message", "")


def raw_query(sim, service, action, params, key, secret, region="us-east-1", version=None):
    """A query-protocol call built and signed by botocore by hand (for operations the Debian
    model lacks); returns (status, parsed XML root)."""
    body = {"Action": action, "Version": version or "2010-05-08", **params}
    req = AWSRequest(method="POST", url=sim.endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
    prepared = req.prepare()
    context = ssl.create_default_context(cafile=sim.ca)
    http_req = urllib.request.Request(prepared.url, data=prepared.body.encode(), method="POST",
                                      headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(http_req, context=context, timeout=5) as resp:
            return resp.status, ET.fromstring(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, ET.fromstring(exc.read())


DEMO = SINGLE = CHAIN = None


def setUpModule():
    global DEMO, SINGLE, CHAIN
    DEMO = Sim(os.path.join(SCENARIOS, "demo-org.json"))
    SINGLE = Sim(os.path.join(SCENARIOS, "single-account.json"))
    CHAIN = Sim(os.path.join(SCENARIOS, "credential-chain.json"))
    print(f"\nstartup: demo-org {DEMO.startup:.2f}s, single-account {SINGLE.startup:.2f}s, "
          f"credential-chain {CHAIN.startup:.2f}s", file=sys.stderr)


def tearDownModule():
    for sim in (DEMO, SINGLE, CHAIN):
        if sim is not None:
            sim.stop()


class StateFiles(unittest.TestCase):
    def test_state_files_and_env(self):
        self.assertTrue(DEMO.endpoint.startswith("https://127.0.0.1:"))
        self.assertTrue(DEMO.metadata.startswith("http://127.0.0.1:"))
        self.assertEqual(DEMO.env["AWS_ACCESS_KEY_ID"], "AKIAEVIDENTDEMO00001")
        self.assertEqual(DEMO.env["AWS_ENDPOINT_URL"], DEMO.endpoint)
        self.assertEqual(DEMO.env["AWS_CA_BUNDLE"], DEMO.ca)
        self.assertEqual(DEMO.env["AWS_REGION"], "eu-west-1")
        with open(DEMO.ca, encoding="ascii") as handle:
            self.assertIn("BEGIN CERTIFICATE", handle.read())

    def test_startup_time(self):
        # Printed for the record; only a gross regression fails.
        self.assertLess(DEMO.startup, 5.0)

    def test_responses_carry_simulator_date(self):
        context = ssl.create_default_context(cafile=DEMO.ca)
        with urllib.request.urlopen(DEMO.endpoint + "/__sim/health", context=context) as resp:
            self.assertTrue(resp.headers["Date"].endswith("GMT"))


class AwsCli(unittest.TestCase):
    """The Debian awscli parses the answers (a second, independent client build)."""

    def aws(self, sim, *args, region=None):
        env = {"PATH": "/usr/bin:/bin", "HOME": sim.dir, "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
               "AWS_ACCESS_KEY_ID": sim.env["AWS_ACCESS_KEY_ID"],
               "AWS_SECRET_ACCESS_KEY": sim.env["AWS_SECRET_ACCESS_KEY"],
               "AWS_REGION": region or sim.env["AWS_REGION"], "AWS_PAGER": ""}
        out = subprocess.run([AWS_CLI, "--endpoint-url", sim.endpoint, "--ca-bundle", sim.ca,
                              "--output", "json", *args], env=env, capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout) if out.stdout.strip() else None

    def test_cli_calls(self):
        ident = self.aws(DEMO, "sts", "get-caller-identity")
        self.assertEqual(ident["Arn"], "arn:aws:iam::111122223333:user/evident")
        accounts = self.aws(DEMO, "organizations", "list-accounts", region="us-east-1")
        self.assertEqual(sorted(a["Id"] for a in accounts["Accounts"]),
                         sorted([DEMO_MGMT, DEMO_PROD, DEMO_SANDBOX, DEMO_SUSPENDED]))
        users = self.aws(SINGLE, "iam", "list-users", region="us-east-1")
        self.assertEqual([u["UserName"] for u in users["Users"]],
                         ["alice", "bob", "carol", "dave", "evident-auditor"])
        summary = self.aws(SINGLE, "iam", "get-account-summary", region="us-east-1")
        self.assertEqual(summary["SummaryMap"]["AccountMFAEnabled"], 1)
        mfa = self.aws(SINGLE, "iam", "list-virtual-mfa-devices", region="us-east-1")
        self.assertIn("arn:aws:iam::111122223333:root",
                      [d.get("User", {}).get("Arn") for d in mfa["VirtualMFADevices"]])
        role = self.aws(DEMO, "sts", "assume-role", "--role-arn",
                        f"arn:aws:iam::{DEMO_PROD}:role/evident-audit", "--role-session-name",
                        "cli", "--external-id", DEMO_EXTERNAL_ID)
        self.assertTrue(role["Credentials"]["AccessKeyId"].startswith("ASIA"))


class Sts(unittest.TestCase):
    def test_get_caller_identity_user(self):
        ident = SINGLE.client("sts").get_caller_identity()
        self.assertEqual(ident["Account"], "111122223333")
        self.assertEqual(ident["Arn"], "arn:aws:iam::111122223333:user/evident-auditor")
        self.assertTrue(ident["UserId"].startswith("AIDA"))

    def assume(self, account=DEMO_PROD, external_id=DEMO_EXTERNAL_ID, **extra):
        kwargs = {"RoleArn": f"arn:aws:iam::{account}:role/evident-audit",
                  "RoleSessionName": "evident-test", **extra}
        if external_id is not None:
            kwargs["ExternalId"] = external_id
        return DEMO.client("sts").assume_role(**kwargs)

    def test_assume_role_lands_in_member_account(self):
        creds = self.assume()["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        self.assertGreater(len(creds["SessionToken"]), 1024)
        keys = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        ident = DEMO.client("sts", *keys).get_caller_identity()
        self.assertEqual(ident["Account"], DEMO_PROD)
        self.assertEqual(ident["Arn"],
                         f"arn:aws:sts::{DEMO_PROD}:assumed-role/evident-audit/evident-test")
        users = DEMO.client("iam", *keys).list_users(MaxItems=100)["Users"]
        self.assertEqual({u["UserName"] for u in users}, {"deployer", "ops"})
        logged = [r for r in DEMO.requests() if r["action"] == "ListUsers" and r["status"] == 200]
        self.assertEqual(logged[-1]["account"], DEMO_PROD)

    def test_temporary_credentials_need_their_token(self):
        creds = self.assume()["Credentials"]
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            DEMO.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"]).get_caller_identity()
        self.assertEqual(error_of(ctx)[:2], ("InvalidClientTokenId", 403))

    def test_wrong_or_missing_external_id_is_access_denied(self):
        for external_id in ("wrong-id", None):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                self.assume(external_id=external_id)
            code, status, message = error_of(ctx)
            self.assertEqual((code, status), ("AccessDenied", 403))
            self.assertIn("is not authorized to perform: sts:AssumeRole", message)

    def test_suspended_account_and_unknown_role_are_access_denied(self):
        for account in (DEMO_SUSPENDED, "999999999999"):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                self.assume(account=account)
            self.assertEqual(error_of(ctx)[:2], ("AccessDenied", 403))

    def test_duration_over_role_maximum_is_validation_error(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.assume(account=DEMO_SANDBOX, DurationSeconds=7200)
        code, status, message = error_of(ctx)
        self.assertEqual((code, status), ("ValidationError", 400))
        self.assertIn("MaxSessionDuration", message)
        # Production allows 7200 s.
        self.assertIn("Credentials", self.assume(DurationSeconds=7200))

    def test_region_not_enabled(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            DEMO.client("sts", region="af-south-1").get_caller_identity()
        self.assertEqual(error_of(ctx)[:2], ("RegionDisabledException", 403))
        creds = self.assume()["Credentials"]
        ident = DEMO.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"],
                            creds["SessionToken"], region="af-south-1").get_caller_identity()
        self.assertEqual(ident["Account"], DEMO_PROD)   # Production opted in to af-south-1

    def test_assume_role_with_web_identity(self):
        client = CHAIN.client("sts")
        client.meta.events.register("choose-signer.sts.*", botocore.handlers.disable_signing)
        arn = "arn:aws:iam::123456789012:role/evident-web"
        with open(os.path.join(SCENARIOS, "credential-chain.json"), encoding="utf-8") as handle:
            token = json.load(handle)["accounts"][0]["roles"][0]["trust"]["web_identity_token"]
        out = client.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="pod",
                                                   WebIdentityToken=token)
        creds = out["Credentials"]
        ident = CHAIN.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"],
                             creds["SessionToken"]).get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:sts::123456789012:assumed-role/evident-web/pod")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="pod",
                                                 WebIdentityToken="not-the-token")
        self.assertEqual(error_of(ctx)[:2], ("InvalidIdentityToken", 400))


class Signatures(unittest.TestCase):
    def test_wrong_secret(self):
        for service in ("sts", "iam"):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                client = DEMO.client(service, secret="x" * 40)
                client.get_caller_identity() if service == "sts" else client.list_users()
            self.assertEqual(error_of(ctx)[:2], ("SignatureDoesNotMatch", 403))
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            DEMO.client("organizations", secret="x" * 40).list_accounts()
        self.assertEqual(error_of(ctx)[:2], ("InvalidSignatureException", 400))

    def test_unknown_key(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            DEMO.client("sts", key="AKIAUNKNOWN000000000").get_caller_identity()
        self.assertEqual(error_of(ctx)[:2], ("InvalidClientTokenId", 403))
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            DEMO.client("organizations", key="AKIAUNKNOWN000000000").list_accounts()
        self.assertEqual(error_of(ctx)[:2], ("UnrecognizedClientException", 400))

    def test_inventory_key_without_secret_cannot_sign(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            SINGLE.client("sts", key="AKIAALICE00000000001").get_caller_identity()
        self.assertEqual(error_of(ctx)[:2], ("InvalidClientTokenId", 403))

    def test_global_service_wants_us_east_1_scope(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            DEMO.client("iam", region="eu-west-1").list_users()
        self.assertEqual(error_of(ctx)[:2], ("SignatureDoesNotMatch", 403))

    def test_clock_skew(self):
        sim = Sim(os.path.join(SCENARIOS, "demo-org.json"), clock_offset=3600)
        try:
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                sim.client("sts").get_caller_identity()
            code, status, message = error_of(ctx)
            self.assertEqual((code, status), ("SignatureDoesNotMatch", 403))
            self.assertIn("Signature expired", message)
            date = ctx.exception.response["ResponseMetadata"]["HTTPHeaders"]["date"]
            skew = time.mktime(time.strptime(date, "%a, %d %b %Y %H:%M:%S GMT")) - \
                time.mktime(time.gmtime())
            self.assertAlmostEqual(skew, 3600, delta=60)
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                sim.client("organizations").list_accounts()
            self.assertEqual(error_of(ctx)[:2], ("InvalidSignatureException", 400))
            sim.control("/__sim/clock", {"offset_seconds": 0})
            self.assertEqual(sim.client("sts").get_caller_identity()["Account"], DEMO_MGMT)
        finally:
            sim.stop()

    def test_incomplete_authorization(self):
        context = ssl.create_default_context(cafile=DEMO.ca)
        req = urllib.request.Request(
            DEMO.endpoint + "/", method="POST",
            data=b"Action=GetCallerIdentity&Version=2011-06-15",
            headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEVIDENTDEMO00001/"
                                      "20250301/us-east-1/sts/aws4_request"})
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, context=context, timeout=5)
        self.assertEqual(ctx.exception.code, 400)
        body = ctx.exception.read()
        self.assertIn(b"<Code>IncompleteSignature</Code>", body)
        self.assertIn(b"https://sts.amazonaws.com/doc/2011-06-15/", body)

    def test_missing_authorization(self):
        context = ssl.create_default_context(cafile=DEMO.ca)
        req = urllib.request.Request(DEMO.endpoint + "/", method="POST",
                                     data=b"Action=GetCallerIdentity&Version=2011-06-15")
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, context=context, timeout=5)
        self.assertEqual(ctx.exception.code, 403)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", ctx.exception.read())


class Organizations(unittest.TestCase):
    def test_list_accounts_pages(self):
        client = DEMO.client("organizations")
        raw = []
        # Account.State is newer than the Debian model, so botocore drops it: read the body.
        client.meta.events.register("after-call.organizations.ListAccounts",
                                    lambda http_response, **_: raw.append(
                                        json.loads(http_response.content)))
        pages, token, seen = 0, None, []
        while True:
            out = client.list_accounts(**({"NextToken": token} if token else {}))
            pages += 1
            seen += out["Accounts"]
            token = out.get("NextToken")
            if not token:
                break
        self.assertGreater(pages, 1)
        ids = [a["Id"] for a in seen]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(set(ids), {DEMO_MGMT, DEMO_PROD, DEMO_SANDBOX, DEMO_SUSPENDED})
        by_id = {a["Id"]: a for a in seen}
        self.assertEqual(by_id[DEMO_SUSPENDED]["Status"], "SUSPENDED")
        states = {a["Id"]: a["State"] for page in raw for a in page["Accounts"]}
        self.assertEqual(states[DEMO_SUSPENDED], "SUSPENDED")
        self.assertEqual(states[DEMO_PROD], "ACTIVE")
        self.assertEqual(by_id[DEMO_MGMT]["Arn"],
                         f"arn:aws:organizations::{DEMO_MGMT}:account/o-a1b2c3d4e5/{DEMO_MGMT}")
        self.assertLess(by_id[DEMO_MGMT]["JoinedTimestamp"].year, 2030)

    def test_member_and_standalone_accounts_refused(self):
        creds = DEMO.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{DEMO_PROD}:role/evident-audit", RoleSessionName="member",
            ExternalId=DEMO_EXTERNAL_ID)["Credentials"]
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            DEMO.client("organizations", creds["AccessKeyId"], creds["SecretAccessKey"],
                        creds["SessionToken"]).list_accounts()
        self.assertEqual(error_of(ctx)[:2], ("AccessDeniedException", 400))
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            SINGLE.client("organizations").list_accounts()
        self.assertEqual(error_of(ctx)[:2], ("AWSOrganizationsNotInUseException", 400))

    def test_tampered_token_is_invalid_input(self):
        client = DEMO.client("organizations")
        token = client.list_accounts()["NextToken"]
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.list_accounts(NextToken=token[:-4] + "AAAA")
        self.assertEqual(error_of(ctx)[:2], ("InvalidInputException", 400))


class Iam(unittest.TestCase):
    def test_list_users_paginates_exactly_once(self):
        client = SINGLE.client("iam")
        first = client.list_users()
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(len(first["Users"]), 2)
        names = []
        for page in client.get_paginator("list_users").paginate():
            names += [u["UserName"] for u in page["Users"]]
        self.assertEqual(names, ["alice", "bob", "carol", "dave", "evident-auditor"])
        alice = first["Users"][0]
        self.assertIn("PasswordLastUsed", alice)
        self.assertNotIn("PasswordLastUsed", first["Users"][1])   # bob never used his
        service = [u["UserName"] for u in client.list_users(PathPrefix="/service/")["Users"]]
        self.assertEqual(service, ["carol"])

    def test_account_summary(self):
        summary = SINGLE.client("iam").get_account_summary()["SummaryMap"]
        self.assertEqual(summary["Users"], 5)
        self.assertEqual(summary["AccountMFAEnabled"], 1)
        self.assertEqual(summary["AccountAccessKeysPresent"], 0)
        sandbox = self.member_client(DEMO_SANDBOX).get_account_summary()["SummaryMap"]
        self.assertEqual(sandbox["AccountMFAEnabled"], 0)
        self.assertEqual(sandbox["AccountAccessKeysPresent"], 1)

    def member_client(self, account):
        creds = DEMO.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/evident-audit", RoleSessionName="iam",
            ExternalId=DEMO_EXTERNAL_ID)["Credentials"]
        return DEMO.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                           creds["SessionToken"])

    def test_credential_report_state_machine(self):
        sim = Sim(os.path.join(SCENARIOS, "single-account.json"))
        try:
            client = sim.client("iam")
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                client.get_credential_report()
            self.assertEqual(error_of(ctx)[:2], ("ReportNotPresent", 410))
            self.assertEqual(client.generate_credential_report()["State"], "STARTED")
            self.assertEqual(client.generate_credential_report()["State"], "INPROGRESS")
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                client.get_credential_report()
            self.assertEqual(error_of(ctx)[:2], ("ReportInProgress", 404))
            time.sleep(1.1)
            self.assertEqual(client.generate_credential_report()["State"], "COMPLETE")
            report = client.get_credential_report()
        finally:
            sim.stop()
        self.assertEqual(report["ReportFormat"], "text/csv")
        rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
        header = report["Content"].decode().splitlines()[0].split(",")
        self.assertEqual(len(header), 22)
        by_user = {r["user"]: r for r in rows}
        self.assertEqual(set(by_user), {"<root_account>", "alice", "bob", "carol", "dave",
                                        "evident-auditor"})
        root = by_user["<root_account>"]
        self.assertEqual((root["password_enabled"], root["mfa_active"]), ("not_supported", "true"))
        self.assertEqual(root["access_key_1_active"], "false")
        self.assertEqual(by_user["bob"]["password_last_used"], "no_information")
        self.assertEqual(by_user["bob"]["access_key_1_active"], "false")
        self.assertEqual(by_user["bob"]["access_key_2_active"], "true")
        self.assertEqual(by_user["carol"]["password_enabled"], "false")
        self.assertEqual(by_user["carol"]["access_key_1_last_used_date"], "N/A")
        self.assertEqual(by_user["dave"]["cert_1_active"], "true")
        self.assertTrue(by_user["alice"]["access_key_1_last_rotated"].endswith("+00:00"))

    def test_access_keys_and_last_used(self):
        client = SINGLE.client("iam")
        keys = []
        for page in client.get_paginator("list_access_keys").paginate(UserName="bob"):
            keys += page["AccessKeyMetadata"]
        self.assertEqual([(k["AccessKeyId"], k["Status"]) for k in keys],
                         [("AKIABOB0000000000001", "Inactive"), ("AKIABOB0000000000002", "Active")])
        own = client.list_access_keys()["AccessKeyMetadata"]
        self.assertEqual([k["UserName"] for k in own], ["evident-auditor"])
        used = client.get_access_key_last_used(AccessKeyId="AKIAALICE00000000001")
        self.assertEqual(used["UserName"], "alice")
        self.assertEqual(used["AccessKeyLastUsed"]["ServiceName"], "s3")
        never = client.get_access_key_last_used(AccessKeyId="AKIACAROL00000000001")
        self.assertNotIn("LastUsedDate", never["AccessKeyLastUsed"])
        self.assertEqual(never["AccessKeyLastUsed"]["Region"], "N/A")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.list_access_keys(UserName="nobody")
        self.assertEqual(error_of(ctx)[:2], ("NoSuchEntity", 404))

    def test_role_sessions_must_name_the_user(self):
        client = self.member_client(DEMO_PROD)
        for call in (client.list_access_keys, client.list_mfa_devices):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                call()
            self.assertEqual(error_of(ctx)[:2], ("ValidationError", 400))
        keys = client.list_access_keys(UserName="deployer")["AccessKeyMetadata"]
        self.assertEqual(keys[0]["AccessKeyId"], "AKIADEPLOYER00000001")

    def test_mfa_devices(self):
        client = SINGLE.client("iam")
        alice = client.list_mfa_devices(UserName="alice")["MFADevices"]
        self.assertEqual(alice[0]["SerialNumber"], "arn:aws:iam::111122223333:mfa/alice-phone")
        dave = client.list_mfa_devices(UserName="dave")["MFADevices"]
        self.assertEqual(dave[0]["SerialNumber"], "GAHT12345678")
        devices = []
        for page in client.get_paginator("list_virtual_mfa_devices").paginate():
            devices += page["VirtualMFADevices"]
        root = [d for d in devices if d.get("User", {}).get("Arn") ==
                "arn:aws:iam::111122223333:root"]
        self.assertEqual(len(root), 1)
        self.assertNotIn("UserName", root[0]["User"])
        self.assertEqual(len(devices), 3)     # root, alice, and one unassigned
        assigned = client.list_virtual_mfa_devices(AssignmentStatus="Assigned")
        self.assertTrue(all("User" in d for d in assigned["VirtualMFADevices"]))

    def test_authorization_details(self):
        client = SINGLE.client("iam")
        users, roles, groups, policies = [], [], [], []
        pages = 0
        for page in client.get_paginator("get_account_authorization_details").paginate():
            pages += 1
            users += page["UserDetailList"]
            roles += page["RoleDetailList"]
            groups += page["GroupDetailList"]
            policies += page["Policies"]
        self.assertGreater(pages, 3)
        self.assertEqual(len(users), 5)
        bob = next(u for u in users if u["UserName"] == "bob")
        self.assertEqual(bob["AttachedManagedPolicies"][0]["PolicyName"], "AdministratorAccess")
        self.assertEqual(groups[0]["GroupName"], "developers")
        deploy = roles[0]
        self.assertEqual(deploy["RolePolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"],
                         "s3:PutObject")       # botocore decoded the URL-encoded JSON
        admin = next(p for p in policies if p["PolicyName"] == "AdministratorAccess")
        self.assertEqual(admin["PolicyVersionList"][0]["Document"]["Statement"][0]["Action"], "*")
        only_roles = client.get_account_authorization_details(Filter=["Role"])
        self.assertEqual(only_roles["UserDetailList"], [])

    def test_list_organizations_features(self):
        key, secret = DEMO.env["AWS_ACCESS_KEY_ID"], DEMO.env["AWS_SECRET_ACCESS_KEY"]
        status, root = raw_query(DEMO, "iam", "ListOrganizationsFeatures", {}, key, secret)
        self.assertEqual(status, 200)
        ns = {"i": "https://iam.amazonaws.com/doc/2010-05-08/"}
        self.assertEqual(root.find("i:ListOrganizationsFeaturesResult/i:OrganizationId", ns).text,
                         "o-a1b2c3d4e5")
        key, secret = SINGLE.env["AWS_ACCESS_KEY_ID"], SINGLE.env["AWS_SECRET_ACCESS_KEY"]
        status, root = raw_query(SINGLE, "iam", "ListOrganizationsFeatures", {}, key, secret)
        self.assertEqual(status, 400)
        self.assertEqual(root.find("i:Error/i:Code", ns).text, "OrganizationNotFoundException")

    def test_missing_required_parameter(self):
        key, secret = SINGLE.env["AWS_ACCESS_KEY_ID"], SINGLE.env["AWS_SECRET_ACCESS_KEY"]
        status, root = raw_query(SINGLE, "iam", "GetAccessKeyLastUsed", {}, key, secret)
        ns = {"i": "https://iam.amazonaws.com/doc/2010-05-08/"}
        self.assertEqual(status, 400)
        self.assertEqual(root.find("i:Error/i:Code", ns).text, "ValidationError")
        self.assertIn("accessKeyId", root.find("i:Error/i:Message", ns).text)


class Permissions(unittest.TestCase):
    SCENARIO = {
        "default_caller": "AKIAPERMISSIONS00001",
        "organization": {"id": "o-perm000000", "management_account": "111111111111"},
        "throttle": {"rates": {"iam:GetAccountSummary": [0.5, 2]}},
        "accounts": [
            {"id": "111111111111",
             "users": [{"name": "limited", "deny": ["iam:ListUsers"],
                        "access_keys": [{"id": "AKIAPERMISSIONS00001",
                                         "secret": "pErMiSsIoNsSeCrEt00000000000000000000001"}]}],
             "roles": [{"name": "audit", "trust": {"principals": ["111111111111"]}}]},
            {"id": "222222222222", "deny": ["iam:List*"],
             "roles": [{"name": "audit", "trust": {"principals": ["111111111111"]}}]},
        ],
    }

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(cls.SCENARIO)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_principal_deny(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.sim.client("iam").list_users()
        code, status, message = error_of(ctx)
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("iam:ListUsers", message)

    def test_scp_style_account_deny(self):
        creds = self.sim.client("sts").assume_role(
            RoleArn="arn:aws:iam::222222222222:role/audit", RoleSessionName="scp-test")["Credentials"]
        client = self.sim.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                                 creds["SessionToken"])
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.list_users()
        code, _, message = error_of(ctx)
        self.assertEqual(code, "AccessDenied")
        self.assertIn("service control policy", message)
        self.assertIn("SummaryMap", client.get_account_summary())

    def test_throttle_bucket(self):
        client = self.sim.client("iam")
        client.get_account_summary()
        client.get_account_summary()
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.get_account_summary()
        self.assertEqual(error_of(ctx)[:2], ("Throttling", 400))


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(os.path.join(SCENARIOS, "single-account.json"))

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.control("/__sim/faults", {"clear": True})

    def inject(self, **rule):
        self.sim.control("/__sim/faults", {"faults": [rule]})

    def test_throttles_in_a_row_then_success(self):
        self.inject(kind="throttle", count=2, match={"service": "sts"})
        client = self.sim.client("sts")
        for _ in range(2):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                client.get_caller_identity()
            self.assertEqual(error_of(ctx)[:2], ("Throttling", 400))
        self.assertIn("Account", client.get_caller_identity())
        retrying = self.sim.client("sts", config=Config(retries={"mode": "standard",
                                                                  "total_max_attempts": 3}))
        self.inject(kind="throttle", count=2, match={"service": "sts"})
        self.assertIn("Account", retrying.get_caller_identity())

    def test_server_errors(self):
        self.inject(kind="error", status=503, count=1, match={"action": "ListUsers"})
        self.inject(kind="error", status=500, count=1, match={"action": "ListUsers"})
        client = self.sim.client("iam")
        for expected in (("ServiceUnavailable", 503), ("InternalFailure", 500)):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                client.list_users()
            self.assertEqual(error_of(ctx)[:2], expected)

    def test_connection_reset_truncation_malformed(self):
        client = self.sim.client("sts")
        self.inject(kind="reset", count=1)
        with self.assertRaises((botocore.exceptions.ConnectionError,
                                botocore.exceptions.HTTPClientError)):
            client.get_caller_identity()
        # urllib3 does not enforce Content-Length, so botocore meets a truncated body as
        # unparsable XML; the simulator's side is checked in the log.
        for kind in ("truncate", "malformed"):
            self.inject(kind=kind, count=1)
            with self.assertRaises((botocore.parsers.ResponseParserError,
                                    botocore.exceptions.ConnectionError,
                                    botocore.exceptions.HTTPClientError)):
                client.get_caller_identity()
        self.assertIn("Account", client.get_caller_identity())
        faults = [r["fault"] for r in self.sim.wait_requests(lambda r: r.get("fault"), 3)]
        self.assertEqual(faults[-3:], ["reset", "truncate", "malformed"])

    def test_wrong_content_type_and_latency_and_drip(self):
        self.inject(kind="content_type", count=1)
        context = ssl.create_default_context(cafile=self.sim.ca)
        status, body, ctype = self.signed_get_caller_identity(context)
        self.assertEqual((status, ctype), (200, "text/html"))
        self.assertIn(b"<html>", body)
        self.inject(kind="latency", ms=300, count=1)
        self.inject(kind="drip", chunk=64, interval_ms=20, count=1)
        started = time.monotonic()
        self.assertIn("Account", self.sim.client("sts").get_caller_identity())
        self.assertGreater(time.monotonic() - started, 0.3)
        drips = self.sim.wait_requests(lambda r: r.get("fault") == "drip", 1)
        self.assertGreater(drips[-1]["latency_ms"], 60)

    def signed_get_caller_identity(self, context):
        req = AWSRequest(method="POST", url=self.sim.endpoint + "/",
                         data={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                         headers={"Content-Type":
                                  "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials(self.sim.env["AWS_ACCESS_KEY_ID"],
                              self.sim.env["AWS_SECRET_ACCESS_KEY"]), "sts",
                  "eu-west-1").add_auth(req)
        prepared = req.prepare()
        http_req = urllib.request.Request(prepared.url, data=prepared.body.encode(), method="POST",
                                          headers=dict(prepared.headers))
        with urllib.request.urlopen(http_req, context=context, timeout=5) as resp:
            return resp.status, resp.read(), resp.headers["Content-Type"]

    def test_expired_token_mid_run(self):
        creds = self.sim.client("sts").assume_role(
            RoleArn="arn:aws:iam::111122223333:role/deploy", RoleSessionName="expiry")["Credentials"]
        client = self.sim.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                                 creds["SessionToken"])
        client.get_account_summary()
        self.inject(kind="expire_token", count=1, after=1, match={"action": "GetAccountSummary"})
        client.get_account_summary()
        for _ in range(2):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                client.get_account_summary()
            self.assertEqual(error_of(ctx)[:2], ("ExpiredToken", 403))

    def test_sessions_expired_from_the_control_endpoint(self):
        creds = self.sim.client("sts").assume_role(
            RoleArn="arn:aws:iam::111122223333:role/deploy", RoleSessionName="expiry")["Credentials"]
        client = self.sim.client("organizations", creds["AccessKeyId"], creds["SecretAccessKey"],
                                 creds["SessionToken"])
        self.sim.control("/__sim/expire-sessions", {})
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.list_accounts()
        self.assertEqual(error_of(ctx)[:2], ("ExpiredTokenException", 400))

    def test_request_log_has_a_line_per_call(self):
        before = len(self.sim.requests())
        client = self.sim.client("sts")
        for _ in range(5):
            client.get_caller_identity()
        lines = self.sim.wait_requests(lambda r: True, before + 5)[before:]
        self.assertEqual(len(lines), 5)
        for line in lines:
            self.assertEqual((line["service"], line["action"], line["status"], line["account"]),
                             ("sts", "GetCallerIdentity", 200, "111122223333"))
            for key in ("time", "region", "latency_ms", "request_id"):
                self.assertIn(key, line)


class Metadata(unittest.TestCase):
    def get(self, path, headers=None, method="GET"):
        req = urllib.request.Request(CHAIN.metadata + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def test_imds_v2_flow_and_v1_fallback(self):
        status, token = self.get("/latest/api/token", method="PUT",
                                 headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(status, 200)
        base = "/latest/meta-data/iam/security-credentials/"
        status, role = self.get(base, {"X-aws-ec2-metadata-token": token})
        self.assertEqual((status, role), (200, "evident-instance"))
        status, body = self.get(base + role, {"X-aws-ec2-metadata-token": token})
        doc = json.loads(body)
        self.assertEqual(doc["Code"], "Success")
        ident = CHAIN.client("sts", doc["AccessKeyId"], doc["SecretAccessKey"],
                             doc["Token"]).get_caller_identity()
        self.assertIn(":assumed-role/evident-instance/", ident["Arn"])
        self.assertEqual(self.get(base, {"X-aws-ec2-metadata-token": "bogus"})[0], 401)
        self.assertEqual(self.get(base), (200, "evident-instance"))     # v1 allowed here
        self.assertEqual(self.get("/latest/api/token", method="PUT")[0], 400)

    def test_container_credentials(self):
        path = "/v2/credentials/evident-task"
        self.assertEqual(self.get(path)[0], 401)
        self.assertEqual(self.get(path, {"Authorization": "wrong"})[0], 401)
        status, body = self.get(path, {"Authorization": "container-auth-token-0123456789"})
        doc = json.loads(body)
        ident = CHAIN.client("sts", doc["AccessKeyId"], doc["SecretAccessKey"],
                             doc["Token"]).get_caller_identity()
        self.assertIn(":assumed-role/evident-task/", ident["Arn"])

    def test_botocore_credential_providers_accept_it(self):
        from botocore.credentials import ContainerProvider, InstanceMetadataProvider
        from botocore.utils import ContainerMetadataFetcher, InstanceMetadataFetcher
        fetcher = InstanceMetadataFetcher(
            timeout=2, num_attempts=1,
            config={"ec2_metadata_service_endpoint": CHAIN.metadata + "/"})
        creds = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
        self.assertTrue(creds.access_key.startswith("ASIA"))
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": CHAIN.metadata + "/v2/credentials/evident-task",
               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token-0123456789"}
        creds = ContainerProvider(environ=env, fetcher=ContainerMetadataFetcher()).load()
        self.assertTrue(creds.access_key.startswith("ASIA"))


class Lifecycle(unittest.TestCase):
    def test_sigterm_stops_it(self):
        sim = Sim(os.path.join(SCENARIOS, "single-account.json"))
        port = int(sim.endpoint.rsplit(":", 1)[1])
        sim.proc.send_signal(signal.SIGTERM)
        self.assertEqual(sim.proc.wait(timeout=10), 0)
        self.assertFalse(os.path.exists(os.path.join(sim.state, "ready")))
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sim.stop()

    def test_run_with_sim(self):
        script = ('test -f "$EV_SIM_DIR/ready" && test -n "$AWS_SECRET_ACCESS_KEY" && '
                  'echo "$EV_SIM_DIR" && exit 7')
        out = subprocess.run([os.path.join(HERE, "run-with-sim"),
                              os.path.join(SCENARIOS, "single-account.json"), "--", "sh", "-c",
                              script], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 7, out.stderr)
        state = out.stdout.strip()
        self.assertTrue(state)
        self.assertFalse(os.path.exists(state))     # stopped and cleaned up

    def test_invalid_scenario_is_refused_with_every_problem(self):
        bad = {"default_caller": "AKIANOPE", "accounts": [
            {"id": "12", "root": {"mfa": "sometimes"}},
            {"id": "123456789012", "users": [{"name": "u", "created": "yesterday"}]}]}
        with self.assertRaises(RuntimeError) as ctx:
            Sim(bad)
        text = str(ctx.exception)
        for fragment in ("accounts[0].id", "accounts[0].root.mfa", "users[0].created",
                         "default_caller"):
            self.assertIn(fragment, text)


class ProtocolUnits(unittest.TestCase):
    """Round-trips through botocore's own serialisers and parsers, without a server."""

    def test_query_and_ec2_input_parsing(self):
        import botocore.serialize
        from sim import protocols
        from sim.services import Service

        class Req:
            method = "POST"
            query_string = ""

        for model, action, params in (
                ("ec2", "DescribeInstances",
                 {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1", "vpc-2"]}],
                  "MaxResults": 5, "NextToken": "a/b+c="}),
                ("rds", "DescribeDBInstances",
                 {"Filters": [{"Name": "engine", "Values": ["mysql"]}], "MaxRecords": 20}),
                ("iam", "ListUsers", {"PathPrefix": "/a/", "MaxItems": 3})):
            service = Service(model)
            op = service.model.operation_model(action)
            serializer = botocore.serialize.create_serializer(service.protocol)
            body = serializer.serialize_to_request(params, op)["body"]
            req = Req()
            req.body = "&".join(f"{k}={__import__('urllib.parse').parse.quote(str(v), safe='')}"
                                for k, v in body.items()).encode()
            self.assertEqual(protocols.parse_input(service, op, req), params)

    def test_output_round_trip_through_botocore_parsers(self):
        import botocore.parsers
        from sim import protocols
        from sim.services import Service
        import datetime
        when = datetime.datetime(2025, 3, 1, 10, 0, tzinfo=datetime.timezone.utc)
        cases = (
            ("ec2", "DescribeRegions", {"Regions": [{"RegionName": "af-south-1",
                                                     "Endpoint": "ec2.af-south-1.amazonaws.com",
                                                     "OptInStatus": "not-opted-in"}]}),
            ("cloudtrail", "DescribeTrails", {"trailList": [{"Name": "t", "IsMultiRegionTrail": True}]}),
            ("lambda", "ListFunctions", {"Functions": [{"FunctionName": "f", "VpcConfig": {
                "SubnetIds": [], "SecurityGroupIds": [], "VpcId": ""}}], "NextMarker": "m"}),
            ("rds", "DescribeDBInstances", {"DBInstances": [{"DBInstanceIdentifier": "db",
                                                             "InstanceCreateTime": when}]}),
            ("s3", "GetObjectLockConfiguration", {"ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {
                    "Mode": "COMPLIANCE", "Days": 400}}}}),
            ("s3", "GetBucketLifecycleConfiguration", {"Rules": [{"ID": "r", "Status": "Enabled",
                                                                  "Filter": {"Prefix": ""},
                                                                  "Expiration": {"Days": 400}}]}),
            ("config", "DescribeConfigurationRecorderStatus", {"ConfigurationRecordersStatus": [
                {"name": "default", "recording": True, "lastStartTime": when}]}),
        )
        for model, action, result in cases:
            service = Service(model)
            op = service.model.operation_model(action)
            answer = protocols.serialize_output(service, op, result, "req-1")
            parser = botocore.parsers.create_parser(service.protocol)
            parsed = parser.parse({"status_code": answer.status, "body": answer.body,
                                   "headers": botocore.awsrequest.HeadersDict(answer.headers)},
                                  op.output_shape)
            parsed.pop("ResponseMetadata", None)
            self.assertEqual(parsed, result, f"{model} {action}")

    def test_rest_routing_tells_shared_templates_apart(self):
        from sim import protocols
        from sim.services import Service
        service = Service("s3")
        for name in ("PutObject", "CopyObject", "GetBucketLifecycle",
                     "GetBucketLifecycleConfiguration", "GetObject"):
            service.action(name)(lambda call: {})
        route = protocols.rest_route
        self.assertEqual(route(service, "PUT", "/b/k/a%20b", set(), {}),
                         ("PutObject", {"Bucket": "b", "Key": "k/a b"}))
        self.assertEqual(route(service, "PUT", "/b/k", set(), {"x-amz-copy-source": "/a/b"})[0],
                         "CopyObject")
        self.assertEqual(route(service, "GET", "/b", {"lifecycle"}, {})[0],
                         "GetBucketLifecycleConfiguration")     # the deprecated one sorts last
        self.assertEqual(route(service, "GET", "/b", set(), {}), (None, None))

    def test_error_shapes_parse(self):
        import botocore.parsers
        from sim import protocols
        from sim.services import ApiError, Service
        for model, action in (("ec2", "DescribeVpcs"), ("lambda", "ListFunctions"),
                              ("s3", "PutObject"), ("cloudtrail", "DescribeTrails"),
                              ("iam", "ListUsers")):
            service = Service(model)
            op = service.model.operation_model(action)
            err = protocols.make_error(service, "access_denied", "no")
            answer = protocols.serialize_error(service, err, "req-2")
            parser = botocore.parsers.create_parser(service.protocol)
            headers = botocore.awsrequest.HeadersDict(answer.headers)
            parsed = parser.parse({"status_code": answer.status, "body": answer.body,
                                   "headers": headers}, op.output_shape)
            self.assertEqual(parsed["Error"]["Code"], err.code, model)
        self.assertIsInstance(err, ApiError)


class _Counting(unittest.TextTestResult):
    pass


if __name__ == "__main__":
    runner = unittest.TextTestRunner(verbosity=2 if "-v" in sys.argv else 1,
                                     resultclass=_Counting)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    started = time.monotonic()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"simulator suite took {time.monotonic() - started:.1f}s")
    print(f"{passed} passed, {failed} failed, {len(result.skipped)} skipped")
    sys.exit(0 if result.wasSuccessful() else 1)
