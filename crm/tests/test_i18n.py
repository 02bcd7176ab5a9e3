"""The English translation: pages follow the language cookie, and the catalogue has no gaps.

Spanish (es-CL) is the source language and the default; English comes from locale/en (the
compiled .mo is committed, so running the app needs no gettext). When you add or change a
user-visible string (GNU gettext needed on your machine):

    DJANGO_DEBUG=true FIELD_ENCRYPTION_KEYS=... python manage.py makemessages -l en --ignore=.venv \
        --ignore=.data --ignore=staticfiles --ignore=test-artifacts --ignore="*/tests/*" --ignore=bench
    (translate the new entries in locale/en/LC_MESSAGES/django.po)
    ... python manage.py compilemessages -l en --ignore=.venv
"""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from conftest import host_of

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
MAKEMESSAGES_IGNORES = [".venv", ".data", "staticfiles", "test-artifacts", "*/tests/*", "bench"]


# --- a minimal .po reader (the catalogue format is simple; no extra dependency) ----------------


ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r'\\(.)', lambda match: ESCAPES.get(match.group(1), match.group(0)), text[1:-1])


def po_entries(path: Path) -> list[dict]:
    """The active entries of a .po file (header and obsolete `#~` entries left out), each as
    {"msgctxt", "msgid", "msgid_plural", "msgstr": [..], "flags": set, "line": n}."""
    entries, entry, key = [], None, None

    def close():
        if entry is not None and entry.get("msgid") is not None and entry["msgid"] != "":
            entries.append(entry)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and key is not None:  # a comment starts the next entry
                close()
                entry, key = None, None
            if entry is None:
                entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set(),
                         "line": number}
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if match:
            if match.group(1) in ("msgctxt", "msgid") and entry is not None and key is not None \
                    and key[0] == "msgstr":
                close()
                entry = None
            if entry is None:
                entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set(),
                         "line": number}
            name, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if name.startswith("msgstr"):
                key = ("msgstr", int(index or 0))
                entry["msgstr"][key[1]] = value
            else:
                key = (name, None)
                entry[name] = value
        elif line.startswith('"') and key is not None:
            value = _unquote(line)
            if key[0] == "msgstr":
                entry["msgstr"][key[1]] += value
            else:
                entry[key[0]] += value
    close()
    return entries


def _label(entry: dict) -> str:
    return f"{PO.name}:{entry['line']}: {entry['msgid']!r}"


def untranslated(entries: list[dict]) -> list[str]:
    problems = []
    for entry in entries:
        expected = 2 if entry["msgid_plural"] is not None else 1  # English: nplurals=2
        values = [entry["msgstr"].get(i, "") for i in range(expected)]
        if "fuzzy" in entry["flags"]:
            problems.append(f"{_label(entry)} is fuzzy")
        elif not all(value.strip() for value in values):
            problems.append(f"{_label(entry)} has no translation")
    return problems


# --- pages ---------------------------------------------------------------------------------------


def _in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_login_page_is_spanish_by_default(page_client, broker_a):
    html = page_client(host_of(broker_a)).get("/login/").content.decode()
    assert '<html lang="es-CL"' in html
    assert "Iniciar sesión" in html and ">Entrar</button>" in html and "Contraseña" in html
    assert "Log in" not in html


def test_login_page_in_english_with_the_language_cookie(page_client, broker_a):
    response = _in_english(page_client(host_of(broker_a))).get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en"' in html
    assert "<title>Sign in" in html and ">Log in</button>" in html and "Password" in html
    assert "Entrar" not in html and "Contraseña" not in html
    assert '<option value="en" selected>English</option>' in html


def test_home_is_spanish_by_default(page_client, broker_a, admin_a):
    html = page_client(host_of(broker_a), admin_a).get("/").content.decode()
    assert '<html lang="es-CL"' in html
    assert f"Hola, {admin_a.name}" in html and "Cerrar sesión" in html and "Configuración" in html


def test_home_in_english_with_the_language_cookie(page_client, broker_a, admin_a):
    response = _in_english(page_client(host_of(broker_a), admin_a)).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en"' in html
    assert f"Hello, {admin_a.name}" in html
    for english in ("Log out", "Settings", "Conversations", "Team", "Skip to content", "Administrator"):
        assert english in html, english
    for spanish in ("Cerrar sesión", "Configuración", "Saltar al contenido", "Hola,"):
        assert spanish not in html, spanish


def test_language_picker_switches_to_english_and_back(page_client, broker_a, admin_a):
    client = page_client(host_of(broker_a), admin_a)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log out" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert "Cerrar sesión" in client.get("/").content.decode()


def test_settings_tabs_in_english(page_client, broker_a, admin_a):
    html = _in_english(page_client(host_of(broker_a), admin_a)).get("/configuracion/").content.decode()
    assert "Channels" in html and "Canales" not in html


# --- the catalogue -------------------------------------------------------------------------------


def test_every_message_has_an_english_translation():
    entries = po_entries(PO)
    assert len(entries) > 400, "locale/en/LC_MESSAGES/django.po looks truncated"
    assert not untranslated(entries), "\n".join(untranslated(entries))


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
    problems = []
    for entry in po_entries(PO):
        sources = [entry["msgid"]] + ([entry["msgid_plural"]] if entry["msgid_plural"] is not None else [])
        for index, translation in entry["msgstr"].items():
            source = sources[min(index, len(sources) - 1)]
            if sorted(set(placeholder.findall(source))) != sorted(set(placeholder.findall(translation))):
                problems.append(f"{_label(entry)} -> {translation!r}")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_is_up_to_date():
    """The committed .mo holds exactly the .po's translations: compilemessages was run after editing."""
    assert MO.exists(), "run compilemessages: locale/en/LC_MESSAGES/django.mo is missing"
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    stale = []
    for entry in po_entries(PO):
        msgid = entry["msgid"] if entry["msgctxt"] is None else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if entry["msgid_plural"] is None:
            if catalog.get(msgid) != entry["msgstr"].get(0):
                stale.append(_label(entry))
        elif any(catalog.get((msgid, i)) != value for i, value in entry["msgstr"].items()):
            stale.append(_label(entry))
    assert not stale, "django.mo is out of date; run compilemessages:\n" + "\n".join(stale)


@pytest.mark.skipif(not (shutil.which("xgettext") and shutil.which("msgmerge")), reason="GNU gettext not installed")
def test_no_source_string_is_missing_from_the_catalogue(tmp_path):
    """makemessages on a copy of the sources finds nothing new: every wrapped string is in django.po,
    translated (catches a new {% translate %} or _() whose author did not run makemessages)."""
    skip_dirs = {".git", ".venv", ".data", "staticfiles", "test-artifacts", "bench", "tests", "node_modules",
                 "__pycache__", ".ruff_cache", ".pytest_cache", ".hypothesis", "static"}
    copy = tmp_path / "src"

    def ignore(directory, names):
        return [name for name in names if name in skip_dirs
                or (Path(directory, name).is_file() and not name.endswith((".py", ".html", ".txt", ".po")))]

    shutil.copytree(ROOT, copy, ignore=ignore)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings_test", "DJANGO_DEBUG": "true",
           "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS), "PYTHONPATH": str(copy)}
    command = [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-location"]
    command += [f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORES]
    result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    problems = untranslated(po_entries(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    assert not problems, "new or changed strings need translating (run makemessages, translate, " \
                         "compilemessages):\n" + "\n".join(problems)
