#!/usr/bin/python3
"""Test double of the Heroku Platform API (api.heroku.com) for herokupq's tests.

It imitates the one endpoint herokupq uses, ``GET /apps/{app_id_or_name}/config-vars``,
over real HTTPS (TLS >= 1.2), the way Heroku answers it: the
``Accept: application/vnd.heroku+json; version=3`` requirement, Bearer or Basic
(netrc-style) token auth, Heroku-shaped JSON errors (``{"id": ..., "message": ...}``)
for 401/403/404/406/429, and the ``RateLimit-Remaining`` and ``Request-Id`` headers. Like Heroku's, every 200 answer carries an
``ETag`` (a hash of the config vars), ``If-None-Match`` with it gets ``304 Not Modified`` with
an empty body, the budget is refilled (75 a minute by default) and, when it is spent, the answer
is 429 with ``Retry-After``.

A second server on another port, plain HTTP with no auth and bound to loopback, is the
control plane tests use to: read the recorded API requests (and how many were answered
304), reset them, change config vars, set the rate-limit budget and its refill, inject faults (error statuses, raw bodies, delays,
requests that never get an answer) and rotate the database password the way a Heroku
credential rotation does (ALTER ROLE in PostgreSQL and a new DATABASE_URL, in either
order and with a gap between them).

Python 3.11 standard library only. Binds 127.0.0.1 only. Exits cleanly on SIGTERM.
"""
import argparse
import base64
import hashlib
import math
import http
import json
import os
import secrets
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

HOST = "127.0.0.1"
INITIAL_RATE_LIMIT = 4500
REFILL_PER_MINUTE = 75  # Heroku's: the budget of 4,500 regrows at about 75 a minute
HANG_MAX_SECONDS = 120
JSON_TYPE = "application/json; charset=utf-8"
HEROKU_MEDIA_TYPE = "application/vnd.heroku+json"
ROTATION_ORDERS = ("db-first", "var-first", "together")

ENDPOINT_NOT_FOUND = (
    "The requested API endpoint was not found. Are you using the right HTTP verb "
    "(i.e. `GET` vs. `POST`), and did you specify your API version in the `Accept` header?")
