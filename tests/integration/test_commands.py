"""The `ccimg` commands as a data engineer scripts them: outputs that chain, help that explains, one-line errors
with documented exit codes (0 done, 1 runtime trouble, 2 fix the command or its files, 3 nothing to do), bad rows
skipped and counted with their row number, never a traceback without --debug."""
from __future__ import annotations

import functools
import gzip
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from ccimg.cli import COMMANDS, main
from ccimg.commands import common
from dataio.tables import iter_rows
from tests.support.size_model_data import aeb_records

REPO = Path(__file__).resolve().parents[2]
URLS = ["https://img.example.org/photos/2019/beach-1600x1200.jpg", "https://cdn.example.com/icons/star.png",
        "https://img.example.org/photos/2019/beach-1600x1200.jpg", "https://example.net/a/b/thumb-64x64.gif"]


@pytest.fixture
def model_once(monkeypatch):
    """The shipped model loaded once for the tests that run `ccimg score` many times (loading it is tested
    elsewhere: test_score.py and the bad-model tests below)."""
    from ccimg.commands import score

    cached = functools.lru_cache(maxsize=None)(common.load_model)
    monkeypatch.setattr(score, "load_model", cached)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str, prefix: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix) and "Traceback" not in err, err
    return lines[0]


# -- help and conventions ------------------------------------------------------------------------------------------
def test_top_level_help_lists_every_command_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for name, (_module, line) in COMMANDS.items():
        assert name in out and line.split()[0] in out
    assert "exit codes: 0 done" in out and "ccimg COMMAND --help" in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_help_gives_purpose_examples_output_and_exit_codes(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    out = capsys.readouterr().out
    assert f"`ccimg {name}`" in out and "example" in out and "output" in out and "exit codes" in out, out
    assert "--debug" in out


def test_version(capsys):
    from ccimg import __version__

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"ccimg {__version__}"
    setup = (REPO / "setup.py").read_text()
    assert "version=VERSION" in setup and "ccimg/__init__.py" in setup  # one place for the number


def test_license_is_apache_2_and_setup_says_so():
    assert (REPO / "LICENSE").read_text().lstrip().startswith("Apache License\n                           Version 2.0")
    got = subprocess.run([sys.executable, "setup.py", "--license", "--classifiers"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines()[0] == "Apache-2.0"
    assert "License :: OSI Approved :: Apache Software License" in got.stdout


def test_train_method_has_a_default_and_help(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "default ours" in out and "NG-trf" in out


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys, tmp_path):
    from ccimg.commands import convert

    def broken(args):
        raise TypeError("something this project got wrong")

    monkeypatch.setattr(convert, "run", broken)
    code, _, err = run(capsys, "convert", "x", "-o", tmp_path / "y.jsonl")
    assert code == 1
    assert "internal error (TypeError: something this project got wrong)" in one_error_line(err, "ccimg convert: ")
    with pytest.raises(TypeError):
        main(["convert", "x", "-o", str(tmp_path / "y.jsonl"), "--debug"])


# -- score: the options a crawler needs -------------------------------------------------------------------------------
def test_score_only_big_unique_urls_is_a_fetch_list(tmp_path, capsys, model_once):
    src = tmp_path / "urls.txt"
    src.write_text("\n".join(URLS) + "\n")
    out = tmp_path / "fetch.txt"
    code, _, err = run(capsys, "score", src, "--only", "BIG", "--unique", "--format", "urls", "-o", out)
    assert code == 0, err
    assert out.read_text().splitlines() == [URLS[0]]
    assert "wrote 1 (BIG 1)" in err
    code, stdout, _ = run(capsys, "score", src, "--unique")
    assert [json.loads(line)["img_url"] for line in stdout.splitlines()] == [URLS[0], URLS[1], URLS[3]]


def test_score_output_fields_as_documented(tmp_path, capsys, model_once):
    records = list(aeb_records())[:300]
    src = tmp_path / "records.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "scores.parquet"
    assert run(capsys, "score", src, "-o", out)[0] == 0
    rows = [r.data for r in iter_rows(out)]
    assert [r["img_url"] for r in rows] == [r["img_url"] for r in records]
    assert set(rows[0]) == {"img_url", "p_big", "label", "reason", "width", "height", "page_url"}
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    doc = capsys.readouterr().out
    for field in rows[0]:
        assert f"\n  {field} " in doc, field  # every output field is described in --help
    decided = [r for r in rows if r["reason"] != "model"]
    assert decided and all(r["width"] is not None or r["height"] is not None for r in decided
                           if r["reason"] in ("declared", "url-pattern"))


def test_score_progress_status_lines_in_a_log(tmp_path, capsys, monkeypatch, model_once):
    monkeypatch.setattr(common, "STATUS_EVERY", 0.0)
    src = tmp_path / "urls.txt"
    src.write_text("\n".join(URLS * 50) + "\n")
    code, _, err = run(capsys, "score", src, "--batch", "40", "-o", tmp_path / "s.jsonl")
    assert code == 0
    status = [line for line in err.splitlines() if line.startswith("ccimg score: scoring: ")]
    assert len(status) >= 5 and status[-1].startswith("ccimg score: scoring: 200 rows in")


# -- issue 9: bad arguments and files ------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["--batch", "0"], "argument --batch: 0 must be 1 or more"),
    (["--batch", "-1"], "argument --batch: -1 must be 1 or more"),
    (["--recall", "2"], "argument --recall: 2 must be above 0 and at most 1"),
    (["--recall", "0"], "argument --recall: 0 must be above 0 and at most 1"),
    (["--threshold", "best"], "argument --threshold: best is neither a number between 0 and 1 nor 'f1'"),
    (["--recall", "0.9", "--threshold", "0.5"], "not allowed with argument"),
    (["--format", "xml"], "invalid choice: 'xml'"),
])
def test_score_bad_arguments_exit_2_with_argparse_one_line(tmp_path, capsys, argv, message):
    src = tmp_path / "u.txt"
    src.write_text(URLS[0] + "\n")
    with pytest.raises(SystemExit) as info:
        main(["score", str(src), *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _evil_skops(path: Path) -> Path:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    sio.dump({"format": "ccimg-size-model/1", "estimators": {"url": FunctionTransformer(func=os.system)},
              "metadata": "{}"}, path)
    return path


@pytest.mark.parametrize("kind, message", [
    ("missing", "no model file at"),
    ("truncated", r"is not a ccimg model file \(BadZipFile"),
    ("foreign", "is not a ccimg model file"),
    ("other-zip", "is not a ccimg model file"),
    ("pickle", "refusing to load .* it is a Python pickle"),
    ("function-transformer", r"refusing to load .* outside the allow-list \(posix.system\)"),
])
def test_bad_model_files_are_refused_in_one_line(tmp_path, capsys, kind, message):
    import re
    import zipfile

    from models.score import DEFAULT_MODEL

    model = tmp_path / "model.skops"
    if kind == "truncated":
        model.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])
    elif kind == "foreign":
        model.write_text("https://example.org/not-a-model\n")
    elif kind == "other-zip":
        with zipfile.ZipFile(model, "w") as z:
            z.writestr("hello.txt", "a zip, but not skops")
    elif kind == "pickle":
        model.write_bytes(pickle.dumps(os.system))
    elif kind == "function-transformer":
        _evil_skops(model)
    src = tmp_path / "u.txt"
    src.write_text(URLS[0] + "\n")
    for argv in (["score", src, "--model", model], ["eval", "--model", model, "--data", src]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert re.search(message, one_error_line(err, f"ccimg {argv[0]}: error:")), err


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "is a binary file"),
    (None, "no such file"),
])
def test_unreadable_inputs_exit_2_for_every_reader(tmp_path, capsys, content, message):
    src = tmp_path / "in.jsonl"
    if content is not None:
        src.write_bytes(content)
    for argv in (["score", src], ["probe", src], ["convert", src, "-o", tmp_path / "c.jsonl"],
                 ["train", "--data", src, "-o", tmp_path / "m.skops"], ["eval", "--data", src],
                 ["train", "--data", src, "--labels", src, "-o", tmp_path / "m.skops"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "", (argv, err)
        assert message in one_error_line(err, f"ccimg {argv[0]}: error:")


def test_bad_rows_are_counted_and_named_and_good_rows_scored(tmp_path, capsys, model_once):
    src = tmp_path / "mixed.jsonl"
    lines = [json.dumps({"img_url": URLS[0]}).encode(), b'{"img_url": 5}', b'{"img_url": ["a", "b"]}',
             b'{"img_url": "https://a.example/x.jpg", "width_attr": NaN}', b'{"img_url": "https://a.example/y.jpg", '
             b'"height_attr": Infinity}', b"[1, 2]", "https://a.example/caf\u00e9.jpg".encode("latin-1"),
             json.dumps({"img_url": URLS[1], "width_attr": 640, "height_attr": 480, "alt": ["x"]}).encode(),
             json.dumps({"img_url": URLS[3], "width_attr": 640, "height_attr": 480}).encode(),
             json.dumps({"img_url": "https://a.example/" + "x" * 9000}).encode()]
    src.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(capsys, "score", src)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["img_url"] for r in rows] == [URLS[0], URLS[3]]
    assert rows[1]["reason"] == "declared"  # width_attr 640 (a number) read as the attribute "640"
    for number, reason in ((2, "img_url_not_text"), (3, "img_url_not_text"), (4, "bad_json"), (5, "bad_json"),
                           (6, "not_an_object"), (7, "not_utf8"), (8, "bad_field: alt is a list"),
                           (10, "url_too_long")):
        assert f"ccimg score: {src}:{number}: row skipped ({reason}" in err, (number, err)
    assert "8 rows skipped (bad_json 2, img_url_not_text 2, bad_field 1, not_an_object 1, not_utf8 1, " \
           "url_too_long 1)" in err
    assert "Traceback" not in err


def test_parquet_values_of_the_wrong_type_are_skipped(tmp_path, capsys, model_once):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"img_url": [URLS[0], URLS[1], URLS[3]], "width_attr": [float("nan"), 640.0, None],
                             "height_attr": [1.0, 480.0, None]}), src)
    code, out, err = run(capsys, "score", src)
    assert code == 0
    assert [json.loads(line)["img_url"] for line in out.splitlines()] == [URLS[1], URLS[3]]
    assert f"{src}:1: row skipped (bad_field: width_attr is a float (nan))" in err


