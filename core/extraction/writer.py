"""Deterministic anonymised writing for the offline provider: profile, responsibilities, outreach subject/body.

Same input, same output: nothing random, no clock except the ``today`` passed in. Text is UK English, plain
(no markdown or emoji), uses the given name only and always passes through the sanitiser.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.extraction import vocab
from core.extraction.experience import total_experience, years_from_months
from core.extraction.normalise import fold, truncate_words
from core.extraction.sanitise import CandidateFacts, sanitise_text
from core.extraction.schema import AIAnalysisResult, CVDataInput

MAX_BODY_WORDS = 300
MAX_RESPONSIBILITY_CHARS = 300
MAX_RESPONSIBILITIES = 12
OWN_SUMMARY_CHARS = 1200

_WEAK_OPENERS = re.compile(
    r"^(?:i\s+(?:was|am|have been)\s+)?(?:responsible for|in charge of|tasked with|involved in|"
    r"(?:my\s+)?(?:main\s+)?duties\s+(?:included|include|were)|role involved|duties:)\s+",
    re.IGNORECASE,
)
_SUPPORT_OPENERS = re.compile(r"^(?:helping|helped|assisting|assisted)\s+(?:with|in)\s+", re.IGNORECASE)
# A duty phrased as "Responsible for planning ..." becomes "Planned ...".
_GERUND_TO_PAST = {
    "planning": "Planned", "delivering": "Delivered", "supporting": "Supported", "managing": "Managed",
    "leading": "Led", "teaching": "Taught", "working": "Worked", "preparing": "Prepared", "running": "Ran",
    "monitoring": "Monitored", "assessing": "Assessed", "developing": "Developed", "creating": "Created",
    "organising": "Organised", "organizing": "Organised", "coordinating": "Coordinated", "liaising": "Liaised",
    "providing": "Provided", "ensuring": "Ensured", "maintaining": "Maintained", "implementing": "Implemented",
    "mentoring": "Mentored", "tracking": "Tracked", "writing": "Wrote", "setting": "Set", "marking": "Marked",
    "covering": "Covered", "overseeing": "Oversaw", "recording": "Recorded",
    "promoting": "Promoted", "safeguarding": "Safeguarded", "communicating": "Communicated",
    "training": "Trained", "designing": "Designed", "reviewing": "Reviewed", "handling": "Handled",
}  # fmt: skip
_MARKDOWN = re.compile(r"[*_`#>~]+|\[(.*?)\]\((.*?)\)")


@dataclass
class WriterFacts:
    """Facts the templates draw on; all optional so a sparse CV still gets a sensible text."""

    given_name: str | None
    roles: list[str] = field(default_factory=list)  # newest first
    jobs: list[tuple[str, str, bool]] = field(
        default_factory=list
    )  # (role, company, is_current), newest first
    experience_months: int = 0
    skills: list[str] = field(default_factory=list)
    qualifications: list[str] = field(default_factory=list)
    town: str | None = None
    availability: str = ""
    own_summary: str = ""


def plain_text(text: str) -> str:
    """Strip markdown emphasis/links and emoji/pictographs; keep "- " bullets and line breaks."""
    text = _MARKDOWN.sub(lambda m: m.group(1) or "", text)
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("So", "Cs", "Co") and ord(ch) < 0x1F000
    )


def _article(word: str) -> str:
    first = word.split()[0] if word.split() else word
    if len(first) > 1 and first.isupper():  # acronyms are read letter by letter: "an HLTA", "a PGCE"
        return "an" if first[0] in "AEFHILMNORSX" else "a"
    return (
        "an" if first[:1].lower() in "aeiou" and not first.lower().startswith(("eu", "uni", "one")) else "a"
    )


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def years_phrase(months: int) -> str:
    """ "3 years'" / "1 year's" / "8 months'" (for "... experience")."""
    if months < 12:
        return f"{months} month's" if months == 1 else f"{months} months'"
    years = years_from_months(months)
    return "1 year's" if years == 1 else f"{years:g} years'"


def key_qualifications(qualifications: list[str], limit: int = 4) -> list[str]:
    """Short canonical labels (QTS, PGCE, DBS …) when recognisable, else the shortest stated items."""
    labels = vocab.qualification_labels(" | ".join(qualifications))
    labels = [("Enhanced DBS" if label == "DBS" else label) for label in labels]
    if labels:
        return labels[:limit]
    return sorted((q for q in qualifications if len(q) <= 60), key=len)[:limit]


def build_profile(facts: WriterFacts) -> str:
    """The client-facing professional profile: the CV's own summary when it has one, else 2–4 sentences."""
    if len(facts.own_summary.split()) >= 15:
        return truncate_words(facts.own_summary, OWN_SUMMARY_CHARS)[0]
    name = facts.given_name or "The candidate"
    role = facts.roles[0] if facts.roles else "education professional"
    if facts.experience_months > 0:
        adjective = "experienced" if facts.experience_months >= 36 else "committed"
        sentences = [f"{name} is {_article(adjective)} {adjective} {role} with {years_phrase(facts.experience_months)} "
                     "experience in education."]  # fmt: skip
    else:
        sentences = [f"{name} is {_article(role)} {role} at the start of their career in education."]
    if facts.jobs:
        job_role, company, current = facts.jobs[0]
        if job_role and company:
            verb = "Currently working" if current else "Most recently worked"
            sentences.append(f"{verb} as {_article(job_role)} {job_role} at {company}.")
    if facts.skills:
        sentences.append(f"Key strengths include {_join(facts.skills[:3])}.")
    quals = key_qualifications(facts.qualifications, 3)
    if quals:
        where = f", and is based in {facts.town}" if facts.town else ""
        sentences.append(f"Holds {_join(quals)}{where}.")
    elif facts.town:
        sentences.append(f"Based in {facts.town}.")
    return " ".join(sentences[:4])


