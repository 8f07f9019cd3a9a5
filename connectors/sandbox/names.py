"""Word lists and the small string makers that name the sandbox's companies, parties and products.

Everything takes a seeded `random.Random`, so names are reproducible. Emails use reserved example
domains and phone numbers the fictional ranges, so no generated contact can belong to anyone.
"""

from __future__ import annotations

import random
import re
import unicodedata

from connectors.sandbox.countries import COUNTRIES
from connectors.sandbox.model import Address

_BRAND_WORDS = (
    "Alder", "Beacon", "Birch", "Blue Harbor", "Brightwater", "Cedar", "Copper", "Crescent", "Driftwood",
    "Evergreen", "Falcon", "Fieldstone", "Golden Gate", "Granite", "Harbor", "Hawthorn", "Highland",
    "Ironwood", "Juniper", "Keystone", "Lakeside", "Lantern", "Maple", "Meridian", "Northwind", "Oakridge",
    "Orchard", "Pinnacle", "Prairie", "Quarry", "Redwood", "Ridgeline", "Riverbend", "Saffron", "Silverline",
    "Summit", "Sunrise", "Tidewater", "Timber", "Trillium", "Union", "Vanguard", "Westbrook", "Willow",
)

_SECTOR_WORDS = {
    "retail": ("Outfitters", "Goods", "Boutique", "Home", "Supply Store", "Mercantile"),
    "manufacturing": ("Fabrication", "Industries", "Components", "Works", "Machining", "Plastics"),
    "wholesale": ("Distribution", "Trading", "Wholesale", "Supply", "Imports", "Logistics"),
    "food_service": ("Kitchen", "Bakery", "Catering", "Bistro", "Coffee", "Provisions"),
    "software": ("Software", "Systems", "Labs", "Analytics", "Cloud", "Digital"),
}
_GENERIC_WORDS = ("Group", "Partners", "Company", "Enterprises", "Holdings", "Services")

_PRODUCT_WORDS = {
    "retail": (("Canvas", "Linen", "Wool", "Leather", "Ceramic", "Bamboo", "Cotton"),
               ("Tote", "Scarf", "Mug", "Candle", "Throw", "Backpack", "Wallet", "Planter", "Lamp")),
    "manufacturing": (("Steel", "Aluminium", "Brass", "Nylon", "Carbon", "Hardened"),
                      ("Bracket", "Flange", "Bearing", "Gasket", "Housing", "Shaft", "Valve", "Coupling")),
    "wholesale": (("Bulk", "Case of 12", "Pallet", "Carton", "Box of 50"),
                  ("Paper Towels", "Gloves", "Batteries", "Cable Ties", "Cleaner", "Labels", "Tape")),
    "food_service": (("Organic", "Fresh", "House", "Roasted", "Seasonal", "Artisan"),
                     ("Coffee Beans", "Sourdough", "Salad Mix", "Olive Oil", "Pasta", "Cheese", "Tea")),
    "software": (("Standard", "Pro", "Team", "Enterprise", "Starter"),
                 ("Licence", "Seat", "Support Plan", "Subscription", "Add-on", "Onboarding")),
}
_PRODUCT_CATEGORIES = {
    "retail": ("apparel", "home", "accessories"),
    "manufacturing": ("components", "raw materials", "assemblies"),
    "wholesale": ("janitorial", "office", "packaging"),
    "food_service": ("dry goods", "fresh", "beverages"),
    "software": ("licences", "services", "support"),
}

