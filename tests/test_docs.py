"""The README and docs/ as a reader meets them: every example runs as written (in either
package where it names one), and every relative link leads somewhere."""

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def example(page: str, section: str | None = None) -> str:
    """The first Python block of a page (of one of its ``##`` sections, if named)."""
    text = (ROOT / page).read_text()
    if section is not None:
        text = text.split(f"## {section}\n", 1)[1]
    return text.split("```python\n", 1)[1].split("```", 1)[0]


def run(code: str, page: str, impl=None) -> dict:
    if impl is not None:
        code = code.replace("tf2_eager", impl.__name__)
    names = {}
    exec(compile(code, page, "exec"), names)
    return names


def test_the_readme_example_runs(impl):
    names = run(example("README.md", "k-means in TensorFlow, as scikit-learn users know it"),
                "README.md", impl)  # fmt: skip
    np.testing.assert_array_equal(names["labels"], names["kmeans"].labels_)
    assert names["kmeans"].cluster_centers_.shape == (3, 4)


def test_the_readme_says_how_to_get_its_commands(tmp_path):
    """The commands "Start here" names need the project installed: the README shows how,
    the console script it names is the package's, and the module form it gives runs."""
    import configparser
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text().split("## Start here\n", 1)[1].split("\n## ", 1)[0]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    assert "python3 -m pip install ." in block and "python -m kmeans_tutorial fit" in block
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert (
        "kmeans-tutorial = kmeans_tutorial.cli:main"
        in config["options.entry_points"]["console_scripts"]
    )
    np.save(tmp_path / "data.npy", np.random.RandomState(0).rand(200, 2).astype(np.float32))
    outputs = ["--centers", str(tmp_path / "c.npy"), "--labels", str(tmp_path / "l.npy")]
    command = [sys.executable, "-m", "kmeans_tutorial", "fit", str(tmp_path / "data.npy")]
    done = subprocess.run(
        [*command, "--n-clusters", "2", "--no-plot", *outputs],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert np.load(tmp_path / "c.npy").shape == (2, 2)


def test_the_kmeans_page_example_runs(impl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = run(example("docs/KMEANS.md"), "docs/KMEANS.md", impl)
    centres = np.sort(names["centers"][:, 0])
    np.testing.assert_allclose(centres, [-10, 0, 10], atol=0.3)
    near, far = names["nearest"]
    assert names["centers"][near, 0] < -5 and names["centers"][far, 0] > 5
    assert names["distances"].shape == (5, 3)
    assert names["score"] == pytest.approx(-names["inertia"], rel=1e-6)
    assert (tmp_path / "kmeans_model" / "saved_model.pb").exists()
    served = run(example("docs/KMEANS.md", "SavedModels"), "docs/KMEANS.md")
    x = served["x"].numpy()
    np.testing.assert_array_equal(served["served_labels"], names["kmeans"].predict(x))
    np.testing.assert_allclose(served["served_distances"], names["kmeans"].transform(x), rtol=1e-6)
    assert float(served["served_score"]) == pytest.approx(names["kmeans"].score(x), rel=1e-6)


def test_the_beyond_memory_example_runs(impl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = run(example("docs/BEYOND_MEMORY.md"), "docs/BEYOND_MEMORY.md", impl)
    assert names["labels"].shape == (100_000,)
    np.testing.assert_array_equal(names["labels"], names["kmeans"].labels_)
    assert names["mini"].n_steps_ > 1


def test_the_checkpoint_example_runs(impl, tmp_path, monkeypatch):
    """The checkpoint example, after the page's first (its X), run twice: the second fit
    reads the first's checkpoint and is the same fit."""
    monkeypatch.chdir(tmp_path)
    names = run(example("docs/BEYOND_MEMORY.md"), "docs/BEYOND_MEMORY.md", impl)
    section = "Checkpoints: fits that survive being stopped"
    code = example("docs/BEYOND_MEMORY.md", section).replace("tf2_eager", impl.__name__)
    exec(compile(code, "docs/BEYOND_MEMORY.md", "exec"), names)
    first = names["kmeans"]
    exec(compile(code, "docs/BEYOND_MEMORY.md", "exec"), names)
    np.testing.assert_array_equal(names["kmeans"].cluster_centers_, first.cluster_centers_)
    assert (tmp_path / "ckpt" / "checkpoint").exists()
    assert list((tmp_path / "logs").glob("events.out.tfevents.*"))


def test_the_estimator_example_runs(tmp_path, monkeypatch, request):
    """The drop-in's example, as written (TF1 code: with the tf1 tests)."""
    if request.config.getoption("impl") == "tf2":
        pytest.skip("tf1_graph's drop-in runs with the tf1 tests")
    monkeypatch.chdir(tmp_path)  # its temporary model_dir aside, it writes nothing
    names = run(example("docs/ESTIMATOR.md"), "docs/ESTIMATOR.md")
    assert names["centers"].shape == (5, 2)
    assert len(names["labels"]) == 100


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _code_of(line: str) -> str:
    """A line of Python without its indentation and trailing comment."""
    return line.split("  #", 1)[0].split("# ", 1)[0].strip() if "#" in line else line.strip()


def test_the_lesson_page_shows_the_lessons_code_as_kept():
    """docs/LESSON.md tells what the original lesson did with its code as
    tf1_graph/functions.py keeps it: every line of the code shown there is a line of that
    file, and the restored lines are marked there as in the file."""
    text = (ROOT / "docs" / "LESSON.md").read_text()
    section = text.split("## The original lesson, step by step\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    kept_text = (ROOT / "tf1_graph" / "functions.py").read_text()
    kept = {_code_of(line) for line in kept_text.splitlines()}
    shown = [_code_of(line) for block in blocks for line in block.splitlines()]
    shown = [line for line in shown if line]
    assert len(blocks) == 4 and len(shown) > 30
    assert [line for line in shown if line not in kept] == []

    def restored(code: str) -> int:
        return len(re.findall(r"# restored$", code, flags=re.MULTILINE))

    assert restored("".join(blocks)) == restored(kept_text) == 3


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_somewhere(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if re.match(r"[a-z]+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {link} names no file"
        if anchor:
            headings = re.findall(r"^#+ (.*)$", target.read_text(), flags=re.MULTILINE)
            assert anchor in {_anchor(h) for h in headings}, f"{page.name}: no #{anchor}"


@pytest.mark.parity  # both packages, once
def test_the_lesson_notebook_runs(tmp_path):
    """Every cell of docs/lesson.ipynb runs; its own asserts check TF1 == TF2 bit for bit."""
    from run_notebook import execute

    copy = tmp_path / "lesson.ipynb"
    copy.write_text((ROOT / "docs" / "lesson.ipynb").read_text())
    executed = execute(copy)
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells)
    printed = "".join(output.get("text", "") for cell in code_cells for output in cell.outputs)
    assert "all samples equal to TF1's: False" in printed  # the trap, shown
    assert printed.count("bit-identical: True") == 23
