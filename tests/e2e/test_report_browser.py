"""The HTML report in a real headless Chromium: it loads offline with no console errors, the
charts and the alignment tree are drawn, and a screenshot is kept in ``test-artifacts/``.

Chromium comes from Debian (``apt-get install chromium``; ``.ci/run`` installs it). Without it
the test skips with the reason, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.db import make_engine
from app.migrate import upgrade
from app.reports import html
from app.services.review import report as reports
from tests.dbutil import in_ci
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, build_org
from tests.services.review.flow import close_cycle

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Records script errors, failed resources and console.error calls, then, once everything has
# loaded and been laid out, writes them and a few layout facts into the DOM for --dump-dom.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href))));
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.__errors.push('rejection: ' + e.reason);
});
var __ce = console.error;
console.error = function () {
  window.__errors.push('console: ' + Array.prototype.join.call(arguments, ' '));
  __ce.apply(console, arguments);
};
window.addEventListener('load', function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    return [Math.round(r.width), Math.round(r.height)];
  }
  var probe = {
    errors: window.__errors,
    grade: box(document.getElementById('grade-distribution')),
    tree: box(document.getElementById('alignment-tree')),
    charts: Array.prototype.map.call(document.querySelectorAll('svg.score-chart'), box),
    nodes: document.querySelectorAll('#alignment-tree .tree-node').length,
    bars: document.querySelectorAll('#grade-distribution rect.grade-bar').length,
    lines: document.querySelectorAll('svg.score-chart polyline.series').length,
    fonts: document.fonts ? document.fonts.size : 0
  };
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(probe);
  document.body.appendChild(out);
});
</script>"""


def chromium_or_skip() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = "Chromium is not installed (Debian: apt-get install -y chromium)"
    if in_ci():
        pytest.fail(f"CI requires the browser test: {reason}", pytrace=False)
    pytest.skip(reason)


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The report of the factory organisation after a full scoring round."""
    tmp = tmp_path_factory.mktemp("browser")
    engine = make_engine(f"sqlite:///{tmp / 'report.db'}")
    upgrade(engine)
    with Session(engine) as s:
        org = build_org(s)
        close_cycle(s, org)
        data = reports.build(session=s, workspace_id=org.id, cycle=org.cycles["FY27-Q1"],
                             today=REVIEW_DAY, now=REVIEW_NOW, settings=SETTINGS)
        page = html.render(data)
    engine.dispose()
    yield page, len(data.objectives)


def test_report_renders_in_chromium(report_page: tuple[str, int], tmp_path: Path) -> None:
    binary = chromium_or_skip()
    page, objectives = report_page
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = run_chromium(binary, tmp_path / "profile-dom", "--virtual-time-budget=3000",
                       "--dump-dom", probed.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert match, "the page never finished loading:\n" + dom.stdout[-2000:]
    probe = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["errors"] == []
    # Chromium's own log of console messages (``INFO:CONSOLE:<line>] "..."``).
    assert not re.search(r"CONSOLE[:(]|Uncaught", dom.stderr), dom.stderr[-2000:]
    # Drawn, not merely present: every chart has a size on the page.
    assert probe["grade"][0] > 200 and probe["grade"][1] > 80
    assert probe["tree"][0] > 300 and probe["tree"][1] >= 26 * objectives
    assert probe["nodes"] == objectives and probe["bars"] == 4
    assert probe["lines"] == objectives and len(probe["charts"]) == objectives
    assert all(w > 200 and h > 100 for w, h in probe["charts"])

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.html").write_text(page, encoding="utf-8")
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    res = run_chromium(binary, tmp_path / "profile-shot", "--window-size=1280,2200",
                       f"--screenshot={shot}", (ARTIFACTS / "report.html").as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2200)
