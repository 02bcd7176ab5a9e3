from decimal import Decimal

from properties import services
from properties.models import Unit

# A fixed small Spanish catalogue: (code, type, comuna, bedrooms, price UF, description).
CATALOGUE = [
    ("NU-101", "departamento", "Ñuñoa", 2, 4000, "Departamento con terraza amplia y vista a la cordillera."),
    ("NU-202", "departamento", "Ñuñoa", 2, 3800, "Departamento interior, cerca del metro Irarrázaval."),
    ("NU-303", "departamento", "Ñuñoa", 3, 5200, "Departamento familiar con dos estacionamientos y bodega."),
    ("PR-110", "departamento", "Providencia", 1, 3100, "Estudio moderno a pasos del metro Los Leones."),
    ("LF-01", "casa", "La Florida", 3, 4500, "Casa con patio grande, quincho y piscina."),
    ("MP-02", "casa", "Maipú", 3, 3300, "Casa de dos pisos con antejardín, cerca de colegios."),
]


def unit_make(*, code: str, property_type: str = "departamento", comuna: str = "Ñuñoa", bedrooms: int = 2,
              price_uf: int | Decimal = 4000, description: str = "", status: str = Unit.Status.AVAILABLE,
              embed: bool = True, **extra) -> Unit:
    unit = services.unit_create(data={"code": code, "property_type": property_type, "comuna": comuna,
                                      "bedrooms": bedrooms, "bathrooms": 1, "price": Decimal(price_uf),
                                      "price_currency": "UF", "description": description, "status": status,
                                      **extra})
    if embed:
        services.units_embed(unit_ids=[unit.id])
        unit.refresh_from_db()
    return unit


def catalogue_load() -> dict[str, Unit]:
    return {code: unit_make(code=code, property_type=kind, comuna=comuna, bedrooms=bedrooms, price_uf=price,
                            description=text)
            for code, kind, comuna, bedrooms, price, text in CATALOGUE}
