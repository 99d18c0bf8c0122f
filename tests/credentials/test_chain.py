"""The credential provider chain end to end: `evident -v request sts
GetCallerIdentity` with one source configured at a time, against the local AWS
simulator (STS over HTTPS, instance metadata and container credentials over
plain HTTP on loopback). Each case checks who the caller turned out to be, the
source the agent reports, and that no secret or token reaches the output.

Run under tests/simulator/run-with-sim (which exports EV_SIM_DIR):
  run-with-sim SCENARIO -- /usr/bin/python3 test_chain.py --evident BIN --set SET
SET picks the cases the scenario supports:
  chain         tests/simulator/scenarios/credential-chain.json
  imds-v1       tests/credentials/imds-v1.json (token PUT refused: IMDSv1)
  imds-v2-only  tests/credentials/imds-v2-only.json (token PUT refused, no v1)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
EVIDENT = None
SIM_DIR = None
SIM_ENV = {}
ACCOUNT = "123456789012"

# Values the chain-scenario hands out; none may ever be printed.
STATIC_KEY = "AKIACHAINSTATIC00001"
STATIC_SECRET = "cHaInStAtIcSeCrEtKeY000000000000000001"
WEB_TOKEN = ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZXZpZGVudDphZ2VudCJ9"
             ".c2lnbmF0dXJl")
CONTAINER_TOKEN = "container-auth-token-0123456789"
CONTAINER_PATH = "/v2/credentials/evident-task"
SECRETS = (STATIC_SECRET, WEB_TOKEN, CONTAINER_TOKEN)


def read_sim_env():
    env = {}
    with open(os.path.join(SIM_DIR, "env")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                line = line[len("export "):]
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v.strip("'\"")
    return env


def metadata_endpoint():
    with open(os.path.join(SIM_DIR, "metadata-endpoint")) as f:
        return f.read().strip()


class ChainCase(unittest.TestCase):
    """A clean environment per case: only the simulator's endpoint and CA,
    empty shared files, instance metadata off unless a case turns it on."""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="ev-cred-")
        self.config = os.path.join(self.home, "config")
        self.credentials = os.path.join(self.home, "credentials")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "AWS_CONFIG_FILE": self.config,
            "AWS_SHARED_CREDENTIALS_FILE": self.credentials,
            "AWS_ENDPOINT_URL": SIM_ENV["AWS_ENDPOINT_URL"],
            "AWS_CA_BUNDLE": SIM_ENV["AWS_CA_BUNDLE"],
            "AWS_REGION": SIM_ENV.get("AWS_REGION", "us-east-1"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.home, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_evident(self, *global_args, extra_env=None):
        env = dict(self.env)
        env.update(extra_env or {})
        proc = subprocess.run([EVIDENT, "-v", *global_args, "request", "sts",
                               "GetCallerIdentity"],
                              env=env, capture_output=True, text=True, timeout=120)
        for secret in SECRETS:
            self.assertNotIn(secret, proc.stdout, "secret in stdout")
            self.assertNotIn(secret, proc.stderr, "secret in stderr")
        return proc

    def assert_caller(self, proc, arn_prefix, source):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = json.loads(proc.stdout)
        arn = doc["response"]["Arn"]
        self.assertTrue(arn.startswith(arn_prefix), arn)
        self.assertEqual(doc["response"]["Account"], ACCOUNT)
        self.assertIn(f"credentials from {source}\n", proc.stderr)
        return arn

    def assert_fails(self, proc, exit_code, *fragments):
        self.assertEqual(proc.returncode, exit_code, proc.stderr)
        for fragment in fragments:
            self.assertIn(fragment, proc.stderr)


class Chain(ChainCase):
    """tests/simulator/scenarios/credential-chain.json"""

    STATIC_KEYS = (f"aws_access_key_id = {STATIC_KEY}\n"
                   f"aws_secret_access_key = {STATIC_SECRET}\n")
    AUDIT = f"arn:aws:iam::{ACCOUNT}:role/evident-audit"

    def test_environment(self):
        proc = self.run_evident(extra_env={"AWS_ACCESS_KEY_ID": STATIC_KEY,
                                           "AWS_SECRET_ACCESS_KEY": STATIC_SECRET})
        self.assert_caller(proc, f"arn:aws:iam::{ACCOUNT}:user/static", "environment")

    def test_environment_half_set(self):
        proc = self.run_evident(extra_env={"AWS_ACCESS_KEY_ID": STATIC_KEY})
        self.assert_fails(proc, 2, "AWS_SECRET_ACCESS_KEY")

    def test_credentials_file(self):
        self.write("credentials", "[default]\n" + self.STATIC_KEYS)
        proc = self.run_evident()
        self.assert_caller(proc, f"arn:aws:iam::{ACCOUNT}:user/static", "profile default")

    def test_config_file_with_explicit_profile(self):
        self.write("config", "[profile ops]\n" + self.STATIC_KEYS)
        proc = self.run_evident("--profile", "ops",
                                extra_env={"AWS_ACCESS_KEY_ID": "AKIAIGNOREDBYPROFILE1",
                                           "AWS_SECRET_ACCESS_KEY": "ignored"})
        self.assert_caller(proc, f"arn:aws:iam::{ACCOUNT}:user/static", "profile ops")

    def test_assume_role_from_source_profile(self):
        self.write("config", f"[profile audit]\nrole_arn = {self.AUDIT}\n"
                             "source_profile = base\nrole_session_name = chain-test\n"
                             "duration_seconds = 7200\n")
        self.write("credentials", "[base]\n" + self.STATIC_KEYS)
        proc = self.run_evident(extra_env={"AWS_PROFILE": "audit"})
        arn = self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-audit/",
                                 "assume-role audit")
        self.assertTrue(arn.endswith("/chain-test"), arn)

    def test_assume_role_chained_twice(self):
        self.write("config", f"[profile outer]\nrole_arn = {self.AUDIT}\n"
                             "source_profile = inner\nrole_session_name = outer\n"
                             f"[profile inner]\nrole_arn = {self.AUDIT}\n"
                             "source_profile = base\nrole_session_name = inner\n"
                             "[profile base]\n" + self.STATIC_KEYS)
        proc = self.run_evident("--profile", "outer")
        arn = self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-audit/",
                                 "assume-role outer")
        self.assertTrue(arn.endswith("/outer"), arn)

    def test_assume_role_duration_over_role_maximum(self):
        self.write("config", f"[profile audit]\nrole_arn = {self.AUDIT}\n"
                             "source_profile = base\nduration_seconds = 7201\n"
                             "[profile base]\n" + self.STATIC_KEYS)
        proc = self.run_evident("--profile", "audit")
        self.assert_fails(proc, 3, "ValidationError", "profile audit")

    def test_assume_role_unknown_role_denied(self):
        self.write("config", f"[profile nope]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/absent\n"
                             "source_profile = base\n[profile base]\n" + self.STATIC_KEYS)
        proc = self.run_evident("--profile", "nope")
        self.assert_fails(proc, 3, "AccessDenied")

    def test_assume_role_credential_source_environment(self):
        self.write("config", f"[profile audit]\nrole_arn = {self.AUDIT}\n"
                             "credential_source = Environment\n")
        proc = self.run_evident("--profile", "audit",
                                extra_env={"AWS_ACCESS_KEY_ID": STATIC_KEY,
                                           "AWS_SECRET_ACCESS_KEY": STATIC_SECRET})
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-audit/",
                           "assume-role audit")

    def test_credential_process(self):
        out = self.write("process.json", json.dumps({
            "Version": 1, "AccessKeyId": STATIC_KEY, "SecretAccessKey": STATIC_SECRET}))
        self.write("config", f"[default]\ncredential_process = cat '{out}'\n")
        proc = self.run_evident()
        self.assert_caller(proc, f"arn:aws:iam::{ACCOUNT}:user/static", "process default")

    def test_credential_process_failure(self):
        self.write("config", "[default]\ncredential_process = echo broken >&2; exit 4\n")
        proc = self.run_evident()
        self.assert_fails(proc, 3, "status 4", "broken")

    def web_identity_env(self, token):
        path = self.write("token", token)
        return {"AWS_WEB_IDENTITY_TOKEN_FILE": path,
                "AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/evident-web",
                "AWS_ROLE_SESSION_NAME": "pod-abc"}

    def test_web_identity_from_environment(self):
        proc = self.run_evident(extra_env=self.web_identity_env(WEB_TOKEN + "\n"))
        arn = self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-web/",
                                 "web-identity")
        self.assertTrue(arn.endswith("/pod-abc"), arn)

    def test_web_identity_from_profile(self):
        path = self.write("token", WEB_TOKEN)
        self.write("config", f"[profile wi]\nweb_identity_token_file = {path}\n"
                             f"role_arn = arn:aws:iam::{ACCOUNT}:role/evident-web\n")
        proc = self.run_evident("--profile", "wi")
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-web/",
                           "web-identity")

    def test_web_identity_bad_token(self):
        proc = self.run_evident(extra_env=self.web_identity_env("eyJ.not-the-token.sig"))
        self.assert_fails(proc, 3, "InvalidIdentityToken")

    def container_env(self, **extra):
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": metadata_endpoint() + CONTAINER_PATH}
        env.update(extra)
        return env

    def test_container_with_token(self):
        proc = self.run_evident(extra_env=self.container_env(
            AWS_CONTAINER_AUTHORIZATION_TOKEN=CONTAINER_TOKEN))
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-task/",
                           "container")

    def test_container_with_token_file(self):
        path = self.write("auth", CONTAINER_TOKEN + "\n")
        proc = self.run_evident(extra_env=self.container_env(
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=path))
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-task/",
                           "container")

    def test_container_wrong_token(self):
        proc = self.run_evident(extra_env=self.container_env(
            AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong-token"))
        self.assert_fails(proc, 3, "HTTP 401")

    def imds_env(self, **extra):
        env = {"AWS_EC2_METADATA_DISABLED": "false",
               "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata_endpoint()}
        env.update(extra)
        return env

    def test_instance_metadata_v2(self):
        proc = self.run_evident(extra_env=self.imds_env())
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-instance/",
                           "imds")

    def test_assume_role_credential_source_instance_metadata(self):
        self.write("config", f"[default]\nrole_arn = {self.AUDIT}\n"
                             "credential_source = Ec2InstanceMetadata\n")
        proc = self.run_evident(extra_env=self.imds_env())
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-audit/",
                           "assume-role default")

    def test_assume_role_credential_source_container(self):
        self.write("config", f"[default]\nrole_arn = {self.AUDIT}\n"
                             "credential_source = EcsContainer\n")
        proc = self.run_evident(extra_env=self.container_env(
            AWS_CONTAINER_AUTHORIZATION_TOKEN=CONTAINER_TOKEN))
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-audit/",
                           "assume-role default")

    def test_nothing_configured(self):
        proc = self.run_evident()
        self.assert_fails(proc, 2, "no credentials")


class ImdsV1(ChainCase):
    """tests/credentials/imds-v1.json: the token PUT is refused (403), v1 GETs work."""

    def test_falls_back_to_v1(self):
        proc = self.run_evident(extra_env={
            "AWS_EC2_METADATA_DISABLED": "false",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata_endpoint()})
        self.assert_caller(proc, f"arn:aws:sts::{ACCOUNT}:assumed-role/evident-instance/", "imds")

    def test_v1_disabled_by_the_client(self):
        proc = self.run_evident(extra_env={
            "AWS_EC2_METADATA_DISABLED": "false",
            "AWS_EC2_METADATA_V1_DISABLED": "true",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata_endpoint()})
        self.assert_fails(proc, 3, "IMDSv1 is disabled")


class ImdsV2Only(ChainCase):
    """tests/credentials/imds-v2-only.json: the token PUT is refused and the
    instance does not answer v1 either."""

    def test_v1_refused_is_an_error(self):
        proc = self.run_evident(extra_env={
            "AWS_EC2_METADATA_DISABLED": "false",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata_endpoint()})
        self.assert_fails(proc, 3, "HTTP 401")


SETS = {"chain": Chain, "imds-v1": ImdsV1, "imds-v2-only": ImdsV2Only}


def main():
    global EVIDENT, SIM_DIR, SIM_ENV
    parser = argparse.ArgumentParser()
    parser.add_argument("--evident", required=True)
    parser.add_argument("--set", choices=sorted(SETS), required=True)
    args = parser.parse_args()
    EVIDENT = os.path.abspath(args.evident)
    SIM_DIR = os.environ.get("EV_SIM_DIR")
    if not SIM_DIR:
        sys.exit("test_chain.py: EV_SIM_DIR is not set; run it under tests/simulator/run-with-sim")
    SIM_ENV = read_sim_env()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(SETS[args.set])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
