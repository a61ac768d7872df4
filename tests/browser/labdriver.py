"""Drive JupyterLab 4 in headless Chromium: start a server, run a notebook, move every widget.

Facts this relies on (checked with JupyterLab 4.x, ipywidgets 8): Debian's Chromium at
/usr/bin/chromium driven by Playwright (never a downloaded browser); error outputs render as
``application/vnd.jupyter.stderr`` text holding "Traceback"; sliders are noUiSlider handles
(``.noUi-handle[role=slider]``, moved with focus + ArrowRight); with windowing off
(``windowingMode: none``) every cell is in the DOM, in notebook order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
RUNS: list = []  # NotebookRun records of this session, for the summary at the end

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# JupyterLab user settings for a test: never autosave over a notebook, render every cell, no news.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

# What each kind of control is, and how to find it inside a cell's output area.
CONTROLS = {
    "slider": ".noUi-handle[role=slider]:not(.noUi-handle-upper), input[type=range]",
    "dropdown": ".widget-dropdown select, .widget-select select",
    "checkbox": ".widget-checkbox input[type=checkbox]",
    "toggle-buttons": ".widget-toggle-buttons",
    "radio": ".widget-radio-box",
    "toggle": "button.widget-toggle-button",
    "button": "button.widget-button",
}

# The cell's "output" as a widget's user sees it, without the controls themselves:
# images, text, HTML and SVG anywhere in the output area (including Output widgets).
SIGNATURE_JS = """(area) => {
  const parts = [];
  for (const e of area.querySelectorAll(
      'img, .jp-RenderedText, .jp-RenderedHTMLCommon, .widget-html-content, .jp-RenderedSVG, .jp-RenderedLatex')) {
    if (e.closest('.widget-readout, .widget-label, .widget-label-basic')) continue;
    parts.push(e.tagName === 'IMG' ? 'img:' + e.getAttribute('src') : e.className + ':' + e.innerHTML);
  }
  return parts.join('\\n');
}"""

ERROR_JS = """(area) => Array.from(area.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
  .map(e => e.innerText).filter(t => /Traceback \\(most recent call last\\)|^\\w*(Error|Exception)\\b/m.test(t))"""


# images and widget placeholders of the opened notebook (the stored outputs, before Run All)
STORED_JS = """() => { const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const imgs = Array.from(nb.querySelectorAll('.jp-RenderedImage img'));
  const text = nb.innerText;
  return {images: imgs.length, broken: imgs.filter(i => i.complete && i.naturalWidth === 0).length,
          widget_placeholders: (text.match(/Error displaying widget|Loading widget|model not found/g) || []).length,
          frozen_bars: (text.match(/\\b0%\\|/g) || []).length}; }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab on 127.0.0.1 serving `root`, its config/runtime/data/settings in `home`."""

    def __init__(self, root: pathlib.Path, home: pathlib.Path, env: dict | None = None):
        self.root, self.home = pathlib.Path(root), pathlib.Path(home)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.home / "server.log"
        self.env = dict(os.environ, **(env or {}))
        for name, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                          ("JUPYTER_DATA_DIR", "data"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                          ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
            self.env[name] = str(self.home / sub)
        for plugin, value in LAB_SETTINGS.items():
            path = self.home / "settings" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
               "--ServerApp.password=", "--allow-root", f"--ServerApp.root_dir={self.root}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(self.url + "/api/status", timeout=2).read()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer on {self.url} within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server by its PID (its kernels go with it)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        self.process = None


def make_site(repo: pathlib.Path, site: pathlib.Path) -> pathlib.Path:
    """A server root that looks like the repository: notebooks/ copied (Lab may write to it),
    every other top-level entry linked, so ``../data/...`` paths in notebooks still resolve."""
    site.mkdir(parents=True, exist_ok=True)
    for entry in repo.iterdir():
        if entry.name in (".git", ".venv", "notebooks", "test-reports") or entry.name.startswith("."):
            continue
        (site / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    if (repo / "notebooks").is_dir():
        shutil.copytree(repo / "notebooks", site / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return site


@dataclasses.dataclass
class Move:
    """One control moved in one widget cell, and what happened to the cell's output."""

    notebook: str
    cell: int
    control: str
    label: str
    before: str
    after: str
    changed: bool
    screenshot: str


@dataclasses.dataclass
class NotebookRun:
    notebook: str
    seconds: float
    cells: int
    unexecuted: list
    errors: list
    moves: list
    widget_cells: list
    stored: dict = dataclasses.field(default_factory=dict)  # what the opened notebook showed before running


def _wait(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _digest(signature: str) -> str:
    return hashlib.sha1(signature.encode()).hexdigest()[:10] if signature else "(empty)"


class NotebookPage:
    """One notebook opened in JupyterLab in its own browser page."""

    def __init__(self, browser, server: LabServer, relpath: str, shots: pathlib.Path):
        self.server, self.relpath, self.shots = server, relpath, pathlib.Path(shots)
        self.name = pathlib.PurePosixPath(relpath).stem
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.set_default_timeout(60_000)

    # -- opening and running
    def open(self) -> None:
        page = self.page
        # a workspace of its own, reset: Lab must not reopen the notebooks of an earlier page
        workspace = re.sub(r"[^\w-]", "-", self.relpath)
        page.goto(f"{self.server.url}/lab/workspaces/{workspace}/tree/{self.relpath}?reset")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        self._select_kernel_if_asked()
        page.wait_for_function(
            "() => { const k = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName');"
            " return k && !k.textContent.includes('No Kernel'); }", timeout=120_000)
        self.wait_idle(timeout=180)
        self.dismiss_news()

    def _select_kernel_if_asked(self) -> None:
        try:
            self.page.wait_for_selector(".jp-Dialog button.jp-mod-accept", timeout=3000)
        except Exception:
            return
        self.page.click(".jp-Dialog button.jp-mod-accept")

    def dismiss_news(self) -> None:
        button = self.page.get_by_role("button", name="No", exact=True)
        if button.count():
            button.first.click()

    def kernel_idle(self) -> bool:
        return bool(self.page.evaluate(
            "() => Array.from(document.querySelectorAll('.jp-StatusBar-TextItem'))"
            ".some(e => /\\|\\s*Idle/.test(e.textContent))"))

    def wait_idle(self, timeout: float = 120) -> None:
        _wait(self.kernel_idle, timeout, "an idle kernel")

    def cells(self):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    def prompts(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell",
            "cells => cells.map(c => { const p = c.querySelector('.jp-InputPrompt');"
            " return c.classList.contains('jp-CodeCell') ? (p ? p.textContent.trim() : '') : null; })")

    def run_all(self, timeout: float = 900) -> float:
        """Run → Run All Cells; wait until no cell is queued or running and the kernel is idle."""
        start = time.monotonic()
        self.page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        self.page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        _wait(lambda: any("*" in (p or "") for p in self.prompts()) or time.monotonic() - start > 5,
              30, "the cells to be queued")

        def settled():
            return not any("*" in (p or "") for p in self.prompts()) and self.kernel_idle()

        _wait(settled, timeout, f"Run All in {self.relpath}", interval=1.0)
        time.sleep(1.0)  # widgets render after the last reply
        _wait(settled, 60, f"Run All in {self.relpath} to settle", interval=1.0)
        return time.monotonic() - start

    # -- checking
    def unexecuted(self, sources: list[str]) -> list[int]:
        """Indices of non-empty code cells that show no execution count."""
        prompts = self.prompts()
        return [i for i, (p, s) in enumerate(zip(prompts, sources))
                if p is not None and s.strip() and not re.search(r"\[\d+\]", p)]

    def errors(self, allowed: set[int] = frozenset()) -> list[tuple[int, str]]:
        """(cell index, first line of the traceback) for every cell that shows an error."""
        found = []
        cells = self.cells()
        for i in range(cells.count()):
            if i in allowed:
                continue
            for text in cells.nth(i).evaluate(ERROR_JS):
                lines = [ln for ln in text.splitlines() if re.match(r"^\w*(Error|Exception)\b", ln)]
                found.append((i, (lines[-1] if lines else text.strip().splitlines()[-1])[:200]))
        return found

    def stored_view(self) -> dict:
        """What a reader sees in the opened notebook before running anything: figures shown,
        figures that failed to load, and widget areas or errors that render without a kernel."""
        self.page.wait_for_timeout(500)
        view = self.page.evaluate(STORED_JS)
        view["errors"] = self.errors()
        return view

    def widget_cells(self) -> list[int]:
        """Indices of cells whose output holds at least one control."""
        selector = ", ".join(CONTROLS.values())
        return self.cells().evaluate_all(
            "(cells, sel) => cells.map((c, i) => c.querySelector('.jp-Cell-outputArea') &&"
            " c.querySelector('.jp-Cell-outputArea').querySelector(sel) ? i : -1).filter(i => i >= 0)",
            selector)

    # -- widgets
    def _area(self, index: int):
        return self.cells().nth(index).locator(".jp-Cell-outputArea")

    def signature(self, index: int) -> str:
        return self._area(index).evaluate(SIGNATURE_JS)

    def _controls(self, index: int) -> list[tuple[str, int]]:
        area = self._area(index)
        return [(kind, k) for kind, sel in CONTROLS.items() for k in range(area.locator(sel).count())]

    def _move(self, index: int, kind: str, k: int) -> str:
        """Change control k of `kind` in cell `index`; return a label of what was done."""
        control = self._area(index).locator(CONTROLS[kind]).nth(k)
        control.scroll_into_view_if_needed()
        if kind == "slider":
            now, top = control.get_attribute("aria-valuenow"), control.get_attribute("aria-valuemax")
            if now is None:  # input[type=range]
                now, top = control.input_value(), control.get_attribute("max")
            key = "ArrowLeft" if now is not None and top is not None and float(now) >= float(top) else "ArrowRight"
            control.focus()
            self.page.keyboard.press(key)
            after = control.get_attribute("aria-valuenow") or control.input_value()
            return f"{key} {now} → {after}"
        if kind == "dropdown":
            options = control.locator("option").evaluate_all("os => os.map(o => o.value)")
            current = control.input_value()
            others = [o for o in options if o != current]
            if not others:
                return "only one option"
            control.select_option(others[0])
            return f"{current!r} → {others[0]!r}"
        if kind == "checkbox":
            was = control.is_checked()
            control.click()
            return f"{was} → {not was}"
        if kind in ("toggle-buttons", "radio"):
            sel = "button:not(.mod-active)" if kind == "toggle-buttons" else "input[type=radio]:not(:checked)"
            target = control.locator(sel).first
            if not target.count():
                return "no other choice"
            text = target.text_content() or target.get_attribute("value") or ""
            target.click()
            return f"→ {text.strip()!r}"
        control.click()  # toggle or button
        return f"click {(control.text_content() or '').strip()!r}"

    def exercise_widgets(self, index: int, timeout: float = 60) -> list[Move]:
        """Move every control of the widget(s) in cell `index`; record whether the output changed."""
        moves = []
        for n, (kind, k) in enumerate(self._controls(index)):
            before = self.signature(index)
            label = self._move(index, kind, k)
            try:
                _wait(lambda b=before: self.signature(index) != b, timeout, "the output to change")
                # a redraw may clear first: wait for the kernel and a stable, non-empty output
                self.wait_idle(timeout)
                _wait(self._stable(index), timeout, "a stable output")
                changed = True
            except TimeoutError:
                changed = False
            after = self.signature(index)
            shot = self.shots / f"{self.name}_cell{index:02d}_{n}-{kind}.png"
            self.shots.mkdir(parents=True, exist_ok=True)
            self.cells().nth(index).screenshot(path=str(shot))
            moves.append(Move(self.relpath, index, kind, label, _digest(before), _digest(after),
                              changed and after != before, str(shot)))
        return moves

    def _stable(self, index: int):
        def check():
            first = self.signature(index)
            time.sleep(0.4)
            return bool(first) and self.signature(index) == first
        return check

    def shutdown_kernels(self) -> None:
        """Shut the server's kernels down (DELETE needs the _xsrf cookie echoed, even without a token)."""
        self.page.evaluate(
            """async () => {
              const m = document.cookie.match(/_xsrf=([^;]+)/);
              const headers = m ? {'X-XSRFToken': decodeURIComponent(m[1])} : {};
              const kernels = await (await fetch('/api/kernels')).json();
              for (const k of kernels) await fetch('/api/kernels/' + k.id, {method: 'DELETE', headers});
            }""")

    def close(self) -> None:
        try:
            self.shutdown_kernels()
        finally:
            self.page.close()


def run_notebook(browser, server: LabServer, relpath: str, nb, shots: pathlib.Path,
                 timeout: float = 900, move_timeout: float = 60) -> NotebookRun:
    """Open `relpath`, run all cells, move every widget's controls; what happened."""
    # a collapsed input shows no prompt: such cells are not checked for an execution count
    sources = [c.source if c.cell_type == "code" and not c.metadata.get("jupyter", {}).get("source_hidden")
               else "" for c in nb.cells]
    allowed = {i for i, c in enumerate(nb.cells) if "raises-exception" in c.get("metadata", {}).get("tags", [])}
    page = NotebookPage(browser, server, relpath, shots)
    try:
        page.open()
        stored = page.stored_view()
        page.page.screenshot(path=str(shots / f"{page.name}_as-stored.png"))
        seconds = page.run_all(timeout)
        widget_cells = page.widget_cells()
        shots.mkdir(parents=True, exist_ok=True)
        page.page.screenshot(path=str(shots / f"{page.name}_after-run-all.png"))
        moves = []
        for index in widget_cells:
            moves += page.exercise_widgets(index, move_timeout)
        return NotebookRun(relpath, seconds, len(nb.cells), page.unexecuted(sources),
                           page.errors(allowed), moves, widget_cells, stored)
    finally:
        page.close()
