"""The HTTPS endpoint and the request pipeline every AWS call goes through.

route -> verify signature -> faults -> region enabled -> permission -> throttle -> parse
input -> handler -> serialise -> log. Each step that refuses answers in the service's own
protocol error shape (protocols.py).
"""

import datetime
import json
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import uuid
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sim import protocols, sigv4verify
from sim.protocols import Answer, make_error, serialize_error, serialize_output
from sim.router import RouteError
from sim.scenario import matches
from sim.services import ApiError, Call, Response

MAX_BODY = 64 * 1024 * 1024
UTC = datetime.timezone.utc


class Request:
    """What arrived: method, raw path and query, headers (email.message.Message), body."""

    def __init__(self, method, target, headers, body):
        self.method = method
        self.path, _, self.query_string = target.partition("?")
        self.headers = headers
        self.body = body
        self.host = headers.get("host", "")
        self.labels = {}


class Outcome:
    def __init__(self, answer, service=None, action=None, account=None, region=None,
                 fault=None):
        self.answer = answer
        self.service = service
        self.action = action
        self.account = account
        self.region = region
        self.fault = fault


class Pipeline:
    def __init__(self, world, router, faults, throttle):
        self.world = world
        self.router = router
        self.faults = faults
        self.throttle = throttle

    def handle(self, req, request_id):
        try:
            route = self.router.route(req)
        except RouteError as exc:
            return Outcome(serialize_error(exc.service, exc.error, request_id,
                                           None if exc.service else "query"))
        service = route.service
        outcome = Outcome(None, service.model_name, route.action, None, route.region)
        try:
            outcome.answer = self._serve(req, route, request_id, outcome)
        except ApiError as err:
            outcome.answer = serialize_error(service, err, request_id)
        except Exception:  # a bug in a handler must answer 500, not drop the connection
            traceback.print_exc(file=sys.stderr)
            outcome.answer = serialize_error(service, make_error(service, "internal"), request_id)
        return outcome

    def _serve(self, req, route, request_id, outcome):
        service, action = route.service, route.action
        req.labels = route.labels
        identity = None
        if route.cred is not None:
            identity = sigv4verify.verify(self.world, service, req, route.cred)
            outcome.account = identity.account.id
        plan = self.faults.plan(service.model_name, action, outcome.account, route.region)
        if plan.delay:
            time.sleep(plan.delay)
        if plan.rule is not None:
            outcome.fault = plan.rule
            self._early_fault(plan.rule, service, identity)
        if identity is not None:
            self._authorize(service, action, identity, route.region)
        if not self.throttle.admit(outcome.account or "anonymous", route.region,
                                   service, action):
            err = make_error(service, "throttle")
            if service.protocol == "rest-json":
                err.headers["Retry-After"] = "1"
            raise err
        op = service.model.operation_model(action)
        params = protocols.parse_input(service, op, req)
        call = Call(self.world, service, action, params, req.body, req.headers,
                    identity.principal if identity else None,
                    identity.account if identity else None, route.region, request_id,
                    self.world.now())
        result = service.handlers[action](call)
        if call.account is not None:
            outcome.account = call.account.id
        if isinstance(result, Response):
            return Answer(result.status, list(result.headers.items()), result.body)
        return serialize_output(service, op, result, request_id)

    def _early_fault(self, rule, service, identity):
        kind = rule.kind
        if kind == "throttle":
            raise make_error(service, "throttle")
        if kind == "error":
            spec = rule.spec
            if "code" in spec:
                raise ApiError(spec["code"], spec.get("message"), spec.get("status", 500))
            raise make_error(service, "unavailable" if spec.get("status") == 503 else "internal")
        if kind == "expire_token" and identity is not None and identity.session is not None:
            self.world.expire_sessions(access_key_id=identity.session.access_key_id)
            raise make_error(service, "expired_token")

    def _authorize(self, service, action, identity, region):
        account = identity.account
        if service.regional and not account.region_enabled(region):
            err = make_error(service, "region_disabled")
            if err.message:
                err.message = err.message.format(account=account.id, region=region)
            raise err
        if action in service.no_permission_actions:
            return
        permission = f"{service.iam_prefix}:{action}"
        if not identity.principal.permitted(account, permission):
            err = make_error(service, "access_denied")
            if err.message is None:
                scp = not account.is_management and matches(account.deny, permission)
                err.message = (f"User: {identity.principal.arn} is not authorized to perform: "
                               f"{permission} on resource: {_resource(service, account, region)}"
                               + (" with an explicit deny in a service control policy"
                                  if scp else ""))
            raise err


