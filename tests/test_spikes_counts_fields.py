"""A counts row with more or fewer fields than the header is one `Error: FILE line N:` line, exit 1."""

import pytest
from typer.testing import CliRunner

from incidents.cli import app

GOOD = "series,date,count\na,2020-01-01,1\n"


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        (GOOD + "a,2020-01-02,1,extra\n", 3, "4 fields where the header has 3"),
        ("series,date,count\na,2020-01-01,1,extra\n", 2, "4 fields"),
        (GOOD + "a,2020-01-02\n", 3, "2 fields where the header has 3"),
        (GOOD + "\na,2020-01-02,1\n", 3, "an empty line"),
        (GOOD + 'a,"2020-01-02\n",1\na,2020-01-03\n', 5, "2 fields"),
        (GOOD + 'a,"2020-01-02,1\nb,2020-01-02,1\n', 3, "not a readable CSV record"),
        (GOOD + 'a,"x\ny"\nb,2020-01-02,1\n', 3, "2 fields"),
    ],
)
def test_malformed_row_is_one_error_line(tmp_path, body, line, says):
    counts = tmp_path / "counts.csv"
    counts.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["spikes", "--counts", str(counts), "--output", str(tmp_path / "out.csv")]
    )
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {counts} line {line}: "), lines[0]
    assert says in lines[0]
    assert "Traceback" not in result.output


def test_well_formed_file_still_reads(tmp_path):
    from incidents.spikes.series import read_counts

    counts = tmp_path / "counts.csv"
    counts.write_text("\ufeffSeries, date, count\na, 2020-01-01, 1\nb,2020-01-03,2\n", encoding="utf-8")
    table = read_counts(counts)
    assert table.names == ["a", "b"]
    assert table.counts.sum() == 3
