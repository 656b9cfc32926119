"""The `vnsearch` command: index articles, search them, show how they were read, serve the page.

It drives all three packages, so it lives here on the top floor, beside the
web app, and imports only downward.
"""

import argparse
import errno
import json
import re
import socket
import sys
import threading
from html import unescape
from pathlib import Path

from index.sources.articles import FieldMap, Problem, read
from index.store.directory import IndexUnavailable, default_index_dir, exists
from index.writer import estimate_total, index_articles
from webui.progress import Progress
from webui.serving import default_processes, serve_app

# The sample articles: seeds/ at the top of the repository (a checkout, an editable install), which a plain
# install puts inside this package (pyproject's package-dir).
SEEDS = next((folder for folder in (Path(__file__).resolve().parent / "seeds",
                                    Path(__file__).resolve().parent.parent / "seeds") if folder.is_dir()),
             Path(__file__).resolve().parent.parent / "seeds")


def _index_dir(args):
    return Path(args.index_dir) if args.index_dir else default_index_dir()


def _paths(args):
    return args.paths or [SEEDS]


def _fields(args):
    try:
        return FieldMap.parse(args.map)
    except ValueError as e:
        raise SystemExit(f"vnsearch: {e}") from None


def run_index(paths, index_dir, fields=None, rebuild=False, workers=None, lock_timeout=30.0, out=sys.stderr):
    """Index with a progress bar and an end summary; returns the Summary."""
    total = estimate_total(paths)
    progress = Progress("indexing", stream=out)
    summary = index_articles(paths, index_dir, fields=fields, rebuild=rebuild, workers=workers,
                             lock_timeout=lock_timeout, progress=progress, total=total,
                             report=lambda p: out.write(f"skipped {p}\n"),
                             note=lambda p: out.write(f"note: {p}\n"))
    progress.finish(total)
    out.write(f"{summary} -> {index_dir}\n")
    return summary


def cmd_index(args):
    try:
        summary = run_index(_paths(args), _index_dir(args), _fields(args), args.rebuild, args.workers,
                            args.lock_timeout)
    except IndexUnavailable as e:
        print(f"vnsearch index: {e}", file=sys.stderr)
        return 2
    return 1 if summary.skipped else 0


def _print_result(result, out):
    if result.notices:
        for notice in result.notices:
            print(f"({notice})", file=out)
    print(f"{result.total} kết quả ({result.took_ms:.0f} ms) cho: {result.query}", file=out)
    if result.reading and not result.exact:
        print(f"Kết quả cho: {result.reading} (tìm chính xác: --exact)", file=out)
    if result.suggestion:
        print(f"Có phải bạn muốn tìm: {result.suggestion}", file=out)
    for n, hit in enumerate(result.hits, 1 + (result.page - 1) * result.limit):
        day = hit.date[:10] if hit.date else "không rõ ngày"
        print(f"\n{n}. {hit.title}  [{hit.id}]", file=out)
        print(f"   {day}" + (f" · {hit.source}" if hit.source else "")
              + (f" · {hit.locality['province']}" if hit.locality else ""), file=out)
        text = unescape(re.sub(r"</?mark>", lambda m: "[" if m.group(0) == "<mark>" else "]", hit.snippet))
        print(f"   {text}", file=out)


def _request(args, q):
    from search.request import SearchRequest

    params = {"q": q, "exact": "1" if args.exact else "0", "region": args.region, "province": args.province, "district": args.district,
              "from": getattr(args, "from"), "to": args.to, "sort": args.sort,
              "page": str(args.page), "limit": str(args.limit)}
    return SearchRequest.from_params(params)


def cmd_search(args):
    from search.engine import Engine
    from search.request import BadParameter

    try:
        engine = Engine(_index_dir(args))
    except IndexUnavailable as e:
        print(f"vnsearch search: {e}", file=sys.stderr)
        return 2
    with engine:
        try:
            if args.batch:
                with open(args.batch, encoding="utf-8") as queries:
                    for line in queries:
                        if line.strip():
                            result = engine.search(_request(args, line.strip()))
                            print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
                return 0
            if args.csv:
                from webui.exports import csv_rows

                lines = csv_rows(engine, _request(args, " ".join(args.query)))
                for line in lines:
                    sys.stdout.buffer.write(line.encode("utf-8"))
                sys.stdout.flush()
                return 0
            result = engine.search(_request(args, " ".join(args.query)))
        except BadParameter as e:
            print(f"vnsearch search: --{e.name}: {e.message}", file=sys.stderr)
            return 2
        except IndexUnavailable as e:  # a damaged file found as it is read
            print(f"vnsearch search: {e}", file=sys.stderr)
            return 2
        except OSError as e:
            print(f"vnsearch search: {args.batch}: {e.strerror}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=None))
    else:
        _print_result(result, sys.stdout)
    return 0


def cmd_extract(args):
    """Print each article as it was read (JSON lines), so a user can see why it was filed so."""
    from index.writer import find_locality

    status = 0
    for item in read(args.paths, _fields(args)):
        if isinstance(item, Problem):
            print(f"skipped {item}", file=sys.stderr)
            status = 1
            continue
        record = item.as_record()
        locality = find_locality(item)
        record["locality"] = locality.as_dict() if locality and locality.province else None
        if locality is not None:
            record["locality_evidence"] = list(locality.evidence)
        print(json.dumps(record, ensure_ascii=False))
    return status


def _port_taken(host, port, error):
    reason = "is taken" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror or error})"
    print(f"vnsearch serve: port {port} on {host} {reason}: stop what listens there or choose another port "
          "with --port", file=sys.stderr)
    return 1


