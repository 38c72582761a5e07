"""Every agreement metric against values computed by hand, and `scout eval --agreement`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scout.agreement import (
    agreement,
    confusion,
    exact_agreement,
    flag_scores,
    gwet_ac1,
    spearman,
    within_one,
)
from scout.cli import main
from scout.explore.model import Tag
from scout.oracle.evaluate import quadratic_weighted_kappa
from scout.scoring.model import LabelSource, Rubric, Scored
from scout.store import Store
from store.builders import make_exploration

A = [1, 2, 3, 4, 5, 5]
B = [1, 2, 3, 5, 5, 4]


def test_exact_and_within_one() -> None:
    assert exact_agreement(A, B) == pytest.approx(4 / 6)
    assert within_one(A, B) == 1.0
    assert within_one([1, 5], [3, 5]) == 0.5
    assert exact_agreement([], []) is None


def test_gwet_ac1_by_hand() -> None:
    # pa = 4/6; shares 1/6 for 1..4 and 1/3 for 5; pe = (4 * 1/6 * 5/6 + 1/3 * 2/3) / 4 = 7/36
    assert gwet_ac1(A, B) == pytest.approx((4 / 6 - 7 / 36) / (1 - 7 / 36))
    assert gwet_ac1(A, B) == pytest.approx(17 / 29)
    assert gwet_ac1([3, 3, 3], [3, 3, 3]) == 1.0  # AC1 stays defined where kappa is not
    assert gwet_ac1([], []) is None


def test_quadratic_weighted_kappa_by_hand() -> None:
    # Disagreements (4,5) and (5,4) weigh 1/16 each; expected weighted disagreement is
    # sum_{x,y} (x-y)^2 / 16 / n = 160 / 16 / 6.
    assert quadratic_weighted_kappa(A, B) == pytest.approx(1 - (2 / 16) / (160 / 16 / 6))
    assert quadratic_weighted_kappa(A, B) == pytest.approx(0.925)


def test_spearman_with_ties_by_hand() -> None:
    # ranks A: 1 2 3 4 5.5 5.5; B: 1 2 3 5.5 5.5 4; covariance 14.75, variances 17 each
    assert spearman(A, B) == pytest.approx(14.75 / 17)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([2, 2, 2], [1, 2, 3]) is None


def test_confusion_matrix_rows_are_the_first_source() -> None:
    m = confusion(A, B)
    assert m[3][4] == 1 and m[4][3] == 1 and m[4][4] == 1
    assert [m[i][i] for i in range(5)] == [1, 1, 1, 0, 1]
    assert sum(map(sum, m)) == 6


def test_precision_recall_f1_of_risk_at_least_4() -> None:
    scores = flag_scores([4, 1, 5, 2], [5, 4, 2, 1])  # tp 1, fp 1, fn 1
    assert scores == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert flag_scores([5, 4], [1, 1]) == {"precision": 0.0, "recall": None, "f1": None}
    assert flag_scores([1, 4, 4, 4], [4, 4, 4, 1])["f1"] == pytest.approx(2 * (2 / 3) * (2 / 3)
                                                                          / (4 / 3))


def _scored(source: str, risk: int) -> Scored:
    return Scored(rubric=Rubric(3, risk, 3, "because."), scorer=source,
                  label_source=LabelSource(source))


def labelled_store(path: Path, tmp_path: Path) -> None:
    """Two questions: heuristic, ghc and the student label the same nodes."""
    with Store.open(path, environ={}) as store:
        plan = [((Tag.EXHAUSTIVE, Tag.PATTERN_MATCH), A, B, [5, 5, 1, 4, 5, 2]),
                ((Tag.FUNCTION,), [1, 4], [1, 5], [2, 4])]
        for tags, heuristic, ghc, model in plan:
            exploration = make_exploration(len(heuristic), tags=tags,
                                           text=f"What breaks for {tags[0]}?")
            answers = [[_scored("heuristic", h), _scored("ghc", g), _scored("model", m)]
                       for h, g, m in zip(heuristic, ghc, model, strict=True)]
            store.record(exploration, answers, root=tmp_path)


def test_pairs_orientation_and_tags(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    labelled_store(db, tmp_path)
    with Store.open(db, environ={}) as store:
        reports = {(r.source, r.reference): r for r in agreement(store)}
    assert set(reports) == {("heuristic", "ghc"), ("model", "ghc"), ("model", "heuristic")}
    h = reports[("heuristic", "ghc")]
    assert h.overall.n == 8
    assert h.overall.exact == pytest.approx(5 / 8)
    exhaustive = h.per_tag["Exhaustive"]
    assert exhaustive.n == 6 and exhaustive.ac1 == pytest.approx(17 / 29)
    assert h.per_tag["Function"].n == 2 and h.per_tag["Function"].within_one == 1.0


def test_scout_eval_agreement_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.db"
    labelled_store(db, tmp_path)
    png = tmp_path / "confusion.png"
    assert main(["eval", "--agreement", "--db", str(db), "--json", "--plot", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    pair = next(p for p in data["pairs"] if p["source"] == "heuristic")
    assert pair["reference"] == "ghc" and pair["overall"]["n"] == 8
    assert pair["per_tag"]["Exhaustive"]["kappa"] == pytest.approx(0.925)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["eval", "--agreement", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "heuristic vs ghc" in text and "qw-kappa" in text and "A=5" in text
    assert main(["eval", "--agreement", "--db", str(tmp_path / "none.db")]) == 3
