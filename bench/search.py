"""Search at archive scale: index build, reindex and query latency on a 100,000-artefact corpus.

    python -m bench.search                          # 100,000 items; JSON last
    python -m bench.search --n 5000 --queries 100 --skip-postgres --keep

A seeded corpus (``bench/corpus.py``) is written to a throwaway SQLite database, then:

* **Whoosh, the project's path**: ``search.index.reindex`` rebuilds the index from the database
  (timed from the call to the swapped-in generation: reading the rows, building the documents,
  indexing, committing); the index folder's size is measured after.
* **Queries**: a fixed mix (``MIX``: single words from common to rare, phrases, two-word queries,
  theme, area and kind filters with and without words, a typed ``theme:`` query) is run through the
  project's search entry point (``search.service.run_search``, or ``search.query.search`` when the
  service cannot run yet) by a facilitator of two of the three programmes, at two consent
  contexts: ``team`` and ``report_export`` (what analysts' search and reports need). Every search
  computes facet counts (themes, kind, age band, area) and highlighted snippets for a 20-hit
  page, as the pages do. Latency is wall time per search, p50/p95/p99.
* **SQLite FTS5 reference** (``bench/fts5.py``): the same corpus in an FTS5 table in the same
  database, the same queries with the consent rule in the ``WHERE``, bm25 order, ``snippet()`` and
  ``GROUP BY`` facets. Each query runs on both back to back, alternating which goes first, so
  load from other work on the machine falls on both alike.
* **PostgreSQL backend** (unless ``--skip-postgres``, and only when ``search.pg`` exists): the same
  corpus in a throwaway database on 127.0.0.1:5432 (user ``postgres``), its reindex and the same
  query mix through ``run_search`` with ``search_backend="postgres"``; the database is dropped after.

The mix is warmed once per backend and context before timing (the first, cold search is
reported on its own). Whoosh keeps decoded posting lists in a bounded cache (``search.engine``),
so the repeated mix mostly finds them there; ``time_cold`` also times each query once with that
cache emptied, which is what a word's first search in a running server costs. Targets (issue 6): p95 under 50 ms with facets and highlights; Whoosh no
worse than 2x FTS5 at p95; reindex of 100,000 items under 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from archive import schema  # noqa: E402
from archive.consent import Context  # noqa: E402
from archive.models import Role  # noqa: E402
from archive.principal import Principal  # noqa: E402
from archive.services import Services  # noqa: E402
from archive.settings import Settings, load_settings  # noqa: E402
from bench import fts5  # noqa: E402
from bench.corpus import Summary, generate  # noqa: E402

CONTEXTS = (Context.TEAM, Context.REPORT_EXPORT)
P95_TARGET_MS = 50.0
FTS5_RATIO_TARGET = 2.0
REINDEX_TARGET_S = 300.0
REINDEX_TARGET_N = 100_000
PAGELEN = 20
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@dataclass(frozen=True)
class Query:
    """One search of the mix: what a person types (Whoosh syntax), its FTS5 form, and filters."""

    kind: str  # word, phrase, words, filter
    text: str
    match: str | None  # FTS5 MATCH text; None when the search is filters alone
    filters: dict = field(default_factory=dict)


MIX = (
    Query("word", "school", "school"),
    Query("word", "money", "money"),
    Query("word", "bus", "bus"),
    Query("word", "park", "park"),
    Query("word", "mould", "mould"),
    Query("word", "bullied", "bullied"),
    Query("word", "doctor", "doctor"),
    Query("word", "football", "football"),
    Query("word", "library", "library"),
    Query("word", "lonely", "lonely"),
    Query("phrase", '"school uniform"', '"school uniform"'),
    Query("phrase", '"bus stop"', '"bus stop"'),
    Query("phrase", '"free school meals"', '"free school meals"'),
    Query("phrase", '"leisure centre"', '"leisure centre"'),
    Query("words", "bus money", "bus money"),
    Query("words", "damp flat", "damp flat"),
    Query("filter", "bus", "bus", {"themes": "transport"}),
    Query("filter", "food", "food", {"themes": ["food", "money"]}),
    Query("filter", "theme:housing damp", "damp", {"themes": "housing"}),
    Query("filter", "park", "park", {"area": "WD03"}),
    Query("filter", "school", "school", {"themes": "education", "area": "WD01"}),
    Query("filter", "scared", "scared", {"kind": "voice_note"}),
    Query("filter", "", None, {"themes": "mental_health"}),
    Query("filter", "", None, {"area": "WD07"}),
)


def bench_principal(summary: Summary) -> Principal:
    """A facilitator of two of the three programmes: the third programme's items must never count."""
    return Principal(kind="staff", user_id=1,
                     roles=frozenset((pid, Role.FACILITATOR) for pid in summary.programme_ids[:2]))


