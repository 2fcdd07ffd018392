"""Airports from the `airportsdata` package, the busy ones the schedule serves, and the
IATA metropolitan codes a traveller may search by (LON is Heathrow, Gatwick, ...)."""

import math
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import airportsdata


@dataclass(frozen=True, slots=True)
class Airport:
    iata_code: str
    name: str
    city: str
    country: str
    time_zone: str
    latitude: float
    longitude: float

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.time_zone)

    def to_json(self) -> dict[str, str]:
        return {
            "iata_code": self.iata_code,
            "name": self.name,
            "city": self.city,
            "country": self.country,
            "time_zone": self.time_zone,
        }


# The busiest passenger airports, roughly by traffic, so that `--airports M` takes the M
# biggest: a curated list, since airportsdata carries no traffic figures.
BUSY_AIRPORTS: tuple[str, ...] = tuple(
    """
    ATL DXB DFW LHR HND DEN IST LAX ORD DEL CDG JFK AMS CAN PVG MAD FRA SIN ICN BKK
    LAS MIA MCO CLT SFO SEA PHX EWR BCN FCO MUC DOH HKG KUL CGK BOM SYD MEX GRU YYZ
    LGW SZX CTU PEK PKX KIX NRT TPE MNL SGN BLR JED RUH AUH CAI JNB ADD NBO LOS BOG
    LIM SCL EZE IAH BOS MSP DTW PHL LGA FLL SLC BWI DCA IAD SAN TPA BNA AUS HNL YVR
    YUL YYC CUN GDL MTY GIG BSB CGH VCP MEL BNE PER AKL DUB MAN ZRH VIE CPH OSL ARN
    HEL BRU LIS OPO PMI AGP ALC ATH PRG WAW BUD OTP MXP VCE NAP NCE LYS HAM BER DUS
    CGN STR SAW AYT SVO DME LED TLV AMM BEY KWI BAH MCT DMM SHJ CMN RAK ALG TUN CPT
    DUR ACC ABV DAR KGL EBB HYD MAA CCU COK AMD GOI CMB MLE KTM DAC KHI LHE ISB DPS
    SUB CEB HAN DAD PNH RGN KHH GMP PUS CJU ITM NGO FUK CTS OKA SHA KMG XIY CKG HGH
    NKG WUH CSX XMN TAO TSN SYX HAK DLC SHE HRB CGO URC ADL OOL CNS CHC WLG NAN PPT
    YEG YOW YWG YHZ PDX STL HOU SJC MSY RDU SMF SNA MCI SAT RSW OAK IND CLE PIT CMH
    CVG JAX OGG ANC BUF ABQ MKE OMA PBI BUR ONT MDW DAL MDE CLO CTG CNF SSA REC POA
    FOR CWB AEP COR MVD ASU VVI UIO GYE PTY SJO SAL GUA SDQ PUJ SJU HAV MBJ NAS EDI
    BHX GLA BRS STN LTN ORY MRS TLS BOD NTE HAJ NUE VLC SVQ BIO IBZ TFS LPA FAO LIN
    BGY BLQ CTA PMO FLR GVA BSL CRL LUX BGO GOT KEF KRK GDN WRO SOF BEG ZAG SPU DBV
    LJU SKG HER RHO ESB ADB DLM VKO KBP RIX TLL VNO TBS EVN GYD MLA LCA ALA TAS DMK
    HKT CNX PEN BKI REP MFM TFU MED HRG SSH MBA ZNZ DSS ABJ LAD MRU SEZ
    """.split()
)

# IATA metropolitan area codes: searching "LON" searches all London airports.
CITY_CODES: dict[str, tuple[str, ...]] = {
    "LON": ("LHR", "LGW", "STN", "LTN", "LCY", "SEN"),
    "NYC": ("JFK", "EWR", "LGA"),
    "PAR": ("CDG", "ORY", "BVA"),
    "TYO": ("HND", "NRT"),
    "CHI": ("ORD", "MDW"),
    "WAS": ("IAD", "DCA", "BWI"),
    "MIL": ("MXP", "LIN", "BGY"),
    "ROM": ("FCO", "CIA"),
    "MOW": ("SVO", "DME", "VKO"),
    "STO": ("ARN", "BMA"),
    "OSA": ("KIX", "ITM"),
    "SAO": ("GRU", "CGH", "VCP"),
    "RIO": ("GIG", "SDU"),
    "BUE": ("EZE", "AEP"),
    "SEL": ("ICN", "GMP"),
    "BJS": ("PEK", "PKX"),
    "YTO": ("YYZ", "YTZ"),
    "YMQ": ("YUL",),
    "JKT": ("CGK", "HLP"),
}


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def directory() -> dict[str, Airport]:
    """Every airport airportsdata knows by IATA code (about 8,000; loaded once)."""
    return {
        code: Airport(
            iata_code=code,
            name=row["name"],
            city=row["city"] or row["name"],
            country=row["country"],
            time_zone=row["tz"],
            latitude=float(row["lat"]),
            longitude=float(row["lon"]),
        )
        for code, row in airportsdata.load("IATA").items()
        if row.get("tz")
    }


def lookup(code: str) -> Airport | None:
    return directory().get(code.upper())


def resolve(code: str) -> tuple[str, ...] | None:
    """The airports a searched code stands for: itself when it is an airport, the
    metropolitan area's airports when it is a city code, None when it is neither."""
    code = code.upper()
    if code in directory():
        return (code,)
    return CITY_CODES.get(code)


def busy_airports(count: int) -> list[Airport]:
    known = directory()
    return [known[code] for code in BUSY_AIRPORTS if code in known][:count]


EARTH_RADIUS_KM = 6371.0


def great_circle_km(a: Airport, b: Airport) -> float:
    """Haversine distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
