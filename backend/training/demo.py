"""Demo data of Staff training and responsible persons (Art. 20, 21) (issue 19): filled in by the capability."""


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
