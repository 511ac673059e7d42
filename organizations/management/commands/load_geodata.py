from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.geo.build import build_gazetteer
from core.geo.errors import GeoError


class Command(BaseCommand):
    help = "Build the offline gazetteer (ONS postcodes + GeoNames towns) under GEO_DATA_DIR; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rebuild even if an identical build exists.")
        parser.add_argument("--outward", action="append", help="Only these outward codes (small test data).")

    def handle(self, *args, force=False, outward=None, **options):
        try:
            info = build_gazetteer(
                settings.GEO_DATA_DIR, include_ni=settings.GEO_INCLUDE_NI, only_outwards=outward, force=force
            )
        except GeoError as exc:
            raise CommandError(exc.message)
        verb = "Built" if info.rebuilt else "Kept"
        self.stdout.write(
            f"{verb} gazetteer at {settings.GEO_DATA_DIR}: {info.counts.get('units', 0):,} postcodes, "
            f"{info.size_bytes / 1e6:.0f} MB, {info.seconds:.1f} s."
        )
