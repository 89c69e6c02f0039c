"""Demo data of retirement pay (issue 18): filled in by the capability."""


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