def percentiles(times_ms: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(times_ms, n=100, method="inclusive") if len(times_ms) > 1 else times_ms * 99
    return {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2), "p99_ms": round(cuts[98], 2),
            "max_ms": round(max(times_ms), 2), "n": len(times_ms)}


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---- the project's entry point ----------------------------------------------------------------


class Entry:
    """Searches through ``search.service.run_search`` when it runs, else ``search.query.search``."""

    def __init__(self, services: Services, principal: Principal):
        self.services, self.principal = services, principal
        self.name, self.note = "search.service.run_search", ""
        try:
            from search.service import run_search

            run_search(services, principal, Context.TEAM, "school", pagelen=PAGELEN)
            self._run = lambda ctx, q, page, pagelen: run_search(
                services, principal, ctx, q.text, filters=q.filters or None, page=page, pagelen=pagelen)
        except (ImportError, TypeError, AttributeError) as exc:
            from search.query import search

            self.name, self.note = "search.query.search", f"run_search could not run: {exc}"
            index_dir = services.settings.index_dir
            self._run = lambda ctx, q, page, pagelen: search(
                index_dir, principal, ctx, q.text, filters=q.filters or None, page=page, pagelen=pagelen)

    def __call__(self, context: Context, query: Query, page: int = 1, pagelen: int = PAGELEN):
        return self._run(context, query, page, pagelen)

    def all_ids(self, context: Context, query: Query) -> set[str]:
        """Every id the search finds, page by page, for cross-checking another backend."""
        ids, page = set(), 1
        while True:
            result = self(context, query, page=page, pagelen=100)
            ids.update(hit.id for hit in result.hits)
            if page * 100 >= result.total or not result.hits:
                return ids
            page += 1


# ---- phases -----------------------------------------------------------------------------------


def make_corpus(services: Services, n: int, seed: int) -> tuple[Summary, float]:
    schema.upgrade(services.engine)
    start = time.perf_counter()
    summary = generate(services.engine, n=n, seed=seed)
    return summary, time.perf_counter() - start


def whoosh_reindex(services: Services) -> dict:
    from search.index import live_dir, reindex

    index_dir = services.settings.index_dir
    with services.session() as db:
        start, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        count = reindex(db, index_dir)
        seconds = time.perf_counter() - start
        # CPU seconds (this process and its indexing sub-processes) say what the work costs
        # apart from what other jobs on the machine took from it.
        cpu_s = time.process_time() - cpu + _children_cpu() - children
    size = _folder_bytes(live_dir(index_dir))
    return {"docs": count, "seconds": round(seconds, 2), "docs_per_s": round(count / seconds, 1),
            "cpu_seconds": round(cpu_s, 2), "index_bytes": size}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fts5_build(services: Services) -> dict:
    rows, seconds, grew = fts5.build(services.engine)
    return {"docs": rows, "seconds": round(seconds, 2), "docs_per_s": round(rows / seconds, 1), "index_bytes": grew}


Runner = Callable[[Context, Query], object]


