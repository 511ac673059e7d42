"""Serializer fields shared by the organisation endpoints: codes-or-labels enums and validated numbers."""

import math

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.imports.organizations import normalise_gender, normalise_phase

from .models import Gender, Phase


class CodeOrLabelField(serializers.Field):
    """An enum given as its code or display label, case-insensitively (``Primary``, ``16_plus``, ``16 plus``).

    Unknown values are a 400 naming the accepted codes (api.md §1.1: enumerated filters are validated).
    """

    def __init__(self, choices, normaliser, **kwargs):
        self.choices_enum = choices
        self.normaliser = normaliser
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail_invalid()
        text = data.strip()
        if not text:
            if self.allow_null:
                return None
            self.fail_invalid()
        code, recognised = self.normaliser(text)
        if not recognised:
            self.fail_invalid()
        return code

    def fail_invalid(self):
        codes = ", ".join(self.choices_enum.values)
        raise serializers.ValidationError(f"Unknown value. Use one of: {codes} (or their labels).")

    def to_representation(self, value):
        return value


@extend_schema_field(
    {"type": "string", "description": "Code or label, case-insensitive: " + ", ".join(Phase.values) + "."}
)
class PhaseField(CodeOrLabelField):
    def __init__(self, **kwargs):
        super().__init__(Phase, normalise_phase, **kwargs)


@extend_schema_field(
    {"type": "string", "description": "Code or label, case-insensitive: " + ", ".join(Gender.values) + "."}
)
class GenderField(CodeOrLabelField):
    def __init__(self, **kwargs):
        super().__init__(Gender, normalise_gender, **kwargs)


class FiniteFloatField(serializers.FloatField):
    """A float that must be finite (``nan``/``inf`` are not numbers a client means)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("A finite number is required.")
        return value


class TrimmedCharField(serializers.CharField):
    """Text filter: trimmed; blank means "no filter"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 255)
        super().__init__(**kwargs)
