"""Body measurements: weight, height and body composition."""

from functools import partial

from indicators.model import Category, Indicator, Kind, Rollup

_b = partial(Indicator, category=Category.BODY, kind=Kind.SAMPLE, rollup=Rollup.LAST)

# Entries are kept compact, like a table: easier to review than one argument per line.
# fmt: off
BODY: tuple[Indicator, ...] = (
    _b("weight", "Weight", unit="kg", min_value=1, max_value=500,
       description="Body weight, in kilograms.", keywords=("body mass", "scale")),
    _b("height", "Height", unit="m", min_value=0.3, max_value=2.8,
       description="Body height, in metres.", keywords=("stature", "tall")),
    _b("bmi", "Body mass index", unit="kg/m2", min_value=5, max_value=100,
       description="Body mass index: weight divided by height squared, in kg/m2.",
       keywords=("body mass index", "obesity")),
    _b("body_fat_percentage", "Body fat", unit="%", min_value=1, max_value=80,
       description="Share of body weight that is fat, in percent.",
       keywords=("fat ratio", "body composition")),
    _b("fat_mass", "Fat mass", unit="kg", min_value=0.5, max_value=300,
       description="Mass of body fat, in kilograms.", keywords=("body composition",)),
    _b("fat_free_mass", "Fat-free mass", unit="kg", min_value=1, max_value=300,
       description="Body mass excluding fat (lean body mass), in kilograms.",
       keywords=("lean mass", "body composition")),
    _b("muscle_mass", "Muscle mass", unit="kg", min_value=1, max_value=200,
       description="Skeletal muscle mass, in kilograms.", keywords=("body composition",)),
    _b("bone_mass", "Bone mass", unit="kg", min_value=0.1, max_value=20,
       description="Bone mineral mass, in kilograms.", keywords=("body composition",)),
    _b("body_water_percentage", "Body water", unit="%", min_value=10, max_value=90,
       description="Share of body weight that is water, in percent.",
       keywords=("hydration", "body composition", "tbw")),
    _b("body_water_mass", "Body water mass", unit="kg", min_value=1, max_value=300,
       description="Mass of body water (Withings hydration), in kilograms.",
       keywords=("hydration", "body composition")),
)
# fmt: on
