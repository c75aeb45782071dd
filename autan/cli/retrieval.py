"""``autan ingest``, ``autan search``, ``autan collections`` and ``autan eval retrieval``.

Heavy modules (torch, transformers, qdrant) are imported inside the commands only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from autan.cli._common import YesOpt, confirm, emit_json, server_client, settings_for
from autan.cli.fast import SearchArgs, check_query, filters, search_body, show_search
from autan.errors import UserInputError

if TYPE_CHECKING:
    from autan.config import Settings

collections_app = typer.Typer(help="List or drop document collections.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure retrieval quality.", no_args_is_help=True)

CollectionOpt = Annotated[
    str | None, typer.Option("--collection", "-c", help="collection (default: settings)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _settings(collection: str | None) -> Settings:
    if collection is None:
        return settings_for()
    from autan.memory.vectorstore import check_name

    return settings_for(retrieval={"collection": check_name(collection)})


def ingest(
    paths: Annotated[list[str], typer.Argument(help="files or folders to index")],
    collection: CollectionOpt = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="tag every chunk (repeat)")] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="extra file/folder name glob to skip")
    ] = None,
    json_out: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Index documents incrementally: unchanged files are never embedded again."""
    if _ingest_remote(paths, collection, list(tag or ()), json_out):
        return
    from autan.memory.embeddings import embedder_for, model_cache
    from autan.memory.ingest.files import DEFAULT_EXCLUDES, resolve_roots
    from autan.memory.ingest.pipeline import Ingestor
    from autan.memory.ingest.progress import Reporter, RichReporter, Silent
    from autan.memory.vectorstore import check_name, open_store

    settings = _settings(collection)
    cfg = settings.retrieval
    check_name(cfg.collection)
    roots = resolve_roots(paths)  # bad paths fail before the store or the model is touched
    reporter: Reporter = Silent() if json_out or quiet else RichReporter()
    options: dict[str, Any] = {"chunk_tokens": cfg.chunk_tokens, "chunk_overlap": cfg.chunk_overlap,
               "batch_size": cfg.embed_batch * 4, "tags": tuple(tag or ()), "reporter": reporter,
               "excludes": DEFAULT_EXCLUDES + tuple(exclude or ())}  # fmt: skip
    store = open_store(settings)
    try:
        recorded = store.embedder_of(cfg.collection)
        dim_of = lambda: store.info(cfg.collection).dim  # noqa: E731 - read only if needed
        embedder = embedder_for(cfg.embedder, recorded, model_cache(settings), dim_of)
        report = Ingestor(store, embedder, collection=cfg.collection, **options).run(roots)
    finally:
        store.close()
    _show_report(report.to_dict(), json_out)
    if report.interrupted:
        raise typer.Exit(130)


def _ingest_remote(
    paths: list[str], collection: str | None, tags: list[str], json_out: bool
) -> bool:
    """Ingest through a server if one is configured or running; False if there is none."""
    client = server_client()
    if client is None:
        return False
    if any(not p.strip() for p in paths):
        raise UserInputError("an empty path was given", hint="pass the files or folders to index")
    from autan.cli import remote

    files = [Path(p) for p in paths]
    _show_report(remote.ingest(client, files, collection, tags, client.keyed), json_out)
    return True


def _show_report(r: dict[str, Any], json_out: bool) -> None:
    if json_out:
        emit_json({"ok": not r["interrupted"], **r, "error": None})
        return
    typer.echo(
        f"{r['collection']}: {r['files_indexed']} files indexed "
        f"({r['chunks_embedded']} chunks embedded), {r['files_unchanged']} unchanged, "
        f"{r['files_removed']} removed ({r['chunks_removed']} chunks), "
        f"{r['files_skipped']} skipped, in {r['seconds']:.1f} s"
    )
    for item in r["skipped"][:20]:
        typer.echo(f"  skipped {item['path']}: {item['reason']}", err=True)
    if len(r["skipped"]) > 20:
        typer.echo(f"  … and {len(r['skipped']) - 20} more skipped", err=True)
    if r["interrupted"]:
        typer.echo("interrupted: run the same command again to resume", err=True)


