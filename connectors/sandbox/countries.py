"""Facts about the countries and currencies the sandbox economy trades in.

Facts, not settings: the config chooses which countries each region holds and how often; what a
country's currency, tax rate, time zones and locales are is fixed here so they stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    currency: str  # ISO 4217
    tax_rate: float  # standard VAT/GST, or a typical combined sales tax
    places: tuple[tuple[str, str], ...]  # (IANA time zone, locale) pairs that occur together
    language: str  # picks name and street word lists (connectors/sandbox/names.py)
    legal_suffixes: tuple[str, ...]
    phone_prefix: str
    postal_format: str  # "9" digit, "A" letter, anything else literal


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country(
            "US", "USD", 0.07,
            (("America/New_York", "en_US"), ("America/Chicago", "en_US"), ("America/Denver", "en_US"),
             ("America/Los_Angeles", "en_US")),
            "en", ("Inc.", "LLC", "Corp."), "+1", "99999",
        ),
        Country(
            "CA", "CAD", 0.13,
            (("America/Toronto", "en_CA"), ("America/Toronto", "fr_CA"), ("America/Vancouver", "en_CA")),
            "en", ("Inc.", "Ltd.", "Corp."), "+1", "A9A 9A9",
        ),
        Country("GB", "GBP", 0.20, (("Europe/London", "en_GB"),), "en", ("Ltd", "PLC", "LLP"), "+44", "AA9 9AA"),
        Country("DE", "EUR", 0.19, (("Europe/Berlin", "de_DE"),), "de", ("GmbH", "AG", "KG"), "+49", "99999"),
        Country("FR", "EUR", 0.20, (("Europe/Paris", "fr_FR"),), "fr", ("SARL", "SAS", "SA"), "+33", "99999"),
        Country("NL", "EUR", 0.21, (("Europe/Amsterdam", "nl_NL"),), "nl", ("B.V.", "N.V."), "+31", "9999 AA"),
        Country("ES", "EUR", 0.21, (("Europe/Madrid", "es_ES"),), "es", ("S.L.", "S.A."), "+34", "99999"),
        Country("JP", "JPY", 0.10, (("Asia/Tokyo", "ja_JP"),), "ja", ("K.K.", "G.K."), "+81", "999-9999"),
        Country(
            "AU", "AUD", 0.10, (("Australia/Sydney", "en_AU"), ("Australia/Perth", "en_AU")),
            "en", ("Pty Ltd",), "+61", "9999",
        ),
        Country("SG", "SGD", 0.09, (("Asia/Singapore", "en_SG"),), "en", ("Pte. Ltd.",), "+65", "999999"),
    )
}


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    minor_digits: int  # ISO 4217 minor unit: amounts are rounded to it
    usd_per_unit: float  # usual level, around which the sandbox's daily rate wanders
    alias: str  # a non-ISO spelling some systems and people use (the "wrong currency code" defect)

    @property
    def minor_per_unit(self) -> int:
        return 10**self.minor_digits


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("USD", 2, 1.0, "US$"),
        Currency("EUR", 2, 1.08, "EURO"),
        Currency("GBP", 2, 1.27, "STG"),
        Currency("CAD", 2, 0.73, "C$"),
        Currency("JPY", 0, 0.0066, "YEN"),
        Currency("AUD", 2, 0.66, "A$"),
        Currency("SGD", 2, 0.74, "S$"),
    )
}
