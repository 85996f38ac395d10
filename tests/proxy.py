"""A TCP proxy for fault tests: pass traffic, drop every connection, stall it silently, or
stall only what flows back to the client."""

import socket
import threading

from provisioning.broker import free_port


class Proxy:
    """Listens on a free port and forwards to (host, port) according to `mode`."""

    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.target = (host, target_port)
        self.port = free_port()
        self.mode = "pass"
        self.attempts = 0  # connections clients opened to it, dropped or not
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self, mode: str = "drop") -> None:
        """`drop` closes every connection and refuses new ones; `stall` forwards nothing;
        `deaf` forwards what the client sends but holds everything sent back to it."""
        self.mode = mode
        if mode == "drop":
            self._close_all()

    def restore(self) -> None:
        """Forward again (stalled connections are closed so that clients reconnect)."""
        was = self.mode
        self.mode = "pass"
        if was in ("stall", "deaf"):
            self._close_all()

    def close(self) -> None:
        """Stop listening and close everything."""
        self._stop.set()
        self._server.close()
        self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.attempts += 1
            if self.mode == "drop":
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b, back in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(a, b, back), daemon=True).start()

    def _held(self, back: bool) -> bool:
        """Whether data in this direction waits now (`back`: towards the client)."""
        return self.mode == "stall" or (back and self.mode == "deaf")

    def _pipe(self, src: socket.socket, dst: socket.socket, back: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self._held(back) and not self._stop.is_set():
                    self._stop.wait(0.05)
                    if src.fileno() < 0:
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass
