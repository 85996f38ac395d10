"""The library's terms of membership: numbered versions with a text per language; the newest
version is the one a new form shows, and each archived form names the version it was signed
under."""

from central.circulation.errors import NotFound, Refused
from central.circulation.store import Store
from edge_common.catalogues import LANGUAGES

LONGEST = 100_000  # characters of one language's text


def add(s: Store, version: str, texts: dict[str, str], staff_id: str | None = None) -> str:
    """Add a terms version with its text per language (English is required: the fallback);
    it becomes the current version. A version is never changed once added."""
    version = version.strip()
    if not version or len(version) > 40 or not version.isprintable():
        raise Refused("a terms version is 1 to 40 printable characters", code="bad_value")
    if unknown := set(texts) - set(LANGUAGES):
        raise Refused(f"unknown language {sorted(unknown)[0]!r}: use one of"
                      f" {', '.join(LANGUAGES)}", code="bad_language")
    if not (texts.get("en") or "").strip():
        raise Refused("the terms need an English text (shown when a language has none)",
                      code="terms_english_missing")
    for lang, text in texts.items():
        if not text.strip():
            raise Refused(f"the {lang} text is empty", code="bad_value")
        if len(text) > LONGEST:
            raise Refused(f"the {lang} text is longer than {LONGEST} characters", code="too_long")
    if s.scalar("SELECT 1 FROM form_terms WHERE version = ?", [version]):
        raise Refused(f"terms version {version!r} exists; add a new version",
                      code="already_exists")
    at = s.now().isoformat()
    with s.atomic():
        for lang, text in texts.items():
            s.insert("form_terms", {"version": version, "lang": lang, "text": text.strip(),
                                    "added_at": at, "added_by": staff_id})
    return version


def current(s: Store) -> str:
    """The version new forms show: the one added last."""
    version = s.scalar("SELECT version FROM form_terms ORDER BY id DESC LIMIT 1")
    if version is None:
        raise NotFound("no terms yet: add them with `libedge admin terms add`",
                       code="terms_missing")
    return str(version)


def text(s: Store, version: str, lang: str) -> tuple[str, str]:
    """(language, text) of a version in `lang`, or in English when it has no such text."""
    for tried in (lang, "en"):
        found = s.scalar("SELECT text FROM form_terms WHERE version = ? AND lang = ?",
                         [version, tried])
        if found is not None:
            return tried, str(found)
    raise NotFound(f"no terms version {version!r}", code="terms_missing")


def versions(s: Store) -> list[dict]:
    """Every version, newest first, with its languages and when it was added."""
    return s.rows(
        f"SELECT version, {s.db.joined('lang', ',')} AS languages, min(added_at) AS added_at,"
        " min(added_by) AS added_by, max(id) AS n FROM form_terms GROUP BY version"
        " ORDER BY n DESC")
