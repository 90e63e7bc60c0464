"""Answers leave whole through the protocols' write path (serving/protocols.py holds a
response's head until its body, to send both in one write): a HEAD's head, which has no body,
still leaves; so do the answers to pipelined requests, in order, and the interim
`100 Continue` a client waits for before it sends its body. On both HTTP implementations."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.test_deadlines import serving

WAIT = 30.0


def _read_answers(sock: socket.socket, count: int, *, bodies: list[bool]) -> list[bytes]:
    """`count` answers read off `sock`: each head, and its body where `bodies` says it has one."""
    sock.settimeout(WAIT)
    buffer = b""
    answers: list[bytes] = []
    while len(answers) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {len(answers)} answers: {buffer!r}"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if bodies[len(answers)]:
            while len(buffer) < length:
                chunk = sock.recv(65536)
                assert chunk, "closed mid-body"
                buffer += chunk
            body, buffer = buffer[:length], buffer[length:]
        else:
            body = b""
        answers.append(head + b"\r\n\r\n" + body)
    return answers


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_a_head_answer_and_pipelined_answers_leave(http: str, tmp_path: Path) -> None:
    request = b"%s /_ringlet/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with serving(http, tmp_path) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request % b"HEAD" + request % b"GET" + request % b"HEAD")
        answers = _read_answers(sock, 3, bodies=[False, True, False])
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 3
    assert answers[1].endswith(b"}")  # the GET's JSON body, whole
    assert not answers[0].endswith(b"}") and not answers[2].endswith(b"}")


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_a_client_that_expects_100_continue_gets_it_then_the_answer(
    http: str, tmp_path: Path
) -> None:
    body = b"grant_type=password&username=%2B10000000000&password=x"
    head = (
        b"POST /restapi/oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    with serving(http, tmp_path) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        sock.settimeout(WAIT)
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        sock.sendall(body)
        (answer,) = _read_answers(sock, 1, bodies=[True])
    assert answer.startswith(b"HTTP/1.1 4"), answer  # refused (no client credentials): but answered
    assert answer.endswith(b"}")
