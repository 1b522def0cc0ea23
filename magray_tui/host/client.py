"""The client side: talk to the process that hosts the home, or take over when it is gone.

A `Membership` is one process's place on a home: host (it holds the lock and serves) or
client (it holds a `Client`). Every proxy call goes through `Client.call`, which sends it
to the host, or, after this process took over, runs it on the local `Host` directly.

When the host goes away mid-call (it quit, or was killed with -9) the client elects
again: it either connects to the new host or becomes the host itself. Reads are simply
retried. A write is retried only when it cannot be applied twice (memory adds carry an id
chosen here, so a retry first looks which of them were stored); any other write whose
request reached the dead host ends in a `HostError` that says its outcome is unknown.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.host import ops, protocol
from magray_tui.host.election import peer_uid, socket_address
from magray_tui.host.errors import HostClosing, HostError

if TYPE_CHECKING:
    from magray_tui.host.membership import Membership

log = logging.getLogger(__name__)

ELECTION_TIMEOUT_S = 60.0  # a host may be loading its model; a dead one is noticed at once
Listener = Callable[[frozenset[str]], None]
Approver = Callable[[dict[str, Any]], None]  # gets the "ask" / "asked" events


class HostLost(Exception):
    """The connection ended; `sent` says whether the host had the whole request."""

    def __init__(self, sent: bool) -> None:
        super().__init__("the host went away")
        self.sent = sent


class OutcomeUnknown(HostError):
    pass


class Connection:
    def __init__(self, folder: Path, cid: str | None = None) -> None:
        address, dir_fd = socket_address(folder)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        if peer_uid(sock) != os.getuid():  # the folder is 0700, but check the peer anyway
            sock.close()
            raise HostError("the process serving this home belongs to another user; refused")
        self.sock = sock
        self.reader = sock.makefile("rb")
        self._next = 0
        self.cid = cid

    def request(
        self, op: str, args: Any, kwargs: Any, progress: Callable[..., None] | None = None
    ) -> Any:
        self._next += 1
        rid = self._next
        message: dict[str, Any] = {
            "id": rid,
            "op": op,
            "args": protocol.encode(list(args)),
            "kwargs": protocol.encode(kwargs),
        }
        if self.cid is not None:
            message["cid"] = self.cid
        if progress is not None:
            message["progress"] = True
        try:
            self.sock.sendall(protocol.dumps(message))
        except OSError:
            raise HostLost(sent=False) from None
        while True:
            try:
                line = self.reader.readline(protocol.MAX_LINE)
            except OSError:
                line = b""
            if not line.endswith(b"\n"):
                raise HostLost(sent=True)
            reply = protocol.loads(line)
            if reply.get("id") != rid:
                if reply.get("id") == 0 and "error" in reply:  # refused at the door
                    raise HostError(str(reply["error"].get("msg")))
                continue
            if "progress" in reply:
                if progress is not None:
                    progress(*protocol.decode(reply["progress"]))
                continue
            if "error" in reply:
                exc = _rebuild(reply["error"])
                if isinstance(exc, HostClosing):
                    raise HostLost(sent=False)  # not started: the next host may do it
                raise exc
            return protocol.decode(reply.get("ok"))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.reader.close()
            self.sock.close()


def _rebuild(error: dict[str, Any]) -> Exception:
    exc = protocol.decode_error(error)
    if exc is not None:
        return exc
    return HostError(
        f"unexpected error in the magray process hosting this home ({error.get('cls')}: "
        f"{error.get('msg')}); details in its log"
    )


class Client:
    """Calls into the host; one connection per calling thread (TUI workers run at once)."""

    def __init__(self, membership: Membership, first: Connection) -> None:
        self.membership = membership
        self._local = threading.local()
        self._local.conn = first
        self._conns = [first]
        self._conns_lock = threading.Lock()
        self._events: threading.Thread | None = None
        self._event_conn: Connection | None = None
        self._subscribe_lock = threading.Lock()
        self._closed = threading.Event()
        from magray_tui.host.proxy import ChatProxy, MemoryProxy, TodoProxy

        self.memory = MemoryProxy(self)
        self.todo = TodoProxy(self)
        self.chat = ChatProxy(self)
        self._info: dict[str, Any] | None = None

    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self.call("host.info")
        return self._info

    def call(
        self, op: str, *args: Any, progress: Callable[..., None] | None = None, **kwargs: Any
    ) -> Any:
        kind = ops.kind(op)
        if kind is None:
            raise HostError(f"not something a client may ask: {op!r}")
        while True:
            host = self.membership.host
            if host is not None:  # we took over: run it here
                if progress is not None:
                    kwargs["progress"] = progress
                return host.call(op, list(args), kwargs)
            conn = self._connection()
            if conn is None:
                continue  # the election just made us the host
            try:
                return conn.request(op, args, kwargs, progress)
            except HostLost as lost:
                self._drop(conn)
                if lost.sent and kind == "write":
                    raise OutcomeUnknown(
                        f"the magray process hosting this home stopped while doing {op}; "
                        "it may or may not have been applied: check before repeating it"
                    ) from None

    def call_aside(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """One call on a connection of its own (e.g. from a signal handler while this
        thread's connection waits for a long call)."""
        host = self.membership.host
        if host is not None:
            return host.call(op, list(args), kwargs)
        conn = Connection(self.membership.folder, self.membership.cid)
        try:
            return conn.request(op, args, kwargs)
        finally:
            conn.close()

    def _connection(self) -> Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        conn = self.membership.elect()
        if conn is not None:
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def _drop(self, conn: Connection) -> None:
        conn.close()
        self._local.conn = None
        with self._conns_lock:
            if conn in self._conns:
                self._conns.remove(conn)

    # ---- change events -------------------------------------------------------------------
    def start_events(self) -> None:
        if self._events is None:
            self._events = threading.Thread(
                target=self._event_loop, name="magray-host-events", daemon=True
            )
            self._events.start()

    def _event_loop(self) -> None:
        first = True
        while not self._closed.is_set():
            try:
                conn = self.membership.elect()
            except HostError:
                if self._closed.wait(0.5):
                    return
                continue
            if conn is None:
                return  # we host now: the Host calls the listeners itself
            with self._conns_lock:
                self._conns.append(conn)
            try:
                self._subscribe(conn)
                if not first:  # changes made while we were not listening
                    self._notify(frozenset({"memory", "tasks", "chat"}))
                first = False
                while not self._closed.is_set():
                    line = conn.reader.readline(protocol.MAX_LINE)
                    if not line.endswith(b"\n"):
                        break
                    message = protocol.loads(line)
                    event = message.get("event")
                    if event == "changed":
                        self._notify(frozenset(message.get("domains") or ()))
                    elif event in ("ask", "asked"):
                        self._tell_approvers(message)
            except (HostLost, OSError, protocol.ProtocolError):
                pass
            finally:
                with self._subscribe_lock:
                    self._event_conn = None
                conn.close()

    def _subscribe(self, conn: Connection) -> None:
        """Subscribe `conn` to events (its reply is read, and skipped, by the event loop)."""
        with self._subscribe_lock:
            self._event_conn = conn
            self._send_subscribe(conn)

    def _send_subscribe(self, conn: Connection) -> None:
        message = {"id": -1, "op": "subscribe", "cid": self.membership.cid}
        if self.membership._approvers:
            message["approver"] = True
        try:
            conn.sock.sendall(protocol.dumps(message))
        except OSError:
            raise HostLost(sent=False) from None

    def become_approver(self) -> None:
        """Say so on the events connection (now, or when it next subscribes)."""
        with self._subscribe_lock:
            conn = self._event_conn
            if conn is not None:
                with contextlib.suppress(HostLost):
                    self._send_subscribe(conn)
        self.start_events()

    def _tell_approvers(self, message: dict[str, Any]) -> None:
        for approver in list(self.membership._approvers):
            try:
                approver(message)
            except Exception:
                log.exception("an approver failed")

    def _notify(self, domains: frozenset[str]) -> None:
        for listener in list(self.membership._listeners):
            try:
                listener(domains)
            except Exception:
                log.exception("a change listener failed")

    def close(self) -> None:
        self._closed.set()
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
