"""Fictional, labelled CVs for tests, the accuracy harness (make eval) and benchmarks.

``profile.py`` makes a random but realistic ``CVProfile`` (the ground truth); the ``render_*`` modules write it
in the layouts real CVs come in (two-column and sidebar PDFs, DOCX tables and headers, ODT, RTF, TXT, scans).
"""
