"""A minimal HTTP/1.1 client for notification POSTs: keep-alive connections per origin, one
request at a time on each, a deadline per request. Every notification of a busy server is one
POST per subscription, so what one costs matters: this does about a tenth of the work of a
general client (httpx, which the handshake still uses)."""

from __future__ import annotations

import asyncio
import ssl
from collections import defaultdict
from urllib.parse import urlsplit

_MAX_IDLE_PER_ORIGIN = 32
_MAX_HEAD = 16 * 1024
_MAX_BODY = 1 << 20


class HttpError(Exception):
    """The request got no HTTP answer: `detail` says why (as RingCentral words it)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class PostClient:
    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = defaultdict(list)
        self._ssl = ssl.create_default_context()

    async def close(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        """The answer's status code. Raises HttpError (no connection, timed out, not HTTP)."""
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        origin = (parts.scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"POST {target} HTTP/1.1", f"Host: {authority}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        try:
            async with asyncio.timeout(timeout_s):
                return await self._exchange(origin, secure, request)
        except TimeoutError:
            raise HttpError("Read timed out") from None

    async def _exchange(self, origin: tuple[str, str, int], secure: bool, request: bytes) -> int:
        idle = self._idle[origin]
        while idle:
            reader, writer = idle.pop()
            if reader.at_eof() or writer.is_closing():
                writer.close()
                continue
            try:
                return await self._send(origin, reader, writer, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()  # the receiver closed a kept-alive connection: a fresh one
        try:
            reader, writer = await asyncio.open_connection(
                origin[1], origin[2], ssl=self._ssl if secure else None
            )
        except OSError:
            raise HttpError("Connection refused") from None
        try:
            return await self._send(origin, reader, writer, request)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            raise HttpError("Connection reset") from None

    async def _send(
        self,
        origin: tuple[str, str, int],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: bytes,
    ) -> int:
        ok = False
        try:
            writer.write(request)
            await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                raise HttpError("Invalid HTTP response") from None
            if len(head) > _MAX_HEAD:
                raise HttpError("Invalid HTTP response")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            fields = status_line.split(" ", 2)
            if len(fields) < 2 or not fields[0].startswith("HTTP/1.") or not fields[1].isdigit():
                raise HttpError("Invalid HTTP response")
            status = int(fields[1])
            length: int | None = None
            keep_alive = fields[0] == "HTTP/1.1"
            chunked = False
            for line in header_lines:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length" and value.isdigit():
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    chunked = True
                elif name == "connection":
                    keep_alive = value == "keep-alive" or (keep_alive and value != "close")
            if chunked:
                await _skip_chunks(reader)
            elif length is not None:
                if length > _MAX_BODY:
                    raise HttpError("Invalid HTTP response")
                await reader.readexactly(length)
            elif status not in (204, 304):
                await reader.read(_MAX_BODY)  # the body runs to the end of the connection
                keep_alive = False
            ok = keep_alive
            return status
        finally:
            if ok and len(self._idle[origin]) < _MAX_IDLE_PER_ORIGIN:
                self._idle[origin].append((reader, writer))
            elif not ok:
                writer.close()


async def _skip_chunks(reader: asyncio.StreamReader) -> None:
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are expected; the final CRLF
            return
        total += size
        if total > _MAX_BODY:
            raise HttpError("Invalid HTTP response")
        await reader.readexactly(size + 2)
