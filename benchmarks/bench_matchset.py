"""What a keyword query matches, against a reference computed from the raw text (issue 16's "Must show").

The first N baomoi articles (default 8,000) are indexed into --index-dir and
kept there: a rerun re-indexes nothing (each article's content hash is known).
Queries are compounds of their titles as pyvi segments them (two or three
syllables it joins with `_`; none holding a digit or punctuation), lower-cased
as readers type, drawn with a fixed seed evenly over bands of how many articles
hold them (1-2, 3-9, 10-29, 30-99, 100-299, 300 and more), in five forms:

  with marks            đại đồng           the compound
  without marks         dai dong           every syllable folded (compounds with a mark)
  one syllable bare     dai đồng           one marked syllable folded (compounds with two marked syllables)
  two compounds         lên ngôi đại gia   two compounds of one title, in its order
  excluding a compound  đại lễ -thừa nhận  the second from the title of another article holding the first
                                           (so the exclusion removes something), else of any other title

The reference comes from the raw text, never from the engine: an article holds
a compound where its syllables stand side by side, separated by whitespace only,
within its title, sapo or body, compared as lower-cased `canonical` forms (case
and tone placement aside), whole syllables only. The unmarked and partly marked
forms have the reference of the marked compound they came from (the reader meant
it); two compounds: the articles holding both; an exclusion: those holding the
first and not the second.

Per form: first-10 precision (share of the first ten hits in the reference,
averaged over the queries with a hit), the share of queries whose total is
within 0.8-1.25x of the reference, the median total / reference. Baseline in
the same run (no anchor reads compounds and marks this way: Elasticsearch's and
Meilisearch's folding match every reading): "every syllable anywhere", a
syllable-AND counted on the same raw text, a syllable typed without marks
matching every syllable that folds to it, an excluded compound excluding the
articles holding all its syllables.

    python -m benchmarks.bench_matchset [--data DIR] [--articles N] [--index-dir DIR] [--per-form N]
                                        [--seed N] [--worst N] [--json FILE] [--results LABEL]

Goals (issue 16): first-10 precision >= 0.97 (>= 0.90 without marks) and the
total within 0.8-1.25x of the reference for >= 90 % of queries (>= 80 % without
marks), for each form. `--results before` (or `after`) writes the figures into
their own subsection of RESULTS.md's "Match set (issue 16)", keeping the other.
"""

import argparse
import json
import math
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from benchmarks.bench_index import RESULTS, commit, machine, stamp, table, update_results, verdict  # noqa: E402
from benchmarks.common import OUT, ROOT, Stopwatch, data_dir  # noqa: E402
from index.analysis import segmenter  # noqa: E402
from index.sources.articles import Article, read_records  # noqa: E402
from index.analysis.normalize import canonical, fold, has_diacritics  # noqa: E402
from index.store.errors import RebuildNeeded  # noqa: E402
from index.writer import index_articles  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.request import SearchRequest  # noqa: E402

ARTICLES = 8000
PER_FORM = 150
SEED = 16
K = 10
MAX_SYLLABLES = 3  # pyvi's longer "words" in titles are mostly a compound glued to a neighbour ("hà nội công bố")
BANDS = (1, 3, 10, 30, 100, 300)  # lower bounds of the reference sizes queries are drawn evenly over
LOW, HIGH = 0.8, 1.25  # a total within this many times the reference is "in range"
SECTION = "Match set (issue 16)"

MARKED, UNMARKED, BARE, TWO, EXCLUDING = "with marks", "without marks", "one syllable bare", "two compounds", \
    "excluding a compound"
FORMS = (MARKED, UNMARKED, BARE, TWO, EXCLUDING)
EXAMPLES = {MARKED: "đại đồng", UNMARKED: "dai dong", BARE: "dai đồng", TWO: "lên ngôi đại gia",
            EXCLUDING: "đại lễ -thừa nhận"}
# (first-10 precision, share of totals in range) each form must reach; the issue relaxes both without marks
GOALS = {form: (0.90, 0.80) if form == UNMARKED else (0.97, 0.90) for form in FORMS}

_NOT_WORD = re.compile(r"[^\w\s]+")  # what parts runs of side-by-side syllables


