"""The ``urllib3`` transport option of the sync clients (the ``urllib3`` extra).

``ServiceConfig.sync_transport="urllib3"``: one urllib3 connection pool for the service's
origin, used directly (no httpx request or response objects; no ``PoolManager`` lookup per
call). Every setting of a ``ServiceConfig`` holds as on httpx's transport:

- Timeouts: per attempt, already shortened to the time left before the deadline:
  ``connect_timeout`` -> urllib3's connect timeout, ``read_timeout`` -> its read timeout
  (between two reads), ``pool_timeout`` -> the wait for a pooled connection. urllib3 has no
  separate write timeout: it sends the request under the connect timeout.
- The deadline bounds a slow body: the body is read one socket read at a time and the
  deadline is checked between reads (as on httpx's sync transport).
- Pool: ``max_connections`` -> the pool's size, blocking (a call waits up to
  ``pool_timeout`` for a free connection, then fails as a pool timeout: nothing was sent);
  ``keepalive_expiry`` -> an idle connection older than that is closed instead of reused;
  no keep-alive (``max_keepalive_connections=0`` or ``keepalive_expiry=0``) -> a new
  connection per request. urllib3 keeps at most ``max_connections`` idle connections.
- TLS: the same ``SSLContext`` as httpx's transport (verification, CA bundle, client cert).
- No redirect is followed and urllib3 never retries (``retries=False``): only the retry
  layer repeats a call, within its budget and deadline, with ``X-Retry-Attempt`` on the wire.

A request goes the direct way (``Urllib3Wire._open``): urlopen's steps on a pooled connection,
less what ours never need (redirects, retries, proxies), with the header block written in one
piece, checked once per name and once per block instead of per header (http.client's two
regular expressions per header were most of the cost of writing a request). A request with
anything unusual (a header urllib3 writes itself, a name that is not an HTTP token, a value
with a line break or non-ASCII, a target urllib3 would re-encode) goes by ``urlopen``, where
http.client judges it as before: a header it refuses is ``InvalidRequestError``, nothing sent.

Failures are classified by cause (``_wire.Failure``) and raised as a ``WireFailure`` that
names only urllib3's class: urllib3's exceptions quote the URL with its query.

urllib3 logs each request line (``"GET /api/v1/patients/<id>?..."``) at DEBUG on
``urllib3.connectionpool`` (the direct path writes the same record there);
``install_log_filter`` rewrites our own requests' path to the route template there, and strips
the query of any other.
"""

from __future__ import annotations

import errno
import logging
import re
import ssl
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import _ResponseOptions
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    EmptyPoolError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from nilecare_clients._config import ServiceConfig
from nilecare_clients._loggers import FilterInstaller
from nilecare_clients._wire import (
    CONNECT_FAILED,
    CONNECT_TIMEOUT,
    LOST,
    POOL_CLOSED,
    POOL_TIMEOUT,
    READ_TIMEOUT,
    TIMEOUT,
    Failure,
    WireFailure,
    query_string,
)

__all__ = ["LOGGER_NAME", "Urllib3Wire", "install_log_filter"]

#: The logger urllib3 writes its request lines to.
LOGGER_NAME = "urllib3.connectionpool"
_request_log = logging.getLogger(LOGGER_NAME)
_READ_SIZE = 65536
#: urllib3 repeats nothing and follows no redirect (built once: urlopen would build it per call).
_NO_RETRY = urllib3.Retry(total=False, redirect=False, raise_on_redirect=False)

