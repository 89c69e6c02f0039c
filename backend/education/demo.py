"""Demo data of Education reminders (Art. 5) (issue 19): filled in by the capability."""


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
