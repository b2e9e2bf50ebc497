"""Notebook 06's explorer: its widget wiring without a browser, then the whole notebook in a real browser.

The browser test starts JupyterLab on 127.0.0.1 with a fresh workspace, opens notebook 06 in headless
Chromium through Playwright, runs all cells, moves the dimension slider, switches the precision and
types a new query, switches the corpus, and checks that the results table, the metrics and the plot all change.
On a laptop's screen (1366 × 768) the controls, the plot, the metrics and the results are all in view once the
explorer is scrolled to the top, and its height never changes. It saves screenshots of the screen to
test-artifacts/ and prints their paths and the browser's update times. It skips only
where no Chromium is installed, and fails instead on CI (`CI` set), which must install it
(Debian: `apt-get install -y chromium`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from mrl_helpers import SEED_QUESTION, prepare_explorer
from mrl_helpers.explorer import plot
from mrl_helpers.explorer.app import ExplorerApp
from mrl_helpers.explorer.views import scatter_trace_count

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "06_interactive_explorer.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


# --- the wiring, without a browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def state(model):
    return prepare_explorer(model, corpora=("mini",), projections=("first two", "PCA"), progress=False)


def test_each_change_redraws_once_and_the_figure_is_updated_in_place(state):
    app = ExplorerApp(state, mode="figurewidget")
    assert app.update() is app.last and app.last.dim == state.model.full_dim
    figure, n_traces = app.plot, len(app.plot.data)
    changes = app.default_changes()
    seconds = app.measure(changes)
    assert len(seconds) == len(changes) and app.plot is figure and len(app.plot.data) == n_traces
    assert app.dim.value == state.model.full_dim and app.precision.value == "float32"  # measure() restores them
    assert 'class="mrl-results"' in app.results.value and 'data-metric="ndcg"' in app.metrics.value
    assert f'data-updates="{len(app.seconds)}"' in app.status.value and "updated in place" in app.status.value
    details = app.widget.children[-1]  # the status is folded away, still updated
    assert details.children == (app.status,) and details.selected_index is None
    documents = app.plot.data[0]
    assert len(documents.x) == len(state.corpora["mini"].dataset.docs)
    assert documents.type == "scattergl" and {t.type for t in app.plot.data[1:]} == {"scatter"}  # WebGL, then SVG
    app.dim.value = 64
    if hasattr(app.plot, "_widget_data"):  # plotly 6+: a view made later starts from it, so it holds the picture
        np.testing.assert_allclose(app.plot._widget_data[0]["x"], app.last.xy[:, 0])
        assert app.plot._widget_layout["title"]["text"] == app.plot.layout.title.text
        _, _, buffers = _remove_buffers(app.plot.get_state())  # what a reloaded page asks the kernel for
        assert buffers and all(b.contiguous for b in buffers), "zmq sends contiguous buffers only"


def test_output_mode_redraws_a_plain_figure(state):
    app = ExplorerApp(state, mode="output")
    app.update()
    first = app.plot.outputs
    app.dim.value = 64
    assert len(first) == len(app.plot.outputs) == 1 and app.plot.outputs != first  # replaced, never appended
    (shown,) = app.plot.outputs
    assert shown["output_type"] == "display_data" and list(shown["data"]) == ["application/vnd.plotly.v1+json"]
    figure = go.Figure(shown["data"]["application/vnd.plotly.v1+json"])  # sent unvalidated: plotly must accept it
    assert len(figure.data) == scatter_trace_count(app._n_slots) and "64 dims" in figure.layout.title.text
    base = plot.BASE_LAYOUT  # kept, merged key by key with what changes
    assert figure.layout.title.font.size == base["title"]["font"]["size"] and figure.layout.height == plot.PLOT_SIZE[1]
    assert shown["data"]["application/vnd.plotly.v1+json"]["config"] == {"displayModeBar": False}  # no toolbar
    assert "redrawn in an Output" in app.status.value and 'data-mode="output"' in app.status.value


def test_auto_mode_chooses_output_on_colab(state, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    app = ExplorerApp(state)
    assert app.mode == "output" and "Colab" in app.mode_reason
    bundle = app._plot.bundle({"data": [{"type": "scatter", "x": np.arange(3.0), "y": [1, 2, 3]}], "layout": {}})
    assert list(bundle) == ["text/html"] and "cdn.plot.ly" in bundle["text/html"]  # Colab renders no mimetype


def test_controls(state):
    app = ExplorerApp(state, mode="figurewidget")
    app.update()
    assert app.oversample.disabled
    app.precision.value = "binary+rescore"
    assert not app.oversample.disabled
    assert [b.button_style for b in app.ladder] == ["primary"] + [""] * (len(app.ladder) - 1)  # the active rung
    app.ladder[-1].click()
    assert app.dim.value == state.ladder[-1] == app.last.dim and app.ladder[-1].button_style == "primary"
    app.dim.value = state.dims[state.dims.index(state.ladder[-2]) + 1]  # between two rungs: none is active
    assert {b.button_style for b in app.ladder} == {""}
    example = state.corpora["mini"].examples[2]
    app.examples.value = example
    assert app.query.value == example == app.last.query and app.examples.value == ""


def test_switching_corpus_redraws_once_in_the_same_figure(model, scifact):
    both = prepare_explorer(model, projections=("first two", "PCA"), scifact_docs=600, every_dim=False, progress=False)
    app = ExplorerApp(both, mode="figurewidget")
    app.update()
    figure, n = app.plot, len(app.seconds)
    app.corpus.value = "scifact"
    corpus = both.corpora["scifact"]
    assert len(app.seconds) == n + 1 and app.plot is figure and app.last.corpus == "scifact"
    assert app.query.value == corpus.examples[0] and [v for _, v in app.examples.options][1:] == corpus.examples
    assert len(app.plot.data[0].x) == 600 and "k-means cluster" in app.plot.layout.legend.title.text
    assert sum(bool(t.visible) for t in app.plot.data[3:]) == 8  # eight cluster colours, the other slots hidden


def test_bad_input_is_reported_and_the_last_result_kept(state):
    app = ExplorerApp(state, mode="figurewidget")
    good = app.update()
    app.query.value = "   "
    assert app.last is good and "Not updated: query=&#x27;   &#x27; is empty" in app.alert.value
    app.query.value = SEED_QUESTION
    assert app.last is not good and app.alert.value == ""


# --- a real kernel, no browser ---------------------------------------------------------------------------

KERNEL_CELLS = [
    """import json, numpy as np
