"""A minimal Language Server Protocol client: starts ``rasp lsp`` as a subprocess and speaks
JSON-RPC to it over stdio with Content-Length framing, as an editor does. The tests and the
latency benchmark drive the server through it; it needs only the standard library."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
"""The folder holding this ``rasp_ir``: the server runs from the same checkout."""
TIMEOUT = 30.0

Message = dict[str, Any]


class LspClient:
    """One server process; requests wait for their response, notifications are collected."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        path = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
        self.timeout = timeout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rasp_ir.cli.main", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.next_id = 0
        self.incoming: queue.Queue[Message | None] = queue.Queue()
        self.notifications: list[Message] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: BinaryIO) -> None:
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    self.incoming.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.incoming.put(json.loads(body))

    def send(self, message: Message) -> None:
        """Write one framed message."""
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.send({"method": method, "params": params})

    def request_raw(self, method: str, params: Any) -> Message:
        """Send a request; its whole response (``result`` or ``error``)."""
        self.next_id += 1
        request_id = self.next_id
        self.send({"id": request_id, "method": method, "params": params})
        while True:
            message = self._next()
            if message.get("id") == request_id and "method" not in message:
                return message
            self._keep(message)

    def request(self, method: str, params: Any) -> Any:
        """Send a request; its result (an error response fails the test)."""
        response = self.request_raw(method, params)
        assert "error" not in response, response["error"]
        return response.get("result")

    def _next(self) -> Message:
        try:
            message = self.incoming.get(timeout=self.timeout)
        except queue.Empty:
            raise AssertionError("the server did not answer in time") from None
        if message is None:
            assert self.process.stderr is not None
            raise AssertionError("the server exited: " + self.process.stderr.read().decode())
        return message

    def _keep(self, message: Message) -> None:
        if "id" in message and "method" in message:  # a request from the server
            self.send({"id": message["id"], "result": None})
        else:
            self.notifications.append(message)

    def diagnostics(self, uri: str) -> list[Message]:
        """The next diagnostics published for ``uri`` (waits for them)."""
        while True:
            for index, message in enumerate(self.notifications):
                params = message.get("params", {})
                if (
                    message.get("method") == "textDocument/publishDiagnostics"
                    and params.get("uri") == uri
                ):
                    del self.notifications[index]
                    result: list[Message] = params["diagnostics"]
                    return result
            self._keep(self._next())

    def initialize(self, root: Path) -> None:
        """The initialize handshake."""
        self.request(
            "initialize",
            {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}},
        )
        self.notify("initialized", {})

    def open(self, path: Path, text: str) -> str:
        """Open a document; its URI."""
        uri = path.resolve().as_uri()
        document = {"uri": uri, "languageId": "rasp", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": document})
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        """Replace a document's whole text."""
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            },
        )

    def at(self, uri: str, line: int, character: int) -> dict[str, Any]:
        """Text-document-position parameters (0-based, as LSP counts)."""
        return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}

    def close(self) -> None:
        """Shut the server down politely and wait for it to exit."""
        self.request("shutdown", None)
        self.notify("exit", None)
        self.process.wait(timeout=self.timeout)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