def tighten_responsibility(item: str) -> str:
    """Sentence case, strong opening verb, no weak opener, no trailing punctuation, length capped."""
    text = re.sub(r"\s+", " ", item).strip(" \t-•*;,.")
    text = _SUPPORT_OPENERS.sub("Supported ", text)
    weak = _WEAK_OPENERS.match(text)
    text = text[weak.end() :] if weak else text
    if text.isupper():
        text = text.lower()
    first, _, rest = text.partition(" ")
    if weak and first.lower() in _GERUND_TO_PAST:
        text = f"{_GERUND_TO_PAST[first.lower()]} {rest}".strip()
    text = text[:1].upper() + text[1:]
    return truncate_words(text, MAX_RESPONSIBILITY_CHARS)[0].rstrip(" ;,.")


def tighten_responsibilities(items: list[str]) -> list[str]:
    """Tightened, de-duplicated (case/punctuation-insensitive) and capped list of duties."""
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        text = tighten_responsibility(item)
        key = fold(text)
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out[:MAX_RESPONSIBILITIES]


def email_subject(facts: WriterFacts) -> str:
    name = facts.given_name or "Candidate"
    role = facts.roles[0] if facts.roles else "Education professional"
    where = f" in {facts.town}" if facts.town else ""
    experience = (
        f", {years_phrase(facts.experience_months)} experience" if facts.experience_months >= 12 else ""
    )
    return plain_text(f"{role} available{where}: {name}{experience}")