def test_outputs_refused_or_made(tmp_path, capsys, model_once):
    src = tmp_path / "u.txt"
    src.write_text(URLS[0] + "\n")
    (tmp_path / "a-file").write_text("x")
    code, _, err = run(capsys, "score", src, "-o", tmp_path / "a-file" / "out.jsonl")
    assert code == 2 and "is a file, not a folder" in one_error_line(err, "ccimg score: error:")
    code, _, err = run(capsys, "score", src, "-o", src)
    assert code == 2 and "exists: pass --overwrite" in one_error_line(err, "ccimg score: error:")
    assert src.read_text() == URLS[0] + "\n"
    assert run(capsys, "score", src, "-o", tmp_path / "new" / "folder" / "out.jsonl")[0] == 0
    code, _, err = run(capsys, "score", src, "--format", "urls", "-o", tmp_path / "x.parquet")
    assert code == 2 and "names a Parquet file" in err


def test_nothing_to_do_exits_3(tmp_path, capsys, model_once):
    src = tmp_path / "empty.txt"
    src.write_text("\n# only a comment\n")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n")
    for argv in (["score", src], ["probe", src], ["convert", blank, "-o", tmp_path / "c.jsonl"]):
        code, out, err = run(capsys, *argv)
        assert code == 3 and "nothing to" in err, (argv, err)
    recs = tmp_path / "small-only.jsonl"
    recs.write_text(json.dumps({"img_url": URLS[1], "width_attr": "16", "height_attr": "16"}) + "\n")
    for argv in (["train", "--data", recs, "-o", tmp_path / "m.skops"], ["eval", "--data", recs]):
        code, out, err = run(capsys, *argv)
        assert code == 3 and "need labelled examples of both classes" in one_error_line(err, "ccimg"), err


