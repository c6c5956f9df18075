"""`rixsim validate`: reports land where the index links point (also for a relative --out), skipped scripts are
listed as SKIPPED with their reason, and a bad --timeout is refused."""
import pytest

from rixsim.interfaces.cli import VALIDATION_SKIP_EXIT, main


@pytest.fixture
def scripts(tmp_path):
    d = tmp_path / "scripts"
    d.mkdir()
    (d / "good.py").write_text("import sys, pathlib\npathlib.Path(sys.argv[1], 'report.md').write_text('ok')\n")
    (d / "nodata.py").write_text(f"print('SKIPPED: data folder absent')\nraise SystemExit({VALIDATION_SKIP_EXIT})\n")
    return d


def test_relative_out_dir_puts_reports_where_the_index_links_point(tmp_path, scripts, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--scripts", str(scripts), "--out", "rel/dir", "--only", "good"]) == 0
    index = (tmp_path / "rel" / "dir" / "index.md").read_text()
    assert "[good/](good/)" in index
    assert (tmp_path / "rel" / "dir" / "good" / "report.md").read_text() == "ok"
    assert not (tmp_path / "rel" / "dir" / "good" / "rel").exists()


def test_a_skipped_script_is_reported_as_skipped_with_its_reason(tmp_path, scripts):
    assert main(["validate", "--scripts", str(scripts), "--out", str(tmp_path / "r")]) == 0
    index = (tmp_path / "r" / "index.md").read_text()
    assert "`nodata.py` | SKIPPED (data folder absent)" in index
    assert "`nodata.py` | ok" not in index


@pytest.mark.parametrize("bad", ["-1", "0", "nan", "inf", "soon"])
def test_timeout_must_be_a_positive_number(tmp_path, scripts, bad, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--scripts", str(scripts), "--out", str(tmp_path / "r"), "--timeout", bad])
    assert exc.value.code == 2
    assert bad in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
