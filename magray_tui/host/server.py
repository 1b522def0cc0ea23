"""The host side: serve this process's services to the other magray processes on the home.

One thread accepts; one thread per client connection reads requests and answers them in
order. Every call runs the same public service method the host's own TUI would call, so
writes from every process go through the one commit path. After a write the host tells
every subscribed connection (and its own listeners) which domains changed; a small
watcher does the same for writes made inside the host process itself (its TUI, its agent,
its promotion cycles), so every open TUI hears of every change.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from magray_tui.host import ops, protocol
from magray_tui.host.approvals import Approvals
from magray_tui.host.batch import AddGroups
from magray_tui.host.election import HostLock, peer_uid, socket_address

log = logging.getLogger(__name__)

Listener = Callable[[frozenset[str]], None]
WATCH_INTERVAL_S = 0.2


class _Peer:
    """One client connection: answers go out under a lock (events interleave)."""

    def __init__(self, sock: socket.socket, uid: int) -> None:
        self.sock = sock
        self.uid = uid
        self.subscribed = False
        self.approver = False  # an open TUI: it is asked the questions for a person
        self.cid: str | None = None  # the client process's id: its own changes are not news
        self._send_lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        data = protocol.dumps(message)
        with self._send_lock:
            self.sock.sendall(data)

    def gone(self) -> bool:
        """The client closed its end (asked while this connection's thread waits, so
        nothing else reads the socket now)."""
        try:
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class Host:
    """Serves `services` while holding `lock`. `stop()` before closing the services,
    `release()` after: a successor must never find the database still open."""

    def __init__(self, services: Any, lock: HostLock, folder: Path) -> None:
        self.services = services
        self.lock = lock
        self.folder = folder
        self.pid = os.getpid()
        self._listeners: list[Listener] = []
        self._peers: set[_Peer] = set()
        self._peers_lock = threading.Lock()
        self._server: socket.socket | None = None
        self._stopping = threading.Event()
        self._revs: dict[str, int] = {}
        self._threads: list[threading.Thread] = []
        self._inflight = 0
        self._idle = threading.Condition()
        self._adds = AddGroups(lambda items: self.services.memory.add_many(items))
        self.approvals = Approvals(self._approver_sinks)

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        address, dir_fd = socket_address(self.folder)
        try:
            # We hold the lock, so any socket file here is a dead host's: replace it.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(address)
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o177)  # born 0600: no window where others could connect
            try:
                server.bind(address)
            finally:
                os.umask(old)
            server.listen(64)
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        self._server = server
        for target, name in ((self._accept_loop, "accept"), (self._watch_loop, "watch")):
            thread = threading.Thread(target=target, name=f"magray-host-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("hosting %s for other magray processes (PID %d)", self.folder, self.pid)

    def stop(self) -> None:
        """Stop answering: clients see the connection end and elect a new host."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.approvals.close()  # a question waiting for a person ends now ("closing")
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        with self._peers_lock:
            peers = list(self._peers)
        for peer in peers:
            peer.close()
        for thread in self._threads:
            thread.join(timeout=5)
        with self._idle:  # calls already running finish before the services close
            self._idle.wait_for(lambda: self._inflight == 0, timeout=60)

    def release(self) -> None:
        self.lock.release()

    def close(self) -> None:  # for callers that keep a Host in Services.shared
        self.stop()

    # ---- change notifications ------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, domains: frozenset[str], origin: str | None = None) -> None:
        """Tell everyone but the process that made the change (`origin`: a client's id,
        None for this process) that `domains` changed."""
        if not domains:
            return
        self._remember_revisions()  # announced now: the watcher need not do it again
        if origin is not None:
            for listener in list(self._listeners):
                try:
                    listener(domains)
                except Exception:
                    log.exception("a change listener failed")
        event = {"event": "changed", "domains": sorted(domains)}
        with self._peers_lock:
            peers = [p for p in self._peers if p.subscribed and p.cid != origin]
        for peer in peers:
            try:
                peer.send(event)
            except OSError:
                peer.close()

    def _revisions(self) -> dict[str, int]:
        server_rev = self.services.memory_server_revision()  # [store] url: as last heard
        if server_rev is not None:
            out = {"memory": server_rev}
        else:
            store = self.services.store  # cheap: no embedder, no indexes
            out = {"memory": int(store.max_rev() or 0)}
        try:
            out["tasks"] = int(self.services.todo.revision())
        except Exception:  # no task tables yet
            out["tasks"] = 0
        return out

    def _remember_revisions(self) -> None:
        if self._stopping.is_set():
            return
        try:
            self._revs = self._revisions()
        except Exception:
            log.debug("could not read revisions", exc_info=True)

    def _watch_loop(self) -> None:
        """Announce writes made inside this process (not through the socket), and those
        other magrays made on the memory server (heard by LISTEN: this home's own TUI is
        told too)."""
        self._remember_revisions()
        while not self._stopping.wait(WATCH_INTERVAL_S):
            try:
                now = self._revisions()
            except Exception:
                continue  # closing, or the store is busy migrating
            changed = frozenset(k for k, v in now.items() if self._revs.get(k) != v)
            if changed:
                foreign = "memory" in changed and self.services.take_foreign_change()
                self.publish(changed, "memory-server" if foreign else None)

    def _approver_sinks(self) -> list[Callable[[dict[str, Any]], None]]:
        with self._peers_lock:
            return [p.send for p in self._peers if p.subscribed and p.approver]

    # ---- serving -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            server = self._server
            if server is None:
                return
            try:
                sock, _ = server.accept()
            except OSError:
                return
            try:
                uid = peer_uid(sock)
            except OSError:
                sock.close()
                continue
            peer = _Peer(sock, uid)
            if uid != os.getuid():
                log.warning(
                    "refused a connection from uid %d (this home is uid %d)", uid, os.getuid()
                )
                with contextlib.suppress(OSError):
                    peer.send(
                        {
                            "id": 0,
                            "error": {
                                "cls": "magray_tui.host.errors:HostError",
                                "msg": "refused: another user's process",
                            },
                        }
                    )
                peer.close()
                continue
            with self._peers_lock:
                self._peers.add(peer)
            threading.Thread(
                target=self._serve, args=(peer,), name="magray-host-peer", daemon=True
            ).start()

    def _serve(self, peer: _Peer) -> None:
        reader = peer.sock.makefile("rb")
        try:
            for line in reader:
                if len(line) > protocol.MAX_LINE:
                    break
                try:
                    request = protocol.loads(line)
                except protocol.ProtocolError:
                    break
                self._answer(peer, request)
        except OSError:
            pass
        finally:
            with self._peers_lock:
                self._peers.discard(peer)
            reader.close()
            peer.close()

    def _answer(self, peer: _Peer, request: dict[str, Any]) -> None:
        rid = request.get("id")
        op = str(request.get("op", ""))
        if op == "subscribe":
            peer.subscribed = True
            peer.cid = request.get("cid")
            peer.approver = bool(request.get("approver"))
            peer.send({"id": rid, "ok": True})
            return
        try:
            args = protocol.decode(request.get("args") or [])
            kwargs = protocol.decode(request.get("kwargs") or {})
            if request.get("progress"):
                kwargs["progress"] = _progress_sender(peer, rid)
            if op == "approval.ask":  # a question ends when the process asking it leaves
                kwargs["asker_gone"] = peer.gone
            result = self.call(op, args, kwargs, origin=str(request.get("cid") or "?"))
            reply = {"id": rid, "ok": protocol.encode(result)}
        except Exception as exc:
            if not _is_user_error(exc):
                log.exception("serving %s failed", op)
            reply = {"id": rid, "error": protocol.encode_error(exc)}
        peer.send(reply)

    def call(
        self, op: str, args: list[Any], kwargs: dict[str, Any], origin: str | None = None
    ) -> Any:
        """Run one allowed service method here (also used by a client that took over)."""
        kind = ops.kind(op)
        if kind is None:
            from magray_tui.host.errors import HostError

            raise HostError(f"not something a client may ask: {op!r}")
        domain, _, name = op.partition(".")
        with self._idle:
            if self._stopping.is_set():
                from magray_tui.host.errors import HostClosing

                raise HostClosing("this magray is closing; ask the next host")
            self._inflight += 1
        try:
            if op == "memory.add_many" and len(args) == 1 and not kwargs:
                result = self._adds.add(list(args[0]))  # group commit with other clients
            else:
                result = getattr(self._target(domain), name)(*args, **kwargs)
            if kind == "write":  # still counted in flight: it reads the store's revision
                self.publish(frozenset({ops.CHANGES[domain]}), origin)
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()
        return result

    def _target(self, domain: str) -> Any:
        services = self.services
        if domain == "memory":
            return services.memory
        if domain == "todo":
            return services.todo
        if domain == "chat":
            return services.chat  # the one builder (it gives chat search the embedder)
        if domain == "approval":
            return self.approvals
        if domain == "ingest":
            from magray_tui.host.jobs import IngestJobs

            return IngestJobs(services)
        from magray_tui.host.info import HostInfo

        return HostInfo(self)


def _progress_sender(peer: _Peer, rid: Any) -> Callable[..., None]:
    def progress(*values: Any) -> None:
        peer.send({"id": rid, "progress": protocol.encode(list(values))})

    return progress


def _is_user_error(exc: BaseException) -> bool:
    from magray_tui.user_errors import user_message

    return user_message(exc) is not None