from mrl_helpers import load_model, prepare_explorer
from mrl_helpers.explorer.app import ExplorerApp
state = prepare_explorer(load_model("minilm"), corpora=("mini",), projections=("first two", "PCA"), progress=False)
app = ExplorerApp(state, mode="output")
app.update()
display(app.widget)""",
    "seconds = app.measure()",
    """import ipywidgets, plotly
print(json.dumps({"first": app.seconds[0], "changes": seconds, "n_changes": len(app.default_changes()),
                  "shown": [sorted(o.get("data", {})) for o in app.plot.outputs],
                  "versions": f"ipywidgets {ipywidgets.__version__}, plotly {plotly.__version__}"}))""",
]


@pytest.mark.timeout(600)
def test_output_mode_in_a_kernel(capsys):
    """The fallback for ipywidgets 7 (Colab) in a real kernel, as nbmake runs notebook 06: it must not stall.

    Each cell has two minutes. Prints the time of each redraw, measured in Python inside the kernel.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in KERNEL_CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    result = json.loads(nb.cells[-1].outputs[0]["text"])
    assert len(result["changes"]) == result["n_changes"], "each change of a control ran exactly one update"
    assert result["shown"] == [["application/vnd.plotly.v1+json"]], "the Output holds the latest figure, only it"
    seconds = np.array(result["changes"])
    with capsys.disabled():
        print(f"\noutput mode in a kernel ({result['versions']}): first update {result['first'] * 1e3:.0f} ms; "
              f"{len(seconds)} changes, median {np.median(seconds) * 1e3:.0f} ms, "
              f"p95 {np.percentile(seconds, 95) * 1e3:.0f} ms, slowest {seconds.max() * 1e3:.0f} ms")


# --- the real browser ----------------------------------------------------------------------------------