_PERSONS = {
    "en": (("James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Aisha", "Wei",
            "Priya", "Carlos", "Olivia", "Liam", "Noah", "Emma", "Sean", "Chloe"),
           ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "O'Brien", "Nguyen",
            "Patel", "Taylor", "Wilson", "Thompson", "MacDonald", "Lee", "Walker", "Clarke")),
    "de": (("Lukas", "Anna", "Jürgen", "Sophie", "Maximilian", "Lena", "Jörg", "Marie", "Felix", "Hannah"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer",
            "Koch")),
    "fr": (("Jean", "Marie", "Léa", "François", "Chloé", "Louis", "Hélène", "Théo", "Camille", "Noël"),
           ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Lefèvre",
            "Moreau")),
    "nl": (("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Bram", "Tess", "Jesse", "Fleur"),
           ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit",
            "Meijer", "de Boer")),
    "es": (("José", "María", "Antonio", "Lucía", "Manuel", "Sofía", "Javier", "Martina", "Álvaro", "Paula"),
           ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
            "Gómez", "Muñoz")),
    "ja": (("翔太", "陽菜", "大輔", "美咲", "健", "結衣", "蓮", "さくら", "拓海", "葵"),
           ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")),
}

_STREETS = {
    "en": (("Main", "Oak", "Maple", "Park", "Cedar", "Elm", "Lake", "Hill", "Church", "Mill"),
           ("Street", "Avenue", "Road", "Lane", "Drive", "Boulevard")),
    "de": (("Haupt", "Bahnhof", "Schiller", "Goethe", "Garten", "Berg", "Linden", "Kirch"),
           ("straße", "weg", "allee", "platz")),
    "fr": (("rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue du Moulin", "place de l'Église",
            "rue des Écoles"), ("",)),
    "nl": (("Kerk", "Dorp", "Molen", "School", "Stations", "Heren"), ("straat", "weg", "laan", "gracht")),
    "es": (("calle Mayor", "avenida de la Constitución", "calle Real", "plaza de España", "calle del Sol"),
           ("",)),
    "ja": (("中央", "本町", "栄町", "緑町", "旭町"), ("丁目",)),
}

_CITIES = {
    "US": (("Columbus", "OH"), ("Austin", "TX"), ("Denver", "CO"), ("Portland", "OR"), ("Raleigh", "NC"),
           ("Madison", "WI")),
    "CA": (("Toronto", "ON"), ("Montréal", "QC"), ("Vancouver", "BC"), ("Calgary", "AB"), ("Ottawa", "ON")),
    "GB": (("Manchester", "England"), ("Leeds", "England"), ("Bristol", "England"), ("Glasgow", "Scotland"),
           ("Cardiff", "Wales")),
    "DE": (("München", "BY"), ("Köln", "NW"), ("Hamburg", "HH"), ("Leipzig", "SN"), ("Düsseldorf", "NW")),
    "FR": (("Lyon", "ARA"), ("Nantes", "PDL"), ("Lille", "HDF"), ("Bordeaux", "NAQ"), ("Strasbourg", "GES")),
    "NL": (("Utrecht", "UT"), ("Rotterdam", "ZH"), ("Eindhoven", "NB"), ("Groningen", "GR")),
    "ES": (("Valencia", "VC"), ("Sevilla", "AN"), ("Bilbao", "PV"), ("Zaragoza", "AR"), ("Málaga", "AN")),
    "JP": (("大阪市", "大阪府"), ("名古屋市", "愛知県"), ("福岡市", "福岡県"), ("札幌市", "北海道"),
           ("横浜市", "神奈川県")),
    "AU": (("Melbourne", "VIC"), ("Brisbane", "QLD"), ("Perth", "WA"), ("Adelaide", "SA")),
    "SG": (("Singapore", "SG"),),
}

_ABBREVIATIONS = (
    ("Street", "St."), ("Avenue", "Ave"), ("Road", "Rd"), ("Boulevard", "Blvd"), ("Drive", "Dr."),
    ("straße", "str."), ("Limited", "Ltd"), ("Incorporated", "Inc."), ("Corporation", "Corp."),
    ("Company", "Co."), ("&", "and"),
)
_EXPANSIONS = tuple((short, long) for long, short in _ABBREVIATIONS)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", ".", ascii_text).strip(".") or "contact"


def company_name(rnd: random.Random, sector: str, country: str) -> str:
    words = _SECTOR_WORDS.get(sector, _GENERIC_WORDS)
    return f"{rnd.choice(_BRAND_WORDS)} {rnd.choice(words)} {rnd.choice(COUNTRIES[country].legal_suffixes)}"


