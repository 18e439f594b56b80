"""The labelled soft-404 corpus (tests/checker/soft404_pages), served as emulated sites on loopback
and checked by the real engine: a quality gate on precision and recall, not a timing."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import soft404_eval  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "soft404_pages"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))


def test_the_engine_reaches_the_precision_and_recall_targets_on_the_corpus():
    report = soft404_eval.evaluate(CORPUS)

    assert report.precision >= soft404_eval.PRECISION_TARGET, report.false_alarms
    assert report.recall >= soft404_eval.RECALL_TARGET, report.misses


def test_the_rules_alone_reach_the_precision_and_recall_targets_on_the_corpus():
    report = soft404_eval.evaluate(CORPUS, rules_only=True)

    assert report.precision >= soft404_eval.PRECISION_TARGET, report.false_alarms
    assert report.recall >= soft404_eval.RECALL_TARGET, report.misses


def test_every_item_of_the_corpus_names_an_existing_page_of_its_site(manifest):
    sites = {site["id"]: site for site in manifest["sites"]}

    missing = [
        item["id"]
        for item in manifest["items"]
        if item["site"] not in sites or not (CORPUS / item["file"]).is_file()
    ]

    assert missing == []


def test_every_positive_sits_on_a_site_that_serves_unknown_addresses_with_200_or_sends_them_home(
    manifest,
):
    sites = {site["id"]: site for site in manifest["sites"]}

    wrong = [
        item["id"]
        for item in manifest["items"]
        if item["label"] == "soft404"
        and (
            sites[item["site"]]["behaviour"] == "honest"
            or item["path"] in sites[item["site"]]["pages"]
        )
    ]

    assert wrong == []


def test_the_corpus_holds_hundreds_of_pages_in_many_languages_and_kinds_of_site(manifest):
    items = manifest["items"]
    labels = Counter(item["label"] for item in items)

    assert labels["soft404"] >= 150 and labels["real"] >= 300
    assert len({item["language"] for item in items}) >= 15
    assert len({item["kind"] for item in items}) >= 12
    assert sum(1 for item in items if item["hard"]) >= 200
