"""The linter's web links, against real loopback servers: each link checked once and reported
at each place, the cache, --accept, the address exclusions, the politeness estimate, and the
CI formats (GitHub workflow commands, SARIF validated against its 2.1.0 schema)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from curation.checker import lint as lint_module
from curation.checker.cli import main
from curation.checker.formats import escape_data, escape_property
from curation.checker.lint import politeness_estimate
from tests.checker.servers import page

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"
BODY = b"<title>Course</title><h1>Course</h1>"


@pytest.fixture
def site(server):
    server.routes["/ok"] = page(body=BODY)
    server.routes["/gone"] = page(404)
    server.routes["/private"] = page(403)
    return server


def environ_for(server):
    return {
        "LINKCHECK_ALLOWED_INTERNAL_HOSTS": server.host_port,
        "LINKCHECK_PER_HOST_INTERVAL": "0",
    }


def lint(capsys, server, *args):
    code = main(list(args), environ=environ_for(server))
    out, err = capsys.readouterr()
    return code, out, err


def asked(server, path):
    return [request for request in server.requests if request[1] == path]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# One check, every place -----------------------------------------------------------------------


def test_a_link_in_several_places_is_checked_once_and_reported_at_each(site, in_tmp, capsys):
    gone = site.url("/gone")
    line = f"[one]({gone}) and again <{gone}>"
    Path("a.md").write_text(f"# A\n\n{line}\n")
    Path("b.html").write_text(f'<p>\n  <a href="{gone}">gone</a></p>\n')

    code, out, _ = lint(capsys, site, "a.md", "b.html", "--format", "json")

    places = [(i["file"], i["line"], i["column"], i["outcome"]) for i in json.loads(out)]
    assert places == [
        ("a.md", 3, 7, "not_found"),
        ("a.md", 3, line.rindex(gone) + 1, "not_found"),
        ("b.html", 2, 3, "not_found"),
    ]  # fmt: skip
    assert len(asked(site, "/gone")) == 1
    assert code == 1


def test_links_to_one_page_with_different_fragments_are_one_check(site, in_tmp, capsys):
    ok = site.url("/ok")
    Path("a.md").write_text(f"[a]({ok}#intro) [b]({ok}#usage) [c]({ok})\n")

    code, out, _ = lint(capsys, site, "a.md", "--format", "json")

    assert [(i["url"], i["outcome"]) for i in json.loads(out)] == [
        (f"{ok}#intro", "ok"), (f"{ok}#usage", "ok"), (ok, "ok"),
    ]  # fmt: skip
    assert len(asked(site, "/ok")) == 1 and code == 0


def test_the_text_and_markdown_reports_name_file_line_and_column(site, in_tmp, capsys):
    Path("list.md").write_text(f"- [ok]({site.url('/ok')})\n")

    _, text, _ = lint(capsys, site, "list.md")
    _, table, _ = lint(capsys, site, "list.md", "--format", "markdown")

    assert text.startswith(f"list.md:1:8: {'ok':<17} 200  {site.url('/ok')}\n")
    assert text.rstrip().endswith("summary: 1 links at 1 places: ok: 1")
    assert table.splitlines()[0] == "| Where | URL | Outcome | Status | Final URL | Rule |"
    assert table.splitlines()[2].startswith(f"| list.md:1:8 | {site.url('/ok')} | ok | 200 |")


# Selection that needs a server ----------------------------------------------------------------


def test_accepted_statuses_make_a_link_ok(site, in_tmp, capsys):
    Path("list.md").write_text(f"[gone]({site.url('/gone')})\n")

    code, out, _ = lint(capsys, site, "list.md", "--format", "json", "--accept", "200..299,404")

    [item] = json.loads(out)
    assert (item["outcome"], item["rule"], item["status_code"]) == (
        "ok",
        "accepted-status-404",
        404,
    )
    assert code == 0


def test_excluded_loopback_links_are_never_requested(site, in_tmp, capsys):
    Path("list.md").write_text(f"[gone]({site.url('/gone')})\n")

    code, out, err = lint(capsys, site, "list.md", "--format", "json", "--exclude-loopback")

    assert [i["outcome"] for i in json.loads(out)] == ["excluded"]
    assert site.requests == [] and code == 0
    assert "summary: 1 links at 1 places: excluded: 1" in err


# The cache ------------------------------------------------------------------------------------


def test_a_cached_rerun_rechecks_only_what_failed(site, in_tmp, capsys):
    state = {"status": 404}
    site.routes["/flaky"] = lambda h: h.reply(state["status"], BODY)
    Path("list.md").write_text(f"[ok]({site.url('/ok')}) [flaky]({site.url('/flaky')})\n")

    first, _, _ = lint(capsys, site, "list.md", "--cache")
    state["status"] = 200
    second, out, _ = lint(capsys, site, "list.md", "--cache", "--format", "json")

    assert (first, second) == (1, 0)
    assert len(asked(site, "/ok")) == 1 and len(asked(site, "/flaky")) == 2
    cached = {i["url"]: i["cached"] for i in json.loads(out)}
    assert cached == {site.url("/ok"): True, site.url("/flaky"): False}


def test_an_entry_older_than_the_maximum_age_is_checked_again(site, in_tmp, capsys):
    Path("list.md").write_text(f"[ok]({site.url('/ok')})\n")
    lint(capsys, site, "list.md", "--cache")
    cache = json.loads(Path(".checklinkscache").read_text())
    for entry in cache["entries"].values():
        entry["checked_at"] -= 3 * 3600  # three hours ago
    Path(".checklinkscache").write_text(json.dumps(cache))
    site.routes["/ok"] = page(404)  # it broke since

    kept, _, _ = lint(capsys, site, "list.md", "--cache", "--max-cache-age", "4h")
    expired, out, _ = lint(capsys, site, "list.md", "--cache", "--max-cache-age", "2h")

    assert kept == 0  # younger than 4 h: the cached verdict stands
    assert expired == 1 and "not_found" in out
    assert len(asked(site, "/ok")) == 2


def test_a_corrupt_cache_file_is_ignored_with_a_warning_and_replaced(site, in_tmp, capsys):
    Path("list.md").write_text(f"[ok]({site.url('/ok')})\n")
    Path("my-cache").write_text("{not json")

    code, _, err = lint(capsys, site, "list.md", "--cache-file", "my-cache")

    assert code == 0
    assert "warning: ignoring the cache my-cache" in err
    assert site.url("/ok") in json.loads(Path("my-cache").read_text())["entries"]


def test_a_malformed_cache_age_is_a_usage_error(site, in_tmp, capsys):
    Path("list.md").write_text("# nothing\n")

    code, _, err = lint(capsys, site, "list.md", "--cache", "--max-cache-age", "soon")

    assert code == 2 and "soon" in err


# Politeness for one host ----------------------------------------------------------------------


def test_the_estimate_names_the_busiest_host_and_the_least_time():
    urls = [f"https://example.org/page/{n}" for n in range(60)] + ["https://other.example/"]

    assert politeness_estimate(urls, 1.0) == (
        "60 links to example.org: at least 59 s at 1 s per host (--per-host-interval to change)"
    )
    assert politeness_estimate(urls, 0) == ""
    assert politeness_estimate(urls[:3], 1.0) == ""  # 2 s: not worth a line


def test_the_run_says_at_start_how_long_politeness_makes_it(site, in_tmp, capsys, monkeypatch):
    monkeypatch.setattr(lint_module, "ESTIMATE_THRESHOLD", 0.0)
    Path("list.md").write_text(
        f"{site.url('/ok')}\n{site.url('/ok?2')}\n{site.url('/ok?3')}\n"
    )  # fmt: skip

    main(["list.md", "--per-host-interval", "0.5"], environ=environ_for(site))
    err = capsys.readouterr().err

    assert err.startswith(
        "3 links to 127.0.0.1: at least 1 s at 0.5 s per host (--per-host-interval to change)\n"
    )


# Output for CI --------------------------------------------------------------------------------


def test_workflow_command_values_are_escaped_as_githubs_runner_reads_them():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("docs/a:b,c.md") == "docs/a%3Ab%2Cc.md"


def test_the_github_format_annotates_failing_links_on_their_line(site, in_tmp, capsys):
    Path("a,b.md").write_text(
        f"[ok]({site.url('/ok')})\n[gone]({site.url('/gone')})\n[wall]({site.url('/private')})\n"
    )

    code, out, err = lint(capsys, site, "a,b.md", "--format", "github")

    assert out.splitlines() == [
        f"::error file=a%2Cb.md,line=2,col=8,title=checklinks%3A not_found::"
        f"not_found (404): {site.url('/gone')} [{_rule(out, 'error')}]",
        f"::warning file=a%2Cb.md,line=3,col=8,title=checklinks%3A blocked::"
        f"blocked (403): {site.url('/private')} [{_rule(out, 'warning')}]",
    ]
    assert "summary: 3 links at 3 places: ok: 1, not_found: 1, blocked: 1" in err
    assert code == 1


def _rule(out, level):
    line = next(line for line in out.splitlines() if line.startswith(f"::{level}"))
    return re.search(r"\[(.*)\]$", line).group(1)


def test_the_sarif_report_is_valid_sarif_2_1_0_with_locations(site, in_tmp, capsys):
    Path("list.md").write_text(
        f"# List\n\n[ok]({site.url('/ok')})\n[gone]({site.url('/gone')})\n[x](missing.md)\n"
    )

    code, out, _ = lint(capsys, site, "list.md", "--format", "sarif")

    log = json.loads(out)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("not_found", "error"), ("missing_file", "error"),
    ]  # fmt: skip
    location = results[0]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "list.md"}, "region": {"startLine": 4, "startColumn": 8},
    }  # fmt: skip
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == ["not_found", "missing_file"]
    assert code == 1


def test_the_schema_refuses_a_malformed_sarif_log():
    schema = json.loads(SCHEMA.read_text())
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}

    with pytest.raises(jsonschema.ValidationError, match="'name' is a required property"):
        jsonschema.validate(bad, schema)


# The console script and pre-commit ------------------------------------------------------------


def test_the_console_script_lints_without_django(site, in_tmp):
    Path("list.md").write_text(f"[gone]({site.url('/gone')}) [x](#list)\n\n# List\n")
    script = Path(sys.executable).parent / "checklinks"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(environ_for(site), PYTHONPROFILEIMPORTTIME="1")

    completed = subprocess.run(
        [str(script), "list.md", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    imported = [line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines()]
    assert completed.returncode == 1
    assert [i["outcome"] for i in json.loads(completed.stdout)] == ["not_found", "ok"]
    assert not [name for name in imported if name.split(".")[0] == "django"]


def test_the_pre_commit_hook_runs_the_console_script_on_markdown_and_html():
    import tomllib

    import yaml

    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]

    assert hook["id"] == "checklinks" and hook["language"] == "python"
    assert hook["pass_filenames"] is True and set(hook["types_or"]) == {"markdown", "html"}
    assert scripts[hook["entry"]] == "curation.checker.cli:run"


def test_the_progress_counter_is_not_written_when_stderr_is_not_a_terminal(site, in_tmp, capsys):
    Path("list.md").write_text(f"[ok]({site.url('/ok')})\n")

    _, _, err = lint(capsys, site, "list.md")

    assert err == ""
