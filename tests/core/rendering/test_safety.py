"""CV text cannot make the renderer fetch anything: it is escaped, and the URL fetcher is an exact allow-list."""

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
import weasyprint
from PIL import Image

from core.rendering import build_context, render_pdf
from core.rendering import pdf as pdf_module
from core.rendering.fetcher import AllowListFetcher, RefusedURL
from tests.core.rendering.pdftools import image_count


def _png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (40, 40), "#ff0000").save(buffer, format="PNG")
    return buffer.getvalue()


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with a PNG and records its path."""

    def do_GET(self):
        self.server.paths.append(self.path)
        body = _png()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def real_image(tmp_path):
    path = tmp_path / "private-photo.png"
    path.write_bytes(_png())
    return path


def _hostile_markup(http: str, real_file_uri: str) -> str:
    data_uri = "data:image/png;base64," + base64.b64encode(_png()).decode()
    return "".join(
        [
            f'<img src="{http}/img.png">',
            f'<link rel="stylesheet" href="{http}/link.css">',
            f"<style>@import url({http}/import.css); body {{ background: url({http}/bg.png) }}",
            f"@font-face {{ font-family: Evil; src: url({http}/font.ttf) }} p {{ font-family: Evil }}</style>",
            f'<div style="background-image: url({http}/inline.png)">styled</div>',
            f'<svg width="10" height="10"><image href="{http}/svg.png" width="10" height="10"/></svg>',
            f'<object data="{http}/object.png"></object><embed src="{http}/embed.png">',
            '<img src="file:///etc/passwd">',
            f'<img src="{real_file_uri}">',
            f'<img src="{data_uri}">',
            f'<base href="{http}/"><img src="relative.png">',
        ]
    )


def test_hostile_cv_text_fetches_nothing(http_server, real_image, plain_branding):
    http = f"http://127.0.0.1:{http_server.server_port}"
    hostile = _hostile_markup(http, real_image.as_uri())
    context = build_context(
        {
            "name": hostile,
            "role": [hostile],
            "location": hostile,
            "availability": hostile,
            "professional_profile": hostile,
            "employment_history": [
                {"company": hostile, "role": hostile, "date_range": hostile, "responsibilities": [hostile]}
            ],
            "qualifications": [hostile],
            "interests": hostile,
        }
    )

    pdf = render_pdf(context, plain_branding)

    assert http_server.paths == []
    assert image_count(pdf) == 0


def test_fetcher_blocks_even_unescaped_markup(http_server, real_image, plain_branding, monkeypatch):
    """Second wall: if markup ever reached the page unescaped, the allow-list still fetches nothing."""
    http = f"http://127.0.0.1:{http_server.server_port}"
    raw_page = f"<html><body><p>x</p>{_hostile_markup(http, real_image.as_uri())}</body></html>"
    monkeypatch.setattr(pdf_module, "render_html", lambda context, branding: raw_page)

    pdf = render_pdf(build_context({}), plain_branding)

    assert http_server.paths == []
    assert image_count(pdf) == 0


def test_control_default_fetcher_does_fetch_the_same_markup(http_server, real_image):
    """Proves the two tests above can fail: WeasyPrint's own fetcher loads these resources."""
    http = f"http://127.0.0.1:{http_server.server_port}"
    raw_page = f"<html><body><p>x</p>{_hostile_markup(http, real_image.as_uri())}</body></html>"

    pdf = weasyprint.HTML(string=raw_page).write_pdf()

    assert len(http_server.paths) >= 5
    assert image_count(pdf) >= 2  # at least the local file and the data: URI


def test_fetcher_serves_exactly_the_allow_list(tmp_path, real_image, http_server):
    allowed = tmp_path / "logo.png"
    allowed.write_bytes(_png())
    alias = tmp_path / "alias.png"
    alias.symlink_to(real_image)
    fetcher = AllowListFetcher([allowed])

    response = fetcher.fetch(allowed.as_uri())
    assert response.read() == allowed.read_bytes()
    assert response.content_type == "image/png"

    refused = [
        real_image.as_uri(),  # a real file next to the allowed one
        alias.as_uri(),  # a symlink to a file that is not allowed
        "file:///etc/passwd",
        f"file://{tmp_path}/sub/../private-photo.png",
        f"{allowed.as_uri()}?x=1",
        f"file://evil.example{allowed}",
        f"http://127.0.0.1:{http_server.server_port}{allowed}",
        "data:image/png;base64," + base64.b64encode(allowed.read_bytes()).decode(),
        "logo.png",
    ]
    for url in refused:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert http_server.paths == []


def test_logo_behind_a_symlink_is_served_by_its_real_path(tmp_path):
    real_logo = tmp_path / "logo.png"
    real_logo.write_bytes(_png())
    link = tmp_path / "current-logo.png"
    link.symlink_to(real_logo)

    assert AllowListFetcher([link]).fetch(real_logo.as_uri()).read() == real_logo.read_bytes()
