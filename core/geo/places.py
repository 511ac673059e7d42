"""Place-name normalisation shared by the gazetteer build and lookups, so both sides compare the same keys.

Comparison is case-, accent- and punctuation-insensitive; hyphens count as spaces, "St"/"St." as "Saint" and
"&" as "and" ("Stoke-on-Trent" = "stoke on trent", "St. Albans" = "Saint Albans", "King's Lynn" = "Kings Lynn").
"""

import re
import unicodedata

from core.geo.errors import InvalidLocation

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^\w]+|_")
_TOKEN_ALIASES = {"st": "saint"}

# Names of the United Kingdom and its countries: never a town, and dropped from the end of a location text.
UK_NAMES = frozenset(
    {"uk", "u k", "united kingdom", "great britain", "britain", "gb", "england", "scotland", "wales",
     "northern ireland"}
)  # fmt: skip


def normalise_place_name(text: str) -> str:
    """Comparison key of a place name: "St. Mary's-on-Sea" → "saint marys on sea"."""
    if not isinstance(text, str):
        raise InvalidLocation("A place name must be text.")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    spaced = _NON_WORD.sub(" ", _APOSTROPHES.sub("", stripped.replace("&", " and ")))
    return " ".join(_TOKEN_ALIASES.get(token, token) for token in spaced.split())