# ---- the articles and their index --------------------------------------------------------------------

def sample_file(docs, n, out):
    """The first `n` records of `docs` as a file of their own (rewritten only when they differ)."""
    lines = []
    with open(docs, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                lines.append(line if line.endswith("\n") else line + "\n")
                if len(lines) >= n:
                    break
    path = out / f"baomoi_first_{n}.jsonl"
    text = "".join(lines)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def read_articles(path):
    """The articles of `path` as the index reads them (NFC, stripped; a later copy of an id replaces it)."""
    by_id = {}
    for item in read_records(path):
        if isinstance(item, Article):
            by_id.pop(item.id, None)
            by_id[item.id] = item
    return list(by_id.values())


def runs(article):
    """The article's runs of syllables standing side by side (whitespace between them only), per field,
    as lower-cased canonical syllables."""
    for text in (article.title, article.lead, article.body):
        for part in _NOT_WORD.split(canonical(text)):
            syllables = part.split()
            if syllables:
                yield syllables


# ---- the reference: what the raw text holds ----------------------------------------------------------

class Reference:
    """Which articles hold each title compound (syllables side by side), each other reading of it (syllables
    that fold alike, side by side) and each syllable (anywhere)."""

    def __init__(self, articles, compounds):
        folded = {}  # syllable -> its folded form, folded once
        wanted = {tuple(fold(s) for s in c) for c in compounds}
        lengths = sorted({len(c) for c in wanted})
        holding = defaultdict(set)  # reading -> articles
        syllables = defaultdict(list)
        for number, article in enumerate(articles):
            seen = set()
            for run in runs(article):
                seen.update(run)
                bare = [folded[s] if s in folded else folded.setdefault(s, fold(s)) for s in run]
                for k in lengths:
                    for i, key in enumerate(zip(*(bare[j:] for j in range(k)))):
                        if key in wanted:
                            holding[tuple(run[i:i + k])].add(number)
            for syllable in seen:
                syllables[syllable].append(number)
        self._holding = {reading: frozenset(numbers) for reading, numbers in holding.items()}
        self._readings = defaultdict(list)  # folded compound -> its readings in the text
        for reading in self._holding:
            self._readings[tuple(folded[s] for s in reading)].append(reading)
        self._syllables = syllables
        self._by_fold = defaultdict(list)
        for syllable in syllables:
            self._by_fold[folded.get(syllable) or fold(syllable)].append(syllable)
        self._cache = {}

    def compound(self, compound):
        return self._holding.get(compound, frozenset())

    def commonest(self, typed):
        """The reading of `typed` (a compound's syllables, some maybe without marks) that the most articles hold
        (a syllable typed with marks must stand as typed), and how many hold it."""
        key = tuple(fold(s) for s in typed)
        fits = [r for r in self._readings.get(key, ())
                if all(t == s or not has_diacritics(t) for t, s in zip(typed, r))]
        best = max(fits, key=lambda r: (len(self._holding[r]), r), default=None)
        return best, len(self._holding[best]) if best else 0

    def syllable(self, syllable):
        """The articles holding `syllable` anywhere; typed without marks, any syllable folding to it."""
        if syllable not in self._cache:
            forms = [syllable] if has_diacritics(syllable) else self._by_fold.get(syllable, ())
            self._cache[syllable] = frozenset(n for form in forms for n in self._syllables.get(form, ()))
        return self._cache[syllable]

    def every_syllable(self, syllables):
        """The baseline's match: articles holding every syllable, anywhere."""
        found = None
        for syllable in syllables:
            found = self.syllable(syllable) if found is None else found & self.syllable(syllable)
        return found or frozenset()


# ---- the queries -------------------------------------------------------------------------------------

def title_compounds(articles):
    """For each article, the compounds of its title (tuples of canonical syllables), in order, once each."""
    segmenter.load()
    out = []
    for article in articles:
        title = article.title
        compounds = []
        for word in segmenter.words(title):
            written = [title[s:e] for s, e in word]
            compound = tuple(canonical(s) for s in written)
            if 2 <= len(word) <= MAX_SYLLABLES and all(s.isalpha() for s in written) and compound not in compounds:
                compounds.append(compound)
        out.append(compounds)
    return out


def band(size):
    return max(i for i, low in enumerate(BANDS) if size >= low) if size >= BANDS[0] else -1


def draw(candidates, size, count):
    """`count` of `candidates` (in their given, shuffled order), taken in turn from each band of reference size,
    so rare and common ones are alike represented; a band short of candidates leaves its turns to the others."""
    bands = defaultdict(list)
    for candidate in candidates:
        bands[band(size(candidate))].append(candidate)
    queues = [bands[b][::-1] for b in sorted(bands) if b >= 0]
    chosen = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop())
    return chosen


