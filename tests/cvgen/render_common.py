"""What every renderer writes the same way: section headings, contact details, job lines, and the images.

Headings vary per CV (chosen from the name, so a profile always renders the same) the way real CVs vary:
"Employment History", "Experience", "Work Experience", ... Images are drawn with Pillow: a portrait photo
(when ``has_photo``), a wide school logo and small contact icons, which the photo extractor must not pick.
"""

import hashlib
import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.cvgen.model import CVProfile, Job

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

HEADINGS = {
    "profile": ["Personal Statement", "Profile", "Professional Profile", "About Me", "Personal Profile"],
    "experience": ["Employment History", "Experience", "Work Experience", "Professional Experience",
                   "Career History"],
    "education": ["Education", "Education and Training", "Academic Qualifications"],
    "qualifications": ["Qualifications", "Qualifications & Training", "Certificates and Training"],
    "skills": ["Skills", "Key Skills", "Core Skills"],
    "interests": ["Interests", "Hobbies & Interests", "Hobbies"],
    "contact": ["Contact", "Contact Details", "Personal Details"],
}  # fmt: skip


def rng_for(profile: CVProfile, purpose: str = "") -> random.Random:
    """A generator seeded by the profile, so rendering is deterministic."""
    digest = hashlib.sha256(f"{profile.full_name}|{profile.email}|{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def headings(profile: CVProfile) -> dict[str, str]:
    rng = rng_for(profile, "headings")
    return {key: rng.choice(options) for key, options in HEADINGS.items()}


def address(profile: CVProfile) -> str:
    """The address as one line: street, town, postcode (parts the CV states)."""
    return ", ".join(part for part in (profile.address_line, profile.location, profile.postcode) if part)


def contact_items(profile: CVProfile) -> list[tuple[str, str]]:
    """(label, value) pairs in the order CVs list them; the e-mail is absent when the CV has none."""
    items = [("Email", profile.email), ("Phone", profile.phone), ("Address", address(profile))]
    return [(label, value) for label, value in items if value]


def contact_line(profile: CVProfile) -> str:
    return " | ".join(value for _, value in contact_items(profile))


def job_title_line(job: Job) -> str:
    place = f", {job.location}" if job.location else ""
    return f"{job.role}, {job.employer}{place}"


@dataclass
class Images:
    photo: bytes | None  # JPEG portrait when the profile has a photo
    logo: bytes  # wide PNG school logo
    icon: bytes  # small PNG contact icon


def images(profile: CVProfile) -> Images:
    return Images(photo_jpeg(profile) if profile.has_photo else None, logo_png(profile), icon_png())


def photo_jpeg(profile: CVProfile, size: tuple[int, int] = (300, 360)) -> bytes:
    """A synthetic head-and-shoulders portrait (textured, so it encodes to well over 2 KB)."""
    rng = rng_for(profile, "photo")
    width, height = size
    image = Image.new("RGB", size)
    top, bottom = [tuple(rng.randint(60, 220) for _ in range(3)) for _ in range(2)]
    pixels = ImageDraw.Draw(image)
    for y in range(height):
        mix = y / height
        pixels.line(
            [(0, y), (width, y)], fill=tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        )
    skin = rng.choice([(241, 194, 167), (198, 134, 103), (141, 85, 62), (224, 172, 105), (92, 58, 40)])
    pixels.ellipse(
        [width * 0.1, height * 0.62, width * 0.9, height * 1.3],
        fill=tuple(rng.randint(20, 120) for _ in range(3)),
    )
    pixels.ellipse([width * 0.3, height * 0.18, width * 0.7, height * 0.62], fill=skin)
    for _ in range(400):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels.point((x, y), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    image = image.filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def logo_png(profile: CVProfile) -> bytes:
    """A wide school logo banner with the latest employer's initials."""
    employer = profile.jobs[0].employer if profile.jobs else "St Mary's School"
    initials = "".join(word[0] for word in employer.split() if word[:1].isalpha())[:4] or "SCH"
    image = Image.new("RGB", (360, 110), (20, 60, 120))
    draw = ImageDraw.Draw(image)
    draw.ellipse([10, 10, 100, 100], fill=(230, 190, 40))
    draw.text((120, 30), initials, fill=(255, 255, 255), font=font(40, bold=True))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def icon_png() -> bytes:
    """A 24×24 contact icon (an envelope)."""
    image = Image.new("RGBA", (24, 24), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle([2, 6, 21, 18], outline=(40, 40, 40), width=2)
    draw.line([(2, 6), (12, 13), (21, 6)], fill=(40, 40, 40), width=2)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size)


def with_suffix(path: Path | str, suffix: str) -> Path:
    """``path`` with the renderer's extension (callers may pass a stem)."""
    path = Path(path)
    return path if path.suffix == suffix else path.with_name(path.name + suffix)


@dataclass
class Block:
    """One unit of a CV in reading order; flow renderers (TXT, RTF, DOCX, ODT) lay these out their own way."""

    kind: str  # title | subtitle | contact | heading | para | job | bullet | edu
    text: str
    extra: str = ""  # job/edu: the date text; edu: institution in ``detail``
    detail: str = ""


def outline(profile: CVProfile, *, contact: bool = True) -> list[Block]:
    """The CV's content in reading order; ``contact=False`` when the layout puts contacts elsewhere."""
    rng = rng_for(profile, "outline")
    names = headings(profile)
    blocks = [Block("title", profile.full_name)]
    if profile.job_titles:
        blocks.append(Block("subtitle", profile.job_titles[0]))
    if contact:
        blocks.append(Block("contact", contact_line(profile)))
    blocks += [Block("heading", names["profile"]), Block("para", profile.profile_text)]
    if profile.jobs:
        blocks.append(Block("heading", names["experience"]))
        for job in profile.jobs:
            blocks.append(Block("job", job_title_line(job), job.date_text))
            blocks += [Block("bullet", duty) for duty in job.responsibilities]
    if profile.education:
        blocks.append(Block("heading", names["education"]))
        blocks += [Block("edu", e.qualification, e.date_text, e.institution) for e in profile.education]
    if profile.qualifications:
        blocks.append(Block("heading", names["qualifications"]))
        blocks += [Block("bullet", q) for q in profile.qualifications]
    if profile.skills:
        blocks.append(Block("heading", names["skills"]))
        if rng.random() < 0.5:
            blocks += [Block("bullet", s) for s in profile.skills]
        else:
            blocks.append(Block("para", ", ".join(profile.skills)))
    if profile.interests:
        blocks += [Block("heading", names["interests"]), Block("para", profile.interests)]
    return blocks