# -- the direct path (see ``Urllib3Wire._open``) ---------------------------------------------
#: A header name that is an HTTP token: what http.client accepts, and more strictly.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: Names urllib3 writes itself unless the request has them: such a request goes by urlopen.
_FRAMING = frozenset(("host", "accept-encoding", "content-length", "transfer-encoding"))
#: A request target urllib3 would send unchanged (``_encode_target``): only characters allowed
#: unencoded in a path (then a query, which may hold "?"), and upper-case percent escapes.
_PLAIN_TARGET = re.compile(
    r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-F]{2})*"
    r"(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-F]{2})*)?"
)
#: Methods urllib3 sends without ``Content-Length: 0`` when they have no body.
_NO_BODY_METHODS = frozenset(("GET", "HEAD", "DELETE", "TRACE", "OPTIONS", "CONNECT"))
_NAME_CACHE_SIZE = 256


class _Pool(urllib3.HTTPConnectionPool):
    """urllib3's pool, plus an idle limit on kept-alive connections (``keepalive_expiry``)."""

    idle_limit: float | None = None

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn: Any = super()._get_conn(timeout)
        idle_since = getattr(conn, "nilecare_idle_since", None)
        limit = self.idle_limit
        if (
            limit is not None
            and idle_since is not None
            and conn.sock is not None
            and time.monotonic() - idle_since >= limit
        ):
            conn.close()  # urllib3 reconnects a closed connection on its next request
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            conn.nilecare_idle_since = time.monotonic()
        super()._put_conn(conn)


class _TlsPool(_Pool, urllib3.HTTPSConnectionPool):
    pass


