"""factory-boy factories for batches and candidates (shared by the candidates tests).

``CandidateFactory`` keeps ``search_text`` in step with the searchable fields, as every real write path does.
``store(name, data)`` puts a file into the configured storage (S3 in the services profile, local otherwise).
"""

import hashlib
import io
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from candidates.models import Availability, Batch, Candidate, Quality, Source, Stage
from candidates.search import refresh_search_text


def store(name: str, data: bytes) -> str:
    return default_storage.save(name, ContentFile(data))


def png_bytes(size=(240, 300), colour=(200, 40, 40), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, colour)
    buffer = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x010F] = "SecretCam"  # Make
        info[0x9286] = "private comment"  # UserComment
        image.save(buffer, "JPEG", exif=info.tobytes())
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def stored_cv_content(name="Sarah", roles=("Teaching Assistant",), location="Leeds") -> dict:
    """A stored AI result shaped like pipeline.md §6 (enough for rendering and rewrites)."""
    return {
        "status": "success",
        "message": "CV analysis completed.",
        "quality_check": "pass",
        "extracted_photo_url": None,
        "data_extracted": {
            "name": name,
            "role": list(roles),
            "location": location,
            "availability": "",
            "professional_profile": "An experienced teaching assistant.",
            "employment_history": [
                {
                    "date_range": "Sep 2019 - Present",
                    "role": "Teaching Assistant",
                    "company": "Oak Primary School",
                    "responsibilities": ["Supported phonics groups."],
                }
            ],
            "qualifications": ["Level 3 Supporting Teaching and Learning"],
            "interests": None,
            "email_subject": "Experienced Teaching Assistant",
            "email_body": "Sarah is an experienced teaching assistant.",
        },
        "personal_info": {"full_name": f"{name} Jones", "email": None, "whatsapp": None, "skill": []},
        "schema_version": 2,
    }


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    uploaded_count = 0
    additional_info = factory.LazyFunction(dict)
    files = factory.LazyFunction(list)


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Candidate{n} Surname{n}")
    name_without_surname = factory.LazyAttribute(lambda o: o.name.split()[0] if o.name else "")
    email = factory.Sequence(lambda n: f"candidate{n}@example.org")
    whatsapp_number = None
    location = "Leeds"
    postcode = None
    years_of_experience = Decimal("3.5")
    skills = factory.LazyFunction(lambda: ["Phonics", "SEND support"])
    job_titles = factory.LazyFunction(lambda: ["Teaching Assistant"])
    source = Source.LOCAL_UPLOAD
    availability_status = Availability.AVAILABLE
    quality_status = Quality.PASSED
    processing_stage = Stage.DONE
    original_filename = factory.Sequence(lambda n: f"cv-{n}.pdf")
    file_type = "pdf"
    file_sha256 = factory.Sequence(lambda n: hashlib.sha256(f"cv-{n}".encode()).hexdigest())
    extracted_text = "Confidential CV text"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        candidate = model_class(*args, **kwargs)
        refresh_search_text(candidate)
        candidate.save(force_insert=True)
        return candidate

    @factory.post_generation
    def files(obj, create, extracted, **kwargs):
        """``files=True`` stores a real original, enhanced PDF and photo for the candidate."""
        if not (create and extracted):
            return
        obj.original_file = store(f"candidates/original/{obj.id}/{obj.file_sha256}.pdf", b"%PDF-1.7 original")
        obj.enhanced_cv = store(f"candidates/enhanced/{obj.id}/{'a' * 64}.pdf", b"%PDF-1.7 enhanced")
        obj.profile_photo = store(f"candidates/photos/{obj.id}/{'b' * 64}.jpg", png_bytes())
        obj.enhanced_cv_hash = "a" * 64
        obj.save(update_fields=["original_file", "enhanced_cv", "profile_photo", "enhanced_cv_hash"])
