"""School-name and local-authority normalisation: the keys of the matching tiers (imports-and-geo.md §4).

T1  trimmed, case-insensitive name
T2  N(name): accents, apostrophes, punctuation, `St` → saint, `C of E` → ce, `RC`, plurals of infant/junior
T3  T2 without the, and, school, academy
T4  T3 without type words (primary, infant, junior, nursery, community, ce, rc, catholic, voluntary aided,
    voluntary controlled, federation)
"""

import re
import unicodedata
from functools import lru_cache

APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NOT_WORD = re.compile(r"[\W_]+")

# Token sequences rewritten by N(s); none of the replacements is part of any sequence, so one left-to-right
# pass is already a fixed point (N is idempotent).
_REWRITES: dict[tuple[str, ...], str] = {
    ("church", "of", "england"): "ce",
    ("c", "of", "e"): "ce",
    ("c", "e"): "ce",
    ("cofe",): "ce",
    ("roman", "catholic"): "rc",
    ("r", "c"): "rc",
    ("st",): "saint",
    ("infants",): "infant",
    ("juniors",): "junior",
}
_LONGEST_REWRITE = max(map(len, _REWRITES))

_T3_DROPPED = frozenset({"the", "and", "school", "academy"})
_T4_DROPPED_WORDS = frozenset(
    {"primary", "infant", "junior", "nursery", "community", "ce", "rc", "catholic", "federation"}
)
_T4_DROPPED_PHRASES = (("voluntary", "aided"), ("voluntary", "controlled"))


def fold(text: str) -> str:
    """Accents dropped (NFKD without combining marks) and case folded."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Compatibility decomposition can yield capitals (e.g. "ℌ" → "H"): fold once more.
    return unicodedata.normalize("NFKD", folded.casefold())


def name_tokens(text: str) -> list[str]:
    """The words of N(text)."""
    text = APOSTROPHES.sub("", fold(text)).replace("&", " and ")
    return _rewrite(_NOT_WORD.sub(" ", text).split())


def normalise_name(text: str) -> str:
    """N(s) of the spec: "St. Mary's C of E Primary" → "saint marys ce primary"."""
    return " ".join(name_tokens(text))


def _rewrite(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_LONGEST_REWRITE, len(tokens) - i), 0, -1):
            replacement = _REWRITES.get(tuple(tokens[i : i + size]))
            if replacement:
                out.append(replacement)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _drop_phrases(tokens: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        phrase = next((p for p in phrases if tuple(tokens[i : i + len(p)]) == p), None)
        if phrase:
            i += len(phrase)
        else:
            out.append(tokens[i])
            i += 1
    return out


@lru_cache(maxsize=65536)  # contact files repeat each school name once per contact
def tier_keys(name: str) -> tuple[str, str, str, str]:
    """Keys for T1–T4; a tier whose key is empty ('' — e.g. "The School" at T3) must not be compared."""
    t1 = " ".join(name.split()).casefold()
    t2_tokens = name_tokens(name)
    t3_tokens = [t for t in t2_tokens if t not in _T3_DROPPED]
    t4_tokens = [t for t in _drop_phrases(t3_tokens, _T4_DROPPED_PHRASES) if t not in _T4_DROPPED_WORDS]
    return t1, " ".join(t2_tokens), " ".join(t3_tokens), " ".join(t4_tokens)


@lru_cache(maxsize=4096)
def normalise_local_authority(text: str) -> str:
    """Comparable local-authority name: case, accents, spacing, punctuation and `&`/`and` ignored."""
    return " ".join(_NOT_WORD.sub(" ", fold(text).replace("&", " and ")).split())
