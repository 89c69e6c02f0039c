"""Demo data of Employment and entrepreneurship (Art. 13, 18) (issue 19): filled in by the capability."""


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
