"""The admin and the API docs in a real browser: headless Chromium against gunicorn;
and what gunicorn's log shows for a request refused for its Host.

Each page must load without a single 4xx/5xx answer in its network log (a
missing favicon, script or thumbnail shows up here), render what a person came
for, and leave a screenshot in the test's folder (or in BROWSER_SHOTS_DIR) to look at.
"""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests_hardening.browser import Browser, chromium_path
from tests_hardening.instance import instance

pytestmark = pytest.mark.heavy

PASSWORD = "a long test password 7f3a"
SHA = "c" * 64
# A pending model's path of 200 characters and more, as deep model libraries have.
DEEP = "/mnt/library/models/" + "/".join(f"collection_{n:02d}" for n in range(14))

SETUP = f"""
import io
from PIL import Image
from catalog.models import CatalogModel
from imaging.services import sample_image_add
from migration_app.models import PendingModel
from migration_app.services.pending import pending_image_add
from tags.models import Tag

def png(color):
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), color).save(buffer, format="PNG")
    return buffer.getvalue()

style = Tag.objects.create(name="style")
model = CatalogModel.objects.create(
    sha256="{SHA}", name="Portrait LoRA", type="loras", size_bytes=151_000_000,
    path="{DEEP}/portrait.safetensors", created_at=1_700_000_000_000,
    description="A sample model for the browser check.",
)
model.tags.set([style])
sample_image_add(model=model, content=png((200, 40, 40)), file_name="portrait.png")
for n in range(40):
    pending = PendingModel.objects.create(
        path=f"{DEEP}/lora_number_{{n:03d}}_with_a_rather_long_file_name.safetensors",
        type="loras" if n % 3 else "checkpoints", size_bytes=1000 * n,
        created_at=1_700_000_000_000 + n,
    )
    if n == 0:
        pending.tags.set([style])
        pending_image_add(pending_model=pending, content=png((40, 40, 200)), file_name="p0.png")
print("ready")
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed and cannot be installed here (needs root and apt)")
    return path


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("BROWSER_SHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def served(tmp_path):
    """A migrated instance with data and a superuser, served by gunicorn."""
    with instance(tmp_path) as inst:
        inst.env["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
        inst.manage("createsuperuser", "--no-input", "--username", "curator", "--email", "c@x.org")
        assert "ready" in inst.run_python(SETUP).stdout
        with inst.serve(workers=2) as url:
            yield url


def log_in(browser: Browser, url: str) -> None:
    load = browser.open(f"{url}/admin/login/?next=/admin/")
    assert not load.bad, load.bad
    browser.evaluate(
        "document.getElementById('id_username').value = 'curator';"
        f"document.getElementById('id_password').value = {PASSWORD!r};"
        "document.getElementById('login-form').submit();"
    )
    load = browser.wait_for_load()
    assert not load.bad, load.bad
    assert browser.evaluate("document.title").endswith("Model library admin")


def test_admin_pages_and_api_docs_render_without_a_404(chromium, served, shots):
    url = served
    with Browser(chromium) as browser:
        log_in(browser, url)
        browser.screenshot(shots / "admin_index.png")

        # The catalog model's change page: dates as dates, the sample image inline.
        load = browser.open(f"{url}/admin/catalog/catalogmodel/{SHA}/change/")
        assert not load.bad, load.bad
        text = browser.evaluate("document.body.innerText")
        assert "Portrait LoRA" in text and "Nov. 14, 2023" in text
        assert "1700000000000" not in text
        assert any("/static/config/favicon.svg" in a.url for a in load.answers) or (
            browser.evaluate("!!document.querySelector('link[rel=icon]')")
        )
        browser.screenshot(shots / "catalog_change.png")

        # The pending list: 200-character paths cut in the middle, whole on hover,
        # and the page no wider than the window.
        load = browser.open(f"{url}/admin/migration_app/pendingmodel/")
        assert not load.bad, load.bad
        cells = browser.evaluate(
            "Array.from(document.querySelectorAll('td.field-short_path span[title]'))"
            ".map(s => [s.textContent, s.title])"
        )
        assert len(cells) == 40
        for shown, full in cells:
            assert len(full) >= 200 and full.startswith(DEEP)
            head, tail = shown.split("…")
            assert len(shown) <= 32 and DEEP.startswith(head) and DEEP.endswith(tail)
        browser.screenshot(shots / "pending_list.png")
        # Every row on one line, and the table as wide as its box: no scrolling sideways.
        overflow = browser.evaluate(
            "(() => { const box = document.querySelector('#changelist .results');"
            " return box.scrollWidth - box.clientWidth; })()"
        )
        assert overflow <= 0, f"the list is {overflow} px wider than its box"
        heights = browser.evaluate(
            "Array.from(document.querySelectorAll('#result_list tbody tr'))"
            ".map(row => row.getBoundingClientRect().height)"
        )
        assert max(heights) < 2 * min(heights), heights
        text = browser.evaluate("document.body.innerText")
        assert "By catalog conflict" in text and "By type" in text
        assert "Add pending model" not in text

        # The API docs, with API_AUTH=none: every route, no Authorize button, no locks.
        load = browser.open(f"{url}/api/docs/")
        assert not load.bad, load.bad
        browser.wait_for("document.querySelectorAll('.opblock').length > 20")
        assert browser.evaluate("document.querySelector('.btn.authorize') === null")
        assert browser.evaluate("document.querySelectorAll('.authorization__btn').length") == 0
        assert not load.console_errors, load.console_errors
        browser.screenshot(shots / "api_docs.png")

        # The landing page, and a route browsers ask for on their own.
        load = browser.open(f"{url}/favicon.ico")
        assert not load.bad, load.bad
        load = browser.open(f"{url}/")
        assert not load.bad, load.bad


def test_a_refused_host_is_one_line_in_the_server_log(tmp_path):
    with instance(tmp_path) as inst, inst.serve(workers=1) as url:
        address = urlsplit(url)
        for _ in range(3):
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
            connection.request("GET", "/api/hello", headers={"Host": "nas.local"})
            response = connection.getresponse()
            body = response.read().decode()
            connection.close()
            assert response.status == 400
            assert "Host 'nas.local' is not allowed; set ALLOWED_HOSTS" in body
        log = inst.server_log

    lines = [line for line in log.splitlines() if "nas.local" in line]
    assert len(lines) == 3, log
    assert "Traceback" not in log
