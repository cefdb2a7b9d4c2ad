"""The what-if simulator (queue_server/simulation): a CSV day in simulated time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from queue_server.simulation.cli import main

HEADER = "time,service,party,headcount\n"
DAY = HEADER + "".join(
    f"09:{minute:02d}:00,{service},{party},{headcount}\n"
    for minute, (service, party, headcount) in enumerate(
        [
            ("employment", "individual", 1),
            ("card_services", "individual", 1),
            ("hiring_filing", "enterprise", 3),
            ("social_insurance", "enterprise", 12),
            ("maternity", "individual", 1),
            ("pickup", "individual", 1),
        ]
        + [("social_insurance", "individual", 1)] * 30
    )
)


@pytest.fixture
def day_csv(tmp_path: Path) -> Path:
    path = tmp_path / "day.csv"
    path.write_text(DAY, encoding="utf-8")
    return path


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main([*args, "--json"]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_same_seed_same_output(day_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = simulate(capsys, "--arrivals", str(day_csv), "--seed", "7")
    again = simulate(capsys, "--arrivals", str(day_csv), "--seed", "7")
    other = simulate(capsys, "--arrivals", str(day_csv), "--seed", "8")
    assert first == again
    assert first != other


def test_lines_and_what_ifs(day_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hall = simulate(capsys, "--arrivals", str(day_csv))
    lines = {line["line"]: line for line in hall["lines"]}  # type: ignore[attr-defined]
    assert set(lines) == {"A", "B", "C", "D", "E"}
    assert lines["A"]["visitors"] == 32
    assert lines["E"]["visitors"] == 1  # 12 people: the back office
    assert set(lines["A"]) == {"line", "visitors", "p50_wait_s", "p90_wait_s", "within_target_pct"}
    assert isinstance(hall["estimate_error_pct"], float)
    fewer = simulate(capsys, "--arrivals", str(day_csv), "--counters", "2")
    assert fewer["lines"][0]["p90_wait_s"] > lines["A"]["p90_wait_s"]  # type: ignore[index]
    threshold = simulate(capsys, "--arrivals", str(day_csv), "--threshold", "3")
    by_line = {line["line"]: line for line in threshold["lines"]}  # type: ignore[attr-defined]
    assert by_line["E"]["visitors"] == 2
    assert by_line["B"]["visitors"] == 0
    assert by_line["B"]["p50_wait_s"] is None
    table_run = main(["--arrivals", str(day_csv), "--strategy", "ordered"])
    assert table_run == 0
    assert "estimate_error_pct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "content"),
    [
        ([], None),  # neither --date nor --arrivals
        (["--date", "2026-12-01", "--arrivals", "x.csv"], None),
        (["--date", "2026-13-01"], None),
        (["--arrivals", "DAY", "--counters", "0"], None),
        (["--arrivals", "DAY", "--strategy", "random"], None),
        (["--arrivals", "DAY", "--threshold", "-1"], None),
        (["--arrivals", "DAY", "--seed", "x"], None),
        (["--arrivals", "DAY", "--site", "nowhere"], None),
        (["--arrivals", "missing.csv"], None),
        (["--arrivals", "DAY"], "when,service\n09:00:00,employment\n"),
        (["--arrivals", "DAY"], HEADER + "9h,employment,individual,1\n"),
        (["--arrivals", "DAY"], HEADER + "09:00:00,astrology,individual,1\n"),
        (["--arrivals", "DAY"], HEADER + "09:00:00,hiring_filing,individual,1\n"),
        (["--arrivals", "DAY"], HEADER + "09:00:00,employment,individual,0\n"),
        (["--arrivals", "DAY"], HEADER),
    ],
)
def test_bad_arguments_exit_2(
    args: list[str], content: str | None, tmp_path: Path, day_csv: Path
) -> None:
    if content is not None:
        day_csv.write_text(content, encoding="utf-8")
    argv = [
        str(day_csv) if arg == "DAY" else str(tmp_path / arg) if arg.endswith(".csv") else arg
        for arg in args
    ]
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(argv))
    assert exited.value.code == 2
