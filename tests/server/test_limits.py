"""Requests and trees that try to make the server hold, walk or read without bound get a bounded answer (issue 18)."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from tests.conftest import LiveServer

API = "/api/2.0/mlflow"


# ------------------------------------------------------------------ request bodies


def _post_chunked_forever(server: LiveServer, path: str) -> tuple[bytes, int]:
    """POST a valid-JSON-so-far chunked body that never ends; (the server's answer, bytes sent before it came)."""
    url = urlsplit(server.url)
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        opening = b'{"experiment_ids": ["0"], "pad": "'
        sock.sendall(b"%x\r\n%s\r\n" % (len(opening), opening))
        answer = bytearray()
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                answer.extend(chunk)
                if b"}" in answer:
                    break
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        piece = b"x" * (1 << 20)
        frame = b"%x\r\n%s\r\n" % (len(piece), piece)
        try:
            while not done.is_set() and sent < (200 << 20):
                sock.sendall(frame)
                sent += len(piece)
        except OSError:
            pass  # the server closed the connection after answering
        reader.join(timeout=30)
    return bytes(answer), sent


def test_a_chunked_body_without_a_length_is_refused_once_it_passes_the_bound(tracking_server: LiveServer) -> None:
    from mlscope.server.security import MAX_JSON_BODY

    answer, sent = _post_chunked_forever(tracking_server, API + "/runs/search")
    assert answer.decode().startswith("HTTP/1.1 400"), answer[:200]
    assert "Request body too large" in answer.decode()
    assert sent < MAX_JSON_BODY + (48 << 20)  # answered soon after the bound, not after the client gave up


def test_the_server_answers_normally_after_refusing_a_chunked_body(tracking_server: LiveServer) -> None:
    import httpx

    _post_chunked_forever(tracking_server, "/api/mlscope/runs/search")
    chunks = iter([b'{"experiment_ids": ', b'["0"]}'])
    response = httpx.post(tracking_server.url + API + "/runs/search", content=chunks, headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 200
