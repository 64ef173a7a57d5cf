"""A TCP proxy the test controls, between a process and PostgreSQL: forward, black-hole or refuse.

- ``forward``: bytes flow both ways (a healthy network).
- ``blackhole``: connections are accepted and held, and no byte moves either way on any connection, old
  or new (a server that stopped answering, a dropped route): what makes a client wait for its timeouts.
- ``refuse``: every connection is cut and new ones are closed at once (a server that is down).

It runs on its own thread and event loop, so a test may block on a subprocess or a sync HTTP call.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Mode = Literal["forward", "blackhole", "refuse"]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "forward"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)

    # --- control (from the test's thread) ---

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def set_mode(self, mode: Mode) -> None:
        asyncio.run_coroutine_threadsafe(self._set_mode(mode), self._loop).result(5)

    def stop(self) -> None:
        self.set_mode("refuse")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # --- the proxy (on its own loop) ---

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._flowing.set()
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        sock: socket.socket = server.sockets[0]
        self.port = sock.getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "forward":
            self._flowing.set()
        else:
            self._flowing.clear()
        if mode == "refuse":
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

    def _refusing(self) -> bool:  # read again after an await: the mode may have changed meanwhile
        return self.mode == "refuse"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "refuse":
            writer.transport.abort()
            return
        self._writers.add(writer)
        await self._flowing.wait()  # a black hole holds a new connection before it reaches the server
        if self._refusing():
            writer.transport.abort()
            return
        host, port = self.target
        try:
            if host.startswith("/"):  # a Unix socket directory (the embedded server): PostgreSQL's naming
                up_reader, up_writer = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
            else:
                up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                writer.transport.abort()
                return
            await self._flowing.wait()  # black-holed: the bytes wait here, nothing moves
            if self._refusing():
                return
            writer.write(data)
            await writer.drain()


@contextmanager
def tcp_proxy(target_host: str, target_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