def test_train_and_eval_refuse_existing_outputs_before_any_work(tmp_path, capsys):
    model = tmp_path / "m.skops"
    model.write_text("keep me")
    missing = tmp_path / "not-read.jsonl"
    code, _, err = run(capsys, "train", "--data", missing, "-o", model)
    assert code == 2 and "exists: pass --overwrite" in err and model.read_text() == "keep me"
    code, _, err = run(capsys, "eval", "--data", missing, "--pr-out", model)
    assert code == 2 and "exists: pass --overwrite" in err


@pytest.mark.parametrize("argv, message", [
    (["probe", "u.txt", "--rate", "0"], "argument --rate: 0 must be a finite number above 0"),
    (["probe", "u.txt", "--workers", "0"], "argument --workers: 0 must be 1 or more"),
    (["probe", "u.txt", "--retries", "-1"], "argument --retries: -1 cannot be negative"),
    (["probe", "u.txt", "--timeout", "nan"], "argument --timeout: nan must be a finite number above 0"),
    (["train", "--data", "x", "-o", "m", "--trees", "0"], "argument --trees: 0 must be 1 or more"),
    (["train", "--data", "x", "-o", "m", "--holdout-sites", "1"], "argument --holdout-sites: 1 must be at least 0"),
    (["eval", "--data", "x", "--test-share", "0"], "argument --test-share: 0 must be between 0 and 1"),
    (["eval", "--data", "x", "--recall", "abc"], "argument --recall: 'abc' is not a number"),
    (["sample", "--pages", "-3"], "argument --pages: -3 must be 1 or more"),
    (["build-default-model", "--trees", "0"], "argument --trees: 0 must be 1 or more"),
    (["demo", "-r", "emr"], "argument -r/--runner: invalid choice"),
    (["select", "--url", "x.com", "-o", "s.tsv", "--timeout", "0"], "argument --timeout: 0 must be a finite number"),
    (["select", "--url", "x.com", "-o", "s.tsv", "--backoff", "nan"], "argument --backoff: nan must be a finite"),
    (["select", "--url", "x.com", "-o", "s.tsv", "--parts", "0"], "argument --parts: 0 must be 1 or more"),
    (["select", "--url", "x.com", "-o", "s.tsv", "--retries", "-2"], "argument --retries: -2 cannot be negative"),
    (["select", "--url", "x.com", "-o", "s.tsv", "--limit", "x"], "argument --limit: 'x' is not a whole number"),
])
def test_bad_arguments_of_every_command(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and "Traceback" not in err, err


def test_label_sources_and_select_output(tmp_path, capsys):
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps({"img_url": URLS[0]}) + "\n")
    code, _, err = run(capsys, "train", "--data", src, "--label-sources", "true,guess", "-o", tmp_path / "m.skops")
    assert code == 2 and "--label-sources: guess" in err
    code, out, err = run(capsys, "select", "--url", "example.com", "-o", "-")
    assert code == 2 and out == "" and "-o -: a selection keeps its resume state" in err
    patterns = tmp_path / "patterns.txt"
    patterns.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, out, err = run(capsys, "select", "--url-file", patterns, "-o", tmp_path / "s.tsv")
    assert code == 2 and "--url-file: " in one_error_line(err, "ccimg select: error:") and "binary" in err
    patterns.write_bytes(b"caf\xe9.example\n")  # latin-1: skipped and named, then nothing is left to select
    code, out, err = run(capsys, "select", "--url-file", patterns, "-o", tmp_path / "s.tsv")
    assert code == 2 and f"{patterns}:1: row skipped (not_utf8)" in err and "nothing to select" in err