def time_queries(runners: dict[str, Runner], count: int) -> dict:
    """Run the mix `count` times per context on every runner, interleaved; latency figures per runner."""
    figures: dict = {name: {} for name in runners}
    names = list(runners)
    for context in CONTEXTS:
        for name in names:  # warm: open the index, fill the page cache, compile statements
            start = time.perf_counter()
            runners[name](context, MIX[0])
            figures[name].setdefault("first_search_ms", {})[context.value] = round(
                (time.perf_counter() - start) * 1000, 2)
            for query in MIX[1:]:
                runners[name](context, query)
        times: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        by_kind: dict[str, dict[str, list[float]]] = {name: {} for name in names}
        by_query: dict[str, dict[str, list[float]]] = {name: {} for name in names}
        for i in range(count):
            query = MIX[i % len(MIX)]
            for name in (names if i % 2 == 0 else names[::-1]):
                start, cpu_start = time.perf_counter(), time.process_time()
                runners[name](context, query)
                elapsed = (time.perf_counter() - start) * 1000
                # CPU time in this process: what other jobs on the machine do not inflate (it
                # leaves out a database server's own work, so it understates PostgreSQL).
                cpu[name].append((time.process_time() - cpu_start) * 1000)
                times[name].append(elapsed)
                by_kind[name].setdefault(query.kind, []).append(elapsed)
                by_query[name].setdefault(_label(query), []).append(elapsed)
        for name in names:
            medians = sorted(((label, round(statistics.median(v), 2)) for label, v in by_query[name].items()),
                             key=lambda item: -item[1])
            figures[name][context.value] = {
                **percentiles(times[name]),
                "cpu": {k: v for k, v in percentiles(cpu[name]).items() if k.startswith("p")},
                "by_kind_p95_ms": {k: percentiles(v)["p95_ms"] for k, v in sorted(by_kind[name].items())},
                "slowest_median_ms": medians[:6]}
    return figures


def time_cold(entry: Entry) -> dict:
    """Each query of the mix once per context with the decoded-postings cache emptied first.

    The timed mix repeats, so after the warm-up every word's postings are decoded and cached;
    this is what a word's first search since the process started costs (segment arrays and the
    searcher stay open, as they do in a running server).
    """
    from search.readers import POSTINGS

    figures = {}
    for context in CONTEXTS:
        times, cpu = [], []
        for query in MIX:
            POSTINGS.clear()
            start, cpu_start = time.perf_counter(), time.process_time()
            entry(context, query)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
        figures[context.value] = {**percentiles(times),
                                  "cpu": {k: v for k, v in percentiles(cpu).items() if k.startswith("p")}}
    return figures


def _label(query: Query) -> str:
    shown = query.text or "(no words)"
    return shown + "".join(f" [{k}={v}]" for k, v in sorted(query.filters.items()))


# ---- PostgreSQL ------------------------------------------------------------------------------


def postgres_available() -> str | None:
    """None when the PostgreSQL backend can be measured, else why not."""
    if find_spec("search.pg") is None:
        return "search.pg does not exist yet"
    if "search_backend" not in Settings.model_fields:
        return "settings have no search_backend yet"
    try:
        import psycopg

        psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not here"
        return f"no PostgreSQL on 127.0.0.1:5432 ({exc.__class__.__name__})"
    return None


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(sql)


def run_postgres(work: Path, n: int, seed: int, count: int) -> dict:
    from search.backends import backend_for

    name = f"chorus_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin(f'CREATE DATABASE "{name}"')
    services = None
    try:
        services = Services(load_settings(data_dir=work / "pg-data", database_url=POSTGRES_URL.format(name=name),
                                          search_backend="postgres"))
        summary, corpus_s = make_corpus(services, n, seed)
        backend = backend_for(services.settings)
        with services.session() as db:
            start = time.perf_counter()
            docs = backend.reindex(db)
            db.commit()
            seconds = time.perf_counter() - start
        entry = Entry(services, bench_principal(summary))
        figures = time_queries({"postgres": entry}, count)["postgres"]
        return {"corpus_seconds": round(corpus_s, 1), "entry": entry.name,
                "reindex": {"docs": docs, "seconds": round(seconds, 2), "docs_per_s": round(docs / seconds, 1)},
                **figures}
    except Exception as exc:  # noqa: BLE001 - a backend under construction must not sink the other figures
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        return {"failed": f"{exc.__class__.__name__}: {first}"}
    finally:
        if services is not None:
            services.close()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- the run ----------------------------------------------------------------------------------


