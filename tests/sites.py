"""A local HTTP server on loopback for the tests of what Mediamon fetches or sends over HTTP:
each path answers what the test puts in ``site.routes`` (status, headers, body, and an optional
delay), and every request is kept (method, path, headers, body) for the test to look at."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_s: float = 0.0


Route = Answer | Callable[[dict[str, str]], Answer]


@dataclass
class Site:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    bodies: list[tuple[str, str, bytes]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def serve(self, path: str, fixture: Path, content_type: str, **headers: str) -> None:
        """Serve a fixture file at ``path``."""
        body = fixture.read_bytes()
        self.routes[path] = Answer(headers={"content-type": content_type, **headers}, body=body)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            length = int(headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            site.requests.append((self.path, headers))
            site.bodies.append((self.command, self.path, body))
            route = site.routes.get(self.path, Answer(404, {"content-type": "text/plain"}))
            answer = route if isinstance(route, Answer) else route(headers)
            time.sleep(answer.delay_s)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_site() -> Iterator[Site]:
    """An HTTP server on a free loopback port, with an empty robots.txt (all allowed)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    site = Site(f"http://{host!s}:{port}")
    site.routes["/robots.txt"] = Answer(headers={"content-type": "text/plain"}, body=b"")
    server.RequestHandlerClass = _handler(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
