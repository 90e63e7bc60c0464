"""The listening socket, bound by ringlet itself before anything else starts: a port in use
or an address that is not this machine's is then reported in one line before the database is
opened and before any banner, instead of by uvicorn after the start-up output looked fine."""

from __future__ import annotations

import errno
import socket


class CannotListen(Exception):
    """The one line to show."""


def bind(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except socket.gaierror:
        raise CannotListen(
            f"cannot listen on --host {host!r}: not an address or a known host name"
        ) from None
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # As uvicorn does: a restarted server may take the port over from its predecessor's
    # connections in TIME_WAIT (SO_REUSEADDR does not let two servers listen on one port).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addresses[0][4])
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise CannotListen(_why(exc, shown, port)) from None
    sock.set_inheritable(True)  # --workers: the worker processes accept on it
    return sock


def _why(exc: OSError, shown: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {shown}: the port is in use by another program; stop it or "
            "choose another --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {shown}: not an address of this machine; choose another --host"
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen on {shown}: permission denied (ports below 1024 need privileges); "
            "choose another --port"
        )
    return f"cannot listen on {shown}: {exc.strerror or exc}"
