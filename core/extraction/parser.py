"""Offline CV parser: plain extracted text → structured facts (pipeline.md §5, offline mode).

The parser works on lines. It first labels every line with the section it belongs to (by heading lexicon),
then reads contacts from anywhere (page headers are appended at the end by text extraction), the name from the
best-scoring short line, jobs and education entries from groups of header-like lines anchored on dates or
institutions, and skills/qualifications from their sections (falling back to the lexicons).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

from core.extraction import vocab
from core.extraction.experience import find_date_range, month_text, parse_date_range
from core.extraction.normalise import (
    POSTCODE_RE,
    clean_line,
    clean_list,
    fold,
    is_date_like,
    normalise_email,
    normalise_name,
    normalise_postcode,
    parse_phone,
    strip_control,
    title_case_name,
)

TownCheck = Callable[[str], bool]

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE_RUN = re.compile(r"(?<![\w+])(?:\+|\(\+?|00|0)[\d ()-]{8,22}\d(?!\d)")
URL_RE = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|co\.uk|org|net|io|me)/\S*", re.IGNORECASE)
BULLET_RE = re.compile(r"^\s*(?:[•\-*▪◦●○■□➢➤✓✔►·–—]|\d{1,2}[.)])\s+")
LABEL_RE = re.compile(r"^\s*([A-Za-z][A-Za-z /-]{0,24}?)\s*[:：]\s*(.*)$")
SEGMENT_SPLIT = re.compile(r"\s*\|\s*|\t+|\s{3,}|\s+[-–—]\s+|\s*•\s*|\s*·\s*")
DANGLING = " ,;:|-–—/"
REFEREE_CUE = re.compile(
    r"\b(?:mr|mrs|ms|miss|mx|dr|prof)\b\.?\s+[A-Z]|\b(?:headteacher|head teacher|deputy|manager|principal|director|"
    r"senco|teacher|leader|lead|coordinator|co-ordinator|referee|supervisor|school|academy|nursery|college|ltd)\b",
    re.IGNORECASE,
)
YEARS_STATED = re.compile(
    r"(\d{1,2}(?:\.\d)?)\+?\s*(?:years|yrs)['’]?\s+(?:of\s+)?(?:\w+\s+){0,3}experience", re.I
)
AVAILABLE_RE = re.compile(
    r"\bavailable\s+(?:immediately|now|from|for|to start|on|after|at short notice|part[- ]time|full[- ]time)\b",
    re.IGNORECASE,
)
REFERENCES_LINE = re.compile(r"^references?\b.*\b(request|available|supplied|provided)\b", re.IGNORECASE)
RULE_LINE = re.compile(r"^\s*[=\-_~*#.·•]{3,}\s*$")  # underlines and separators under headings
CV_WORDS = re.compile(r"\bcurriculum vitae\b|\brésumé\b", re.IGNORECASE)
CV_TITLE = re.compile(r"^(curriculum vitae|cv|résumé|resume)$", re.IGNORECASE)

# First words that make a line a sentence about duties rather than a job header.
_IRREGULAR_VERBS = {
    "led", "ran", "taught", "built", "set", "kept", "made", "took", "wrote", "met", "gave", "held", "won",
    "oversaw", "undertook", "brought", "drove", "sought", "lead", "run", "teach", "support", "plan",
    "deliver", "manage", "provide", "work", "help", "assist", "ensure", "maintain", "create", "develop",
    "responsible", "duties", "i", "my", "we", "our", "this", "as", "in", "to", "with", "and",
}  # fmt: skip
_NOT_VERBS = {"acting", "qualified", "leading", "teaching", "learning", "boarding", "nursing", "visiting",
              "training", "managing", "trainee", "supply", "registered", "specialised", "specialist"}  # fmt: skip


@dataclass
class ParsedJob:
    role: str
    employer: str
    date_text: str
    start: str | None  # "YYYY-MM"
    end: str | None  # "YYYY-MM" or "present"
    responsibilities: list[str] = field(default_factory=list)
    location: str = ""


@dataclass
class ParsedEducation:
    qualification: str
    institution: str
    date_text: str


@dataclass
class ParsedCV:
    full_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    email: str | None = None
    phone: str | None = None  # best phone, E.164
    location: str | None = None  # town/city
    address: str | None = None  # full address line when stated
    postcode: str | None = None
    job_titles: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    qualifications: list[str] = field(default_factory=list)
    jobs: list[ParsedJob] = field(default_factory=list)
    education: list[ParsedEducation] = field(default_factory=list)
    profile_text: str = ""
    interests: str | None = None
    availability: str = ""
    stated_years: float | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Line:
    index: int
    text: str  # bullet glyph removed
    bullet: bool
    section: str = "header"
    heading: bool = False


# ---------------------------------------------------------------- lines and sections


def _trim(text: str, extra: str = "") -> str:
    """Strip separators around a segment, and a bracket left without its partner."""
    text = text.strip(DANGLING + extra)
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].strip(DANGLING + extra)
    while text.startswith("(") and text.count("(") > text.count(")"):
        text = text[1:].strip(DANGLING + extra)
    return text


def _lines(text: str) -> list[Line]:
    out: list[Line] = []
    after_blank = False
    for raw in strip_control(text).replace("\r", "\n").split("\n"):
        raw = re.sub(r"[‒–—−]", "-", raw).replace("\u00a0", " ")
        if not raw.strip() or RULE_LINE.match(raw):
            after_blank = after_blank or not raw.strip()
            continue
        bullet = bool(BULLET_RE.match(raw))
        body = BULLET_RE.sub("", raw, count=1) if bullet else raw
        body = re.sub(r"(?<=\S) {2}(?=\S)", " ", body.strip())  # keep 3+ space runs: they separate columns
        joined = (
            out and not bullet and not after_blank and _continues(out[-1], body)
        )  # wraps never span blanks
        after_blank = False
        if joined:
            out[-1].text = f"{out[-1].text} {body}"
            continue
        out.append(Line(len(out), body, bullet))
    return out


def _is_heading_text(text: str) -> bool:
    return vocab.heading_key(text) in vocab.HEADING_LOOKUP


def _continues(previous: Line, text: str) -> bool:
    """Whether ``text`` is the wrapped rest of ``previous`` (narrow PDF columns wrap headings and bullets)."""
    if EMAIL_RE.search(text) or URL_RE.search(text):
        return False
    partial_heading = not (previous.bullet or _is_heading_text(previous.text)) and len(previous.text) < 40
    if partial_heading and _is_heading_text(f"{previous.text} {text}"):
        return True  # "Qualifications &" / "Training"
    if _is_heading_text(previous.text) or previous.text.endswith((".", ":", "!", "?")):
        return False
    if _heading_section(Line(0, text, False))[0] or find_date_range(text):
        return False
    starts_low = text[:1].islower() or text[:1] in "(&"
    dangling = re.search(
        r"(?:[,&/-]|\b(?:and|of|the|with|in|for|to|at|on|a|an))$", previous.text, re.IGNORECASE
    )
    if re.search(r"\b[A-Z]{1,2}\d[A-Z\d]?$", previous.text) and re.match(r"\d[A-Z]{2}\b", text):
        return True  # a postcode split over two lines
    if text.lower() in vocab.EMPLOYER_HEAD_NOUNS and not previous.bullet:
        return True  # "Hollybank High" / "School": a name cannot end on its own line with its head noun
    if (
        previous.bullet
        and len(text.split()) <= 3
        and len(previous.text.split()) <= 6
        and not text.endswith(":")
    ):
        return True  # a short list item wrapped in a narrow column
    if previous.bullet or previous.text.endswith((",", "&")):
        return starts_low or bool(dangling)
    return starts_low and len(previous.text.split()) >= 4


def _heading_section(line: Line) -> tuple[str | None, str]:
    """(section, inline content) when the line is a heading, e.g. "Skills: Phonics, EYFS" → ("skills", "...")."""
    if line.bullet:
        return None, ""
    cell = re.match(r"^(.{3,40}?)(?:\t+|\s{3,})(\S.*)$", line.text)  # a table row: heading cell, content cell
    if cell and vocab.heading_key(cell.group(1)) in vocab.HEADING_LOOKUP:
        return vocab.HEADING_LOOKUP[vocab.heading_key(cell.group(1))], cell.group(2).strip()
    if len(line.text) > 60:
        return None, ""
    key = vocab.heading_key(line.text)
    if key in vocab.HEADING_LOOKUP:
        return vocab.HEADING_LOOKUP[key], ""
    label = LABEL_RE.match(line.text)
    if label:
        key = vocab.heading_key(label.group(1))
        if key in vocab.HEADING_LOOKUP and vocab.HEADING_LOOKUP[key] in (
            "skills",
            "interests",
            "qualifications",
        ):
            return vocab.HEADING_LOOKUP[key], label.group(2).strip()
    return None, ""


def _release_non_referee_lines(lines: list[Line]) -> None:
    """In the references section only referee blocks (a cue line and the contact lines under it) stay there;
    anything else — typically page-header text that extraction appends at the end — is contact material."""
    in_block = on_request = False
    for line in lines:
        if line.section != "references" or line.heading:
            in_block = on_request = False
            continue
        on_request = on_request or bool(REFERENCES_LINE.match(line.text))
        if on_request:  # "References available on request": no referee details follow
            line.section = "contact"
        elif REFEREE_CUE.search(line.text):
            in_block = True
        elif in_block and (
            EMAIL_RE.search(line.text) or PHONE_RUN.search(line.text) or POSTCODE_RE.search(line.text)
        ):
            continue
        else:
            in_block = False
            line.section = "contact"


def _assign_sections(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    section = "header"
    for line in lines:
        found, inline = _heading_section(line)
        if found:
            section = found
            out.append(Line(line.index, line.text, False, section, heading=True))
            if inline:
                out.append(Line(line.index, inline, False, section))
            continue
        if REFERENCES_LINE.match(line.text):
            out.append(Line(line.index, line.text, line.bullet, "references"))
            continue
        line.section = section
        out.append(line)
    _release_non_referee_lines(out)
    return out


# ---------------------------------------------------------------- contacts


def _label(line: str) -> tuple[str | None, str]:
    match = LABEL_RE.match(line)
    if not match:
        return None, line
    return vocab.LABEL_LOOKUP.get(vocab.heading_key(match.group(1))), match.group(2).strip()


def _labelled_parts(line: str) -> list[tuple[str | None, str]]:
    """A contact line may hold several "Label: value" parts separated by pipes or wide gaps."""
    return [_label(part) for part in re.split(r"\s*\|\s*|\t+|\s{3,}", line) if part.strip()]


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _find_email(lines: list[Line]) -> str | None:
    """The first valid address outside referee blocks."""
    found = (
        normalise_email(m.group(0))
        for ln in lines
        if ln.section != "references"
        for m in EMAIL_RE.finditer(ln.text)
    )
    return next((email for email in found if email), None)


def _phone_candidates(line: Line) -> list[tuple[int, str]]:
    """(score, E.164) for phones on a line: WhatsApp label 3, mobile label 2, mobile number 1, other 0."""
    found: list[tuple[int, str]] = []
    lower = line.text.lower()
    for match in PHONE_RUN.finditer(line.text):
        run = match.group(0)
        number = parse_phone(run) if _digit_count(run) >= 10 and not is_date_like(run) else None
        if number is None:
            continue
        # Only the label nearest to this number counts: the text since the previous digit.
        label = re.split(r"\d", lower[max(0, match.start() - 30) : match.start()])[-1]
        if "whatsapp" in label:
            score = 3
        elif re.search(r"\b(mobile|mob|m|cell)\b", label):
            score = 2
        elif phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE or (
            number.country_code == 44 and str(number.national_number).startswith("7")
        ):
            score = 1
        else:
            score = 0
        found.append((score, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)))
    return found


def _find_phone(lines: list[Line]) -> str | None:
    """The best-scoring phone outside referee blocks (the first one on a tie)."""
    found = [
        (score, -line.index, phone)
        for line in lines
        if line.section != "references"
        for score, phone in _phone_candidates(line)
    ]
    return max(found)[2] if found else None


def _strip_postcode(text: str) -> str:
    return _trim(POSTCODE_RE.sub("", text))


def _town_from_address(value: str, is_known_town: TownCheck) -> str | None:
    value = re.sub(r"\(.*?\)", "", value)
    parts = [_strip_postcode(p) for p in re.split(r"\s*[,|]\s*|\s+-\s+", value)]
    parts = [p for p in parts if p and p.lower() not in vocab.COUNTIES]
    for part in reversed(parts):
        if is_known_town(part):
            return part
    for part in reversed(parts):
        words = part.split()
        street = re.search(r"\b(street|road|avenue|lane|close|drive|way|flat|house)\b", part, re.I)
        if 1 <= len(words) <= 4 and not re.search(r"\d", part) and not street:
            return part
    return None


def _find_location(lines: list[Line], is_known_town: TownCheck) -> tuple[str | None, str | None, str | None]:
    """(town, address, postcode) from labelled lines, the postcode's line, then contact-like lines."""
    personal = [ln for ln in lines if ln.section not in ("employment", "education", "references")]
    address = town = postcode = None
    for line in personal:
        for key, value in _labelled_parts(line.text):
            if key == "address" and value and not town:
                address, town = value, _town_from_address(value, is_known_town)
            elif key == "postcode" and value and not postcode:
                postcode = normalise_postcode(value)
    for line in personal:
        match = POSTCODE_RE.search(line.text)
        if match and (postcode is None or normalise_postcode(match.group(0)) == postcode):
            postcode = postcode or normalise_postcode(match.group(0))
            if not town:
                value = _label(line.text)[1] if _label(line.text)[0] else line.text
                segment = next(
                    (s for s in re.split(r"\s*\|\s*|\t+|\s{3,}", value) if POSTCODE_RE.search(s)), value
                )
                address, town = segment, _town_from_address(segment, is_known_town)
            break
    if not town:
        # A town named alone counts only among contact details: "Reading, hiking ..." is an interest.
        with_contacts = [ln for ln in personal if EMAIL_RE.search(ln.text) or PHONE_RUN.search(ln.text)]
        contact_like = with_contacts + [ln for ln in personal if ln.section in ("header", "contact")]
        for line in contact_like:
            if len(line.text) > 80 or line.heading:
                continue
            for part in re.split(r"\s*[,|•·]\s*|\t+|\s{3,}", _label(line.text)[1]):
                part = _trim(part)
                if part and is_known_town(part):
                    return part, address, postcode
    return town, address, postcode


