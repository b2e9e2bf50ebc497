"""The project's own rules: environments in step, notebooks stripped and importing the package properly."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_environment_yml_lists_what_pyproject_lists():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    expected = set(project["dependencies"]) | set(extras["lab"]) | set(extras["db"])
    pip_lines = re.findall(r"^\s+- ([^-#\s][^#\n]*?)\s*(?:#.*)?$", (ROOT / "environment.yml").read_text(), re.M)
    listed = {line for line in pip_lines if re.match(r"[A-Za-z0-9_.\[\]-]+\s*(>=|==|~=|<)", line)}  # not python=3.11
    assert listed == expected
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def test_lock_file_pins_every_dependency_and_the_cpu_torch():
    lines = (ROOT / "requirements-lock.txt").read_text().split()
    lock = {normalized(name): version for name, version in (line.split("==") for line in lines if "==" in line)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {normalized(re.split(r"[<>=!~\[]", d)[0])
             for d in project["dependencies"] + sum(project["optional-dependencies"].values(), [])}
    assert names <= set(lock), names - set(lock)
    assert lock["torch"] == "2.13.0"


def test_requirements_lowest_pins_the_lower_bound_of_every_direct_dependency():
    """`make test-lowest` runs every test at these versions, so each range in pyproject.toml is one CI proves."""
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {}
    for spec in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[\w,-]+\])?(>=|==)([0-9][\w.]*)(?:,.*)?", spec.replace(" ", ""))
        assert match, f"{spec}: give a lower bound (>= or ==), the version make test-lowest installs"
        bounds[normalized(match[1])] = Version(match[3])
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements-lowest.txt").read_text().splitlines()]
    pins = {normalized(name): Version(version) for name, version in (line.split("==") for line in lines if line)}
    # torch: its bound keeps Colab's torch; the one torch this machine installs is the 2.13.0 CPU build.
    assert pins.pop("torch") == Version("2.13.0") and bounds.pop("torch") <= Version("2.13.0")
    assert pins == bounds


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_imports_the_package(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip outputs before committing"
    assert "widgets" not in nb.get("metadata", {}), "saved widget state"
    source = "\n".join("".join(c["source"]) for c in code)
    assert "from mrl_helpers import" in source
    assert "sys.path" not in source
    assert re.match(r"\d\d_[a-z0-9_]+\.ipynb$", path.name)


def test_links_to_the_repository_all_name_the_one_in_pyproject():
    repo = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    owner_name = repo.removeprefix("https://github.com/")
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"(?:github\.com|/gh|google\.com/github)/([\w.-]+/[\w.-]+?)(?:\.git)?(?=[/\"\s)])", readme))
    for path in NOTEBOOKS:
        source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        installs = re.findall(r"%pip install -q \"mrl-lab(?:\[db\])? @ git\+https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?\"", source)
        assert len(installs) == 1, f"{path.name}: one Colab install line"
        named |= set(installs)
    assert named == {owner_name}, "change the repository in pyproject.toml, then everywhere in one sweep"
    colab = re.findall(r"colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/main/notebooks/([\w]+\.ipynb)", readme)
    assert sorted(colab) == [p.name for p in NOTEBOOKS], "one Colab link per notebook"


def test_binders_postbuild_runs(tmp_path):
    """Binder runs postBuild once when it builds the image; here it runs offline, with this environment's python."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MRL_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    if not os.environ.get("MRL_DATA_DIR"):
        pytest.skip("MRL_DATA_DIR is not set: postBuild would download SciFact")
    done = subprocess.run(["bash", str(ROOT / "postBuild")], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
