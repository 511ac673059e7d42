"""Reading order for one PDF page: glyph runs → line fragments → recursive XY-cut → text.

Runs sharing a baseline are merged into fragments whatever order the content stream drew them in (text added
later by a PDF editor lands where it is shown). The XY-cut then splits the page at whitespace: at column
gutters first, so two-column and sidebar layouts read column by column, otherwise at the widest horizontal
gaps. Two refinements keep CV structure together where a plain XY-cut would tear it apart:

* rows: a table (every line beside a gutter has a partner on the same baseline across it), or one column of
  text beside single lines ("Class Teacher ⇥ 2019 – Present" above its duties), is read row by row,
  fragments of a row joined by a tab;
* labels: a sparse column of short blocks (dates) whose blocks each start beside a new entry of the other
  column is cut into one segment per entry, so each date is read just before the entry it labels.

Horizontal bands that share a column gutter are merged back before recursing, so aligned paragraph gaps in two
columns do not interleave them.
"""

from bisect import bisect_right
from dataclasses import dataclass
from statistics import median

from core.extraction.pdf_content import FRAGMENT_GAP, WORD_GAP, Run

ASCENT, DESCENT = 0.75, 0.2  # glyph box above/below the baseline, in font sizes
SAME_LINE = 0.4  # baselines closer than this many font sizes are one line (superscripts included)
NEW_BLOCK = 1.6  # a baseline step larger than this many font sizes starts a new block
LABEL_BLOCK_LINES = 3  # a label (a date range) wraps to at most this many lines
MAX_DEPTH = 40
MAX_FRAGMENTS = 20_000  # beyond this a page is read line by line without the XY-cut (hostile input)


@dataclass(slots=True)
class Fragment:
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    line: int  # index of the baseline cluster on the page, top to bottom
    text: str


def page_text(runs: list[Run]) -> str:
    """The text of one page in reading order, lines separated by newlines and paragraphs by a blank line."""
    fragments = merge_runs(runs)
    if not fragments:
        return ""
    leaves = [fragments] if len(fragments) > MAX_FRAGMENTS else _cut(fragments, 0)
    return _render(leaves)


def merge_runs(runs: list[Run]) -> list[Fragment]:
    """Fragments: runs on one baseline joined left to right unless a large gap separates them."""
    runs = sorted((r for r in runs if r.text.strip()), key=lambda r: (-r.baseline, r.x0))
    fragments: list[Fragment] = []
    line, start = -1, 0
    while start < len(runs):
        head = runs[start]
        end = start + 1
        while end < len(runs) and head.baseline - runs[end].baseline <= SAME_LINE * max(
            head.size, runs[end].size
        ):
            end += 1
        line += 1
        fragments.extend(_line_fragments(sorted(runs[start:end], key=lambda r: r.x0), line))
        start = end
    return fragments


def _line_fragments(runs: list[Run], line: int) -> list[Fragment]:
    out: list[Fragment] = []
    current: Fragment | None = None
    parts: list[str] = []
    previous: Run | None = None
    for run in runs:
        size = max(run.size, previous.size) if previous else run.size
        if previous and run.text == previous.text and abs(run.x0 - previous.x0) < 0.3 * size:
            continue  # the same text drawn twice with a small offset ("fake bold", shadows)
        gap = run.x0 - current.x1 if current else 0.0
        if current is None or gap > FRAGMENT_GAP * size:
            if current:
                current.text = "".join(parts)
                out.append(current)
            current = Fragment(run.x0, run.x1, 0.0, 0.0, run.size, line, "")
            current.top, current.bottom = run.baseline + ASCENT * run.size, run.baseline - DESCENT * run.size
            parts = [run.text]
        else:
            if gap > WORD_GAP * size and not parts[-1].endswith(" ") and not run.text.startswith(" "):
                parts.append(" ")
            parts.append(run.text)
            current.x1 = max(current.x1, run.x1)
            current.top = max(current.top, run.baseline + ASCENT * run.size)
            current.bottom = min(current.bottom, run.baseline - DESCENT * run.size)
            current.size = max(current.size, run.size)
        previous = run
    if current:
        current.text = "".join(parts)
        out.append(current)
    return out


