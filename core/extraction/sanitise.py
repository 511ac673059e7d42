"""Anonymisation of client-facing text and the PII guard for operator outreach text (pipeline.md §7.4).

Client-facing text may name the candidate by given name only. The sanitiser removes e-mail addresses, phone-like
digit runs, personal-profile URLs and street addresses, turns unit postcodes into the town, replaces the full name
and its variants with the given name ("Candidate" when there is none) and drops stand-alone surname tokens —
except inside employer or institution names (a candidate called Campbell may have worked at Campbell Academy).
"""

import re
from dataclasses import dataclass, field

import phonenumbers

from core.extraction.normalise import POSTCODE_RE, is_date_like, normalise_postcode, parse_phone

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE_LIKE = re.compile(r"(?<![\w])\+?\(?\d[\d ()./-]{7,}\d(?!\d)")
PROFILE_URL = re.compile(
    r"(?:https?://)?(?:[\w-]+\.)*(?:linkedin\.com|facebook\.com|fb\.com|instagram\.com|twitter\.com|x\.com|"
    r"tiktok\.com|github\.com|youtube\.com|threads\.net|about\.me|linktr\.ee)(?:/\S*)?",
    re.IGNORECASE,
)
STREET_RE = re.compile(
    r"\b(?:flat|apartment|unit)?\s*\d{1,4}[a-z]?,?\s+(?:[A-Z][\w'’-]+\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Crescent|Grove|Place|Court|Terrace|Gardens|"
    r"Mews|Walk|Rise|Row|Square|Hill|View|Park)\b\.?",
)
NAME_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?"
PARTICLES = {
    "de",
    "da",
    "del",
    "van",
    "von",
    "der",
    "la",
    "le",
    "di",
    "du",
    "bin",
    "al",
    "el",
    "ó",
    "o",
    "mac",
    "st",
}
FALLBACK_NAME = "Candidate"


