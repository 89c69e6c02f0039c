"""Demo data of assessment (issue 20): filled in by the capability."""


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