ERRORS = {  # status -> (id, message), as the Heroku Platform API words them
    400: ("bad_request", "Invalid request."),
    401: ("unauthorized", "Invalid credentials provided."),
    403: ("forbidden", "You do not have access to this resource."),
    404: ("not_found", ENDPOINT_NOT_FOUND),
    406: ("not_acceptable", "Please specify a version along with Heroku's API MIME type. "
          "For example, `Accept: application/vnd.heroku+json; version=3`."),
    422: ("invalid_params", "Invalid parameters."),
    429: ("rate_limit", "Your account reached the API rate limit\n"
          "Please wait a few minutes before making new requests"),
    500: ("internal_server_error", "Internal server error."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("unavailable", "The API is temporarily unavailable. Please try again later."),
    504: ("gateway_timeout", "Gateway timeout."),
}


def error_body(status, message=None, **extra):
    """A Heroku-shaped error document for `status`, as JSON text."""
    try:
        fallback = ("error", http.HTTPStatus(status).phrase + ".")
    except ValueError:
        fallback = ("error", "Error.")
    ident, default = ERRORS.get(status, fallback)
    return json.dumps({"id": ident, "message": message or default, **extra})


def accept_ok(header):
    """True when the Accept header asks for Heroku's media type, API version 3."""
    for media_range in (header or "").split(","):
        media_type, *params = (p.strip() for p in media_range.split(";"))
        if media_type.lower() != HEROKU_MEDIA_TYPE:
            continue
        for param in params:
            name, _, value = (s.strip() for s in param.partition("="))
            if name.lower() == "version" and (value == "3" or value.startswith("3.")):
                return True
    return False


def parse_authorization(header):
    """(scheme, token): scheme is "bearer", "basic", "none" or "other"."""
    if not header or not header.strip():
        return "none", None
    scheme, _, credentials = header.strip().partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        return "bearer", credentials or None
    if scheme == "basic":  # netrc style: anything:<token>
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError:
            return "basic", None
        _, sep, password = decoded.partition(":")
        return "basic", (password or None) if sep else None
    return "other", None


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def require(condition, message):
    """Reject a control request with 400 unless `condition` holds."""
    if not condition:
        raise ControlError(400, message)


class State:
    """Everything the two servers share, guarded by one lock."""

    def __init__(self, args, log_file):
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.stop = threading.Event()
        self.log_file = log_file
        self.app, self.app_id = args.app, args.app_id.lower()
        self.token, self.forbidden_token = args.token, args.forbidden_token
        self.pg_admin, self.psql = args.pg_admin, args.psql
        self.vars = dict(args.config_var)
        self.requests = []
        self.remaining = INITIAL_RATE_LIMIT
        self.refill_per_min = REFILL_PER_MINUTE
        self.refilled_at = time.monotonic()
        self.fault = None
        self.rotation = {"done": True}
        self.passwords = []  # every password a config var has held: tests scan logs for them
        self.note_passwords(self.vars)

    def log(self, message):
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with self.log_lock:
            self.log_file.write(f"{stamp} {message}\n")
            self.log_file.flush()

    def token_kind(self, token):
        if token is None:
            return "none"
        if secrets.compare_digest(token.encode(), self.token.encode()):
            return "valid"
        if secrets.compare_digest(token.encode(), self.forbidden_token.encode()):
            return "forbidden"
        return "unknown"

    def refill(self):
        """Grow the budget for the time since the last refill. Caller holds the lock."""
        now = time.monotonic()
        grown = (now - self.refilled_at) * self.refill_per_min / 60
        self.remaining = min(INITIAL_RATE_LIMIT, self.remaining + grown)
        self.refilled_at = now

    def retry_after(self):
        """Seconds until one more request is allowed (Retry-After). Caller holds the lock."""
        if self.refill_per_min <= 0:
            return 60
        return max(1, math.ceil((1 - self.remaining) * 60 / self.refill_per_min))

    def begin_request(self, entry):
        """Record an API request, spend one unit of budget, take the pending fault.

        Returns (remaining budget, Retry-After if the budget was exhausted else None,
        fault or None)."""
        with self.lock:
            self.requests.append(entry)
            self.refill()
            limited = self.retry_after() if self.remaining < 1 else None
            self.remaining = max(0, self.remaining - 1)
            fault = self.fault
            if fault is not None and fault["count"] > 0:
                fault["count"] -= 1
                if fault["count"] == 0:
                    self.fault = None
            return int(self.remaining), limited, (dict(fault) if fault else None)

    def update(self, entry, **fields):
        with self.lock:
            entry.update(fields)

    def get_vars(self):
        with self.lock:
            return dict(self.vars)

    def note_passwords(self, values):
        """Remember the password of every URL among values. Caller holds the lock
        (or is the constructor)."""
        for value in values.values():
            try:
                password = urlsplit(value).password if isinstance(value, str) else None
            except ValueError:
                password = None
            if password and unquote(password) not in self.passwords:
                self.passwords.append(unquote(password))

    def merge_vars(self, changes):
        with self.lock:
            self.note_passwords(changes)
            for name, value in changes.items():
                if value is None:
                    self.vars.pop(name, None)
                else:
                    self.vars[name] = value
            return dict(self.vars)

    def set_rotation(self, **fields):
        with self.lock:
            self.rotation.update(fields)


def parse_config_var(text):
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--config-var wants NAME=VALUE, got {text!r}")
    return name, value


# ---------------------------------------------------------------- servers

class LoopbackServer(ThreadingHTTPServer):
    """Threaded HTTP(S) server on 127.0.0.1; TLS is negotiated in the worker thread,
    so the accepting thread only accepts: a burst of hundreds of clients queues in
    the listen backlog (the kernel caps it at net.core.somaxconn) instead of being
    refused."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, name, port, handler, state, tls=None):
        self.name, self.state, self.tls = name, state, tls
        super().__init__((HOST, port), handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # skips HTTPServer's reverse DNS lookup
        self.server_name, self.server_port = HOST, self.server_address[1]

    def get_request(self):
        # Answers are written whole (see Handler.wbufsize); without TCP_NODELAY a
        # small last segment would still wait for the client's delayed ACK.
        request, client_address = super().get_request()
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return request, client_address

    def finish_request(self, request, client_address):
        if self.tls is None:
            return super().finish_request(request, client_address)
        request.settimeout(10)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except OSError as exc:
            self.state.log(f"{self.name}: TLS handshake with {client_address[0]} failed: {exc}")
            return None
        try:
            return super().finish_request(conn, client_address)
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        self.state.log(f"{self.name}: connection error: {sys.exc_info()[1]!r}")


class Handler(BaseHTTPRequestHandler):
    server_version = "heroku-api-double"
    sys_version = ""
    # A buffered wfile: status line, headers and body leave in one write when
    # handle_one_request flushes (unbuffered, the headers and the body were two
    # writes and the second stalled on Nagle + delayed ACK: ~40 ms per request).
    wbufsize = 256 * 1024

    def log_message(self, fmt, *args):
        self.server.state.log(f"{self.server.name}: {self.address_string()} {fmt % args}")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_body(self, status, text, headers=()):
        """Answer with status, headers and text (None: no body at all, as for a 304)."""
        data = text.encode("utf-8") if text is not None else None
        self.send_response(status)
        if data is not None:
            self.send_header("Content-Type", JSON_TYPE)
        for name, value in headers:
            self.send_header(name, value)
        if data is not None:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data is not None and self.command != "HEAD":
            self.wfile.write(data)


class ApiHandler(Handler):
    """The Heroku Platform API side (HTTPS)."""
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are closed after this

    def handle_api(self):
        state = self.server.state
        self.read_body()
        scheme, token = parse_authorization(self.headers.get("Authorization"))
        kind = state.token_kind(token)
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "auth": scheme, "token_valid": kind == "valid", "token_kind": kind,
                 "accept": self.headers.get("Accept"),
                 "user_agent": self.headers.get("User-Agent"),
                 "request_id": str(uuid.uuid4()), "status": None, "fault": None}
        remaining, retry_after, fault = state.begin_request(entry)
        outcome = self.apply_fault(entry, fault) if fault else (None, None)
        if outcome is None:
            return  # a hang: this request never gets an answer
        status, body = outcome
        headers = [("RateLimit-Remaining", str(remaining)), ("Request-Id", entry["request_id"]),
                   ("Cache-Control", "private, no-cache")]
        if status is None and retry_after is not None:
            status, body = 429, error_body(429)
            headers.append(("Retry-After", str(retry_after)))
        elif status is None:
            status, body = self.answer(kind)
            if status == 200:  # the real answer, not an injected one
                etag = etag_of(body)
                headers.append(("ETag", etag))
                if etag in if_none_match(self.headers.get("If-None-Match")):
                    status, body = 304, None
        state.update(entry, status=status, if_none_match=self.headers.get("If-None-Match"))
        if fault and fault_shapes_answer(fault) and body is not None:  # not a 304
            return self.send_faulty(status, body, headers, fault)
        self.send_body(status, body, headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_api

    def apply_fault(self, entry, fault):
        """Delay, then the fault's (status, body); (None, None) = answer normally,
        None = hang (the connection is dropped unanswered when the hang ends)."""
        state = self.server.state
        state.update(entry, fault=fault_summary(fault))
        if fault.get("delay_ms"):
            state.stop.wait(fault["delay_ms"] / 1000)
        if fault.get("hang"):
            state.stop.wait(HANG_MAX_SECONDS)
            self.close_connection = True
            return None
        if fault.get("status") is None and fault.get("body") is None:
            return None, None
        status = fault.get("status") or 200
        body = fault["body"] if fault.get("body") is not None else error_body(status)
        return status, body

    def send_faulty(self, status, body, headers, fault):
        """The answer as the fault shapes it: its own Content-Type and headers,
        padded to `pad_to` bytes, chunked, cut short after `truncate_at` bytes
        (the connection closed), or trickled at `bytes_per_second`."""
        self.close_connection = True
        data = PaddedBody(body, fault.get("pad_to"))
        self.send_response(status)
        self.send_header("Content-Type", fault.get("content_type") or JSON_TYPE)
        for name, value in headers + list((fault.get("headers") or {}).items()):
            self.send_header(name, value)
        if fault.get("chunked"):
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(data.size))
        self.end_headers()
        if self.command == "HEAD":
            return
        limit = fault.get("truncate_at")
        try:
            self.write_pieces(data, fault, data.size if limit is None else min(limit, data.size))
        except OSError:
            pass  # the client gave up: that is what the fault is for

    def write_pieces(self, data, fault, limit):
        rate, sent, stop = fault.get("bytes_per_second"), 0, self.server.state.stop
        piece_size = max(1, min(rate, 65536)) if rate else 65536
        for piece in data.pieces(piece_size):
            piece = piece[:limit - sent]
            if not piece:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if fault.get("chunked")
                             else piece)
            self.wfile.flush()
            sent += len(piece)
            if rate and stop.wait(len(piece) / rate):
                return
        if fault.get("chunked") and sent == data.size:
            self.wfile.write(b"0\r\n\r\n")

    def answer(self, token_kind):
        """The normal (status, body) for this request."""
        state = self.server.state
        if not accept_ok(self.headers.get("Accept")):
            return 406, error_body(406)
        parts = urlsplit(self.path).path.split("/")
        if self.command != "GET" or len(parts) != 4 or parts[1] != "apps" \
                or parts[3] != "config-vars" or not parts[2]:
            return 404, error_body(404)
        if token_kind in ("none", "unknown"):
            return 401, error_body(401)
        app = unquote(parts[2])
        if app != state.app and app.lower() != state.app_id:
            return 404, error_body(404, "Couldn't find that app.", resource="app")
        if token_kind == "forbidden":
            return 403, error_body(403, f"You do not have access to the app {state.app}.")
        return 200, json.dumps(state.get_vars(), sort_keys=True)


def etag_of(body):
    """A strong ETag for a config-vars answer: a hash of its (sorted) JSON."""
    return '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'


def if_none_match(header):
    """The entity tags an If-None-Match header lists (weak ones as their strong form)."""
    tags = []
    for tag in (header or "").split(","):
        tag = tag.strip()
        tags.append(tag[2:] if tag.startswith("W/") else tag)
    return [t for t in tags if t]


# Fault fields that change how the answer travels rather than what it says.
TRANSPORT_FIELDS = ("content_type", "headers", "pad_to", "chunked", "truncate_at",
                    "bytes_per_second")


def fault_shapes_answer(fault):
    return any(fault.get(name) for name in TRANSPORT_FIELDS)


class PaddedBody:
    """`body` (a JSON object's text) grown to `size` bytes by one extra config var
    of x's placed first, produced piece by piece so 50 MB never sits in memory."""

    def __init__(self, body, size):
        self.tail = body.encode("utf-8")
        self.head, self.pad = b"", 0
        if size and self.tail.startswith(b"{") and size > len(self.tail) + 16:
            self.head = b'{"HPQ_PADDING": "'
            sep = b'", ' if self.tail.strip() != b"{}" else b'"'
            self.pad = size - len(self.head) - len(sep) - len(self.tail) + 1
            self.head_end, self.tail = sep, self.tail[1:]
        self.size = len(self.head) + self.pad + (len(self.head_end) if self.pad else 0) \
            + len(self.tail)

    def pieces(self, size):
        """The body in pieces of at most `size` bytes."""
        buf = bytearray()
        for part in self.parts():
            buf += part
            while len(buf) >= size:
                yield bytes(buf[:size])
                del buf[:size]
        if buf:
            yield bytes(buf)

    def parts(self):
        yield self.head
        left = self.pad
        while left > 0:
            n = min(left, 65536)
            yield b"x" * n
            left -= n
        if self.pad:
            yield self.head_end
        yield self.tail


def fault_summary(fault):
    if fault.get("hang"):
        return "hang"
    shaped = " (shaped: %s)" % ", ".join(n for n in TRANSPORT_FIELDS if fault.get(n)) \
        if fault_shapes_answer(fault) else ""
    if fault.get("status") is not None or fault.get("body") is not None:
        return f"status {fault.get('status') or 200}{shaped}"
    return "shaped" + shaped if shaped else "delay"


class ControlHandler(Handler):
    """The test-facing control plane (plain HTTP, JSON in and out)."""

    def do_GET(self):
        self.dispatch({"/requests": control_requests, "/rotate/status": control_rotate_status,
                       "/not-modified": control_not_modified,
                       "/config-vars": control_get_vars, "/secrets": control_secrets})

    def do_POST(self):
        self.dispatch({"/reset": control_reset, "/config-vars": control_set_vars,
                       "/rate-limit": control_rate_limit, "/fault": control_fault,
                       "/fault/clear": control_fault_clear, "/rotate": control_rotate,
                       "/shutdown": control_shutdown})

    def dispatch(self, routes):
        route = routes.get(urlsplit(self.path).path.rstrip("/") or "/")
        try:
            raw = self.read_body()
            if route is None:
                raise ControlError(404, f"no control endpoint {self.command} {self.path}")
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise ControlError(400, f"body is not JSON: {exc}") from None
            if not isinstance(body, dict):
                raise ControlError(400, "body must be a JSON object")
            status, result = 200, route(self.server.state, body)
        except ControlError as exc:
            status, result = exc.status, {"error": str(exc)}
        self.send_body(status, json.dumps(result))


def control_requests(state, _body):
    with state.lock:
        return {"count": len(state.requests), "requests": [dict(r) for r in state.requests],
                "not_modified": sum(r["status"] == 304 for r in state.requests)}


def control_not_modified(state, _body):
    """How many recorded requests were answered 304 Not Modified."""
    with state.lock:
        return {"count": sum(r["status"] == 304 for r in state.requests)}


def control_secrets(state, _body):
    with state.lock:
        return {"passwords": list(state.passwords)}


def control_reset(state, _body):
    with state.lock:
        state.requests, state.remaining, state.fault = [], INITIAL_RATE_LIMIT, None
        state.refill_per_min, state.refilled_at = REFILL_PER_MINUTE, time.monotonic()
    return {"ok": True}


def control_get_vars(state, _body):
    return state.get_vars()


def control_set_vars(state, body):
    changes = body.get("vars")
    require(isinstance(changes, dict) and all(
        isinstance(v, str) or v is None for v in changes.values()),
        'want {"vars": {"NAME": "value" | null}}')
    return state.merge_vars(changes)


def control_rate_limit(state, body):
    """{"remaining": N, "refill_per_min": R}: either or both (R = 0: no refill)."""
    remaining, refill = body.get("remaining"), body.get("refill_per_min")
    require(remaining is not None or refill is not None,
            'want {"remaining": <non-negative integer>, "refill_per_min": <non-negative number>}')
    require(remaining is None or (isinstance(remaining, int) and remaining >= 0),
            "remaining must be a non-negative integer")
    require(refill is None or (isinstance(refill, (int, float)) and refill >= 0),
            "refill_per_min must be a non-negative number")
    with state.lock:
        state.refill()
        if remaining is not None:
            state.remaining = remaining
        if refill is not None:
            state.refill_per_min = refill
        return {"remaining": int(state.remaining), "refill_per_min": state.refill_per_min}


def control_fault(state, body):
    """POST /fault: what the next `count` API requests get (-1: until cleared).

    What the answer says: "status", "body" (sent as is), "hang" (never answered),
    "delay_ms" (before answering). How it travels: "content_type", "headers"
    (extra, e.g. Retry-After, Location), "pad_to" (grow a JSON object body to this
    many bytes), "chunked", "truncate_at" (announce the whole length, send this
    many bytes, close), "bytes_per_second" (trickle the body)."""
    fault = {"status": body.get("status"), "body": body.get("body"),
             "delay_ms": body.get("delay_ms", 0), "count": body.get("count", 1),
             "hang": bool(body.get("hang", False))}
    fault.update({name: body.get(name) for name in TRANSPORT_FIELDS})
    check_transport(fault)
    require(fault["status"] is None or (isinstance(fault["status"], int)
                                        and 100 <= fault["status"] <= 599),
            "status must be an integer HTTP status")
    require(fault["body"] is None or isinstance(fault["body"], str),
            "body must be a string (sent as-is)")
    require(isinstance(fault["delay_ms"], int) and fault["delay_ms"] >= 0,
            "delay_ms must be a non-negative integer")
    require(isinstance(fault["count"], int) and (fault["count"] > 0 or fault["count"] == -1),
            "count must be a positive integer or -1 (until cleared)")
    with state.lock:
        state.fault = fault
    return {"fault": fault}


def check_transport(fault):
    headers = fault["headers"]
    require(headers is None or (isinstance(headers, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items())),
        'headers must be {"Name": "value"}')
    require(fault["content_type"] is None or isinstance(fault["content_type"], str),
            "content_type must be a string")
    for name in ("pad_to", "truncate_at", "bytes_per_second"):
        require(fault[name] is None or (isinstance(fault[name], int) and fault[name] >= 0),
                f"{name} must be a non-negative integer")
    require(fault["pad_to"] is None or fault["pad_to"] <= 256 * 1024 * 1024,
            "pad_to is at most 256 MB")
    require(isinstance(fault["chunked"] or False, bool), "chunked must be true or false")


def control_fault_clear(state, _body):
    with state.lock:
        state.fault = None
    return {"fault": None}


def control_rotate_status(state, _body):
    with state.lock:
        return dict(state.rotation)


def control_shutdown(state, _body):
    state.stop.set()
    return {"ok": True}


# ---------------------------------------------------------------- rotation

def control_rotate(state, body):
    order = body.get("order", "db-first")
    delay_ms = body.get("delay_ms", 2000)
    var = body.get("var", "DATABASE_URL")
    require(order in ROTATION_ORDERS, f"order must be one of {', '.join(ROTATION_ORDERS)}")
    require(isinstance(delay_ms, int) and delay_ms >= 0, "delay_ms must be a non-negative integer")
    if not state.psql or not state.pg_admin:
        raise ControlError(409, "rotation needs --psql and --pg-admin")
    with state.lock:
        if not state.rotation["done"]:
            raise ControlError(409, "a rotation is already under way")
        if not isinstance(state.vars.get(var), str):
            raise ControlError(409, f"config var {var} is not set")
        role, url, password = rotated_url(state.vars[var])
        state.note_passwords({var: url})
        state.rotation = {"done": False, "order": order, "var": var, "password": password,
                          "url": url, "db_updated": False, "var_updated": False,
                          "error": None}
    threading.Thread(target=run_rotation, daemon=True,
                     args=(state, order, delay_ms / 1000, role, password, var, url)).start()
    return {"password": password, "url": url}


def rotated_url(url):
    """(role, the same URL with a new random password, that password)."""
    parts = urlsplit(url)
    userinfo, sep, hostport = parts.netloc.rpartition("@")
    raw_user = userinfo.partition(":")[0]
    if not sep or not raw_user:
        raise ControlError(409, "the config var is not a URL with a user name")
    password = secrets.token_hex(12)
    new_url = parts._replace(netloc=f"{raw_user}:{password}@{hostport}").geturl()
    return unquote(raw_user), new_url, password


def run_rotation(state, order, delay, role, password, var, url):
    steps = {"db-first": ("db", "wait", "var"), "var-first": ("var", "wait", "db"),
             "together": ("db", "var")}[order]
    state.log(f"rotation ({order}) of {role} started")
    try:
        for step in steps:
            if step == "db":
                alter_password(state, role, password)
                state.set_rotation(db_updated=True)
            elif step == "var":
                state.merge_vars({var: url})
                state.set_rotation(var_updated=True)
            elif state.stop.wait(delay):
                raise RuntimeError("server stopping")
            state.log(f"rotation ({order}) step {step} done")
    except Exception as exc:  # reported through GET /rotate/status
        state.set_rotation(error=str(exc))
        state.log(f"rotation ({order}) failed: {exc}")
    finally:
        state.set_rotation(done=True)


def alter_password(state, role, password):
    """ALTER ROLE ... PASSWORD through psql; values are quoted by psql itself."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PG") and k != "LD_PRELOAD"}
    result = subprocess.run(
        [state.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"role={role}",
         "-v", f"pw={password}", "-d", state.pg_admin],
        input="ALTER ROLE :\"role\" PASSWORD :'pw';\n", text=True, env=env,
        capture_output=True, timeout=30, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")


# ---------------------------------------------------------------- main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--api-port", type=int, required=True)
    p.add_argument("--control-port", type=int, required=True)
    for name in ("--cert", "--key", "--app", "--app-id", "--token", "--forbidden-token"):
        p.add_argument(name, required=True)
    p.add_argument("--config-var", action="append", default=[], metavar="NAME=VALUE",
                   type=parse_config_var, help="initial config var (repeatable)")
    p.add_argument("--pg-admin", help="superuser conninfo, for rotation")
    p.add_argument("--psql", help="psql binary, for rotation")
    p.add_argument("--pid-file")
    p.add_argument("--log", help="log file (default: stderr)")
    return p.parse_args(argv)


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def main(argv=None):
    args = parse_args(argv)
    log_file = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
    state = State(args, log_file)
    api = LoopbackServer("api", args.api_port, ApiHandler, state,
                         tls_context(args.cert, args.key))
    control = LoopbackServer("control", args.control_port, ControlHandler, state)
    if args.pid_file:
        with open(args.pid_file, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: state.stop.set())
    for server in (api, control):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    state.log(f"listening: api https://{HOST}:{api.server_port} "
              f"control http://{HOST}:{control.server_port} pid {os.getpid()}")
    while not state.stop.wait(0.5):
        pass
    state.log("stopping")
    for server in (api, control):
        server.shutdown()
        server.server_close()
    if args.pid_file:
        try:
            with open(args.pid_file, encoding="ascii") as f:
                if f.read().strip() == str(os.getpid()):
                    os.unlink(args.pid_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