@dataclass
class Query:
    form: str
    q: str
    compounds: list  # the compounds it came from (the excluded one last)
    reference: frozenset  # article numbers
    baseline: int  # the "every syllable anywhere" count
    total: int = 0
    hits: list = field(default_factory=list)  # article numbers of the first ten
    fallback: bool = False
    ms: float = 0.0
    commoner: tuple = None  # (reading, articles) when what was typed has a commoner reading than the compound

    @property
    def in_reference(self):
        return sum(1 for n in self.hits if n in self.reference)

    @property
    def precision(self):
        return self.in_reference / len(self.hits) if self.hits else None

    @property
    def ratio(self):
        return self.total / len(self.reference)

    @property
    def baseline_ratio(self):
        return self.baseline / len(self.reference)


def spaced(compound):
    return " ".join(compound)


def make_queries(reference, compounds_of, per_form, seed):
    """The five forms' queries ({form: [Query]}), deterministic for a seed and the articles."""
    rng = random.Random(seed)
    pool = sorted({c for compounds in compounds_of for c in compounds})
    rng.shuffle(pool)
    size = lambda c: len(reference.compound(c))  # noqa: E731
    marked = lambda c: [i for i, s in enumerate(c) if has_diacritics(s)]  # noqa: E731
    queries = {form: [] for form in FORMS}

    for c in draw(pool, size, per_form):
        queries[MARKED].append(typed_as(MARKED, c, list(c), reference))
    for c in draw([c for c in pool if marked(c)], size, per_form):
        queries[UNMARKED].append(typed_as(UNMARKED, c, [fold(s) for s in c], reference))
    for c in draw([c for c in pool if len(marked(c)) >= 2], size, per_form):
        bare = rng.choice(marked(c))
        queries[BARE].append(typed_as(BARE, c, [fold(s) if i == bare else s for i, s in enumerate(c)], reference))

    pairs = []
    for n, compounds in enumerate(compounds_of):
        if len(compounds) >= 2:
            i, j = sorted(rng.sample(range(len(compounds)), 2))
            pairs.append((compounds[i], compounds[j]))
    pairs = sorted(set(pairs))
    rng.shuffle(pairs)
    both = lambda p: reference.compound(p[0]) & reference.compound(p[1])  # noqa: E731
    for first, second in draw(pairs, lambda p: len(both(p)), per_form):
        q = f"{spaced(first)} {spaced(second)}"
        queries[TWO].append(Query(TWO, q, [first, second], both((first, second)),
                                  len(reference.every_syllable(q.split()))))

    exclusions = []
    titled = [n for n, compounds in enumerate(compounds_of) if compounds]
    for c in pool:
        other = excluded_for(c, reference, compounds_of, titled, rng)
        if other and reference.compound(c) - reference.compound(other):
            exclusions.append((c, other))
    without = lambda p: reference.compound(p[0]) - reference.compound(p[1])  # noqa: E731
    for first, second in draw(exclusions, lambda p: len(without(p)), per_form):
        count = len(reference.every_syllable(first) - reference.every_syllable(second))
        queries[EXCLUDING].append(Query(EXCLUDING, f"{spaced(first)} -{spaced(second)}", [first, second],
                                        without((first, second)), count))
    return queries


def typed_as(form, compound, typed, reference):
    """The query of `compound` typed as `typed` (its syllables, some maybe without marks); its reference is the
    compound's, whatever else the typed form may be read as."""
    best, count = reference.commonest(typed)
    commoner = (spaced(best), count) if best != compound and count > len(reference.compound(compound)) else None
    return Query(form, " ".join(typed), [compound], reference.compound(compound),
                 len(reference.every_syllable(typed)), commoner=commoner)