# ---------------------------------------------------------------- name


def _name_tokens(text: str) -> list[str] | None:
    text = re.split(r"\s*\|\s*|\s+-\s+|\t|\s{3,}", text.strip())[0].strip(" .:")
    tokens = [t for t in text.split() if t.lower().strip(".") not in vocab.NAME_TITLES]
    if not 2 <= len(tokens) <= 4:
        return None
    for token in tokens:
        if not re.fullmatch(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?", token) or not token[0].isupper():
            return None
    lowered = {t.lower() for t in tokens}
    if (
        lowered & (vocab.ROLE_HEAD_NOUNS | vocab.EMPLOYER_HEAD_NOUNS)
        or vocab.heading_key(text) in vocab.HEADING_LOOKUP
    ):
        return None
    return [title_case_name(t) if t.isupper() and len(t) > 1 else t for t in tokens]


def _name_candidates(lines: list[Line]) -> list[tuple[int, Line, list[str], list[int]]]:
    """(rank, line, tokens, line indices) for every line that could be the name, including a name wrapped
    over two lines ("Callum James" / "Davies" in a narrow sidebar)."""
    body = [ln for ln in lines if not CV_TITLE.match(ln.text) and not ln.bullet and not ln.heading]
    found = []
    for rank, line in enumerate(body):
        tokens = _name_tokens(line.text)
        if tokens:
            found.append((rank, line, tokens, [line.index]))
        following = body[rank + 1] if rank + 1 < len(body) else None
        if following and following.index == line.index + 1 and len(line.text.split()) <= 3:
            joined = _name_tokens(f"{line.text} {following.text}")
            if joined and len(following.text.split()) == 1:
                found.append((rank, line, joined, [line.index, following.index]))
    return found


def _find_name(
    lines: list[Line], email: str | None, is_known_town: TownCheck
) -> tuple[list[str], list[int]] | None:
    """(name tokens, line indices): a labelled name, else the best-scoring name-like line — near the top,
    agreeing with the e-mail address, outside body sections (a sidebar may put the name after the skills)."""
    for line in lines:
        key, value = _label(line.text)
        if key == "name" and value:
            tokens = _name_tokens(value) or value.split()
            if tokens:
                return tokens, [line.index]
    local = fold(email.split("@")[0]).replace(" ", "") if email else ""
    best: tuple[float, list[str], list[int]] | None = None
    for rank, line, tokens, indices in _name_candidates(lines):
        if is_known_town(" ".join(tokens)) or vocab.qualification_labels(line.text):
            continue
        if any(pattern.search(line.text) for pattern, _ in vocab.SKILL_RE):
            continue
        score = 1.0 + (2 if rank == 0 else 0) + (1 if rank < 3 else 0) + 0.1 * (len(tokens) - 2)
        if line.section in ("skills", "qualifications", "education", "employment", "interests", "other"):
            score -= 1
        if local and any(len(t) >= 3 and fold(t).replace(" ", "") in local for t in tokens):
            score += 3
        if best is None or score > best[0]:
            best = (score, tokens, indices)
    return (best[1], best[2]) if best else None


def _tagline(lines: list[Line], after: int) -> tuple[int | None, list[str]]:
    """The titles line right under the name ("Primary Teacher | SENCo"), as (line index, titles)."""
    following = next((ln for ln in lines if ln.index > after and not ln.heading), None)
    if following is None or len(following.text) >= 100:
        return None, []
    parts = [p for p in re.split(r"\s*[|/,•·]\s*|\s+-\s+", following.text) if p.strip()]
    if parts and all(_is_role(p) and not find_date_range(p) for p in parts):
        return following.index, clean_list(parts)
    return None, []


# ---------------------------------------------------------------- jobs


def _head_noun(text: str) -> str:
    words = re.findall(r"[A-Za-z][A-Za-z'’\-]*|\)", text.lower())
    words = [w for w in words if w != ")"]
    return words[-1] if words else ""


def _is_role(segment: str) -> bool:
    head = _head_noun(re.sub(r"\(.*?\)", "", segment))
    if head in vocab.EMPLOYER_HEAD_NOUNS and head not in vocab.ROLE_HEAD_NOUNS:
        return False
    return head in vocab.ROLE_HEAD_NOUNS or bool(vocab.ROLE_PHRASES.match(segment.strip()))


def _is_employer(segment: str) -> bool:
    head = _head_noun(segment)
    if head in vocab.ROLE_HEAD_NOUNS and not re.search(
        r"\b(ltd|limited|plc|school|academy|trust)\b", segment, re.I
    ):
        return False
    return head in vocab.EMPLOYER_HEAD_NOUNS or bool(vocab.EMPLOYER_PHRASES.search(segment))


def _verb_initial(text: str) -> bool:
    first = (re.findall(r"[A-Za-z]+", text.lower()) or [""])[0]
    if first in _NOT_VERBS:
        return False
    return first in _IRREGULAR_VERBS or (len(first) > 4 and (first.endswith("ed") or first.endswith("ing")))


def _is_job_header(line: Line, is_known_town: TownCheck) -> bool:
    if find_date_range(line.text):
        return not line.bullet or len(line.text) < 80
    if not line.bullet and is_known_town(_trim(line.text)):
        return True  # "Leeds" on its own line: the end of a wrapped employer line
    if (
        line.bullet
        or len(line.text.split()) > 14
        or line.text.rstrip().endswith(".")
        or _verb_initial(line.text)
    ):
        return False
    return any(_is_role(s) or _is_employer(s) for s in _segments(line.text))


def _segments(text: str) -> list[str]:
    parts: list[str] = []
    for piece in SEGMENT_SPLIT.split(text):
        piece = _trim(piece)
        if not piece:
            continue
        at = re.split(r"\s+(?:at|@|with)\s+", piece, maxsplit=1)
        if len(at) == 2 and _is_role(at[0]):
            parts.extend(_trim(p) for p in at)
            continue
        commas = [_trim(c) for c in piece.split(",")]
        if len(commas) > 1 and sum(_is_role(c) or _is_employer(c) for c in commas) >= 1:
            parts.extend(c for c in commas if c)
        else:
            parts.append(piece)
    return parts


def _split_groups(lines: list[Line], is_anchor: Callable[[Line], bool]) -> list[list[Line]]:
    """Split a run of header lines holding several anchors (dates) into one group per anchor.

    The number of lines before the first anchor is the pattern every entry repeats.
    """
    anchors = [i for i, ln in enumerate(lines) if is_anchor(ln)]
    if len(anchors) <= 1:
        return [lines]
    before = anchors[0]
    starts = [max(0, a - before) for a in anchors]
    starts[0] = 0
    return [lines[s:e] for s, e in zip(starts, [*starts[1:], len(lines)], strict=True) if lines[s:e]]


def _job_from_header(group: list[Line], today: date, is_known_town: TownCheck) -> ParsedJob:
    date_text = ""
    segments: list[str] = []
    for line in group:
        text = line.text
        span = None if date_text else find_date_range(text)
        if span:
            date_text = text[span[0] : span[1]].strip()
            text = text[: span[0]] + " | " + text[span[1] :]
            text = re.sub(r"\(\s*\|\s*\)", " | ", text)
        segments.extend(_segments(text))
    role = employer = location = ""
    rest: list[str] = []
    for seg in segments:
        if not location and (is_known_town(seg) or seg.lower() in vocab.COUNTIES) and not _is_employer(seg):
            location = seg
        elif not role and _is_role(seg):
            role = seg
        elif not employer and _is_employer(seg):
            employer = seg
        elif not re.fullmatch(r"[\W\d]*", seg):
            rest.append(seg)
    if not role and rest:
        role = rest.pop(0)
    if not employer and rest:
        employer = rest.pop(0)
    start = end = None
    if date_text:
        span, _ = parse_date_range(date_text, today)
        if span:
            start = month_text(span.start)
            is_now = re.search(r"\b(present|current|now|date|ongoing|today)\b", date_text, re.I)
            end = "present" if is_now else month_text(span.end)
    return ParsedJob(role, employer, date_text, start, end, location=location)


def _responsibility(text: str) -> str | None:
    text = clean_line(text).strip(" ;")
    if not text or re.fullmatch(
        r"(key )?(responsibilities|duties|achievements)( included| include)?:?", text, re.I
    ):
        return None
    return text


def _parse_jobs(lines: list[Line], today: date, is_known_town: TownCheck) -> list[ParsedJob]:
    jobs: list[ParsedJob] = []
    run: list[Line] = []

    def flush() -> None:
        if run:
            for group in _split_groups(run, lambda ln: bool(find_date_range(ln.text))):
                job = _job_from_header(group, today, is_known_town)
                if job.date_text or (_is_role(job.role) and _is_employer(job.employer)):
                    jobs.append(job)
            run.clear()

    for line in lines:
        if line.heading:
            continue
        if _is_job_header(line, is_known_town):
            run.append(line)
            continue
        flush()
        item = _responsibility(line.text)
        if item and jobs and not re.search(r":$", line.text):
            jobs[-1].responsibilities.append(item)
    flush()
    return jobs


def _sort_newest_first(jobs: list[ParsedJob]) -> list[ParsedJob]:
    def key(job: ParsedJob) -> tuple[str, str]:
        end = "9999-99" if job.end == "present" else (job.end or "")
        return end, job.start or ""

    return sorted(jobs, key=key, reverse=True)


# ---------------------------------------------------------------- education, qualifications, skills


def _strip_dates(text: str) -> str:
    span = find_date_range(text)
    if span:
        text = text[: span[0]] + text[span[1] :]
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    return _trim(text)


def _education_entry(group: list[Line]) -> ParsedEducation:
    date_text = ""
    segments: list[str] = []
    for line in group:
        span = None if date_text else find_date_range(line.text)
        text = line.text
        if span:
            date_text = text[span[0] : span[1]].strip()
            text = text[: span[0]] + " | " + text[span[1] :]
        segments.extend(_trim(s) for s in re.split(r"\s*\|\s*|\t+|\s{3,}|\s+-\s+", text))
    segments = [s for s in segments if s and not re.fullmatch(r"[\W\d]*", s)]
    institution = next(
        (s for s in segments if vocab.INSTITUTION_WORDS.search(s) and not vocab.DEGREE_WORDS.match(s)), ""
    )
    if not institution:
        # "PGCE Primary, University of Leeds": the institution may share a segment with the qualification.
        for s in segments:
            parts = [p.strip() for p in s.split(",")]
            for i, part in enumerate(parts[1:], start=1):
                if vocab.INSTITUTION_WORDS.search(part):
                    institution = ", ".join(parts[i:])
                    segments[segments.index(s)] = ", ".join(parts[:i])
                    break
            if institution:
                break
    others = [s for s in segments if s != institution]
    qualification = next(
        (s for s in others if vocab.DEGREE_WORDS.search(s) or vocab.qualification_labels(s)), ""
    )
    qualification = qualification or (others[0] if others else "")
    return ParsedEducation(qualification, institution, date_text)


def _parse_education(lines: list[Line]) -> tuple[list[ParsedEducation], list[str]]:
    entries: list[ParsedEducation] = []
    quals: list[str] = []
    run: list[Line] = []

    def flush() -> None:
        if not run:
            return
        if any(vocab.INSTITUTION_WORDS.search(ln.text) for ln in run):
            anchor = (
                (lambda ln: bool(find_date_range(ln.text)))
                if any(find_date_range(ln.text) for ln in run)
                else (lambda ln: bool(vocab.INSTITUTION_WORDS.search(ln.text)))
            )
            entries.extend(_education_entry(g) for g in _split_groups(run, anchor))
        else:
            quals.extend(_strip_dates(ln.text) for ln in run)
        run.clear()

    for line in lines:
        if line.heading:
            flush()
            continue
        if line.bullet:
            flush()
            if vocab.INSTITUTION_WORDS.search(line.text) and (find_date_range(line.text) or "," in line.text):
                entries.append(_education_entry([line]))
            else:
                quals.append(_strip_dates(line.text))
            continue
        if line.section == "qualifications" and not vocab.INSTITUTION_WORDS.search(line.text):
            flush()
            quals.append(_strip_dates(line.text))
            continue
        run.append(line)
    flush()
    return entries, [q for q in quals if q and len(q) <= 300]


def _split_items(text: str) -> list[str]:
    text = re.sub(r"^[A-Za-z /&]{1,25}:\s+(?=\S)", "", text)
    return [_trim(i, ".") for i in re.split(r"\s*[,;|•·]\s*|\t+|\s{3,}", text) if _trim(i, ".")]


# ---------------------------------------------------------------- main entry


def _is_contact_line(line: Line, name_tokens: list[str] | None) -> bool:
    text = line.text
    if EMAIL_RE.search(text) or URL_RE.search(text) or POSTCODE_RE.search(text):
        return True
    if any(_digit_count(m.group(0)) >= 10 and not is_date_like(m.group(0)) for m in PHONE_RUN.finditer(text)):
        return True
    key, _ = _label(text)
    if CV_WORDS.search(text) or key in ("name", "email", "phone", "address", "postcode"):
        return True
    return bool(name_tokens) and fold(text) == fold(" ".join(name_tokens))


def _job_titles(lines: list[Line], tagline: list[str], jobs: list[ParsedJob]) -> list[str]:
    """A "Target role:" label, else the tagline under the name, else the newest job's title."""
    for line in lines:
        key, value = _label(line.text)
        if key == "title" and value:
            return clean_list(re.split(r"\s*[|/,]\s*", value))
    return tagline or clean_list(job.role for job in jobs[:1])


def parse_cv(text: str, *, today: date, is_known_town: TownCheck | None = None) -> ParsedCV:
    """Parse extracted CV text into facts. Never raises on odd input: missing facts stay empty."""
    is_known_town = is_known_town or vocab.fallback_is_known_town
    lines = _assign_sections(_lines(text))
    cv = ParsedCV()
    if not lines:
        return cv

    cv.email = _find_email(lines)
    cv.phone = _find_phone(lines)
    cv.location, cv.address, cv.postcode = _find_location(lines, is_known_town)
    found = _find_name(lines, cv.email, is_known_town)
    tokens: list[str] | None = None
    taken: set[int] = set()  # name and tagline lines belong to no section
    tagline: list[str] = []
    if found:
        tokens, taken_lines = found
        cv.full_name = normalise_name(" ".join(tokens))
        parts = (cv.full_name or "").split()
        cv.given_name = parts[0] if parts else None
        cv.surname = " ".join(parts[1:]) or None
        taken.update(taken_lines)
        tagline_line, tagline = _tagline(lines, max(taken_lines))
        if tagline_line is not None:
            taken.add(tagline_line)

    def section(*names: str) -> list[Line]:
        return [
            ln
            for ln in lines
            if ln.section in names
            and not ln.heading
            and ln.index not in taken
            and not _is_contact_line(ln, tokens)
        ]

    employment = section("employment")
    if not any(find_date_range(ln.text) for ln in employment):
        cv.warnings.append("no_dated_employment_section")
        employment = [ln for ln in lines if ln.section in ("header", "other", "employment", "profile")]
        employment = [ln for ln in employment if not _is_contact_line(ln, tokens)]
    cv.jobs = _sort_newest_first(_parse_jobs(employment, today, is_known_town))

    cv.education, section_quals = _parse_education(section("education", "qualifications"))
    if section_quals:
        cv.qualifications = clean_list(section_quals)
    else:
        cv.qualifications = vocab.qualification_labels(
            " ".join(ln.text for ln in lines if ln.section != "employment")
        )

    skill_lines = section("skills")
    if skill_lines:
        cv.skills = clean_list(item for ln in skill_lines for item in _split_items(ln.text))
    else:
        corpus = " ".join(ln.text for ln in lines)
        cv.skills = [term for pattern, term in vocab.SKILL_RE if pattern.search(corpus)]
    cv.skills = [s for s in cv.skills if len(s) <= 100]

    profile = [ln.text for ln in section("profile")]
    if not profile:
        profile = [
            ln.text for ln in section("header") if len(ln.text.split()) >= 12 and not find_date_range(ln.text)
        ]
    cv.profile_text = " ".join(profile).strip()
    interests = " ".join(ln.text for ln in section("interests"))
    cv.interests = interests or None
    for line in lines:
        key, value = _label(line.text)
        if key == "availability" and value:
            cv.availability = value
            break
    else:
        available = next(
            (
                ln.text
                for ln in section("header", "profile", "contact", "other")
                if AVAILABLE_RE.search(ln.text) and len(ln.text) < 120
            ),
            "",
        )
        cv.availability = available
    stated = YEARS_STATED.search(cv.profile_text)
    cv.stated_years = float(stated.group(1)) if stated else None
    cv.job_titles = _job_titles(lines, tagline, cv.jobs)
    return cv
