"""Answers the two Auth-service calls that Clinical and Facility make, on loopback only.

Neither service checks a bearer token itself: the upstream shared auth middleware posts it to
``$AUTH_SERVICE_URL/api/v1/integration/validate-token`` and, on routes that need a permission,
asks ``/api/v1/integration/verify-permission``; both calls carry ``X-Service-Key``. Booting the
real Auth service would drag in its own database and users, so this stand-in gives the same
answer shapes from the token alone:

* the service key must be one of ``SERVICE_API_KEYS`` (comma separated), or the answer is 401;
* the token is an HS256 JWT signed with ``JWT_SECRET``; a bad signature or an expired token
  is "not valid", as the real service says it;
* the user (``userId``, ``email``, ``role``, ``organizationId``, ``permissions``) is read from
  the claims, because there is no user table; ``permissions: ["*"]`` grants everything;
* a permission check is answered from the permissions of that user's last validated token.

Commands: ``serve --port N`` (env ``JWT_SECRET``, ``SERVICE_API_KEYS``) and ``mint --org UUID
[--role R] [--user UUID] [--email E] [--perm P ...] [--ttl S]``, which prints a token.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ISSUER = "nilecare-clients-compat"
VALIDATE = "/api/v1/integration/validate-token"
VERIFY = "/api/v1/integration/verify-permission"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, signing_input: str) -> str:
    digest = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return _b64(digest)


def mint_token(secret: str, claims: dict[str, Any], ttl_seconds: int) -> str:
    """An HS256 JWT carrying ``claims`` plus ``iat``/``exp``/``iss``."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = dict(claims, iat=now, exp=now + ttl_seconds, iss=ISSUER)
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{header}.{body}.{_signature(secret, f'{header}.{body}')}"


def read_token(secret: str, token: str) -> tuple[dict[str, Any] | None, str]:
    """The claims of a valid token, or ``None`` and the reason the real service would give."""
    parts = token.split(".")
    if len(parts) != 3:
        return None, "Invalid token"
    header, body, signature = parts
    try:
        algorithm = json.loads(_unb64(header)).get("alg")
        claims = json.loads(_unb64(body))
    except ValueError:
        return None, "Invalid token"
    expected = _signature(secret, f"{header}.{body}")
    if algorithm != "HS256" or not hmac.compare_digest(expected, signature):
        return None, "Invalid token"
    if not isinstance(claims, dict):
        return None, "Invalid token"
    if isinstance(claims.get("exp"), int | float) and claims["exp"] < time.time():
        return None, "Token expired"
    return claims, ""


#: userId -> the permissions on that user's last validated token.
_GRANTS: dict[str, list[str]] = {}


class _Handler(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        # Method, path and status only: bodies carry tokens and are never logged.
        sys.stderr.write(f"[auth-standin] {format % args}\n")

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(200, {"status": "healthy", "service": "auth-standin"})
        else:
            self._reply(404, {"success": False, "error": "Not found"})

    def do_POST(self) -> None:
        allowed = {k.strip() for k in os.environ.get("SERVICE_API_KEYS", "").split(",")} - {""}
        key = self.headers.get("X-Service-Key") or self.headers.get("X-Api-Key")
        if not key:
            self._reply(401, {"success": False, "error": "Service authentication required"})
            return
        if key not in allowed:
            self._reply(401, {"success": False, "error": "Invalid service credentials"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._reply(400, {"success": False, "error": "Bad JSON"})
            return
        if not isinstance(request, dict):
            self._reply(400, {"success": False, "error": "Bad JSON"})
        elif self.path == VALIDATE:
            self._validate(request)
        elif self.path == VERIFY:
            self._verify(request)
        else:
            self._reply(404, {"success": False, "error": "Not found"})

    def _validate(self, request: dict[str, Any]) -> None:
        token = request.get("token")
        if not isinstance(token, str) or not token:
            self._reply(400, {"success": False, "error": "Token is required"})
            return
        claims, reason = read_token(os.environ["JWT_SECRET"], token)
        if claims is None:
            self._reply(200, {"valid": False, "reason": reason})
            return
        user_id = str(claims.get("userId") or claims.get("sub") or "")
        grants = [str(p) for p in claims.get("permissions") or []]
        _GRANTS[user_id] = grants
        email, role = claims.get("email"), claims.get("role")
        user = {
            "id": user_id,
            "email": email,
            "username": claims.get("username"),
            "role": role,
            "permissions": grants,
            "organizationId": claims.get("organizationId"),
            "mfaEnabled": False,
        }
        info = {
            "userId": user_id,
            "email": email,
            "role": role,
            "issuedAt": claims.get("iat"),
            "expiresAt": claims.get("exp"),
        }
        self._reply(200, {"valid": True, "user": user, "tokenInfo": info})

    def _verify(self, request: dict[str, Any]) -> None:
        user_id, resource, action = (request.get(k) for k in ("userId", "resource", "action"))
        if not (user_id and resource and action):
            message = "userId, resource, and action are required"
            self._reply(400, {"success": False, "error": message})
            return
        wanted = f"{resource}:{action}"
        grants = _GRANTS.get(str(user_id), [])
        body = {
            "success": True,
            "allowed": "*" in grants or wanted in grants,
            "permission": wanted,
            "userId": user_id,
        }
        self._reply(200, body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="answer the two auth calls on 127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    mint = commands.add_parser("mint", help="print a signed token")
    mint.add_argument("--secret", default=os.environ.get("JWT_SECRET"))
    mint.add_argument("--org", required=True)
    mint.add_argument("--role", default="admin")
    mint.add_argument("--user")
    mint.add_argument("--email")
    mint.add_argument("--perm", action="append", help="repeat; '*' grants every permission")
    mint.add_argument("--ttl", type=int, default=7 * 24 * 3600)
    args = parser.parse_args(argv)
    if args.command == "serve":
        ThreadingHTTPServer(("127.0.0.1", args.port), _Handler).serve_forever()
        return
    if not args.secret:
        parser.error("mint needs --secret or JWT_SECRET")
    user_id = args.user or str(uuid.uuid4())
    claims = {
        "userId": user_id,
        "sub": user_id,
        "email": args.email or f"{args.role}@nilecare.test",
        "role": args.role,
        "organizationId": args.org,
        "permissions": args.perm if args.perm is not None else ["*"],
    }
    print(mint_token(args.secret, claims, args.ttl))


if __name__ == "__main__":
    main()