def excluded_for(compound, reference, compounds_of, titled, rng):
    """A compound to exclude beside `compound`: of the title of another article holding it (so the exclusion
    removes something), else of any other title (`titled`: the articles whose title has a compound)."""
    holding = sorted(n for n in reference.compound(compound) if compounds_of[n] and compound not in compounds_of[n])
    for n in [rng.choice(holding)] if holding else (rng.choice(titled) for _ in range(20)):
        others = [c for c in compounds_of[n] if c != compound]
        if others:
            return rng.choice(others)
    return None


# ---- through the engine ------------------------------------------------------------------------------

def search_all(engine, queries, numbers, progress_every=100):
    """Each query's total and first ten hits (article numbers), as `Engine.search` answers it."""
    every = [q for form in FORMS for q in queries[form]]
    started = time.perf_counter()
    for done, query in enumerate(every, 1):
        t = time.perf_counter()
        result = engine.search(SearchRequest(q=query.q, limit=K), with_facets=False)
        query.ms = (time.perf_counter() - t) * 1000
        query.total = result.total
        query.hits = [numbers[h.id] for h in result.hits]
        query.fallback = result.fallback
        if done % progress_every == 0:
            print(f"  {done}/{len(every)} queries searched in {time.perf_counter() - started:.0f} s", flush=True)


# ---- figures -----------------------------------------------------------------------------------------

def in_range(ratio):
    return LOW <= ratio <= HIGH


def figures(queries):
    """{form: dict of the figures} for the queries of each form."""
    out = {}
    for form in FORMS:
        qs = queries[form]
        if not qs:
            continue
        precisions = [q.precision for q in qs if q.hits]
        precision = sum(precisions) / len(precisions) if precisions else math.nan
        share = sum(in_range(q.ratio) for q in qs) / len(qs)
        goal_precision, goal_share = GOALS[form]
        out[form] = {
            "queries": len(qs), "with_hits": len(precisions), "precision": precision, "in_range": share,
            "median_ratio": statistics.median(q.ratio for q in qs),
            "baseline_in_range": sum(in_range(q.baseline_ratio) for q in qs) / len(qs),
            "baseline_median_ratio": statistics.median(q.baseline_ratio for q in qs),
            "median_reference": statistics.median(len(q.reference) for q in qs),
            "fallback": sum(q.fallback for q in qs),
            "goal_precision": goal_precision, "goal_in_range": goal_share,
            "pass": precision >= goal_precision and share >= goal_share,
        }
    return out


def rows(stats):
    """The table's rows: per form, ours, the goal and the verdict, and the baseline beside."""
    out = []
    for form, s in stats.items():
        goal_precision, goal_share = GOALS[form]
        out.append((form, f"`{EXAMPLES[form]}`", s["queries"], f"{s['precision']:.3f}", f"{s['in_range']:.0%}",
                    f"{s['median_ratio']:.2f}x", f">= {goal_precision:.2f}, >= {goal_share:.0%}",
                    verdict(s["pass"]), f"{s['baseline_in_range']:.0%}", f"{s['baseline_median_ratio']:.2f}x"))
    return out


HEADER = ("query form", "example", "queries", "first-10 precision", "totals within 0.8-1.25x",
          "median total / reference", "goal", "result", "baseline: within 0.8-1.25x", "baseline: median / reference")


def print_table(stats):
    widths = (21, 19, 7, 9, 8, 9, 15, 8, 9, 9)
    head = ("form", "example", "queries", "prec@10", "in range", "median x", "goal", "result", "base in", "base x")
    print("  ".join(f"{h:<{w}}" for h, w in zip(head, widths)))
    for row in rows(stats):
        row = [str(c).strip("`").replace("**", "") for c in row]
        print("  ".join(f"{c:<{w}}" for c, w in zip(row, widths)))


def band_rows(queries):
    """Per form, "first-10 precision / share of totals in range (queries)" in each band of reference size."""
    out = []
    for form in FORMS:
        cells = []
        for b in range(len(BANDS)):
            qs = [q for q in queries[form] if band(len(q.reference)) == b]
            precisions = [q.precision for q in qs if q.hits]
            precision = f"{sum(precisions) / len(precisions):.2f}" if precisions else "-"
            share = f"{sum(in_range(q.ratio) for q in qs) / len(qs):.0%}" if qs else "-"
            cells.append(f"{precision} / {share} ({len(qs)})")
        out.append((form, *cells))
    return out


