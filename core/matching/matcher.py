"""Contact → school matching within one local authority (imports-and-geo.md §4).

The tiers T1–T4 are tried in order and the first tier that finds any school decides. One school → linked.
Several (T1–T3) → evidence, considering only those schools:
  (a) the row's URN (a known URN decides before any tier: method "urn"),
  (b) the e-mail address is already linked to one of them by an earlier import ("evidence_email"),
  (c) a distinctive ≥4-letter token of one school's town, street or postcode district occurs in the e-mail
      address ("evidence_token"),
  (d) rows of the same file with the same e-mail domain are linked to exactly one of them and to no other
      school ("evidence_domain"; needs the whole file: see match_contacts).
Anything still tied is "ambiguous": we never guess between plausible schools. Fuzzy similarity only
produces suggestions for the operator.
"""

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process

from core.matching.names import APOSTROPHES, fold, normalise_local_authority, tier_keys

OrganizationId = Hashable
MatchStatus = Literal["linked", "ambiguous", "unmatched", "unknown_local_authority"]

TIERS = ("T1", "T2", "T3", "T4")
_EVIDENCE_TIERS = frozenset(TIERS[:3])  # T4 links only when exactly one school remains
_SUGGESTION_LIMIT = 3
_SUGGESTION_CUTOFF = 80

# Words of addresses too common to identify a school inside an e-mail address ("broadwater" holds "road").
# fmt: off
_ADDRESS_STOPWORDS = frozenset({
    "road", "street", "lane", "avenue", "close", "drive", "place", "grove", "gardens", "garden", "terrace",
    "crescent", "hill", "green", "park", "walk", "square", "court", "rise", "view", "mews", "vale", "wood",
    "parade", "common", "north", "south", "east", "west", "upper", "lower", "great", "little", "saint",
    "church", "school", "college", "academy", "house", "lodge", "farm", "field", "fields", "estate", "centre",
    "center", "with", "under", "upon",
})
# Mailbox providers shared by unrelated people: never evidence (d) (nor are council networks, see below).
_PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.co.uk", "outlook.com", "outlook.co.uk", "live.com",
    "live.co.uk", "msn.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "aol.com", "aol.co.uk", "icloud.com",
    "me.com", "mac.com", "btinternet.com", "btopenworld.com", "sky.com", "virginmedia.com", "ntlworld.com",
    "blueyonder.co.uk", "talktalk.net", "tiscali.co.uk", "mail.com", "gmx.com", "gmx.co.uk", "protonmail.com",
    "proton.me", "zoho.com",
})
# fmt: on
_LETTER_WORDS = re.compile(r"[a-z]{4,}")
_SHARED_DOMAIN_SUFFIXES = (".gov.uk", ".nhs.uk", ".nhs.net")


@dataclass(frozen=True, slots=True)
class School:
    id: OrganizationId
    urn: str | None
    name: str
    local_authority: str
    town: str | None = None
    street: str | None = None
    postcode: str | None = None


@dataclass(frozen=True, slots=True)
class MatchQuery:
    local_authority: str
    name: str
    email: str | None = None
    urn: str | None = None


@dataclass(frozen=True)
class MatchResult:
    status: MatchStatus
    organization_id: OrganizationId | None = None
    method: str | None = None  # "urn", "T1"–"T4", "evidence_email", "evidence_token", "evidence_domain";
    # for an ambiguous row the tier at which the tie occurred
    candidate_ids: tuple[OrganizationId, ...] = ()
    candidate_urns: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = field(default=())

    @property
    def reason(self) -> str:
        if self.status == "linked":
            return f"Linked by {self.method}."
        if self.status == "ambiguous":
            urns = ", ".join(self.candidate_urns) or "schools without URN"
            return (
                f"{len(self.candidate_ids)} schools of this local authority fit the name ({urns}); "
                "nothing tells them apart, so the contact was not linked."
            )
        if self.status == "unknown_local_authority":
            return "No school of this local authority has been imported."
        return "No school of this local authority matches the name."


def email_domain(email: str | None) -> str | None:
    domain = (email or "").rpartition("@")[2].lower()
    return domain or None


def is_shared_mail_domain(domain: str) -> bool:
    """Domains used by many unrelated people or schools, which never identify a school."""
    return domain in _PUBLIC_MAIL_DOMAINS or domain.endswith(_SHARED_DOMAIN_SUFFIXES)


def letter_words(text: str | None) -> set[str]:
    """Words of at least four letters, apostrophes removed ("St John's Place" → {"johns", "place"})."""
    return set(_LETTER_WORDS.findall(APOSTROPHES.sub("", fold(text or ""))))


def address_tokens(school: School) -> frozenset[str]:
    """≥4-letter words of the town and street plus the postcode district, for evidence (c).

    Words of the school's own name are left out: an address like "Mandeville Drive" says nothing about
    which of two "Mandeville Primary" schools "head@mandeville.herts.sch.uk" belongs to.
    """
    words = letter_words(school.town) | letter_words(school.street)
    district = (school.postcode or "").split(" ")[0].casefold()
    if len(district) >= 4 and district.isalnum():
        words.add(district)
    return frozenset(words - _ADDRESS_STOPWORDS - letter_words(school.name))


