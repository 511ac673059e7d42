"""The ground truth of one fictional CV. Renderers write it; the accuracy harness compares parser output to it."""

from dataclasses import dataclass, field


@dataclass
class Job:
    role: str
    employer: str
    start: str  # "YYYY-MM"
    end: str  # "YYYY-MM" or "present"
    date_text: str  # how this CV writes the range, e.g. "Sept 2019 – Present", "2015-2018"
    responsibilities: list[str] = field(default_factory=list)
    location: str = ""


@dataclass
class Education:
    qualification: str  # e.g. "PGCE Primary with QTS"
    institution: str
    date_text: str  # e.g. "2014 – 2015"


@dataclass
class CVProfile:
    full_name: str
    given_name: str
    surname: str
    email: str
    phone: str  # as written on the CV
    phone_e164: str  # expected normalised value
    location: str  # town/city as the CV states it
    postcode: str | None  # normalised "AB1 2CD" when the CV states one
    address_line: str | None  # street address when the CV states one
    job_titles: list[str]
    skills: list[str]
    qualifications: list[str]  # UK vocabulary: QTS, PGCE, NPQH, HLTA, Level 3 TA, DBS, Team Teach, ...
    jobs: list[Job]  # newest first
    education: list[Education]
    profile_text: str
    interests: str | None
    total_months: int  # experience from merged job periods at month precision (pipeline.md §7.2)
    has_photo: bool = False
    layout: str = "txt"  # which renderer wrote it
    expected_quality: str = "pass"  # "pass" | "fail" | "manual review"
