"""Hand-written CV profiles with distinctive text, for renderer-based tests and benchmarks.

Every line is unique in the CV, so a test can find each one and check the order the extractor reads them in.
"""

from tests.cvgen.model import CVProfile, Education, Job


def sample_profile(*, has_photo: bool = False, layout: str = "txt") -> CVProfile:
    jobs = [
        Job(
            "Year 4 Class Teacher",
            "Oakfield Primary School",
            "2021-09",
            "present",
            "Sept 2021 – Present",
            [
                "Planned a knowledge-rich Year 4 curriculum with the phase team",
                "Led the school's reading for pleasure initiative",
                "Tracked attainment and ran targeted maths interventions",
            ],
            location="Leeds",
        ),
        Job(
            "Teaching Assistant",
            "Hawthorn Junior School",
            "2018-01",
            "2021-07",
            "Jan 2018 – Jul 2021",
            [
                "Delivered Read Write Inc phonics groups every morning",
                "Supported two pupils with EHCPs on a one-to-one basis",
            ],
        ),
        Job(
            "Play Leader",
            "Sunnyside After School Club",
            "2016-06",
            "2017-12",
            "June 2016 - December 2017",
            ["Organised outdoor games for children aged five to eleven"],
        ),
    ]
    return CVProfile(
        full_name="Harriet Quinlan",
        given_name="Harriet",
        surname="Quinlan",
        email="harriet.quinlan@example.org",
        phone="07700 900123",
        phone_e164="+447700900123",
        location="Leeds",
        postcode="LS6 2AB",
        address_line="14 Cardigan Road",
        job_titles=["Year 4 Class Teacher"],
        skills=["Guided reading", "Makaton signing", "Google Classroom", "Behaviour management"],
        qualifications=["Qualified Teacher Status (QTS)", "Enhanced DBS", "Paediatric First Aid"],
        jobs=jobs,
        education=[
            Education("PGCE Primary with QTS", "Leeds Beckett University", "2020 – 2021"),
            Education("BA (Hons) Childhood Studies", "University of Huddersfield", "2013 – 2016"),
        ],
        profile_text="Reflective primary teacher who builds calm, purposeful classrooms where every child reads widely.",
        interests="Fell running and community choir",
        total_months=115,  # merged months to January 2026
        has_photo=has_photo,
        layout=layout,
    )
