"""A curated list of real airlines (IATA code and name) with the countries they fly from,
so that a generated route is flown by a carrier at home at one of its ends."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Carrier:
    iata_code: str
    name: str
    countries: tuple[str, ...]  # ISO 3166 codes of its bases

    def to_json(self) -> dict[str, str]:
        return {"iata_code": self.iata_code, "name": self.name}


CARRIERS: tuple[Carrier, ...] = tuple(
    Carrier(code, name, tuple(countries.split()))
    for code, name, countries in [
        ("AA", "American Airlines", "US"),
        ("DL", "Delta Air Lines", "US"),
        ("UA", "United Airlines", "US"),
        ("WN", "Southwest Airlines", "US"),
        ("AS", "Alaska Airlines", "US"),
        ("B6", "JetBlue Airways", "US"),
        ("AC", "Air Canada", "CA"),
        ("WS", "WestJet", "CA"),
        ("AM", "Aeroméxico", "MX"),
        ("LA", "LATAM Airlines", "CL BR PE CO EC"),
        ("AV", "Avianca", "CO SV GT EC"),
        ("CM", "Copa Airlines", "PA CR NI DO JM BS CU PR"),
        ("G3", "GOL Linhas Aéreas", "BR"),
        ("AR", "Aerolíneas Argentinas", "AR UY PY BO"),
        ("BA", "British Airways", "GB"),
        ("VS", "Virgin Atlantic", "GB"),
        ("U2", "easyJet", "GB CH FR"),
        ("FR", "Ryanair", "IE IT ES PL BE MT"),
        ("EI", "Aer Lingus", "IE"),
        ("AF", "Air France", "FR"),
        ("KL", "KLM Royal Dutch Airlines", "NL"),
        ("LH", "Lufthansa", "DE"),
        ("LX", "Swiss International Air Lines", "CH"),
        ("OS", "Austrian Airlines", "AT"),
        ("SN", "Brussels Airlines", "BE LU"),
        ("IB", "Iberia", "ES"),
        ("VY", "Vueling", "ES"),
        ("TP", "TAP Air Portugal", "PT"),
        ("AZ", "ITA Airways", "IT"),
        ("SK", "Scandinavian Airlines", "SE DK NO"),
        ("AY", "Finnair", "FI EE"),
        ("FI", "Icelandair", "IS"),
        ("LO", "LOT Polish Airlines", "PL LT LV"),
        ("W6", "Wizz Air", "HU RO BG RS PL UA"),
        ("A3", "Aegean Airlines", "GR CY"),
        ("OU", "Croatia Airlines", "HR SI"),
        ("KM", "KM Malta Airlines", "MT"),
        ("TK", "Turkish Airlines", "TR AZ GE AM"),
        ("PC", "Pegasus Airlines", "TR"),
        ("SU", "Aeroflot", "RU"),
        ("HY", "Uzbekistan Airways", "UZ"),
        ("KC", "Air Astana", "KZ"),
        ("EK", "Emirates", "AE"),
        ("EY", "Etihad Airways", "AE"),
        ("QR", "Qatar Airways", "QA"),
        ("SV", "Saudia", "SA"),
        ("GF", "Gulf Air", "BH KW"),
        ("WY", "Oman Air", "OM"),
        ("RJ", "Royal Jordanian", "JO LB"),
        ("LY", "El Al", "IL"),
        ("MS", "EgyptAir", "EG"),
        ("ET", "Ethiopian Airlines", "ET"),
        ("KQ", "Kenya Airways", "KE TZ UG RW"),
        ("SA", "South African Airways", "ZA"),
        ("AT", "Royal Air Maroc", "MA DZ TN"),
        ("W3", "Arik Air", "NG GH"),
        ("HF", "Air Côte d'Ivoire", "CI SN"),
        ("MK", "Air Mauritius", "MU SC AO"),
        ("AI", "Air India", "IN"),
        ("6E", "IndiGo", "IN"),
        ("UL", "SriLankan Airlines", "LK MV"),
        ("PK", "Pakistan International Airlines", "PK"),
        ("BG", "Biman Bangladesh Airlines", "BD NP"),
        ("SQ", "Singapore Airlines", "SG"),
        ("MH", "Malaysia Airlines", "MY"),
        ("AK", "AirAsia", "MY TH"),
        ("TG", "Thai Airways", "TH KH MM"),
        ("GA", "Garuda Indonesia", "ID"),
        ("PR", "Philippine Airlines", "PH"),
        ("VN", "Vietnam Airlines", "VN"),
        ("CX", "Cathay Pacific", "HK MO"),
        ("CI", "China Airlines", "TW"),
        ("BR", "EVA Air", "TW"),
        ("KE", "Korean Air", "KR"),
        ("OZ", "Asiana Airlines", "KR"),
        ("JL", "Japan Airlines", "JP"),
        ("NH", "All Nippon Airways", "JP"),
        ("CA", "Air China", "CN"),
        ("MU", "China Eastern Airlines", "CN"),
        ("CZ", "China Southern Airlines", "CN"),
        ("QF", "Qantas", "AU"),
        ("VA", "Virgin Australia", "AU"),
        ("NZ", "Air New Zealand", "NZ"),
        ("FJ", "Fiji Airways", "FJ"),
        ("TN", "Air Tahiti Nui", "PF"),
    ]
)

# Flown by one of these when no carrier is at home at either end of a route.
GLOBAL_CARRIERS = ("EK", "QR", "TK", "LH", "BA", "AF", "SQ", "CX", "DL", "UA")

BY_CODE: dict[str, Carrier] = {carrier.iata_code: carrier for carrier in CARRIERS}


def carriers_for(*countries: str) -> list[Carrier]:
    """Carriers based in any of `countries`, else the global network carriers."""
    home = [carrier for carrier in CARRIERS if set(carrier.countries) & set(countries)]
    return home or [BY_CODE[code] for code in GLOBAL_CARRIERS]
