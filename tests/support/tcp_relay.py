# SPDX-License-Identifier: MIT
"""A TCP relay owned by a test, for silent network cuts: it listens on a free loopback port and
forwards every connection to a target; freeze() stops forwarding in both directions without
closing anything (no FIN, no RST: the peers' kernels still acknowledge, the bytes wait in the
buffers), thaw() resumes. A cut the peers can only notice by their own timeouts.

    with TcpRelay(("127.0.0.1", pg.port)) as relay:
        url = f"postgresql://...@127.0.0.1:{relay.port}/..."
        relay.freeze()

Via(server, relay.port) is an XMPP server as a Concierge config sees it through a relay in front
of its component port.
"""

from __future__ import annotations

import select
import socket
import threading


class TcpRelay:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        self._stopped.set()
        self._flowing.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            for s in self._sockets:
                try:
                    s.close()
                except OSError:
                    pass
        for t in self._threads:
            t.join(5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.2)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._flowing.is_set():  # a new connection while frozen hangs too
                self._flowing.wait()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, upstream]
            t = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        while not self._stopped.is_set():
            if not self._flowing.is_set():
                self._flowing.wait(0.2)  # frozen: nothing is read, nothing is closed
                continue
            try:
                ready, _, _ = select.select([a, b], [], [], 0.2)
            except (OSError, ValueError):
                return
            for s in ready:
                if not self._flowing.is_set():
                    break
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    for x in (a, b):
                        try:
                            x.close()
                        except OSError:
                            pass
                    return
                try:
                    peer[s].sendall(data)
                except OSError:
                    return


class Via:
    """The XMPP server `server` as seen through a relay: its component port is the relay's;
    everything else is the server's."""

    def __init__(self, server, component_port: int):
        self._server = server
        self.component_port = component_port

    def __getattr__(self, name):
        return getattr(self._server, name)
