"""Demo data of Party members (Art. 6) (issue 19): filled in by the capability."""


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
