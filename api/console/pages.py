"""How every console page is rendered: templates, the staff context, and headers for shared PCs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask

from api.db.models import StaffLogin

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"


def page(request: Request, name: str, staff: StaffLogin | None, **context: Any) -> HTMLResponse:
    context.update(staff=staff, user=staff.user if staff else None, csrf=staff.csrf_token if staff else "")
    response = templates.TemplateResponse(request, name, context)
    response.headers["Cache-Control"] = "no-store"  # transcripts must not linger in a shared PC's cache
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def message_page(request: Request, title: str, text: str, status_code: int) -> HTMLResponse:
    return templates.TemplateResponse(request, "message.html", {"title": title, "text": text}, status_code=status_code)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def scratch_file(prefix: str, name: str) -> Path:
    """A path in a fresh temporary folder, for a workbook written just to be downloaded."""
    return Path(tempfile.mkdtemp(prefix=prefix)) / name


def download_once(path: Path) -> FileResponse:
    """Send a workbook from ``scratch_file`` and remove it (and its folder) once sent."""
    return FileResponse(path, filename=path.name, media_type=XLSX, background=BackgroundTask(_remove, path))


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()