def find_chromium() -> str | None:
    candidates = [os.environ.get("MRL_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and Path(c).exists()), None)


def require_browser() -> str:
    """The path to Chromium; skip where there is none, but fail on CI, which must install it."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Python Playwright is not installed (pip install -e '.[test]')"
    else:
        chromium = find_chromium()
        if chromium:
            return chromium
        reason = ("no Chromium found at /usr/bin/chromium or on PATH (Debian/Ubuntu: apt-get install -y chromium, "
                  "or set MRL_CHROMIUM to a Chromium binary)")
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser test")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop the server we started, by its process id, then anything left in its process group (its kernel)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group's id is the server's pid (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a random token, serving a copy of notebook 06, with fresh workspace and settings."""
    import ipywidgets

    if int(ipywidgets.__version__.split(".")[0]) < 8:  # the lowest versions: make test-lowest
        pytest.skip(f"ipywidgets {ipywidgets.__version__}: JupyterLab 4 renders ipywidgets 8 only; ipywidgets 7 is "
                    "Colab's stack, whose kernel side test_output_mode_in_a_kernel checks")
    chromium = require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root)
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no news or update pop-ups over the notebook
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                          "checkForUpdates": False}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp / "config")}  # MRL_DATA_DIR, MRL_CACHE_DIR... pass through
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}"] + (["--allow-root"] if os.geteuid() == 0 else [])
    log_path = tmp / "jupyterlab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start (exit code {proc.poll()}):\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield types.SimpleNamespace(chromium=chromium, pid=proc.pid, log=log_path, notebook=root / NOTEBOOK.name,
                                    url=f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}")
    finally:
        stop(proc)


READ_STATE = """() => {
    const gd = document.querySelector('.mrl-plot .js-plotly-plot');
    const status = document.querySelector('.mrl-status');
    const docs = gd && gd.data ? gd.data[0] : null, query = gd && gd.data ? gd.data[2] : null;
    return {
        results: document.querySelector('.mrl-results') ? document.querySelector('.mrl-results').innerText : null,
        metrics: document.querySelector('.mrl-metrics') ? document.querySelector('.mrl-metrics').innerText : null,
        updates: status ? Number(status.dataset.updates) : -1,
        plot: docs ? {
            docs_x: Array.from(docs.x).slice(0, 20).map(v => Number(v).toFixed(5)).join(','),
            query: [Number(query.x[0]).toFixed(5), Number(query.y[0]).toFixed(5)].join(','),
            title: gd.layout.title.text,
            labels: Array.from(gd.querySelectorAll('.legendtext, .textpoint'), e => e.textContent).join('|'),
            webgl_points: gd._fullData[0].type === 'scattergl' && gd.querySelector('canvas.gl-canvas-context')
                && document.createElement('canvas').getContext('webgl') ? gd._fullData[0]._length : 0,
            same_element: gd.__mrl_marker === 1,
        } : null,
    };
}"""
MARK_AND_LISTEN = """() => {
    document.querySelector('.mrl-plot .js-plotly-plot').__mrl_marker = 1;
    for (const type of ['keydown', 'click']) {
        document.addEventListener(type, () => { window.__mrl_t0 = performance.now(); }, true);
    }
    new MutationObserver(() => { window.__mrl_status_at = performance.now(); }).observe(
        document.querySelector('.mrl-status-box'), {subtree: true, childList: true, characterData: true});
}"""
KERNEL_IDLE = "() => document.querySelector('#jp-main-statusbar').innerText.includes('| Idle')"
LAPTOP = {"width": 1366, "height": 768}
IN_VIEW = [".mrl-corpus", ".mrl-query", ".mrl-examples", ".mrl-dim", ".mrl-ladder", ".mrl-precision", ".mrl-oversample",
           ".mrl-k", ".mrl-projection", ".mrl-plot", ".mrl-metrics-box", ".mrl-results-box", ".mrl-details"]
SCROLL_TO_TOP = "e => e.scrollIntoView({block: 'start'})"


def scroll_to_top(page) -> None:
    """Scroll the explorer's top to the top of the notebook, again until it stays there.

    JupyterLab draws cells only once they come into view; the real height of those above can push it down.
    """
    explorer, last = page.locator(".mrl-explorer"), None
    for _ in range(20):
        explorer.evaluate(SCROLL_TO_TOP)
        page.wait_for_timeout(250)
        if (top := explorer.bounding_box()["y"]) == last:
            return
        last = top
    raise AssertionError(f"the explorer's top does not stay in place after scrolling to it (last at y={last})")


def outside_the_screen(page) -> dict:
    """The parts of the explorer not wholly on the screen, with their boxes (empty: everything is in view)."""
    boxes = {selector: page.locator(selector).first.bounding_box() for selector in IN_VIEW}
    return {selector: box for selector, box in boxes.items() if box is None or box["x"] < 0 or box["y"] < 0
            or box["x"] + box["width"] > LAPTOP["width"] or box["y"] + box["height"] > LAPTOP["height"]}


