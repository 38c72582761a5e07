"""A minimal JSON-RPC client for `scout serve` over stdio: framing, ids, answering the server's
own requests. No client library smoothing anything over, so the fuzz test can send garbage and
the benchmark measures what an editor would wait for."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


class LspError(RuntimeError):
    pass


class _Streams:
    """An in-process server's pipe ends, shaped like the bits of a Popen the client uses."""

    def __init__(self, stdin: Any, stdout: Any) -> None:
        self.stdin, self.stdout, self.pid, self.returncode = stdin, stdout, os.getpid(), None

    def poll(self) -> int | None:
        return None

    def wait(self, timeout: float | None = None) -> int:
        return 0

    def kill(self) -> None:
        return None


class RawClient:
    def __init__(self, env: dict[str, str] | None = None, *,
                 stderr: Any = subprocess.DEVNULL, streams: tuple[Any, Any] | None = None
                 ) -> None:
        """Start `python -m scout serve` with ``env`` added to the environment, or talk over
        ``streams`` (to the server's stdin, from its stdout) to a server run in-process."""
        if streams is not None:
            self.proc: Any = _Streams(*streams)
        else:
            self.proc = subprocess.Popen([sys.executable, "-m", "scout", "serve"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=stderr, env={**os.environ, **(env or {})})
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._write = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    # -- sending ---------------------------------------------------------------------------
    def send_raw(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        with self._write:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any = None, timeout: float = 120) -> Any:
        """Send a request and wait for its answer; an error answer raises LspError."""
        msg_id = next(self._ids)
        self.send({"id": msg_id, "method": method, "params": params})
        answer = self.wait(msg_id, timeout)
        if "error" in answer:
            raise LspError(f"{method}: {answer['error']}")
        return answer.get("result")

    def command(self, name: str, argument: dict[str, Any] | None = None,
                timeout: float = 120) -> Any:
        return self.request("workspace/executeCommand", {
            "command": name, "arguments": [argument] if argument is not None else None},
            timeout)

    # -- receiving ------------------------------------------------------------------------
    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    with self._cond:
                        self._cond.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            body = json.loads(out.read(int(headers["content-length"])))
            if "method" in body and "id" in body:  # a request from the server: answer it
                result = [] if body["method"] == "workspace/configuration" else None
                self.send({"id": body["id"], "result": result})
            elif "id" in body:
                with self._cond:
                    self.responses[body["id"]] = body
                    self._cond.notify_all()
            else:
                with self._cond:
                    self.notifications.append(body)

    def wait(self, msg_id: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise LspError(f"no answer to request {msg_id!r}")
                self._cond.wait(min(left, 0.5))
            return self.responses.pop(msg_id)

    def missing(self, ids: set[Any], timeout: float) -> set[Any]:
        """The ids (sent with ``send``) still unanswered after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                missing = ids - set(self.responses)
                if not missing or time.monotonic() >= deadline:
                    return missing
                self._cond.wait(0.2)

    # -- session ----------------------------------------------------------------------------
    def initialize(self, root: Path, capabilities: dict[str, Any] | None = None,
                   init_options: dict[str, Any] | None = None) -> Any:
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(),
            "capabilities": capabilities if capabilities is not None else {
                "window": {"workDoneProgress": True},
                "workspace": {"configuration": True, "codeLens": {"refreshSupport": True}}},
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "initializationOptions": init_options})
        self.notify("initialized", {})
        return result

    def wait_indexed(self, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            index = self.command("scout.indexStatus")["index"]
            if index["state"] == "ready":
                return index
            time.sleep(0.05)
        raise LspError("the index never became ready")

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident memory of the server, from /proc."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)

    def close(self) -> int:
        try:
            self.request("shutdown", None, timeout=30)
            self.notify("exit", None)
            return self.proc.wait(30)
        except (LspError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            return self.proc.wait()
