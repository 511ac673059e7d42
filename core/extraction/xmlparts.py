"""Safe XML parsing for the parts of DOCX and ODT packages."""

from lxml import etree

from core.extraction.errors import CORRUPT_FILE, ExtractionError, describe


def parse_xml(data: bytes, part: str) -> etree._Element:
    """The root element of one package part; malformed XML is ``corrupt_file``."""
    # No DTDs, no entity expansion, no network; libxml2's depth and size guards stay on (huge_tree off).
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ExtractionError(
            CORRUPT_FILE, f"The document part {part} is not well-formed XML.", describe(exc)
        )


def local_name(element: etree._Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
