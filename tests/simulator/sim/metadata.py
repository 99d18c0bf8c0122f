"""Plain-HTTP metadata server: EC2 IMDS (v2 token flow, v1 fallback) and container credentials.

Credentials come from the scenario's `instance_profile` {account, role, imds_v1,
token_put_status, duration} and `container` {account, role, auth_token, path, duration}
entries: sessions issued through the World, so they sign requests exactly like AssumeRole
credentials and land in that role's account.
"""

import datetime
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sim.protocols import iso8601

TOKEN_TTL_MAX = 21600
REFRESH_MARGIN = datetime.timedelta(minutes=15)
CREDS_PREFIX = "/latest/meta-data/iam/security-credentials/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def _answer(self, status, body, content_type="text/plain", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drain(self):
        length = int(self.headers.get("content-length") or 0)
        if 0 < length <= 65536:
            self.rfile.read(length)

    def do_PUT(self):
        self._drain()
        profile = self.server.world.scenario.instance_profile
        if self.path != "/latest/api/token" or profile is None:
            return self._answer(404, "Not Found")
        forced = profile.get("token_put_status")
        if forced:
            return self._answer(int(forced), "Forbidden")
        try:
            ttl = int(self.headers.get("x-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            return self._answer(400, "Bad Request")
        if not 1 <= ttl <= TOKEN_TTL_MAX:
            return self._answer(400, "Bad Request")
        token = self.server.new_token(ttl)
        return self._answer(200, token,
                            headers=[("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))])

    def do_GET(self):
        self._drain()
        container = self.server.world.scenario.container
        if container is not None and self.path == container.get("path", "/v2/credentials/evident"):
            return self._container(container)
        profile = self.server.world.scenario.instance_profile
        if profile is None or not self.path.startswith("/latest/"):
            return self._answer(404, "Not Found")
        token = self.headers.get("x-aws-ec2-metadata-token")
        if token is not None:
            if not self.server.token_valid(token):
                return self._answer(401, "Unauthorized")
        elif not profile.get("imds_v1", True):
            return self._answer(401, "Unauthorized")
        if self.path == CREDS_PREFIX:
            return self._answer(200, profile["role"])
        if self.path == CREDS_PREFIX + profile["role"]:
            session = self.server.credentials("instance_profile", profile)
            doc = {"Code": "Success", "LastUpdated": iso8601(session.issued), "Type": "AWS-HMAC",
                   "AccessKeyId": session.access_key_id, "SecretAccessKey": session.secret,
                   "Token": session.token, "Expiration": iso8601(session.expiration)}
            return self._answer(200, json.dumps(doc, indent=2), "text/plain")
        return self._answer(404, "Not Found")

    def _container(self, container):
        if self.headers.get("authorization") != container["auth_token"]:
            return self._answer(401, json.dumps({"message": "Unauthorized"}), "application/json")
        session = self.server.credentials("container", container)
        doc = {"RoleArn": f"arn:aws:iam::{session.account.id}:role/{session.role['name']}",
               "AccessKeyId": session.access_key_id, "SecretAccessKey": session.secret,
               "Token": session.token, "Expiration": iso8601(session.expiration),
               "AccountId": session.account.id}
        return self._answer(200, json.dumps(doc), "application/json")


class MetadataServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, world, verbose=False):
        super().__init__(address, _Handler)
        self.world = world
        self.verbose = verbose
        self._tokens = {}
        self._lock = threading.Lock()

    def new_token(self, ttl):
        token = secrets.token_urlsafe(40)
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
        return token

    def token_valid(self, token):
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > time.monotonic()

    def credentials(self, source, entry):
        """The source's current session, re-issued when within 15 minutes of expiring."""
        with self.world.lock:
            cache = self.world.state(("metadata", source))
            session = cache.get("session")
            if session is None or session.expiration - self.world.now() < REFRESH_MARGIN:
                account = self.world.account(entry["account"])
                role = account.role(entry["role"])
                name = "i-0123456789abcdef0" if source == "instance_profile" else "ecs-task"
                session = self.world.issue_session(account, role, name,
                                                   entry.get("duration", 21600))
                session.issued = self.world.now()
                cache["session"] = session
            return session
