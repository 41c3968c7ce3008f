"""deploy/: the nginx site runs for real in front of a recording upstream (loopback only), and the
systemd units pass ``systemd-analyze verify``.

127.0.0.1 stands for the office network and 127.0.0.2 (also loopback) for a resident's address
outside it, so the allow/deny lists are exercised by real connections from two source addresses.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from api.runner import free_ports
from faq.paths import REPO_ROOT
from tests.checks import unavailable

DEPLOY = REPO_ROOT / "deploy"
NGINX = "/usr/sbin/nginx"
OFFICE = "127.0.0.1"
OUTSIDE = "127.0.0.2"
OPENSSL_SELF_SIGNED = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t"]
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class Upstream:
    """Stands where the api and the metrics bind are: records what nginx forwarded."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                body = json.dumps({"path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def site_for_test(tmp: Path, http_port: int, https_port: int, upstream: int) -> Path:
    """The shipped site with test ports, a throwaway certificate and IPv4 only; nothing else changed."""
    subprocess.run(
        [*OPENSSL_SELF_SIGNED, "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")],
        check=True,
        capture_output=True,
    )
    text = (DEPLOY / "nginx" / "minwon.conf").read_text(encoding="utf-8")
    replaced = {
        "/etc/nginx/tls/minwon.crt": str(tmp / "cert.pem"),
        "/etc/nginx/tls/minwon.key": str(tmp / "key.pem"),
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "http://127.0.0.1:9475/metrics": f"http://127.0.0.1:{upstream}/metrics",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
    }
    for old, new in replaced.items():
        assert old in text, f"deploy/nginx/minwon.conf no longer has {old!r}"
        text = text.replace(old, new)
    text = re.sub(r"^\s*listen \[::\].*$", "", text, flags=re.MULTILINE)
    site = tmp / "minwon.conf"
    site.write_text(text, encoding="utf-8")
    main = tmp / "nginx.conf"
    temp = "\n".join(f"  {kind}_temp_path {tmp / kind};" for kind in TEMP_PATHS)
    main.write_text(
        f"pid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'};\nevents {{}}\n"
        f"http {{\n{temp}\n  access_log off;\n  include {site};\n}}\n",
        encoding="utf-8",
    )
    return main


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Upstream]]:
    if not Path(NGINX).exists():
        unavailable("nginx is not installed (scripts/ensure-system-deps.sh installs it)")
    upstream = Upstream()
    http_port, https_port = free_ports(2)
    config = site_for_test(tmp_path, http_port, https_port, upstream.port)
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(config), "-g", "daemon off;"]
    )
    base = f"https://127.0.0.1:{https_port}"
    try:
        for _ in range(100):  # bounded wait for the listener
            try:
                httpx.get(f"{base}/healthz", verify=False, timeout=1.0)
                break
            except httpx.HTTPError:
                assert process.poll() is None, (tmp_path / "error.log").read_text()
                time.sleep(0.1)
        yield base, upstream
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.close()


def client(source: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source, verify=False), timeout=10.0)


def test_the_console_and_metrics_answer_only_the_internal_network(nginx: tuple[str, Upstream]) -> None:
    base, upstream = nginx
    with client(OFFICE) as office, client(OUTSIDE) as outside:
        assert office.get(f"{base}/console/login").status_code == 200
        assert office.get(f"{base}/metrics").status_code == 200
        assert upstream.seen[-1]["path"] == "/metrics"
        for path in ("/console/login", "/console", "/metrics", "/readyz", "/docs"):
            assert outside.get(f"{base}{path}").status_code == 403, path
        # Rasa calls the action webhook on 127.0.0.1 directly; through nginx nobody may.
        assert office.post(f"{base}/internal/actions/webhook", json={}).status_code == 403
        # Residents' side is open to everyone.
        assert outside.get(f"{base}/demo/").status_code == 200
        assert outside.post(f"{base}/api/v1/chat", json={"text": "여권"}).status_code == 200


def test_the_api_sees_the_residents_address_not_one_they_claim(nginx: tuple[str, Upstream]) -> None:
    base, upstream = nginx
    with client(OUTSIDE) as outside:
        response = outside.post(f"{base}/api/v1/chat", json={"text": "여권"}, headers={"X-Forwarded-For": "10.1.2.3"})
    assert response.status_code == 200
    forwarded = upstream.seen[-1]
    # MINWON_TRUSTED_PROXIES=127.0.0.1 makes the api believe exactly this header from nginx.
    assert forwarded["x-forwarded-for"] == OUTSIDE
    assert forwarded["x-forwarded-proto"] == "https"


def test_http_is_sent_to_https(nginx: tuple[str, Upstream], tmp_path: Path) -> None:
    config = (tmp_path / "minwon.conf").read_text(encoding="utf-8")
    http_port = re.search(r"listen 127\.0\.0\.1:(\d+);", config)
    assert http_port is not None
    response = httpx.get(f"http://127.0.0.1:{http_port.group(1)}/demo/", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"].startswith("https://")


def test_websocket_and_socketio_upgrades_reach_the_api(nginx: tuple[str, Upstream]) -> None:
    base, upstream = nginx
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    with client(OUTSIDE) as outside:
        for path in ("/api/v1/ws", "/socket.io/?EIO=4&transport=websocket"):
            outside.get(f"{base}{path}", headers={**upgrade, "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
            seen = upstream.seen[-1]
            assert seen["path"] == path
            assert seen["upgrade"] == "websocket" and seen["connection"].lower() == "upgrade"
        # A plain request keeps the upstream connection instead of asking for an upgrade.
        outside.post(f"{base}/api/v1/events", json={})
        assert upstream.seen[-1].get("connection", "").lower() != "upgrade"


def test_the_long_poll_outlasts_its_hold_time() -> None:
    """POST /api/v1/events is held up to MINWON_LONG_POLL_SECONDS (25 s); nginx must wait longer."""
    text = (DEPLOY / "nginx" / "minwon.conf").read_text(encoding="utf-8")
    block = text.split("location /api/v1/ {", 1)[1].split("}", 1)[0]
    timeout = re.search(r"proxy_read_timeout (\d+)s;", block)
    assert timeout is not None and int(timeout.group(1)) > 25


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine (the units are checked where it is)")
    units = sorted((DEPLOY / "systemd").glob("minwon*"))
    assert {u.name for u in units} >= {
        "minwon.service",
        "minwon-backup.service",
        "minwon-backup.timer",
        "minwon-purge.service",
        "minwon-purge.timer",
    }
    for unit in units:
        # The units name the install's paths; point them at this checkout so the executables exist.
        text = unit.read_text(encoding="utf-8").replace("/opt/minwon/current", str(REPO_ROOT))
        text = text.replace("/etc/minwon/minwon.env", str(DEPLOY / "minwon.env.example"))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / u.name) for u in units)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Unknown keys and bad values are only warnings: any output is a finding.
    assert result.returncode == 0 and result.stderr.strip() == "" and result.stdout.strip() == "", result.stderr