def _resource(service, account, region):
    if service.regional:
        return f"arn:aws:{service.iam_prefix}:{region}:{account.id}:*"
    return f"arn:aws:{service.iam_prefix}::{account.id}:*"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonWebServices"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def date_time_string(self, timestamp=None):
        # Every answer carries the simulator's (possibly shifted) clock: clients correct
        # their skew from this header.
        return format_datetime(self.server.world.now(), usegmt=True)

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def _read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("content-length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def _serve(self):
        started = time.monotonic()
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(Answer(400, [("Content-Type", "text/plain")], b"bad request body\n"))
            return
        if self.path.startswith("/__sim/"):
            self._send(self.server.control(self.command, self.path, body))
            return
        req = Request(self.command, self.path, self.headers, body)
        request_id = str(uuid.uuid4())
        outcome = self.server.pipeline.handle(req, request_id)
        fault = outcome.fault.kind if outcome.fault else None
        try:
            self._send(outcome.answer, fault, outcome.fault)
        finally:
            self.server.log.write(
                time=datetime.datetime.now(UTC).isoformat(timespec="milliseconds"),
                account=outcome.account, region=outcome.region, service=outcome.service,
                action=outcome.action, status=outcome.answer.status,
                latency_ms=round((time.monotonic() - started) * 1000, 1),
                request_id=request_id, **({"fault": fault} if fault else {}))

    def _send(self, answer, fault=None, rule=None):
        body = answer.body
        headers = list(answer.headers)
        if fault == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if fault == "malformed":
            body = body[:len(body) // 2] + b"<<\x00{\"garbage"
        if fault == "content_type":
            if rule.spec.get("keep_body"):
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            else:
                headers = [(k, v) for k, v in headers if k.lower() == "x-amzn-requestid"]
                body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            headers.append(("Content-Type", "text/html"))
        if answer.status in (204, 304):
            # No body may follow these statuses: a stray one would be read as the next
            # answer on a kept-alive connection.
            body = b""
        self.send_response(answer.status)
        for name, value in headers:
            self.send_header(name, value)
        if answer.status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        if fault == "truncate":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault == "truncate":
            self.wfile.write(body[:len(body) // 2])
        elif fault == "drip":
            step = max(1, int(rule.spec.get("chunk", 16)))
            pause = rule.spec.get("interval_ms", 100) / 1000.0
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(pause)
        else:
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, world, pipeline, log, faults, context, verbose=False):
        super().__init__(address, _Handler)
        self.world = world
        self.pipeline = pipeline
        self.log = log
        self.faults = faults
        self.context = context
        self.verbose = verbose

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so one slow client
        # never holds up accept().
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(request, client_address)
        finally:
            try:
                request.close()
            except OSError:
                pass

    def control(self, method, path, body):
        """The unsigned /__sim/ control endpoints (README)."""
        path = path.partition("?")[0]
        try:
            doc = json.loads(body) if body.strip() else {}
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            return _json_answer(400, {"error": "body must be a JSON object"})
        if path == "/__sim/health":
            return _json_answer(200, {"ok": True})
        if path == "/__sim/faults" and method == "GET":
            return _json_answer(200, {"faults": self.faults.describe()})
        if path == "/__sim/faults" and method == "POST":
            if doc.get("clear"):
                self.faults.clear()
            try:
                self.faults.add(doc.get("faults", []))
            except ValueError as exc:
                return _json_answer(400, {"error": str(exc)})
            return _json_answer(200, {"faults": self.faults.describe()})
        if path == "/__sim/clock" and method == "POST":
            offset = doc.get("offset_seconds")
            if not isinstance(offset, (int, float)):
                return _json_answer(400, {"error": "offset_seconds: a number"})
            self.world.clock_offset = float(offset)
            return _json_answer(200, {"now": self.world.now().isoformat()})
        if path == "/__sim/expire-sessions" and method == "POST":
            self.world.expire_sessions(doc.get("account"))
            return _json_answer(200, {"ok": True})
        return _json_answer(404, {"error": f"no control endpoint {method} {path}"})


def _json_answer(status, doc):
    return Answer(status, [("Content-Type", "application/json")], json.dumps(doc).encode())


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def serve_in_thread(server):
    thread = threading.Thread(target=server.serve_forever, name="https", daemon=True)
    thread.start()
    return thread
