"""An OTLP/HTTP trace receiver: answers every export 200, and keeps the decoded requests
when asked to (the tests read them; the benchmark only counts spans). Run alone as
``python -m bench.otlp_sink PORT`` (the benchmark's sink for its traced runs)."""

from __future__ import annotations

import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


class OtlpSink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, *, keep: bool = True) -> None:
        self.keep = keep
        self.exports: list[tuple[str, ExportTraceServiceRequest]] = []
        self.spans_received = 0
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _ReceiveExport)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def received(self, path: str, body: bytes) -> None:
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        spans = sum(len(scope.spans) for rs in export.resource_spans for scope in rs.scope_spans)
        with self._lock:
            self.spans_received += spans
            if self.keep:
                self.exports.append((path, export))


class _ReceiveExport(BaseHTTPRequestHandler):
    server: OtlpSink
    protocol_version = "HTTP/1.1"  # keep-alive, as a collector does

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received(self.path, body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    # SIGTERM ends it (a background job of a shell without job control ignores SIGINT).
    signal.signal(signal.SIGTERM, _interrupt)
    sink = OtlpSink(int(sys.argv[1]), keep=False)
    try:
        sink.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(f"spans received: {sink.spans_received}", flush=True)


if __name__ == "__main__":
    main()