class Urllib3Wire:
    """One service's urllib3 pool: ``exchange`` sends one attempt and reads its answer."""

    def __init__(self, config: ServiceConfig, verify: ssl.SSLContext | bool) -> None:
        parts = urlsplit(config.base_url)
        # base_url is origin + optional prefix; each call's URL starts with base_url.
        self._origin_length = len(f"{parts.scheme}://{parts.netloc}")
        self._prefix = config.base_url[self._origin_length :]
        size = config.max_connections or 1_000_000  # None: no limit (as httpx)
        kwargs: dict[str, Any] = {
            "maxsize": size,
            "block": config.max_connections is not None,
            "retries": _NO_RETRY,
            "timeout": urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout),
        }
        host, port = parts.hostname or "", parts.port
        if parts.scheme == "https":
            if verify is False:
                kwargs.update(cert_reqs="CERT_NONE", assert_hostname=False)
            else:
                context = verify if isinstance(verify, ssl.SSLContext) else None
                kwargs["ssl_context"] = context or ssl.create_default_context()
            self._pool: _Pool = _TlsPool(host, port, **kwargs)
        else:
            self._pool = _Pool(host, port, **kwargs)
        keepalive = config.max_keepalive_connections != 0 and config.keepalive_expiry != 0
        self._pool.idle_limit = config.keepalive_expiry if keepalive else 0.0
        self._config = config
        self._tls = parts.scheme == "https"
        self._fixed_lines = _fixed_lines(self._pool)
        #: Header names already checked for the direct path (see ``_head``).
        self._names: set[str] = set()
        self._timeouts: dict[tuple[float, float], urllib3.Timeout] = {}
        self._closed = False
        install_log_filter()

    @property
    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._pool.close()

    def _timeout(self, connect: float, read: float) -> urllib3.Timeout:
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = urllib3.Timeout(connect=connect, read=read)
            if len(self._timeouts) < 64:  # the full timeouts, and a few capped ones
                self._timeouts[key] = timeout
        return timeout

    def exchange(
        self, core: Any, call: Any, attempt: int, token: str | None, started: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        config = core.config  # a with_options copy may carry other timeouts than the pool
        left = core.prepare_attempt(call, attempt, token)
        if left >= core.longest_timeout:
            timeout = self._timeout(config.connect_timeout, config.read_timeout)
            pool_wait = config.pool_timeout
        else:
            timeout = urllib3.Timeout(
                connect=min(config.connect_timeout, left), read=min(config.read_timeout, left)
            )
            pool_wait = min(config.pool_timeout, left)
        target = call.url[self._origin_length :]
        if call.params:
            target += "?" + query_string(call.params)
        _route.set((target, self._prefix + call.route))
        failure: WireFailure | None = None
        unwritable = False
        head = (
            self._head(call.method, call.headers, call.content)
            if _PLAIN_TARGET.fullmatch(target)
            else None
        )
        try:
            if head is not None:
                response = self._open(call.method, target, head, call.content, timeout, pool_wait)
            else:
                response = self._pool.urlopen(
                    call.method,
                    target,
                    body=call.content,
                    headers=call.headers,
                    retries=_NO_RETRY,
                    redirect=False,
                    assert_same_host=False,
                    timeout=timeout,
                    pool_timeout=pool_wait,
                    preload_content=False,
                    release_conn=False,
                )
        except HTTPError as exc:
            failure = _classified(exc)
        except (ValueError, UnicodeError):
            unwritable = True  # http.client refused a header; its message quotes it
        if failure is not None:
            raise core.on_transport_error(call, failure, attempt, started) from failure
        if unwritable:
            raise core.unwritable(call)
        status = response.status
        headers = response.headers
        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            # http.client ignores a malformed length and reads to the close; httpx (h11) and
            # aiohttp refuse the answer, and so does this transport.
            response.close()
            response.release_conn()
            failure = WireFailure(LOST, "InvalidContentLength")
            raise core.on_transport_error(call, failure, attempt, started) from failure
        complete = False
        try:
            content = core.read_body(
                call, status, headers, _chunks(response, core, call), attempt, started
            )
            complete = response.length_remaining == 0 or response.closed
        except HTTPError as exc:
            failure = _classified(exc)
        finally:
            if not complete:
                response.close()  # a body left unread: the connection cannot be reused
            response.release_conn()
        if failure is not None:
            raise core.on_transport_error(call, failure, attempt, started) from failure
        return status, headers, content

    def _head(self, method: str, headers: Mapping[str, str], body: bytes | None) -> bytes | None:
        """The request's header lines as urllib3 would write them, in one piece; ``None`` when
        the request has anything unusual (urlopen then writes it, and http.client judges it).

        http.client checks each header with two regular expressions per request, most of
        the cost of writing one. The core has already refused CR, LF, NUL and non-ASCII in a
        call's own headers (the config, in its fixed ones): here a name is checked once (an
        HTTP token, not one urllib3 writes itself), and all values at once (ASCII, no CR or
        LF but the separators), which accepts only what http.client accepts, and writes the
        same lines.
        """
        if not self._names.issuperset(headers) and not self._learn(headers):
            return None
        if "User-Agent" not in headers:
            return None  # urllib3 would add its own
        try:
            text = "\r\n".join(map(": ".join, headers.items()))
        except TypeError:
            return None  # a value that is not a str
        lines = len(headers) - 1
        if not text.isascii() or text.count("\n") != lines or text.count("\r") != lines:
            return None
        if body is not None:
            text = f"{self._fixed_lines}Content-Length: {len(body)}\r\n{text}"
        elif method not in _NO_BODY_METHODS:
            text = f"{self._fixed_lines}Content-Length: 0\r\n{text}"
        else:
            text = self._fixed_lines + text
        return text.encode("ascii")

    def _learn(self, headers: Mapping[str, str]) -> bool:
        names = self._names
        for name in headers:
            if name in names:
                continue
            if not isinstance(name, str) or not _TOKEN.fullmatch(name) or name.lower() in _FRAMING:
                return False
            if len(names) < _NAME_CACHE_SIZE:  # bounded: names are few, unless a caller varies them
                names.add(name)
        return True

    def _open(
        self,
        method: str,
        target: str,
        head: bytes,
        body: bytes | None,
        timeout: urllib3.Timeout,
        pool_wait: float,
    ) -> Any:
        """urlopen's work for one request on a pooled connection, less what ours never need
        (redirects, retries, proxies, re-encoding a plain target, re-checking the headers).
        Failures are raised as urlopen raises them, so ``_classified`` reads them the same.
        """
        pool = self._pool
        conn: Any = pool._get_conn(timeout=pool_wait)  # EmptyPoolError, ClosedPoolError
        clean = False
        try:
            conn.timeout = timeout.connect_timeout
            if self._tls:
                try:
                    # Connects if closed (TCP, then the TLS handshake); warns if unverified.
                    pool._validate_conn(conn)
                except (TimeoutError, ssl.SSLError) as exc:  # socket.timeout is TimeoutError
                    pool._raise_timeout(err=exc, url=target, timeout_value=conn.timeout)
                    raise
            _write(conn, method, target, head, body)
            read = timeout.read_timeout
            if not conn.is_closed:
                if read == 0:
                    raise ReadTimeoutError(pool, target, "Read timed out. (read timeout=0)")
                conn.timeout = read
            try:
                response = conn.getresponse()
            except OSError as exc:  # ssl.SSLError included
                pool._raise_timeout(err=exc, url=target, timeout_value=read)
                raise
            clean = True
        except ssl.SSLError as exc:  # ssl.CertificateError included
            raise SSLError(exc) from exc
        except (OSError, HTTPException) as exc:
            raise ProtocolError("Connection aborted.", exc) from exc
        finally:
            if not clean:
                conn.close()
                pool._put_conn(None)  # the pool's slot, for a fresh connection
        response._connection = conn  # release_conn() puts it back
        response._pool = pool
        if _request_log.isEnabledFor(logging.DEBUG):  # the request line urlopen logs
            _request_log.debug(
                '%s://%s:%s "%s %s %s" %s %s',
                pool.scheme,
                pool.host,
                pool.port,
                method,
                target,
                response.version_string,
                response.status,
                response.length_remaining,
            )
        return response

    def health(
        self, core: Any, url: str, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]:
        config = core.config
        try:
            response = self._pool.urlopen(
                "GET",
                url[self._origin_length :],
                headers=headers,
                retries=_NO_RETRY,
                redirect=False,
                assert_same_host=False,
                timeout=self._timeout(config.connect_timeout, config.read_timeout),
                pool_timeout=config.pool_timeout,
                preload_content=False,
                release_conn=False,
            )
            try:
                body = response.read(64 * 1024)
            finally:
                response.close()
                response.release_conn()
        except HTTPError as exc:
            return None, _classified(exc).failure.name, b""
        return response.status, None, body


def _fixed_lines(pool: _Pool) -> str:
    """The Host and Accept-Encoding lines http.client writes for this pool's requests, taken
    from http.client itself once (a request line put on a connection that never connects),
    so that the direct path need not have them written and checked per request."""
    probe: Any = pool.ConnectionCls(host=pool.host, port=pool.port)
    probe.putrequest("GET", "/")
    lines = [line.decode("ascii") for line in probe._buffer[1:]]
    probe.close()
    return "".join(f"{line}\r\n" for line in lines)


def _write(conn: Any, method: str, target: str, head: bytes, body: bytes | None) -> None:
    """urllib3's ``HTTPConnection.request`` for a prepared request: the request line (and the
    Host and Accept-Encoding lines http.client adds), our header block, then the body."""
    if conn.sock is not None:
        conn.sock.settimeout(conn.timeout)
    conn._response_options = _ResponseOptions(
        request_method=method,
        request_url=target,
        preload_content=False,
        decode_content=True,
        enforce_content_length=True,
    )
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn._output(head)
        conn.endheaders(body)
    except BrokenPipeError:
        pass  # the server may close once it has answered: its answer is still read
    except OSError as exc:
        if exc.errno != errno.EPROTOTYPE and exc.errno != errno.ECONNRESET:
            raise


def _chunks(response: Any, core: Any, call: Any) -> Iterator[bytes]:
    """One socket read per chunk, so the reader can check the deadline between reads."""
    while True:
        try:
            chunk = response.read1(_READ_SIZE)
        except (OSError, ssl.SSLError) as exc:  # http.client's own, not wrapped by urllib3
            raise ProtocolError("connection lost while reading", exc) from None
        if not chunk:
            return
        yield chunk
        if response.length_remaining == 0:
            return  # the whole declared body: no read to learn that (urllib3 closed it)


def _classified(exc: BaseException) -> WireFailure:
    """Which failure ``exc`` is: nothing sent (refused, connect or pool timeout, a certificate
    refused during the handshake) or may have been applied (anything after the connection
    was up). A TLS error other than certificate verification may come after the request was
    written (TLS 1.3 reports a refused client certificate at the first read): it counts as
    sent, so a write is not repeated on it."""
    failure: Failure
    if isinstance(exc, EmptyPoolError):
        failure = POOL_TIMEOUT
    elif isinstance(exc, ClosedPoolError):
        failure = POOL_CLOSED
    elif isinstance(exc, NewConnectionError):  # before ConnectTimeoutError: it subclasses it
        failure = CONNECT_FAILED
    elif isinstance(exc, ConnectTimeoutError):
        failure = CONNECT_TIMEOUT
    elif isinstance(exc, ReadTimeoutError):
        failure = READ_TIMEOUT
    elif isinstance(exc, Urllib3Timeout):
        failure = TIMEOUT
    elif isinstance(exc, SSLError) and _certificate_refused(exc):
        failure = CONNECT_FAILED
    else:
        failure = LOST
    return WireFailure(failure, type(exc).__name__)


def _certificate_refused(exc: SSLError) -> bool:
    return any(isinstance(arg, ssl.SSLCertVerificationError) for arg in exc.args) or isinstance(
        exc.__context__, ssl.SSLCertVerificationError
    )


# (the request target sent, its route template), set per attempt in the sending thread.
_route: ContextVar[tuple[str, str] | None] = ContextVar("nilecare_urllib3_route", default=None)


class _RouteTemplateInUrllib3Logs(logging.Filter):
    """urllib3's request line names the request target (path and query): ours becomes the
    route template, anyone else's loses its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(_is_target(a) for a in args):
            named = _route.get()
            record.args = tuple(_safe_target(a, named) for a in args)
        return True


def _is_target(arg: object) -> bool:
    return isinstance(arg, str) and arg.startswith("/")


def _safe_target(arg: object, named: tuple[str, str] | None) -> object:
    if not isinstance(arg, str) or not arg.startswith("/"):
        return arg
    if named is not None and named[0] == arg:
        return named[1]
    return arg.partition("?")[0]


class _NoUrlNoHeadersInUrllib3Warnings(logging.Filter):
    """urllib3's connection warnings quote the full URL (with its query) and the failure, whose
    text can hold a header: a URL keeps its origin and our route template, a failure only its
    class, and the traceback goes (its frames repeat the same text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            named = _route.get()
            record.args = tuple(_safe_warning_arg(a, named) for a in args)
        if record.exc_info is not None:
            record.exc_info = None
            record.exc_text = None
        return True


def _safe_warning_arg(arg: object, named: tuple[str, str] | None) -> object:
    if isinstance(arg, BaseException):
        return type(arg).__name__
    if isinstance(arg, str) and "://" in arg:
        parts = urlsplit(arg)
        return f"{parts.scheme}://{parts.netloc}{named[1] if named is not None else ''}"
    return arg


#: The logger of urllib3's connection warnings (a malformed header, a certificate mismatch).
CONNECTION_LOGGER_NAME = "urllib3.connection"

#: Puts the filters on urllib3's request-line and connection loggers (the first wire does).
install_log_filter = FilterInstaller(
    lambda: [
        (LOGGER_NAME, _RouteTemplateInUrllib3Logs()),
        (CONNECTION_LOGGER_NAME, _NoUrlNoHeadersInUrllib3Warnings()),
    ]
)
