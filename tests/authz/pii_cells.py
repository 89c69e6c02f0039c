"""issue 15: the authorization matrix's cells for the personal data keys page (a system administrator at a root unit;
keys are system-wide, so sys_admin_y at county Y gets a 403)."""

from tests.authz.cells import Cell

KEY_ADMINS = ("sys_admin",)

PII_CELLS = {
    ("portal", "keys.index", "GET"): Cell("GET", "/system/keys/", KEY_ADMINS),
    ("portal", "keys.rotate", "POST"): Cell(
        "POST", "/system/keys/rotate", KEY_ADMINS, notes="the job is enqueued after commit (patched in the matrix)"
    ),
    ("portal", "keys.retire", "POST"): Cell(
        "POST", "/system/keys/retire", KEY_ADMINS, data={"version": "7"}, notes="an unknown version: refused, flashed"
    ),
}