def run(work: Path, n: int, seed: int, count: int) -> dict:
    """The corpus on SQLite: Whoosh through the project's path, and the FTS5 reference."""
    services = Services(load_settings(data_dir=work / "data"))
    try:
        summary, corpus_s = make_corpus(services, n, seed)
        print(f"Corpus: {n} artefacts ({summary.words:,} words; {summary.rows}) written in {corpus_s:.1f} s; "
              f"consent {summary.by_level}", flush=True)
        whoosh = whoosh_reindex(services)
        print(f"Whoosh reindex: {whoosh['docs']} documents in {whoosh['seconds']:.1f} s "
              f"({whoosh['docs_per_s']:.0f} docs/s), index {whoosh['index_bytes'] / 1e6:.1f} MB", flush=True)
        reference = fts5_build(services)
        print(f"FTS5 build: {reference['docs']} rows in {reference['seconds']:.1f} s "
              f"({reference['docs_per_s']:.0f} docs/s), about {reference['index_bytes'] / 1e6:.1f} MB", flush=True)
        principal = bench_principal(summary)
        entry = Entry(services, principal)
        if entry.note:
            print(f"Note: {entry.note}; timing search.query.search instead", flush=True)
        with services.engine.connect() as conn:
            def reference_search(context: Context, query: Query):
                return fts5.search(conn, principal, context, query.match, filters=query.filters, pagelen=PAGELEN)

            latency = time_queries({"whoosh": entry, "fts5": reference_search}, count)
            latency["whoosh"]["cold_postings"] = time_cold(entry)
        results = {"n": n, "seed": seed, "corpus": {"seconds": round(corpus_s, 1), "words": summary.words,
                                                    "rows": summary.rows, "by_level": summary.by_level},
                   "entry": entry.name, "whoosh": {"reindex": whoosh, **latency["whoosh"]},
                   "fts5": {"build": reference, **latency["fts5"]},
                   "database_bytes": _folder_bytes(work / "data") - whoosh["index_bytes"]}
    finally:
        services.close()
    return results


def _line(name: str, figures: dict, context: str) -> str:
    f = figures[context]
    return (f"  {name:9} {context:14} p50 {f['p50_ms']:7.1f} ms  p95 {f['p95_ms']:7.1f} ms  "
            f"p99 {f['p99_ms']:7.1f} ms  (CPU p50 {f['cpu']['p50_ms']:.1f}, p95 {f['cpu']['p95_ms']:.1f} ms; "
            f"first {figures['first_search_ms'][context]:.0f} ms; p95 by kind {f['by_kind_p95_ms']})")


