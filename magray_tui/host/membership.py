"""One process's place on a home: host (it holds the lock and serves) or client.

`join` elects: the process that gets the lock hosts; any other connects to the host. A
client that loses its host elects again (`Membership.elect`), so it either reaches the
next host or becomes it: then the calls its proxies make run here, on the local `Host`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from magray_tui.host.client import ELECTION_TIMEOUT_S, Approver, Client, Connection, Listener
from magray_tui.host.election import HostLock, host_dir
from magray_tui.host.errors import HostError

log = logging.getLogger(__name__)


class Membership:
    """This process's role on a home. Made by `join`; `stop()` then `release()` at close."""

    def __init__(self, services: Any, folder: Path) -> None:
        self.services = services
        self.folder = folder
        # This process, as the origin of the changes it asks for (not told back to it).
        self.cid = f"{os.getpid()}-{id(self):x}"
        self.host: Any = None  # a server.Host while this process hosts the home
        self.client: Client | None = None
        self._listeners: list[Listener] = []
        self._approvers: list[Approver] = []
        self._elect_lock = threading.Lock()
        self._closed = False

    @property
    def remote(self) -> bool:
        return self.host is None

    def elect(self, timeout: float = ELECTION_TIMEOUT_S) -> Connection | None:
        """Become the host, or return a connection to the one there is."""
        with self._elect_lock:
            if self.host is not None:
                return None
            if self._closed:
                raise HostError("this magray is closing")
            deadline = time.monotonic() + timeout
            lock = HostLock(self.folder)
            delay = 0.005
            while True:
                if lock.acquire():
                    self._become_host(lock)
                    return None
                try:
                    return Connection(self.folder, self.cid)
                except (FileNotFoundError, ConnectionRefusedError):
                    pass  # the host is starting or dying: elect again
                if time.monotonic() > deadline:
                    pid = lock.holder_pid()
                    raise HostError(
                        f"the magray process hosting this home (PID {pid}) does not answer on "
                        f"{self.folder / 'host.sock'}"
                    )
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _become_host(self, lock: HostLock) -> None:
        from magray_tui.host.attach import real_settings
        from magray_tui.host.server import Host

        try:
            real_settings(self.services)  # this process opens the store: it needs them now
            host = Host(self.services, lock, self.folder)
            for listener in self._listeners:
                host.add_listener(listener)
            for approver in self._approvers:
                host.approvals.add_local(approver)
            host.start()
        except BaseException:
            lock.release()  # never hold the lock without serving
            raise
        self.host = host
        if self.client is not None:
            log.info("took over hosting %s", self.folder)
            # What the dead host changed last may not have been announced.
            for listener in self._listeners:
                listener(frozenset({"memory", "tasks", "chat"}))
        _clean_old_snapshots()

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)
        if self.host is not None:
            self.host.add_listener(listener)
        elif self.client is not None:
            self.client.start_events()

    def add_approver(self, approver: Approver) -> None:
        """This process has a person at an open TUI: `approver(event)` gets the questions
        other processes ask them (host/approvals.py), from a background thread."""
        self._approvers.append(approver)
        if self.host is not None:
            self.host.approvals.add_local(approver)
        elif self.client is not None:
            self.client.become_approver()

    def ask(self, question: dict[str, Any], timeout_s: float) -> str:
        """Ask the person at an open TUI on this home; their answer, or "nobody",
        "timeout" or "closing" (see host/approvals.py)."""
        if self.host is not None:
            return self.host.call("approval.ask", [question, timeout_s], {})
        assert self.client is not None
        return self.client.call("approval.ask", question, timeout_s)

    def answer(self, qid: str, answer: str) -> bool:
        if self.host is not None:
            return self.host.call("approval.answer", [qid, answer], {})
        assert self.client is not None
        return self.client.call("approval.answer", qid, answer)

    def stop(self) -> None:
        self._closed = True
        if self.client is not None:
            self.client.close()
        if self.host is not None:
            self.host.stop()

    def release(self) -> None:
        if self.host is not None:
            self.host.release()


def join(services: Any) -> Membership:
    """Take this process's place on the home of `services`: host or client."""
    from magray_tui.host.attach import state_dir

    membership = Membership(services, host_dir(state_dir(services.settings)))
    first = membership.elect()
    if first is not None:
        membership.client = Client(membership, first)
    return membership


def _clean_old_snapshots() -> None:
    """Read-only snapshot copies are gone (clients ask the host instead); remove the
    folders that readers killed before this change left in the temp dir."""
    import shutil
    import tempfile

    uid = os.getuid()
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            if entry.name.startswith("magray-snapshot-") and entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_uid == uid:
                        shutil.rmtree(entry.path, ignore_errors=True)
