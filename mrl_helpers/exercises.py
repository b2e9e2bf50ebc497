"""Exercise answers that wait for the learner: a solution's output, folded until it is opened (every notebook)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ipywidgets as widgets
from IPython.display import display
from IPython.utils.capture import capture_output


@contextmanager
def solution(title: str = "Show the answer") -> Iterator[widgets.Accordion]:
    """Run a solution now (Run All checks it) but fold what it prints or displays until the learner clicks.

    Works with ipywidgets 7 (Colab) and 8 (JupyterLab). An error inside the block is raised as usual. The
    output is captured in the kernel and handed to the fold in one piece, what was printed first, then what was
    displayed. (Streamed into the fold with `with output:`, each output makes a front end that runs the notebook
    unattended, nbclient or nbmake, send a message back, and its next cell sometimes waited out the cell timeout.)

    >>> with solution() as fold:  # doctest: +ELLIPSIS
    ...     print("42")
    Accordion(...)
    >>> fold.selected_index is None, fold.children[0].outputs[0]["text"]  # closed, holding the answer
    (True, '42\\n')
    """
    output = widgets.Output()
    fold = widgets.Accordion(children=[output], selected_index=None)
    fold.set_title(0, title)
    display(fold)
    with capture_output() as captured:
        yield fold
    printed = [{"output_type": "stream", "name": name, "text": text}
               for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr)) if text]
    shown = [{"output_type": "display_data", "data": o.data, "metadata": o.metadata} for o in captured.outputs]
    output.outputs = tuple(printed + shown)