# -- the README's chain, with no glue: job -o folder -> score / convert / train / eval -------------------------------
def test_the_pipeline_chains_from_the_jobs_part_folder(tmp_path, capsys):
    from ccimg.sample import write_sample
    from dataio.tables import write_jsonl
    from jobs.extract_images import ExtractImagesJob
    from jobs.image_sizes import ImageSizesJob
    from tests.conftest import run_job

    warc = tmp_path / "crawl.warc.gz"
    write_sample(warc, pages=60)
    folder = tmp_path / "images"
    job = ExtractImagesJob(["--no-conf", "-r", "inline", "-o", str(folder), str(warc)])
    job.sandbox()
    with job.make_runner() as runner:
        runner.run()
    assert any(p.name.startswith("part-") for p in folder.iterdir())
    records = [r.data for r in iter_rows(folder)]
    sizes, _ = run_job(ImageSizesJob, ["-r", "inline", str(warc)])
    write_jsonl(sizes, tmp_path / "sizes.jsonl")
    labels = tmp_path / "sizes.parquet"
    assert run(capsys, "convert", tmp_path / "sizes.jsonl", "-o", labels)[0] == 0

    assert run(capsys, "convert", folder, "-o", tmp_path / "images.parquet")[0] == 0
    assert [r.data for r in iter_rows(tmp_path / "images.parquet")] == records

    model = tmp_path / "url.skops"
    code, out, err = run(capsys, "train", "--data", folder, "--labels", labels, "--method", "ours-url",
                         "--holdout-sites", "0.3", "-o", model)
    assert code == 0, err
    assert "fitting ours-url on" in err and "done in" in err
    code, out, err = run(capsys, "eval", "--model", model, "--data", tmp_path / "images.parquet", "--labels", labels,
                         "--split", "test", "--input", "url", "--json-out", tmp_path / "eval.json")
    assert code == 0, err
    assert json.loads((tmp_path / "eval.json").read_text())["examples"] > 50
    code, out, err = run(capsys, "score", folder, "--model", model, "--only", "BIG", "--unique", "--format", "urls",
                         "-o", tmp_path / "fetch.txt")
    assert code == 0, err
    fetch = (tmp_path / "fetch.txt").read_text().splitlines()
    assert fetch and len(fetch) == len(set(fetch)) and set(fetch) <= {r["img_url"] for r in records}
    # a paper method has no recall thresholds: --recall is refused, not silently scored at 0.5
    paper = tmp_path / "tokens.skops"
    assert run(capsys, "train", "--data", folder, "--labels", labels, "--method", "TOKENS-trf", "--trees", "3",
               "--k", "50", "-o", paper)[0] == 0
    code, out, err = run(capsys, "score", folder, "--model", paper, "--recall", "0.9")
    assert code == 2 and out == ""
    assert "--recall: TOKENS-trf has no recall thresholds" in one_error_line(err, "ccimg score: error:")