# --- XY-cut --------------------------------------------------------------------------------------------------


def _cut(fragments: list[Fragment], depth: int) -> list[list[Fragment]]:
    """Leaves (lists of fragments without internal whitespace cuts) in reading order."""
    if len(fragments) <= 1 or depth > MAX_DEPTH:
        return [fragments]
    min_gap = FRAGMENT_GAP * median(f.size for f in fragments)  # the narrowest gutter
    columns = _columns(fragments, min_gap)
    if columns:
        if _reads_as_rows(columns):
            return _rows(fragments)
        segments = _label_segments(columns) if len(columns) == 2 else None
        parts = segments or columns
        return [leaf for part in parts for leaf in _cut(part, depth + 1)]
    bands = _merge_column_bands(_bands(fragments), min_gap)
    if len(bands) <= 1:
        return [fragments]
    return [leaf for band in bands for leaf in _cut(band, depth + 1)]


def _columns(fragments: list[Fragment], min_gap: float) -> list[list[Fragment]] | None:
    """Fragments split at every vertical gutter at least ``min_gap`` wide, left to right, or None."""
    spans = _spans(fragments, min_gap)
    if len(spans) < 2:
        return None
    starts = [x0 for x0, _ in spans]
    columns: list[list[Fragment]] = [[] for _ in spans]
    for fragment in fragments:
        columns[bisect_right(starts, fragment.x0) - 1].append(fragment)
    return columns


def _spans(fragments: list[Fragment], min_gap: float) -> list[tuple[float, float]]:
    """The x-ranges the fragments cover, ranges closer than ``min_gap`` joined: one span per column."""
    return _join_spans(sorted((f.x0, f.x1) for f in fragments), min_gap)