def assert_every_cell_ran(page, saved: Path) -> None:
    """Save the notebook (Ctrl+S) and read it back: every code cell has run, and none raised."""
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while True:
        cells = [c for c in json.loads(saved.read_text())["cells"] if c["cell_type"] == "code"]
        if all(c["execution_count"] for c in cells) or time.monotonic() > deadline:
            break
        time.sleep(1)
    not_run = [i for i, c in enumerate(cells) if not c["execution_count"]]
    errors = [o.get("evalue") for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not not_run and not errors, f"code cells not run: {not_run}; errors: {errors}"


@pytest.mark.timeout(600)
def test_explorer_in_a_real_browser(lab, capsys):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    screenshots: list[Path] = []
    seconds: list[float] = []  # in the browser, from the input event to the redrawn plot
    kernel_seconds: list[float] = []  # the same updates, in Python inside the kernel
    status_seconds: list[float] = []  # from the input event until the status line (sent last) changed

    def read(page) -> dict:
        return page.evaluate(READ_STATE)

    def change(page, action, what_changes) -> dict:
        """Do `action`; wait until the plot shows the change and the kernel's redraw reached the page (status counter).

        Timed in the page: from the input event (keydown or click) to the first frame that shows the plot's change
        (the check runs at every frame and notes the time itself, so Playwright's round trips are not counted).
        """
        before = read(page)
        page.evaluate("() => { window.__mrl_t0 = null; }")
        action()
        page.wait_for_function(f"(before) => ({READ_STATE})().plot.{what_changes} !== before "
                               "&& (window.__mrl_seen = performance.now())",
                               arg=before["plot"][what_changes], polling="raf")
        page.wait_for_function(f"() => Number(document.querySelector('.mrl-status').dataset.updates) > "
                               f"{before['updates']}")
        seconds.append(page.evaluate("() => (window.__mrl_seen - window.__mrl_t0) / 1000"))
        status_seconds.append(page.evaluate("() => (window.__mrl_status_at - window.__mrl_t0) / 1000"))
        kernel_seconds.append(float(page.locator(".mrl-status").get_attribute("data-last-ms")) / 1000)
        return before

    heights: dict[str, float] = {}  # the explorer's height after each step

    def shoot(page, name: str) -> None:
        """Scroll the explorer's top to the top of the screen, check that it is all in view, save the screen."""
        scroll_to_top(page)
        heights[name] = page.locator(".mrl-explorer").bounding_box()["height"]
        path = ARTIFACTS / f"explorer-{name}.png"
        page.screenshot(path=str(path))
        screenshots.append(path)
        assert not outside_the_screen(page), f"{name}: not all in view at 1366 × 768: {outside_the_screen(page)}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=lab.chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=LAPTOP)
            page.set_default_timeout(60_000)

            # 1. Open the notebook, wait for its kernel, then Run > Run All Cells
            page.goto(lab.url)
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_function(KERNEL_IDLE)
            page.click("#jp-MainMenu .lm-MenuBar-item:has-text('Run')")
            page.click(".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('Run All Cells'))")
            page.wait_for_selector(".mrl-status[data-updates]", state="attached", timeout=300_000)
            page.wait_for_function(KERNEL_IDLE, timeout=300_000)
            assert_every_cell_ran(page, lab.notebook)
            page.locator(".mrl-explorer").scroll_into_view_if_needed()  # JupyterLab renders cells in view only
            page.wait_for_function("() => document.querySelector('.mrl-plot .js-plotly-plot .scatterlayer .point')")
            page.evaluate(MARK_AND_LISTEN)
            shoot(page, "1-after-run-all")
            first = read(page)
            assert first["results"].count("\n") >= 5 and "overlap@5" in first["metrics"]
            assert first["plot"]["webgl_points"] > 100, "the documents are drawn with WebGL"

            # 2. Move the dimension slider: eight steps of 8 to the left with the keyboard, one redraw each
            handle = page.locator(".mrl-dim .noUi-handle")
            full_dim = int(page.locator(".mrl-dim .widget-readout").inner_text())
            handle.focus()
            for _ in range(8):
                change(page, lambda: page.keyboard.press("ArrowLeft"), "docs_x")
            dim = full_dim - 64
            assert page.locator(".mrl-dim .widget-readout").inner_text() == str(dim)
            moved = read(page)
            assert moved["results"] != first["results"] or moved["metrics"] != first["metrics"]
            assert f"{dim} dimensions" in moved["metrics"] and moved["metrics"] != first["metrics"]
            assert moved["plot"]["docs_x"] != first["plot"]["docs_x"], "the documents moved in the picture"
            assert page.locator(".mrl-ladder button.mod-primary").count() == 0, "no rung is active between rungs"
            shoot(page, "2-dimension-slider")
            rung = page.locator(".mrl-ladder button").nth(2)
            dim = int(rung.inner_text())
            change(page, rung.click, "docs_x")
            assert page.locator(".mrl-ladder button.mod-primary").all_inner_texts() == [str(dim)], "the rung is shown"
            moved = read(page)

            # 3. Switch the precision to binary
            change(page, lambda: page.locator(".mrl-precision button", has_text=re.compile(r"^\s*binary\s*$")).click(),
                   "title")
            binary = read(page)
            assert "Hamming" in binary["results"] and binary["results"] != moved["results"]
            assert f"{dim // 8} bytes per vector" in binary["metrics"] and binary["metrics"] != moved["metrics"]
            assert "binary search" in binary["plot"]["title"] and binary["plot"]["title"] != moved["plot"]["title"]
            shoot(page, "3-precision-binary")

            # 4. Type a new query and press Enter
            box = page.locator(".mrl-query input")
            question = "Which planet has the tallest volcano in the solar system?"
            change(page, lambda: (box.fill(question), box.press("Enter")), "query")
            typed = read(page)
            assert typed["results"] != binary["results"] and typed["metrics"] != binary["metrics"]
            assert typed["plot"]["query"] != binary["plot"]["query"], "the query's star moved"
            assert typed["plot"]["same_element"], "the same plot element was updated in place, never replaced"
            shoot(page, "4-new-query")
            latest = typed

            # 5. Switch to the SciFact subset (where the notebook has it): its clusters are named by their words
            scifact = page.locator(".mrl-corpus button", has_text="SciFact")
            if scifact.count():
                change(page, scifact.click, "docs_x")
                latest = read(page)
                legend = page.evaluate("() => Array.from(document.querySelectorAll('.mrl-plot .legendtext'), "
                                       "e => e.textContent)")
                assert page.locator(".mrl-metrics").get_attribute("data-corpus") == "scifact"
                assert len(legend) == 10 and not any(t.startswith("cluster") for t in legend), legend
                shoot(page, "5-scifact")
            assert len(set(heights.values())) == 1, f"the explorer's height changed: {heights}"

            # 6. Reload the page: the views are made afresh from the kernel's widgets and show the latest picture
            page.reload()
            page.wait_for_selector(".mrl-explorer", state="attached")
            page.locator(".mrl-explorer").scroll_into_view_if_needed()
            page.wait_for_function("() => document.querySelector('.mrl-plot .js-plotly-plot .scatterlayer .point')")
            # JupyterLab may not lay out cells off screen yet: wait until the results are drawn, not only the plot
            page.wait_for_function("() => document.querySelector('.mrl-results')?.innerText.trim().length > 0")
            reloaded = read(page)
            assert reloaded["plot"]["query"] == latest["plot"]["query"] and reloaded["results"] == latest["results"]
            assert reloaded["plot"]["docs_x"] == latest["plot"]["docs_x"]
            assert reloaded["plot"]["labels"] == latest["plot"]["labels"], "the legend and the rank labels are drawn again"
            shoot(page, "6-after-reload")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "explorer-failure.png"))
            (ARTIFACTS / "explorer-failure.html").write_text(page.content())
            with capsys.disabled():
                print(f"\nfailure screenshot: {ARTIFACTS / 'explorer-failure.png'}; "
                      f"page: {ARTIFACTS / 'explorer-failure.html'}")
            raise
        finally:
            browser.close()

    with capsys.disabled():
        for label, times in (("in the browser (input event to redrawn plot)", seconds),
                             ("in the browser (input event to the status line, sent after the plot)", status_seconds),
                             ("in Python, in the kernel, for the same changes", kernel_seconds)):
            print(f"\nexplorer update time {label}: {len(times)} changes, median {np.median(times) * 1e3:.0f} ms, "
                  f"p95 {np.percentile(times, 95) * 1e3:.0f} ms", end="")
        print(f"\nthe explorer's height after each step: {heights}")
        for path in screenshots:
            print(f"screenshot: {path}")