BANDS_NOTE = ("By band of reference size: first-10 precision / share of totals in range (queries). A compound one "
              "article holds scores 0.1 when ten hits are shown, however well they are ranked")


def band_labels():
    bounds = list(BANDS) + [None]
    return [f"{low}-{high - 1}" if high else f"{low}+" for low, high in zip(bounds, bounds[1:])]


def badness(query):
    """How far a query's total is from its reference (a factor, either way), then how poor its first ten are."""
    ratio = query.ratio
    far = math.inf if ratio == 0 else abs(math.log(ratio))
    return far, 1 - (query.precision if query.precision is not None else 0)


def print_worst(queries, articles, count):
    print(f"\nworst {count} per form (total far from the reference, then poor first ten): "
          f"total / reference (baseline), precision, query; the first hit not in the reference")
    for form in FORMS:
        print(f"  {form}:")
        for q in sorted(queries[form], key=badness, reverse=True)[:count]:
            precision = f"{q.precision:.1f}" if q.precision is not None else "-"
            print(f"    {q.total:>6,} / {len(q.reference):<5,} ({q.baseline:,})  p {precision}  {q.q!r}"
                  f"{'  [fallback]' if q.fallback else ''}")
            wrong = next((n for n in q.hits if n not in q.reference), None)
            if wrong is not None:
                print(f"        not in the reference: {articles[wrong].id} {articles[wrong].title[:90]!r}")


def per_query(queries, articles):
    return [{"form": q.form, "q": q.q, "compounds": [spaced(c) for c in q.compounds],
             "reference": len(q.reference), "total": q.total, "ratio": round(q.ratio, 4),
             "baseline": q.baseline, "precision": q.precision, "hits": [articles[n].id for n in q.hits],
             "not_in_reference": [articles[n].id for n in q.hits if n not in q.reference],
             "fallback": q.fallback, "ms": round(q.ms, 1), "commoner_reading": q.commoner}
            for form in FORMS for q in queries[form]]


