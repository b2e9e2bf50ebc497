"""Exercise answers that wait for the learner: a solution's output, folded until it is opened (every notebook)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ipywidgets as widgets
from IPython.display import display


@contextmanager
def solution(title: str = "Show the answer") -> Iterator[widgets.Accordion]:
    """Run a solution now (Run All checks it) but fold what it prints or displays until the learner clicks.

    Works with ipywidgets 7 (Colab) and 8 (JupyterLab). An error inside the block is raised, not only shown.

    >>> with solution() as fold:  # doctest: +ELLIPSIS
    ...     pass
    Accordion(...)
    >>> fold.selected_index is None  # closed
    True
    """
    output = widgets.Output()
    fold = widgets.Accordion(children=[output], selected_index=None)
    fold.set_title(0, title)
    display(fold)
    failure: BaseException | None = None
    with output:  # inside IPython, Output shows an error and swallows it: keep it, to raise after
        try:
            yield fold
        except BaseException as error:
            failure = error
    if failure is not None:
        raise failure