def email_body(facts: WriterFacts) -> str:
    """Plain-text introduction for schools: short paragraph, "- " bullets, closing line; ≤300 words."""
    name = facts.given_name or "the candidate"
    role = facts.roles[0] if facts.roles else "education professional"
    where = f" based in {facts.town}" if facts.town else ""
    if facts.experience_months > 0:
        intro = (f"I would like to introduce {name}, {_article(role)} {role}{where} with "
                 f"{years_phrase(facts.experience_months)} experience in education.")  # fmt: skip
    else:
        intro = f"I would like to introduce {name}, {_article(role)} {role}{where} starting their career in education."
    bullets = []
    if facts.jobs and facts.jobs[0][0] and facts.jobs[0][1]:
        job_role, company, current = facts.jobs[0]
        bullets.append(f"{'Current' if current else 'Most recent'} role: {job_role} at {company}")
    quals = key_qualifications(facts.qualifications)
    if quals:
        bullets.append(f"Qualifications: {', '.join(quals)}")
    if facts.skills:
        bullets.append(f"Key skills: {', '.join(facts.skills[:5])}")
    if facts.availability:
        bullets.append(f"Availability: {truncate_words(facts.availability, 120)[0]}")
    closing = (f"{facts.given_name or 'The candidate'}'s anonymised CV is attached. Please reply if you would like "
               "to arrange an interview or a trial day.")  # fmt: skip
    while True:
        parts = [intro, "\n".join(f"- {b}" for b in bullets), closing]
        body = "\n\n".join(p for p in parts if p)
        if len(body.split()) <= MAX_BODY_WORDS or not bullets:
            return plain_text(body)
        bullets.pop()


def sanitise_cv_data[T: (CVDataInput, AIAnalysisResult)](data: T, facts: CandidateFacts) -> T:
    """Apply the sanitiser to every free-text client-facing field; dates, employers and roles stay as stated."""
    clean = lambda text: sanitise_text(text, facts)  # noqa: E731
    history = [
        job.model_copy(update={"responsibilities": [r for r in map(clean, job.responsibilities) if r]})
        for job in data.employment_history
    ]
    return data.model_copy(
        update={
            "name": facts.given_name or "Candidate",
            "location": clean(data.location),
            "availability": clean(data.availability),
            "professional_profile": clean(data.professional_profile),
            "employment_history": history,
            "qualifications": [q for q in map(clean, data.qualifications) if q],
            "interests": (clean(data.interests) or None) if data.interests else None,
            "email_subject": clean(data.email_subject),
            "email_body": clean(data.email_body),
        }
    )


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


def rewrite_offline(
    cv_data: CVDataInput,
    instruction: str | None = None,
    *,
    today: date | None = None,
    facts: CandidateFacts | None = None,
) -> tuple[CVDataInput, list[str]]:
    """Offline rewrite (pipeline.md §10 step 2): profile and e-mail rebuilt, duties tidied; jobs otherwise unchanged.

    ``facts`` (the candidate's full name, contacts …) lets the sanitiser remove a surname; without it only the
    given name in ``cv_data.name`` is known. An instruction cannot be followed offline: warning ``instruction_ignored``.
    """
    warnings = ["instruction_ignored"] if instruction and instruction.strip() else []
    history = cv_data.employment_history
    experience = total_experience([job.date_range for job in history], today or london_today())
    given = cv_data.name if cv_data.name and cv_data.name != "Candidate" else None
    facts = facts or CandidateFacts(given_name=given, town=cv_data.location or None)
    protected = tuple(job.company for job in history) + tuple(cv_data.qualifications)
    facts = CandidateFacts(**{**facts.__dict__, "protected_names": facts.protected_names or protected})
    present = re.compile(r"\b(present|current|now|date|ongoing)\b", re.IGNORECASE)
    writer = WriterFacts(
        given_name=facts.given_name or given,
        roles=list(cv_data.role) or [job.role for job in history[:1] if job.role],
        jobs=[(job.role, job.company, bool(present.search(job.date_range))) for job in history],
        experience_months=experience.months,
        qualifications=list(cv_data.qualifications),
        town=cv_data.location or None,
        availability=cv_data.availability,
    )
    rewritten = cv_data.model_copy(
        update={
            "professional_profile": build_profile(writer),
            "employment_history": [
                job.model_copy(update={"responsibilities": tighten_responsibilities(job.responsibilities)})
                for job in history
            ],
            "email_subject": email_subject(writer),
            "email_body": email_body(writer),
        }
    )
    return sanitise_cv_data(rewritten, facts), warnings + experience.warnings