def business_name(rnd: random.Random, country: str) -> str:
    """A trading partner's name: customers of a B2B seller and every vendor."""
    sector = rnd.choice(tuple(_SECTOR_WORDS))
    words = _SECTOR_WORDS[sector] + _GENERIC_WORDS
    return f"{rnd.choice(_BRAND_WORDS)} {rnd.choice(words)} {rnd.choice(COUNTRIES[country].legal_suffixes)}"


def person_name(rnd: random.Random, country: str) -> str:
    language = COUNTRIES[country].language
    first, last = _PERSONS[language]
    if language == "ja":
        return f"{rnd.choice(last)} {rnd.choice(first)}"
    return f"{rnd.choice(first)} {rnd.choice(last)}"


def email(rnd: random.Random, name: str) -> str:
    return f"{_slug(name)}{rnd.randrange(100)}@example.{rnd.choice(('com', 'org', 'net'))}"


def phone(rnd: random.Random, country: str) -> str:
    prefix = COUNTRIES[country].phone_prefix
    if prefix == "+1":  # 555-01xx is reserved for fiction in the North American plan
        return f"+1 {rnd.randrange(200, 990)}-555-01{rnd.randrange(100):02d}"
    return f"{prefix} {rnd.randrange(10, 99)} {rnd.randrange(1000, 9999)} {rnd.randrange(1000, 9999)}"


def _postal_code(rnd: random.Random, pattern: str) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(
        str(rnd.randrange(10)) if ch == "9" else rnd.choice(letters) if ch == "A" else ch for ch in pattern
    )


def address(rnd: random.Random, country: str) -> Address:
    facts = COUNTRIES[country]
    names, kinds = _STREETS[facts.language]
    if facts.language == "ja":  # district, chōme, block-building
        line1 = f"{rnd.choice(names)}{rnd.randrange(1, 9)}{kinds[0]}{rnd.randrange(1, 30)}-{rnd.randrange(1, 20)}"
    else:
        street = f"{rnd.choice(names)}{' ' if facts.language == 'en' else ''}{rnd.choice(kinds)}".strip()
        number = rnd.randrange(1, 400)
        line1 = f"{number} {street}" if facts.language in ("en", "fr") else f"{street} {number}"
    city, region = rnd.choice(_CITIES[country])
    return Address(line1=line1, city=city, region=region, postal_code=_postal_code(rnd, facts.postal_format),
                   country=country)


def product_name(rnd: random.Random, sector: str) -> str:
    qualities, things = _PRODUCT_WORDS.get(sector, _PRODUCT_WORDS["wholesale"])
    return f"{rnd.choice(qualities)} {rnd.choice(things)}"


def product_category(rnd: random.Random, sector: str) -> str:
    return rnd.choice(_PRODUCT_CATEGORIES.get(sector, _PRODUCT_CATEGORIES["wholesale"]))


def _swap_letters(text: str, rnd: random.Random) -> str:
    spots = [i for i in range(len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()
             and text[i] != text[i + 1]]
    if not spots:
        return text + "."
    i = rnd.choice(spots)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def spelling_variant(text: str, rnd: random.Random) -> str:
    """The same name as a person would key it in again: abbreviated or expanded, cased differently,
    punctuated differently, or with two letters swapped. Always differs from `text`."""
    swaps = [(a, b) for a, b in _ABBREVIATIONS + _EXPANSIONS if a in text]
    options = [
        lambda t: t.upper(),
        lambda t: t.replace(".", "").replace(",", "") if ("." in t or "," in t) else t + ".",
        lambda t: _swap_letters(t, rnd),
        lambda t: t.replace(" ", "  ", 1) if " " in t else t + " ",
    ]
    if swaps:
        long, short = rnd.choice(swaps)
        options.append(lambda t: t.replace(long, short, 1))
    variant = rnd.choice(options)(text)
    return variant if variant != text else text + "."


def address_variant(original: Address, rnd: random.Random) -> Address:
    return Address(
        line1=spelling_variant(original["line1"], rnd), city=original["city"], region=original["region"],
        postal_code=original["postal_code"], country=original["country"],
    )
