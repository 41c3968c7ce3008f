"""Fuzz the api with schemathesis against its own OpenAPI schema (``make fuzz``): no server errors.

Starts the api (uvicorn, a scratch SQLite database, no knowledge release so it starts in seconds)
in front of a scripted Rasa on loopback — a Rasa that answers, so a 5xx can only be the api's own
fault — then runs ``st run`` with the ``not_a_server_error`` check over every documented operation
(the residents' API and the console's JSON API). Exit code: schemathesis's.

Usage: .venv/bin/python evaluation/fuzz_api.py [--max-examples 50]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from api.deps import STAFF_COOKIE
from api.runner import free_ports
from faq.paths import REPO_ROOT


class AnsweringRasa(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        reply = [{"recipient_id": body.get("sender", ""), "text": "여권은 민원실에서 신청하실 수 있습니다."}]
        data = json.dumps(reply, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        data = json.dumps({"model_file": "scripted"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def officer_login(base: str, env: dict[str, str]) -> tuple[str, str]:
    """An officer account made with the CLI, logged in through the real form: (session cookie, CSRF token)."""
    password = secrets.token_urlsafe(16)  # a scratch account in a scratch database
    add = ["user", "add", "fuzz", "--name", "퍼징 담당", "--role", "officer", "--password-stdin"]
    subprocess.run(
        [sys.executable, "-m", "api.cli", *add],
        input=password + "\n",
        text=True,
        check=True,
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
    )
    with httpx.Client(base_url=base, timeout=10) as client:
        form = client.get("/console/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        data = {"username": "fuzz", "password": password, "csrf": form, "next": "/console"}
        if client.post("/console/login", data=data).status_code != 303:
            raise RuntimeError("the fuzzing officer could not log in")
        page = client.get("/console").text
        csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        return str(client.cookies[STAFF_COOKIE]), csrf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=50)
    args = parser.parse_args()
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), AnsweringRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    (port,) = free_ports(1)
    with tempfile.TemporaryDirectory(prefix="minwon-fuzz-") as scratch:
        env = {
            **os.environ,
            "MINWON_VAR_DIR": scratch,
            "MINWON_PORT": str(port),
            "RASA_URL": f"http://127.0.0.1:{rasa.server_address[1]}",
            "MINWON_LOAD_RETRIEVER": "0",
            "MINWON_METRICS_PORT": "0",
            # One fuzzer from one address sends thousands of requests: limits would answer 429 to most.
            "MINWON_TURNS_PER_MINUTE_SESSION": "1000000",
            "MINWON_TURNS_PER_MINUTE_ADDRESS": "1000000",
            "MINWON_CALLBACKS_PER_HOUR_SESSION": "1000000",
            "MINWON_CALLBACKS_PER_HOUR_ADDRESS": "1000000",
            "MINWON_POLLS_PER_MINUTE_SESSION": "1000000",
            "MINWON_POLLS_PER_MINUTE_ADDRESS": "1000000",
            "MINWON_LONG_POLL_SECONDS": "0.2",  # the fuzzer's long polls come back at once
        }
        log = Path(scratch) / "api.log"
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_asgi", "--factory", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if api.poll() is not None or time.monotonic() > deadline:
                    print(log.read_text(errors="replace")[-3000:])
                    return 1
                time.sleep(0.5)
            cookie, csrf = officer_login(base, env)
            command = [
                str(Path(sys.executable).parent / "st"),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                str(args.max_examples),
                "--seed",
                "20261202",
                # Its 503 is its answer ("not ready": no knowledge release is loaded here, on purpose).
                "--exclude-path",
                "/readyz",
                # An officer's login, so the console's JSON API is fuzzed behind its door, not only at it.
                "--header",
                f"Cookie: {STAFF_COOKIE}={cookie}",
                "--header",
                f"X-CSRF-Token: {csrf}",
            ]
            print("[fuzz]", " ".join(command), flush=True)
            code = subprocess.run(command, cwd=REPO_ROOT, check=False).returncode
            errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
            print(f"[fuzz] schemathesis exit code {code}; tracebacks in the api log: {len(errors)}")
            return code or (1 if errors else 0)
        finally:
            api.terminate()
            api.wait(timeout=15)
            rasa.shutdown()


if __name__ == "__main__":
    sys.exit(main())