@dataclass(frozen=True)
class CandidateFacts:
    """What identifies the candidate; the sanitiser and the PII guard remove or refuse these."""

    given_name: str | None = None
    full_name: str | None = None
    surname: str | None = None
    email: str | None = None
    phone: str | None = None
    postcode: str | None = None
    town: str | None = None
    address: str | None = None
    protected_names: tuple[str, ...] = field(default_factory=tuple)  # employers and institutions

    @property
    def display_name(self) -> str:
        return self.given_name or FALLBACK_NAME

    def other_name_tokens(self) -> list[str]:
        """Name tokens other than the given name (middle names and surname), longest first."""
        given = (self.given_name or "").casefold()
        tokens = re.findall(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*", f"{self.full_name or ''} {self.surname or ''}")
        if self.full_name and not self.given_name:
            tokens += re.findall(r"[^\W\d_]+", self.full_name)
        keep = {t for t in tokens if t.casefold() != given and t.casefold() not in PARTICLES and len(t) >= 2}
        return sorted(keep, key=len, reverse=True)


def _protected_spans(text: str, facts: CandidateFacts) -> list[tuple[int, int]]:
    spans = []
    for name in facts.protected_names:
        if name:
            spans += [m.span() for m in re.finditer(re.escape(name), text, re.IGNORECASE)]
    return spans


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def _phone_like_runs(text: str):
    for match in PHONE_LIKE.finditer(text):
        run = match.group(0)
        if sum(ch.isdigit() for ch in run) >= 9 and not is_date_like(run):
            yield match


def _name_variants(facts: CandidateFacts) -> list[str]:
    """Regex sources for the ways a CV refers to the candidate by more than the given name."""
    given = re.escape(facts.given_name) if facts.given_name else None
    others = [re.escape(t) for t in facts.other_name_tokens()]
    variants = []
    if facts.full_name:
        variants.append(r"\s+".join(re.escape(t) for t in facts.full_name.split()))
    if facts.surname:
        surname = r"\s+".join(re.escape(t) for t in facts.surname.split())
        last = re.escape(facts.surname.split()[-1])
        if given:
            variants += [rf"{given}\s+{surname}", rf"{surname},\s*{given}", rf"{last},\s*{given}"]
        first = rf"(?:{given}\s+)?" if given else ""
        variants.append(rf"{NAME_TITLES}\s+{first}(?:{surname}|{last})")
    if given and others:
        variants.append(rf"{given}(?:\s+(?:{'|'.join(others)}))+")
    return sorted(set(variants), key=len, reverse=True)


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*[,;:|/-]?\s*\)|\[\s*\]", "", text)
    text = re.sub(r"[ \t]+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"(?m)^[ \t]*[,;|]+[ \t]*(?=\S)", "", text)  # "- " bullets stay
    text = re.sub(r"(?m)[ \t]*[,;|]+[ \t]*$", "", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"(?m)^[ \t]+|[ \t]+$", "", text)
    return text.strip()


def sanitise_text(text: str | None, facts: CandidateFacts) -> str:
    """Client-facing ``text`` with every identifying detail of the candidate removed or replaced."""
    if not text:
        return text or ""
    text = EMAIL_RE.sub("", text)
    text = PROFILE_URL.sub("", text)
    if facts.address:
        text = re.sub(re.escape(facts.address), "", text, flags=re.IGNORECASE)
    text = STREET_RE.sub("", text)

    def postcode(match: re.Match) -> str:
        town = facts.town or ""
        recent = text[max(0, match.start() - 40) : match.start()]
        return "" if not town or town.casefold() in recent.casefold() else town

    text = POSTCODE_RE.sub(postcode, text)
    for match in reversed(list(_phone_like_runs(text))):
        text = text[: match.start()] + text[match.end() :]

    protected = _protected_spans(text, facts)
    for variant in _name_variants(facts):
        pieces, last = [], 0
        for match in re.finditer(rf"(?<!\w){variant}(?!\w)", text, re.IGNORECASE):
            if not _inside(match.span(), protected):
                pieces += [text[last : match.start()], facts.display_name]
                last = match.end()
        text = "".join(pieces) + text[last:]
        protected = _protected_spans(text, facts)

    for token in facts.other_name_tokens():
        pieces, last = [], 0
        for match in re.finditer(rf"(?<!\w){re.escape(token)}(?:['’]s)?(?!\w)", text, re.IGNORECASE):
            word = match.group(0)
            if word[0].isupper() and not _inside(match.span(), protected):
                pieces.append(text[last : match.start()])
                last = match.end()
        text = "".join(pieces) + text[last:]
        protected = _protected_spans(text, facts)
    return _tidy(text)


def pii_terms(text: str, candidate_facts: CandidateFacts) -> list[str]:
    """Candidate details found in operator-written outreach text (api.md §5.1 → 422 ``pii_in_outreach``).

    E-mail (case-insensitive), phone (by digits, any spacing or +44/0 prefix), unit postcode (any spacing) and
    surname as a whole capitalised word outside employer names.
    """
    facts = candidate_facts
    found: list[str] = []
    if facts.email and facts.email.casefold() in text.casefold():
        found.append(facts.email)
    number = parse_phone(facts.phone) if facts.phone else None
    if number is not None:
        national = str(phonenumbers.national_significant_number(number))
        for match in _phone_like_runs(text):
            if national in re.sub(r"\D", "", match.group(0)):
                found.append(match.group(0).strip())
    postcode = normalise_postcode(facts.postcode)
    if postcode:
        found += [
            m.group(0) for m in POSTCODE_RE.finditer(text) if normalise_postcode(m.group(0)) == postcode
        ]
    protected = _protected_spans(text, facts)
    surnames = [facts.surname] if facts.surname else []
    surnames += [t for t in facts.other_name_tokens() if facts.surname and t in facts.surname.split()]
    for surname in dict.fromkeys(surnames):
        for match in re.finditer(rf"(?<!\w){re.escape(surname)}(?!\w)", text, re.IGNORECASE):
            if match.group(0)[0].isupper() and not _inside(match.span(), protected):
                found.append(match.group(0))
    return list(dict.fromkeys(found))