def _join_spans(spans: list[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    """Sorted ranges with overlapping or nearly touching ones joined."""
    out: list[tuple[float, float]] = []
    for x0, x1 in spans:
        if out and x0 - out[-1][1] < min_gap:
            out[-1] = (out[-1][0], max(out[-1][1], x1))
        else:
            out.append((x0, x1))
    return out


def _reads_as_rows(columns: list[list[Fragment]]) -> bool:
    """Whether the gutters split rows rather than columns of text.

    True for a table (every line of every column has a partner on the same baseline across the gutter) and
    for one column of text beside single lines on its own baselines (a job title with its dates tabbed to the
    right, a wrapped contact line): reading those column by column would separate what belongs together.
    """
    lines = [{f.line for f in column} for column in columns]
    unpaired = [column - set().union(*(other for other in lines if other is not column)) for column in lines]
    owners = [index for index, extra in enumerate(unpaired) if extra]
    if not owners:
        return True
    return len(owners) == 1 and all(
        len(column) == 1 for index, column in enumerate(lines) if index != owners[0]
    )


def _rows(fragments: list[Fragment]) -> list[list[Fragment]]:
    by_line: dict[int, list[Fragment]] = {}
    for fragment in fragments:
        by_line.setdefault(fragment.line, []).append(fragment)
    return [by_line[line] for line in sorted(by_line)]


def _label_segments(columns: list[list[Fragment]]) -> list[list[Fragment]] | None:
    """Segments, one per label block, when one column labels the entries of the other; else None."""
    left, right = ({f.line for f in column} for column in columns)
    labels, entries = (columns[0], right) if len(left) < len(right) else (columns[1], left)
    entry_lines = sorted(entries)
    # Blocks above the first entry (a section heading over the label column) open the first segment.
    all_blocks = _blocks(labels)
    blocks = [block for block in all_blocks if block[-1] >= entry_lines[0]]
    if len(blocks) + bool(len(blocks) < len(all_blocks)) < 2 or any(
        len(b) > LABEL_BLOCK_LINES for b in blocks
    ):
        return None
    baselines = _baselines(columns[0] + columns[1])
    starts = []
    for block in blocks:
        first = block[0]
        if first not in entries:
            return None
        above = [line for line in entry_lines if line < first]
        if starts and (
            not above or baselines[above[-1]][0] - baselines[first][0] < NEW_BLOCK * baselines[first][1]
        ):
            return None  # the other column does not start a new entry beside this label
        starts.append(first)
    segments: list[list[Fragment]] = [[] for _ in range(len(starts) + 1)]
    for fragment in columns[0] + columns[1]:
        segments[bisect_right(starts, fragment.line)].append(fragment)
    return [segment for segment in segments if segment]


def _baselines(fragments: list[Fragment]) -> dict[int, tuple[float, float]]:
    """Per line: (baseline, font size)."""
    out: dict[int, tuple[float, float]] = {}
    for f in fragments:
        out.setdefault(f.line, (f.bottom + DESCENT * f.size, f.size))
    return out


def _blocks(fragments: list[Fragment]) -> list[list[int]]:
    """Line numbers of a column grouped into blocks separated by more than normal line spacing."""
    baselines = _baselines(fragments)
    blocks: list[list[int]] = []
    for line in sorted(baselines):
        if blocks:
            above, size = baselines[blocks[-1][-1]]
            if above - baselines[line][0] <= NEW_BLOCK * max(size, baselines[line][1]):
                blocks[-1].append(line)
                continue
        blocks.append([line])
    return blocks


def _bands(fragments: list[Fragment]) -> list[list[Fragment]]:
    """Fragments split at the widest horizontal gaps (every gap at least 90 % as tall as the widest)."""
    ordered = sorted(fragments, key=lambda f: -f.top)
    gaps: list[tuple[float, int]] = []
    floor = ordered[0].bottom
    for index, fragment in enumerate(ordered[1:], start=1):
        if floor - fragment.top > 0:
            gaps.append((floor - fragment.top, index))
        floor = min(floor, fragment.bottom)
    if not gaps:
        return [fragments]
    widest = max(height for height, _ in gaps)
    cuts = [index for height, index in gaps if height >= 0.9 * widest]
    return [ordered[a:b] for a, b in zip([0, *cuts], [*cuts, len(ordered)], strict=True)]


def _merge_column_bands(bands: list[list[Fragment]], min_gap: float) -> list[list[Fragment]]:
    """Rejoin neighbouring bands that each have a gutter and share it, so columns are not read band by band.

    A band without a gutter of its own (a heading, a line of short bullets) is never merged: that would move
    it behind text that was beside a later band. Spans are joined incrementally, so this stays linear.
    """
    merged: list[list[Fragment]] = [list(bands[0])]
    spans = [_spans(bands[0], min_gap)]
    for band in bands[1:]:
        own = _spans(band, min_gap)
        union = _join_spans(sorted(spans[-1] + own), min_gap)
        if len(own) > 1 and len(spans[-1]) > 1 and len(union) > 1:
            merged[-1].extend(band)
            spans[-1] = union
        else:
            merged.append(list(band))
            spans.append(own)
    return merged


# --- text ----------------------------------------------------------------------------------------------------


def _render(leaves: list[list[Fragment]]) -> str:
    out: list[str] = []
    previous: list[Fragment] | None = None
    for leaf in leaves:
        if previous is not None:
            above = min(f.bottom for f in previous)
            top = max(f.top for f in leaf)
            size = median(f.size for f in leaf)
            out.append("\n\n" if above - top > 0.9 * size or top > above + size else "\n")
        lines = _rows(leaf)
        out.append(
            "\n".join("\t".join(f.text.strip() for f in sorted(row, key=lambda f: f.x0)) for row in lines)
        )
        previous = leaf
    return "".join(out)
