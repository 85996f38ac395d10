"""Pages as HTML: the Jinja2 templates, the visitor's language, Babel's dates and numbers."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from babel.dates import format_date, get_day_names
from babel.numbers import get_decimal_symbol, get_group_symbol
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from central.web import words
from edge_common.catalogues import BABEL_LOCALES, LANGUAGES, translations

LOCALE_DIR = Path(__file__).parent.parent / "locale"
LANGUAGE_COOKIE = "libedge_lang"
Here = tuple[str, list[tuple[str, str]]]   # a page as its route's name and query
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                          autoescape=True, undefined=jinja2.StrictUndefined)


def language(request: Request) -> str:
    """The language asked for (`?lang=`), else the one chosen before, else the browser's."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def gettext(lang: str) -> Callable[[str], str]:
    """The web catalogue's translation function for a language."""
    return translations(LOCALE_DIR, "web", lang).gettext


def here(request: Request) -> Here:
    """The page a request shows, for its language links: the GET route it matched with its
    query, else (a form's answer, a refusal, no such page) the statistics."""
    route = request.scope.get("route")
    if request.method == "GET" and isinstance(route, Route) and "GET" in (route.methods or ()):
        return route.name, [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "stats", []


def page(request: Request, template: str, status: int = 200, *, back: Here | None = None,
         **context: Any) -> HTMLResponse:
    """Render a template in the visitor's language (which a `?lang=` choice keeps). Its
    language links lead to `back` (a form's answer: the page to return to), else `here`:
    built from a route, never from the path a request named."""
    lang = language(request)
    name, query = back or here(request)
    target = request.app.url_path_for(name)
    links = {code: f"{target}?{urlencode([*query, ('lang', code)])}" for code in LANGUAGES}
    locale = BABEL_LOCALES[lang]

    marks = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})

    def number(n: float, digits: int = 0) -> str:          # Babel's symbols, Python's speed
        return f"{n:,.{digits}f}".translate(marks)

    def day(d: date | str) -> str:
        return format_date(date.fromisoformat(d) if isinstance(d, str) else d, "medium",
                           locale=locale)

    _ = gettext(lang)

    def word(kind: str, code: str) -> str:                 # the code itself if it has no name
        english = words.name(kind, code)
        return _(english) if english else code

    def coded(kind: str, code: str) -> Markup:             # the name, the code beside it
        shown = word(kind, code)
        return Markup("{} <code>{}</code>").format(shown, code) if shown != code \
            else Markup("<code>{}</code>").format(code)

    weekdays = get_day_names("abbreviated", locale=locale)
    kept = "&".join(f"{quote(k)}={quote(v)}" for k, v in request.query_params.multi_items()
                    if k != "lang")
    html = _env.get_template(template).render(
        _=_, word=word, coded=coded, lang=lang, languages=LANGUAGES, number=number, day=day,
        weekday=weekdays.__getitem__, path=str(target), language_links=links,
        query_without_lang=kept + "&" if kept else "", **context)
    response = HTMLResponse(html, status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
    return response