def cmd_serve(args):
    from webui.app import create_app

    index_dir = _index_dir(args)
    if not exists(index_dir):
        if args.index_dir:  # a folder named on purpose is never filled with the samples behind one's back
            print(f"vnsearch serve: no index in {index_dir}: make one with "
                  f"`vnsearch index PATH ... --index-dir {index_dir}`", file=sys.stderr)
            return 2
        print(f"no index in {index_dir}: indexing the sample articles first", file=sys.stderr)
        try:
            run_index([SEEDS], index_dir)
        except IndexUnavailable as e:
            print(f"vnsearch serve: {e}", file=sys.stderr)
            return 2
    try:
        socket.create_server((args.host, args.port)).close()  # taken: say so before loading anything
    except OSError as e:
        return _port_taken(args.host, args.port, e)
    app = create_app({"INDEX_DIR": str(index_dir), "BASE_URL": args.base_url, "CACHE_MB": args.cache_mb})
    processes = args.processes or default_processes()
    print(f"serving {index_dir} on http://{args.host}:{args.port}/ ({processes} processes x {args.threads} threads)",
          file=sys.stderr)
    try:
        serve_app(app, args.host, args.port, args.threads, processes)
    except OSError as e:  # taken in the meantime
        if e.errno != errno.EADDRINUSE:
            raise
        return _port_taken(args.host, args.port, e)
    return 0


def _megabytes(text):
    """A --cache-mb value: a number of megabytes, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of megabytes (0 or more)")
    return value


def _add_search_options(p):
    p.add_argument("--exact", action="store_true",
                   help="match every reading of words typed without marks, not the likeliest (dang vien: đang viện too)")
    p.add_argument("--region", help="only articles from this region")
    p.add_argument("--province", help="only this province (a 2025 province includes the old ones merged into it)")
    p.add_argument("--district", help="only this district")
    p.add_argument("--from", dest="from", metavar="DATE", help="published on or after DATE (YYYY-MM-DD)")
    p.add_argument("--to", metavar="DATE", help="published on or before DATE (YYYY-MM-DD)")
    p.add_argument("--sort", default="relevance", help="relevance (default), newest or oldest")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--limit", type=int, default=10, help="hits per page (at most 100)")


def parser():
    p = argparse.ArgumentParser(prog="vnsearch", description="Search engine for Vietnamese news.")
    index_dir_help = f"index directory (default: $VNSEARCH_INDEX, else {default_index_dir()})"
    p.add_argument("--index-dir", help=index_dir_help)
    sub = p.add_subparsers(dest="command", required=True)

    i = sub.add_parser("index", help="index articles (.txt pages, folders, .jsonl/.jsonl.gz records)")
    i.add_argument("paths", nargs="*", help="files or folders (default: the sample articles in seeds/)")
    i.add_argument("--map", action="append", metavar="NAME=FIELD", help="read article field NAME from record FIELD")
    i.add_argument("--rebuild", action="store_true", help="start the index afresh")
    i.add_argument("--workers", type=int, help="processes for word segmentation (default: one per core)")
    i.add_argument("--lock-timeout", type=float, default=30.0, help="seconds to wait for another indexer")
    i.set_defaults(run=cmd_index)

    s = sub.add_parser("search", help="search the index")
    s.add_argument("query", nargs="*")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--batch", metavar="FILE", help="one query per line; prints JSON lines")
    s.add_argument("--csv", action="store_true",
                   help="print every matching article (at most 10,000) as CSV, UTF-8 with a byte-order mark")
    _add_search_options(s)
    s.set_defaults(run=cmd_search)

    e = sub.add_parser("extract", help="show how articles are read (JSON lines)")
    e.add_argument("paths", nargs="+")
    e.add_argument("--map", action="append", metavar="NAME=FIELD")
    e.set_defaults(run=cmd_extract)

    v = sub.add_parser("serve", help="serve the search page")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--threads", type=int, default=8, help="threads per process (default 8)")
    v.add_argument("--processes", type=int, help="processes sharing the port (default: one per core)")
    v.add_argument("--cache-mb", type=_megabytes, metavar="MB",
                   help="posting lists each process keeps decoded, in MB (default: 1,500 bytes an article, at least 32)")
    v.add_argument("--base-url", help="the site's public address (https://...), for browsers' search boxes "
                                      "(/opensearch.xml); default: addresses relative to the site")
    v.set_defaults(run=cmd_serve)

    for command in (i, s, e, v):  # --index-dir is accepted after the command too
        command.add_argument("--index-dir", default=argparse.SUPPRESS, help=index_dir_help + (
            "; a folder named here must hold an index (only the default one is filled with the sample articles)"
            if command is v else ""))
    return p


def _thread_failed(info):
    """A damaged index file found by a thread reading ahead is said in one line, not a traceback:
    the search that needs the file says it again."""
    if isinstance(info.exc_value, IndexUnavailable):
        print(f"vnsearch: {info.exc_value}", file=sys.stderr)
    else:
        threading.__excepthook__(info)


def main(argv=None):
    threading.excepthook = _thread_failed
    args = parser().parse_args(argv)
    if not hasattr(args, "index_dir"):
        args.index_dir = None
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted; the index keeps its last commit", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
