"""A folded solution keeps its output inside the fold, closed, and never hides a failing answer."""

import pytest
from IPython.core.interactiveshell import InteractiveShell

from mrl_helpers.exercises import solution


@pytest.fixture
def shell():
    """A live IPython shell, as in a notebook: `solution` captures what is displayed through it."""
    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


def test_the_fold_starts_closed_with_its_title(shell):
    with solution("Answer 1") as fold:
        pass
    assert fold.selected_index is None
    assert fold.get_title(0) == "Answer 1"
    assert len(fold.children) == 1


def test_a_failing_solution_fails_the_cell(shell):
    with pytest.raises(AssertionError, match="wrong answer"):
        with solution():
            assert False, "wrong answer"


def test_the_answer_is_held_in_the_fold_and_only_there(shell, capsys):
    from IPython.display import Markdown, display

    with solution() as fold:
        print("forty-two")
        display(Markdown("**42**"))
    printed, shown = fold.children[0].outputs  # printed first, then displayed
    assert printed == {"output_type": "stream", "name": "stdout", "text": "forty-two\n"}
    assert shown["output_type"] == "display_data" and shown["data"]["text/markdown"] == "**42**"
    assert "forty-two" not in capsys.readouterr().out, "nothing of the answer shows outside the fold"