def search(
    query: Annotated[str, typer.Argument(help="what to look for")],
    collection: CollectionOpt = None,
    k: Annotated[int, typer.Option("-k", help="number of passages")] = 5,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="key=value: source, path, tag, after, before (repeat)"),
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or bm25")] = "hybrid",
    json_out: JsonOpt = False,
) -> None:
    """Hybrid search with numbered, cited passages."""
    args = SearchArgs(query, collection, k, list(filter_ or ()), mode, json_out)
    check_query(query)
    if (client := server_client()) is not None:  # the plain cases never get here: autan.cli.fast
        show_search(client.post("/v1/search", search_body(args)), json_out)
        return
    from autan.memory.evaluation import MODES
    from autan.memory.retriever import Retriever, citation, make_filter

    if mode not in MODES:
        raise UserInputError(f"unknown mode {mode!r}", hint="use hybrid, dense or bm25")
    retriever = Retriever(_settings(collection))
    try:
        hits = retriever.search(query, k, make_filter(filters(args.filters)), MODES[mode])
    finally:
        retriever.close()
    cites = [citation(h, i) for i, h in enumerate(hits, 1)]
    show_search({"ok": True, "query": query, "collection": retriever.collection,
                 "citations": cites, "error": None}, json_out)  # fmt: skip


@collections_app.command("list")
def list_collections(json_out: JsonOpt = False) -> None:
    """Collections with their size, dimension and embedder."""
    from autan.memory.vectorstore import open_store

    store = open_store(settings_for())
    try:
        infos = [store.info(name) for name in store.collections()]
    finally:
        store.close()
    if json_out:
        emit_json({"collections": [vars(i) for i in infos]})
        return
    if not infos:
        typer.echo("no collections; index documents with 'autan ingest PATH'")
    for i in infos:
        typer.echo(f"{i.name:<20} {i.count:>8} chunks  {i.dim}-d  {i.model or '?'}")


@collections_app.command("drop")
def drop_collection(
    name: Annotated[str, typer.Argument(help="collection to delete")],
    yes: YesOpt = False,
) -> None:
    """Delete a collection and everything in it."""
    from autan.memory.vectorstore import check_name, open_store

    check_name(name)
    store = open_store(settings_for())
    try:
        size = store.info(name).count
        confirm(f"drop collection {name!r} with {size} chunks", yes)
        store.drop(name)
    finally:
        store.close()
    typer.echo(f"dropped {name} ({size} chunks)")


@eval_app.command("retrieval")
def eval_retrieval(
    queries: Annotated[Path, typer.Option("--queries", help="JSON Lines file of questions")],
    collection: CollectionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """nDCG@10, Recall@5 and MRR for BM25-only, dense-only and hybrid search."""
    from autan.memory.evaluation import evaluate, load_queries
    from autan.memory.retriever import Retriever

    qs = load_queries(queries)
    retriever = Retriever(_settings(collection))
    try:
        retriever.store.info(retriever.collection)
        embedder = retriever.embedder
        retriever.store.ensure_collection(retriever.collection, embedder.dim, embedder.name)
        results = evaluate(retriever.store, embedder, retriever.collection, qs)
    finally:
        retriever.close()
    if json_out:
        emit_json({"queries": len(qs), "collection": retriever.collection, "results": results})
        return
    typer.echo(f"{len(qs)} queries over {retriever.collection!r}")
    typer.echo(f"{'mode':<8} {'nDCG@10':>8} {'Recall@5':>9} {'MRR':>7}")
    for mode, r in results.items():
        typer.echo(f"{mode:<8} {r['ndcg@10']:>8.3f} {r['recall@5']:>9.3f} {r['mrr']:>7.3f}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("ingest")(ingest)
    app.command("search")(search)
    app.add_typer(collections_app, name="collections")
    app.add_typer(eval_app, name="eval")