def report(results: dict) -> dict:
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min) at the end: "
          "other work on the machine shows in these times")
    whoosh, reference = results["whoosh"], results["fts5"]
    reindex = whoosh["reindex"]
    # The target is for 100,000 items; a smaller run is scaled linearly to compare.
    projected = reindex["seconds"] * REINDEX_TARGET_N / max(1, results["n"])
    targets = {"reindex_under_5_min": projected < REINDEX_TARGET_S}
    print(f"Whoosh reindex (search.index.reindex): {reindex['docs']} documents, "
          f"{reindex['seconds']:.1f} s ({reindex['cpu_seconds']:.0f} CPU s), {reindex['docs_per_s']:.0f} docs/s, "
          f"{reindex['index_bytes'] / 1e6:.1f} MB on disk; target {REINDEX_TARGET_S:.0f} s for "
          f"{REINDEX_TARGET_N:,} items: {'met' if targets['reindex_under_5_min'] else 'MISSED'}"
          + ("" if results["n"] == REINDEX_TARGET_N else f" (projected {projected:.0f} s)"))
    print(f"Query latency over {len(MIX)} queries in the mix ({results['entry']} against FTS5), "
          "facets and highlights on:")
    backends = [("whoosh", whoosh), ("fts5", reference)]
    for context in (c.value for c in CONTEXTS):
        for name, figures in backends:
            print(_line(name, figures, context))
        ratio = whoosh[context]["p95_ms"] / max(reference[context]["p95_ms"], 0.001)
        targets[f"{context}_p95_under_50ms"] = whoosh[context]["p95_ms"] < P95_TARGET_MS
        targets[f"{context}_within_2x_fts5"] = ratio <= FTS5_RATIO_TARGET
        cpu_ratio = whoosh[context]["cpu"]["p95_ms"] / max(reference[context]["cpu"]["p95_ms"], 0.001)
        whoosh[context]["ratio_to_fts5_p95"] = round(ratio, 2)
        whoosh[context]["cpu_ratio_to_fts5_p95"] = round(cpu_ratio, 2)
        print(f"  {context}: Whoosh p95 {'under' if targets[f'{context}_p95_under_50ms'] else 'OVER'} "
              f"{P95_TARGET_MS:.0f} ms, {ratio:.2f}x FTS5 at p95 (target at most {FTS5_RATIO_TARGET:.0f}x: "
              f"{'met' if targets[f'{context}_within_2x_fts5'] else 'MISSED'}); {cpu_ratio:.2f}x in CPU time")
    for context, cold in whoosh["cold_postings"].items():
        print(f"  whoosh    {context:14} with no postings cached (each word's first search): p50 {cold['p50_ms']:.1f} ms, "
              f"p95 {cold['p95_ms']:.1f} ms, p99 {cold['p99_ms']:.1f} ms (CPU p95 {cold['cpu']['p95_ms']:.1f} ms)")
    for name, figures in backends:
        print(f"Slowest in the team context, {name} (median ms): "
              + "; ".join(f"{label} {ms:.0f}" for label, ms in figures["team"]["slowest_median_ms"]))
    return {**results, "targets": targets, "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in load]}


def report_postgres(postgres: dict, reference: dict) -> None:
    if "reindex" not in postgres:
        print(f"PostgreSQL backend: {postgres.get('skipped') or postgres.get('failed')}")
        return
    reindex = postgres["reindex"]
    print(f"PostgreSQL backend (search_backend=\"postgres\", {postgres['entry']}): reindex {reindex['docs']} "
          f"documents in {reindex['seconds']:.1f} s ({reindex['docs_per_s']:.0f} docs/s); load average "
          f"{os.getloadavg()[0]:.1f}")
    for context in (c.value for c in CONTEXTS):
        print(_line("postgres", postgres, context))
        postgres[context]["ratio_to_fts5_p95"] = round(
            postgres[context]["p95_ms"] / max(reference[context]["p95_ms"], 0.001), 2)
    print("Slowest in the team context, postgres (median ms): "
          + "; ".join(f"{label} {ms:.0f}" for label, ms in postgres["team"]["slowest_median_ms"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="artefacts in the corpus")
    parser.add_argument("--queries", type=int, default=96,
                        help="timed searches per backend and context (the mix, repeated)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the corpus folder and print where it is")
    args = parser.parse_args(argv)
    if args.n < 1 or args.queries < 1:
        parser.error("--n and --queries must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="chorus-bench-search-"))
    try:
        figures = report(run(work, args.n, args.seed, args.queries))
        why_not = "skipped (--skip-postgres)" if args.skip_postgres else postgres_available()
        figures["postgres"] = {"skipped": why_not} if why_not else run_postgres(work, args.n, args.seed, args.queries)
        report_postgres(figures["postgres"], figures["fts5"])
    finally:
        if args.keep:
            print(f"Corpus kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
