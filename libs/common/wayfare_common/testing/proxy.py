"""A TCP proxy a test controls, to cut a process off the broker or the database and give
the connection back (tc netem and toxiproxy are not available on these machines).

    async with TcpProxy("127.0.0.1", 5672) as proxy:
        ... connect to proxy.port ...
        await proxy.cut()      # drop every connection, refuse new ones
        proxy.restore()        # accept again
"""

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self._server: asyncio.AbstractServer | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._cut = False

    async def __aenter__(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.cut()
        self._server.close()
        await self._server.wait_closed()

    async def cut(self) -> None:
        self._cut = True
        writers, self._open = list(self._open), set()
        for writer in writers:
            writer.transport.abort()
        await asyncio.sleep(0)

    def restore(self) -> None:
        self._cut = False

    async def _accept(self, client_reader, client_writer) -> None:
        if self._cut:
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections += 1
        self._open.update((client_writer, upstream_writer))
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer),
            self._pipe(upstream_reader, client_writer),
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._open.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()
