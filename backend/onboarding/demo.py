"""Demo data of onboarding (issue 17): filled in by the capability."""


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
