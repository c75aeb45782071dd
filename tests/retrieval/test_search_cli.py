"""search_docs and the retrieval CLI, end to end on a small corpus with the hashing embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autan.cli.app import main
from autan.config import load_settings
from autan.graphs.nodes.tools import number_citations
from autan.tools.registry import ToolRegistry

from .corpus import write_corpus


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "hashing")
    return write_corpus(tmp_path / "docs")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ingested(capsys: pytest.CaptureFixture[str], corpus: Path) -> dict:  # type: ignore[type-arg]
    code, out, _ = run(capsys, "ingest", str(corpus), "--json", "--tag", "demo")
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


def test_ingest_search_reingest(capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    first = ingested(capsys, corpus)
    assert first["files_indexed"] == 7 and first["files_skipped"] == 4
    code, out, _ = run(capsys, "search", "read a file line by line", "-k", "3", "--json")
    assert code == 0
    result = json.loads(out)
    cites = result["citations"]
    assert [c["id"] for c in cites] == ["1", "2", "3"]
    assert cites[0]["source"].endswith("guide/files.md")
    assert set(cites[0]) >= {
        "key",
        "source",
        "title",
        "heading_path",
        "start",
        "end",
        "text",
        "score",
    }
    assert ingested(capsys, corpus)["chunks_embedded"] == 0
    code, out, _ = run(capsys, "search", "read a file", "--filter", f"path={corpus / 'guide'}")
    assert code == 0 and "[1]" in out and "notes.txt" not in out
    code, out, _ = run(capsys, "search", "json", "--filter", "tag=nope", "--json")
    assert json.loads(out)["citations"] == []


def test_search_docs_tool_and_turn_numbering(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ingested(capsys, corpus)
    tool_registry = ToolRegistry.builtin(load_settings(), ["search_docs"])
    result = tool_registry.run("search_docs", {"query": "pretty print json", "k": 2})
    assert result["ok"] and [c["id"] for c in result["citations"]] == ["1", "2"]
    assert "json" in result["citations"][0]["source"]
    numbered = number_citations(result, [{"id": "1", "key": "earlier passage"}])
    assert [c["id"] for c in numbered["citations"]] == ["2", "3"]
    again = number_citations(result, numbered["citations"])
    assert [c["id"] for c in again["citations"]] == ["2", "3"]  # stable keys keep their numbers
    filtered = tool_registry.run(
        "search_docs", {"query": "area", "filters": {"source": str(corpus / "geometry.py")}}
    )
    assert filtered["ok"] and {c["source"] for c in filtered["citations"]} == {
        (corpus / "geometry.py").as_posix()
    }
    empty = tool_registry.run("search_docs", {"query": " "})
    assert empty["ok"] is False and empty["error"]["type"] == "UserInputError"


def test_collections_list_and_drop(capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    ingested(capsys, corpus)
    code, out, _ = run(capsys, "collections", "list", "--json")
    (info,) = json.loads(out)["collections"]
    assert info["name"] == "docs" and info["dim"] == 256 and info["count"] > 7
    code, _, err = run(capsys, "collections", "drop", "docs")  # no terminal to ask at
    assert code == 2 and "add --yes" in err
    assert json.loads(run(capsys, "collections", "list", "--json")[1])["collections"]
    assert run(capsys, "collections", "drop", "docs", "--yes")[0] == 0
    assert json.loads(run(capsys, "collections", "list", "--json")[1]) == {"collections": []}
    code, _, err = run(capsys, "collections", "drop", "docs", "--yes")
    assert code == 2 and err.count("\n") == 1


def _store_files(root: Path) -> dict[str, bytes]:
    return {
        str(p): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".locks" not in p.parts  # who last held it, not the index
    }


def test_bad_input_is_one_line_exit_2_and_store_untouched(
    capsys: pytest.CaptureFixture[str], corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingested(capsys, corpus)
    vectors = load_settings().data_dir / "vectors"
    snapshot = _store_files(vectors)
    cases = [
        ("ingest", str(corpus / "nope")),
        ("search", "   "),
        ("search", "x", "-c", "missing"),
        ("search", "x", "--filter", "colour=red"),
        ("ingest", str(corpus), "-c", "../escape"),
        ("ingest", str(corpus), "-c", ""),
        ("search", "x", "-c", ""),
    ]
    for args in cases:
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert err.startswith("error:") and err.count("\n") == 1, (args, err)
    code, _, err = run(capsys, "search", "x", "--filter", "bogus=1")
    assert "unknown --filter key 'bogus'" in err and "path_prefix" not in err
    assert "source, path, tag, after or before" in err
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "hashing:64")
    code, _, err = run(capsys, "ingest", str(corpus))
    assert code == 2 and "256-d" in err
    assert _store_files(vectors) == snapshot
    (vectors / "docs" / "collection.json").write_text("{not json")
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "hashing")
    for args in (("search", "json"), ("ingest", str(corpus)), ("collections", "list")):
        code, _, err = run(capsys, *args)
        assert code == 2 and "corrupt" in err and err.count("\n") == 1, (args, err)
    assert (vectors / "docs" / "collection.json").read_text() == "{not json"


def test_eval_retrieval(capsys: pytest.CaptureFixture[str], corpus: Path, tmp_path: Path) -> None:
    ingested(capsys, corpus)
    queries = tmp_path / "q.jsonl"
    rows = [
        {
            "query": "read a file line by line",
            "gold": [{"source": "guide/files.md", "phrase": "loop over the file object"}],
        },
        {
            "query": "pretty print json",
            "gold": [{"source": "json.html", "phrase": "indent argument"}],
        },
        {"query": "circle area", "gold": [{"source": "geometry.py", "phrase": "def area"}]},
    ]
    queries.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = run(capsys, "eval", "retrieval", "--queries", str(queries), "--json")
    assert code == 0
    results = json.loads(out)["results"]
    assert set(results) == {"bm25", "dense", "hybrid"}
    assert results["hybrid"]["mrr"] > 0.5 and 0 <= results["bm25"]["ndcg@10"] <= 1
    code, out, _ = run(capsys, "eval", "retrieval", "--queries", str(queries))
    assert "nDCG@10" in out and "hybrid" in out
    queries.write_text("not json\n")
    assert run(capsys, "eval", "retrieval", "--queries", str(queries))[0] == 2
