"""The explorer's widgets: thin ipywidgets wiring around `explore` (notebook 06).

Every number and every piece of HTML comes from `explore` and `views`; this module only lays out the
controls, calls `explore` on each change and puts the result on screen through a `plot` (one FigureWidget
updated in place, or where that does not render, as on Colab, a plain figure redrawn in an Output). The
choice is automatic, and the status line says which mode is active.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from contextlib import contextmanager

import ipywidgets as w

from ..checks import check_choice
from ..evaluation import PRECISIONS
from .explore import Exploration, explore
from .geometry import nearest
from .plot import PLOT_SIZE, FigurePlot, OutputPlot, detect_display_mode
from .state import DEFAULT_OVERSAMPLE, Corpus, ExplorerState
from .views import ONE_LINE, metrics_html, results_html, scatter_layout, scatter_trace_count, scatter_traces

LABEL_STYLE = {"description_width": "72px"}
BUTTON_STYLE = {"button_width": "auto"}
CONTROLS = ("corpus", "query", "examples", "dim", "precision", "oversample", "k", "projection")
# One laptop screen (1366 × 768, JupyterLab's file browser open): fixed sizes, so that nothing moves on a change
EXPLORER_WIDTH, SIDE_WIDTH, METRICS_HEIGHT, RESULTS_HEIGHT = "940px", "395px", "130px", "282px"


class ExplorerApp:
    """The explorer's controls, results, metrics and plot; `update()` redraws them for the current setting.

    Display `app.widget`. Each control calls `update` on change; `app.seconds` keeps how long
    every update took in Python, and `measure()` times a scripted series of changes.
    """

    def __init__(
        self,
        state: ExplorerState,
        *,
        mode: str = "auto",
        corpus: str = "mini",
        query: str | None = None,
        dim: int | None = None,
        precision: str = "float32",
        k: int = 5,
        oversample: int = DEFAULT_OVERSAMPLE,
        projection: str = "PCA",
    ):
        self.state = state
        if mode == "auto":
            self.mode, self.mode_reason = detect_display_mode()
        else:
            self.mode, self.mode_reason = check_choice(mode, ("figurewidget", "output"), "mode"), "chosen by hand"
        corpus = check_choice(corpus, list(state.corpora), "corpus")
        self.seconds: list[float] = []
        self.last: Exploration | None = None
        self._holding = False
        self._n_slots = max(len(set(c.groups)) for c in state.corpora.values())
        self._make_controls(state.corpora[corpus], corpus, query, dim, precision, k, oversample, projection)
        self.results, self.metrics, self.status, self.alert = w.HTML(), w.HTML(), w.HTML(), w.HTML()
        self._plot = FigurePlot(scatter_trace_count(self._n_slots)) if self.mode == "figurewidget" else OutputPlot()
        self.plot = self._plot.widget
        self._wire()
        self.widget = self._lay_out()

    def _make_controls(self, first: Corpus, corpus: str, query: str | None, dim: int | None, precision: str,
                       k: int, oversample: int, projection: str) -> None:
        state = self.state
        self.corpus = w.ToggleButtons(options=[(c.label, name) for name, c in state.corpora.items()], value=corpus,
                                      style=BUTTON_STYLE)
        self.query = w.Text(value=query or first.examples[0], description="query", continuous_update=False,
                            placeholder="type a question and press Enter", style=LABEL_STYLE,
                            layout=w.Layout(width="440px"))
        self.examples = w.Dropdown(options=_example_options(first), value="", description=" ", style=LABEL_STYLE,
                                   layout=w.Layout(width="440px"))
        self.dim = w.SelectionSlider(options=list(state.dims), value=dim or state.model.full_dim,
                                     description="dimension", style=LABEL_STYLE, layout=w.Layout(width="440px"))
        self.ladder = [w.Button(description=str(d), tooltip=f"jump to {d} dimensions, a size the model was trained at",
                                layout=w.Layout(width="46px", height="26px")) for d in state.ladder]
        self.precision = w.ToggleButtons(options=list(PRECISIONS), value=precision, style=BUTTON_STYLE)
        self.oversample = w.IntSlider(value=oversample, min=1, max=10, description="rescore ×", style=LABEL_STYLE,
                                      layout=w.Layout(width="440px"))
        self.k = w.IntSlider(value=k, min=1, max=20, description="k", style=LABEL_STYLE, layout=w.Layout(width="440px"))
        self.projection = w.ToggleButtons(options=list(state.projections), value=projection, style=BUTTON_STYLE)

    def _wire(self) -> None:
        """Every control redraws; the examples and the corpus first change the query."""
        for control in (self.query, self.dim, self.precision, self.oversample, self.k, self.projection):
            control.observe(self.update, names="value")
        self.examples.observe(self._pick_example, names="value")
        self.corpus.observe(self._switch_corpus, names="value")
        for button, d in zip(self.ladder, self.state.ladder):
            button.on_click(lambda _, d=d: setattr(self.dim, "value", d))

    def _lay_out(self) -> w.VBox:
        """Two columns of controls; below, the plot beside the metrics and results; the status folded in "details".

        Every box has a fixed size (the results scroll inside theirs when k is large), so the explorer keeps its
        height whatever changes, and it fits one laptop screen.
        """
        for name in CONTROLS:  # CSS classes: what the browser test looks for
            getattr(self, name).add_class(f"mrl-{name}")
        for name in ("results", "metrics", "status", "alert"):
            getattr(self, name).add_class(f"mrl-{name}-box")
        plot_box = w.Box([self.plot], layout=w.Layout(width=f"{PLOT_SIZE[0]}px", height=f"{PLOT_SIZE[1]}px"))
        plot_box.add_class("mrl-plot")
        self.metrics.layout = w.Layout(width=SIDE_WIDTH, height=METRICS_HEIGHT, overflow="hidden")
        self.alert.layout = w.Layout(width=SIDE_WIDTH, height="20px", overflow="hidden")
        self.results.layout = w.Layout(width=SIDE_WIDTH, height=RESULTS_HEIGHT, overflow="auto")
        ladder = _labelled("ladder", *self.ladder)
        ladder.add_class("mrl-ladder")
        details = w.Accordion([self.status], selected_index=None)  # ipywidgets 7 has no `titles=`
        details.set_title(0, "details: plot mode, update times, versions")
        details.add_class("mrl-details")
        widget = w.VBox([
            w.HBox([w.VBox([_labelled("corpus", self.corpus), self.query, self.examples,
                            _labelled("2-D picture", self.projection)], layout=w.Layout(width="460px")),
                    w.VBox([self.dim, ladder, _labelled("precision", self.precision), self.oversample, self.k])]),
            w.HBox([plot_box, w.VBox([self.metrics, self.alert, self.results])]),
            details,
        ], layout=w.Layout(width=EXPLORER_WIDTH))
        widget.add_class("mrl-explorer")
        return widget

    @contextmanager
    def hold(self):
        """Change several controls at once with a single update at the end."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        self.update()

    def _pick_example(self, change) -> None:
        if change["new"]:
            self.query.value = change["new"]  # redraws (unless it is already the query)
            self.examples.value = ""  # so that the same example can be picked again

    def _switch_corpus(self, change) -> None:
        corpus = self.state.corpora[change["new"]]
        with self.hold():
            self.examples.options = _example_options(corpus)
            self.examples.value = ""
            self.query.value = corpus.examples[0]

    def update(self, change=None) -> Exploration | None:
        """Explore the current setting and redraw the results, metrics and plot."""
        if self._holding:
            return None
        start = time.perf_counter()
        self.oversample.disabled = self.precision.value != "binary+rescore"
        try:
            r = explore(self.state, self.query.value, self.dim.value, self.precision.value, k=self.k.value,
                        oversample=self.oversample.value, projection=self.projection.value, corpus=self.corpus.value)
        except (ValueError, TypeError) as err:  # bad input from a control: say so, keep the last picture
            text = html.escape(f"Not updated: {err}")
            self.alert.value = f'<div class="mrl-error" style="color:#cf222e;{ONE_LINE}" title="{text}">{text}</div>'
            return None
        self.alert.value = ""
        for button, d in zip(self.ladder, self.state.ladder):  # the active rung, when the dimension is on the ladder
            button.button_style = "primary" if d == r.dim else ""
        self.results.value = results_html(r)
        self.metrics.value = metrics_html(r)
        self._plot.draw(scatter_traces(r, self._n_slots), scatter_layout(r))
        self.seconds.append(time.perf_counter() - start)
        self.last = r
        self.status.value = self._status_html()
        return r

    def _status_html(self) -> str:
        mode = ("one FigureWidget, updated in place" if self.mode == "figurewidget"
                else "a plain figure redrawn in an Output")
        parts = [f"Plot: {mode} ({html.escape(self.mode_reason)})."]
        if self.seconds:
            parts.append(f"Update {len(self.seconds)} took {self.seconds[-1] * 1e3:.0f} ms in Python.")
        parts += [html.escape(note) for note in self.state.notes]
        last_ms = f"{self.seconds[-1] * 1e3:.1f}" if self.seconds else ""
        return (f'<div class="mrl-status" data-updates="{len(self.seconds)}" data-mode="{self.mode}" '
                f'data-last-ms="{last_ms}" style="color:#6e7781">{" ".join(parts)}</div>')

    def default_changes(self) -> list[tuple[str, object]]:
        """A scripted tour of changes on the current corpus: every control, dimensions on and off the ladder."""
        ladder, dims = self.state.ladder, self.state.dims
        between = [nearest((a + b) // 2, dims) for a, b in zip(ladder, ladder[1:])]
        examples = self.state.corpora[self.corpus.value].examples
        changes: list[tuple[str, object]] = []
        for dim in ladder[1:]:
            changes.append(("dim", dim))
            changes += [("precision", p) for p in ("int8", "binary", "binary+rescore", "float32")]
        changes += [("dim", d) for d in between]
        changes += [("precision", "binary+rescore"), ("oversample", 2), ("oversample", 8), ("precision", "float32")]
        changes += [("k", 10), ("k", 3), ("projection", "first two")]
        if "UMAP" in self.state.projections:
            changes += [("projection", "UMAP"), ("dim", ladder[0]), ("dim", between[0])]
        changes += [("projection", "PCA"), ("query", examples[1]), ("query", examples[2]), ("query", examples[0])]
        return changes

    def measure(self, changes: Sequence[tuple[str, object]] | None = None) -> list[float]:
        """Seconds from setting a control to the end of the redraw, for each change; then restore the controls.

        A change that equals the control's current value (no event) is skipped.
        """
        changes = list(changes or self.default_changes())
        before = {name: getattr(self, name).value for name, _ in changes}
        times = []
        for name, value in changes:
            control = getattr(self, name)
            if control.value == value:
                continue
            n = len(self.seconds)
            start = time.perf_counter()
            control.value = value
            times.append(time.perf_counter() - start)
            if len(self.seconds) != n + 1:
                raise RuntimeError(f"setting {name}={value!r} ran {len(self.seconds) - n} updates instead of one")
        with self.hold():
            for name, value in before.items():
                getattr(self, name).value = value
        return times


def _labelled(label: str, *widgets: w.Widget) -> w.HBox:
    """`widgets` in a row after a label as wide as the sliders' descriptions."""
    return w.HBox([w.Label(label, layout=w.Layout(width=LABEL_STYLE["description_width"])), *widgets])


def _example_options(corpus: Corpus) -> list[tuple[str, str]]:
    """The examples dropdown: a prompt, then each example query (cut to 70 characters)."""
    short = [(e if len(e) <= 70 else e[:67] + "...", e) for e in corpus.examples]
    return [("examples: pick one", ""), *short]
