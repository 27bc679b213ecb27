"""Text utilities: slugs, truncation, word wrapping, sizes and durations.

Pure functions without dependencies beyond the standard library.
"""
import re
import unicodedata

__all__ = [
    "slugify",
    "truncate",
    "wrap_words",
    "human_size",
    "human_duration",
    "plural",
    "word_count",
    "title_case",
]

_SLUG_DROP = re.compile(r"[^\w\s-]", re.UNICODE)
_SLUG_GAPS = re.compile(r"[-\s_]+")
_WORD = re.compile(r"\b\w[\w'-]*\b", re.UNICODE)
_SMALL_WORDS = frozenset(
    "a an and as at but by en for if in of on or the to v via vs".split()
)


def slugify(value, max_length=60):
    """Turn any text into a lowercase ASCII slug for URLs and ids.

    >>> slugify("Héllo, Wörld!  It's 2024")
    'hello-world-its-2024'
    """
    value = unicodedata.normalize("NFKD", str(value))
    value = value.encode("ascii", "ignore").decode("ascii")
    value = _SLUG_DROP.sub("", value).strip().lower()
    value = _SLUG_GAPS.sub("-", value).strip("-")
    if max_length and len(value) > max_length:
        value = value[:max_length].rsplit("-", 1)[0] or value[:max_length]
    return value


def truncate(text, limit, ellipsis="\u2026"):
    """Shorten text to at most `limit` characters, cutting at a word boundary.

    >>> truncate("The quick brown fox jumps", 15)
    'The quick\u2026'
    """
    text = " ".join(str(text).split())
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return ellipsis[:limit]
    cut = text[:room + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else text[:room]
    return cut.rstrip(" ,;:.-") + ellipsis


def wrap_words(text, width=72):
    """Greedy word wrap; returns a list of lines no longer than `width`
    (except single words that are longer on their own).

    >>> wrap_words("one two three four", 9)
    ['one two', 'three', 'four']
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    lines, current = [], ""
    for word in str(text).split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def human_size(size, binary=True):
    """Format a byte count for people.

    >>> human_size(1536)
    '1.5 KiB'
    >>> human_size(1536, binary=False)
    '1.5 kB'
    """
    size = float(size)
    if binary:
        base, units = 1024.0, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    else:
        base, units = 1000.0, ["B", "kB", "MB", "GB", "TB", "PB"]
    sign = "-" if size < 0 else ""
    size = abs(size)
    for unit in units:
        if size < base or unit == units[-1]:
            if unit == "B":
                return f"{sign}{int(size)} B"
            return f"{sign}{size:.1f} {unit}"
        size /= base
    raise AssertionError("unreachable")


def human_duration(seconds):
    """Format a duration in seconds as e.g. '2 h 5 min' or '350 ms'.

    >>> human_duration(7500)
    '2 h 5 min'
    >>> human_duration(0.35)
    '350 ms'
    """
    if seconds < 0:
        return "-" + human_duration(-seconds)
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n]
    return " ".join(shown[:2])


def plural(count, singular, plural_form=None):
    """'1 file', '2 files', '3 mice' (with plural_form='mice').

    >>> plural(1, "file"), plural(2, "file"), plural(3, "mouse", "mice")
    ('1 file', '2 files', '3 mice')
    """
    if count == 1:
        return f"{count} {singular}"
    return f"{count} {plural_form or singular + 's'}"


def word_count(text):
    """Count words (letters, digits, inner apostrophes and hyphens).

    >>> word_count("It's a well-known fact, isn't it?")
    6
    """
    return len(_WORD.findall(str(text)))


def title_case(text):
    """Title-case a heading, leaving small words lowercase except at the ends.

    >>> title_case("the lord of the rings")
    'The Lord of the Rings'
    """
    words = str(text).split()
    last = len(words) - 1
    result = []
    for i, word in enumerate(words):
        lower = word.lower()
        if 0 < i < last and lower in _SMALL_WORDS:
            result.append(lower)
        elif word.isupper() and len(word) > 1:
            result.append(word)  # keep acronyms such as CGI or HTTP
        else:
            result.append(word[:1].upper() + word[1:].lower())
    return " ".join(result)