class SchoolIndex:
    """Every organisation keyed by local authority and tier key; built once per import."""

    def __init__(self, schools: Iterable[School]) -> None:
        self._schools: dict[OrganizationId, School] = {}
        self._by_urn: dict[str, OrganizationId] = {}
        self._authorities: dict[str, str] = {}  # normalised → as written
        # normalised authority → one {key: [ids]} per tier
        self._tiers: dict[str, tuple[dict[str, list[OrganizationId]], ...]] = {}
        for school in schools:
            self._add(school)

    def _add(self, school: School) -> None:
        self._schools[school.id] = school
        if school.urn:
            self._by_urn.setdefault(school.urn, school.id)
        authority = normalise_local_authority(school.local_authority)
        self._authorities.setdefault(authority, school.local_authority)
        tiers = self._tiers.setdefault(authority, tuple({} for _ in TIERS))
        for tier, key in zip(tiers, tier_keys(school.name), strict=True):
            if key:
                tier.setdefault(key, []).append(school.id)

    def __len__(self) -> int:
        return len(self._schools)

    def school(self, organization_id: OrganizationId) -> School:
        return self._schools[organization_id]

    def describe(self, organization_id: OrganizationId) -> str:
        """The school as the operator knows it: "Name, Authority (URN n)"."""
        school = self._schools[organization_id]
        urn = f" (URN {school.urn})" if school.urn else ""
        return f"{school.name}, {school.local_authority}{urn}"

    def has_urn(self, urn: str) -> bool:
        return urn in self._by_urn

    def match(
        self, query: MatchQuery, known_links: Mapping[str, OrganizationId] | None = None
    ) -> MatchResult:
        """Match one row with the tiers and evidence (a)–(c); evidence (d) is added by match_contacts."""
        if query.urn and query.urn in self._by_urn:
            return MatchResult("linked", self._by_urn[query.urn], "urn")
        authority = normalise_local_authority(query.local_authority)
        tiers = self._tiers.get(authority)
        if tiers is None:
            return MatchResult("unknown_local_authority", suggestions=self._authority_suggestions(authority))
        for tier_name, tier, key in zip(TIERS, tiers, tier_keys(query.name), strict=True):
            ids = tier.get(key) if key else None
            if not ids:
                continue
            if len(ids) == 1:
                return MatchResult("linked", ids[0], tier_name)
            tied = self._tie(tier_name, ids)
            if tier_name not in _EVIDENCE_TIERS:
                return tied
            return self._evidence(tied, query.email, known_links or {})
        return MatchResult("unmatched", suggestions=self._name_suggestions(tiers[2], query.name))

    def resolve_by_domain(
        self, result: MatchResult, email: str | None, domain_schools: Mapping[str, frozenset[OrganizationId]]
    ) -> MatchResult:
        """Evidence (d) for a tie: in this file the e-mail domain is linked to exactly one of the tied schools."""
        domain = email_domain(email)
        if result.status != "ambiguous" or result.method not in _EVIDENCE_TIERS or not domain:
            return result
        if is_shared_mail_domain(domain):
            return result
        linked = domain_schools.get(domain, frozenset())
        if len(linked) == 1 and next(iter(linked)) in result.candidate_ids:
            return MatchResult("linked", next(iter(linked)), "evidence_domain")
        return result

    def _tie(self, tier_name: str, ids: list[OrganizationId]) -> MatchResult:
        schools = [self._schools[i] for i in ids]
        return MatchResult(
            "ambiguous",
            method=tier_name,
            candidate_ids=tuple(ids),
            candidate_urns=tuple(s.urn for s in schools if s.urn),
        )

    def _evidence(
        self, tied: MatchResult, email: str | None, known_links: Mapping[str, OrganizationId]
    ) -> MatchResult:
        if not email:
            return tied
        earlier = known_links.get(email)
        if earlier in tied.candidate_ids:
            return MatchResult("linked", earlier, "evidence_email")
        tokens = {i: address_tokens(self._schools[i]) for i in tied.candidate_ids}
        address = email.casefold()
        hits = []
        for school_id, own in tokens.items():
            others = frozenset().union(*(t for i, t in tokens.items() if i != school_id))
            if any(token in address for token in own - others):
                hits.append(school_id)
        if len(hits) == 1:
            return MatchResult("linked", hits[0], "evidence_token")
        return tied

    def _authority_suggestions(self, authority: str) -> tuple[str, ...]:
        found = process.extract(
            authority,
            self._authorities,
            scorer=fuzz.WRatio,
            limit=_SUGGESTION_LIMIT,
            score_cutoff=_SUGGESTION_CUTOFF,
        )
        return tuple(written for written, _score, _key in found)

    def _name_suggestions(self, t3: Mapping[str, list[OrganizationId]], name: str) -> tuple[str, ...]:
        """Closest T3 keys of the authority (word order ignored), for the operator to check by hand."""
        key = tier_keys(name)[2]
        if not key:
            return ()
        found = process.extract(
            key,
            list(t3),
            scorer=fuzz.token_sort_ratio,
            limit=_SUGGESTION_LIMIT,
            score_cutoff=_SUGGESTION_CUTOFF,
        )
        ids = [i for choice, _score, _position in found for i in t3[choice]]
        return tuple(self.describe(i) for i in ids[:_SUGGESTION_LIMIT])


def match_contacts(
    index: SchoolIndex, queries: Sequence[MatchQuery], known_links: Mapping[str, OrganizationId] | None = None
) -> list[MatchResult]:
    """Match a whole file: pass 1 applies tiers and evidence (a)–(c); pass 2 resolves the remaining ties with
    evidence (d), the e-mail domains that pass 1 linked to a single school."""
    first = [index.match(query, known_links) for query in queries]
    domain_schools: dict[str, set[OrganizationId]] = {}
    for query, result in zip(queries, first, strict=True):
        domain = email_domain(query.email)
        if domain and result.status == "linked":
            domain_schools.setdefault(domain, set()).add(result.organization_id)
    frozen = {domain: frozenset(ids) for domain, ids in domain_schools.items()}
    return [
        index.resolve_by_domain(result, query.email, frozen)
        for query, result in zip(queries, first, strict=True)
    ]