def write_results(label, stats, queries, args, count, seconds):
    """The subsection `### label` of RESULTS.md's "Match set (issue 16)", the section's other subsections kept."""
    body = ("Command: `python -m benchmarks.bench_matchset --results LABEL` (each label its own subsection). "
            "What a keyword query matches, against a reference computed from the raw text (syllables side by "
            "side, case and tone placement aside); queries are compounds of the titles as pyvi segments them, "
            "drawn evenly over bands of reference size. Baseline: every syllable anywhere, a syllable-AND on the "
            "same text (unmarked syllables folded), counted in the same run.\n")
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    found = re.search(rf"^## {re.escape(SECTION)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    kept = re.findall(r"^### .*?(?=^### |\Z)", found.group(1), re.S | re.M) if found else []
    kept = [s.strip() + "\n" for s in kept if not s.startswith(f"### {label}\n")]
    mine = (f"### {label}\n\n" + stamp()
            + f"- articles: the first {count:,} of baomoi2017 (`{shown(args.index_dir)}`); {args.per_form} queries "
              f"per form (seed {args.seed}); {seconds:.0f} s in all\n\n"
            + table(rows(stats), header=HEADER)
            + f"\n{BANDS_NOTE}:\n\n"
            + table(band_rows(queries), header=("query form", *band_labels())))
    update_results(SECTION, body + "\n" + "\n".join(kept + [mine]))
    print(f"updated {RESULTS} ({SECTION}: {label})")


def shown(path):
    """A path as the project's root sees it, when it is inside it."""
    path = Path(path).resolve()
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


# ---- main --------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="the shared data folder (default ../shared/data)")
    p.add_argument("--articles", type=int, default=ARTICLES, help=f"index the first N articles (default {ARTICLES})")
    p.add_argument("--index-dir", type=Path, help="where the index is kept and reused "
                                                  "(default benchmarks/out/matchset_N)")
    p.add_argument("--workers", type=int, help="indexing processes (default: all cores)")
    p.add_argument("--per-form", type=int, default=PER_FORM, help=f"queries per form (default {PER_FORM})")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--worst", type=int, default=4, help="worst examples printed per form (default 4)")
    p.add_argument("--json", type=Path, help="write every query's row (and the figures) to this file")
    p.add_argument("--results", metavar="LABEL", help="write the figures into benchmarks/RESULTS.md under LABEL "
                                                      "(e.g. before, after)")
    args = p.parse_args(argv)
    if args.articles < 1 or args.per_form < 1:
        p.error("--articles and --per-form must be at least 1")
    args.index_dir = args.index_dir or OUT / f"matchset_{args.articles}"

    started = time.perf_counter()
    watch = Stopwatch()
    print(f"machine: {machine()}\ncommit: {commit()}", flush=True)
    docs = data_dir(args.data, "baomoi2017") / "docs.jsonl"
    with watch("index"):
        sample = sample_file(docs, args.articles, OUT)
        try:
            summary = index_articles([sample], args.index_dir, workers=args.workers)
        except RebuildNeeded:  # kept from a run of another version: made anew
            summary = index_articles([sample], args.index_dir, workers=args.workers, rebuild=True)
    print(f"index {shown(args.index_dir)}: {summary}", flush=True)
    with watch("read"):
        articles = read_articles(sample)
    with Engine(str(args.index_dir), recent_results=0) as engine:
        indexed = engine.searcher().doc_count()
        if indexed != len(articles):
            sys.exit(f"{shown(args.index_dir)} holds {indexed:,} articles, the sample {len(articles):,}: "
                     f"pass an --index-dir of its own")
        with watch("titles (pyvi)"):
            compounds_of = title_compounds(articles)
        with watch("reference"):
            reference = Reference(articles, [c for compounds in compounds_of for c in compounds])
            queries = make_queries(reference, compounds_of, args.per_form, args.seed)
        missing = sum(1 for n, cs in enumerate(compounds_of) for c in cs if n not in reference.compound(c))
        if missing:
            print(f"warning: {missing} title compounds not found in their own article's text", file=sys.stderr)
        print(f"{len(articles):,} articles, {len({c for cs in compounds_of for c in cs}):,} title compounds; "
              f"queries: " + ", ".join(f"{len(queries[f])} {f}" for f in FORMS) + f" ({watch.report()})", flush=True)
        with watch("search"):
            search_all(engine, queries, {a.id: n for n, a in enumerate(articles)})
    stats = figures(queries)
    seconds = time.perf_counter() - started
    searched = [q.ms for form in FORMS for q in queries[form]]

    print()
    print_table(stats)
    print("\n(baseline: every syllable anywhere, a syllable-AND on the raw text; median reference size per form: "
          + ", ".join(f"{f} {s['median_reference']:g}" for f, s in stats.items()) + ")")
    for form, s in stats.items():
        if s["with_hits"] < s["queries"] or s["fallback"]:
            print(f"{form}: {s['queries'] - s['with_hits']} queries without a hit, {s['fallback']} answered by "
                  f"the fallback")
    for form in (UNMARKED, BARE):
        commoner = [q for q in queries[form] if q.commoner]
        if commoner:
            print(f"{form}: {len(commoner)} of {len(queries[form])} typed as they are have a commoner reading in the "
                  f"text than the compound they came from (its reference is kept: the reader meant it), e.g. "
                  + ", ".join(f"{q.q!r} -> {q.commoner[0]!r} {q.commoner[1]} vs {len(q.reference)}"
                              for q in commoner[:3]))
    print(f"\n{BANDS_NOTE}")
    for row in [("form", *band_labels())] + band_rows(queries):
        print(f"  {row[0]:<21}" + "".join(f"{c:>17}" for c in row[1:]))
    print_worst(queries, articles, args.worst)
    print(f"\ntime: {watch.report()}; {seconds:.0f} s in all; search median "
          f"{statistics.median(searched):.0f} ms per query (a shared machine)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"figures": stats, "queries": per_query(queries, articles)},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"per-query rows written to {args.json}")
    if args.results:
        write_results(args.results, stats, queries, args, len(articles), seconds)
    return 0 if all(s["pass"] for s in stats.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
