"""A real inference engine behind Ollama's wire protocol, for tests.

llama-cpp-python (llama.cpp, the engine inside Ollama) runs a GGUF built here, behind a loopback
HTTP server that answers ``/api/version``, ``/api/tags``, ``/api/show`` and ``/api/generate``
the way Ollama does (field names, nanosecond durations, 404 for an unknown model), so the real
``ollama`` client and ``OllamaScorer`` talk to a real engine. Only raw, non-streaming generation
is served: that is what scout's raw mode sends; anything else is answered HTTP 400 so a test
notices.

The digest in ``/api/tags`` is the GGUF's sha256 (real Ollama lists its manifest's digest and
names the GGUF blob, by its sha256, in ``/api/show``'s ``modelfile``; this server does both with
the one digest).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))
from scoring_fakes import Loopback, Reply, Request  # noqa: E402

from scout.train.gguf import sha256_file  # noqa: E402


@dataclass
class Served:
    name: str
    path: Path
    digest: str
    llm: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


class EngineServer:
    """Serve GGUF models by name: ``EngineServer({"tiny:latest": path})``."""

    def __init__(self, models: dict[str, Path], *, version: str = "0.13.5",
                 n_ctx: int = 2048) -> None:
        from llama_cpp import Llama

        self.version = version
        self.models: dict[str, Served] = {}
        for name, path in models.items():
            llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=2, seed=0, verbose=False)
            self.models[name] = Served(name, Path(path), sha256_file(Path(path)), llm)
        self.generated: list[dict[str, Any]] = []  # what the engine produced, per request
        self.server = Loopback(self.handle)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()
        for served in self.models.values():
            served.llm.close()

    def _model(self, name: str | None) -> Served | None:
        if name is None:
            return None
        return self.models.get(name) or self.models.get(f"{name}:latest")

    def handle(self, request: Request) -> Reply:
        route = (request.method, request.path)
        if route == ("GET", "/api/version"):
            return Reply(body={"version": self.version})
        if route == ("GET", "/api/tags"):
            return Reply(body={"models": [self._tag(s) for s in self.models.values()]})
        body = request.json or {}
        served = self._model(body.get("model"))
        if route in (("POST", "/api/show"), ("POST", "/api/generate")) and served is None:
            return Reply(404, {"error": f"model '{body.get('model')}' not found"})
        if route == ("POST", "/api/show"):
            return Reply(body={
                "modelfile": f"FROM /root/.ollama/models/blobs/sha256-{served.digest}\n",
                "parameters": "", "template": "{{ .Prompt }}",
                "details": {"format": "gguf", "family": "gemma3"},
                "model_info": {"general.architecture": "gemma3"}})
        if route == ("POST", "/api/generate"):
            return self._generate(served, body)
        return Reply(400, {"error": f"the test engine does not serve {request.method} "
                                    f"{request.path}"})

    def _tag(self, served: Served) -> dict[str, Any]:
        return {"name": served.name, "model": served.name,
                "modified_at": "2026-11-30T23:00:00Z", "size": served.path.stat().st_size,
                "digest": served.digest,
                "details": {"format": "gguf", "family": "gemma3", "families": ["gemma3"],
                            "parameter_size": "0.3M", "quantization_level": "F32"}}

    def _generate(self, served: Served, body: dict[str, Any]) -> Reply:
        if body.get("stream", True) or not body.get("raw"):
            return Reply(400, {"error": "the test engine serves raw, non-streaming generation "
                                        "only"})
        options = body.get("options") or {}
        started = time.perf_counter_ns()
        with served.lock:
            result = served.llm.create_completion(
                body.get("prompt", ""), max_tokens=int(options.get("num_predict", 128)),
                temperature=float(options.get("temperature", 0.8)),
                seed=int(options.get("seed", 0)), stop=list(options.get("stop") or []))
        elapsed = time.perf_counter_ns() - started
        choice = result["choices"][0]
        usage = result["usage"]
        self.generated.append({"text": choice["text"], "finish_reason": choice["finish_reason"],
                               "completion_tokens": usage["completion_tokens"],
                               "stop": options.get("stop")})
        return Reply(body={
            "model": served.name, "created_at": "2026-11-30T23:00:00Z",
            "response": choice["text"], "done": True,
            "done_reason": "length" if choice["finish_reason"] == "length" else "stop",
            "total_duration": elapsed, "load_duration": 0,
            "prompt_eval_count": usage["prompt_tokens"], "prompt_eval_duration": elapsed // 2,
            "eval_count": usage["completion_tokens"], "eval_duration": elapsed // 2})
