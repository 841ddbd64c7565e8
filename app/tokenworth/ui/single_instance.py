"""One running app per user and TOKENWORTH_HOME: a second launch asks the first to come forward."""

from __future__ import annotations

import getpass
import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1000
SHOW_MESSAGE = b"show\n"


def server_name(home: Path) -> str:
    """A socket name unique to this user and this home (two homes may run side by side)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    digest = hashlib.sha1(str(home.resolve()).encode()).hexdigest()[:12]
    safe_user = "".join(ch for ch in user if ch.isalnum())[:24] or "user"
    return f"tokenworth-{safe_user}-{digest}"


class SingleInstance(QObject):
    """The first instance listens; later ones connect, say "show", and exit."""

    activated = Signal(object)
    """A second launch asked this instance to bring its dashboard forward; with the start options
    it was given (`{"period": "last-month"}`), to apply first."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server: QLocalServer | None = None

    def signal_running(self, timeout_ms: int = CONNECT_TIMEOUT_MS, options: Mapping[str, str] | None = None) -> bool:
        """True when another instance answered (and was told to come forward, with `options`:
        one `name=value` line each after "show", which an older instance ignores)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        lines = "".join(f"{name}={value}\n" for name, value in (options or {}).items() if "\n" not in value)
        socket.write(SHOW_MESSAGE + lines.encode("utf-8"))
        socket.flush()
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(timeout_ms)
        return True

    def listen(self) -> bool:
        """Start listening; a stale socket left by a crashed instance is removed first."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance socket unavailable: %s", server.errorString())
                return False
        server.newConnection.connect(self.on_server_new_connection)
        self.server = server
        return True

    def close(self) -> None:
        if self.server is not None:
            self.server.newConnection.disconnect(self.on_server_new_connection)
            self.server.close()
            self.server.deleteLater()
            self.server = None

    @Slot()
    def on_server_new_connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.setProperty(_RECEIVED, b"")
            socket.readyRead.connect(self.on_socket_ready_read)
            socket.disconnected.connect(self.on_socket_disconnected)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._gather(socket)
            if socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
                self._read(socket)  # said all and gone before we looked

    @Slot()
    def on_socket_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._gather(socket)

    @Slot()
    def on_socket_disconnected(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    @staticmethod
    def _gather(socket: QLocalSocket) -> None:
        """Keep what arrived: a message may come in pieces, and is read once the sender is done."""
        socket.setProperty(_RECEIVED, bytes(socket.property(_RECEIVED) or b"") + bytes(socket.readAll().data()))

    def _read(self, socket: QLocalSocket) -> None:
        self._gather(socket)
        received = bytes(socket.property(_RECEIVED) or b"")
        socket.setProperty(_RECEIVED, b"")
        lines = received.decode("utf-8", "replace").splitlines()
        if SHOW_MESSAGE.decode().strip() in lines:
            options = dict(line.split("=", 1) for line in lines if "=" in line)
            log.info("a second launch asked for the dashboard (%s); bringing it forward", options or "no options")
            self.activated.emit(options)


_RECEIVED = "tokenworthReceived"
"""The socket property holding the bytes a second launch has sent so far."""
